"""``socialinbox daemon`` and ``socialinbox accounts``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from socialinbox.cli.main import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    Context,
    fail,
    format_option,
    register_command,
)
from socialinbox.cli.output import render_listing
from socialinbox.errors import SocialInboxError
from socialinbox.locale import Translator

__all__ = ["accounts_command", "daemon_command"]


def daemon_command(t: Translator) -> click.Command:
    @click.command(name="daemon", help=t("daemon.help"))
    @click.option(
        "--config",
        "config_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=t("opt.config"),
    )
    @click.option(
        "--log-format", type=click.Choice(["text", "json"]), help=t("daemon.opt.log_format")
    )
    @click.pass_obj
    def daemon(state: Context, config_path: Path | None, log_format: str | None) -> None:
        from socialinbox.config import load_settings
        from socialinbox.daemon.app import Daemon
        from socialinbox.daemon.logs import configure_logging

        overrides = {"database": state.explicit_database} if state.explicit_database else {}
        try:
            settings = load_settings(config_path, **overrides)
        except SocialInboxError as error:
            fail(t, error)
        if not settings.accounts:
            click.echo(t("accounts.none"), err=True)
            sys.exit(EXIT_CONFIG)
        chosen_format = log_format or settings.daemon.log_format
        configure_logging(
            verbosity=max(1, state.verbosity),
            log_format="json" if chosen_format == "json" else "text",
            secrets=settings.secret_values(),
        )
        try:
            code = asyncio.run(Daemon(settings).run())
        except SocialInboxError as error:
            fail(t, error)
        sys.exit(code)

    return daemon


def accounts_command(t: Translator) -> click.Command:
    @click.group(name="accounts", help=t("accounts.help"), invoke_without_command=True)
    @click.option(
        "--config",
        "config_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=t("opt.config"),
    )
    @format_option(t)
    @click.pass_context
    def accounts(ctx: click.Context, config_path: Path | None, output_format: str) -> None:
        ctx.meta["config_path"] = config_path
        if ctx.invoked_subcommand is not None:
            return
        state: Context = ctx.obj
        from socialinbox.config import load_settings

        try:
            settings = load_settings(config_path)
        except SocialInboxError as error:
            fail(t, error)
        rows = [
            {
                "name": account.name,
                "platform": account.platform.value,
                "account_id": account.account_id or "",
                "enabled": t("yes") if account.enabled else t("no"),
                "poll_interval": account.poll_interval,
            }
            for account in settings.accounts
        ]
        del state
        render_listing(
            rows,
            [
                ("name", t("col.account")),
                ("platform", t("col.platform")),
                ("account_id", t("col.id")),
                ("enabled", t("col.enabled")),
                ("poll_interval", t("col.poll_interval")),
            ],
            output_format,
        )

    @accounts.command(name="check", help=t("accounts.check.help"))
    @format_option(t)
    @click.pass_context
    def check(ctx: click.Context, output_format: str) -> None:
        from socialinbox.config import load_settings
        from socialinbox.daemon.probe import probe_accounts

        config_path = ctx.parent.meta.get("config_path") if ctx.parent else None
        state: Context = ctx.obj
        overrides = {"database": state.explicit_database} if state.explicit_database else {}
        try:
            settings = load_settings(config_path, **overrides)
            if not settings.accounts:
                click.echo(t("accounts.none"), err=True)
                sys.exit(EXIT_CONFIG)
            results = asyncio.run(probe_accounts(settings))
        except SocialInboxError as error:
            fail(t, error)
        rows = [
            {
                "name": result.name,
                "platform": result.platform,
                "state": result.state,
                "detail": result.detail or "",
            }
            for result in results
        ]
        render_listing(
            rows,
            [
                ("name", t("col.account")),
                ("platform", t("col.platform")),
                ("state", t("col.health")),
                ("detail", t("col.detail")),
            ],
            output_format,
        )
        if any(result.state != "ok" for result in results):
            sys.exit(EXIT_FAILURE)

    return accounts


register_command(daemon_command)
register_command(accounts_command)
