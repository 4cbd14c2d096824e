"""Helpers shared by the store tests: model factories and table snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from socialinbox.model import Contact, Direction, Message, MessageKey, Platform
from socialinbox.store import Store
from socialinbox.store.tables import Base

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)

# Columns whose value is the wall-clock time of the write, not data.
_WRITE_TIME_COLUMNS = {"created_at", "updated_at"}
_SURROGATE_COLUMNS = {"id", "conversation_id", "outbox_id"}


def key(message_id: str, chat_id: str = "c1", platform: Platform = Platform.TELEGRAM) -> MessageKey:
    return MessageKey(platform=platform, account_id="acct", chat_id=chat_id, message_id=message_id)


def message(
    message_id: str,
    *,
    chat_id: str = "c1",
    text: str | None = None,
    minutes: int = 0,
    direction: Direction = Direction.INBOUND,
    platform: Platform = Platform.TELEGRAM,
    sender_id: str | None = None,
) -> Message:
    """Build a message whose content is a function of its arguments only."""
    when = T0 + timedelta(minutes=minutes)
    return Message(
        key=key(message_id, chat_id, platform),
        direction=direction,
        text=text if text is not None else f"mesaj {message_id} İıŞş 🙂",
        sent_at=when,
        received_at=when,
        sender=Contact(
            platform=platform,
            user_id=sender_id or f"u-{chat_id}",
            display_name=f"Kişi {chat_id}",
        ),
    )


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Return every table's rows without surrogate ids and write times, sorted."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [
                column
                for column in table.columns
                if column.name not in _WRITE_TIME_COLUMNS | _SURROGATE_COLUMNS
            ]
            rows = connection.execute(sa.select(*columns)).all()
            result[table.name] = sorted((tuple(map(_comparable, row)) for row in rows), key=repr)
    return result


def _comparable(value: Any) -> Any:
    if isinstance(value, dict | list):
        return repr(_sorted_json(value))
    return value


def _sorted_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _sorted_json(value[name]) for name in sorted(value)}
    if isinstance(value, list):
        return [_sorted_json(item) for item in value]
    return value


def clear(store: Store) -> None:
    """Delete every row, children first."""
    with store.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
