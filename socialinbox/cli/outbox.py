"""``socialinbox outbox list|retry``: inspect deliveries to the CRM sinks and re-drive dead letters."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from socialinbox.cli.main import EXIT_FAILURE, Context, fail, format_option, register_command
from socialinbox.cli.output import render_listing
from socialinbox.crm.delivery import (
    DeliveryStatus,
    list_deliveries,
    retry_dead_letters,
    unassigned_count,
)
from socialinbox.errors import SocialInboxError
from socialinbox.locale import Translator

__all__ = ["outbox_command"]

_STATUSES = [status.value for status in DeliveryStatus]
_UNDELIVERED = [status for status in _STATUSES if status != DeliveryStatus.DELIVERED]


def outbox_command(t: Translator) -> click.Command:
    """Build the ``outbox`` command group with help and messages from ``t``."""

    @click.group(name="outbox", help=t("outbox.help"))
    def outbox() -> None:
        pass

    @outbox.command(name="list", help=t("outbox.list.help"))
    @click.option("--status", type=click.Choice(_STATUSES), help=t("outbox.opt.status"))
    @click.option("--sink", metavar="NAME", help=t("outbox.opt.sink"))
    @click.option(
        "--limit",
        type=click.IntRange(min=1),
        default=100,
        show_default=True,
        help=t("outbox.opt.limit"),
    )
    @format_option(t)
    @click.pass_obj
    def outbox_list(
        state: Context, status: str | None, sink: str | None, limit: int, output_format: str
    ) -> None:
        try:
            store = state.store()
            records = list_deliveries(store, status=status or _UNDELIVERED, sink=sink, limit=limit)
            waiting = unassigned_count(store)
        except SocialInboxError as error:
            fail(t, error)

        if output_format == "json":
            render_listing(
                [],
                [],
                "json",
                json_document={
                    "deliveries": [record.as_dict() for record in records],
                    "unassigned": waiting,
                },
            )
            return
        if not records and output_format == "text":
            click.echo(t("outbox.empty"))
        else:
            rows = [
                {
                    "outbox_id": record.outbox_id,
                    "sink": record.sink,
                    "status": t(f"delivery.{record.status}")
                    if output_format == "text"
                    else record.status,
                    "attempts": record.attempts,
                    "kind": record.kind,
                    "conversation": f"{record.platform}:{record.account_id}:{record.chat_id or '-'}",
                    "next_attempt_at": record.next_attempt_at.isoformat()
                    if record.next_attempt_at
                    else "",
                    "last_error": record.last_error or "",
                }
                for record in records
            ]
            render_listing(
                rows,
                [
                    ("outbox_id", t("col.outbox_id")),
                    ("sink", t("col.sink")),
                    ("status", t("col.status")),
                    ("attempts", t("col.attempts")),
                    ("kind", t("col.kind")),
                    ("conversation", t("col.conversation")),
                    ("next_attempt_at", t("col.next_attempt")),
                    ("last_error", t("col.last_error")),
                ],
                output_format,
            )
        if waiting and output_format == "text":
            click.echo(t("outbox.unassigned", count=waiting))

    @outbox.command(name="retry", help=t("outbox.retry.help"))
    @click.argument("ids", nargs=-1, type=click.IntRange(min=1))
    @click.option("--sink", metavar="NAME", help=t("outbox.opt.sink"))
    @click.pass_obj
    def outbox_retry(state: Context, ids: Sequence[int], sink: str | None) -> None:
        try:
            count = retry_dead_letters(state.store(), sink=sink, ids=list(ids) or None)
        except SocialInboxError as error:
            fail(t, error)
        if count == 0:
            # Naming ids that are not dead letters is an error; an empty list is not.
            click.echo(t("outbox.retry.none"), err=bool(ids))
            if ids:
                sys.exit(EXIT_FAILURE)
            return
        click.echo(t("outbox.retried", count=count))

    return outbox


register_command(outbox_command)
