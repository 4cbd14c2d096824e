"""The X emulator's wire behaviour, checked with plain requests and with tweepy."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import requests
import tweepy
import yaml

from socialinbox.adapters.base import DecodeContext
from socialinbox.adapters.twitter.codec import CODEC
from socialinbox.adapters.twitter.transport import (
    DEFAULT_BASE_URL,
    RedirectingSession,
    translate_error,
)
from socialinbox.errors import RateLimited
from socialinbox.model import Direction, ParticipantEvent
from socialinbox.testing.twitter import Fault, TwitterEmulator
from tests.twitter.support import CONTACT_ID, OWN_ID, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def get(emulator: TwitterEmulator, path: str, **params: Any) -> requests.Response:
    return requests.get(emulator.base_url + path, params=params, headers=AUTH, timeout=10)


def tweepy_client(emulator: TwitterEmulator, **kwargs: Any) -> tweepy.Client:
    client = tweepy.Client(bearer_token=TOKEN, **kwargs)
    client.session = RedirectingSession(emulator.base_url)
    return client


def test_redirecting_session_rewrites_hosts() -> None:
    session = RedirectingSession("http://127.0.0.1:9/")
    production = RedirectingSession()

    assert session.rewrite("https://api.twitter.com/2/dm_events") == "http://127.0.0.1:9/2/dm_events"
    assert session.rewrite("https://api.x.com/2/tweets") == "http://127.0.0.1:9/2/tweets"
    assert session.rewrite("https://upload.twitter.com/1.1/x") == "https://upload.twitter.com/1.1/x"
    assert DEFAULT_BASE_URL == "https://api.x.com"
    assert production.rewrite("https://api.twitter.com/2/dm_events") == (
        "https://api.x.com/2/dm_events"
    )


def test_missing_authorization_is_401(emulator: TwitterEmulator) -> None:
    response = requests.get(emulator.base_url + "/2/dm_events", timeout=10)
    unsigned = requests.get(
        emulator.base_url + "/2/dm_events", headers={"Authorization": "OAuth realm=x"}, timeout=10
    )

    assert response.status_code == 401
    assert response.json()["title"] == "Unauthorized"
    assert unsigned.status_code == 401
    assert emulator.requests[0].user_id is None


def test_pagination_and_rate_limit_headers(emulator: TwitterEmulator) -> None:
    ids = [emulator.add_message(sender_id=CONTACT_ID, text=f"m{n}")["id"] for n in range(5)]

    first = get(emulator, "/2/dm_events", max_results=2)
    token = first.json()["meta"]["next_token"]
    second = get(emulator, "/2/dm_events", max_results=2, pagination_token=token)
    third = get(emulator, "/2/dm_events", max_results=2,
                pagination_token=second.json()["meta"]["next_token"])

    assert [event["id"] for event in first.json()["data"]] == [ids[4], ids[3]]
    assert [event["id"] for event in second.json()["data"]] == [ids[2], ids[1]]
    assert [event["id"] for event in third.json()["data"]] == [ids[0]]
    assert "next_token" not in third.json()["meta"]
    assert len(token) >= 16
    assert first.json()["data"][0] == {"id": ids[4], "event_type": "MessageCreate", "text": "m4"}
    assert first.headers["x-rate-limit-limit"] == "300"
    assert first.headers["x-rate-limit-remaining"] == "299"
    assert third.headers["x-rate-limit-remaining"] == "297"
    assert int(first.headers["x-rate-limit-reset"]) > 0


def test_fields_and_expansions_old_and_new_names(emulator: TwitterEmulator) -> None:
    emulator.add_tweet({"id": "1578900353814519810", "text": "a post", "author_id": CONTACT_ID,
                        "edit_history_tweet_ids": ["1578900353814519810"]})
    emulator.add_message(sender_id=CONTACT_ID, text="look",
                         referenced_tweet_ids=["1578900353814519810"])

    old = get(emulator, "/2/dm_events", **{
        "dm_event.fields": "created_at,dm_conversation_id,sender_id,referenced_tweets",
        "expansions": "sender_id,referenced_tweets.id", "tweet.fields": "author_id"})
    new = get(emulator, "/2/dm_events", **{
        "dm_event.fields": "created_at,dm_conversation_id",
        "expansions": "sender_id,referenced_posts", "post.fields": "author_id"})
    bad = get(emulator, "/2/dm_events", **{"dm_event.fields": "sender_id,mood"})

    for response in (old, new):
        body = response.json()
        assert response.status_code == 200
        assert body["data"][0]["sender_id"] == CONTACT_ID
        assert body["data"][0]["dm_conversation_id"] == f"{CONTACT_ID}-{OWN_ID}"
        assert body["includes"]["users"][0]["username"] == "quillmarsh1"
        assert body["includes"]["tweets"][0]["author_id"] == CONTACT_ID
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["parameters"] == {"dm_event.fields": ["mood"]}
    assert get(emulator, "/2/dm_events", max_results=101).status_code == 400
    assert get(emulator, "/2/dm_events", pagination_token="!!").status_code == 400


@pytest.mark.parametrize("style", ["v1", "problem"])
def test_rate_limit_429_bodies(style: str) -> None:
    limits = {"GET /2/dm_events": (2, 900)}
    with TwitterEmulator(user_id=OWN_ID, limits=limits, rate_limit_style=style) as emulator:  # type: ignore[arg-type]
        client = tweepy_client(emulator)
        client.get_direct_message_events(user_auth=False)
        client.get_direct_message_events(user_auth=False)
        with pytest.raises(tweepy.TooManyRequests) as raised:
            client.get_direct_message_events(user_auth=False)

    response = raised.value.response
    assert response.status_code == 429
    assert response.headers["x-rate-limit-remaining"] == "0"
    assert raised.value.reset_time is not None
    if style == "v1":
        assert response.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
        assert raised.value.api_codes == [88]
    else:
        assert response.json()["title"] == "Too Many Requests"
        assert response.json()["status"] == 429
    error = translate_error(raised.value)
    assert isinstance(error, RateLimited)
    assert error.retry_after is not None


def test_injected_fault_applies_once(emulator: TwitterEmulator) -> None:
    emulator.inject(Fault(kind="error", status=500, endpoint="GET /2/dm_events",
                          body={"title": "Internal"}))

    assert get(emulator, "/2/dm_events").status_code == 500
    assert get(emulator, "/2/dm_events").status_code == 200
    assert get(emulator, "/2/users/me").json()["data"]["id"] == OWN_ID


def test_conversation_routes_and_group_flow(emulator: TwitterEmulator) -> None:
    client = tweepy_client(emulator, return_type=dict)
    emulator.add_message(sender_id=CONTACT_ID, text="bire bir")

    created = client.create_direct_message_conversation(
        text="grup kuruldu", participant_ids=[CONTACT_ID, "135792468"], user_auth=False
    )
    group_id = created["data"]["dm_conversation_id"]
    emulator.add_participants_event(group_id, action="leave", participant_ids=["135792468"],
                                    sender_id="135792468")
    by_group = client.get_direct_message_events(
        dm_conversation_id=group_id, user_auth=False,
        dm_event_fields=["dm_conversation_id", "participant_ids", "sender_id", "created_at"],
    )
    by_participant = client.get_direct_message_events(
        participant_id=CONTACT_ID, user_auth=False, dm_event_fields=["dm_conversation_id"]
    )

    assert "-" not in group_id
    assert [event["event_type"] for event in by_group["data"]] == [
        "ParticipantsLeave", "MessageCreate"]
    assert "text" not in by_group["data"][0]
    assert [event["text"] for event in by_participant["data"]] == ["bire bir"]
    batch = CODEC.decode(by_group, DecodeContext(account_id=OWN_ID))
    leave = batch.items[0]
    assert isinstance(leave, ParticipantEvent)
    assert leave.action == "leave"
    assert leave.participant_ids == ("135792468",)
    assert batch.messages[0].direction is Direction.OUTBOUND
    assert batch.messages[0].text == "grup kuruldu"


def test_dm_text_limit_and_empty_body(emulator: TwitterEmulator) -> None:
    client = tweepy_client(emulator)

    with pytest.raises(tweepy.BadRequest):
        client.create_direct_message(participant_id=CONTACT_ID, text="a" * 10_001,
                                     user_auth=False)
    with pytest.raises(tweepy.BadRequest):
        client.create_direct_message(participant_id=CONTACT_ID, text="", user_auth=False)
    client.create_direct_message(participant_id=CONTACT_ID, text="a" * 10_000, user_auth=False)

    assert len(emulator.sent) == 1


def test_corpus_cassette_replays_through_tweepy(corpus: Path, emulator: TwitterEmulator) -> None:
    path = corpus / "twitter" / "v2_dm_manage_and_lookup.cassette.yaml"
    cassette = yaml.safe_load(path.read_bytes())
    recorded = [
        json.loads(gzip.decompress(interaction["response"]["body"]["string"]))
        for interaction in cassette["interactions"]
    ]
    assert emulator.load_cassette(path) == 6
    client = tweepy_client(emulator, return_type=requests.Response)

    responses = [
        client.create_direct_message(participant_id=CONTACT_ID, text="Testing 1",
                                     user_auth=False),
        client.create_direct_message(dm_conversation_id=f"{CONTACT_ID}-{OWN_ID}",
                                     text="Testing 2", user_auth=False),
        client.create_direct_message_conversation(text="Testing",
                                                  participant_ids=["135792468", CONTACT_ID],
                                                  user_auth=False),
        client.get_direct_message_events(user_auth=False),
        client.get_direct_message_events(dm_conversation_id=f"{CONTACT_ID}-{OWN_ID}",
                                         user_auth=False),
        client.get_direct_message_events(participant_id=CONTACT_ID, user_auth=False),
    ]

    assert [response.json() for response in responses] == recorded
    assert [response.status_code for response in responses] == [201, 201, 201, 200, 200, 200]
    assert responses[0].headers["location"].endswith('/2/dm_events/"1585800613253812228"')
    assert responses[0].headers["x-rate-limit-limit"] == "200"
    assert responses[3].headers["x-rate-limit-limit"] == "300"
    assert emulator.sent == []  # recorded responses do not change the emulated state
    # Once the recording is used up, the emulated state responds.
    after = client.get_direct_message_events(user_auth=False)
    assert after.json() == {"meta": {"result_count": 0}}
    assert "content-encoding" not in after.headers


def test_add_dm_events_from_a_response_body(corpus: Path, emulator: TwitterEmulator) -> None:
    body = json.loads(
        (corpus / "twitter" / "v2_dm_events_referenced_tweet_with_includes.json").read_text()
    )
    emulator.add_account("911111111111111111", "frost-token")

    assert len(emulator.add_dm_events(body)) == 3
    response = requests.get(
        emulator.base_url + "/2/dm_events",
        params={"dm_event.fields": "sender_id,created_at,dm_conversation_id",
                "expansions": "sender_id,referenced_tweets.id"},
        headers={"Authorization": "Bearer frost-token"}, timeout=10,
    )
    batch = CODEC.decode(response.json(), DecodeContext(account_id="911111111111111111"))

    assert [m.text for m in batch.messages] == [
        "Hello, just you!", "Simple Tweet link: https://t.co/IYFbRIdXHg",
        "Adding a new 1-to-1 Direct Message."]
    assert batch.messages[1].attachments[0].title is not None
    assert batch.messages[0].sender is not None
    assert batch.messages[0].sender.username == "DemoFlood"
