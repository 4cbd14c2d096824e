"""The ``socialinbox`` command group.

Help texts are translated, so the group is built for one language at start:
:func:`main` reads ``--lang`` from the arguments before click parses them.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from socialinbox.cli.output import FORMATS, echo_json, render_listing
from socialinbox.errors import ConfigError, SocialInboxError, StoreError, UsageError
from socialinbox.locale import LANGUAGES, Translator, detect_language
from socialinbox.model import Platform
from socialinbox.store import Store
from socialinbox.store.engine import create_engine, database_url_from_environment, upgrade

__all__ = ["EXIT_CONFIG", "EXIT_FAILURE", "EXIT_NOT_FOUND", "EXIT_STORE", "build_cli", "main"]

EXIT_FAILURE = 1
EXIT_CONFIG = 3
EXIT_STORE = 4
EXIT_NOT_FOUND = 5

CommandFactory = Callable[[Translator], click.Command]
_EXTRA_COMMANDS: list[CommandFactory] = []


def register_command(factory: CommandFactory) -> CommandFactory:
    """Add a command built per language by ``factory`` to every CLI built afterwards."""
    _EXTRA_COMMANDS.append(factory)
    return factory


def _settings_file_value(name: str) -> str | None:
    """Return a top-level string setting from the settings file the daemon would read.

    The CLI reads only ``database`` and ``language`` this way, without
    validating the rest, so a command works while another section is invalid.
    """
    import tomllib

    from socialinbox.config import find_config_file

    try:
        path = find_config_file()
    except ConfigError:
        return None
    if path is None:
        return None
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    value = document.get(name)
    return value if isinstance(value, str) else None


def _sqlite_file(url: str) -> Path | None:
    """Return the file of an SQLite URL, or ``None`` for other databases and memory."""
    import sqlalchemy as sa

    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


class Context:
    """State shared by the commands of one invocation."""

    def __init__(self, translate: Translator, database: str | None) -> None:
        self.t = translate
        self.explicit_database = database
        self.verbosity = 0
        configured = database or os.environ.get("SOCIALINBOX_DATABASE") or _settings_file_value("database")
        self.database_url = database_url_from_environment(configured)
        self._store: Store | None = None

    def store(self, *, create: bool = False) -> Store:
        """Open the store; unless ``create``, a missing SQLite file is an error, not a new database."""
        if self._store is None:
            sqlite_file = _sqlite_file(self.database_url)
            if not create and sqlite_file is not None and not sqlite_file.exists():
                raise StoreError(f"database file {sqlite_file} does not exist")
            self._store = Store.open(self.database_url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def fail(translate: Translator, error: SocialInboxError) -> NoReturn:
    """Print ``error`` to stderr in the user's language and exit with its code."""
    if isinstance(error, ConfigError):
        message, code = translate("error.config", detail=error), EXIT_CONFIG
    elif isinstance(error, StoreError):
        message, code = translate("error.store", detail=error), EXIT_STORE
    elif isinstance(error, UsageError):
        message, code = translate("error.usage", detail=error), 2
    else:
        message, code = translate("error.prefix", message=error), EXIT_FAILURE
    click.echo(message, err=True)
    sys.exit(code)


def format_option(translate: Translator) -> Callable[[Any], Any]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMATS),
        default="text",
        show_default=True,
        help=translate("opt.format"),
    )


def build_cli(language: str = "en") -> click.Group:
    """Build the command group with help and messages in ``language``."""
    t = Translator(language)
    from socialinbox.cli import click_tr

    if language == "tr":
        click_tr.use_turkish()
    else:
        click_tr.use_english()

    @click.group(help=t("cli.help"), context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("--lang", type=click.Choice(LANGUAGES), help=t("opt.lang"))
    @click.option("--database", metavar="URL", help=t("opt.database"))
    @click.option("-v", "--verbose", count=True, help=t("opt.verbose"))
    @click.version_option(package_name="socialinbox")
    @click.pass_context
    def cli(ctx: click.Context, lang: str | None, database: str | None, verbose: int) -> None:
        if not verbose:
            # Without -v only errors reach the terminal; library warnings
            # (a retry, an odd payload) are for operators' logs, not moderators.
            logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
        if verbose:
            logging.basicConfig(
                level=logging.DEBUG if verbose > 1 else logging.INFO,
                format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                stream=sys.stderr,
            )
        state = Context(t, database)
        state.verbosity = verbose
        ctx.obj = state
        ctx.call_on_close(state.close)

    cli.add_command(_db_group(t))
    cli.add_command(_replay_command(t))
    cli.add_command(_quarantine_group(t))
    _import_command_modules()
    for factory in _EXTRA_COMMANDS:
        cli.add_command(factory(t))
    return cli


_COMMAND_MODULES = (
    "socialinbox.cli.daemon",
    "socialinbox.cli.demo",
    "socialinbox.cli.outbox",
    "socialinbox.cli.moderation",
    "socialinbox.cli.broadcast",
    "socialinbox.cli.importer",
)


def _import_command_modules() -> None:
    """Import the modules whose commands register themselves with ``register_command``."""
    import importlib

    for name in _COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            # Only a feature module that is absent from this build is skipped.
            if error.name != name:
                raise


def _db_group(t: Translator) -> click.Group:
    @click.group(name="db", help=t("db.help"))
    def db() -> None:
        pass

    @db.command(name="upgrade", help=t("db.upgrade.help"))
    @click.pass_obj
    def db_upgrade(state: Context) -> None:
        try:
            engine = create_engine(state.database_url)
            before, after = upgrade(engine)
            engine.dispose()
        except SocialInboxError as error:
            fail(t, error)
        if before == after:
            click.echo(t("db.upgrade.current", revision=after))
        else:
            click.echo(t("db.upgrade.done", before=before or "-", after=after))

    return db


def _replay_command(t: Translator) -> click.Command:
    @click.command(name="replay", help=t("replay.help"))
    @click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
    @click.option(
        "--platform",
        type=click.Choice([platform.value for platform in Platform]),
        help=t("replay.opt.platform"),
    )
    @click.option("--account", "account_id", help=t("replay.opt.account"))
    @format_option(t)
    @click.pass_obj
    def replay(
        state: Context,
        files: Sequence[Path],
        platform: str | None,
        account_id: str | None,
        output_format: str,
    ) -> None:
        from socialinbox.replay import replay_file

        paths: list[Path] = []
        for path in files:
            if path.is_dir():
                paths.extend(sorted(item for item in path.rglob("*") if item.is_file()))
            else:
                paths.append(path)
        if not paths:
            click.echo(t("replay.none"), err=True)
            sys.exit(EXIT_FAILURE)
        try:
            store = state.store(create=True)
            reports = [
                replay_file(
                    store,
                    path,
                    platform=Platform(platform) if platform else None,
                    account_id=account_id,
                )
                for path in paths
            ]
        except SocialInboxError as error:
            fail(t, error)
        rows = [report.as_dict() for report in reports]
        if output_format == "json":
            echo_json({"files": rows})
            return
        for row in rows:
            row["platform"] = row["platform"] or t("unknown")
            if output_format == "text":
                # The folder and file name are enough to tell files apart in a
                # table; --format json or csv keeps the full path.
                row["path"] = str(Path(*Path(row["path"]).parts[-2:]))
        if output_format == "text" and rows:
            rows.append(_total_row(t, rows))
        render_listing(
            rows,
            [
                ("path", t("col.file")),
                ("platform", t("col.platform")),
                ("messages_stored", t("col.stored")),
                ("duplicates", t("col.duplicates")),
                ("events", t("col.events")),
                ("ignored", t("col.ignored")),
                ("quarantined", t("col.quarantined")),
                ("reasons", t("col.reasons")),
            ],
            output_format,
        )

    return replay


def _total_row(t: Translator, rows: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {"path": t("col.total"), "platform": "", "reasons": None}
    for field in ("messages_stored", "duplicates", "events", "ignored", "quarantined"):
        total[field] = sum(row[field] for row in rows)
    return total


def _quarantine_group(t: Translator) -> click.Group:
    @click.group(name="quarantine", help=t("quarantine.help"))
    def quarantine() -> None:
        pass

    @quarantine.command(name="list", help=t("quarantine.list.help"))
    @format_option(t)
    @click.pass_obj
    def quarantine_list(state: Context, output_format: str) -> None:
        try:
            entries = state.store().list_quarantine()
        except SocialInboxError as error:
            fail(t, error)
        if not entries and output_format == "text":
            click.echo(t("quarantine.empty"))
            return
        rows = [
            {
                "id": entry.id,
                "platform": entry.platform or "",
                "reason": entry.reason,
                "location": entry.location or "",
                "created_at": entry.created_at.isoformat(),
            }
            for entry in entries
        ]
        render_listing(
            rows,
            [
                ("id", t("col.id")),
                ("platform", t("col.platform")),
                ("reason", t("col.reason")),
                ("location", t("col.location")),
                ("created_at", t("col.received")),
            ],
            output_format,
        )

    @quarantine.command(name="show", help=t("quarantine.show.help"))
    @click.argument("entry_id", type=int)
    @format_option(t)
    @click.pass_obj
    def quarantine_show(state: Context, entry_id: int, output_format: str) -> None:
        from socialinbox.replay import encode_base64

        try:
            entry = state.store().get_quarantine(entry_id)
        except SocialInboxError as error:
            fail(t, error)
        if entry is None:
            click.echo(t("quarantine.not_found", entry_id=entry_id), err=True)
            sys.exit(EXIT_NOT_FOUND)
        document = {
            "id": entry.id,
            "platform": entry.platform,
            "account_id": entry.account_id,
            "reason": entry.reason,
            "location": entry.location,
            "created_at": entry.created_at.isoformat(),
            "raw_base64": encode_base64(entry.raw),
        }
        if output_format == "json":
            echo_json(document)
            return
        for key, value in document.items():
            if key != "raw_base64":
                click.echo(f"{key}: {value}")
        click.echo("raw:")
        click.echo(entry.raw.decode("utf-8", errors="backslashreplace"))

    return quarantine


def _language_from_argv(argv: Sequence[str]) -> str | None:
    for index, argument in enumerate(argv):
        if argument == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if argument.startswith("--lang="):
            return argument.split("=", 1)[1]
    return None


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; the entry point of the ``socialinbox`` console script."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    explicit = _language_from_argv(arguments) or os.environ.get("SOCIALINBOX_LANG")
    language = detect_language(explicit or _settings_file_value("language"))
    cli = build_cli(language)
    try:
        cli.main(args=arguments, prog_name="socialinbox")
    except SocialInboxError as error:
        # Commands report their own errors; this catches one raised outside them.
        fail(Translator(language), error)
