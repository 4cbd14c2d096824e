"""Engine creation and schema migrations."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from socialinbox.errors import ConfigError, StoreError

__all__ = ["DEFAULT_DATABASE_URL", "create_engine", "current_revision", "head_revision", "upgrade"]

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///socialinbox.db"
_MIGRATIONS = Path(__file__).with_name("migrations")


def _normalize_url(url: str) -> sa.URL:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as error:
        raise ConfigError(
            f"invalid database URL {url!r}: expected sqlite:///FILE or postgresql://..."
        ) from error
    # psycopg 3 is the supported PostgreSQL driver; plain "postgresql://" selects it.
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(
            f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL"
        )
    return parsed


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the CLI read while the daemon writes; NORMAL keeps commits durable
    # against process crashes (which is what the cursor rule needs) at far lower cost.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(url: str) -> sa.Engine:
    """Create an engine for ``url`` with the settings socialinbox relies on."""
    parsed = _normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _on_sqlite_connect)
        # pysqlite's own transaction handling defers BEGIN; take it over so that
        # each ingest batch is one real transaction.
        sa.event.listen(engine, "connect", _disable_pysqlite_begin)
        sa.event.listen(engine, "begin", _emit_begin)
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True)


def _disable_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _emit_begin(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """Return the newest migration revisions this version of socialinbox ships.

    Features add their tables on branches of their own, so there may be
    several heads; they are returned sorted and joined with ``+``.
    """
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    heads = sorted(ScriptDirectory.from_config(config).get_heads())
    return "+".join(heads) if heads else None


def current_revision(engine: sa.Engine) -> str | None:
    """Return the revisions the database is at (joined with ``+``), or ``None`` for an empty one."""
    with engine.connect() as connection:
        heads = sorted(MigrationContext.configure(connection).get_current_heads())
    return "+".join(heads) if heads else None


def upgrade(engine: sa.Engine) -> tuple[str | None, str | None]:
    """Apply pending migrations on every branch; return the revisions before and after."""
    before = current_revision(engine)
    if before == head_revision():
        return before, before
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "heads")
    except sa.exc.SQLAlchemyError as error:
        raise StoreError(f"migration from {before} failed: {error.__class__.__name__}") from error
    after = current_revision(engine)
    logger.info("database migrated from %s to %s", before, after)
    return before, after


def database_url_from_environment(explicit: str | None = None) -> str:
    """Return ``explicit``, else ``SOCIALINBOX_DATABASE``, else the default SQLite file."""
    return explicit or os.environ.get("SOCIALINBOX_DATABASE") or DEFAULT_DATABASE_URL
