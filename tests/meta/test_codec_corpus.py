"""Every Messenger and Instagram corpus file, decoded, with its normalized values asserted.

The corpus files come from public repositories (see the corpus SOURCES list):
the jgorset/facebook-messenger specs, airbyte's Graph client tests, Chatwoot's
Instagram factories and one captured Instagram-Login webhook.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from socialinbox.adapters import get_codec
from socialinbox.adapters.base import DecodeContext
from socialinbox.adapters.meta.codec import INSTAGRAM_CODEC, MESSENGER_CODEC
from socialinbox.model import (
    AttachmentType,
    Batch,
    ContactStatus,
    ContactStatusEvent,
    DeleteEvent,
    DeliveryEvent,
    Direction,
    Message,
    MessageKind,
    NoticeEvent,
    Platform,
    PostbackEvent,
    ReadEvent,
)

RECEIVED = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
LEGACY_MID = "mid.1457764197618:41d102a3e1ae206a38"


def load(path: Path) -> list[Any]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [json.loads(path.read_text())]


def decode(corpus: Path, relative: str) -> Batch:
    platform = Platform(relative.split("/")[0])
    codec = MESSENGER_CODEC if platform is Platform.MESSENGER else INSTAGRAM_CODEC
    batch = Batch()
    for payload in load(corpus / relative):
        batch += codec.decode(payload, DecodeContext(received_at=RECEIVED, location=relative))
    return batch


def only_message(batch: Batch) -> Message:
    assert len(batch.items) == 1
    item = batch.items[0]
    assert isinstance(item, Message)
    return item


def test_registry_returns_meta_codecs() -> None:
    assert get_codec(Platform.MESSENGER) is MESSENGER_CODEC
    assert get_codec(Platform.INSTAGRAM) is INSTAGRAM_CODEC


@pytest.mark.parametrize("folder", ["messenger", "instagram"])
def test_every_corpus_file_has_an_outcome(corpus: Path, folder: str) -> None:
    files = sorted((corpus / folder).iterdir())
    assert files
    for path in files:
        batch = decode(corpus, f"{folder}/{path.name}")
        outcomes = len(batch.items) + len(batch.ignored) + len(batch.quarantined)
        assert outcomes >= 1, path.name
        for record in (*batch.ignored, *batch.quarantined):
            assert record.reason, path.name


# ---------------------------------------------------------------------- messenger


def test_page_envelope_text_message(corpus: Path) -> None:
    batch = decode(corpus, "messenger/webhook_page_envelope_text_message.json")
    message = only_message(batch)
    assert message.key.platform is Platform.MESSENGER
    assert message.key.account_id == "1"
    assert message.key.chat_id == "2"
    assert message.key.message_id == LEGACY_MID
    assert message.direction is Direction.INBOUND
    assert message.text == "Hello, bot!"
    assert message.kind is MessageKind.TEXT
    # The event timestamp wins over the later entry.time.
    assert message.sent_at == datetime.fromtimestamp(1457764197.627, UTC)
    assert message.received_at == RECEIVED
    assert message.raw is not None and message.raw["message"]["seq"] == 73
    assert [account.account_id for account in batch.accounts] == ["1"]


def test_envelope_without_messaging_is_ignored(corpus: Path) -> None:
    batch = decode(corpus, "messenger/webhook_page_envelope_without_messaging.json")
    assert batch.items == ()
    assert len(batch.ignored) == 1
    assert batch.ignored[0].kind == "entry"
    assert "no messaging" in batch.ignored[0].reason
    assert batch.ignored[0].account_id == "1"


def test_quick_reply_with_image_and_big_app_id(corpus: Path) -> None:
    batch = decode(corpus, "messenger/messaging_message_quick_reply_attachment_nlp.json")
    message = only_message(batch)
    assert message.direction is Direction.INBOUND
    assert message.text == "Hello, bot!"
    assert message.kind is MessageKind.MEDIA
    assert len(message.attachments) == 1
    assert message.attachments[0].type is AttachmentType.IMAGE
    assert message.attachments[0].url == "https://www.example.com/1.jpg"
    assert message.client_ref is None
    assert message.raw is not None
    # 184719329217930000 > 2**53 survives exactly because Python ints are exact.
    assert message.raw["message"]["app_id"] == 184719329217930000


def test_echo_is_outbound(corpus: Path) -> None:
    message = only_message(decode(corpus, "messenger/messaging_echo_page_reply_app_id.json"))
    assert message.direction is Direction.OUTBOUND
    assert message.key.account_id == "3"
    assert message.key.chat_id == "3"
    assert message.key.message_id == LEGACY_MID
    assert message.sender is not None and message.sender.user_id == "3"
    assert message.text == "Hello, bot!"
    assert len(message.attachments) == 1


def test_reaction_without_mid_is_quarantined(corpus: Path) -> None:
    batch = decode(corpus, "messenger/messaging_reaction_like.json")
    assert batch.items == ()
    assert len(batch.quarantined) == 1
    assert "reaction.mid" in batch.quarantined[0].reason
    assert batch.quarantined[0].location == "messenger/messaging_reaction_like.json"
    assert json.loads(batch.quarantined[0].raw)["reaction"]["emoji"] == "👍"


def test_delivery_without_timestamp_uses_watermark(corpus: Path) -> None:
    batch = decode(corpus, "messenger/messaging_delivery_no_timestamp.json")
    assert len(batch.items) == 1
    event = batch.items[0]
    assert isinstance(event, DeliveryEvent)
    assert event.message_ids == (LEGACY_MID, "mid.1458668856218:ed81099e15d3f4f233")
    assert event.watermark == datetime.fromtimestamp(1458668856.253, UTC)
    assert event.occurred_at == event.watermark
    assert event.recipient_id == "3"


def test_read_watermark(corpus: Path) -> None:
    batch = decode(corpus, "messenger/messaging_read_watermark.json")
    event = batch.items[0]
    assert isinstance(event, ReadEvent)
    assert event.watermark == datetime.fromtimestamp(1458668856.253, UTC)
    assert event.reader_id == "3"
    assert event.message_id is None


def test_postback_with_referral(corpus: Path) -> None:
    batch = decode(corpus, "messenger/messaging_postback_with_referral.json")
    event = batch.items[0]
    assert isinstance(event, PostbackEvent)
    assert event.payload == "USER_DEFINED_PAYLOAD"
    assert event.referral == {"ref": "my-ref-value", "source": "SHORTLINK", "type": "OPEN_THREAD"}
    assert event.sender.user_id == "3"


def test_referral_becomes_postback_event(corpus: Path) -> None:
    batch = decode(corpus, "messenger/messaging_referral_ad.json")
    event = batch.items[0]
    assert isinstance(event, PostbackEvent)
    assert event.payload == "my-ref-value"
    assert event.referral is not None and event.referral["ad_id"] == "ad-id"
    assert event.title is None


def test_policy_enforcement_notice(corpus: Path) -> None:
    batch = decode(corpus, "messenger/messaging_policy_enforcement_block.json")
    event = batch.items[0]
    assert isinstance(event, NoticeEvent)
    assert event.notice == "policy_enforcement.block"
    assert event.account_id == "3"
    assert event.reason is not None
    assert event.reason.startswith("The bot violated our Platform Policies (https://")
    assert "\n" not in event.reason


def test_message_request_accept(corpus: Path) -> None:
    batch = decode(corpus, "messenger/messaging_message_request_accept.json")
    event = batch.items[0]
    assert isinstance(event, ContactStatusEvent)
    assert event.status is ContactStatus.ACTIVE
    assert event.contact.user_id == "3"
    assert event.account_id == "3"


def test_rate_limit_error_exchange_is_ignored(corpus: Path) -> None:
    batch = decode(corpus, "messenger/graph_api_rate_limit_error_with_app_usage_header.json")
    assert batch.items == ()
    assert len(batch.ignored) == 1
    assert batch.ignored[0].kind == "api_error"
    assert "code 80000" in batch.ignored[0].reason
    assert "subcode 2446079" in batch.ignored[0].reason
    assert "rate_limited" in batch.ignored[0].reason


def test_paging_and_error_sequence(corpus: Path) -> None:
    batch = decode(corpus, "messenger/graph_api_paging_cursor_and_error_sequence.json")
    assert batch.items == ()
    kinds = [record.kind for record in batch.ignored]
    assert kinds == ["api_error", "graph_page"]
    assert "code 1 " in batch.ignored[0].reason
    assert "unavailable" in batch.ignored[0].reason


# ---------------------------------------------------------------------- instagram


def test_instagram_real_capture(corpus: Path) -> None:
    message = only_message(decode(corpus, "instagram/webhook_text_dm_real_capture.json"))
    assert message.key.platform is Platform.INSTAGRAM
    assert message.key.account_id == "17841400538867190"
    assert message.key.chat_id == "1100000000000042"
    assert message.key.message_id.startswith("aWdfZAG1faXRlbTox")
    assert message.key.message_id.endswith("ZDZD")
    assert message.text == "oi, tudo bem?"
    assert message.direction is Direction.INBOUND
    assert message.sent_at == datetime.fromtimestamp(1762031146.380, UTC)


def test_instagram_unsend_is_delete_event(corpus: Path) -> None:
    batch = decode(corpus, "instagram/webhook_unsend_is_deleted.json")
    event = batch.items[0]
    assert isinstance(event, DeleteEvent)
    assert event.target.message_id == "message-id-to-delete"
    assert event.target.chat_id == "Sender-id-1a2b3c4d"
    assert event.target.account_id == "instagram-entry-id-1"
    assert event.occurred_at == datetime(2021, 9, 8, 6, 34, 4, tzinfo=UTC)


def test_instagram_story_mention_echo_is_outbound(corpus: Path) -> None:
    message = only_message(decode(corpus, "instagram/webhook_story_mention_is_echo.json"))
    assert message.direction is Direction.OUTBOUND
    assert message.kind is MessageKind.STORY_MENTION
    # An echo's contact is the recipient side.
    assert message.key.chat_id == "chatwoot-app-user-id-1"
    assert message.attachments[0].type is AttachmentType.STORY_MENTION


def test_instagram_story_mention_inbound(corpus: Path) -> None:
    message = only_message(decode(corpus, "instagram/webhook_story_mention_inbound.json"))
    assert message.direction is Direction.INBOUND
    assert message.kind is MessageKind.STORY_MENTION
    assert message.text is None
    assert len(message.attachments) == 1
    assert message.attachments[0].url == "https://www.example.com/test.jpeg"


def test_instagram_story_reply(corpus: Path) -> None:
    message = only_message(decode(corpus, "instagram/webhook_story_reply.json"))
    assert message.text == "This is the story reply"
    assert message.reply_to == "chatwoot-app-user-id-1"
    assert message.kind is MessageKind.TEXT


def test_instagram_reply_to_mid(corpus: Path) -> None:
    message = only_message(decode(corpus, "instagram/webhook_reply_to_mid.json"))
    assert message.key.message_id == "message-id-2"
    assert message.reply_to == "message-id-1"
    # The event timestamp is used, not the later entry.time.
    assert message.sent_at == datetime(2021, 9, 8, 6, 34, 4, tzinfo=UTC)


def test_instagram_shared_media_variants(corpus: Path) -> None:
    batch = decode(corpus, "instagram/webhook_shared_media_variants.jsonl")
    messages = batch.messages
    assert len(messages) == 4
    types = [message.attachments[0].type for message in messages]
    assert types == [
        AttachmentType.SHARE,
        AttachmentType.REEL,
        AttachmentType.STORY,
        AttachmentType.POST,
    ]
    assert all(message.kind is MessageKind.SHARE for message in messages)
    reel = messages[1].attachments[0]
    assert reel.media_id == "1234"
    assert reel.title == "Reel title"
    story = messages[2].attachments[0]
    assert story.media_id == "17949487764033669"
    assert story.url is not None and "asset_id=17949487764033669" in story.url
    post = messages[3].attachments[0]
    assert post.media_id == "18091626484740369"
    assert post.title == "Shared Instagram post"


def test_instagram_unsupported_message(corpus: Path) -> None:
    message = only_message(decode(corpus, "instagram/webhook_unsupported_message.json"))
    assert message.kind is MessageKind.UNSUPPORTED
    assert message.text is None
    assert message.key.message_id == "unsupported-message-id-1"


def test_instagram_standby_is_ingested(corpus: Path) -> None:
    message = only_message(decode(corpus, "instagram/webhook_standby_channel.json"))
    assert message.text is not None and message.text.startswith("This is the first standby")
    assert message.direction is Direction.INBOUND


def test_instagram_read_receipt(corpus: Path) -> None:
    batch = decode(corpus, "instagram/webhook_read_receipt.json")
    event = batch.items[0]
    assert isinstance(event, ReadEvent)
    assert event.message_id == "message-id-1"
    assert event.reader_id == "Sender-id-1a2b3c4d"
    assert event.watermark is None


def test_instagram_dashboard_test_shape(corpus: Path) -> None:
    message = only_message(decode(corpus, "instagram/webhook_dashboard_test_changes_shape.json"))
    # Entry id "0" names no account, so the page side (recipient) is used.
    assert message.key.account_id == "23245"
    assert message.key.chat_id == "12334"
    assert message.key.message_id == "random_mid"
    assert message.text == "random_text"
    assert message.sent_at == datetime.fromtimestamp(1527459824, UTC)


def test_instagram_seconds_string_timestamp(corpus: Path) -> None:
    message = only_message(decode(corpus, "instagram/webhook_test_text_numeric_time.json"))
    assert message.key.account_id == "instagram-entry-id-2"
    assert message.sent_at == datetime.fromtimestamp(1527459824, UTC)
    assert message.text == "random_text"


# ---------------------------------------------------------------------- sniffing


def test_sniff_matches_folder(corpus: Path) -> None:
    for path in sorted((corpus / "messenger").iterdir()):
        for payload in load(path):
            assert MESSENGER_CODEC.sniff(payload), path.name
            assert not INSTAGRAM_CODEC.sniff(payload), path.name
    for path in sorted((corpus / "instagram").iterdir()):
        for payload in load(path):
            assert INSTAGRAM_CODEC.sniff(payload), path.name
            assert not MESSENGER_CODEC.sniff(payload), path.name
