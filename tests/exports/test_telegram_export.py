"""Telegram Desktop result.json imports: a channel fragment, one chat, a whole account."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from socialinbox.exports import import_paths
from socialinbox.model import (
    AttachmentStatus,
    AttachmentType,
    ConversationKey,
    Direction,
    MessageKey,
    MessageKind,
    Platform,
)
from socialinbox.store import Store

FRAGMENT = "telegram_desktop_channel_messages_fragment.json"
CHANNEL = ConversationKey(
    platform=Platform.TELEGRAM, account_id="default", chat_id="-1001400000001"
)


def channel_key(message_id: str) -> MessageKey:
    return MessageKey(
        platform=Platform.TELEGRAM,
        account_id="default",
        chat_id=CHANNEL.chat_id,
        message_id=message_id,
    )


def test_channel_fragment_values(store: Store, exports: Path) -> None:
    report = import_paths(store, [exports / FRAGMENT])

    assert report.total.messages_stored == 8
    assert report.total.events == 3  # three edited posts
    assert report.total.quarantined == 0
    ids = [message.key.message_id for message in store.list_messages(CHANNEL)]
    assert ids == ["46552", "46553", "46554", "46555", "46556", "46558", "46654", "46745"]

    edited = store.get_message(channel_key("46553"))
    assert edited is not None
    assert edited.text == (
        "#Myntra Caprese Sling Bags / Wallets At Huge Discounts From @ ₹559\n\n🔗"
        "https://extp.in/EXAMPL\n\n❌Regular price @ ₹1,599"
    )
    assert edited.edit_count == 1
    # date_unixtime and edited_unixtime are UTC; the naive date fields are the
    # exporting computer's local time (here UTC+05:30).
    assert store.revisions(edited.key)[0][0] == datetime(2023, 1, 7, 9, 16, 17, tzinfo=UTC)
    assert edited.sent_at == datetime(2023, 1, 7, 7, 9, 1, tzinfo=UTC)
    assert edited.kind is MessageKind.MEDIA
    assert edited.direction is Direction.INBOUND
    assert edited.is_group is True
    assert edited.sender is not None
    assert edited.sender.user_id == "chat:-1001400000001"
    assert edited.sender.display_name == "Demo Deals🔥🔥🔥"
    (photo,) = edited.attachments
    assert photo.type is AttachmentType.IMAGE
    assert photo.status is AttachmentStatus.NOT_INCLUDED
    assert photo.file_name is None
    assert (photo.width, photo.height) == (818, 413)

    festive = store.get_message(channel_key("46556"))
    assert festive is not None
    assert festive.text == (
        "🎉 Pongal & Sanranti Shopping Store ⚡️ Up to 80% Off\n\nhttps://amzn.to/EXAMPL06"
    )
    text_only = store.get_message(channel_key("46654"))
    assert text_only is not None
    assert text_only.kind is MessageKind.TEXT
    assert text_only.attachments == ()
    assert text_only.text is not None and text_only.text.endswith("Offer Expires Tomorrow. Hurry")


def test_fragment_reimport_stores_nothing(store: Store, exports: Path) -> None:
    import_paths(store, [exports / FRAGMENT])

    again = import_paths(store, [exports / FRAGMENT])

    assert again.total.messages_stored == 0
    assert again.total.events == 0
    assert again.total.duplicates == 8


def single_chat() -> dict[str, object]:
    return {
        "name": "Elif Yılmaz",
        "type": "personal_chat",
        "id": 5550001,
        "messages": [
            {
                "id": 10,
                "type": "message",
                "date": "2024-02-01T10:00:00",
                "date_unixtime": "1706781600",
                "from": "Elif Yılmaz",
                "from_id": "user5550001",
                "text": "Merhaba, kargo nerede?",
                "reactions": [
                    {
                        "type": "emoji",
                        "count": 1,
                        "emoji": "👍",
                        "recent": [
                            {
                                "from": "Me",
                                "from_id": "user777",
                                "date": "2024-02-01T10:05:00",
                                "date_unixtime": "1706781900",
                            }
                        ],
                    }
                ],
            },
            {
                "id": 11,
                "type": "message",
                "date_unixtime": "1706781700",
                "from": "Me",
                "from_id": "user777",
                "reply_to_message_id": 10,
                "text": [{"type": "bold", "text": "Yarın"}, " teslim edilecek."],
            },
            {
                "id": 12,
                "type": "message",
                "date_unixtime": "1706781800",
                "from": "Elif Yılmaz",
                "from_id": "user5550001",
                "forwarded_from": "Kargo Bot",
                "file": "voice_messages/audio_1.ogg",
                "media_type": "voice_message",
                "mime_type": "audio/ogg",
                "duration_seconds": 4,
                "text": "",
            },
            {
                "id": 13,
                "type": "service",
                "date_unixtime": "1706781900",
                "actor": "Me",
                "actor_id": "user777",
                "action": "pin_message",
                "message_id": 10,
                "text": "",
            },
            {"id": 14, "type": "message", "from_id": "user5550001", "text": "no date"},
        ],
    }


def test_single_chat_with_owner(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "ChatExport_2024-02-02" / "result.json"
    path.parent.mkdir()
    path.write_text(json.dumps(single_chat(), ensure_ascii=False))

    report = import_paths(store, [path], own_user_ids=frozenset({"777"}))

    assert report.total.messages_stored == 3
    assert report.total.ignored == 1
    assert report.total.reasons == {
        "service message, not a conversation message": 1,
        "Telegram export message: date_unixtime and date are missing": 1,
    }
    chat = ConversationKey(platform=Platform.TELEGRAM, account_id="default", chat_id="5550001")
    question, answer, voice = store.list_messages(chat)
    assert question.direction is Direction.INBOUND
    assert question.is_group is False
    assert store.reactions(question.key) == {"777": ("👍",)}
    assert answer.direction is Direction.OUTBOUND
    assert answer.text == "Yarın teslim edilecek."
    assert answer.reply_to == "10"
    assert voice.forwarded_from == "Kargo Bot"
    assert voice.text is None
    (attachment,) = voice.attachments
    assert attachment.type is AttachmentType.VOICE
    assert attachment.file_name == "voice_messages/audio_1.ogg"
    assert attachment.mime_type == "audio/ogg"
    assert attachment.duration == 4.0
    (entry,) = store.list_quarantine()
    assert entry.location == f"{path}#messages[4]"


def test_full_export_marks_owner_outbound(store: Store, tmp_path: Path) -> None:
    group = {
        "name": "Destek",
        "type": "private_supergroup",
        "id": 1987654321,
        "messages": [
            {
                "id": 5,
                "type": "service",
                "date_unixtime": "1706781600",
                "actor": "Can",
                "actor_id": "user4242",
                "action": "join_group_by_link",
                "text": "",
            },
            {
                "id": 6,
                "type": "message",
                "date_unixtime": "1706781601",
                "from": "Me",
                "from_id": "user777",
                "text": "Hoş geldin Can!",
            },
        ],
    }
    document = {
        "personal_information": {"user_id": 777, "first_name": "Me"},
        "chats": {"about": "", "list": [single_chat(), group]},
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(document, ensure_ascii=False))

    report = import_paths(store, [path], account_id="shop")

    assert report.total.messages_stored == 4
    assert report.total.events == 2  # the reaction and the join
    welcome = store.get_message(
        MessageKey(
            platform=Platform.TELEGRAM, account_id="shop", chat_id="-1001987654321", message_id="6"
        )
    )
    assert welcome is not None
    assert welcome.direction is Direction.OUTBOUND
    assert welcome.chat_title == "Destek"
    conversation = store.get_conversation(welcome.key.conversation)
    assert conversation is not None and conversation.is_group is True
    (entry,) = store.list_quarantine()
    assert entry.location == f"{path}#chats[0].messages[4]"
