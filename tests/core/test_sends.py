"""The send ledger: outbound messages recorded before the call, echoes matched after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from socialinbox.errors import UsageError
from socialinbox.model import (
    Batch,
    ConversationKey,
    Direction,
    Message,
    MessageKey,
    OutboundMessage,
    Platform,
    SendResult,
)
from socialinbox.store import Store
from tests.storehelpers import T0

CONVERSATION = ConversationKey(platform=Platform.INSTAGRAM, account_id="ig1", chat_id="c9")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store.open(database_url)
    yield opened
    opened.close()


def outbound(client_ref: str = "reply-1") -> OutboundMessage:
    return OutboundMessage(conversation=CONVERSATION, text="Merhaba, talebiniz inceleniyor.", client_ref=client_ref)


def echo(message_id: str, client_ref: str | None = None) -> Message:
    return Message(
        key=MessageKey(platform=Platform.INSTAGRAM, account_id="ig1", chat_id="c9", message_id=message_id),
        direction=Direction.OUTBOUND,
        text="Merhaba, talebiniz inceleniyor.",
        sent_at=T0,
        received_at=T0 + timedelta(seconds=2),
        client_ref=client_ref,
    )


def test_record_send_is_idempotent(store: Store) -> None:
    assert store.record_send(outbound(), author="moderator-ayse") is True
    assert store.record_send(outbound()) is False

    record = store.get_send("reply-1")
    assert record is not None
    assert record.status == "pending"
    assert record.author == "moderator-ayse"


def test_echo_after_completion_is_a_duplicate(store: Store) -> None:
    store.record_send(outbound())
    completed = store.complete_send(outbound(), SendResult(message_ids=("m1", "m2"), sent_at=T0))

    echoes = store.ingest(Batch(items=(echo("m1"), echo("m2"))))

    assert completed.messages_stored == 2
    assert echoes.messages_stored == 0
    assert echoes.duplicates == 2
    stored = store.list_messages(CONVERSATION)
    assert {message.client_ref for message in stored} == {"reply-1"}
    assert [message.text for message in stored] == ["Merhaba, talebiniz inceleniyor.", None]
    record = store.get_send("reply-1")
    assert record is not None
    assert record.status == "sent"
    assert record.platform_message_ids == ("m1", "m2")


def test_echo_before_completion_is_linked(store: Store) -> None:
    store.record_send(outbound())
    store.ingest(Batch(items=(echo("m1"),)))

    store.complete_send(outbound(), SendResult(message_ids=("m1",), sent_at=T0))

    stored = store.list_messages(CONVERSATION)
    assert len(stored) == 1
    assert stored[0].client_ref == "reply-1"


def test_complete_without_record_is_rejected(store: Store) -> None:
    with pytest.raises(UsageError, match="record_send"):
        store.complete_send(outbound("never-recorded"), SendResult(message_ids=("m1",), sent_at=T0))


def test_failed_and_unknown_sends_are_listed(store: Store) -> None:
    store.record_send(outbound("a"))
    store.record_send(outbound("b"))
    store.fail_send("a", "platform refused: outside the messaging window")
    store.fail_send("b", "timed out", status="unknown")

    assert [record.client_ref for record in store.list_sends(status="failed")] == ["a"]
    assert [record.client_ref for record in store.list_sends(status="unknown")] == ["b"]
