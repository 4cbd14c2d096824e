"""Messenger and Instagram "Download your information" thread imports."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from socialinbox.exports import import_paths
from socialinbox.exports.facebook import repair_text
from socialinbox.model import (
    AttachmentStatus,
    AttachmentType,
    ConversationKey,
    Direction,
    Message,
    MessageKind,
    Platform,
)
from socialinbox.store import Store

THREAD = "facebook_message_1_mojibake.json"
CHAT = ConversationKey(
    platform=Platform.MESSENGER, account_id="default", chat_id="export:OdonKertesz_q8x2mv91ab"
)


def by_time(store: Store, conversation: ConversationKey) -> dict[int, Message]:
    return {
        int(message.sent_at.timestamp() * 1000): message
        for message in store.list_messages(conversation)
    }


def test_repair_text_reverses_double_encoding() -> None:
    assert repair_text("G\u00c3\u00bcnayd\u00c4\u00b1n \u00f0\u009f\u0098\u0086") == "Günaydın 😆"
    assert repair_text("plain ASCII") == "plain ASCII"
    # Correct text (a code point above U+00FF, or Latin-1 that is no UTF-8) stays.
    assert repair_text("görüşürüz") == "görüşürüz"
    assert repair_text("café") == "café"


def test_thread_values_repaired(store: Store, exports: Path) -> None:
    report = import_paths(store, [exports / THREAD])

    assert report.files[0].platform is Platform.MESSENGER
    assert report.total.messages_stored == 23
    assert report.total.events == 4
    assert report.total.quarantined == 0
    assert store.counts()["outbox"] == 0

    messages = by_time(store, CHAT)
    assert len(messages) == 23
    turkish = messages[1594368814168]
    assert turkish.text == "Tamam, görüşürüz 👍"
    assert turkish.direction is Direction.INBOUND
    assert turkish.sender is not None
    assert turkish.sender.user_id == "name:Ödön Kertész"
    assert turkish.sender.display_name == "Ödön Kertész"
    assert turkish.chat_title == "Ödön Kertész"
    assert store.reactions(turkish.key) == {"name:Tarr Bence": ("😆",)}

    first = messages[1594372103646]
    assert first.text == "Szia! Megérkezett a csomag? 📦"
    assert first.direction is Direction.OUTBOUND
    assert first.sent_at == datetime(2020, 7, 10, 9, 8, 23, 646000, tzinfo=UTC)

    directions = Counter(message.direction for message in messages.values())
    assert directions == {Direction.OUTBOUND: 14, Direction.INBOUND: 9}

    conversation = store.get_conversation(CHAT)
    assert conversation is not None
    assert conversation.title == "Ödön Kertész"
    assert conversation.contact_user_id == "name:Ödön Kertész"
    assert conversation.is_group is False


def test_thread_media_shares_and_calls(store: Store, exports: Path) -> None:
    import_paths(store, [exports / THREAD])
    messages = by_time(store, CHAT)

    kinds = Counter(
        attachment.type for message in messages.values() for attachment in message.attachments
    )
    assert kinds == {
        AttachmentType.IMAGE: 3,
        AttachmentType.VIDEO: 2,
        AttachmentType.ANIMATION: 3,
        AttachmentType.AUDIO: 2,
        AttachmentType.STICKER: 2,
        AttachmentType.SHARE: 3,
    }
    photo = messages[1568380311677].attachments[0]
    assert photo.status is AttachmentStatus.IN_EXPORT
    assert photo.file_name == (
        "messages/inbox/OdonKertesz_q8x2mv91ab/photos/"
        "94875749_118625276018955_5979711471049746507_n_529170342366712.jpg"
    )
    assert messages[1568133046130].kind is MessageKind.MEDIA
    assert store.reactions(messages[1568133046130].key) == {"name:Tarr Bence": ("😍",)}
    assert messages[1573734321138].kind is MessageKind.STICKER

    share = messages[1575565059339]
    assert share.kind is MessageKind.SHARE
    assert share.text == "Ödön csatolt fájlt küldött."
    assert (
        share.attachments[0].url
        == "https://www.facebook.com/example.profile/posts/1000000000000001"
    )

    call = messages[1559589542518]
    assert call.kind is MessageKind.SERVICE
    assert call.text == "Hívott fél: Ödön."
    missed = messages[1530977130729]
    assert missed.text == "Nem fogadott hívás: Ödön"

    empty = messages[1518036490033]
    assert empty.kind is MessageKind.UNSUPPORTED
    assert empty.text is None
    assert empty.attachments == ()


def test_reimport_stores_nothing(store: Store, exports: Path) -> None:
    first = import_paths(store, [exports / THREAD])
    keys = {message.key for message in store.list_messages(CHAT)}

    again = import_paths(store, [exports / THREAD])

    assert first.total.messages_stored == 23
    assert again.total.messages_stored == 0
    assert again.total.duplicates == 23
    assert again.total.events == 0
    assert {message.key for message in store.list_messages(CHAT)} == keys


def test_identical_messages_get_distinct_keys(store: Store, tmp_path: Path) -> None:
    thread = {
        "participants": [{"name": "Ayşe"}, {"name": "Shop"}],
        "title": "Ayşe",
        "thread_path": "inbox/ayse_1",
        "messages": [
            {"sender_name": "Ayşe", "timestamp_ms": 1700000000000, "content": "ok"},
            {"sender_name": "Ayşe", "timestamp_ms": 1700000000000, "content": "ok"},
        ],
    }
    path = tmp_path / "message_1.json"
    path.write_text(json.dumps(thread))

    report = import_paths(store, [path])
    again = import_paths(store, [path])

    assert report.total.messages_stored == 2
    assert again.total.duplicates == 2


def write_instagram_export(root: Path) -> Path:
    """Write a small Instagram export: the owner's profile and one group thread."""
    profile = root / "personal_information" / "personal_information" / "personal_information.json"
    profile.parent.mkdir(parents=True)
    profile.write_text(
        json.dumps(
            {"profile_user": [{"string_map_data": {"Name": {"value": "Dükkan \u00c3\u0096z"}}}]}
        )
    )
    thread = root / "your_instagram_activity" / "messages" / "inbox" / "ekip_42" / "message_1.json"
    thread.parent.mkdir(parents=True)
    thread.write_text(
        json.dumps(
            {
                "participants": [
                    {"name": "Dükkan \u00c3\u0096z"},
                    {"name": "Zeynep"},
                    {"name": "Can"},
                ],
                "title": "Ekip",
                "messages": [
                    {
                        "sender_name": "Dükkan \u00c3\u0096z",
                        "timestamp_ms": 1700000300000,
                        "content": "Te\u00c5\u009fekk\u00c3\u00bcrler",
                    },
                    {
                        "sender_name": "Zeynep",
                        "timestamp_ms": 1700000200000,
                        "is_unsent": True,
                    },
                    {
                        "sender_name": "Zeynep",
                        "timestamp_ms": 1700000100000,
                        "type": "Subscribe",
                        "users": [{"name": "Can"}],
                    },
                    {"sender_name": "Can", "timestamp_ms": "yesterday", "content": "hi"},
                ],
            }
        )
    )
    return root


def test_instagram_export_folder(store: Store, tmp_path: Path) -> None:
    root = write_instagram_export(tmp_path / "instagram-shop-2024")

    report = import_paths(store, [root])

    assert [item.platform for item in report.files] == [Platform.INSTAGRAM]
    assert report.total.messages_stored == 2
    assert report.total.events == 1
    assert report.total.quarantined == 1
    chat = ConversationKey(
        platform=Platform.INSTAGRAM, account_id="default", chat_id="export:ekip_42"
    )
    thanks, unsent = sorted(store.list_messages(chat), key=lambda item: item.sent_at)[::-1]
    assert thanks.text == "Teşekkürler"
    assert thanks.direction is Direction.OUTBOUND
    assert thanks.is_group is True
    assert unsent.deleted is True
    assert unsent.text is None
    (entry,) = store.list_quarantine()
    assert entry.reason == "instagram export message: timestamp_ms is not a Unix time: 'yesterday'"
    assert entry.location is not None
    assert entry.location.endswith("ekip_42/message_1.json#messages[3]")
