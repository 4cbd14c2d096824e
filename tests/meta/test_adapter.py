"""Messenger and Instagram adapters against the emulator, with a real SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from socialinbox.adapters.base import OutboundMessage
from socialinbox.adapters.meta.adapter import InstagramAdapter, MessengerAdapter, PollCursor
from socialinbox.adapters.meta.graph import Health
from socialinbox.adapters.meta.webhook import create_webhook_app
from socialinbox.errors import AuthError, NotEligible
from socialinbox.model import (
    Attachment,
    AttachmentType,
    Batch,
    ConversationKey,
    Direction,
    Platform,
)
from socialinbox.store import CursorUpdate, Store
from socialinbox.testing._server import BackgroundServer
from socialinbox.testing.meta import MetaEmulator

SECRET = "emulator-app-secret"
PAGE = "1029384756"
IG_ACCOUNT = "17841400538867190"
TOKEN = "EAAG-test-page-token"
START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class BatchSink:
    """Webhook callback that keeps decoded batches for the test to ingest."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []

    def __call__(self, batch: Batch) -> None:
        self.batches.append(batch)

    async def wait_for(self, count: int) -> None:
        for _ in range(500):
            if len(self.batches) >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"expected {count} webhook batches, got {len(self.batches)}")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> Iterator[MetaEmulator]:
    emulator = MetaEmulator(app_secret=SECRET, clock=clock, webhook_retry_delays=(0.01,))
    emulator.add_page(PAGE, access_token=TOKEN, name="Çiçekçi", instagram_id=IG_ACCOUNT)
    with emulator.serve():
        yield emulator


@pytest.fixture
def sink() -> BatchSink:
    return BatchSink()


@pytest.fixture
def receiver(emulator: MetaEmulator, sink: BatchSink) -> Iterator[BackgroundServer]:
    app = create_webhook_app(app_secret=SECRET, verify_token="token", on_batch=sink)
    with BackgroundServer(app, name="meta-webhook") as server:
        emulator.webhook_url = server.base_url + "/"
        yield server


@pytest.fixture
async def messenger(emulator: MetaEmulator, clock: Clock) -> AsyncIterator[MessengerAdapter]:
    adapter = MessengerAdapter(
        page_id=PAGE,
        access_token=TOKEN,
        app_secret=SECRET,
        base_url=emulator.base_url,
        clock=clock,
        page_size=2,
        message_page_size=2,
    )
    yield adapter
    await adapter.close()


@pytest.fixture
async def instagram(emulator: MetaEmulator, clock: Clock) -> AsyncIterator[InstagramAdapter]:
    adapter = InstagramAdapter(
        page_id=PAGE,
        account_id=IG_ACCOUNT,
        access_token=TOKEN,
        base_url=emulator.base_url,
        clock=clock,
    )
    yield adapter
    await adapter.close()


def messenger_conversation(contact: str) -> ConversationKey:
    return ConversationKey(platform=Platform.MESSENGER, account_id=PAGE, chat_id=contact)


# ---------------------------------------------------------------------- polling


async def test_polling_pages_and_stops_at_cursor(
    emulator: MetaEmulator, messenger: MessengerAdapter, clock: Clock
) -> None:
    for index, contact in enumerate(["2401", "2402", "2403"]):
        for minute in range(3):
            emulator.inbound(
                Platform.MESSENGER,
                PAGE,
                contact,
                text=f"mesaj {contact}-{minute}",
                at=START + timedelta(minutes=10 * index + minute),
            )

    first = await messenger.fetch(None)
    assert first.more
    assert first.requests == 3  # one conversations page, one extra message page per conversation
    second = await messenger.fetch(first.cursor)
    assert not second.more
    texts = sorted(m.text or "" for m in (*first.batch.messages, *second.batch.messages))
    assert texts == sorted(f"mesaj {c}-{m}" for c in ["2401", "2402", "2403"] for m in range(3))
    assert PollCursor.parse(second.cursor).since == START + timedelta(minutes=22)

    clock.advance(hours=1)
    emulator.inbound(Platform.MESSENGER, PAGE, "2401", text="yeni mesaj")
    third = await messenger.fetch(second.cursor)
    # The conversation updated in the cursor's own second is read again (the
    # store drops the repeat); older conversations and messages are not.
    assert [m.text for m in third.batch.messages] == ["yeni mesaj", "mesaj 2403-2"]
    assert third.more  # the page was full, so the sweep has not met an older one yet
    fourth = await messenger.fetch(third.cursor)
    assert fourth.batch.messages == ()
    assert not fourth.more
    assert fourth.requests == 1
    assert PollCursor.parse(fourth.cursor) == PollCursor(since=clock.now)


async def test_polling_with_nothing_new(
    emulator: MetaEmulator, messenger: MessengerAdapter
) -> None:
    emulator.inbound(Platform.MESSENGER, PAGE, "2401", text="tek")
    done = await messenger.fetch(None)
    again = await messenger.fetch(done.cursor)
    # Graph times have one-second precision, so the newest second is read again.
    assert [m.text for m in again.batch.messages] == ["tek"]
    assert again.cursor == done.cursor


async def test_instagram_polling_uses_instagram_account(
    emulator: MetaEmulator, instagram: InstagramAdapter
) -> None:
    emulator.inbound(Platform.INSTAGRAM, IG_ACCOUNT, "1100000000000042", text="oi, tudo bem?")
    emulator.inbound(Platform.MESSENGER, PAGE, "2401", text="messenger only")
    result = await instagram.fetch(None)
    (message,) = result.batch.messages
    assert message.key.platform is Platform.INSTAGRAM
    assert message.key.account_id == IG_ACCOUNT
    assert message.key.chat_id == "1100000000000042"
    assert emulator.requests[-1].query["platform"] == "instagram"


async def test_webhook_then_poll_is_stored_once(
    emulator: MetaEmulator,
    messenger: MessengerAdapter,
    receiver: BackgroundServer,
    sink: BatchSink,
    sqlite_url: str,
) -> None:
    envelope = emulator.inbound(
        Platform.MESSENGER, PAGE, "2409", text="Çiçekler ne zaman gelir? 🌷"
    )
    await emulator.deliver(envelope)
    await sink.wait_for(1)

    store = Store.open(sqlite_url)
    try:
        from_webhook = store.ingest(sink.batches[0])
        assert from_webhook.messages_stored == 1
        polled = await messenger.fetch(None)
        cursor = CursorUpdate(
            platform=Platform.MESSENGER,
            account_id=PAGE,
            stream="conversations",
            value=polled.cursor,
        )
        from_poll = store.ingest(polled.batch, cursor=cursor)
        assert from_poll.messages_stored == 0
        assert from_poll.duplicates == 1
        stored = store.list_messages(conversation=messenger_conversation("2409"))
        assert [m.text for m in stored] == ["Çiçekler ne zaman gelir? 🌷"]
        assert store.get_cursor(Platform.MESSENGER, PAGE, "conversations") == polled.cursor
    finally:
        store.close()


# ---------------------------------------------------------------------- sending


async def test_reply_with_images_maps_echoes_to_one_send(
    emulator: MetaEmulator,
    messenger: MessengerAdapter,
    receiver: BackgroundServer,
    sink: BatchSink,
    sqlite_url: str,
) -> None:
    emulator.inbound(Platform.MESSENGER, PAGE, "2410", text="Katalog var mı?")
    outbound = OutboundMessage(
        conversation=messenger_conversation("2410"),
        text="Buyurun, kataloğumuz:",
        attachments=(
            Attachment(type=AttachmentType.IMAGE, url="https://cdn.example/katalog-1.jpg"),
            Attachment(type=AttachmentType.IMAGE, url="https://cdn.example/katalog-2.jpg"),
        ),
        client_ref="reply-0001",
    )
    result = await messenger.send(outbound)
    assert len(result.message_ids) == 3
    assert len(set(result.message_ids)) == 3
    assert [body["message"].get("metadata") for body in emulator.sent] == ["reply-0001"] * 3

    await sink.wait_for(3)
    echoes = [m for batch in sink.batches for m in batch.messages]
    assert sorted(m.key.message_id for m in echoes) == sorted(result.message_ids)
    assert all(m.direction is Direction.OUTBOUND for m in echoes)
    assert all(m.client_ref == "reply-0001" for m in echoes)
    assert sum(len(m.attachments) for m in echoes) == 2

    store = Store.open(sqlite_url)
    try:
        for batch in sink.batches:
            store.ingest(batch)
        stored = store.list_messages(conversation=messenger_conversation("2410"))
        assert {m.client_ref for m in stored} == {"reply-0001"}
    finally:
        store.close()


async def test_instagram_echoes_match_by_message_id(
    emulator: MetaEmulator,
    instagram: InstagramAdapter,
    receiver: BackgroundServer,
    sink: BatchSink,
) -> None:
    emulator.inbound(Platform.INSTAGRAM, IG_ACCOUNT, "1100000000000043", text="fiyat?")
    result = await instagram.send(
        OutboundMessage(
            conversation=ConversationKey(
                platform=Platform.INSTAGRAM, account_id=IG_ACCOUNT, chat_id="1100000000000043"
            ),
            text="120 TL",
            attachments=(Attachment(type=AttachmentType.IMAGE, url="https://cdn.example/u.jpg"),),
            client_ref="reply-0002",
        )
    )
    await sink.wait_for(2)
    echoes = [m for batch in sink.batches for m in batch.messages]
    assert sorted(m.key.message_id for m in echoes) == sorted(result.message_ids)
    assert all(m.key.account_id == IG_ACCOUNT for m in echoes)
    # Instagram has no metadata field, so echoes carry no client_ref.
    assert all(m.client_ref is None for m in echoes)
    assert all("metadata" not in body["message"] for body in emulator.sent)


async def test_platform_refuses_outside_window(
    emulator: MetaEmulator, messenger: MessengerAdapter, clock: Clock
) -> None:
    emulator.inbound(Platform.MESSENGER, PAGE, "2411", text="merhaba")
    clock.advance(hours=30)
    message = OutboundMessage(
        conversation=messenger_conversation("2411"), text="Geç cevap", client_ref="reply-3"
    )
    with pytest.raises(NotEligible) as caught:
        await messenger.send(message)
    assert caught.value.code == 10
    assert caught.value.subcode == 2018278
    assert caught.value.allowed is not None and "HUMAN_AGENT" in caught.value.allowed
    assert messenger.health is Health.OK

    tagged = await messenger.send(message.model_copy(update={"tag": "HUMAN_AGENT"}))
    assert len(tagged.message_ids) == 1
    assert emulator.sent[-1]["messaging_type"] == "MESSAGE_TAG"
    assert emulator.sent[-1]["tag"] == "HUMAN_AGENT"


async def test_local_window_check_uses_last_inbound(emulator: MetaEmulator, clock: Clock) -> None:
    emulator.postback(Platform.MESSENGER, PAGE, "2412", payload="GET_STARTED", title="Başla")
    last_seen = {"2412": clock.now}

    async def last_inbound(conversation: ConversationKey) -> datetime | None:
        return last_seen.get(conversation.chat_id)

    adapter = MessengerAdapter(
        page_id=PAGE,
        access_token=TOKEN,
        base_url=emulator.base_url,
        clock=clock,
        last_inbound=last_inbound,
    )
    try:
        message = OutboundMessage(
            conversation=messenger_conversation("2412"), text="Hoş geldiniz", client_ref="r-4"
        )
        clock.advance(hours=2)
        await adapter.send(message)  # the postback opened the window
        assert emulator.sent[-1]["messaging_type"] == "RESPONSE"
        clock.advance(days=8)
        sent_before = len(emulator.sent)
        with pytest.raises(NotEligible) as caught:
            await adapter.send(message.model_copy(update={"tag": "HUMAN_AGENT"}))
        assert len(emulator.sent) == sent_before  # refused before any request
        assert caught.value.allowed is not None
        assert "waiting for the contact" in caught.value.allowed
    finally:
        await adapter.close()


async def test_instagram_text_limit_is_checked_locally(
    emulator: MetaEmulator, instagram: InstagramAdapter
) -> None:
    emulator.inbound(Platform.INSTAGRAM, IG_ACCOUNT, "1100000000000044", text="uzun?")
    message = OutboundMessage(
        conversation=ConversationKey(
            platform=Platform.INSTAGRAM, account_id=IG_ACCOUNT, chat_id="1100000000000044"
        ),
        text="ğ" * 501,
        client_ref="r-5",
    )
    with pytest.raises(NotEligible, match="1002 bytes"):
        await instagram.send(message)
    assert emulator.sent == []


async def test_page_feed_post(emulator: MetaEmulator, messenger: MessengerAdapter) -> None:
    post_id = await messenger.post_to_feed("Bayramda açığız 🎉", link="https://example.com/duyuru")
    assert post_id.startswith(f"{PAGE}_")
    assert emulator.feed == [
        {
            "id": post_id,
            "message": "Bayramda açığız 🎉",
            "published": True,
            "link": "https://example.com/duyuru",
        }
    ]


async def test_webhooks_accepted_while_reauth_needed(
    emulator: MetaEmulator,
    messenger: MessengerAdapter,
    receiver: BackgroundServer,
    sink: BatchSink,
) -> None:
    emulator.revoke(PAGE)
    with pytest.raises(AuthError):
        await messenger.fetch(None)
    assert messenger.health is Health.NEEDS_REAUTH
    envelope = emulator.inbound(Platform.MESSENGER, PAGE, "2413", text="orada mısınız?")
    delivery = await emulator.deliver(envelope)
    assert delivery.statuses == [200]
    await sink.wait_for(1)
    assert sink.batches[0].messages[0].text == "orada mısınız?"


async def test_transient_error_keeps_credentials(
    emulator: MetaEmulator, messenger: MessengerAdapter
) -> None:
    emulator.inject_error(2, "Hizmet geçici olarak kullanılamıyor", status=503, is_transient=True)
    with pytest.raises(Exception) as caught:
        await messenger.fetch(None)
    assert not isinstance(caught.value, AuthError)
    assert messenger.health is Health.UNAVAILABLE
    result = await messenger.fetch(None)
    assert messenger.health is Health.OK
    assert result.batch.messages == ()
