"""Every file of the shared Telegram corpus, through replay, with its normalized values."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialinbox.adapters.base import DecodeContext
from socialinbox.adapters.telegram.codec import CODEC
from socialinbox.model import (
    AttachmentStatus,
    AttachmentType,
    Batch,
    ContactStatus,
    ContactStatusEvent,
    Direction,
    EditEvent,
    Message,
    MessageKind,
    Platform,
    ReactionEvent,
)
from socialinbox.replay import decode_file, replay_file
from socialinbox.store import Store

ALL_CHATS = {"chat_types": ["private", "group", "supergroup", "channel"]}


def corpus_file(corpus: Path, name: str) -> Path:
    return corpus / "telegram" / name


def replayed(corpus: Path, name: str) -> Batch:
    platform, batch = decode_file(corpus_file(corpus, name))
    assert platform is Platform.TELEGRAM
    return batch


def decoded(corpus: Path, name: str, **options: object) -> Batch:
    """Decode a file the way replay does, with codec options replay does not pass."""
    import json

    path = corpus_file(corpus, name)
    context = DecodeContext(location=str(path), options=options)
    if path.suffix == ".jsonl":
        lines = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        return CODEC.decode(lines, context)
    return CODEC.decode(json.loads(path.read_bytes()), context)


def only_message(batch: Batch) -> Message:
    assert len(batch.messages) == 1, batch
    return batch.messages[0]


def test_every_corpus_file_is_recognised_and_accounted_for(corpus: Path) -> None:
    files = sorted((corpus / "telegram").iterdir())
    assert len(files) >= 14
    for path in files:
        platform, batch = decode_file(path)
        assert platform is Platform.TELEGRAM, path.name
        produced = len(batch.items) + len(batch.ignored) + len(batch.quarantined)
        assert produced > 0, path.name
        for record in batch.quarantined:
            assert record.reason
            assert record.location is not None
        for ignored in batch.ignored:
            assert ignored.reason and ignored.kind


def test_replay_of_the_whole_corpus_into_sqlite(corpus: Path, sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    reports = {
        path.name: replay_file(store, path) for path in sorted((corpus / "telegram").iterdir())
    }
    stored = sum(report.result.messages_stored for report in reports.values())
    quarantined = sum(report.result.quarantined for report in reports.values())
    # 6 single messages + the supergroup dump's 5 (its 2-document album is one message)
    # - 1 channel sticker counted as ignored by default
    assert stored == 10
    assert quarantined == 2
    entries = store.list_quarantine()
    assert sorted(entry.reason for entry in entries) == [
        "invalid UTF-8 at byte 23",
        "message is a str, not an object",
    ]
    again = replay_file(
        store,
        corpus_file(corpus, "webhook_dumps_supergroup_text_voice_photos_document_album.jsonl"),
    )
    assert again.result.messages_stored == 0
    store.close()


def test_supergroup_webhook_dumps_and_album(corpus: Path) -> None:
    batch = replayed(corpus, "webhook_dumps_supergroup_text_voice_photos_document_album.jsonl")
    messages = batch.messages
    assert [m.key.message_id for m in messages] == ["55", "56", "57", "58", "59"]
    assert {m.key.chat_id for m in messages} == {"-1003900000001"}
    assert {m.key.account_id for m in messages} == {"default"}
    assert all(m.is_group and m.chat_title == "Harbor-Service-Group" for m in messages)
    assert all(m.direction is Direction.INBOUND for m in messages)
    assert messages[0].text == "wewew" and messages[0].kind is MessageKind.TEXT
    assert messages[0].sender is not None
    assert messages[0].sender.user_id == "1600000042"
    assert messages[0].sender.username == "n_helpdesk"
    assert messages[0].sender.is_bot is False
    assert messages[0].sent_at == datetime.fromtimestamp(1776972025, UTC)

    voice = messages[1].attachments
    assert [(a.type, a.duration, a.mime_type, a.size) for a in voice] == [
        (AttachmentType.VOICE, 3.0, "audio/ogg", 14663)
    ]
    # two photos in the same second without media_group_id stay two messages;
    # each keeps only its largest size
    assert messages[2].text is None
    assert [(a.width, a.height, a.size) for a in messages[2].attachments] == [(1280, 960, 63485)]
    assert messages[3].text == "OK - some mages"
    assert [(a.width, a.height) for a in messages[3].attachments] == [(720, 1280)]
    assert messages[3].attachments[0].media_id is not None
    assert messages[3].attachments[0].media_id.endswith("AAN5AAM7BA")
    # the two documents sharing a media_group_id: one message, key of the first,
    # caption from the last
    album = messages[4]
    assert album.key.message_id == "59"
    assert album.text == "rrrrrrrrrrrr"
    assert album.kind is MessageKind.MEDIA
    assert [(a.type, a.file_name, a.mime_type) for a in album.attachments] == [
        (AttachmentType.FILE, "ChatGPT Image Apr 22, 2026, 10_29_57 AM.png", "image/png"),
        (AttachmentType.FILE, "ChatGPT Image Apr 22, 2026, 06_37_37 AM.png", "image/png"),
    ]
    assert album.raw is not None
    assert album.raw["media_group_id"] == "14215776976937444"
    assert [u["update_id"] for u in album.raw["updates"]] == [449012337, 449012338]


def test_album_items_one_webhook_at_a_time_stay_separate(corpus: Path) -> None:
    """A webhook body holds one update: the codec cannot see the album's other items."""
    import json

    path = corpus_file(corpus, "webhook_dumps_supergroup_text_voice_photos_document_album.jsonl")
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    context = DecodeContext()
    separate = [CODEC.decode(line, context) for line in lines[-2:]]
    assert [only_message(b).key.message_id for b in separate] == ["59", "60"]
    assert [only_message(b).text for b in separate] == [None, "rrrrrrrrrrrr"]
    merged = CODEC.decode(lines[-2:], context)
    assert only_message(merged).key.message_id == "59"
    assert len(only_message(merged).attachments) == 2


def test_channel_photo_in_several_sizes_is_one_attachment(corpus: Path) -> None:
    default = replayed(corpus, "channel_post_photo_multiple_sizes.json")
    assert default.items == ()
    assert [(i.kind, i.reason) for i in default.ignored] == [
        ("channel_post", "channel chats are not ingested for this account (option chat_types)")
    ]
    message = only_message(decoded(corpus, "channel_post_photo_multiple_sizes.json", **ALL_CHATS))
    assert message.key.chat_id == "123456789"
    assert message.key.message_id == "9"
    assert message.sender is None  # a channel post without sender_chat is anonymous
    assert message.chat_title == "Bot Channel"
    assert message.kind is MessageKind.MEDIA
    (photo,) = message.attachments
    assert (photo.type, photo.media_id, photo.width, photo.height) == (
        AttachmentType.IMAGE,
        "photofileid3",
        720,
        654,
    )
    assert photo.status is AttachmentStatus.AVAILABLE


def test_channel_post_key_with_private_chat_follows_the_chat_type(corpus: Path) -> None:
    message = only_message(
        replayed(corpus, "channel_post_key_with_private_chat_animated_sticker.json")
    )
    assert message.key.chat_id == "111111"
    assert message.key.message_id == "273"
    assert message.is_group is False
    assert message.kind is MessageKind.STICKER
    (sticker,) = message.attachments
    assert sticker.is_animated is True
    assert sticker.title == "😄"
    assert sticker.mime_type == "application/x-tgsticker"


def test_sticker_with_integer_animated_flag_and_64_bit_update_id(corpus: Path) -> None:
    message = only_message(replayed(corpus, "message_sticker_is_animated_integer.json"))
    assert message.key.chat_id == "23"
    assert message.sender is not None
    assert message.sender.display_name == "Sevgi Öztürk"
    (sticker,) = message.attachments
    assert sticker.is_animated is True
    assert sticker.size == 7340


def test_documents_with_and_without_mime_type(corpus: Path) -> None:
    legacy = only_message(replayed(corpus, "message_document_pdf_legacy_from_without_is_bot.json"))
    assert legacy.sender is not None
    assert legacy.sender.is_bot is None  # missing in old payloads
    assert legacy.sender.display_name == "Test Firstname2 Test Lastname2"
    (pdf,) = legacy.attachments
    assert (pdf.type, pdf.mime_type, pdf.file_name, pdf.size) == (
        AttachmentType.FILE,
        "application/pdf",
        "blockposter-162412.pdf",
        3622849,
    )
    assert pdf.media_id == "BQADAgADDgAD7x6ZSC_-1LMkOEmoAg"  # the file, not its thumbnail
    bare = only_message(replayed(corpus, "message_document_without_mime_type.json"))
    (document,) = bare.attachments
    assert (document.media_id, document.mime_type, document.file_name) == (
        "documentfileid",
        None,
        None,
    )


def test_edits_of_text_caption_and_business_message(corpus: Path) -> None:
    batch = replayed(corpus, "edited_caption_and_edited_business_message.jsonl")
    edits = [item for item in batch.items if isinstance(item, EditEvent)]
    assert [(e.target.chat_id, e.target.message_id, e.text) for e in edits] == [
        ("789", "48", "updated message"),
        ("789", "49", "updated caption"),
        # a business chat has its own message ids: kept apart from the bot's chat
        ("business::789", "48", "updated message"),
    ]
    assert all(e.occurred_at == datetime.fromtimestamp(1717000000, UTC) for e in edits)


def test_edited_message_with_is_bot_as_a_string(corpus: Path) -> None:
    batch = replayed(corpus, "edited_message_is_bot_string_false.json")
    (edit,) = batch.items
    assert isinstance(edit, EditEvent)
    assert edit.target.message_id == "591"
    assert edit.text == "Hello!"
    assert edit.occurred_at == datetime.fromtimestamp(1621580124, UTC)  # edit_date, not date


def test_reaction_variants(corpus: Path) -> None:
    batch = replayed(corpus, "message_reaction_variants.jsonl")
    reactions = [item for item in batch.items if isinstance(item, ReactionEvent)]
    assert [(r.target.message_id, r.actor_id, r.emojis) for r in reactions] == [
        ("555", "111", ("👍",)),
        ("555", "111", ()),  # removal
        ("555", "111", ("paid",)),
        ("999999", "222222", ("👍",)),  # unknown message: kept, ingest parks it
        ("555", "chat:333333", ("👍",)),  # anonymous actor chat
    ]


def test_bot_blocked_by_user(corpus: Path) -> None:
    batch = replayed(corpus, "my_chat_member_bot_kicked_by_user.json")
    (event,) = batch.items
    assert isinstance(event, ContactStatusEvent)
    assert event.status is ContactStatus.BLOCKED_US
    assert event.contact.user_id == "111111"
    assert [(a.account_id, a.username) for a in batch.accounts] == [("222222", "ChrispressoBot")]


def test_same_update_id_and_message_id_in_two_chats(corpus: Path) -> None:
    default = replayed(corpus, "same_update_id_and_message_id_two_chats.jsonl")
    message = only_message(default)
    assert (message.key.chat_id, message.key.message_id) == ("3310000", "273")
    assert message.sender is not None and message.sender.display_name == "Rolf Brandt"
    assert [i.kind for i in default.ignored] == ["channel_post"]
    both = decoded(corpus, "same_update_id_and_message_id_two_chats.jsonl", **ALL_CHATS)
    # update_id is not an identity; the key is (account, chat, message id). The
    # corpus's channel reuses the person's id (real channel ids are -100…).
    assert [(m.is_group, m.key.message_id) for m in both.messages] == [
        (True, "273"),
        (False, "273"),
    ]


def test_api_error_bodies_are_ignored_with_their_description(corpus: Path) -> None:
    batch = replayed(corpus, "bot_api_error_bodies.jsonl")
    assert batch.items == () and batch.quarantined == ()
    assert [(i.kind, i.reason) for i in batch.ignored] == [
        ("api_error", "Bad Request: reply message not found"),
        ("api_error", "Too Many Requests: retry after 8 (retry_after=8)"),
        (
            "api_error",
            "Bad Request: group chat was upgraded to a supergroup chat "
            "(migrate_to_chat_id=-100123456789)",
        ),
    ]


def test_unparseable_update_in_get_updates_is_quarantined(corpus: Path) -> None:
    batch = replayed(corpus, "getupdates_update_with_unparseable_message.json")
    (record,) = batch.quarantined
    assert record.reason == "message is a str, not an object"
    assert record.location is not None and record.location.endswith("result[0]")
    assert b"unknown_format" in record.raw


def test_invalid_utf8_is_quarantined_by_replay_and_by_the_codec(corpus: Path) -> None:
    (record,) = replayed(corpus, "api_response_invalid_utf8_byte.json").quarantined
    assert "invalid UTF-8" in record.reason
    data = corpus_file(corpus, "api_response_invalid_utf8_byte.json").read_bytes()
    assert CODEC.sniff(data)
    (own,) = CODEC.decode(data, DecodeContext()).quarantined
    assert own.reason == "invalid UTF-8 at byte 23 (0x80)"
    assert own.raw == data


@pytest.mark.parametrize(
    "payload",
    [
        {"result": "test_string\ufffd"},
        {"ok": True, "result": {"id": 1, "is_bot": True}},
        [{"update_id": 1, "message": 5}, "not an update"],
    ],
)
def test_odd_envelopes_never_crash(payload: object) -> None:
    batch = CODEC.decode(payload, DecodeContext())
    assert batch.items == ()
    assert len(batch.quarantined) + len(batch.ignored) >= 1
    assert all(record.reason for record in batch.quarantined)
