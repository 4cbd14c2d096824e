"""Helpers for the broadcast tests: seeded stores and sending accounts on the emulator."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from socialinbox.broadcast.accounts import SendAccount, build_telegram_adapter
from socialinbox.broadcast.model import Draft, Target
from socialinbox.broadcast.ratelimit import RateLimits
from socialinbox.config import AccountConfig
from socialinbox.model import (
    Batch,
    Contact,
    ContactStatus,
    ContactStatusEvent,
    Direction,
    Message,
    MessageKey,
    Platform,
)
from socialinbox.store import Store
from socialinbox.store.tables import ContactRow, table_of
from socialinbox.testing.telegram import TelegramEmulator

BOT_ID = "123456789"
PAGE_ID = "555000111"
IG_ID = "1784000222"

_contacts = table_of(ContactRow)


def inbound(platform: Platform, account_id: str, user_id: str, at: datetime, text: str = "merhaba") -> Message:
    """An inbound one-to-one message from ``user_id`` (chat id = user id)."""
    return Message(
        key=MessageKey(platform=platform, account_id=account_id, chat_id=user_id, message_id=f"m-{user_id}-{at.timestamp()}"),
        direction=Direction.INBOUND,
        sender=Contact(platform=platform, user_id=user_id, display_name=f"Kişi {user_id}"),
        text=text,
        sent_at=at,
        received_at=at,
    )


def status_event(platform: Platform, account_id: str, user_id: str, status: ContactStatus, at: datetime) -> ContactStatusEvent:
    return ContactStatusEvent(
        account_id=account_id,
        contact=Contact(platform=platform, user_id=user_id),
        status=status,
        occurred_at=at,
        received_at=at,
    )


def seed_telegram(store: Store, chat_ids: list[int], *, now: datetime) -> None:
    """Store one inbound message from each private chat in ``chat_ids``."""
    items = [inbound(Platform.TELEGRAM, BOT_ID, str(chat), now - timedelta(days=2)) for chat in chat_ids]
    for start in range(0, len(items), 500):
        store.ingest(Batch(items=tuple(items[start : start + 500])))


def tag_contacts(store: Store, platform: Platform, user_ids: list[str], tags: list[str]) -> None:
    """Set contact tags directly; the store has no tagging API yet."""
    with store.engine.begin() as connection:
        connection.execute(
            _contacts.update()
            .where(_contacts.c.platform == platform.value, _contacts.c.user_id.in_(user_ids))
            .values(tags=tags)
        )


def draft(now: datetime, *targets: Target, body: str = "**Planlı bakım** bu gece 02:00-04:00.", **fields: object) -> Draft:
    values: dict[str, object] = {
        "title": "Planlı bakım",
        "body": body,
        "targets": targets or (Target(kind="dm"),),
        "scheduled_at": now,
        "expires_at": now + timedelta(hours=6),
        "created_by": "ayse",
    }
    values.update(fields)
    return Draft.model_validate(values)


def telegram_account(emulator: TelegramEmulator, **limits: float) -> SendAccount:
    config = AccountConfig(
        name="tg", platform=Platform.TELEGRAM, token=emulator.token, base_url=emulator.base_url
    )
    return SendAccount(
        name="tg",
        platform=Platform.TELEGRAM,
        adapter=build_telegram_adapter(config),
        limits=RateLimits(**limits) if limits else RateLimits(per_second=29.0),  # type: ignore[arg-type]
    )


def sent_counts(emulator: TelegramEmulator) -> dict[int | str, int]:
    counts: dict[int | str, int] = {}
    for message in emulator.sent:
        counts[message.chat_id] = counts.get(message.chat_id, 0) + 1
    return counts


def row_count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
