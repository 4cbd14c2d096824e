"""The store: a SQLite file or a PostgreSQL database behind one typed API.

:class:`Store` is synchronous and safe to share between threads.
:class:`AsyncStore` runs the same operations on one worker thread, so async
services never block their event loop on the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, ParamSpec, TypeVar

import sqlalchemy as sa

import socialinbox.ingest as ingest_module
from socialinbox.errors import StoreError
from socialinbox.model import (
    Batch,
    Contact,
    ContactStatus,
    Conversation,
    ConversationKey,
    Direction,
    Message,
    MessageKey,
    OutboundMessage,
    Platform,
    SendResult,
)
from socialinbox.store import sends
from socialinbox.store.codec import message_from_row
from socialinbox.store.engine import create_engine, database_url_from_environment, upgrade
from socialinbox.store.results import CursorUpdate, IngestResult
from socialinbox.store.sends import SendRecord
from socialinbox.store.tables import (
    ContactRow,
    ConversationRow,
    CursorRow,
    IgnoredRow,
    MessageRow,
    OutboxRow,
    QuarantineRow,
    ReactionRow,
    RevisionRow,
    table_of,
)

__all__ = ["AsyncStore", "QuarantineEntry", "Store", "StoredMessage", "open_store"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

_messages = table_of(MessageRow)
_conversations = table_of(ConversationRow)
_contacts = table_of(ContactRow)
_cursors = table_of(CursorRow)
_reactions = table_of(ReactionRow)
_revisions = table_of(RevisionRow)
_quarantine = table_of(QuarantineRow)
_ignored = table_of(IgnoredRow)
_outbox = table_of(OutboxRow)


@dataclass(frozen=True)
class StoredMessage:
    """A message with its store sequence number, for consumers that poll with a watermark."""

    seq: int
    message: Message


@dataclass(frozen=True)
class QuarantineEntry:
    """A payload that could not be normalized."""

    id: int
    platform: str | None
    account_id: str | None
    reason: str
    location: str | None
    created_at: datetime
    raw: bytes


def _conversation_from_row(row: Any) -> Conversation:
    return Conversation(
        key=ConversationKey(
            platform=Platform(row.platform), account_id=row.account_id, chat_id=row.chat_id
        ),
        is_group=row.is_group,
        title=row.title,
        contact_user_id=row.contact_user_id,
        status=row.status,
        assignee=row.assignee,
        priority=row.priority,
        tags=tuple(row.tags or ()),
        first_message_at=row.first_message_at,
        last_message_at=row.last_message_at,
        last_inbound_at=row.last_inbound_at,
        last_read_at=row.last_read_at,
    )


def _conversation_where(key: ConversationKey) -> Any:
    return sa.and_(
        _conversations.c.platform == key.platform.value,
        _conversations.c.account_id == key.account_id,
        _conversations.c.chat_id == key.chat_id,
    )


class Store:
    """Durable storage for messages, events, cursors, outbox and quarantine.

    Open it with :meth:`Store.open`; the schema is migrated on open unless
    ``migrate=False``.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True) -> Store:
        """Open the database at ``url`` (default: ``SOCIALINBOX_DATABASE`` or ``socialinbox.db``).

        Raises:
            ConfigError: the URL is invalid or names an unsupported database.
            StoreError: the database cannot be reached or migrated.
        """
        engine = create_engine(database_url_from_environment(url))
        try:
            if migrate:
                upgrade(engine)
        except sa.exc.OperationalError as error:
            engine.dispose()
            raise StoreError(f"cannot open database {engine.url!r}: {error.orig}") from error
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- ingest ---------------------------------------------------------------

    def ingest(
        self, batch: Batch, cursor: CursorUpdate | None = None, *, emit_outbox: bool = True
    ) -> IngestResult:
        """Store ``batch`` and advance ``cursor`` in one transaction.

        ``emit_outbox=False`` stores without producing events for the CRM sinks
        (history imports).
        """
        with self.engine.begin() as connection:
            return ingest_module.ingest_batch(connection, batch, cursor, emit_outbox=emit_outbox)

    def get_cursor(self, platform: Platform, account_id: str, stream: str) -> str | None:
        with self.engine.connect() as connection:
            value: str | None = connection.execute(
                sa.select(_cursors.c.value).where(
                    _cursors.c.platform == platform.value,
                    _cursors.c.account_id == account_id,
                    _cursors.c.stream == stream,
                )
            ).scalar_one_or_none()
            return value

    # -- messages -------------------------------------------------------------

    def get_message(self, key: MessageKey) -> Message | None:
        """Return the current state of a message (edits applied), or ``None``."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(_messages).where(
                    _messages.c.platform == key.platform.value,
                    _messages.c.account_id == key.account_id,
                    _messages.c.chat_id == key.chat_id,
                    _messages.c.message_id == key.message_id,
                )
            ).one_or_none()
        return message_from_row(row) if row is not None else None

    def list_messages(
        self,
        conversation: ConversationKey | None = None,
        *,
        platform: Platform | None = None,
        direction: Direction | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Message]:
        """Return messages oldest first, filtered by the given criteria."""
        return [
            stored.message
            for stored in self._select_messages(
                conversation=conversation,
                platform=platform,
                direction=direction,
                since=since,
                limit=limit,
            )
        ]

    def messages_after(self, watermark: int = 0, *, limit: int = 100) -> list[StoredMessage]:
        """Return messages stored after sequence number ``watermark``, in store order.

        Pass the ``seq`` of the last message you processed as the next watermark.
        """
        return self._select_messages(after_seq=watermark, limit=limit, order_by_seq=True)

    def _select_messages(
        self,
        *,
        conversation: ConversationKey | None = None,
        platform: Platform | None = None,
        direction: Direction | None = None,
        since: datetime | None = None,
        after_seq: int | None = None,
        limit: int | None = None,
        order_by_seq: bool = False,
    ) -> list[StoredMessage]:
        query = sa.select(_messages)
        if conversation is not None:
            query = query.where(
                _messages.c.platform == conversation.platform.value,
                _messages.c.account_id == conversation.account_id,
                _messages.c.chat_id == conversation.chat_id,
            )
        if platform is not None:
            query = query.where(_messages.c.platform == platform.value)
        if direction is not None:
            query = query.where(_messages.c.direction == direction.value)
        if since is not None:
            query = query.where(_messages.c.sent_at >= since)
        if after_seq is not None:
            query = query.where(_messages.c.id > after_seq)
        if order_by_seq:
            query = query.order_by(_messages.c.id)
        else:
            query = query.order_by(_messages.c.sent_at, _messages.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [StoredMessage(seq=row.id, message=message_from_row(row)) for row in rows]

    def reactions(self, key: MessageKey) -> dict[str, tuple[str, ...]]:
        """Return the current reactions on a message, by actor id; removed ones are left out."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(_reactions.c.actor_id, _reactions.c.emojis).where(
                    _reactions.c.platform == key.platform.value,
                    _reactions.c.account_id == key.account_id,
                    _reactions.c.chat_id == key.chat_id,
                    _reactions.c.message_id == key.message_id,
                )
            ).all()
        return {row.actor_id: tuple(row.emojis) for row in rows if row.emojis}

    def revisions(self, key: MessageKey) -> list[tuple[datetime, str | None]]:
        """Return the edits of a message as (edit time, text), oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(_revisions.c.edited_at, _revisions.c.text, _revisions.c.edit_number)
                .where(
                    _revisions.c.platform == key.platform.value,
                    _revisions.c.account_id == key.account_id,
                    _revisions.c.chat_id == key.chat_id,
                    _revisions.c.message_id == key.message_id,
                )
                .order_by(_revisions.c.edit_number, _revisions.c.edited_at, _revisions.c.event_key)
            ).all()
        return [(row.edited_at, row.text) for row in rows]

    # -- conversations and contacts -------------------------------------------

    def get_conversation(self, key: ConversationKey) -> Conversation | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(_conversations).where(_conversation_where(key))
            ).one_or_none()
        return _conversation_from_row(row) if row is not None else None

    def list_conversations(
        self,
        *,
        platform: Platform | None = None,
        status: str | None = None,
        assignee: str | None = None,
        tag: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Conversation]:
        """Return conversations with at least one message, most recent activity first."""
        query = sa.select(_conversations).where(_conversations.c.last_message_at.is_not(None))
        if platform is not None:
            query = query.where(_conversations.c.platform == platform.value)
        if status is not None:
            query = query.where(_conversations.c.status == status)
        if assignee is not None:
            query = query.where(_conversations.c.assignee == assignee)
        if since is not None:
            query = query.where(_conversations.c.last_message_at >= since)
        query = query.order_by(
            _conversations.c.last_message_at.desc().nulls_last(), _conversations.c.id
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        found = [_conversation_from_row(row) for row in rows]
        if tag is not None:
            found = [conversation for conversation in found if tag in conversation.tags]
        return found[:limit] if limit is not None else found

    def get_contact(self, platform: Platform, account_id: str, user_id: str) -> Contact | None:
        """Return the newest known profile of a contact of ``account_id``, or ``None``."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(_contacts).where(
                    _contacts.c.platform == platform.value,
                    _contacts.c.account_id == account_id,
                    _contacts.c.user_id == user_id,
                )
            ).one_or_none()
        if row is None:
            return None
        return Contact(
            platform=Platform(row.platform),
            user_id=row.user_id,
            username=row.username,
            display_name=row.display_name,
            language_code=row.language_code,
            is_bot=row.is_bot,
        )

    def contact_status(
        self, platform: Platform, account_id: str, user_id: str
    ) -> ContactStatus | None:
        with self.engine.connect() as connection:
            value = connection.execute(
                sa.select(_contacts.c.status).where(
                    _contacts.c.platform == platform.value,
                    _contacts.c.account_id == account_id,
                    _contacts.c.user_id == user_id,
                )
            ).scalar_one_or_none()
        return ContactStatus(value) if value is not None else None

    # -- send ledger ------------------------------------------------------------

    def record_send(self, message: OutboundMessage, *, author: str | None = None) -> bool:
        """Record an outbound message before the platform call; see :mod:`socialinbox.store.sends`."""
        return sends.record_send(self.engine, message, author=author)

    def complete_send(self, message: OutboundMessage, result: SendResult) -> IngestResult:
        """Mark a recorded send as sent and store its outbound messages."""
        return sends.complete_send(self.engine, message, result)

    def fail_send(
        self, client_ref: str, error: str, *, status: Literal["failed", "unknown"] = "failed"
    ) -> None:
        sends.fail_send(self.engine, client_ref, error, status=status)

    def get_send(self, client_ref: str) -> SendRecord | None:
        return sends.get_send(self.engine, client_ref)

    def list_sends(self, **filters: Any) -> list[SendRecord]:
        return sends.list_sends(self.engine, **filters)

    # -- quarantine and statistics --------------------------------------------

    def list_quarantine(self, *, limit: int | None = None) -> list[QuarantineEntry]:
        query = sa.select(_quarantine).order_by(_quarantine.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            QuarantineEntry(
                id=row.id,
                platform=row.platform,
                account_id=row.account_id,
                reason=row.reason,
                location=row.location,
                created_at=row.created_at,
                raw=row.raw,
            )
            for row in rows
        ]

    def get_quarantine(self, entry_id: int) -> QuarantineEntry | None:
        for entry in self.list_quarantine():
            if entry.id == entry_id:
                return entry
        return None

    def counts(self) -> dict[str, int]:
        """Return row counts of the main tables, for summaries and health checks."""
        tables = {
            "conversations": _conversations,
            "messages": _messages,
            "contacts": _contacts,
            "outbox": _outbox,
            "quarantine": _quarantine,
            "ignored": _ignored,
        }
        with self.engine.connect() as connection:
            return {
                name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for name, table in tables.items()
            }


class AsyncStore:
    """Async facade over :class:`Store`; every call runs on one worker thread."""

    def __init__(self, store: Store) -> None:
        self.sync = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="socialinbox-store")

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``function(*args, **kwargs)`` on the store's worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: function(*args, **kwargs))

    async def ingest(
        self, batch: Batch, cursor: CursorUpdate | None = None, *, emit_outbox: bool = True
    ) -> IngestResult:
        return await self.run(self.sync.ingest, batch, cursor, emit_outbox=emit_outbox)

    async def get_cursor(self, platform: Platform, account_id: str, stream: str) -> str | None:
        return await self.run(self.sync.get_cursor, platform, account_id, stream)

    async def get_message(self, key: MessageKey) -> Message | None:
        return await self.run(self.sync.get_message, key)

    async def list_messages(
        self, conversation: ConversationKey | None = None, **filters: Any
    ) -> list[Message]:
        return await self.run(self.sync.list_messages, conversation, **filters)

    async def get_conversation(self, key: ConversationKey) -> Conversation | None:
        return await self.run(self.sync.get_conversation, key)

    async def list_conversations(self, **filters: Any) -> list[Conversation]:
        return await self.run(self.sync.list_conversations, **filters)

    async def messages_after(self, watermark: int = 0, *, limit: int = 100) -> list[StoredMessage]:
        return await self.run(self.sync.messages_after, watermark, limit=limit)

    async def watch(
        self, watermark: int = 0, *, poll_interval: float = 1.0, limit: int = 100
    ) -> AsyncIterator[StoredMessage]:
        """Yield messages as they are stored, starting after ``watermark``; runs until cancelled."""
        while True:
            found = await self.messages_after(watermark, limit=limit)
            for stored in found:
                watermark = stored.seq
                yield stored
            if len(found) < limit:
                await asyncio.sleep(poll_interval)

    async def record_send(self, message: OutboundMessage, *, author: str | None = None) -> bool:
        return await self.run(self.sync.record_send, message, author=author)

    async def complete_send(self, message: OutboundMessage, result: SendResult) -> IngestResult:
        return await self.run(self.sync.complete_send, message, result)

    async def fail_send(
        self, client_ref: str, error: str, *, status: Literal["failed", "unknown"] = "failed"
    ) -> None:
        await self.run(self.sync.fail_send, client_ref, error, status=status)

    async def get_send(self, client_ref: str) -> SendRecord | None:
        return await self.run(self.sync.get_send, client_ref)

    async def close(self) -> None:
        await self.run(self.sync.close)
        self._executor.shutdown(wait=True)

    async def __aenter__(self) -> AsyncStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def open_store(url: str | None = None, *, migrate: bool = True) -> AsyncStore:
    """Open a store for async code; see :meth:`Store.open`."""
    loop = asyncio.get_running_loop()
    store = await loop.run_in_executor(None, lambda: Store.open(url, migrate=migrate))
    return AsyncStore(store)
