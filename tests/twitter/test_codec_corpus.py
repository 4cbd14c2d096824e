"""Every file in the X corpus decoded, with its normalized values asserted.

Fixture notes: the corpus payloads are anonymized copies of tweepy's recorded
cassettes (tweepy/tweepy ``cassettes/``), the sample response of X's DM lookup
documentation, and Zammad's Account Activity API webhook fixtures
(zammad/zammad ``test/data/twitter/webhook_events/``). The 403 bodies of the
emulator follow the shapes reported in tweepy/tweepy#2137 (v1 code 453) and
cursor/plugins#270 (problem type ``client-forbidden``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from socialinbox.adapters import get_codec, sniff_platform
from socialinbox.adapters.base import Codec, DecodeContext
from socialinbox.adapters.twitter.codec import CODEC
from socialinbox.model import (
    AttachmentType,
    Direction,
    MessageKind,
    ParticipantEvent,
    Platform,
)

RECEIVED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def load(corpus: Path, name: str) -> Any:
    path = corpus / "twitter" / name
    if path.suffix == ".yaml":
        return yaml.safe_load(path.read_bytes())
    return json.loads(path.read_text(encoding="utf-8"))


def context(**kwargs: Any) -> DecodeContext:
    return DecodeContext(received_at=RECEIVED, location="test", **kwargs)


def test_codec_satisfies_protocol() -> None:
    assert isinstance(CODEC, Codec)
    assert CODEC.platform is Platform.X
    assert get_codec(Platform.X) is CODEC


def test_every_corpus_file_is_sniffed(corpus: Path) -> None:
    files = sorted((corpus / "twitter").iterdir())
    assert len(files) == 12
    for path in files:
        payload = load(corpus, path.name)
        assert CODEC.sniff(payload), path.name
        assert sniff_platform(payload) is Platform.X, path.name


def test_aaa_incoming_animated_gif(corpus: Path) -> None:
    batch = CODEC.decode(load(corpus, "aaa_webhook_dm_incoming_animated_gif.json"), context())

    assert len(batch.messages) == 1
    message = batch.messages[0]
    assert message.key.account_id == "2900000042"
    assert message.key.chat_id == "2900000042-1200000000000000077"
    assert message.key.message_id == "1209117907864571908"
    assert message.direction is Direction.INBOUND
    assert message.kind is MessageKind.MEDIA
    assert message.text == " https://t.co/amoKo1v19w"
    assert message.sent_at == datetime(2019, 12, 23, 14, 25, 48, 216000, tzinfo=UTC)
    assert message.received_at == RECEIVED
    assert message.sender is not None
    assert message.sender.user_id == "1200000000000000077"
    assert message.sender.username == "quillmarsh1"
    assert message.sender.display_name == "quillmarsh"
    assert len(message.attachments) == 1
    gif = message.attachments[0]
    assert gif.type is AttachmentType.ANIMATION
    assert gif.media_id == "1209117874389843969"
    assert gif.mime_type == "video/mp4"
    assert gif.url is not None and gif.url.startswith("https://video.twimg.com/dm_gif/")
    assert (gif.width, gif.height) == (270, 480)
    assert message.raw is not None and message.raw["id"] == "1209117907864571908"
    assert [account.account_id for account in batch.accounts] == ["2900000042"]
    assert batch.accounts[0].username == "TidyTeapot"
    assert batch.quarantined == ()
    assert batch.ignored == ()


def test_aaa_incoming_url_entity(corpus: Path) -> None:
    batch = CODEC.decode(load(corpus, "aaa_webhook_dm_incoming_url_entity.json"), context())

    assert len(batch.messages) == 1
    message = batch.messages[0]
    assert message.text == "Did you know about this? https://t.co/SJ8nWqjwhz"
    assert message.kind is MessageKind.TEXT
    assert message.attachments == ()
    assert message.direction is Direction.INBOUND
    assert message.key.chat_id == "2900000042-1200000000000000077"
    assert message.raw is not None
    display_url = message.raw["message_create"]["message_data"]["entities"]["urls"][0][
        "display_url"
    ]
    assert display_url.endswith("…")


def test_aaa_own_outgoing_reply_is_outbound(corpus: Path) -> None:
    batch = CODEC.decode(
        load(corpus, "aaa_webhook_dm_outgoing_own_reply_source_app.json"), context()
    )

    assert len(batch.messages) == 1
    message = batch.messages[0]
    assert message.direction is Direction.OUTBOUND
    assert message.text == "I'm a banana!"
    assert message.key.chat_id == "2900000042-1200000000000000077"
    assert message.sender is not None and message.sender.user_id == "2900000042"
    assert message.sent_at == datetime(2019, 12, 16, 23, 54, 4, 626000, tzinfo=UTC)


def test_aaa_outgoing_matches_send_record(corpus: Path) -> None:
    payload = load(corpus, "aaa_webhook_dm_outgoing_own_reply_source_app.json")
    batch = CODEC.decode(
        payload, context(options={"client_refs": {"1206724203514228741": "reply-7"}})
    )

    assert batch.messages[0].client_ref == "reply-7"
    assert batch.messages[0].direction is Direction.OUTBOUND


def test_aaa_mark_read_is_ignored(corpus: Path) -> None:
    batch = CODEC.decode(load(corpus, "aaa_webhook_dm_mark_read.json"), context())

    assert batch.items == ()
    assert batch.quarantined == ()
    assert len(batch.ignored) == 1
    assert batch.ignored[0].kind == "direct_message_mark_read_events"
    assert "read receipt" in batch.ignored[0].reason
    assert batch.ignored[0].account_id == "2900000042"


def test_aaa_typing_is_ignored(corpus: Path) -> None:
    batch = CODEC.decode(load(corpus, "aaa_webhook_dm_indicate_typing.json"), context())

    assert batch.items == ()
    assert len(batch.ignored) == 1
    assert batch.ignored[0].kind == "direct_message_indicate_typing_events"
    assert "typing indicator" in batch.ignored[0].reason


def test_v11_self_addressed_send_response(corpus: Path) -> None:
    batch = CODEC.decode(load(corpus, "v11_dm_event_new_self_addressed.json"), context())

    assert len(batch.messages) == 1
    message = batch.messages[0]
    assert message.key.account_id == "default"
    assert message.key.chat_id == "1044444444444444444-1044444444444444444"
    assert message.key.message_id == "1150493286110552068"
    assert message.direction is Direction.OUTBOUND
    assert message.text == "test message"
    assert message.sent_at == datetime(2019, 7, 14, 19, 52, 29, 197000, tzinfo=UTC)


def test_v11_empty_page_with_cursor(corpus: Path) -> None:
    batch = CODEC.decode(load(corpus, "v11_dm_events_list_empty_page_with_cursor.json"), context())

    assert batch.items == ()
    assert batch.quarantined == ()
    assert batch.ignored == ()


def test_v2_empty_meta_only(corpus: Path) -> None:
    batch = CODEC.decode(load(corpus, "v2_dm_events_empty_meta_only.json"), context())

    assert batch.items == ()
    assert batch.quarantined == ()
    assert batch.ignored == ()


def test_v2_referenced_tweet_with_includes(corpus: Path) -> None:
    batch = CODEC.decode(
        load(corpus, "v2_dm_events_referenced_tweet_with_includes.json"),
        context(account_id="911111111111111111"),
    )

    messages = batch.messages
    assert [message.key.message_id for message in messages] == [
        "1585047616894574596",
        "1581048670673260549",
        "1580705121553420292",
    ]
    assert {message.key.chat_id for message in messages} == {"955555555-911111111111111111"}
    assert {message.key.account_id for message in messages} == {"911111111111111111"}
    assert all(message.direction is Direction.INBOUND for message in messages)
    assert messages[0].text == "Hello, just you!"
    assert messages[0].sent_at == datetime(2022, 10, 25, 23, 16, 15, tzinfo=UTC)
    assert messages[0].sender is not None
    assert messages[0].sender.username == "DemoFlood"
    assert messages[0].sender.display_name == "Demo Account"
    assert messages[0].kind is MessageKind.TEXT

    shared = messages[1]
    assert shared.kind is MessageKind.SHARE
    assert len(shared.attachments) == 1
    post = shared.attachments[0]
    assert post.type is AttachmentType.POST
    assert post.media_id == "1578900353814519810"
    assert post.url == "https://x.com/i/status/1578900353814519810"
    assert post.title is not None
    assert post.title.startswith("Feeling a bit late with my season greetings…\n\n")
    assert batch.quarantined == ()


def test_v2_own_user_id_makes_outbound(corpus: Path) -> None:
    batch = CODEC.decode(
        load(corpus, "v2_dm_events_referenced_tweet_with_includes.json"),
        context(account_id="955555555"),
    )

    assert {message.direction for message in batch.messages} == {Direction.OUTBOUND}


def test_v2_default_fields_page_without_conversation_is_quarantined(corpus: Path) -> None:
    batch = CODEC.decode(load(corpus, "v2_dm_conversation_events_page_next_token.json"), context())

    assert batch.items == ()
    assert len(batch.quarantined) == 2
    for record in batch.quarantined:
        assert "dm_conversation_id is missing" in record.reason
        assert record.location == "test"
        assert json.loads(record.raw)["event_type"] == "MessageCreate"


def test_v2_default_fields_page_with_conversation_hint(corpus: Path) -> None:
    batch = CODEC.decode(
        load(corpus, "v2_dm_conversation_events_page_next_token.json"),
        context(options={"dm_conversation_id": "1044444444444444444-731111111111111111"}),
    )

    messages = batch.messages
    assert [message.text for message in messages] == ["Testing 2", "Testing 1"]
    # The hint is normalized to the smaller user id first.
    assert {message.key.chat_id for message in messages} == {
        "731111111111111111-1044444444444444444"
    }
    # Without created_at the time comes from the snowflake id.
    assert messages[0].sent_at == datetime(2022, 10, 28, 1, 8, 23, 726000, tzinfo=UTC)
    assert messages[0].sender is None
    assert messages[0].direction is Direction.INBOUND


def test_v2_group_conversation_created_is_ignored(corpus: Path) -> None:
    batch = CODEC.decode(load(corpus, "v2_dm_group_conversation_created.json"), context())

    assert batch.items == ()
    assert len(batch.ignored) == 1
    assert batch.ignored[0].kind == "dm_event_created"
    assert "send acknowledgement" in batch.ignored[0].reason


def test_cassette_whole_decodes_own_sends_as_outbound(corpus: Path) -> None:
    batch = CODEC.decode(load(corpus, "v2_dm_manage_and_lookup.cassette.yaml"), context())

    messages = batch.messages
    # Two lookups (by conversation and by participant) return the same two events.
    assert [message.key.message_id for message in messages] == [
        "1585800613752881156",
        "1585800613253812228",
        "1585800613752881156",
        "1585800613253812228",
    ]
    assert {message.key.chat_id for message in messages} == {
        "731111111111111111-1044444444444444444"
    }
    assert {message.direction for message in messages} == {Direction.OUTBOUND}
    assert {message.sender.user_id for message in messages if message.sender} == {
        "1044444444444444444"
    }
    assert [message.text for message in messages[:2]] == ["Testing 2", "Testing 1"]
    assert [record.kind for record in batch.ignored] == ["dm_event_created"] * 3
    assert batch.quarantined == ()
    assert messages[0].client_ref is None


def test_cassette_bodies_one_by_one(corpus: Path) -> None:
    """Each response body of the cassette on its own, as replay hands them over."""
    import gzip

    cassette = load(corpus, "v2_dm_manage_and_lookup.cassette.yaml")
    bodies = [
        json.loads(gzip.decompress(interaction["response"]["body"]["string"]))
        for interaction in cassette["interactions"]
    ]
    results = [CODEC.decode(body, context()) for body in bodies]

    assert [len(result.ignored) for result in results] == [1, 1, 1, 0, 0, 0]
    assert [len(result.items) for result in results] == [0, 0, 0, 0, 0, 0]
    # Default-field lookups name no conversation, so their events are quarantined.
    assert [len(result.quarantined) for result in results] == [0, 0, 0, 0, 2, 2]


def test_participants_join_and_leave() -> None:
    payload = {
        "data": [
            {
                "id": "1700000000000000003",
                "event_type": "ParticipantsLeave",
                "dm_conversation_id": "1585800614365339648",
                "participant_ids": ["731111111111111111"],
                "created_at": "2023-09-08T10:00:00.000Z",
            },
            {
                "id": "1700000000000000002",
                "event_type": "ParticipantsJoin",
                "dm_conversation_id": "1585800614365339648",
                "participant_ids": ["135792468", "246813579"],
                "sender_id": "1044444444444444444",
                "created_at": "2023-09-08T09:00:00.000Z",
            },
            {"id": "1700000000000000001", "event_type": "ParticipantsJoin",
             "dm_conversation_id": "1585800614365339648"},
        ],
        "meta": {"result_count": 3},
    }
    batch = CODEC.decode(payload, context(account_id="1044444444444444444"))

    events = [item for item in batch.items if isinstance(item, ParticipantEvent)]
    assert len(events) == 2
    assert batch.messages == ()
    leave, join = events
    assert leave.action == "leave"
    assert leave.participant_ids == ("731111111111111111",)
    assert leave.conversation.chat_id == "1585800614365339648"
    assert leave.actor_id is None
    assert join.action == "join"
    assert join.participant_ids == ("135792468", "246813579")
    assert join.actor_id == "1044444444444444444"
    assert join.occurred_at == datetime(2023, 9, 8, 9, tzinfo=UTC)
    assert len(batch.quarantined) == 1
    assert "no participant_ids" in batch.quarantined[0].reason


def test_v2_media_attachment_from_includes() -> None:
    payload = {
        "data": [
            {
                "id": "1800000000000000001",
                "event_type": "MessageCreate",
                "text": "photo and video https://t.co/abc",
                "sender_id": "731111111111111111",
                "dm_conversation_id": "1585800614365339648",
                "created_at": "2024-03-01T12:00:00.000Z",
                "attachments": {"media_keys": ["3_111", "7_222", "3_missing"]},
            }
        ],
        "includes": {
            "media": [
                {"media_key": "3_111", "type": "photo", "url": "https://pbs.twimg.com/a.jpg",
                 "width": 640, "height": 480},
                {"media_key": "7_222", "type": "video", "duration_ms": 1500,
                 "preview_image_url": "https://pbs.twimg.com/p.jpg",
                 "variants": [
                     {"bit_rate": 256000, "content_type": "video/mp4", "url": "https://v/low.mp4"},
                     {"bit_rate": 832000, "content_type": "video/mp4", "url": "https://v/hi.mp4"},
                     {"content_type": "application/x-mpegURL", "url": "https://v/pl.m3u8"},
                 ]},
            ],
            "users": [{"id": "731111111111111111", "name": "Çağla Öztürk", "username": "cagla"}],
        },
        "meta": {"result_count": 1},
    }
    batch = CODEC.decode(payload, context(account_id="1044444444444444444"))

    message = batch.messages[0]
    assert message.is_group is True
    assert message.kind is MessageKind.MEDIA
    assert message.sender is not None and message.sender.display_name == "Çağla Öztürk"
    photo, video, unknown = message.attachments
    assert photo.type is AttachmentType.IMAGE
    assert photo.url == "https://pbs.twimg.com/a.jpg"
    assert (photo.width, photo.height) == (640, 480)
    assert video.type is AttachmentType.VIDEO
    assert video.url == "https://v/hi.mp4"
    assert video.duration == 1.5
    assert unknown.type is AttachmentType.OTHER
    assert unknown.media_id == "3_missing"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"data": [{"id": "1", "event_type": "MessageCreate", "text": 5,
                    "dm_conversation_id": "1-2"}]}, "text is not a string"),
        ({"data": [{"id": "1", "event_type": "MessageCreate", "text": "x",
                    "dm_conversation_id": "1-2", "created_at": "yesterday"}]},
         "created_at is not an ISO 8601 time"),
        ({"data": [{"event_type": "MessageCreate", "text": "x", "dm_conversation_id": "1-2"}]},
         "id is missing"),
        ({"data": [{"id": "1", "text": "x"}]}, "event_type is missing"),
        ({"data": ["not an event"]}, "not a DM event object"),
        ({"direct_message_events": [{"type": "message_create", "id": "5",
                                     "created_timestamp": "soon", "message_create": {
                                         "sender_id": "1", "target": {"recipient_id": "2"},
                                         "message_data": {"text": "x"}}}]},
         "created_timestamp is not a millisecond timestamp"),
        ({"direct_message_events": [{"type": "message_create", "id": "5",
                                     "created_timestamp": "1", "message_create": {
                                         "sender_id": "1", "message_data": {"text": "x"}}}]},
         "message_create.target is missing"),
    ],
)
def test_bad_parts_are_quarantined(payload: dict[str, Any], reason: str) -> None:
    batch = CODEC.decode(payload, context())

    assert batch.items == ()
    assert len(batch.quarantined) == 1
    assert reason in batch.quarantined[0].reason
    assert batch.quarantined[0].platform is Platform.X


def test_bad_event_does_not_stop_the_rest() -> None:
    payload = {"data": [
        {"id": "1", "event_type": "MessageCreate", "text": 5, "dm_conversation_id": "1-2"},
        {"id": "1585800613253812228", "event_type": "MessageCreate", "text": "ok",
         "dm_conversation_id": "2-1"},
    ]}
    batch = CODEC.decode(payload, context())

    assert [message.text for message in batch.messages] == ["ok"]
    assert batch.messages[0].key.chat_id == "1-2"
    assert len(batch.quarantined) == 1


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ({"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, "error_response"),
        ({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
          "status": 429}, "error_response"),
        ({"for_user_id": "1", "tweet_create_events": [{"id_str": "9"}]}, "tweet_create_events"),
        ({"data": [{"id": "1", "event_type": "MessageReaction"}]}, "MessageReaction"),
    ],
)
def test_well_formed_non_dm_payloads_are_ignored(payload: dict[str, Any], kind: str) -> None:
    batch = CODEC.decode(payload, context())

    assert batch.items == ()
    assert batch.quarantined == ()
    assert [record.kind for record in batch.ignored] == [kind]


@pytest.mark.parametrize("payload", [[], "text", 5, {"something": "else"}])
def test_unknown_shapes_are_quarantined(payload: Any) -> None:
    batch = CODEC.decode(payload, context())

    assert batch.items == ()
    assert len(batch.quarantined) == 1


def test_v2_and_webhook_give_the_same_key() -> None:
    v2 = {"data": [{"id": "1585800613253812228", "event_type": "MessageCreate", "text": "hi",
                    "sender_id": "731111111111111111",
                    "dm_conversation_id": "731111111111111111-1044444444444444444"}]}
    webhook = {"for_user_id": "1044444444444444444", "direct_message_events": [{
        "type": "message_create", "id": "1585800613253812228",
        "created_timestamp": "1666919303607",
        "message_create": {"sender_id": "731111111111111111",
                           "target": {"recipient_id": "1044444444444444444"},
                           "message_data": {"text": "hi"}}}]}
    from_v2 = CODEC.decode(v2, context(account_id="1044444444444444444")).messages[0]
    from_webhook = CODEC.decode(webhook, context()).messages[0]

    assert from_v2.key == from_webhook.key
    assert from_v2.sent_at == from_webhook.sent_at
