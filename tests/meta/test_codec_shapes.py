"""Codec cases the corpus does not carry, built from Meta's documented webhook and Graph shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from socialinbox.adapters.base import DecodeContext, OutboundMessage
from socialinbox.adapters.meta.codec import (
    INSTAGRAM_CODEC,
    MESSENGER_CODEC,
    build_send_bodies,
    parse_timestamp,
)
from socialinbox.errors import UsageError
from socialinbox.model import (
    Attachment,
    AttachmentType,
    ContactStatus,
    ContactStatusEvent,
    ConversationKey,
    Direction,
    EditEvent,
    Message,
    MessageKind,
    Platform,
    PostbackEvent,
    ReactionEvent,
)

RECEIVED = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
CONTEXT = DecodeContext(received_at=RECEIVED, location="test")
PAGE = "1234567890"
PSID = "24000000000000001"


def envelope(
    *events: dict[str, Any], object_: str = "page", entry_id: str = PAGE
) -> dict[str, Any]:
    return {
        "object": object_,
        "entry": [{"id": entry_id, "time": 1777000000000, "messaging": list(events)}],
    }


def inbound(body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": 1777000000000,
        **body,
        **extra,
    }


def test_timestamps_in_every_form() -> None:
    expected = datetime(2026, 4, 24, 3, 6, 40, tzinfo=UTC)
    assert parse_timestamp(1777000000000) == expected
    assert parse_timestamp(1777000000) == expected
    assert parse_timestamp("1777000000") == expected
    assert parse_timestamp("1777000000000") == expected
    assert parse_timestamp("2026-04-24T03:06:40+0000") == expected
    assert parse_timestamp("2026-04-24T06:06:40+03:00") == expected
    assert parse_timestamp("2026-04-24T03:06:40") == expected
    with pytest.raises(ValueError):
        parse_timestamp("yesterday")
    with pytest.raises(ValueError):
        parse_timestamp(True)


def test_edit_event_carries_num_edit() -> None:
    payload = envelope(
        inbound({"message_edit": {"mid": "m_1", "text": "düzeltildi", "num_edit": 2}})
    )
    batch = MESSENGER_CODEC.decode(payload, CONTEXT)
    event = batch.items[0]
    assert isinstance(event, EditEvent)
    assert event.target.message_id == "m_1"
    assert event.target.chat_id == PSID
    assert event.text == "düzeltildi"
    assert event.edit_number == 2


def test_reaction_react_and_unreact() -> None:
    react = inbound(
        {"reaction": {"mid": "m_1", "action": "react", "reaction": "love", "emoji": "❤️"}}
    )
    unreact = inbound({"reaction": {"mid": "m_1", "action": "unreact", "reaction": "love"}})
    named_only = inbound({"reaction": {"mid": "m_1", "action": "react", "reaction": "wow"}})
    batch = MESSENGER_CODEC.decode(envelope(react, unreact, named_only), CONTEXT)
    events = [item for item in batch.items if isinstance(item, ReactionEvent)]
    assert [event.emojis for event in events] == [("❤️",), (), ("😮",)]
    assert all(event.actor_id == PSID for event in events)
    assert events[0].target.message_id == "m_1"


def test_postback_field_value_wrapper_with_user_ref() -> None:
    # The newer documented example: every property a string, sender by user_ref.
    payload = {
        "field": "messaging_postbacks",
        "value": {
            "sender": {"user_ref": "5544332211"},
            "recipient": {"id": PAGE},
            "timestamp": "1777000000",
            "postback": {"mid": "m_pb", "title": "Sipariş durumu", "payload": "ORDER_STATUS"},
        },
    }
    assert MESSENGER_CODEC.sniff(payload)
    batch = MESSENGER_CODEC.decode(payload, CONTEXT)
    event = batch.items[0]
    assert isinstance(event, PostbackEvent)
    assert event.sender.user_id == "5544332211"
    assert event.title == "Sipariş durumu"
    assert event.payload == "ORDER_STATUS"
    assert event.conversation.account_id == PAGE
    assert event.occurred_at == datetime(2026, 4, 24, 3, 6, 40, tzinfo=UTC)


def test_message_request_pending_status() -> None:
    batch = MESSENGER_CODEC.decode(envelope(inbound({"message_request": "pending"})), CONTEXT)
    event = batch.items[0]
    assert isinstance(event, ContactStatusEvent)
    assert event.status is ContactStatus.MESSAGE_REQUEST
    assert event.reason == "message_request pending"


def test_echo_metadata_becomes_client_ref() -> None:
    echo = {
        "sender": {"id": PAGE},
        "recipient": {"id": PSID},
        "timestamp": 1777000000000,
        "message": {
            "is_echo": True,
            "app_id": 184719329217930001,
            "metadata": "send-42",
            "mid": "m_echo",
            "text": "Merhaba",
        },
    }
    message = MESSENGER_CODEC.decode(envelope(echo), CONTEXT).messages[0]
    assert message.direction is Direction.OUTBOUND
    assert message.key.chat_id == PSID
    assert message.key.account_id == PAGE
    assert message.client_ref == "send-42"
    assert message.sender is not None and message.sender.user_id == PAGE


def test_sticker_transition_keeps_one_sticker() -> None:
    # Until the transition ends, a sticker arrives both as image+sticker_id and as sticker.
    body = {
        "message": {
            "mid": "m_st",
            "attachments": [
                {
                    "type": "image",
                    "payload": {"url": "https://cdn.example/s.png", "sticker_id": 369239263222822},
                },
                {
                    "type": "sticker",
                    "payload": {"url": "https://cdn.example/s.png", "sticker_id": 369239263222822},
                },
            ],
        }
    }
    message = MESSENGER_CODEC.decode(envelope(inbound(body)), CONTEXT).messages[0]
    assert message.kind is MessageKind.STICKER
    assert len(message.attachments) == 1
    assert message.attachments[0].type is AttachmentType.STICKER
    assert message.attachments[0].media_id == "369239263222822"


@pytest.mark.parametrize(
    ("attachment", "expected_type", "media_id"),
    [
        (
            {"type": "audio", "payload": {"url": "https://cdn.example/a.mp4"}},
            AttachmentType.AUDIO,
            None,
        ),
        (
            {"type": "video", "payload": {"url": "https://cdn.example/v.mp4"}},
            AttachmentType.VIDEO,
            None,
        ),
        (
            {"type": "file", "payload": {"url": "https://cdn.example/f.pdf"}},
            AttachmentType.FILE,
            None,
        ),
        (
            {"type": "reel", "payload": {"url": "https://cdn.example/r", "reel_video_id": 998877}},
            AttachmentType.REEL,
            "998877",
        ),
        (
            {
                "type": "post",
                "payload": {"url": "https://cdn.example/p", "ig_post_media_id": "5566"},
            },
            AttachmentType.POST,
            "5566",
        ),
        (
            {"type": "fallback", "title": "Kampanya sayfası", "url": "https://example.com/k"},
            AttachmentType.FALLBACK,
            None,
        ),
        ({"type": "fallback"}, AttachmentType.FALLBACK, None),
        ({"type": "appointment_booking", "payload": {}}, AttachmentType.OTHER, None),
    ],
)
def test_attachment_types(
    attachment: dict[str, Any], expected_type: AttachmentType, media_id: str | None
) -> None:
    body = {"message": {"mid": "m_a", "attachments": [attachment]}}
    message = MESSENGER_CODEC.decode(envelope(inbound(body)), CONTEXT).messages[0]
    assert message.attachments[0].type is expected_type
    assert message.attachments[0].media_id == media_id


def test_fallback_title_is_kept() -> None:
    body = {
        "message": {
            "mid": "m_f",
            "attachments": [
                {
                    "type": "fallback",
                    "title": "Kampanya sayfası",
                    "url": "https://example.com/k",
                    "payload": None,
                }
            ],
        }
    }
    attachment = MESSENGER_CODEC.decode(envelope(inbound(body)), CONTEXT).messages[0].attachments[0]
    assert attachment.title == "Kampanya sayfası"
    assert attachment.url == "https://example.com/k"


def test_bad_parts_are_quarantined_and_rest_decodes() -> None:
    good = inbound({"message": {"mid": "m_ok", "text": "İyi günler 🌷"}})
    no_mid = inbound({"message": {"text": "kimliksiz"}})
    bad_time = inbound({"message": {"mid": "m_t", "text": "x"}}, timestamp="dün")
    no_sender = {"recipient": {"id": PAGE}, "timestamp": 1, "message": {"mid": "m_s"}}
    bad_attachment = inbound(
        {"message": {"mid": "m_b", "text": "ek", "attachments": ["not-an-object"]}}
    )
    batch = MESSENGER_CODEC.decode(
        envelope(good, no_mid, bad_time, no_sender, bad_attachment, "not-an-event"), CONTEXT
    )
    texts = [message.text for message in batch.messages]
    assert texts == ["İyi günler 🌷", "ek"]
    reasons = [record.reason for record in batch.quarantined]
    assert any("message.mid is missing" in reason for reason in reasons)
    assert any("timestamp is not a valid time" in reason for reason in reasons)
    assert any("sender.id" in reason for reason in reasons)
    assert any("attachments[0]" in reason for reason in reasons)
    assert any("not an object" in reason for reason in reasons)
    assert len(batch.quarantined) == 5
    assert all(record.location == "test" for record in batch.quarantined)


def test_unknown_event_and_handover_are_ignored() -> None:
    handover = inbound({"pass_thread_control": {"new_owner_app_id": "263902037430900"}})
    unknown = inbound({"brand_new_event": {"x": 1}})
    batch = MESSENGER_CODEC.decode(envelope(handover, unknown), CONTEXT)
    assert batch.items == ()
    assert [record.kind for record in batch.ignored] == ["pass_thread_control", "brand_new_event"]
    assert "handover" in batch.ignored[0].reason


def test_non_messaging_change_is_ignored() -> None:
    payload = {
        "object": "page",
        "entry": [
            {"id": PAGE, "time": 1, "changes": [{"field": "feed", "value": {"item": "comment"}}]}
        ],
    }
    batch = MESSENGER_CODEC.decode(payload, CONTEXT)
    assert batch.items == ()
    assert batch.ignored[0].kind == "changes:feed"


@pytest.mark.parametrize("payload", [42, "text", None, {"unexpected": True}, []])
def test_unknown_shapes_never_raise(payload: Any) -> None:
    batch = INSTAGRAM_CODEC.decode(payload, CONTEXT)
    assert batch.items == ()
    if payload != []:
        assert len(batch.quarantined) == 1


def test_graph_conversation_page() -> None:
    page = {
        "data": [
            {
                "id": "t_10",
                "updated_time": "2026-05-04T10:00:00+0000",
                "participants": {
                    "data": [{"id": PSID, "name": "Ayşe Yılmaz"}, {"id": PAGE, "name": "Dükkan"}]
                },
                "messages": {
                    "data": [
                        {
                            "id": "m_out",
                            "created_time": "2026-05-04T10:00:00+0000",
                            "from": {"id": PAGE, "name": "Dükkan"},
                            "to": {"data": [{"id": PSID, "name": "Ayşe Yılmaz"}]},
                            "message": "Siparişiniz yolda",
                        },
                        {
                            "id": "m_in",
                            "created_time": "2026-05-04T09:59:00+0000",
                            "from": {"id": PSID, "name": "Ayşe Yılmaz"},
                            "to": {"data": [{"id": PAGE, "name": "Dükkan"}]},
                            "message": "",
                            "attachments": {
                                "data": [
                                    {
                                        "id": "att1",
                                        "mime_type": "image/jpeg",
                                        "name": "foto.jpg",
                                        "size": 2048,
                                        "image_data": {
                                            "url": "https://cdn.example/foto.jpg",
                                            "width": 640,
                                            "height": 480,
                                        },
                                    },
                                    {
                                        "id": "att2",
                                        "mime_type": "audio/mpeg",
                                        "name": "ses.mp3",
                                        "file_url": "https://cdn.example/ses.mp3",
                                    },
                                ]
                            },
                            "sticker": "https://cdn.example/sticker.png",
                            "shares": {
                                "data": [{"link": "https://example.com/urun", "name": "Ürün"}]
                            },
                        },
                    ]
                },
            }
        ],
        "paging": {"cursors": {"after": "abc"}},
    }
    context = DecodeContext(account_id=PAGE, received_at=RECEIVED)
    batch = MESSENGER_CODEC.decode(page, context)
    outbound, inbound_message = batch.messages
    assert outbound.direction is Direction.OUTBOUND
    assert outbound.key == inbound_message.key.model_copy(update={"message_id": "m_out"})
    assert outbound.key.chat_id == PSID
    assert outbound.text == "Siparişiniz yolda"
    assert inbound_message.direction is Direction.INBOUND
    assert inbound_message.text is None
    assert inbound_message.sender is not None
    assert inbound_message.sender.display_name == "Ayşe Yılmaz"
    assert [a.type for a in inbound_message.attachments] == [
        AttachmentType.IMAGE,
        AttachmentType.AUDIO,
        AttachmentType.SHARE,
        AttachmentType.STICKER,
    ]
    image = inbound_message.attachments[0]
    assert (image.media_id, image.size, image.width, image.file_name) == (
        "att1",
        2048,
        640,
        "foto.jpg",
    )
    assert inbound_message.sent_at == datetime(2026, 5, 4, 9, 59, tzinfo=UTC)


def test_instagram_echo_from_account() -> None:
    ig_account = "17841400000000001"
    igsid = "1100000000000099"
    echo = {
        "sender": {"id": ig_account},
        "recipient": {"id": igsid},
        "timestamp": 1777000000000,
        "message": {"mid": "aWdf_echo", "text": "Teşekkürler!", "is_echo": True},
    }
    batch = INSTAGRAM_CODEC.decode(
        envelope(echo, object_="instagram", entry_id=ig_account), CONTEXT
    )
    message = batch.messages[0]
    assert message.key == message.key.model_copy(
        update={"platform": Platform.INSTAGRAM, "account_id": ig_account, "chat_id": igsid}
    )
    assert message.direction is Direction.OUTBOUND
    assert message.client_ref is None


def test_send_bodies_text_and_images() -> None:
    outbound = OutboundMessage(
        conversation=ConversationKey(platform=Platform.MESSENGER, account_id=PAGE, chat_id=PSID),
        text="Kataloğumuz ektedir",
        attachments=(
            Attachment(type=AttachmentType.IMAGE, url="https://cdn.example/1.jpg"),
            Attachment(type=AttachmentType.IMAGE, media_id="1857777774821032"),
        ),
        client_ref="send-7",
        reply_to="m_q",
    )
    bodies = build_send_bodies(Platform.MESSENGER, outbound, messaging_type="RESPONSE", tag=None)
    assert len(bodies) == 3
    assert bodies[0]["message"] == {"text": "Kataloğumuz ektedir", "metadata": "send-7"}
    assert bodies[0]["reply_to"] == {"mid": "m_q"}
    assert "reply_to" not in bodies[1]
    assert bodies[1]["message"]["attachment"]["payload"] == {
        "url": "https://cdn.example/1.jpg",
        "is_reusable": True,
    }
    assert bodies[2]["message"]["attachment"]["payload"] == {"attachment_id": "1857777774821032"}
    assert all(body["recipient"] == {"id": PSID} for body in bodies)
    assert all(body["message"]["metadata"] == "send-7" for body in bodies)
    instagram = build_send_bodies(
        Platform.INSTAGRAM,
        outbound.model_copy(update={"attachments": ()}),
        messaging_type="MESSAGE_TAG",
        tag="HUMAN_AGENT",
    )
    assert instagram == [
        {
            "recipient": {"id": PSID},
            "messaging_type": "MESSAGE_TAG",
            "message": {"text": "Kataloğumuz ektedir"},
            "tag": "HUMAN_AGENT",
            "reply_to": {"mid": "m_q"},
        }
    ]


def test_send_bodies_reject_unsendable_attachment() -> None:
    outbound = OutboundMessage(
        conversation=ConversationKey(platform=Platform.MESSENGER, account_id=PAGE, chat_id=PSID),
        attachments=(Attachment(type=AttachmentType.LOCATION, url="https://maps.example"),),
        client_ref="send-8",
    )
    with pytest.raises(UsageError, match="location"):
        build_send_bodies(Platform.MESSENGER, outbound, messaging_type="RESPONSE", tag=None)


def test_ids_are_strings_even_when_numbers() -> None:
    event = {
        "sender": {"id": 24000000000000001},
        "recipient": {"id": 1234567890},
        "timestamp": 1777000000000,
        "message": {"mid": "m_n", "text": "sayı"},
    }
    payload = {"object": "page", "entry": [{"id": 1234567890, "time": 1, "messaging": [event]}]}
    message: Message = MESSENGER_CODEC.decode(json.loads(json.dumps(payload)), CONTEXT).messages[0]
    assert message.key.account_id == "1234567890"
    assert message.key.chat_id == "24000000000000001"
