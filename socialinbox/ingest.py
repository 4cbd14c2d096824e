"""The deduplicating ingest pipeline.

:func:`ingest_batch` writes one :class:`~socialinbox.model.Batch` in a single
database transaction: accounts, contacts, conversations, new messages, events,
their outbox rows, quarantine and ignored records, and the poll cursor that
covered them. A crash before the commit loses the whole step, so the cursor
never runs ahead of the data.

Every write is idempotent and commutative, so replaying batches any number of
times in any order leaves the same store:

* messages are inserted with ``ON CONFLICT DO NOTHING`` on their canonical key;
* events are keyed by a hash of their content and inserted the same way;
* derived state (current text after edits, tombstones, reactions, contact
  profile and status, conversation times) is recomputed from the stored facts
  or merged with order-independent rules. The latest timestamp wins, and ties
  are broken by a stable key, so the last write does not decide.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from socialinbox.model import (
    Batch,
    Contact,
    ContactStatusEvent,
    DeleteEvent,
    DeliveryEvent,
    Direction,
    EditEvent,
    Event,
    Item,
    Message,
    MessageKey,
    NoticeEvent,
    ParticipantEvent,
    Platform,
    PostbackEvent,
    ReactionEvent,
    ReadEvent,
    utc_now,
)
from socialinbox.optout import detect_opt_out
from socialinbox.store.codec import (
    attachments_to_json,
    created_event_key,
    erase_attachments,
    message_payload,
    message_to_row,
)
from socialinbox.store.results import CursorUpdate, IngestResult
from socialinbox.store.tables import (
    AccountRow,
    ContactRow,
    ConversationRow,
    CursorRow,
    EventRow,
    IgnoredRow,
    MessageRow,
    OutboxRow,
    QuarantineRow,
    ReactionRow,
    RevisionRow,
    table_of,
)

__all__ = ["CursorUpdate", "IngestResult", "ingest_batch"]

logger = logging.getLogger(__name__)

_CHUNK = 500
"""Rows per IN (...) lookup; stays under SQLite's default host-parameter limit."""

accounts = table_of(AccountRow)
contacts = table_of(ContactRow)
conversations = table_of(ConversationRow)
messages = table_of(MessageRow)
revisions = table_of(RevisionRow)
reactions = table_of(ReactionRow)
events = table_of(EventRow)
cursors = table_of(CursorRow)
outbox = table_of(OutboxRow)
quarantine = table_of(QuarantineRow)
ignored = table_of(IgnoredRow)

_TargetKey = tuple[str, str, str, str]
_ConversationTuple = tuple[str, str, str]


def _insert(connection: sa.Connection, table: sa.Table) -> Any:
    """Return a dialect-specific INSERT that supports ON CONFLICT."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _greatest(current: Any, incoming: Any) -> Any:
    """SQL for the later of two nullable timestamps, the same on SQLite and PostgreSQL."""
    return sa.case(
        (current.is_(None), incoming),
        (incoming.is_(None), current),
        (incoming > current, incoming),
        else_=current,
    )


def _least(current: Any, incoming: Any) -> Any:
    return sa.case(
        (current.is_(None), incoming),
        (incoming.is_(None), current),
        (incoming < current, incoming),
        else_=current,
    )


def _max_time(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None:
        return second
    if second is None:
        return first
    return max(first, second)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _target(key: MessageKey) -> _TargetKey:
    return (key.platform.value, key.account_id, key.chat_id, key.message_id)


def _event_payload(item: Item) -> dict[str, Any]:
    return item.model_dump(mode="json", exclude={"raw"})


def ingest_batch(
    connection: sa.Connection,
    batch: Batch,
    cursor: CursorUpdate | None = None,
    *,
    emit_outbox: bool = True,
) -> IngestResult:
    """Write ``batch`` and ``cursor`` through ``connection``.

    The caller owns the transaction: everything written here commits or rolls
    back together. With ``emit_outbox=False`` no outbox rows are written (for
    history imports that must not reach the CRM sinks).
    """
    result = IngestResult()
    now = utc_now()

    # A message that is only an opt-out keyword (DURDUR, STOP, ...) also
    # changes the contact's status, so announcements skip them from now on.
    opt_outs = [
        event
        for item in batch.items
        if isinstance(item, Message) and (event := detect_opt_out(item)) is not None
    ]

    message_items: dict[_TargetKey, Message] = {}
    event_items: dict[str, Event] = {}
    for item in (*batch.items, *opt_outs):
        if isinstance(item, Message):
            target = _target(item.key)
            if target in message_items:
                result.duplicates += 1
                continue
            message_items[target] = item
        else:
            identity = item.identity()
            if identity in event_items:
                result.event_duplicates += 1
                continue
            event_items[identity] = item

    _write_accounts(connection, batch, message_items.values(), event_items.values())
    _write_contacts(connection, message_items.values(), event_items.values())
    conversation_ids = _write_conversations(
        connection, message_items.values(), event_items.values()
    )
    new_targets = _write_messages(connection, message_items, conversation_ids, result)
    if emit_outbox:
        _write_message_outbox(connection, message_items, new_targets, now, result)
    touched = _write_events(connection, event_items, now, result, emit_outbox=emit_outbox)
    touched |= _link_pending_events(connection, new_targets)
    for target in sorted(touched):
        _recompute_message(connection, target)

    _write_quarantine(connection, batch, now, result)
    _write_ignored(connection, batch, now, result)
    if cursor is not None:
        _write_cursor(connection, cursor, now)

    logger.debug(
        "ingested batch: %d stored, %d duplicates, %d events, %d ignored, %d quarantined",
        result.messages_stored,
        result.duplicates,
        result.events,
        result.ignored,
        result.quarantined,
    )
    return result


def _write_accounts(
    connection: sa.Connection,
    batch: Batch,
    message_items: Iterable[Message],
    event_items: Iterable[Event],
) -> None:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for account in batch.accounts:
        rows[(account.platform.value, account.account_id)] = {
            "platform": account.platform.value,
            "account_id": account.account_id,
            "username": account.username,
            "display_name": account.display_name,
        }
    seen: set[tuple[str, str]] = set()
    for message in message_items:
        seen.add((message.key.platform.value, message.key.account_id))
    for item in event_items:
        platform, account_id = _event_account(item)
        seen.add((platform, account_id))
    for platform, account_id in seen:
        rows.setdefault(
            (platform, account_id),
            {
                "platform": platform,
                "account_id": account_id,
                "username": None,
                "display_name": None,
            },
        )
    if not rows:
        return
    statement = _insert(connection, accounts)
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "account_id"],
        set_={
            "username": sa.func.coalesce(statement.excluded.username, accounts.c.username),
            "display_name": sa.func.coalesce(
                statement.excluded.display_name, accounts.c.display_name
            ),
        },
    )
    connection.execute(
        statement, sorted(rows.values(), key=lambda row: (row["platform"], row["account_id"]))
    )


def _event_account(item: Event) -> tuple[str, str]:
    if isinstance(item, EditEvent | DeleteEvent | ReactionEvent):
        return item.target.platform.value, item.target.account_id
    if isinstance(item, ReadEvent | DeliveryEvent | PostbackEvent | ParticipantEvent):
        return item.conversation.platform.value, item.conversation.account_id
    if isinstance(item, ContactStatusEvent):
        return item.contact.platform.value, item.account_id
    if isinstance(item, NoticeEvent):
        return item.platform.value, item.account_id
    raise TypeError(f"not an event: {type(item).__name__}")


def _contact_row(contact: Contact, account_id: str, seen_at: datetime) -> dict[str, Any]:
    return {
        "platform": contact.platform.value,
        "account_id": account_id,
        "user_id": contact.user_id,
        "username": contact.username,
        "display_name": contact.display_name,
        "language_code": contact.language_code,
        "is_bot": contact.is_bot,
        "profile_seen_at": seen_at,
        "tags": [],
    }


def _write_contacts(
    connection: sa.Connection, message_items: Iterable[Message], event_items: Iterable[Event]
) -> None:
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}

    def offer(contact: Contact, account_id: str, seen_at: datetime) -> None:
        key = (contact.platform.value, account_id, contact.user_id)
        row = _contact_row(contact, account_id, seen_at)
        current = rows.get(key)
        # Keep the newest profile; on a tie, the larger serialized profile wins so
        # the outcome does not depend on batch order.
        if current is None or (seen_at, repr(sorted(row.items()))) > (
            current["profile_seen_at"],
            repr(sorted(current.items())),
        ):
            rows[key] = row

    for message in message_items:
        # Outbound senders are our own account, not contacts.
        if message.sender is not None and message.direction is Direction.INBOUND:
            offer(message.sender, message.key.account_id, message.sent_at)
    for item in event_items:
        if isinstance(item, PostbackEvent):
            offer(item.sender, item.conversation.account_id, item.occurred_at)
        elif isinstance(item, ContactStatusEvent):
            offer(item.contact, item.account_id, item.occurred_at)
    if rows:
        statement = _insert(connection, contacts)
        newer = sa.or_(
            contacts.c.profile_seen_at.is_(None),
            statement.excluded.profile_seen_at >= contacts.c.profile_seen_at,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["platform", "account_id", "user_id"],
            set_={
                name: sa.case(
                    (newer, sa.func.coalesce(statement.excluded[name], contacts.c[name])),
                    else_=sa.func.coalesce(contacts.c[name], statement.excluded[name]),
                )
                for name in ("username", "display_name", "language_code", "is_bot")
            }
            | {
                "profile_seen_at": _greatest(
                    contacts.c.profile_seen_at, statement.excluded.profile_seen_at
                )
            },
        )
        statement = statement.returning(contacts.c.id)
        for chunk in _chunks(
            sorted(
                rows.values(), key=lambda row: (row["platform"], row["account_id"], row["user_id"])
            ),
            2000,
        ):
            connection.execute(statement, list(chunk)).all()

    for item in event_items:
        if isinstance(item, ContactStatusEvent):
            _write_contact_status(connection, item)


def _write_contact_status(connection: sa.Connection, item: ContactStatusEvent) -> None:
    """Record a status change unless a later one is already stored."""
    condition = sa.and_(
        contacts.c.platform == item.contact.platform.value,
        contacts.c.account_id == item.account_id,
        contacts.c.user_id == item.contact.user_id,
        sa.or_(
            contacts.c.status_changed_at.is_(None),
            contacts.c.status_changed_at < item.occurred_at,
            sa.and_(
                contacts.c.status_changed_at == item.occurred_at,
                contacts.c.status < item.status.value,
            ),
        ),
    )
    connection.execute(
        contacts.update()
        .where(condition)
        .values(
            status=item.status.value,
            status_reason=item.reason,
            status_changed_at=item.occurred_at,
        )
    )


def _write_conversations(
    connection: sa.Connection, message_items: Iterable[Message], event_items: Iterable[Event]
) -> dict[_ConversationTuple, int]:
    rows: dict[_ConversationTuple, dict[str, Any]] = {}

    def row_for(platform: str, account_id: str, chat_id: str) -> dict[str, Any]:
        key = (platform, account_id, chat_id)
        if key not in rows:
            rows[key] = {
                "platform": platform,
                "account_id": account_id,
                "chat_id": chat_id,
                "is_group": False,
                "title": None,
                "contact_user_id": None,
                "first_message_at": None,
                "last_message_at": None,
                "last_inbound_at": None,
                "last_read_at": None,
                "tags": [],
            }
        return rows[key]

    for message in message_items:
        key = message.key
        row = row_for(key.platform.value, key.account_id, key.chat_id)
        row["is_group"] = row["is_group"] or message.is_group
        previous_last = row["last_message_at"]
        if message.chat_title is not None and (
            previous_last is None
            or message.sent_at > previous_last
            or (message.sent_at == previous_last and message.chat_title > (row["title"] or ""))
        ):
            row["title"] = message.chat_title
        row["last_message_at"] = _max_time(previous_last, message.sent_at)
        first = row["first_message_at"]
        row["first_message_at"] = message.sent_at if first is None else min(first, message.sent_at)
        if message.direction.value == "inbound":
            row["last_inbound_at"] = _max_time(row["last_inbound_at"], message.sent_at)
            if not message.is_group and message.sender is not None:
                current = row["contact_user_id"]
                candidate = message.sender.user_id
                row["contact_user_id"] = candidate if current is None else min(current, candidate)

    for item in event_items:
        if isinstance(item, ReactionEvent) and item.emojis and item.actor_id == item.target.chat_id:
            # A one-to-one chat's id is the contact's id, so this is the contact
            # reacting; like any inbound interaction it opens the Meta window.
            target = item.target
            row = row_for(target.platform.value, target.account_id, target.chat_id)
            row["last_inbound_at"] = _max_time(row["last_inbound_at"], item.occurred_at)
        if isinstance(item, ReadEvent | DeliveryEvent | PostbackEvent | ParticipantEvent):
            conversation = item.conversation
            row = row_for(
                conversation.platform.value, conversation.account_id, conversation.chat_id
            )
            if isinstance(item, PostbackEvent):
                # Any inbound interaction opens the messaging window on Meta platforms.
                row["last_inbound_at"] = _max_time(row["last_inbound_at"], item.occurred_at)
            if isinstance(item, ReadEvent):
                read_at = item.watermark or item.occurred_at
                row["last_read_at"] = _max_time(row["last_read_at"], read_at)
            if isinstance(item, ParticipantEvent):
                row["is_group"] = True

    if not rows:
        return {}

    statement = _insert(connection, conversations)
    excluded = statement.excluded
    table = conversations.c
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "account_id", "chat_id"],
        set_={
            "is_group": sa.or_(table.is_group, excluded.is_group),
            "title": sa.case(
                (
                    sa.and_(
                        excluded.title.is_not(None),
                        sa.or_(
                            table.last_message_at.is_(None),
                            excluded.last_message_at > table.last_message_at,
                            sa.and_(
                                excluded.last_message_at == table.last_message_at,
                                excluded.title > sa.func.coalesce(table.title, ""),
                            ),
                        ),
                    ),
                    excluded.title,
                ),
                else_=table.title,
            ),
            "contact_user_id": sa.case(
                (table.contact_user_id.is_(None), excluded.contact_user_id),
                (excluded.contact_user_id.is_(None), table.contact_user_id),
                (excluded.contact_user_id < table.contact_user_id, excluded.contact_user_id),
                else_=table.contact_user_id,
            ),
            "first_message_at": _least(table.first_message_at, excluded.first_message_at),
            "last_message_at": _greatest(table.last_message_at, excluded.last_message_at),
            "last_inbound_at": _greatest(table.last_inbound_at, excluded.last_inbound_at),
            "last_read_at": _greatest(table.last_read_at, excluded.last_read_at),
        },
    )
    # RETURNING makes SQLAlchemy send many rows per statement ("insertmanyvalues"),
    # which is much faster than executemany, and hands back the ids in one go.
    statement = statement.returning(table.id, table.platform, table.account_id, table.chat_id)
    ids: dict[_ConversationTuple, int] = {}
    ordered = sorted(rows)
    for chunk in _chunks(ordered, 2000):
        for found in connection.execute(statement, [rows[key] for key in chunk]):
            ids[(found.platform, found.account_id, found.chat_id)] = found.id
    return ids


def _write_messages(
    connection: sa.Connection,
    message_items: dict[_TargetKey, Message],
    conversation_ids: dict[_ConversationTuple, int],
    result: IngestResult,
) -> set[_TargetKey]:
    if not message_items:
        return set()
    rows = [
        message_to_row(message, conversation_ids[target[:3]])
        for target, message in message_items.items()
    ]
    statement = (
        _insert(connection, messages)
        .on_conflict_do_nothing(index_elements=["platform", "account_id", "chat_id", "message_id"])
        .returning(
            messages.c.platform, messages.c.account_id, messages.c.chat_id, messages.c.message_id
        )
    )
    new_targets: set[_TargetKey] = set()
    for chunk in _chunks(rows, 2000):
        for row in connection.execute(statement, list(chunk)):
            new_targets.add((row.platform, row.account_id, row.chat_id, row.message_id))

    # An echo of our own send may carry the send reference the stored copy lacks.
    for target, message in message_items.items():
        if target not in new_targets and message.client_ref is not None:
            connection.execute(
                messages.update()
                .where(_message_where(target), messages.c.client_ref.is_(None))
                .values(client_ref=message.client_ref)
            )

    result.messages_stored += len(new_targets)
    result.duplicates += len(message_items) - len(new_targets)
    result.stored.extend(
        message_items[target].key for target in message_items if target in new_targets
    )
    return new_targets


def _message_where(target: _TargetKey) -> Any:
    platform, account_id, chat_id, message_id = target
    return sa.and_(
        messages.c.platform == platform,
        messages.c.account_id == account_id,
        messages.c.chat_id == chat_id,
        messages.c.message_id == message_id,
    )


def _write_message_outbox(
    connection: sa.Connection,
    message_items: dict[_TargetKey, Message],
    new_targets: set[_TargetKey],
    now: datetime,
    result: IngestResult,
) -> None:
    if not new_targets:
        return
    rows = []
    for target, message in message_items.items():
        if target not in new_targets:
            continue
        rows.append(
            {
                "event_key": created_event_key(message.key),
                "kind": "message.created",
                "platform": target[0],
                "account_id": target[1],
                "chat_id": target[2],
                "payload": {"message": message_payload(message)},
                "created_at": now,
            }
        )
    statement = (
        _insert(connection, outbox)
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(outbox.c.id)
    )
    for chunk in _chunks(rows, 2000):
        connection.execute(statement, list(chunk)).all()
    result.outbox += len(rows)


def _write_events(
    connection: sa.Connection,
    event_items: dict[str, Event],
    now: datetime,
    result: IngestResult,
    *,
    emit_outbox: bool = True,
) -> set[_TargetKey]:
    """Store new events, apply their effects, and return message keys to recompute."""
    if not event_items:
        return set()

    targets = {
        _target(item.target)
        for item in event_items.values()
        if isinstance(item, EditEvent | DeleteEvent | ReactionEvent)
    }
    existing = _existing_targets(connection, targets)

    rows = []
    for identity, item in sorted(event_items.items()):
        platform, account_id = _event_account(item)
        chat_id: str | None = None
        message_id: str | None = None
        actor_id: str | None = None
        linked = True
        if isinstance(item, EditEvent | DeleteEvent | ReactionEvent):
            chat_id, message_id = item.target.chat_id, item.target.message_id
            linked = _target(item.target) in existing
        elif isinstance(item, ReadEvent | DeliveryEvent | PostbackEvent | ParticipantEvent):
            chat_id = item.conversation.chat_id
        if isinstance(item, ReactionEvent):
            actor_id = item.actor_id
        elif isinstance(item, ContactStatusEvent):
            actor_id = item.contact.user_id
        rows.append(
            {
                "event_key": identity,
                "type": item.type,
                "platform": platform,
                "account_id": account_id,
                "chat_id": chat_id,
                "message_id": message_id,
                "actor_id": actor_id,
                "linked": linked,
                "occurred_at": item.occurred_at,
                "received_at": item.received_at,
                "payload": _event_payload(item),
            }
        )
    statement = (
        _insert(connection, events)
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(events.c.event_key)
    )
    new_keys: set[str] = set()
    for chunk in _chunks(rows, 2000):
        new_keys.update(row.event_key for row in connection.execute(statement, list(chunk)))
    result.events += len(new_keys)
    result.event_duplicates += len(event_items) - len(new_keys)

    touched: set[_TargetKey] = set()
    outbox_rows = []
    for identity in sorted(new_keys):
        item = event_items[identity]
        platform, account_id = _event_account(item)
        outbox_rows.append(
            {
                "event_key": identity,
                "kind": f"event.{item.type}",
                "platform": platform,
                "account_id": account_id,
                "chat_id": _event_chat(item),
                "payload": {"event": _event_payload(item)},
                "created_at": now,
            }
        )
        if isinstance(item, EditEvent):
            _write_revision(connection, identity, item)
            touched.add(_target(item.target))
        elif isinstance(item, DeleteEvent):
            touched.add(_target(item.target))
        elif isinstance(item, ReactionEvent):
            _write_reaction(connection, identity, item)
    if outbox_rows and emit_outbox:
        statement = _insert(connection, outbox).on_conflict_do_nothing(index_elements=["event_key"])
        connection.execute(statement, outbox_rows)
        result.outbox += len(outbox_rows)
    return {target for target in touched if target in existing}


def _event_chat(item: Event) -> str | None:
    if isinstance(item, EditEvent | DeleteEvent | ReactionEvent):
        return item.target.chat_id
    if isinstance(item, ReadEvent | DeliveryEvent | PostbackEvent | ParticipantEvent):
        return item.conversation.chat_id
    return None


def _existing_targets(connection: sa.Connection, targets: set[_TargetKey]) -> set[_TargetKey]:
    found: set[_TargetKey] = set()
    ordered = sorted(targets)
    columns = (
        messages.c.platform,
        messages.c.account_id,
        messages.c.chat_id,
        messages.c.message_id,
    )
    for chunk in _chunks(ordered):
        query = sa.select(*columns).where(sa.tuple_(*columns).in_(list(chunk)))
        found.update(
            (row.platform, row.account_id, row.chat_id, row.message_id)
            for row in connection.execute(query)
        )
    return found


def _write_revision(connection: sa.Connection, identity: str, item: EditEvent) -> None:
    target = item.target
    statement = _insert(connection, revisions).on_conflict_do_nothing(index_elements=["event_key"])
    connection.execute(
        statement,
        {
            "event_key": identity,
            "platform": target.platform.value,
            "account_id": target.account_id,
            "chat_id": target.chat_id,
            "message_id": target.message_id,
            "text": item.text,
            "attachments": (
                attachments_to_json(item.attachments) if item.attachments is not None else None
            ),
            "edit_number": item.edit_number,
            "edited_at": item.occurred_at,
        },
    )


def _write_reaction(connection: sa.Connection, identity: str, item: ReactionEvent) -> None:
    """Keep the latest reaction state per actor; equal times are ordered by event key."""
    target = item.target
    statement = _insert(connection, reactions)
    excluded = statement.excluded
    newer = sa.or_(
        excluded.occurred_at > reactions.c.occurred_at,
        sa.and_(
            excluded.occurred_at == reactions.c.occurred_at,
            excluded.event_key > reactions.c.event_key,
        ),
    )
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "account_id", "chat_id", "message_id", "actor_id"],
        set_={
            "emojis": excluded.emojis,
            "event_key": excluded.event_key,
            "occurred_at": excluded.occurred_at,
        },
        where=newer,
    )
    connection.execute(
        statement,
        {
            "platform": target.platform.value,
            "account_id": target.account_id,
            "chat_id": target.chat_id,
            "message_id": target.message_id,
            "actor_id": item.actor_id,
            "emojis": list(item.emojis),
            "event_key": identity,
            "occurred_at": item.occurred_at,
        },
    )


def _link_pending_events(
    connection: sa.Connection, new_targets: set[_TargetKey]
) -> set[_TargetKey]:
    """Attach earlier edit and delete events to messages stored only now."""
    if not new_targets:
        return set()
    accounts_in_batch = sorted({(target[0], target[1]) for target in new_targets})
    pending = connection.execute(
        sa.select(
            events.c.id,
            events.c.platform,
            events.c.account_id,
            events.c.chat_id,
            events.c.message_id,
        ).where(
            events.c.linked.is_(False),
            sa.tuple_(events.c.platform, events.c.account_id).in_(accounts_in_batch),
        )
    ).all()
    linked_ids = []
    touched: set[_TargetKey] = set()
    for row in pending:
        target = (row.platform, row.account_id, row.chat_id, row.message_id)
        if target in new_targets:
            linked_ids.append(row.id)
            touched.add(target)
    for chunk in _chunks(linked_ids):
        connection.execute(events.update().where(events.c.id.in_(list(chunk))).values(linked=True))
    return touched


def _recompute_message(connection: sa.Connection, target: _TargetKey) -> None:
    """Derive a message's current state from its original content and its events."""
    platform, account_id, chat_id, message_id = target
    row = connection.execute(
        sa.select(messages.c.id, messages.c.original_text, messages.c.original_attachments).where(
            _message_where(target)
        )
    ).one_or_none()
    if row is None:
        return
    revision_filter = sa.and_(
        revisions.c.platform == platform,
        revisions.c.account_id == account_id,
        revisions.c.chat_id == chat_id,
        revisions.c.message_id == message_id,
    )
    revision_rows = connection.execute(
        sa.select(
            revisions.c.event_key,
            revisions.c.text,
            revisions.c.attachments,
            revisions.c.edit_number,
            revisions.c.edited_at,
        ).where(revision_filter)
    ).all()
    delete_times = (
        connection.execute(
            sa.select(events.c.occurred_at).where(
                events.c.type == "delete",
                events.c.platform == platform,
                events.c.account_id == account_id,
                events.c.chat_id == chat_id,
                events.c.message_id == message_id,
            )
        )
        .scalars()
        .all()
    )

    ordered = sorted(
        revision_rows,
        key=lambda revision: (
            revision.edit_number or 0,
            revision.edited_at,
            revision.event_key,
        ),
    )
    numbered = [revision.edit_number for revision in ordered if revision.edit_number is not None]
    edit_count = max([len(ordered), *numbered])
    if delete_times:
        _erase_message(connection, target, row.id, revision_filter, min(delete_times), edit_count)
        return

    text = row.original_text
    attachments = row.original_attachments
    for revision in ordered:
        text = revision.text
        if revision.attachments is not None:
            attachments = revision.attachments
    connection.execute(
        messages.update()
        .where(messages.c.id == row.id)
        .values(text=text, attachments=attachments, edit_count=edit_count)
    )


def _erase_message(
    connection: sa.Connection,
    target: _TargetKey,
    row_id: int,
    revision_filter: Any,
    deleted_at: datetime,
    edit_count: int,
) -> None:
    """Turn a message into a tombstone: keep its key and times, erase its content."""
    current = connection.execute(
        sa.select(messages.c.original_attachments).where(messages.c.id == row_id)
    ).scalar_one()
    erased = erase_attachments(current)
    connection.execute(
        messages.update()
        .where(messages.c.id == row_id)
        .values(
            text=None,
            original_text=None,
            attachments=erased,
            original_attachments=erased,
            raw=None,
            deleted=True,
            deleted_at=deleted_at,
            edit_count=edit_count,
        )
    )
    connection.execute(
        revisions.update().where(revision_filter).values(text=None, attachments=None)
    )

    # The content also lives in the payloads of edit events and of outbox rows
    # that may not have been delivered yet; erase it there too.
    platform, account_id, chat_id, message_id = target
    edit_events = connection.execute(
        sa.select(events.c.event_key, events.c.payload).where(
            events.c.type == "edit",
            events.c.platform == platform,
            events.c.account_id == account_id,
            events.c.chat_id == chat_id,
            events.c.message_id == message_id,
        )
    ).all()
    for event_key, payload in edit_events:
        erased_payload = dict(payload) | {"text": None, "attachments": None}
        connection.execute(
            events.update().where(events.c.event_key == event_key).values(payload=erased_payload)
        )
        connection.execute(
            outbox.update()
            .where(outbox.c.event_key == event_key)
            .values(payload={"event": erased_payload})
        )
    created_key = created_event_key(
        MessageKey(
            platform=Platform(platform),
            account_id=account_id,
            chat_id=chat_id,
            message_id=message_id,
        )
    )
    created = connection.execute(
        sa.select(outbox.c.payload).where(outbox.c.event_key == created_key)
    ).scalar_one_or_none()
    if created is not None:
        message = dict(created.get("message", {}))
        message.update(
            text=None,
            attachments=erase_attachments(message.get("attachments")),
            deleted=True,
        )
        connection.execute(
            outbox.update()
            .where(outbox.c.event_key == created_key)
            .values(payload={"message": message})
        )


def _write_quarantine(
    connection: sa.Connection, batch: Batch, now: datetime, result: IngestResult
) -> None:
    if not batch.quarantined:
        return
    statement = _insert(connection, quarantine).on_conflict_do_nothing(index_elements=["digest"])
    rows: dict[str, dict[str, Any]] = {}
    for item in batch.quarantined:
        rows.setdefault(
            item.digest,
            {
                "digest": item.digest,
                "platform": item.platform.value if item.platform is not None else None,
                "account_id": item.account_id,
                "reason": item.reason,
                "location": item.location,
                "raw": item.raw,
                "created_at": now,
            },
        )
        result.reasons[item.reason] += 1
    connection.execute(statement, [rows[digest] for digest in sorted(rows)])
    result.quarantined += len(batch.quarantined)


def _write_ignored(
    connection: sa.Connection, batch: Batch, now: datetime, result: IngestResult
) -> None:
    if not batch.ignored:
        return
    statement = _insert(connection, ignored).on_conflict_do_nothing(
        index_elements=["digest", "reason"]
    )
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for item in batch.ignored:
        rows.setdefault(
            (item.digest, item.reason),
            {
                "digest": item.digest,
                "platform": item.platform.value,
                "account_id": item.account_id,
                "kind": item.kind,
                "reason": item.reason,
                "created_at": now,
            },
        )
        result.reasons[item.reason] += 1
    connection.execute(statement, [rows[key] for key in sorted(rows)])
    result.ignored += len(batch.ignored)


def _write_cursor(connection: sa.Connection, cursor: CursorUpdate, now: datetime) -> None:
    statement = _insert(connection, cursors)
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "account_id", "stream"],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
    )
    connection.execute(
        statement,
        {
            "platform": cursor.platform.value,
            "account_id": cursor.account_id,
            "stream": cursor.stream,
            "value": cursor.value,
            "updated_at": now,
        },
    )
