"""The send ledger: outbound messages recorded before the platform call.

Every reply or announcement goes through three steps:

1. :func:`record_send` writes a ``pending`` row under the caller's
   ``client_ref`` (idempotency key) before the platform is called;
2. the adapter sends;
3. :func:`complete_send` marks the row ``sent`` with the platform message ids
   and stores one outbound message per id through the normal ingest path, in
   one transaction; or :func:`fail_send` records ``failed`` (the platform
   refused, nothing went out) or ``unknown`` (a timeout: it may have gone out).

The platform's echo of the message later arrives with the same key and is a
duplicate, so it is matched to the send instead of stored twice; an echo
that arrives first is stored and then linked to the send by ``client_ref``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

import socialinbox.ingest as ingest_module
from socialinbox.errors import UsageError
from socialinbox.model import (
    Batch,
    ConversationKey,
    Direction,
    Message,
    MessageKey,
    MessageKind,
    OutboundMessage,
    Platform,
    SendResult,
    utc_now,
)
from socialinbox.store.tables import SendRow, table_of

__all__ = [
    "SendRecord",
    "complete_send",
    "complete_sends",
    "fail_send",
    "get_send",
    "list_sends",
    "record_send",
    "record_sends",
]

_sends = table_of(SendRow)

SendStatus = Literal["pending", "sent", "failed", "unknown"]


@dataclass(frozen=True)
class SendRecord:
    """One row of the send ledger."""

    client_ref: str
    conversation: ConversationKey
    status: SendStatus
    text: str | None
    platform_message_ids: tuple[str, ...]
    error: str | None
    author: str | None
    created_at: datetime
    sent_at: datetime | None


def _record_from_row(row: Any) -> SendRecord:
    return SendRecord(
        client_ref=row.client_ref,
        conversation=ConversationKey(
            platform=Platform(row.platform), account_id=row.account_id, chat_id=row.chat_id
        ),
        status=row.status,
        text=row.text,
        platform_message_ids=tuple(row.platform_message_ids or ()),
        error=row.error,
        author=row.author,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


def _insert(connection: sa.Connection) -> Any:
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(_sends)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(_sends)


def record_sends(
    connection: sa.Connection, messages: Sequence[OutboundMessage], *, author: str | None = None
) -> int:
    """Write a ``pending`` row per message in the caller's transaction; return how many are new.

    A ``client_ref`` recorded before keeps its row: that send was already attempted.
    """
    if not messages:
        return 0
    now = utc_now()
    rows: list[dict[str, Any]] = [
        {
            "client_ref": message.client_ref,
            "platform": message.conversation.platform.value,
            "account_id": message.conversation.account_id,
            "chat_id": message.conversation.chat_id,
            "status": "pending",
            "text": message.text,
            "platform_message_ids": [],
            "author": author,
            "created_at": now,
        }
        for message in messages
    ]
    inserted = connection.execute(
        _insert(connection)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["client_ref"])
        .returning(_sends.c.id)
    ).all()
    return len(inserted)


def record_send(engine: sa.Engine, message: OutboundMessage, *, author: str | None = None) -> bool:
    """Write a ``pending`` ledger row; return False when ``client_ref`` was recorded before.

    False means this send was already attempted: look at its status
    with :func:`get_send` instead of sending again.
    """
    with engine.begin() as connection:
        return record_sends(connection, [message], author=author) == 1


def _outbound_messages(message: OutboundMessage, result: SendResult) -> list[Message]:
    key = message.conversation
    received_at = utc_now()
    return [
        Message(
            key=MessageKey(
                platform=key.platform,
                account_id=key.account_id,
                chat_id=key.chat_id,
                message_id=message_id,
            ),
            direction=Direction.OUTBOUND,
            kind=MessageKind.TEXT if index == 0 and message.text else MessageKind.MEDIA,
            # A long text or text plus media becomes several platform messages;
            # the first carries the text and the attachments are listed with it.
            text=message.text if index == 0 else None,
            attachments=message.attachments if index == 0 else (),
            reply_to=message.reply_to if index == 0 else None,
            sent_at=result.sent_at,
            received_at=received_at,
            client_ref=message.client_ref,
        )
        for index, message_id in enumerate(result.message_ids)
    ]


def complete_sends(
    connection: sa.Connection, completed: Sequence[tuple[OutboundMessage, SendResult]]
) -> ingest_module.IngestResult:
    """Mark sends ``sent`` and store their outbound messages, in the caller's transaction.

    Raises:
        UsageError: a send has no ledger row; call :func:`record_sends` first.
    """
    stored: list[Message] = []
    for message, result in completed:
        updated = connection.execute(
            _sends.update()
            .where(_sends.c.client_ref == message.client_ref)
            .values(
                status="sent",
                platform_message_ids=list(result.message_ids),
                sent_at=result.sent_at,
                error=None,
            )
        )
        if updated.rowcount == 0:
            raise UsageError(
                f"no send recorded under client_ref {message.client_ref}; call record_send first"
            )
        stored.extend(_outbound_messages(message, result))
    return ingest_module.ingest_batch(connection, Batch(items=tuple(stored)))


def complete_send(
    engine: sa.Engine, message: OutboundMessage, result: SendResult
) -> ingest_module.IngestResult:
    """Mark a send ``sent`` and store its outbound messages, in one transaction.

    Raises:
        UsageError: no ledger row exists for ``message.client_ref``.
    """
    with engine.begin() as connection:
        return complete_sends(connection, [(message, result)])


def fail_send(
    engine: sa.Engine,
    client_ref: str,
    error: str,
    *,
    status: Literal["failed", "unknown"] = "failed",
) -> None:
    """Record that a send failed (nothing went out) or has an ``unknown`` outcome."""
    with engine.begin() as connection:
        connection.execute(
            _sends.update()
            .where(_sends.c.client_ref == client_ref)
            .values(status=status, error=error)
        )


def get_send(engine: sa.Engine, client_ref: str) -> SendRecord | None:
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(_sends).where(_sends.c.client_ref == client_ref)
        ).one_or_none()
    return _record_from_row(row) if row is not None else None


def list_sends(
    engine: sa.Engine,
    *,
    conversation: ConversationKey | None = None,
    status: SendStatus | None = None,
) -> list[SendRecord]:
    query = sa.select(_sends).order_by(_sends.c.id)
    if conversation is not None:
        query = query.where(
            _sends.c.platform == conversation.platform.value,
            _sends.c.account_id == conversation.account_id,
            _sends.c.chat_id == conversation.chat_id,
        )
    if status is not None:
        query = query.where(_sends.c.status == status)
    with engine.connect() as connection:
        return [_record_from_row(row) for row in connection.execute(query)]
