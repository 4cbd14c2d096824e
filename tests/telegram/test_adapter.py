"""End to end through the real python-telegram-bot client against the emulator."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import pytest

from socialinbox.adapters.base import FetchResult, OutboundMessage
from socialinbox.adapters.telegram.transport import BotBlocked, ChatMigrated
from socialinbox.errors import AuthError, RateLimited, TransportError, UsageError
from socialinbox.model import (
    Attachment,
    AttachmentType,
    ContactStatus,
    ConversationKey,
    Direction,
    Platform,
)
from socialinbox.store import CursorUpdate, Store
from socialinbox.testing.telegram import Limits, TelegramEmulator
from tests.telegram.conftest import BOT_ID, GROUP, PERSON, TOKEN, AdapterFactory

ACCOUNT = str(BOT_ID)
STREAM = "updates"


def ingest(store: Store, result: FetchResult) -> int:
    cursor = None
    if result.cursor is not None:
        cursor = CursorUpdate(
            platform=Platform.TELEGRAM, account_id=ACCOUNT, stream=STREAM, value=result.cursor
        )
    return store.ingest(result.batch, cursor=cursor).messages_stored


def stored_cursor(store: Store) -> str | None:
    return store.get_cursor(Platform.TELEGRAM, ACCOUNT, STREAM)


def outbound(chat_id: int | str, text: str | None = None, **fields: object) -> OutboundMessage:
    return OutboundMessage(
        conversation=ConversationKey(
            platform=Platform.TELEGRAM, account_id=ACCOUNT, chat_id=str(chat_id)
        ),
        text=text,
        client_ref="ref-1",
        **fields,
    )


def add_conversation(emulator: TelegramEmulator, prefix: str) -> None:
    emulator.add_message(PERSON, f"{prefix} merhaba İstanbul 🌙")
    emulator.add_message(GROUP, f"{prefix} grupta bir soru")
    for number in range(2):
        emulator.add_message(
            GROUP,
            caption=f"{prefix} albüm" if number == 1 else None,
            media_group_id=f"{prefix}-album",
            photo=[
                {"file_id": f"{prefix}-p{number}", "file_unique_id": "u", "width": 9, "height": 9}
            ],
            date=int(time.time()) - 60,
        )


async def test_crash_between_fetch_and_store_loses_and_doubles_nothing(
    emulator: TelegramEmulator, make_adapter: AdapterFactory, sqlite_url: str
) -> None:
    add_conversation(emulator, "ilk")
    store = Store.open(sqlite_url)

    # Poll, then crash before the batch is stored: the FetchResult is dropped.
    crashed = make_adapter()
    lost = await crashed.fetch(stored_cursor(store))
    assert len(lost.batch.messages) == 3  # the two album photos are one message
    await crashed.close()
    del crashed
    assert len(emulator.pending_updates) == 4  # nothing was confirmed on the server

    add_conversation(emulator, "ikinci")  # more arrives while we are down

    # Restart from the stored cursor (still none): everything comes again.
    adapter = make_adapter()
    first = await adapter.fetch(stored_cursor(store))
    assert ingest(store, first) == 6
    assert stored_cursor(store) == first.cursor
    assert first.cursor == str(max(u["update_id"] for u in emulator.pending_updates) + 1)

    # Crash right after the store commit, restart again: the offset confirms,
    # the server drops the updates, and nothing new is returned or stored.
    await adapter.close()
    adapter = make_adapter()
    second = await adapter.fetch(stored_cursor(store))
    assert second.batch.items == ()
    assert second.cursor is None
    assert emulator.pending_updates == []
    assert ingest(store, second) == 0

    # The batch fetched before the crash, ingested late, doubles nothing.
    assert ingest(store, lost) == 0
    messages = store.list_messages(platform=Platform.TELEGRAM)
    texts = sorted(m.text or "" for m in messages)
    assert texts == sorted(
        f"{prefix} {body}"
        for prefix in ("ilk", "ikinci")
        for body in ("merhaba İstanbul 🌙", "grupta bir soru", "albüm")
    )
    albums = [m for m in messages if m.attachments]
    assert sorted(len(m.attachments) for m in albums) == [2, 2]
    offsets = [r.params.get("offset") for r in emulator.requests if r.method == "getupdates"]
    assert offsets == [None, None, int(first.cursor)]
    # allowed_updates is sent explicitly on every poll
    polls = [r for r in emulator.requests if r.method == "getupdates"]
    assert all("message_reaction" in r.params["allowed_updates"] for r in polls)
    store.close()


async def test_a_drifted_update_is_quarantined_and_polling_moves_on(
    emulator: TelegramEmulator, make_adapter: AdapterFactory, corpus: object, sqlite_url: str
) -> None:
    from pathlib import Path

    assert isinstance(corpus, Path)
    emulator.add_updates(corpus / "telegram" / "getupdates_update_with_unparseable_message.json")
    emulator.add_message(PERSON, "sonraki")
    adapter = make_adapter()
    result = await adapter.fetch(None)
    assert [q.reason for q in result.batch.quarantined] == ["message is a str, not an object"]
    assert [m.text for m in result.batch.messages] == ["sonraki"]
    store = Store.open(sqlite_url)
    ingest(store, result)
    assert (await adapter.fetch(stored_cursor(store))).batch.items == ()
    assert emulator.pending_updates == []
    store.close()


async def test_an_album_cut_by_the_limit_waits_for_the_next_batch(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    emulator.add_message(PERSON, "bir")
    emulator.add_message(PERSON, "iki")
    for number in range(3):
        emulator.add_message(
            PERSON, media_group_id="A", document={"file_id": f"d{number}"}, date=1_700_000_000
        )
    adapter = make_adapter(limit=3)
    first = await adapter.fetch(None)
    assert [m.text for m in first.batch.messages] == ["bir", "iki"]
    assert first.more is True
    second = await adapter.fetch(first.cursor)
    (album,) = second.batch.messages
    assert [a.media_id for a in album.attachments] == ["d0", "d1", "d2"]


async def test_a_fresh_album_is_held_for_the_grace_period(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    emulator.add_message(
        PERSON, media_group_id="B", photo=[{"file_id": "p0", "width": 1, "height": 1}]
    )
    adapter = make_adapter(album_grace=1.0)
    held = await adapter.fetch(None)
    assert held.batch.items == () and held.cursor is None and held.more is True
    emulator.add_message(
        PERSON, media_group_id="B", photo=[{"file_id": "p1", "width": 1, "height": 1}]
    )
    deadline = time.monotonic() + 10
    result = held
    while not result.batch.items and time.monotonic() < deadline:
        result = await adapter.fetch(None)
    (album,) = result.batch.messages
    assert [a.media_id for a in album.attachments] == ["p0", "p1"]


async def test_send_splits_long_text_and_replies_with_the_first_part(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    question = emulator.add_message(PERSON, "uzun bir cevap lütfen")
    adapter = make_adapter()
    text = ("Çok uzun bir paragraf 🌙 İyi günler. " * 150 + "\n\n") * 2
    result = await adapter.send(
        outbound(PERSON, text, reply_to=str(question["message"]["message_id"]))
    )
    sent = emulator.sent
    assert len(sent) == len(result.message_ids) >= 3
    assert (
        "".join(m.text or "" for m in sent) == text.rstrip()
        or "".join(m.source or "" for m in sent) == text
    )
    assert all(len((m.source or "").encode("utf-16-le")) // 2 <= 4096 for m in sent)
    assert [m.reply_to_message_id for m in sent] == [question["message"]["message_id"]] + [None] * (
        len(sent) - 1
    )
    assert result.message_ids == tuple(str(m.message_id) for m in sent)
    assert result.sent_at.tzinfo is not None


async def test_send_html_parts_each_parse(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    adapter = make_adapter(parse_mode="HTML")
    block = "<b>Duyuru</b> &lt;önemli&gt; " + "<i>" + "kelime " * 400 + "</i>\n"
    await adapter.send(outbound(GROUP, block * 3))
    sent = emulator.sent
    assert len(sent) >= 2
    assert all(m.parse_mode == "HTML" for m in sent)
    assert all(m.source and m.source.count("<i>") == m.source.count("</i>") for m in sent)
    with pytest.raises(Exception, match="can't find end tag"):
        await adapter.send(outbound(GROUP, "<b>açık kaldı"))


async def test_send_media_with_caption_by_file_id_and_url(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    stored = emulator.add_file(b"%PDF-1.4", file_name="fatura.pdf", mime_type="application/pdf")
    adapter = make_adapter()
    photo = Attachment(type=AttachmentType.IMAGE, url="https://example.com/foto.jpg")
    await adapter.send(outbound(PERSON, "Fotoğraf ektedir", attachments=(photo,)))
    document = Attachment(type=AttachmentType.FILE, media_id=stored.file_id, file_name="fatura.pdf")
    long_text = "a" * 1500  # too long for a caption: text first, then the document
    await adapter.send(outbound(PERSON, long_text, attachments=(document,)))
    methods = [(m.method, m.params.get("caption")) for m in emulator.sent]
    assert methods == [
        ("sendPhoto", "Fotoğraf ektedir"),
        ("sendMessage", None),
        ("sendDocument", None),
    ]
    with pytest.raises(UsageError):
        await adapter.send(outbound(PERSON))


async def test_retry_after_is_honoured(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    emulator.inject("rate_limit", method="sendMessage", retry_after=1)
    adapter = make_adapter()
    started = time.monotonic()
    await adapter.send(outbound(PERSON, "tekrar dene"))
    assert time.monotonic() - started >= 0.9
    statuses = [r.status for r in emulator.requests if r.method == "sendMessage"]
    assert statuses == [429, 200]


async def test_a_retry_after_beyond_the_cap_is_raised(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    emulator.inject("rate_limit", method="sendMessage", retry_after=40)
    adapter = make_adapter(max_retry_after=3)
    with pytest.raises(RateLimited) as caught:
        await adapter.send(outbound(PERSON, "sonra"))
    assert caught.value.retry_after == timedelta(seconds=40)
    assert caught.value.platform == "telegram"
    assert [r.status for r in emulator.requests if r.method == "sendMessage"] == [429]


async def test_flood_limits_with_and_without_pacing(make_adapter: AdapterFactory) -> None:
    with TelegramEmulator(TOKEN, limits=Limits()) as limited:
        limited.add_chat(PERSON)
        text = "x" * 4000 + " " + "y" * 4000  # two messages to one chat
        unpaced = make_adapter(limited, pace=False)
        await unpaced.send(outbound(PERSON, text))
        assert [r.status for r in limited.requests if r.method == "sendMessage"] == [200, 429, 200]
        limited_requests = len(limited.requests)
        await asyncio.sleep(1.1)
        paced = make_adapter(limited, pace=True)
        await paced.send(outbound(PERSON, text))
        assert [
            r.status for r in limited.requests[limited_requests:] if r.method == "sendMessage"
        ] == [
            200,
            200,
        ]


async def test_blocked_contact_is_marked_and_stored(
    emulator: TelegramEmulator, make_adapter: AdapterFactory, sqlite_url: str
) -> None:
    emulator.block(PERSON)
    adapter = make_adapter()
    with pytest.raises(BotBlocked) as caught:
        await adapter.send(outbound(PERSON, "merhaba"))
    event = caught.value.contact_status
    assert event.status is ContactStatus.BLOCKED_US
    assert event.contact.user_id == str(PERSON)
    assert caught.value.status == 403
    store = Store.open(sqlite_url)
    from socialinbox.model import Batch

    store.ingest(Batch(items=(event,)))
    assert store.contact_status(Platform.TELEGRAM, ACCOUNT, str(PERSON)) is ContactStatus.BLOCKED_US
    store.close()


async def test_a_migrated_group_is_followed(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    old, new = -4001, -1004001
    emulator.add_chat(old, type="group", title="Eski grup")
    emulator.migrate(old, new)
    seen: list[tuple[str, str]] = []
    adapter = make_adapter(on_chat_migrated=lambda a, b: seen.append((a, b)))
    result = await adapter.send(outbound(old, "taşındık"))
    assert seen == [(str(old), str(new))]
    assert adapter.migrations == {str(old): str(new)}
    assert [m.chat_id for m in emulator.sent] == [new]
    assert len(result.message_ids) == 1
    await adapter.send(outbound(old, "yine"))  # straight to the new chat now
    assert [m.chat_id for m in emulator.sent] == [new, new]
    strict = make_adapter(follow_migrations=False)
    with pytest.raises(ChatMigrated) as caught:
        await strict.send(outbound(old, "x"))
    assert caught.value.migrate_to_chat_id == new


async def test_the_token_never_reaches_logs_or_errors(
    emulator: TelegramEmulator, make_adapter: AdapterFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = TOKEN.split(":", 1)[1]
    emulator.add_message(PERSON, "gizli mi?")
    emulator.inject("server_error", method="getupdates", status=502)
    adapter = make_adapter()
    await adapter.fetch(None)
    emulator.inject("rate_limit", method="sendMessage", retry_after=60)
    with pytest.raises(RateLimited) as caught:
        await adapter.send(outbound(PERSON, "x"))
    assert secret not in repr(adapter) + repr(adapter.transport) + str(caught.value)
    assert caplog.records
    assert secret not in caplog.text


async def test_invalid_token_is_an_auth_error(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    adapter = make_adapter(token=f"{BOT_ID}:wrong-token")
    with pytest.raises(AuthError) as caught:
        await adapter.fetch(None)
    assert "wrong-token" not in str(caught.value)
    working = make_adapter()
    await working.fetch(None)
    emulator.inject("unauthorized", method="getupdates")
    with pytest.raises(AuthError):
        await working.fetch(None)


async def test_transient_poll_failures_are_retried(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    emulator.add_message(PERSON, "sabır")
    emulator.inject("server_error", method="getupdates", status=502)
    emulator.inject("malformed", method="getupdates")
    adapter = make_adapter()
    result = await adapter.fetch(None)
    assert [m.text for m in result.batch.messages] == ["sabır"]
    assert result.requests == 3


async def test_persistent_failures_become_transport_errors(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    adapter = make_adapter(max_attempts=2)
    await adapter.start()
    emulator.inject("malformed", method="getupdates", times=2)
    with pytest.raises(TransportError):
        await adapter.fetch(None)
    emulator.inject("timeout", method="getupdates", delay=2.0)
    quick = make_adapter(timeout=0.3, max_attempts=1)
    await quick.start()
    with pytest.raises(TransportError):
        await quick.fetch(None)


async def test_a_send_is_not_retried_after_a_server_error(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    emulator.inject("server_error", method="sendMessage", status=500)
    adapter = make_adapter()
    with pytest.raises(TransportError):
        await adapter.send(outbound(PERSON, "belki gitti"))
    assert [r.status for r in emulator.requests if r.method == "sendMessage"] == [500]
    emulator.inject("server_error", method="sendMessage", status=500)
    retrying = make_adapter(retry_sends_on_network_error=True)
    await retrying.send(outbound(PERSON, "yeniden"))
    assert [m.text for m in emulator.sent] == ["yeniden"]


async def test_announce_to_a_channel_and_business_replies(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    emulator.add_chat(-1009999, type="channel", title="Duyurular", username="duyurular")
    adapter = make_adapter()
    await adapter.announce("@duyurular", "<b>Bakım</b> yarın", parse_mode="HTML")
    (post,) = emulator.sent
    assert post.chat_id == -1009999 and post.text == "Bakım yarın"
    assert post.message["sender_chat"]["title"] == "Duyurular"
    await adapter.send(outbound(f"business:BC1:{PERSON}", "işletme adına"))
    assert emulator.sent[-1].params["business_connection_id"] == "BC1"
    assert emulator.sent[-1].chat_id == PERSON


async def test_download_and_the_size_limit(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    small = emulator.add_file(b"merhaba", file_name="a.txt")
    big = emulator.add_file(b"0", file_name="b.bin", size=21 * 1024 * 1024)
    adapter = make_adapter()
    assert await adapter.download(small.file_id) == b"merhaba"
    with pytest.raises(Exception, match="too big"):
        await adapter.download(big.file_id)


async def test_own_messages_are_outbound(
    emulator: TelegramEmulator, make_adapter: AdapterFactory
) -> None:
    emulator.add_message(
        PERSON, "ben yazdım", from_user={"id": 999, "is_bot": False, "first_name": "Ajan"}
    )
    adapter = make_adapter(own_user_ids=["999"])
    (message,) = (await adapter.fetch(None)).batch.messages
    assert message.direction is Direction.OUTBOUND
    assert message.key.account_id == ACCOUNT
