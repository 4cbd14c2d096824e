"""``socialinbox broadcast create|preview|approve|send|status|cancel``."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from socialinbox.broadcast import ledger
from socialinbox.broadcast.audience import check_meta_tag, check_segment
from socialinbox.broadcast.model import (
    DEFAULT_EXPIRY,
    DISPLAY_ZONE,
    Audience,
    BroadcastStatus,
    DeliveryStatus,
    Draft,
    Target,
    parse_duration,
    parse_when,
)
from socialinbox.cli.main import EXIT_FAILURE, Context, fail, format_option, register_command
from socialinbox.cli.output import echo_json, render_listing
from socialinbox.errors import ConfigError, SocialInboxError, UsageError
from socialinbox.locale import Translator
from socialinbox.model import Platform, utc_now

__all__ = ["broadcast_command"]

_POST_PLATFORMS = {"x": Platform.X, "facebook": Platform.MESSENGER, "instagram": Platform.INSTAGRAM}
_DM_CHOICES = [*(platform.value for platform in Platform), "all"]


def _user(explicit: str | None) -> str:
    return explicit or os.environ.get("SOCIALINBOX_USER") or getpass.getuser()


def _zone(t: Translator, name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        fail(t, UsageError(t("broadcast.bad_time", value=name, detail="unknown time zone")))
        raise AssertionError from error  # fail() exits


def _when(t: Translator, value: str, zone: ZoneInfo) -> datetime:
    try:
        return parse_when(value, zone)
    except ValueError as error:
        fail(t, UsageError(t("broadcast.bad_time", value=value, detail=error)))


def _shown(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if value else "-"


def _user_option(t: Translator) -> Callable[[Any], Any]:
    return click.option("--user", metavar="NAME", help=t("broadcast.opt.user"))


def _tz_option(t: Translator) -> Callable[[Any], Any]:
    return click.option(
        "--tz", "zone_name", default=str(DISPLAY_ZONE), show_default=True, help=t("broadcast.opt.tz")
    )


def broadcast_command(t: Translator) -> click.Command:
    """Build the ``broadcast`` command group with help and messages from ``t``."""

    @click.group(name="broadcast", help=t("broadcast.help"))
    def broadcast() -> None:
        pass

    @broadcast.command(name="create", help=t("broadcast.create.help"))
    @click.option("--title", required=True, help=t("broadcast.opt.title"))
    @click.option("--body", help=t("broadcast.opt.body"))
    @click.option(
        "--body-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=t("broadcast.opt.body_file"),
    )
    @click.option("--override", "overrides", multiple=True, metavar="PLATFORM=TEXT", help=t("broadcast.opt.override"))
    @click.option("--image", metavar="URL", help=t("broadcast.opt.image"))
    @click.option("--channel", "channels", multiple=True, metavar="CHAT", help=t("broadcast.opt.channel"))
    @click.option("--post", "posts", multiple=True, type=click.Choice(sorted(_POST_PLATFORMS)), help=t("broadcast.opt.post"))
    @click.option("--dm", "dms", multiple=True, type=click.Choice(_DM_CHOICES), help=t("broadcast.opt.dm"))
    @click.option("--tag", "tags", multiple=True, help=t("broadcast.opt.tag"))
    @click.option("--segment", help=t("broadcast.opt.segment"))
    @click.option("--at", "at_value", metavar="WHEN", help=t("broadcast.opt.at"))
    @click.option("--expires", "expires_value", metavar="WHEN", help=t("broadcast.opt.expires"))
    @click.option("--expires-after", metavar="DURATION", help=t("broadcast.opt.expires_after"))
    @_tz_option(t)
    @click.option("--two-person", is_flag=True, help=t("broadcast.opt.two_person"))
    @click.option("--meta-tag", help=t("broadcast.opt.meta_tag"))
    @_user_option(t)
    @format_option(t)
    @click.pass_obj
    def create(
        state: Context,
        title: str,
        body: str | None,
        body_file: Path | None,
        overrides: Sequence[str],
        image: str | None,
        channels: Sequence[str],
        posts: Sequence[str],
        dms: Sequence[str],
        tags: Sequence[str],
        segment: str | None,
        at_value: str | None,
        expires_value: str | None,
        expires_after: str | None,
        zone_name: str,
        two_person: bool,
        meta_tag: str | None,
        user: str | None,
        output_format: str,
    ) -> None:
        zone = _zone(t, zone_name)
        text = body_file.read_text(encoding="utf-8") if body_file else body
        if not text or not text.strip():
            fail(t, UsageError(t("broadcast.no_body")))
        override_map: dict[Platform, str] = {}
        for item in overrides:
            name, separator, value = item.partition("=")
            if not separator or name not in {p.value for p in Platform} or not value.strip():
                fail(
                    t,
                    UsageError(
                        t("broadcast.bad_override", value=item, platforms=", ".join(p.value for p in Platform))
                    ),
                )
            override_map[Platform(name)] = value
        targets: list[Target] = [
            Target(kind="channel", platform=Platform.TELEGRAM, chat=chat) for chat in channels
        ]
        targets.extend(Target(kind="post", platform=_POST_PLATFORMS[name]) for name in posts)
        if dms:
            platforms = () if "all" in dms else tuple(Platform(name) for name in dms)
            targets.append(
                Target(kind="dm", audience=Audience(platforms=platforms, tags=tuple(tags), segment=segment))
            )
        if not targets:
            fail(t, UsageError(t("broadcast.no_targets")))
        now = utc_now()
        scheduled = _when(t, at_value, zone) if at_value else now
        if expires_value:
            expires = _when(t, expires_value, zone)
        else:
            try:
                expires = scheduled + (parse_duration(expires_after) if expires_after else DEFAULT_EXPIRY)
            except ValueError as error:
                fail(t, UsageError(str(error)))
        try:
            check_segment(segment)
            check_meta_tag(meta_tag)
            draft = Draft(
                title=title,
                body=text,
                overrides=override_map,
                image_url=image,
                targets=tuple(targets),
                scheduled_at=scheduled,
                expires_at=expires,
                approvals_required=1 if two_person else 0,
                meta_tag=meta_tag,
                created_by=_user(user),
            )
        except ValueError as error:
            fail(t, UsageError(_validation_message(error)))
        except SocialInboxError as error:
            fail(t, error)
        try:
            created = ledger.create_broadcast(state.store(create=True).engine, draft, now=now)
        except SocialInboxError as error:
            fail(t, error)
        if output_format == "json":
            echo_json(_broadcast_dict(created))
            return
        click.echo(
            t(
                "broadcast.created",
                id=created.id,
                status=t(f"broadcast.status.{created.status.value}"),
                at=_shown(created.scheduled_at, zone),
                expires=_shown(created.expires_at, zone),
            )
        )
        if created.status is BroadcastStatus.DRAFT:
            click.echo(t("broadcast.needs_approval", id=created.id))

    @broadcast.command(name="preview", help=t("broadcast.preview.help"))
    @click.argument("broadcast_id", type=int)
    @click.option("--show-excluded", is_flag=True, help=t("broadcast.opt.excluded"))
    @_tz_option(t)
    @format_option(t)
    @click.pass_obj
    def preview(
        state: Context, broadcast_id: int, show_excluded: bool, zone_name: str, output_format: str
    ) -> None:
        from socialinbox.broadcast.planner import plan_broadcast

        zone = _zone(t, zone_name)
        try:
            engine = state.store().engine
            found = ledger.get_broadcast(engine, broadcast_id)
            plan = plan_broadcast(engine, found, now=utc_now())
        except SocialInboxError as error:
            fail(t, error)
        if output_format == "json":
            echo_json(plan.as_dict())
            return
        rows = [
            {
                "target": target_plan.target.describe(),
                "recipients": _counter_text(target_plan.reach()) or "0",
                "excluded": _counter_text(target_plan.excluded()) or "0",
            }
            for target_plan in plan.targets
        ]
        if output_format == "csv":
            render_listing(rows, [("target", ""), ("recipients", ""), ("excluded", "")], "csv")
            return
        click.echo(
            t(
                "broadcast.schedule",
                id=found.id,
                status=t(f"broadcast.status.{found.status.value}"),
                at=_shown(found.scheduled_at, zone),
                expires=_shown(found.expires_at, zone),
            )
        )
        for (kind, platform), rendering in plan.renderings().items():
            click.echo("")
            click.echo(
                t(
                    "broadcast.rendered",
                    kind=kind,
                    platform=platform.value,
                    parts=len(rendering.parts),
                    size=rendering.size,
                    limit=rendering.limit,
                    unit=rendering.unit,
                )
            )
            click.echo(rendering.preview)
            for note in rendering.notes:
                click.echo(f"  NOTE: {note}")
        click.echo("")
        render_listing(
            rows,
            [
                ("target", t("broadcast.col.target")),
                ("recipients", t("broadcast.col.recipients")),
                ("excluded", t("broadcast.col.excluded")),
            ],
            "text",
        )
        if show_excluded:
            excluded_rows = [
                {
                    "platform": exclusion.recipient.platform.value,
                    "chat": exclusion.recipient.chat_id,
                    "reason": f"{exclusion.reason}: {exclusion.detail}",
                }
                for target_plan in plan.targets
                for exclusion in target_plan.exclusions
            ]
            render_listing(
                excluded_rows,
                [
                    ("platform", t("col.platform")),
                    ("chat", t("broadcast.col.chat")),
                    ("reason", t("col.reason")),
                ],
                "text",
            )
        if plan.errors:
            click.echo(t("broadcast.errors"), err=True)
            for problem in plan.errors:
                click.echo(f"  - {problem}", err=True)
            sys.exit(EXIT_FAILURE)

    @broadcast.command(name="approve", help=t("broadcast.approve.help"))
    @click.argument("broadcast_id", type=int)
    @_user_option(t)
    @click.pass_obj
    def approve(state: Context, broadcast_id: int, user: str | None) -> None:
        name = _user(user)
        try:
            ledger.approve_broadcast(state.store().engine, broadcast_id, user=name, now=utc_now())
        except SocialInboxError as error:
            fail(t, error)
        click.echo(t("broadcast.approved", id=broadcast_id, user=name))

    @broadcast.command(name="cancel", help=t("broadcast.cancel.help"))
    @click.argument("broadcast_id", type=int)
    @_user_option(t)
    @click.pass_obj
    def cancel(state: Context, broadcast_id: int, user: str | None) -> None:
        try:
            count = ledger.cancel_broadcast(
                state.store().engine, broadcast_id, user=_user(user), now=utc_now()
            )
        except SocialInboxError as error:
            fail(t, error)
        click.echo(t("broadcast.cancelled", id=broadcast_id, count=count))

    @broadcast.command(name="send", help=t("broadcast.send.help"))
    @click.argument("broadcast_id", type=int)
    @click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help=t("broadcast.opt.config"))
    @click.option("--wait", is_flag=True, help=t("broadcast.opt.wait"))
    @click.option("--resend-unknown", is_flag=True, help=t("broadcast.opt.resend_unknown"))
    @click.option("--retry-failed", is_flag=True, help=t("broadcast.opt.retry_failed"))
    @click.option("--progress/--no-progress", default=None, help=t("broadcast.opt.progress"))
    @_tz_option(t)
    @format_option(t)
    @click.pass_obj
    def send(
        state: Context,
        broadcast_id: int,
        config_path: Path | None,
        wait: bool,
        resend_unknown: bool,
        retry_failed: bool,
        progress: bool | None,
        zone_name: str,
        output_format: str,
    ) -> None:
        zone = _zone(t, zone_name)
        try:
            report = asyncio.run(
                _send(
                    t,
                    state,
                    broadcast_id,
                    config_path=config_path,
                    wait=wait,
                    resend_unknown=resend_unknown,
                    retry_failed=retry_failed,
                    progress=sys.stderr.isatty() if progress is None else progress,
                    zone=zone,
                )
            )
        except SocialInboxError as error:
            fail(t, error)
        _echo_report(t, state, report, output_format)

    @broadcast.command(name="status", help=t("broadcast.status.help"))
    @click.argument("broadcast_id", type=int, required=False)
    @_tz_option(t)
    @format_option(t)
    @click.pass_obj
    def status(state: Context, broadcast_id: int | None, zone_name: str, output_format: str) -> None:
        zone = _zone(t, zone_name)
        try:
            engine = state.store().engine
            if broadcast_id is None:
                found = ledger.list_broadcasts(engine)
            else:
                one = ledger.get_broadcast(engine, broadcast_id)
                rows = ledger.list_deliveries(engine, broadcast_id)
        except SocialInboxError as error:
            fail(t, error)
        if broadcast_id is None:
            if not found and output_format == "text":
                click.echo(t("broadcast.empty"))
                return
            render_listing(
                [
                    {
                        "id": item.id,
                        "title": item.title,
                        "status": t(f"broadcast.status.{item.status.value}")
                        if output_format == "text"
                        else item.status.value,
                        "scheduled": _shown(item.scheduled_at, zone)
                        if output_format == "text"
                        else item.scheduled_at.isoformat(),
                        "created_by": item.created_by,
                    }
                    for item in found
                ],
                [
                    ("id", t("col.id")),
                    ("title", t("broadcast.col.title")),
                    ("status", t("col.status")),
                    ("scheduled", t("broadcast.col.scheduled")),
                    ("created_by", t("broadcast.col.created_by")),
                ],
                output_format,
            )
            return
        _echo_ledger(t, one, rows, output_format, zone)

    return broadcast


def _validation_message(error: ValueError) -> str:
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        return "; ".join(
            str(problem["msg"]).removeprefix("Value error, ")
            for problem in error.errors(include_url=False, include_input=False)
        )
    return str(error)


def _counter_text(counter: Any) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(counter.items()))


def _broadcast_dict(found: ledger.Broadcast) -> dict[str, Any]:
    return {
        "id": found.id,
        "title": found.title,
        "status": found.status.value,
        "scheduled_at": found.scheduled_at.isoformat(),
        "expires_at": found.expires_at.isoformat(),
        "approvals_required": found.approvals_required,
        "created_by": found.created_by,
        "approved_by": found.approved_by,
        "targets": [target.describe() for target in found.targets],
    }


async def _send(
    t: Translator,
    state: Context,
    broadcast_id: int,
    *,
    config_path: Path | None,
    wait: bool,
    resend_unknown: bool,
    retry_failed: bool,
    progress: bool,
    zone: ZoneInfo,
) -> Any:
    from socialinbox.broadcast.accounts import build_send_accounts
    from socialinbox.broadcast.sender import Sender
    from socialinbox.config import load_settings
    from socialinbox.store import AsyncStore

    store = state.store()
    found = ledger.get_broadcast(store.engine, broadcast_id)
    if wait and found.status is BroadcastStatus.APPROVED and found.scheduled_at > utc_now():
        click.echo(t("broadcast.waiting", at=_shown(found.scheduled_at, zone), id=broadcast_id), err=True)
        await asyncio.sleep((found.scheduled_at - utc_now()).total_seconds())
    settings = load_settings(config_path)
    async_store = AsyncStore(store)
    accounts = build_send_accounts(settings, async_store)
    if not accounts:
        raise ConfigError(t("broadcast.no_accounts"))
    total = len(ledger.list_deliveries(store.engine, broadcast_id)) or None
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not progress,
    )
    task_id = bar.add_task(t("broadcast.progress", id=broadcast_id), total=total)

    def advance(_row: Any) -> None:
        bar.advance(task_id)

    sender = Sender(
        store,
        accounts,
        resend_unknown=resend_unknown,
        retry_failed=retry_failed,
        on_row_done=advance,
    )
    try:
        with bar:
            return await sender.run(broadcast_id)
    finally:
        for account in accounts:
            await account.adapter.close()


def _echo_report(t: Translator, state: Context, report: Any, output_format: str) -> None:
    rows = ledger.list_deliveries(state.store().engine, report.broadcast_id)
    if output_format == "json":
        echo_json({**report.as_dict(), "deliveries": [row.as_dict() for row in rows]})
        return
    if output_format == "csv":
        _ledger_csv(rows)
        return
    counts = report.counts
    if report.reconciled:
        click.echo(
            t(
                "broadcast.reconciled",
                count=sum(report.reconciled.values()),
                detail=_counter_text(report.reconciled),
            )
        )
    click.echo(
        t(
            "broadcast.report",
            id=report.broadcast_id,
            status=t(f"broadcast.status.{report.status.value}"),
            sent=counts.get("sent", 0),
            failed=counts.get("failed", 0),
            skipped=counts.get("skipped", 0),
            unknown=counts.get("unknown", 0),
            pending=counts.get("pending", 0) + counts.get("sending", 0),
            attempted=report.attempted,
            rate_limited=report.rate_limited,
            elapsed=f"{report.elapsed:.1f}",
        )
    )
    if counts.get("unknown"):
        click.echo(t("broadcast.unknown_hint", count=counts["unknown"], id=report.broadcast_id))


def _ledger_csv(rows: Sequence[ledger.Delivery]) -> None:
    columns = ["id", "target", "platform", "account_id", "chat_id", "status", "reason", "parts", "platform_message_ids", "attempts", "sent_at"]
    render_listing(
        [{**row.as_dict(), "platform_message_ids": " ".join(row.platform_message_ids)} for row in rows],
        [(column, column) for column in columns],
        "csv",
    )


def _echo_ledger(
    t: Translator,
    found: ledger.Broadcast,
    rows: Sequence[ledger.Delivery],
    output_format: str,
    zone: ZoneInfo,
) -> None:
    if output_format == "json":
        echo_json({**_broadcast_dict(found), "deliveries": [row.as_dict() for row in rows]})
        return
    if output_format == "csv":
        _ledger_csv(rows)
        return
    click.echo(
        t(
            "broadcast.schedule",
            id=found.id,
            status=t(f"broadcast.status.{found.status.value}"),
            at=_shown(found.scheduled_at, zone),
            expires=_shown(found.expires_at, zone),
        )
    )
    summary: dict[tuple[str, str], dict[str, int]] = {}
    for row in rows:
        counts = summary.setdefault((row.target, row.platform.value), {})
        counts[row.status.value] = counts.get(row.status.value, 0) + 1
    render_listing(
        [
            {
                "target": target,
                "platform": platform,
                **{status.value: counts.get(status.value, 0) for status in DeliveryStatus},
            }
            for (target, platform), counts in sorted(summary.items())
        ],
        [
            ("target", t("broadcast.col.target")),
            ("platform", t("col.platform")),
            ("sent", t("broadcast.col.sent")),
            ("failed", t("broadcast.col.failed")),
            ("skipped", t("broadcast.col.skipped")),
            ("unknown", t("broadcast.col.unknown")),
            ("pending", t("broadcast.col.pending")),
        ],
        "text",
    )


register_command(broadcast_command)
