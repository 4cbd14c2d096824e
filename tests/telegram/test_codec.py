"""Codec behaviour beyond the corpus: drift, options, directions, events."""

from __future__ import annotations

from typing import Any

import pytest

from socialinbox.adapters.base import DecodeContext
from socialinbox.adapters.telegram.codec import (
    CODEC,
    MAX_DOWNLOAD_BYTES,
    business_chat_id,
    merge_albums,
    parse_chat_id,
    update_ids,
)
from socialinbox.model import (
    AttachmentStatus,
    AttachmentType,
    Batch,
    ContactStatus,
    ContactStatusEvent,
    DeleteEvent,
    Direction,
    Message,
    MessageKind,
    ParticipantEvent,
    PostbackEvent,
)

BOT = "5550001"
USER = {"id": 777, "is_bot": False, "first_name": "Ayşe", "last_name": "Yılmaz", "username": "ayse"}
PRIVATE = {"id": 777, "type": "private", "first_name": "Ayşe"}
GROUP = {"id": -1001234, "type": "supergroup", "title": "Müşteriler"}


def message(
    message_id: int = 1, *, chat: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    fields = {key: value for key, value in fields.items() if value is not None}
    body: dict[str, Any] = {
        "message_id": message_id,
        "date": 1780000000 + message_id,
        "chat": chat or PRIVATE,
        "from": USER,
    }
    body.update(fields)
    return body


def update(
    update_id: int = 1,
    kind: str = "message",
    *,
    sender: dict[str, Any] | None = None,
    **body: Any,
) -> dict[str, Any]:
    if sender is not None:
        body["from"] = sender
    return {"update_id": update_id, kind: message(**body)}


def decode(payload: Any, **options: Any) -> Batch:
    own = options.pop("own_user_ids", frozenset())
    context = DecodeContext(account_id=BOT, own_user_ids=own, options=options)
    return CODEC.decode(payload, context)


def single(batch: Batch) -> Message:
    assert len(batch.messages) == 1, batch
    return batch.messages[0]


def test_sniff_shapes() -> None:
    assert CODEC.sniff({"update_id": 1, "message": {}})
    assert CODEC.sniff({"ok": True, "result": []})
    assert CODEC.sniff({"ok": False, "error_code": 400, "description": "x"})
    assert CODEC.sniff(message())
    assert CODEC.sniff([update(1), update(2)])
    assert CODEC.sniff(b'{"update_id": 3}')
    assert not CODEC.sniff({"object": "page", "entry": []})
    assert not CODEC.sniff({"data": [], "meta": {}})
    assert not CODEC.sniff([])
    assert not CODEC.sniff("not json")


def test_keys_account_and_text() -> None:
    result = single(decode(update(5, message_id=42, text="Merhaba İstanbul 🌙")))
    assert str(result.key) == f"telegram:{BOT}:777:42"
    assert result.text == "Merhaba İstanbul 🌙"
    assert result.kind is MessageKind.TEXT
    assert result.direction is Direction.INBOUND
    assert result.sender is not None and result.sender.display_name == "Ayşe Yılmaz"
    unknown_account = CODEC.decode(update(text="x"), DecodeContext())
    assert single(unknown_account).key.account_id == "default"


def test_bare_message_dict_is_read_as_a_message_update() -> None:
    assert single(decode(message(9, text="hi"))).key.message_id == "9"


def test_outbound_by_own_user_id_bot_id_and_business_bot() -> None:
    mine = update(text="reply", sender={"id": 888, "is_bot": False, "first_name": "Agent"})
    assert single(decode(mine, own_user_ids=frozenset({"888"}))).direction is Direction.OUTBOUND
    from_bot = update(text="auto", sender={"id": int(BOT), "is_bot": True, "first_name": "Bot"})
    assert single(decode(from_bot)).direction is Direction.OUTBOUND
    via_business_bot = update(
        kind="business_message",
        text="on behalf",
        business_connection_id="BC1",
        sender_business_bot={"id": int(BOT), "is_bot": True, "first_name": "Bot"},
    )
    assert single(decode(via_business_bot)).direction is Direction.OUTBOUND


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), ("False", False), ("true", True), (1, True), (0, False), ("maybe", None)],
)
def test_is_bot_drift(raw: object, expected: bool | None) -> None:
    sender: dict[str, Any] = {"id": 5, "first_name": "X", "is_bot": raw}
    result = single(decode(update(text="x", sender=sender)))
    assert result.sender is not None and result.sender.is_bot is expected


def test_update_id_drift() -> None:
    assert single(decode({"update_id": "12", "message": message(text="ok")})).text == "ok"
    (record,) = decode({"update_id": "twelve", "message": message(text="ok")}).quarantined
    assert record.reason == "update_id is not an integer"
    assert update_ids({"ok": True, "result": [{"update_id": "7"}, {"update_id": 9}]}) == [7, 9]


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ({"chat": {"type": "private"}}, "chat id is missing or not an integer"),
        ({"message_id": "abc"}, "message_id is missing or not an integer"),
        ({"date": "yesterday"}, "date is missing or not a Unix time"),
        ({"photo": []}, "photo is not a list of sizes"),
    ],
)
def test_malformed_messages_are_quarantined_with_a_reason(
    broken: dict[str, Any], reason: str
) -> None:
    body = message(text="x")
    body.update(broken)
    batch = decode({"update_id": 1, "message": body})
    (record,) = batch.quarantined
    assert record.reason == reason
    assert batch.items == ()


def test_files_over_the_download_limit_are_too_large() -> None:
    big = {"file_id": "BIG", "file_size": MAX_DOWNLOAD_BYTES + 1, "file_name": "film.mp4"}
    (attachment,) = single(decode(update(video=big))).attachments
    assert attachment.type is AttachmentType.VIDEO
    assert attachment.status is AttachmentStatus.TOO_LARGE
    assert attachment.media_id == "BIG"
    small = single(decode(update(video=big), max_download_bytes=10 * MAX_DOWNLOAD_BYTES))
    assert small.attachments[0].status is AttachmentStatus.AVAILABLE


def test_media_kinds() -> None:
    animation = {"file_id": "A", "mime_type": "video/mp4", "duration": 2}
    gif = single(decode(update(animation=animation, document={"file_id": "A"})))
    assert [a.type for a in gif.attachments] == [AttachmentType.ANIMATION]
    where = single(decode(update(location={"latitude": 41.01, "longitude": 28.97})))
    assert where.kind is MessageKind.LOCATION and where.attachments[0].url == "geo:41.01,28.97"
    card = single(decode(update(contact={"phone_number": "+905550000000", "first_name": "Can"})))
    assert card.kind is MessageKind.CONTACT_CARD and card.attachments[0].url == "tel:+905550000000"
    poll = single(decode(update(poll={"id": "1", "question": "Hangisi?", "options": []})))
    assert poll.kind is MessageKind.POLL and poll.text == "Hangisi?"
    dice = single(decode(update(dice={"emoji": "🎲", "value": 3})))
    assert dice.kind is MessageKind.UNSUPPORTED
    video_sticker = single(
        decode(update(sticker={"file_id": "S", "is_video": True, "is_animated": False}))
    )
    assert video_sticker.attachments[0].is_animated is True
    assert video_sticker.attachments[0].mime_type == "video/webm"


def test_reply_and_forwards() -> None:
    reply = single(decode(update(text="yes", reply_to_message=message(3, text="?"))))
    assert reply.reply_to == "3"
    origins = [
        ({"type": "user", "sender_user": {"id": 1, "first_name": "Deniz"}}, "Deniz"),
        ({"type": "hidden_user", "sender_user_name": "Gizli Kişi"}, "Gizli Kişi"),
        (
            {"type": "channel", "chat": {"id": -100, "title": "Haberler"}, "message_id": 1},
            "Haberler",
        ),
        ({"type": "chat", "sender_chat": {"id": -5, "title": "Grup"}}, "Grup"),
    ]
    for origin, name in origins:
        assert single(decode(update(text="fw", forward_origin=origin))).forwarded_from == name
    legacy = single(decode(update(text="fw", forward_from={"id": 2, "first_name": "Eski"})))
    assert legacy.forwarded_from == "Eski"
    assert single(decode(update(text="fw", forward_sender_name="Anon"))).forwarded_from == "Anon"


def test_chat_type_option() -> None:
    in_group = update(text="grupta", chat=GROUP)
    assert single(decode(in_group)).is_group
    only_private = decode(in_group, chat_types=["private"])
    assert only_private.items == ()
    assert only_private.ignored[0].reason.startswith("supergroup chats are not ingested")
    assert single(decode(in_group, chat_types="private,supergroup")).chat_title == "Müşteriler"


def test_business_messages_and_deletions() -> None:
    business = update(kind="business_message", text="iş", business_connection_id="BC7")
    result = single(decode(business))
    assert result.key.chat_id == business_chat_id("777", "BC7") == "business:BC7:777"
    assert parse_chat_id(result.key.chat_id) == (777, "BC7")
    assert parse_chat_id("-1001") == (-1001, None)
    assert decode(business, business=False).ignored[0].kind == "business_message"
    deleted = decode(
        {
            "update_id": 2,
            "deleted_business_messages": {
                "business_connection_id": "BC7",
                "chat": PRIVATE,
                "message_ids": [4, 5],
            },
        }
    )
    assert [
        (e.target.chat_id, e.target.message_id) for e in deleted.items if isinstance(e, DeleteEvent)
    ] == [
        ("business:BC7:777", "4"),
        ("business:BC7:777", "5"),
    ]


def my_chat_member(old: str, new: str, chat: dict[str, Any]) -> dict[str, Any]:
    bot = {"id": int(BOT), "is_bot": True, "first_name": "Bot", "username": "destek_bot"}
    return {
        "update_id": 9,
        "my_chat_member": {
            "chat": chat,
            "from": USER,
            "date": 1780000000,
            "old_chat_member": {"user": bot, "status": old},
            "new_chat_member": {"user": bot, "status": new},
        },
    }


def test_my_chat_member_block_unblock_and_groups() -> None:
    (blocked,) = decode(my_chat_member("member", "kicked", PRIVATE)).items
    assert isinstance(blocked, ContactStatusEvent) and blocked.status is ContactStatus.BLOCKED_US
    (again,) = decode(my_chat_member("kicked", "member", PRIVATE)).items
    assert isinstance(again, ContactStatusEvent) and again.status is ContactStatus.ACTIVE
    assert again.contact.user_id == "777"
    added = decode(my_chat_member("left", "member", GROUP))
    (join,) = added.items
    assert isinstance(join, ParticipantEvent) and join.action == "join"
    assert join.participant_ids == (BOT,) and join.actor_id == "777"
    assert added.accounts[0].username == "destek_bot"
    (leave,) = decode(my_chat_member("administrator", "kicked", GROUP)).items
    assert isinstance(leave, ParticipantEvent) and leave.action == "leave"
    rights_only = decode(my_chat_member("member", "administrator", GROUP))
    assert rights_only.items == () and rights_only.ignored[0].kind == "my_chat_member"


def test_service_messages() -> None:
    joined = decode(update(chat=GROUP, new_chat_members=[{"id": 1, "first_name": "Yeni"}]))
    (event,) = joined.items
    assert isinstance(event, ParticipantEvent) and event.participant_ids == ("1",)
    pinned = decode(update(chat=GROUP, pinned_message=message(1, text="x")))
    assert pinned.items == () and pinned.ignored[0].kind == "message.pinned_message"
    migrated = decode(
        update(chat={"id": -5, "type": "group", "title": "g"}, migrate_to_chat_id=-1005)
    )
    assert migrated.ignored[0].kind == "message.migrate_to_chat_id"


def test_callback_query_and_unknown_update_types() -> None:
    callback = {
        "update_id": 3,
        "callback_query": {
            "id": "cb",
            "from": USER,
            "data": "menu:1",
            "message": message(2, text="Menü"),
        },
    }
    (postback,) = decode(callback).items
    assert isinstance(postback, PostbackEvent) and postback.payload == "menu:1"
    assert (
        decode({"update_id": 4, "message_reaction_count": {}}).ignored[0].kind
        == "message_reaction_count"
    )
    future = decode({"update_id": 5, "brand_new_update": {"x": 1}})
    assert future.ignored[0].kind == "brand_new_update"
    assert future.ignored[0].reason == "update type not handled by socialinbox"


def test_albums_grouped_in_a_get_updates_response_in_any_order() -> None:
    doc = {"file_id": "D{}", "file_name": "f{}.png"}
    items = [
        update(
            11 - offset,
            message_id=20 - offset,
            media_group_id="G",
            document={k: v.format(offset) for k, v in doc.items()},
            caption="ikinci" if offset == 0 else None,
        )
        for offset in range(3)
    ]
    response = {"ok": True, "result": items}
    album = single(decode(response))
    assert album.key.message_id == "18"
    assert album.text == "ikinci"
    assert [a.media_id for a in album.attachments] == ["D2", "D1", "D0"]
    # the adapter's batches and the replay of separate bodies can be merged later
    separately = Batch()
    for item in items:
        separately += decode(item)
    assert len(separately.messages) == 3
    merged = merge_albums(separately)
    assert single(merged).attachments == album.attachments
    assert merge_albums(merged) == merged
