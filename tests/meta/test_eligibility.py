"""Messaging window and text limit rules for Messenger and Instagram."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialinbox.adapters.meta.eligibility import (
    HUMAN_AGENT,
    check_send,
    opens_window,
    text_size,
)
from socialinbox.errors import NotEligible
from socialinbox.model import (
    Contact,
    ConversationKey,
    Direction,
    Message,
    MessageKey,
    Platform,
    PostbackEvent,
    ReactionEvent,
)

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("platform", [Platform.MESSENGER, Platform.INSTAGRAM])
def test_response_inside_standard_window(platform: Platform) -> None:
    last = NOW - timedelta(hours=23, minutes=59)
    decision = check_send(platform, last_inbound_at=last, now=NOW, text="Merhaba")
    assert decision.messaging_type == "RESPONSE"
    assert decision.tag is None
    assert decision.window_closes_at == last + timedelta(hours=24)


@pytest.mark.parametrize("platform", [Platform.MESSENGER, Platform.INSTAGRAM])
def test_closed_window_suggests_human_agent(platform: Platform) -> None:
    last = NOW - timedelta(hours=30)
    with pytest.raises(NotEligible) as caught:
        check_send(platform, last_inbound_at=last, now=NOW, text="Merhaba")
    assert caught.value.until is None
    assert caught.value.allowed is not None
    assert HUMAN_AGENT in caught.value.allowed
    assert (last + timedelta(days=7)).isoformat() in caught.value.allowed


@pytest.mark.parametrize("platform", [Platform.MESSENGER, Platform.INSTAGRAM])
def test_human_agent_tag_for_seven_days(platform: Platform) -> None:
    last = NOW - timedelta(days=6, hours=23)
    decision = check_send(platform, last_inbound_at=last, now=NOW, tag=HUMAN_AGENT)
    assert decision.messaging_type == "MESSAGE_TAG"
    assert decision.tag == HUMAN_AGENT
    with pytest.raises(NotEligible) as caught:
        check_send(platform, last_inbound_at=NOW - timedelta(days=8), now=NOW, tag=HUMAN_AGENT)
    assert caught.value.allowed is not None
    assert HUMAN_AGENT not in caught.value.allowed
    assert "waiting for the contact" in caught.value.allowed


def test_never_contacted_is_not_eligible() -> None:
    with pytest.raises(NotEligible) as caught:
        check_send(Platform.MESSENGER, last_inbound_at=None, now=NOW, text="Duyuru")
    assert caught.value.allowed is not None
    assert "Page feed post" in caught.value.allowed


def test_messenger_only_tags() -> None:
    decision = check_send(
        Platform.MESSENGER, last_inbound_at=None, now=NOW, tag="POST_PURCHASE_UPDATE"
    )
    assert decision.messaging_type == "MESSAGE_TAG"
    assert decision.window_closes_at is None
    with pytest.raises(NotEligible) as caught:
        check_send(Platform.INSTAGRAM, last_inbound_at=NOW, now=NOW, tag="POST_PURCHASE_UPDATE")
    assert caught.value.allowed == f"tags {HUMAN_AGENT}"


def test_instagram_limit_counts_bytes() -> None:
    turkish = "ş" * 500  # 500 characters, 1,000 UTF-8 bytes
    assert text_size(Platform.INSTAGRAM, turkish) == 1000
    check_send(Platform.INSTAGRAM, last_inbound_at=NOW, now=NOW, text=turkish)
    with pytest.raises(NotEligible) as caught:
        check_send(Platform.INSTAGRAM, last_inbound_at=NOW, now=NOW, text=turkish + "a")
    assert "1001 bytes" in str(caught.value)
    assert caught.value.allowed is not None and "1000 bytes" in caught.value.allowed
    emoji = "🙂" * 251  # 1,004 bytes
    with pytest.raises(NotEligible):
        check_send(Platform.INSTAGRAM, last_inbound_at=NOW, now=NOW, text=emoji)


def test_messenger_limit_counts_characters() -> None:
    check_send(Platform.MESSENGER, last_inbound_at=NOW, now=NOW, text="ş" * 2000)
    with pytest.raises(NotEligible, match="2001 characters"):
        check_send(Platform.MESSENGER, last_inbound_at=NOW, now=NOW, text="a" * 2001)


def test_window_openers() -> None:
    key = MessageKey(platform=Platform.MESSENGER, account_id="p", chat_id="u", message_id="m")
    conversation = key.conversation
    contact = Contact(platform=Platform.MESSENGER, user_id="u")
    inbound = Message(key=key, direction=Direction.INBOUND, text="a", sent_at=NOW, received_at=NOW)
    outbound = inbound.model_copy(update={"direction": Direction.OUTBOUND})
    postback = PostbackEvent(
        conversation=conversation,
        sender=contact,
        payload="GET_STARTED",
        occurred_at=NOW,
        received_at=NOW,
    )
    reaction = ReactionEvent(
        target=key, actor_id="u", emojis=("👍",), occurred_at=NOW, received_at=NOW
    )
    removal = reaction.model_copy(update={"emojis": ()})
    assert opens_window(inbound)
    assert not opens_window(outbound)
    assert opens_window(postback)
    assert opens_window(reaction)
    assert not opens_window(removal)
    other = ConversationKey(platform=Platform.X, account_id="p", chat_id="u")
    assert not opens_window(postback.model_copy(update={"conversation": other}))
