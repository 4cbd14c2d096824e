"""X archive direct-messages.js and direct-messages-group.js imports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from socialinbox.exports import import_paths
from socialinbox.model import (
    AttachmentType,
    ConversationKey,
    Direction,
    MessageKey,
    MessageKind,
    Platform,
)
from socialinbox.replay import normalize
from socialinbox.store import Store

OWNER = "3100000001"
ONE_TO_ONE = "twitter_archive_direct-messages.js"
GROUP = "twitter_archive_direct-messages-group.js"


def x_key(chat_id: str, message_id: str, account_id: str = OWNER) -> MessageKey:
    return MessageKey(
        platform=Platform.X, account_id=account_id, chat_id=chat_id, message_id=message_id
    )


def test_archive_one_to_one_values(store: Store, exports: Path) -> None:
    report = import_paths(store, [exports / ONE_TO_ONE])

    assert report.total.messages_stored == 9
    assert report.total.events == 1
    assert report.total.quarantined == 0
    assert report.total.outbox == 0
    assert store.counts()["outbox"] == 0

    order = store.get_message(x_key("3200007-3100000001", "1638523405342318598"))
    assert order is not None
    assert order.text == "Merhaba! Siparişim ne zaman kargoya verilir? 📦"
    assert order.direction is Direction.OUTBOUND
    assert order.sender is not None and order.sender.user_id == OWNER
    assert order.sent_at == datetime(2023, 3, 22, 12, 49, 56, 823000, tzinfo=UTC)
    assert store.reactions(order.key) == {"3200007": ("👍",)}

    question = store.get_message(x_key("3200007-3100000001", "1638522067359236100"))
    assert question is not None
    assert question.direction is Direction.INBOUND
    assert question.text == "Hi, is the workshop on Saturday still on?"

    media = store.get_message(x_key("32000158-3100000001", "1508726300420280332"))
    assert media is not None
    assert media.kind is MessageKind.MEDIA
    assert media.text == " https://t.co/FYiMQH5ZE8"
    assert [item.type for item in media.attachments] == [AttachmentType.IMAGE]
    assert media.attachments[0].url == (
        "https://ton.twitter.com/dm/1508726300420280332/1508726286579126279/AbCdEf12.png"
    )

    conversation = store.get_conversation(
        ConversationKey(platform=Platform.X, account_id=OWNER, chat_id="32000158-3100000001")
    )
    assert conversation is not None
    assert conversation.contact_user_id == "32000158"
    assert conversation.is_group is False
    outbound = store.list_messages(platform=Platform.X, direction=Direction.OUTBOUND)
    assert len(outbound) == 6


def test_group_archive_uses_owner_of_one_to_one_file(store: Store, exports: Path) -> None:
    report = import_paths(store, [exports / GROUP, exports / ONE_TO_ONE])

    # The one-to-one file is read first because it names the owner.
    assert [Path(item.location).name for item in report.files] == [ONE_TO_ONE, GROUP]
    group = report.files[1].result
    assert group.messages_stored == 1
    assert group.events == 1
    welcome = store.get_message(x_key("1592446877601247234", "1592446882453680132"))
    assert welcome is not None
    assert welcome.is_group is True
    assert welcome.text == "Hoş geldiniz! Welcome to the group 🎉"
    assert welcome.direction is Direction.INBOUND
    conversation = store.get_conversation(welcome.key.conversation)
    assert conversation is not None and conversation.is_group is True


def test_group_archive_alone_uses_default_account(store: Store, exports: Path) -> None:
    import_paths(store, [exports / GROUP])

    welcome = store.get_message(x_key("1592446877601247234", "1592446882453680132", "default"))
    assert welcome is not None


def test_account_option_overrides_owner(store: Store, exports: Path) -> None:
    import_paths(store, [exports / ONE_TO_ONE], account_id="3200007")

    stored = store.get_message(
        x_key("3200007-3100000001", "1638522067359236100", account_id="3200007")
    )
    assert stored is not None
    assert stored.direction is Direction.OUTBOUND


def api_payload() -> dict[str, object]:
    """A v2 dm_events page carrying the same DM event as the archive."""
    return {
        "data": [
            {
                "id": "1638522067359236100",
                "event_type": "MessageCreate",
                "text": "Hi, is the workshop on Saturday still on?",
                "sender_id": "3200007",
                # The API may list the pair in either order; the key is canonical.
                "dm_conversation_id": "3100000001-3200007",
                "created_at": "2023-03-22T12:44:37.859Z",
            }
        ],
        "meta": {"result_count": 1},
    }


def test_api_then_archive_stores_once(store: Store, exports: Path) -> None:
    api = store.ingest(normalize(api_payload(), "x", account_id=OWNER))
    assert api.messages_stored == 1

    report = import_paths(store, [exports / ONE_TO_ONE])

    assert report.total.messages_stored == 8
    assert report.total.duplicates == 1
    chat = ConversationKey(platform=Platform.X, account_id=OWNER, chat_id="3200007-3100000001")
    assert len(store.list_messages(chat)) == 3


def test_archive_then_api_stores_once(store: Store, exports: Path) -> None:
    import_paths(store, [exports / ONE_TO_ONE])

    api = store.ingest(normalize(api_payload(), "x", account_id=OWNER))

    assert api.messages_stored == 0
    assert api.duplicates == 1
    assert store.counts()["messages"] == 9


def test_reimport_stores_nothing(store: Store, exports: Path) -> None:
    import_paths(store, [exports / ONE_TO_ONE, exports / GROUP])

    again = import_paths(store, [exports / ONE_TO_ONE, exports / GROUP])

    assert again.total.messages_stored == 0
    assert again.total.events == 0
    assert again.total.duplicates == 10


def test_broken_dm_is_quarantined_rest_lands(store: Store, exports: Path, tmp_path: Path) -> None:
    text = (exports / ONE_TO_ONE).read_text()
    broken = text.replace('"senderId" : "32000158",', "", 1)
    assert broken != text
    target = tmp_path / "direct-messages.js"
    target.write_text(broken)

    report = import_paths(store, [target])

    assert report.total.messages_stored == 8
    assert report.total.quarantined == 1
    assert report.total.reasons == {
        "X archive DM: messageCreate.senderId is missing or not an id": 1
    }
    (entry,) = store.list_quarantine()
    assert entry.location == f"{target}#[1].dmConversation.messages[0]"
    assert entry.platform == "x"
    assert b"Could you send me the invoice again?" in entry.raw
