"""SQLAlchemy 2 table definitions.

The ORM classes declare the schema and serve typed reads; the ingest hot path
uses Core statements on the same tables for bulk inserts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "AccountRow",
    "Base",
    "ContactRow",
    "ConversationRow",
    "CursorRow",
    "DeliveryRow",
    "EventRow",
    "IgnoredRow",
    "MessageRow",
    "OutboxRow",
    "QuarantineRow",
    "ReactionRow",
    "RevisionRow",
    "SendRow",
    "UtcDateTime",
    "table_of",
]


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always aware UTC in Python.

    SQLite has no time zone support, so values are stored there as naive UTC
    and UTC is attached again on load. PostgreSQL uses ``timestamptz``.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime passed to a UTC column; attach a time zone first")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JsonType = sa.JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UtcDateTime,
        dict[str, Any]: JsonType,
        list[Any]: JsonType,
    }


class AccountRow(Base):
    __tablename__ = "accounts"
    __table_args__ = (sa.UniqueConstraint("platform", "account_id", name="uq_accounts_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(16))
    account_id: Mapped[str] = mapped_column(sa.String(128))
    username: Mapped[str | None] = mapped_column(sa.String(255))
    display_name: Mapped[str | None] = mapped_column(sa.String(255))
    health: Mapped[str] = mapped_column(sa.String(32), default="ok", server_default="ok")
    health_reason: Mapped[str | None] = mapped_column(sa.Text)
    health_changed_at: Mapped[datetime | None]


class ContactRow(Base):
    """A person as seen by one account (blocking and opt-out are per account)."""

    __tablename__ = "contacts"
    __table_args__ = (
        sa.UniqueConstraint("platform", "account_id", "user_id", name="uq_contacts_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(16))
    account_id: Mapped[str] = mapped_column(sa.String(128))
    user_id: Mapped[str] = mapped_column(sa.String(128))
    username: Mapped[str | None] = mapped_column(sa.String(255))
    display_name: Mapped[str | None] = mapped_column(sa.String(255))
    language_code: Mapped[str | None] = mapped_column(sa.String(16))
    is_bot: Mapped[bool | None]
    profile_seen_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(sa.String(32), default="active", server_default="active")
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    status_changed_at: Mapped[datetime | None]
    tags: Mapped[list[Any]] = mapped_column(default=list)


class ConversationRow(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        sa.UniqueConstraint("platform", "account_id", "chat_id", name="uq_conversations_key"),
        sa.Index("ix_conversations_last_message", "last_message_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(16))
    account_id: Mapped[str] = mapped_column(sa.String(128))
    chat_id: Mapped[str] = mapped_column(sa.String(128))
    is_group: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str | None] = mapped_column(sa.String(255))
    contact_user_id: Mapped[str | None] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(16), default="open", server_default="open")
    assignee: Mapped[str | None] = mapped_column(sa.String(128))
    priority: Mapped[int] = mapped_column(default=0, server_default="0")
    tags: Mapped[list[Any]] = mapped_column(default=list)
    first_message_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]
    last_inbound_at: Mapped[datetime | None]
    last_read_at: Mapped[datetime | None]


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        sa.UniqueConstraint(
            "platform", "account_id", "chat_id", "message_id", name="uq_messages_key"
        ),
        sa.Index("ix_messages_conversation_sent", "conversation_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    """Store-local sequence; consumers use it as a watermark."""
    conversation_id: Mapped[int] = mapped_column(sa.ForeignKey("conversations.id"))
    platform: Mapped[str] = mapped_column(sa.String(16))
    account_id: Mapped[str] = mapped_column(sa.String(128))
    chat_id: Mapped[str] = mapped_column(sa.String(128))
    message_id: Mapped[str] = mapped_column(sa.String(255))
    direction: Mapped[str] = mapped_column(sa.String(8))
    kind: Mapped[str] = mapped_column(sa.String(24))
    is_group: Mapped[bool] = mapped_column(default=False)
    sender_id: Mapped[str | None] = mapped_column(sa.String(128))
    text: Mapped[str | None] = mapped_column(sa.Text)
    original_text: Mapped[str | None] = mapped_column(sa.Text)
    text_format: Mapped[str] = mapped_column(sa.String(16))
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    original_attachments: Mapped[list[Any]] = mapped_column(default=list)
    reply_to: Mapped[str | None] = mapped_column(sa.String(255))
    forwarded_from: Mapped[str | None] = mapped_column(sa.String(255))
    sent_at: Mapped[datetime]
    received_at: Mapped[datetime]
    edit_count: Mapped[int] = mapped_column(default=0)
    deleted: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None]
    client_ref: Mapped[str | None] = mapped_column(sa.String(128))
    sender: Mapped[dict[str, Any] | None]
    chat_title: Mapped[str | None] = mapped_column(sa.String(255))
    raw: Mapped[dict[str, Any] | None]


class RevisionRow(Base):
    """One edit of a message, kept after the message text is replaced."""

    __tablename__ = "message_revisions"
    __table_args__ = (
        sa.Index("ix_revisions_target", "platform", "account_id", "chat_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    platform: Mapped[str] = mapped_column(sa.String(16))
    account_id: Mapped[str] = mapped_column(sa.String(128))
    chat_id: Mapped[str] = mapped_column(sa.String(128))
    message_id: Mapped[str] = mapped_column(sa.String(255))
    text: Mapped[str | None] = mapped_column(sa.Text)
    attachments: Mapped[list[Any] | None]
    edit_number: Mapped[int | None]
    edited_at: Mapped[datetime]


class ReactionRow(Base):
    """The current reaction of one actor on one message."""

    __tablename__ = "reactions"
    __table_args__ = (
        sa.UniqueConstraint(
            "platform", "account_id", "chat_id", "message_id", "actor_id", name="uq_reactions_key"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(16))
    account_id: Mapped[str] = mapped_column(sa.String(128))
    chat_id: Mapped[str] = mapped_column(sa.String(128))
    message_id: Mapped[str] = mapped_column(sa.String(255))
    actor_id: Mapped[str] = mapped_column(sa.String(128))
    emojis: Mapped[list[Any]] = mapped_column(default=list)
    event_key: Mapped[str] = mapped_column(sa.String(64))
    occurred_at: Mapped[datetime]


class EventRow(Base):
    """Every event ingested, including those whose target message is not stored yet."""

    __tablename__ = "events"
    __table_args__ = (
        sa.Index("ix_events_target", "platform", "account_id", "chat_id", "message_id"),
        sa.Index("ix_events_unlinked", "linked", "platform", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    type: Mapped[str] = mapped_column(sa.String(24))
    platform: Mapped[str] = mapped_column(sa.String(16))
    account_id: Mapped[str] = mapped_column(sa.String(128))
    chat_id: Mapped[str | None] = mapped_column(sa.String(128))
    message_id: Mapped[str | None] = mapped_column(sa.String(255))
    actor_id: Mapped[str | None] = mapped_column(sa.String(128))
    linked: Mapped[bool] = mapped_column(default=True)
    """False while the event targets a message that has not been stored yet."""
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]


class CursorRow(Base):
    __tablename__ = "cursors"

    platform: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    stream: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime]


class OutboxRow(Base):
    """An event for the CRM sinks, written in the same transaction as the data."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    """Idempotency key: stable across retries, replays and restarts."""
    kind: Mapped[str] = mapped_column(sa.String(32))
    platform: Mapped[str] = mapped_column(sa.String(16))
    account_id: Mapped[str] = mapped_column(sa.String(128))
    chat_id: Mapped[str | None] = mapped_column(sa.String(128))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class DeliveryRow(Base):
    """Delivery state of one outbox event to one sink."""

    __tablename__ = "deliveries"
    __table_args__ = (sa.Index("ix_deliveries_due", "sink", "status", "next_attempt_at"),)

    outbox_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox.id"), primary_key=True)
    sink: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    delivered_at: Mapped[datetime | None]
    remote_id: Mapped[str | None] = mapped_column(sa.String(255))


class SendRow(Base):
    """An outbound message recorded before the platform call, so echoes match it."""

    __tablename__ = "sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_ref: Mapped[str] = mapped_column(sa.String(128), unique=True)
    platform: Mapped[str] = mapped_column(sa.String(16))
    account_id: Mapped[str] = mapped_column(sa.String(128))
    chat_id: Mapped[str] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    text: Mapped[str | None] = mapped_column(sa.Text)
    platform_message_ids: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(sa.Text)
    author: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class QuarantineRow(Base):
    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    platform: Mapped[str | None] = mapped_column(sa.String(16))
    account_id: Mapped[str | None] = mapped_column(sa.String(128))
    reason: Mapped[str] = mapped_column(sa.Text)
    location: Mapped[str | None] = mapped_column(sa.Text)
    raw: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime]


class IgnoredRow(Base):
    __tablename__ = "ignored"
    __table_args__ = (sa.UniqueConstraint("digest", "reason", name="uq_ignored_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(sa.String(64))
    platform: Mapped[str] = mapped_column(sa.String(16))
    account_id: Mapped[str | None] = mapped_column(sa.String(128))
    kind: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]


def table_of(model: type[Base]) -> sa.Table:
    """Return the Core table of an ORM class, typed as a Table for Core statements."""
    table = model.__table__
    if not isinstance(table, sa.Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table
