"""Moderator commands: inbox, show, reply, workflow state, notes, contacts, templates, rules, stats.

The moderator's name comes from ``--moderator``, else ``SOCIALINBOX_MODERATOR``,
else the login name. ``show`` records what the moderator saw, and ``reply``
refuses when the conversation changed since then, unless ``--force``.
"""

from __future__ import annotations

import asyncio
import getpass
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import click

from socialinbox.cli.main import EXIT_FAILURE, Context, fail, format_option, register_command
from socialinbox.cli.output import echo_json, render_listing
from socialinbox.errors import NotEligible, PlatformError, SocialInboxError, TransportError
from socialinbox.locale import Translator
from socialinbox.model import ContactStatus, Direction, Message, OutboundMessage, Platform, utc_now
from socialinbox.moderation import workflow
from socialinbox.moderation.rules import (
    HIDDEN_TAG,
    SPAM_TAG,
    Facts,
    RulesError,
    evaluate,
    example_rules_path,
    first_name_of,
    load_rules,
)
from socialinbox.moderation.templates import TemplateError, TemplateLibrary, escape_for
from socialinbox.moderation.text import is_turkish
from socialinbox.moderation.workflow import ContactRef

__all__ = [
    "EXIT_CHANGED",
    "EXIT_NOT_ELIGIBLE",
    "EXIT_NOT_FOUND",
    "EXIT_SEND_FAILED",
]

EXIT_NOT_FOUND = 5
EXIT_NOT_ELIGIBLE = 6
EXIT_CHANGED = 7
EXIT_SEND_FAILED = 8

_PLATFORMS = [platform.value for platform in Platform]


def _stop(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def _moderator_option(t: Translator) -> Callable[[Any], Any]:
    return click.option(
        "--moderator",
        envvar="SOCIALINBOX_MODERATOR",
        default=getpass.getuser,
        show_default=False,
        help=t("mod.opt.moderator"),
    )


def _templates_option(t: Translator) -> Callable[[Any], Any]:
    return click.option(
        "--templates",
        "templates_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help=t("mod.opt.templates"),
    )


def _conversation(t: Translator, state: Context, reference: str) -> Any:
    try:
        row = workflow.find_conversation(state.store().engine, reference)
    except SocialInboxError as error:
        fail(t, error)
    if row is None:
        _stop(t("mod.conversation_not_found", conversation=reference), EXIT_NOT_FOUND)
    return row


def _parse_since(t: Translator, value: str | None) -> datetime | None:
    if value is None:
        return None
    match = re.fullmatch(r"(\d+)([mhd])", value.strip())
    if match:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        return utc_now() - timedelta(**{unit: int(match.group(1))})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(t("mod.bad_since", value=value)) from None
    return parsed if parsed.tzinfo else parsed.astimezone()


def _contact_label(state: Context, row: Any) -> str:
    if row.title:
        return str(row.title)
    user_id = row.contact_user_id or row.chat_id
    contact = state.store().get_contact(Platform(row.platform), row.account_id, user_id)
    if contact is not None and (contact.display_name or contact.username):
        return contact.display_name or f"@{contact.username}"
    return str(user_id)


def _timestamp(value: datetime | None, output_format: str) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M") if output_format == "text" else value.isoformat()


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return "-"
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours:02d}h"
    return f"{hours}h {minutes:02d}m"


# -- inbox --------------------------------------------------------------------------


def inbox_command(t: Translator) -> click.Command:
    @click.command(name="inbox", help=t("inbox.help"))
    @click.option("--platform", type=click.Choice(_PLATFORMS), help=t("inbox.opt.platform"))
    @click.option("--status", type=click.Choice(["open", "closed"]), help=t("inbox.opt.status"))
    @click.option("--tag", help=t("inbox.opt.tag"))
    @click.option("--assignee", help=t("inbox.opt.assignee"))
    @click.option("--since", help=t("inbox.opt.since"))
    @click.option("--search", "search", help=t("inbox.opt.search"))
    @click.option("--all", "show_all", is_flag=True, help=t("inbox.opt.all"))
    @click.option("--limit", type=int, default=50, show_default=True, help=t("inbox.opt.limit"))
    @format_option(t)
    @click.pass_obj
    def inbox(
        state: Context,
        platform: str | None,
        status: str | None,
        tag: str | None,
        assignee: str | None,
        since: str | None,
        search: str | None,
        show_all: bool,
        limit: int,
        output_format: str,
    ) -> None:
        since_at = _parse_since(t, since)
        try:
            store = state.store()
            records = workflow.list_conversation_rows(
                store.engine,
                platform=platform,
                status=status,
                assignee=assignee,
                tag=tag,
                since=since_at,
            )
            engine = store.engine
            if not show_all and tag not in {SPAM_TAG, HIDDEN_TAG}:
                records = [
                    record
                    for record in records
                    if not {SPAM_TAG, HIDDEN_TAG} & set(record.tags or ())
                ]
            if search:
                matching = workflow.search_conversations(
                    engine, search, [record.id for record in records]
                )
                records = [record for record in records if record.id in matching]
            records = records[:limit]
            rows = [_inbox_row(t, state, record, output_format) for record in records]
        except SocialInboxError as error:
            fail(t, error)
        if not rows and output_format == "text":
            click.echo(
                t("inbox.empty_filtered")
                if (search or tag or platform or status or assignee or since)
                else t("inbox.empty")
            )
            return
        columns = [
            ("id", t("col.number")),
            ("conversation", t("col.conversation")),
            ("platform", t("col.platform")),
            ("contact", t("col.contact")),
            ("status", t("col.status")),
            ("assignee", t("col.assignee")),
            ("priority", t("col.priority")),
            ("tags", t("col.tags")),
            ("last_message_at", t("col.last_at")),
            ("last_text", t("col.last_text")),
        ]
        if output_format == "text":
            # The number is enough to name a conversation on screen; the full key is in csv and json.
            columns = [column for column in columns if column[0] != "conversation"]
        render_listing(rows, columns, output_format)

    return inbox


def _inbox_row(t: Translator, state: Context, record: Any, output_format: str) -> dict[str, Any]:
    key = workflow.key_of(record)
    messages = state.store().list_messages(key)
    visible = [message for message in messages if not message.deleted]
    last = visible[-1] if visible else None
    last_text = ""
    if last is not None:
        if last.text:
            last_text = last.text
        elif last.attachments:
            last_text = "[" + ", ".join(item.type.value for item in last.attachments) + "]"
        else:
            last_text = f"[{t('kind.' + last.kind.value)}]"
        last_text = " ".join(last_text.split())
        if output_format == "text" and len(last_text) > 50:
            last_text = last_text[:49] + "…"
    tags = list(record.tags or ())
    return {
        "id": record.id,
        "conversation": str(key),
        "platform": key.platform.value,
        "contact": _contact_label(state, record),
        "status": t(f"status.{record.status}") if output_format == "text" else record.status,
        "assignee": record.assignee or "",
        "priority": record.priority,
        "tags": ", ".join(tags) if output_format != "json" else tags,
        "last_message_at": _timestamp(record.last_message_at, output_format),
        "last_text": last_text,
    }


# -- show ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """One message of a thread with its edit history and reactions."""

    message: Message
    original: str | None
    revisions: list[tuple[datetime, str | None]]
    reactions: dict[str, tuple[str, ...]]


def show_command(t: Translator) -> click.Command:
    @click.command(name="show", help=t("show.help"))
    @click.argument("conversation")
    @_moderator_option(t)
    @click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        help=t("opt.format"),
    )
    @click.pass_obj
    def show(state: Context, conversation: str, moderator: str, output_format: str) -> None:
        row = _conversation(t, state, conversation)
        try:
            store = state.store()
            key = workflow.key_of(row)
            messages = store.list_messages(key)
            contact_id = row.contact_user_id or row.chat_id
            contact = store.get_contact(key.platform, key.account_id, contact_id)
            contact_status = store.contact_status(key.platform, key.account_id, contact_id)
            notes = workflow.list_notes(store.engine, row)
            originals = workflow.original_texts(store.engine, row)
            details = [
                _Entry(
                    message=message,
                    original=originals.get(message.key.message_id),
                    revisions=store.revisions(message.key) if message.edit_count else [],
                    reactions=store.reactions(message.key),
                )
                for message in messages
            ]
            workflow.record_view(store.engine, row, moderator)
        except SocialInboxError as error:
            fail(t, error)
        contact_ref = f"{key.platform.value}:{key.account_id}:{contact_id}"
        if output_format == "json":
            echo_json(
                {
                    "id": row.id,
                    "conversation": str(key),
                    "contact": contact_ref,
                    "contact_name": _contact_label(state, row),
                    "contact_status": contact_status.value if contact_status else None,
                    "status": row.status,
                    "assignee": row.assignee,
                    "priority": row.priority,
                    "tags": list(row.tags or ()),
                    "messages": [
                        {
                            **item.message.model_dump(mode="json", exclude={"raw"}),
                            "original_text": item.original,
                            "revisions": [
                                {"edited_at": when.isoformat(), "text": text}
                                for when, text in item.revisions
                            ],
                            "reactions": {
                                actor: list(emojis) for actor, emojis in item.reactions.items()
                            },
                        }
                        for item in details
                    ],
                    "notes": [
                        {
                            "author": note.author,
                            "text": note.text,
                            "created_at": note.created_at.isoformat(),
                        }
                        for note in notes
                    ],
                }
            )
            return
        click.echo(
            t("show.header", number=row.id, conversation=str(key), platform=key.platform.value)
        )
        name = _contact_label(state, row)
        if contact is not None and contact.username:
            name = f"{name} (@{contact.username})"
        click.echo(t("show.contact", name=name, contact=contact_ref))
        click.echo(
            t(
                "show.state",
                status=t(f"status.{row.status}"),
                assignee=row.assignee or "-",
                priority=row.priority,
                tags=", ".join(row.tags or ()) or "-",
            )
        )
        if contact_status is not None and contact_status is not ContactStatus.ACTIVE:
            click.echo(t("show.contact_status", status=t(f"contact_status.{contact_status.value}")))
        click.echo()
        for item in details:
            _echo_message(t, item.message, item.original, item.revisions, item.reactions)
        for note in notes:
            click.echo(
                t(
                    "show.note",
                    author=note.author,
                    at=note.created_at.strftime("%Y-%m-%d %H:%M"),
                    text=note.text,
                )
            )

    return show


def _echo_message(
    t: Translator,
    message: Any,
    original: str | None,
    revisions: list[Any],
    reactions: dict[str, Any],
) -> None:
    arrow = "→" if message.direction is Direction.OUTBOUND else "←"
    when = message.sent_at.strftime("%Y-%m-%d %H:%M")
    who = t(f"direction.{message.direction.value}")
    if message.deleted:
        click.echo(f"{arrow} [{when}] {who}: {t('show.deleted')}")
        return
    text = message.text if message.text is not None else ""
    if not text and not message.attachments:
        # Say what arrived instead of printing an empty line (unsupported
        # content, a call, a service message).
        text = f"[{t('kind.' + message.kind.value)}]"
    click.echo(f"{arrow} [{when}] {who}: {text}".rstrip())
    for attachment in message.attachments:
        label = (
            attachment.file_name or attachment.title or attachment.media_id or attachment.url or ""
        )
        click.echo(
            "    "
            + t(
                "show.attachment",
                type=attachment.type.value,
                name=label,
                status=attachment.status.value,
            )
        )
    if message.edit_count:
        click.echo("    " + t("show.edited", count=message.edit_count))
        click.echo("      " + t("show.original", text=original or ""))
        for when_edited, old_text in revisions:
            click.echo(
                "      "
                + t("show.revision", at=when_edited.strftime("%Y-%m-%d %H:%M"), text=old_text or "")
            )
    for actor, emojis in reactions.items():
        click.echo("    " + t("show.reaction", actor=actor, emojis=" ".join(emojis)))


# -- reply --------------------------------------------------------------------------


def reply_command(t: Translator) -> click.Command:
    @click.command(name="reply", help=t("reply.help"))
    @click.argument("conversation")
    @click.argument("text", required=False)
    @click.option("--template", "template_name", help=t("reply.opt.template"))
    @click.option(
        "--var", "variables", multiple=True, metavar="NAME=VALUE", help=t("reply.opt.var")
    )
    @click.option(
        "--template-lang", type=click.Choice(["tr", "en"]), help=t("reply.opt.template_lang")
    )
    @click.option("--force", is_flag=True, help=t("reply.opt.force"))
    @click.option("--human-agent", is_flag=True, help=t("reply.opt.human_agent"))
    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help=t("opt.config"),
    )
    @_templates_option(t)
    @_moderator_option(t)
    @click.pass_obj
    def reply(
        state: Context,
        conversation: str,
        text: str | None,
        template_name: str | None,
        variables: Sequence[str],
        template_lang: str | None,
        force: bool,
        human_agent: bool,
        config_path: Path | None,
        templates_dir: Path | None,
        moderator: str,
    ) -> None:
        if (text is None) == (template_name is None):
            _stop(t("reply.text_or_template"), 2)
        row = _conversation(t, state, conversation)
        store = state.store()
        key = workflow.key_of(row)
        contact_id = row.contact_user_id or row.chat_id
        try:
            if template_name is not None:
                text = _render_reply(
                    t, state, row, template_name, variables, template_lang, templates_dir
                )
            assert text is not None
            if not force:
                _refuse_if_changed(t, store.engine, row, moderator)
            _refuse_if_ineligible(t, store, row, contact_id, text, human_agent)
            account = _account_for(t, config_path, key.platform, key.account_id)
        except SocialInboxError as error:
            fail(t, error)
        parse_mode = (
            account.options.get("parse_mode") if key.platform is Platform.TELEGRAM else None
        )
        outbound = OutboundMessage(
            conversation=key,
            text=text,
            client_ref=f"cli-{uuid.uuid4().hex}",
            tag="HUMAN_AGENT" if human_agent else None,
        )
        try:
            store.record_send(outbound, author=moderator)
            result = asyncio.run(_send(state, account, outbound, parse_mode))
        except NotEligible as error:
            store.fail_send(outbound.client_ref, str(error))
            _stop(
                t("reply.refused_platform", detail=str(error), allowed=error.allowed or "-"),
                EXIT_NOT_ELIGIBLE,
            )
        except TransportError as error:
            store.fail_send(outbound.client_ref, str(error), status="unknown")
            _stop(t("reply.unknown", detail=str(error), conversation=row.id), EXIT_SEND_FAILED)
        except PlatformError as error:
            store.fail_send(outbound.client_ref, str(error))
            _record_block(store, error)
            _stop(t("reply.failed", detail=str(error), conversation=row.id), EXIT_SEND_FAILED)
        except SocialInboxError as error:
            store.fail_send(outbound.client_ref, str(error))
            fail(t, error)
        store.complete_send(outbound, result)
        workflow.record_view(store.engine, row, moderator)
        click.echo(t("reply.sent", conversation=row.id, ids=", ".join(result.message_ids)))

    return reply


def _render_reply(
    t: Translator,
    state: Context,
    row: Any,
    name: str,
    variables: Sequence[str],
    template_lang: str | None,
    templates_dir: Path | None,
) -> str:
    library = TemplateLibrary(templates_dir)
    template = library.get(name)
    store = state.store()
    key = workflow.key_of(row)
    contact_id = row.contact_user_id or row.chat_id
    contact_row = _contact_row(store.engine, key.platform.value, key.account_id, contact_id)
    language = template_lang
    if language is None:
        code = contact_row.language_code if contact_row is not None else None
        if code:
            language = "tr" if code.lower().startswith("tr") else "en"
        else:
            inbound = [
                m.text
                for m in store.list_messages(key)
                if m.direction is Direction.INBOUND and m.text
            ]
            language = "tr" if not inbound or is_turkish(" ".join(inbound)) else "en"
    if language not in template.texts:
        language = template.languages()[0]
    values = {
        "first_name": first_name_of(contact_row, language),
        "name": _contact_label(state, row),
        "moderator": "",
        "platform": key.platform.value,
    }
    for item in variables:
        if "=" not in item:
            raise click.BadParameter(t("reply.bad_var", value=item), param_hint="--var")
        variable, value = item.split("=", 1)
        values[variable.strip()] = value
    return template.render(language, values)


def _contact_row(engine: Any, platform: str, account_id: str, user_id: str) -> Any:
    import sqlalchemy as sa

    with engine.connect() as connection:
        return connection.execute(
            sa.select(workflow.contacts).where(
                workflow.contacts.c.platform == platform,
                workflow.contacts.c.account_id == account_id,
                workflow.contacts.c.user_id == user_id,
            )
        ).one_or_none()


def _refuse_if_changed(t: Translator, engine: Any, row: Any, moderator: str) -> None:
    change = workflow.changes_since_view(engine, row, moderator)
    if change.viewed_at is None:
        _stop(t("reply.not_viewed", conversation=row.id), EXIT_CHANGED)
    if change.new_inbound or change.new_replies:
        _stop(
            t(
                "reply.changed",
                conversation=row.id,
                inbound=change.new_inbound,
                replies=change.new_replies,
            ),
            EXIT_CHANGED,
        )


def _refuse_if_ineligible(
    t: Translator, store: Any, row: Any, contact_id: str, text: str, human_agent: bool
) -> None:
    key = workflow.key_of(row)
    status = store.contact_status(key.platform, key.account_id, contact_id)
    if status is ContactStatus.BLOCKED_US:
        _stop(t("reply.refused_blocked", conversation=row.id), EXIT_NOT_ELIGIBLE)
    if status is ContactStatus.OPTED_OUT:
        _stop(t("reply.refused_opted_out", conversation=row.id), EXIT_NOT_ELIGIBLE)
    if key.platform not in {Platform.MESSENGER, Platform.INSTAGRAM}:
        return
    from socialinbox.adapters.meta.eligibility import HUMAN_AGENT, POLICIES, check_send

    now = utc_now()
    try:
        check_send(
            key.platform,
            last_inbound_at=row.last_inbound_at,
            now=now,
            text=text,
            tag=HUMAN_AGENT if human_agent else None,
        )
    except NotEligible as error:
        policy = POLICIES[key.platform]
        if "limit" in str(error):
            _stop(
                t(
                    "reply.refused_length",
                    limit=policy.text_limit,
                    unit=t(f"unit.{policy.text_unit}"),
                ),
                EXIT_NOT_ELIGIBLE,
            )
        alternatives = []
        human_window = policy.tag_windows.get(HUMAN_AGENT)
        if row.last_inbound_at is not None and human_window is not None and not human_agent:
            until = row.last_inbound_at + human_window
            if now <= until:
                alternatives.append(
                    t("reply.allowed_human_agent", until=until.strftime("%Y-%m-%d %H:%M UTC"))
                )
        alternatives.append(t("reply.allowed_wait"))
        _stop(
            t(
                "reply.refused_window",
                platform=key.platform.value,
                hours=int(policy.standard_window.total_seconds() // 3600),
                allowed="; ".join(alternatives),
            ),
            EXIT_NOT_ELIGIBLE,
        )


def _account_for(
    t: Translator, config_path: Path | None, platform: Platform, account_id: str
) -> Any:
    from socialinbox.config import load_settings

    settings = load_settings(config_path)
    candidates = [
        account for account in settings.accounts if account.platform is platform and account.enabled
    ]
    exact = [account for account in candidates if account.account_id == account_id]
    if exact:
        return exact[0]
    unnamed = [account for account in candidates if account.account_id is None]
    if platform is Platform.TELEGRAM:
        # A Telegram bot's id is the part of its token before the colon.
        unnamed = [
            account
            for account in unnamed
            if account.token is not None
            and account.token.get_secret_value().split(":", 1)[0] == account_id
        ] or unnamed
    if len(unnamed) == 1:
        return unnamed[0]
    _stop(t("reply.no_account", platform=platform.value, account=account_id), EXIT_NOT_FOUND)


async def _send(
    state: Context, account: Any, outbound: OutboundMessage, parse_mode: str | None
) -> Any:
    from socialinbox.daemon.factory import build_adapter
    from socialinbox.store import AsyncStore, Store

    async_store = AsyncStore(Store.open(state.database_url, migrate=False))
    try:
        adapter = build_adapter(account, async_store)
        try:
            wire = outbound.model_copy(update={"text": escape_for(outbound.text or "", parse_mode)})
            return await adapter.send(wire)
        finally:
            await adapter.close()
    finally:
        await async_store.close()


def _record_block(store: Any, error: PlatformError) -> None:
    """Ingest the contact status a Telegram ``BotBlocked`` error carries, if any."""
    event = getattr(error, "contact_status", None)
    if event is not None:
        from socialinbox.model import Batch

        store.ingest(Batch(items=(event,)))


# -- workflow state -----------------------------------------------------------------


def assign_command(t: Translator) -> click.Command:
    @click.command(name="assign", help=t("assign.help"))
    @click.argument("conversation")
    @click.argument("assignee", required=False)
    @click.option("--none", "unassign", is_flag=True, help=t("assign.opt.none"))
    @click.pass_obj
    def assign(state: Context, conversation: str, assignee: str | None, unassign: bool) -> None:
        if (assignee is None) == (not unassign):
            _stop(t("assign.usage"), 2)
        row = _conversation(t, state, conversation)
        try:
            workflow.update_conversation(
                state.store().engine, row.id, assignee=None if unassign else assignee
            )
        except SocialInboxError as error:
            fail(t, error)
        if unassign:
            click.echo(t("assign.cleared", conversation=row.id))
        else:
            click.echo(t("assign.done", conversation=row.id, assignee=assignee))

    return assign


def tag_command(t: Translator) -> click.Command:
    @click.command(name="tag", help=t("tag.help"))
    @click.argument("conversation")
    @click.argument("tags", nargs=-1, required=True)
    @click.option("--remove", is_flag=True, help=t("tag.opt.remove"))
    @click.pass_obj
    def tag(state: Context, conversation: str, tags: Sequence[str], remove: bool) -> None:
        row = _conversation(t, state, conversation)
        current = list(row.tags or ())
        if remove:
            current = [item for item in current if item not in tags]
        else:
            current.extend(item for item in tags if item not in current)
        try:
            workflow.update_conversation(state.store().engine, row.id, tags=current)
        except SocialInboxError as error:
            fail(t, error)
        click.echo(t("tag.done", conversation=row.id, tags=", ".join(current) or "-"))

    return tag


def _status_command(t: Translator, name: str, status: str) -> click.Command:
    @click.command(name=name, help=t(f"{name}.help"))
    @click.argument("conversation")
    @click.pass_obj
    def change(state: Context, conversation: str) -> None:
        row = _conversation(t, state, conversation)
        try:
            workflow.update_conversation(state.store().engine, row.id, status=status)
        except SocialInboxError as error:
            fail(t, error)
        click.echo(t(f"{name}.done", conversation=row.id))

    return change


def close_command(t: Translator) -> click.Command:
    return _status_command(t, "close", "closed")


def reopen_command(t: Translator) -> click.Command:
    return _status_command(t, "reopen", "open")


def note_command(t: Translator) -> click.Command:
    @click.command(name="note", help=t("note.help"))
    @click.argument("conversation")
    @click.argument("text")
    @_moderator_option(t)
    @click.pass_obj
    def note(state: Context, conversation: str, text: str, moderator: str) -> None:
        row = _conversation(t, state, conversation)
        try:
            workflow.add_note(state.store().engine, row, moderator, text)
        except SocialInboxError as error:
            fail(t, error)
        click.echo(t("note.done", conversation=row.id))

    return note


# -- contacts -----------------------------------------------------------------------


def contact_group(t: Translator) -> click.Group:
    @click.group(name="contact", help=t("contact.help"))
    def contact() -> None:
        pass

    def refs(state: Context, first: str, second: str) -> tuple[ContactRef, ContactRef]:
        try:
            parsed = (ContactRef.parse(first), ContactRef.parse(second))
            for ref in parsed:
                if not workflow.contact_exists(state.store().engine, ref):
                    _stop(t("contact.not_found", contact=str(ref)), EXIT_NOT_FOUND)
        except SocialInboxError as error:
            fail(t, error)
        return parsed

    @contact.command(name="link", help=t("contact.link.help"))
    @click.argument("first")
    @click.argument("second")
    @click.option("--reason", required=True, help=t("contact.opt.reason"))
    @_moderator_option(t)
    @click.pass_obj
    def link(state: Context, first: str, second: str, reason: str, moderator: str) -> None:
        a, b = refs(state, first, second)
        try:
            created = workflow.link_contacts(
                state.store().engine, a, b, by=moderator, reason=reason
            )
        except SocialInboxError as error:
            fail(t, error)
        click.echo(
            t(
                "contact.linked" if created else "contact.already_linked",
                first=str(a),
                second=str(b),
            )
        )

    @contact.command(name="unlink", help=t("contact.unlink.help"))
    @click.argument("first")
    @click.argument("second")
    @click.option("--reason", required=True, help=t("contact.opt.reason"))
    @_moderator_option(t)
    @click.pass_obj
    def unlink(state: Context, first: str, second: str, reason: str, moderator: str) -> None:
        a, b = refs(state, first, second)
        try:
            removed = workflow.unlink_contacts(
                state.store().engine, a, b, by=moderator, reason=reason
            )
        except SocialInboxError as error:
            fail(t, error)
        if not removed:
            _stop(t("contact.not_linked", first=str(a), second=str(b)), EXIT_NOT_FOUND)
        click.echo(t("contact.unlinked", first=str(a), second=str(b)))

    @contact.command(name="show", help=t("contact.show.help"))
    @click.argument("contact_ref")
    @format_option(t)
    @click.pass_obj
    def show(state: Context, contact_ref: str, output_format: str) -> None:
        try:
            ref = ContactRef.parse(contact_ref)
            linked = workflow.linked_contacts(state.store().engine, ref)
        except SocialInboxError as error:
            fail(t, error)
        if not linked and output_format == "text":
            click.echo(t("contact.no_links", contact=str(ref)))
            return
        rows = [
            {
                "contact": str(other),
                "linked_by": link_row.linked_by,
                "reason": link_row.reason,
                "created_at": link_row.created_at.isoformat(),
            }
            for other, link_row in linked
        ]
        render_listing(
            rows,
            [
                ("contact", t("col.contact")),
                ("linked_by", t("col.linked_by")),
                ("reason", t("col.reason")),
                ("created_at", t("col.time")),
            ],
            output_format,
        )

    return contact


def erase_command(t: Translator) -> click.Command:
    @click.command(name="erase", help=t("erase.help"))
    @click.argument("contact_ref", metavar="CONTACT")
    @click.option("--yes", is_flag=True, help=t("erase.opt.yes"))
    @click.pass_obj
    def erase(state: Context, contact_ref: str, yes: bool) -> None:
        try:
            ref = ContactRef.parse(contact_ref)
            if not workflow.contact_exists(state.store().engine, ref):
                _stop(t("contact.not_found", contact=str(ref)), EXIT_NOT_FOUND)
            if not yes:
                _stop(t("erase.confirm", contact=str(ref)), 2)
            counts = workflow.erase_contact(state.store().engine, ref)
        except SocialInboxError as error:
            fail(t, error)
        click.echo(t("erase.done", contact=str(ref), **counts))

    return erase


# -- templates ----------------------------------------------------------------------


def templates_group(t: Translator) -> click.Group:
    @click.group(name="templates", help=t("templates.help"))
    def templates() -> None:
        pass

    @templates.command(name="list", help=t("templates.list.help"))
    @_templates_option(t)
    @format_option(t)
    def list_templates(templates_dir: Path | None, output_format: str) -> None:
        try:
            found = TemplateLibrary(templates_dir).all()
        except TemplateError as error:
            fail(t, error)
        if not found and output_format == "text":
            click.echo(t("templates.empty"))
            return
        rows = [
            {
                "name": template.name,
                "title": template.title(t.language),
                "languages": ", ".join(template.languages()),
                "variables": ", ".join(template.variables()),
            }
            for template in found
        ]
        render_listing(
            rows,
            [
                ("name", t("col.name")),
                ("title", t("col.title")),
                ("languages", t("col.languages")),
                ("variables", t("col.variables")),
            ],
            output_format,
        )

    @templates.command(name="show", help=t("templates.show.help"))
    @click.argument("name")
    @click.option(
        "--template-lang", type=click.Choice(["tr", "en"]), help=t("reply.opt.template_lang")
    )
    @click.option(
        "--var", "variables", multiple=True, metavar="NAME=VALUE", help=t("reply.opt.var")
    )
    @_templates_option(t)
    def show_template(
        name: str, template_lang: str | None, variables: Sequence[str], templates_dir: Path | None
    ) -> None:
        try:
            template = TemplateLibrary(templates_dir).get(name)
        except TemplateError as error:
            _stop(t("templates.not_found", detail=str(error)), EXIT_NOT_FOUND)
        language = template_lang or t.language
        if language not in template.texts:
            language = template.languages()[0]
        values = {variable: "{" + variable + "}" for variable in template.variables()}
        for item in variables:
            if "=" not in item:
                raise click.BadParameter(t("reply.bad_var", value=item), param_hint="--var")
            variable, value = item.split("=", 1)
            values[variable.strip()] = value
        try:
            text = template.render(language, values)
        except (TemplateError, ValueError) as error:
            _stop(t("templates.not_found", detail=str(error)), EXIT_FAILURE)
        click.echo(
            t(
                "templates.heading",
                name=template.name,
                title=template.title(language),
                language=language,
            )
        )
        click.echo(text)

    return templates


# -- rules --------------------------------------------------------------------------


def rules_group(t: Translator) -> click.Group:
    @click.group(name="rules", help=t("rules.help"))
    def rules() -> None:
        pass

    @rules.command(name="test", help=t("rules.test.help"))
    @click.argument("text")
    @click.option(
        "--rules",
        "rules_path",
        envvar="SOCIALINBOX_RULES",
        type=click.Path(dir_okay=False, path_type=Path),
        help=t("rules.opt.rules"),
    )
    @click.option("--platform", type=click.Choice(_PLATFORMS), help=t("rules.opt.platform"))
    @click.option("--language", type=click.Choice(["tr", "en"]), help=t("rules.opt.language"))
    @click.option("--contact-tag", "contact_tags", multiple=True, help=t("rules.opt.contact_tag"))
    @click.option("--first/--not-first", "first", default=None, help=t("rules.opt.first"))
    @_templates_option(t)
    @format_option(t)
    def test(
        text: str,
        rules_path: Path | None,
        platform: str | None,
        language: str | None,
        contact_tags: Sequence[str],
        first: bool | None,
        templates_dir: Path | None,
        output_format: str,
    ) -> None:
        path = rules_path or example_rules_path()
        try:
            ruleset = load_rules(path, templates=TemplateLibrary(templates_dir))
        except RulesError as error:
            _stop(t("rules.invalid", detail=str(error)), 2)
        facts = Facts(
            text=text,
            platform=Platform(platform) if platform else None,
            language=language,
            contact_tags=frozenset(contact_tags),
            first_message=first,
        )
        matches = evaluate(ruleset, facts)
        rows = [
            {
                "rule": found.rule.name,
                "reasons": [
                    {"kind": reason.kind, "value": reason.value} for reason in found.reasons
                ]
                if output_format == "json"
                else "; ".join(
                    t(f"rules.reason.{reason.kind}", value=reason.value) for reason in found.reasons
                ),
                "actions": found.rule.actions.model_dump(mode="json", exclude_defaults=True)
                if output_format == "json"
                else _describe_actions(
                    t, found.rule.actions.model_dump(mode="json", exclude_defaults=True)
                ),
            }
            for found in matches
        ]
        if output_format == "text":
            click.echo(t("rules.source", path=str(path), count=len(ruleset.rules)))
            if not matches:
                click.echo(t("rules.no_match"))
                return
        render_listing(
            rows,
            [("rule", t("col.rule")), ("reasons", t("col.why")), ("actions", t("col.actions"))],
            output_format,
        )

    return rules


def _describe_actions(t: Translator, actions: dict[str, Any]) -> str:
    parts = []
    for name, value in actions.items():
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        parts.append(t(f"rules.action.{name}", value=value))
    return "; ".join(parts)


# -- faq and stats ------------------------------------------------------------------


def faq_group(t: Translator) -> click.Group:
    @click.group(name="faq", help=t("faq.help"))
    def faq() -> None:
        pass

    @faq.command(name="suggest", help=t("faq.suggest.help"))
    @click.option("--days", type=int, default=7, show_default=True, help=t("faq.opt.days"))
    @click.option("--limit", type=int, default=10, show_default=True, help=t("faq.opt.limit"))
    @click.option(
        "--min-count", type=int, default=2, show_default=True, help=t("faq.opt.min_count")
    )
    @_templates_option(t)
    @format_option(t)
    @click.pass_obj
    def suggest(
        state: Context,
        days: int,
        limit: int,
        min_count: int,
        templates_dir: Path | None,
        output_format: str,
    ) -> None:
        try:
            library = TemplateLibrary(templates_dir).all()
            groups = workflow.faq_groups(
                state.store().engine, utc_now() - timedelta(days=days), templates=library
            )
        except SocialInboxError as error:
            fail(t, error)
        groups = [group for group in groups if len(group.texts) >= min_count][:limit]
        if not groups and output_format == "text":
            click.echo(t("faq.empty", days=days, min_count=min_count))
            return
        rows = [
            {
                "count": len(group.texts),
                "conversations": len(group.conversations),
                "examples": group.texts[:3]
                if output_format == "json"
                else " | ".join(" ".join(text.split())[:60] for text in group.texts[:2]),
                "template": group.template
                or ("" if output_format != "text" else t("faq.no_template")),
            }
            for group in groups
        ]
        render_listing(
            rows,
            [
                ("count", t("col.count")),
                ("conversations", t("col.conversations")),
                ("examples", t("col.examples")),
                ("template", t("col.template")),
            ],
            output_format,
        )

    return faq


def stats_command(t: Translator) -> click.Command:
    @click.command(name="stats", help=t("stats.help"))
    @click.option("--days", type=int, default=7, show_default=True, help=t("stats.opt.days"))
    @format_option(t)
    @click.pass_obj
    def stats(state: Context, days: int, output_format: str) -> None:
        try:
            result = workflow.compute_stats(state.store().engine, utc_now() - timedelta(days=days))
        except SocialInboxError as error:
            fail(t, error)
        volume = [
            {
                "platform": platform,
                "day": day,
                "inbound": counts["inbound"],
                "outbound": counts["outbound"],
            }
            for (platform, day), counts in sorted(result.volume.items())
        ]
        median, p90 = result.median(), result.percentile(0.9)
        oldest = result.oldest_waiting
        if output_format == "json":
            echo_json(
                {
                    "volume": volume,
                    "first_response_seconds": {
                        "count": len(result.response_times),
                        "median": median.total_seconds() if median else None,
                        "p90": p90.total_seconds() if p90 else None,
                    },
                    "open_backlog": result.open_backlog,
                    "oldest_waiting": {"conversation": oldest[0].id, "since": oldest[1].isoformat()}
                    if oldest
                    else None,
                }
            )
            return
        render_listing(
            volume,
            [
                ("platform", t("col.platform")),
                ("day", t("col.day")),
                ("inbound", t("col.inbound")),
                ("outbound", t("col.outbound")),
            ],
            output_format,
            title=t("stats.volume_title") if output_format == "text" else None,
        )
        if output_format != "text":
            return
        click.echo(
            t(
                "stats.first_response",
                count=len(result.response_times),
                median=_duration(median),
                p90=_duration(p90),
            )
        )
        click.echo(t("stats.backlog", count=result.open_backlog))
        if oldest is not None:
            waited = utc_now() - oldest[1]
            click.echo(
                t(
                    "stats.oldest",
                    conversation=oldest[0].id,
                    since=oldest[1].strftime("%Y-%m-%d %H:%M"),
                    waited=_duration(waited),
                )
            )

    return stats


for _factory in (
    inbox_command,
    show_command,
    reply_command,
    assign_command,
    tag_command,
    close_command,
    reopen_command,
    note_command,
    contact_group,
    erase_command,
    templates_group,
    rules_group,
    faq_group,
    stats_command,
):
    register_command(_factory)
