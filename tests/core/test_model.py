"""The normalized model: validation rules and lossless JSON round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pydantic
import pytest

from socialinbox.model import (
    Attachment,
    AttachmentStatus,
    AttachmentType,
    Batch,
    Contact,
    Direction,
    EditEvent,
    Ignored,
    Message,
    MessageKey,
    Platform,
    PostbackEvent,
    ReactionEvent,
)

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
KEY = MessageKey(
    platform=Platform.MESSENGER, account_id="1067280970047460", chat_id="5", message_id="m1"
)


def make_message(**changes: object) -> Message:
    values: dict[str, object] = {
        "key": KEY,
        "direction": Direction.INBOUND,
        "text": "Çekim talebim 3 gündür bekliyor 😟 𝐀𝐁𝐂",
        "sent_at": WHEN,
        "received_at": WHEN,
        "sender": Contact(platform=Platform.MESSENGER, user_id="5", display_name="Gülşen Işık"),
        "attachments": (
            Attachment(type=AttachmentType.IMAGE, media_id="184719329217930000", size=1024),
        ),
        "raw": {"message": {"text": "secret personal text"}},
    }
    values.update(changes)
    return Message.model_validate(values)


def test_message_json_round_trip_is_lossless() -> None:
    message = make_message()

    restored = Message.model_validate_json(message.model_dump_json())

    assert restored == message
    assert restored.text == "Çekim talebim 3 gündür bekliyor 😟 𝐀𝐁𝐂"
    assert restored.attachments[0].media_id == "184719329217930000"


def test_batch_round_trip_keeps_event_types() -> None:
    reaction = ReactionEvent(
        target=KEY, actor_id="5", emojis=("👍",), occurred_at=WHEN, received_at=WHEN
    )
    postback = PostbackEvent(
        conversation=KEY.conversation,
        sender=Contact(platform=Platform.MESSENGER, user_id="5"),
        payload="GET_STARTED",
        occurred_at=WHEN,
        received_at=WHEN,
    )
    batch = Batch(items=(make_message(), reaction, postback))

    restored = Batch.model_validate_json(batch.model_dump_json())

    assert restored == batch
    assert [type(item).__name__ for item in restored.items] == [
        "Message",
        "ReactionEvent",
        "PostbackEvent",
    ]


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(pydantic.ValidationError, match="timezone"):
        make_message(sent_at=datetime(2026, 3, 1, 9, 30))


def test_aware_datetime_is_converted_to_utc() -> None:
    istanbul = timezone(timedelta(hours=3))

    message = make_message(sent_at=datetime(2026, 3, 1, 12, 30, tzinfo=istanbul))

    assert message.sent_at == WHEN
    assert message.sent_at.utcoffset() == timedelta(0)


def test_models_are_frozen() -> None:
    message = make_message()

    with pytest.raises(pydantic.ValidationError):
        message.text = "changed"  # type: ignore[misc]


def test_raw_payload_is_not_in_repr() -> None:
    message = make_message()

    assert "secret personal text" not in repr(message)
    assert message.raw == {"message": {"text": "secret personal text"}}


def test_ids_must_be_strings() -> None:
    with pytest.raises(pydantic.ValidationError):
        MessageKey(platform=Platform.TELEGRAM, account_id="1", chat_id=5, message_id="1")  # type: ignore[arg-type]


def test_event_identity_ignores_receipt_time() -> None:
    first = EditEvent(target=KEY, text="yeni", occurred_at=WHEN, received_at=WHEN)
    redelivered = EditEvent(
        target=KEY, text="yeni", occurred_at=WHEN, received_at=WHEN + timedelta(hours=1)
    )
    other = EditEvent(target=KEY, text="başka", occurred_at=WHEN, received_at=WHEN)

    assert first.identity() == redelivered.identity()
    assert first.identity() != other.identity()


def test_ignored_digest_depends_on_payload_only() -> None:
    first = Ignored.of(Platform.X, {"b": 1, "a": 2}, kind="typing", reason="typing indicator")
    same = Ignored.of(Platform.X, {"a": 2, "b": 1}, kind="typing", reason="typing indicator")

    assert first.digest == same.digest


def test_attachment_status_defaults_to_available() -> None:
    attachment = Attachment(type=AttachmentType.FILE)

    assert attachment.status is AttachmentStatus.AVAILABLE
