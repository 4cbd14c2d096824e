"""Suite-wide fixtures: the loopback-only network guard, the corpus path and databases."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

os.environ.setdefault("PTB_TIMEDELTA", "true")


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths and abstract sockets stay on this machine
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _is_loopback(address):
        raise AssertionError(f"test tried to connect to {address!r}; only 127.0.0.1 is allowed")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _is_loopback(address):
        raise AssertionError(f"test tried to connect to {address!r}; only 127.0.0.1 is allowed")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection that is not to the loopback interface."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


@pytest.fixture(scope="session")
def corpus() -> Path:
    """Path of the shared corpus of real platform payloads."""
    assert CORPUS.is_dir(), f"corpus not found at {CORPUS}"
    return CORPUS


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'socialinbox.db'}"


POSTGRES_URL = os.environ.get("SOCIALINBOX_TEST_POSTGRES_URL")
POSTGRES_SKIP_REASON = (
    "PostgreSQL tests need a server: set SOCIALINBOX_TEST_POSTGRES_URL to "
    "postgresql+psycopg://USER@127.0.0.1:PORT/DB, or run `bash scripts/test`, "
    "which starts a throwaway cluster when PostgreSQL server binaries are installed"
)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped afterwards."""
    if not POSTGRES_URL:
        if os.environ.get("SOCIALINBOX_REQUIRE_POSTGRES"):
            pytest.fail(
                f"SOCIALINBOX_REQUIRE_POSTGRES is set but no server is configured. {POSTGRES_SKIP_REASON}"
            )
        pytest.skip(POSTGRES_SKIP_REASON)
    import uuid

    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each supported kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'socialinbox.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (SOCIALINBOX_REQUIRE_POSTGRES set) any skipped test fails the run."""
    if not os.environ.get("SOCIALINBOX_REQUIRE_POSTGRES"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped and exitstatus == 0:
        if reporter is not None:
            reporter.write_line(f"{skipped} test(s) skipped; CI treats a skip as a failure", red=True)
        session.exitstatus = 1
