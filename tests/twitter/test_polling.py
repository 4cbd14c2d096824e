"""Polling through the real tweepy client against the emulator, into a real SQLite store."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from socialinbox.adapters.base import FetchResult
from socialinbox.adapters.twitter.transport import EndpointLimit
from socialinbox.errors import RateLimited
from socialinbox.model import ConversationKey, Direction, Platform
from socialinbox.store import CursorUpdate, Store
from socialinbox.testing.twitter import Fault, TwitterEmulator
from tests.twitter.support import CONTACT_ID, OWN_ID, TOKEN, AdapterFactory

STREAM = "dm_events"
DM_EVENTS = "GET /2/dm_events"
CONVERSATION = ConversationKey(
    platform=Platform.X, account_id=OWN_ID, chat_id=f"{CONTACT_ID}-{OWN_ID}"
)


def ingest(store: Store, result: FetchResult) -> int:
    cursor = None
    if result.cursor is not None:
        cursor = CursorUpdate(
            platform=Platform.X, account_id=OWN_ID, stream=STREAM, value=result.cursor
        )
    return store.ingest(result.batch, cursor=cursor).messages_stored


def add_messages(emulator: TwitterEmulator, count: int, prefix: str) -> list[str]:
    return [
        emulator.add_message(sender_id=CONTACT_ID, text=f"{prefix} {number} İstanbul 🌙")["id"]
        for number in range(count)
    ]


async def test_three_pages_429_and_restart(
    emulator: TwitterEmulator, make_adapter: AdapterFactory, sqlite_url: str
) -> None:
    first_ids = add_messages(emulator, 8, "first")
    # The second page request gets a 429 whose window resets now.
    emulator.inject(Fault(kind="rate_limit", endpoint=DM_EVENTS, after=1, reset_in=0))

    store = Store.open(sqlite_url)
    adapter = make_adapter(page_size=3)
    first = await adapter.fetch(store.get_cursor(Platform.X, OWN_ID, STREAM))

    assert first.requests == 4  # page 1, page 2 (429), page 2 again, page 3
    assert emulator.request_count(DM_EVENTS) == 4
    assert [request.status for request in emulator.requests] == [200, 429, 200, 200]
    assert first.more is False
    assert first.cursor == first_ids[-1]
    assert sorted(m.key.message_id for m in first.batch.messages) == sorted(first_ids)
    assert ingest(store, first) == 8
    assert store.get_cursor(Platform.X, OWN_ID, STREAM) == first_ids[-1]
    await adapter.close()
    store.close()

    # Restart: a new store handle and a new adapter, two new DMs waiting.
    new_ids = add_messages(emulator, 2, "second")
    emulator.reset_requests()
    store = Store.open(sqlite_url)
    adapter = make_adapter(page_size=3)
    second = await adapter.fetch(store.get_cursor(Platform.X, OWN_ID, STREAM))

    assert second.requests == 1  # the first page already reaches the stored cursor
    assert emulator.request_count(DM_EVENTS) == 1
    assert [m.key.message_id for m in second.batch.messages] == list(reversed(new_ids))
    assert second.cursor == new_ids[-1]
    assert ingest(store, second) == 2

    # Nothing new: one request, no items, the cursor stays.
    third = await adapter.fetch(store.get_cursor(Platform.X, OWN_ID, STREAM))
    assert third.requests == 1
    assert third.batch.items == ()
    assert third.cursor is None

    # Replaying the first batch (a crash before the cursor was stored) stores nothing twice.
    replayed = store.ingest(first.batch)
    assert replayed.messages_stored == 0
    assert replayed.duplicates == 8

    stored = store.list_messages(conversation=CONVERSATION)
    assert sorted(m.key.message_id for m in stored) == sorted(first_ids + new_ids)
    assert len({m.key for m in stored}) == 10
    assert all(m.direction is Direction.INBOUND for m in stored)
    assert store.get_cursor(Platform.X, OWN_ID, STREAM) == new_ids[-1]
    message = store.get_message(stored[0].key)
    assert message is not None
    assert message.text is not None and message.text.endswith("İstanbul 🌙")
    assert message.sender is not None and message.sender.display_name == "Çağrı Işık"
    store.close()


async def test_rate_limit_beyond_cap_raises_then_restart(
    emulator: TwitterEmulator, make_adapter: AdapterFactory, sqlite_url: str
) -> None:
    ids = add_messages(emulator, 5, "dm")
    emulator.inject(Fault(kind="rate_limit", endpoint=DM_EVENTS, after=1, reset_in=900,
                          style="problem"))
    store = Store.open(sqlite_url)
    adapter = make_adapter(page_size=3, max_wait=5.0)

    with pytest.raises(RateLimited) as raised:
        await adapter.fetch(None)
    assert raised.value.status == 429
    assert raised.value.retry_after is not None
    assert raised.value.retry_after > timedelta(seconds=800)
    assert emulator.request_count(DM_EVENTS) == 2  # no retry beyond the cap

    # The same adapter remembers the reset time and sends nothing until then.
    with pytest.raises(RateLimited):
        await adapter.fetch(None)
    assert emulator.request_count(DM_EVENTS) == 2
    await adapter.close()

    # After a restart the emulator has lifted the limit.
    adapter = make_adapter(page_size=3)
    result = await adapter.fetch(store.get_cursor(Platform.X, OWN_ID, STREAM))
    assert result.requests == 2
    assert ingest(store, result) == 5
    assert store.get_cursor(Platform.X, OWN_ID, STREAM) == ids[-1]
    store.close()


async def test_429_without_headers_backs_off(
    emulator: TwitterEmulator, make_adapter: AdapterFactory
) -> None:
    add_messages(emulator, 2, "dm")
    emulator.inject(Fault(kind="rate_limit", endpoint=DM_EVENTS, rate_limit_headers=False))
    adapter = make_adapter()

    result = await adapter.fetch(None)

    assert result.requests == 2
    assert len(result.batch.messages) == 2


async def test_server_error_is_retried(
    emulator: TwitterEmulator, make_adapter: AdapterFactory
) -> None:
    add_messages(emulator, 1, "dm")
    emulator.inject(Fault(kind="error", status=503, endpoint=DM_EVENTS))
    adapter = make_adapter()

    result = await adapter.fetch(None)

    assert result.requests == 2
    assert len(result.batch.messages) == 1


async def test_empty_page_with_token_continues(
    emulator: TwitterEmulator, make_adapter: AdapterFactory
) -> None:
    ids = add_messages(emulator, 4, "dm")
    emulator.inject(Fault(kind="empty_page", endpoint=DM_EVENTS, after=1))
    adapter = make_adapter(page_size=2)

    result = await adapter.fetch(None)

    assert result.requests == 3  # page 1, the empty page with a next_token, page 2
    assert sorted(m.key.message_id for m in result.batch.messages) == sorted(ids)
    assert result.cursor == ids[-1]
    assert result.more is False


async def test_page_budget_resumes_next_fetch(
    emulator: TwitterEmulator, make_adapter: AdapterFactory, sqlite_url: str
) -> None:
    ids = add_messages(emulator, 6, "dm")
    store = Store.open(sqlite_url)
    adapter = make_adapter(page_size=2, max_pages=2)

    first = await adapter.fetch(None)
    assert (first.requests, first.more, first.cursor) == (2, True, None)
    ingest(store, first)
    # A DM arriving mid-walk is picked up by the following poll.
    late = add_messages(emulator, 1, "late")
    second = await adapter.fetch(store.get_cursor(Platform.X, OWN_ID, STREAM))
    assert (second.requests, second.more, second.cursor) == (1, False, ids[-1])
    ingest(store, second)
    third = await adapter.fetch(store.get_cursor(Platform.X, OWN_ID, STREAM))
    assert (third.requests, third.cursor) == (1, late[0])
    ingest(store, third)

    stored = store.list_messages(conversation=CONVERSATION)
    assert sorted(m.key.message_id for m in stored) == sorted(ids + late)
    store.close()


async def test_client_side_limit_stops_before_the_server(
    emulator: TwitterEmulator, make_adapter: AdapterFactory
) -> None:
    add_messages(emulator, 1, "dm")
    strict = {"dm_events": (EndpointLimit(2, timedelta(minutes=15)),)}
    adapter = make_adapter(rate_limits=strict)

    await adapter.fetch(None)
    await adapter.fetch(None)
    with pytest.raises(RateLimited) as raised:
        await adapter.fetch(None)

    assert emulator.request_count(DM_EVENTS) == 2
    assert raised.value.retry_after is not None
    assert raised.value.retry_after > timedelta(minutes=14)


async def test_fetch_never_logs_token_or_text(
    emulator: TwitterEmulator, make_adapter: AdapterFactory, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.add_message(sender_id=CONTACT_ID, text="secret body text")
    emulator.inject(Fault(kind="rate_limit", endpoint=DM_EVENTS, reset_in=0))
    adapter = make_adapter()

    with caplog.at_level(logging.DEBUG):
        result = await adapter.fetch(None)

    assert len(result.batch.messages) == 1
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "retrying" in logged
    assert TOKEN not in logged
    assert "secret body text" not in logged
