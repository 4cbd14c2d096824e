"""Send eligibility for Messenger and Instagram, kept as data per platform.

Meta lets a Page answer a contact freely for 24 hours after the contact's last
inbound activity (a message, a postback, a referral or a reaction). After
that only a message tag may be used: ``HUMAN_AGENT`` for replies written by a
person, up to 7 days after the contact's last activity. Text has a length
limit per platform: 2,000 characters on Messenger, 1,000 UTF-8 bytes on
Instagram.

:func:`check_send` turns these rules into a :class:`SendDecision` (which
``messaging_type`` and ``tag`` to send with) or raises
:class:`~socialinbox.errors.NotEligible` with ``until`` and ``allowed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from socialinbox.errors import NotEligible
from socialinbox.model import (
    Direction,
    Item,
    Message,
    Platform,
    PostbackEvent,
    ReactionEvent,
)

__all__ = [
    "HUMAN_AGENT",
    "POLICIES",
    "MessagingPolicy",
    "SendDecision",
    "check_send",
    "check_text",
    "opens_window",
    "text_size",
]

HUMAN_AGENT = "HUMAN_AGENT"


@dataclass(frozen=True)
class MessagingPolicy:
    """The messaging window and text limit rules of one platform."""

    platform: Platform
    standard_window: timedelta
    """How long after the contact's last inbound activity a plain reply is allowed."""
    tag_windows: Mapping[str, timedelta | None]
    """Message tags this platform accepts; ``None`` means not bound to a window."""
    text_limit: int
    text_unit: Literal["characters", "bytes"]
    # NOTE: reactions are assumed to open the window like messages do; drop
    # "reaction" here if Meta refuses replies that follow only a reaction.
    window_openers: frozenset[str] = field(
        default_factory=lambda: frozenset({"message", "postback", "referral", "reaction"})
    )
    """Inbound item kinds that open the standard window (see :func:`opens_window`)."""


POLICIES: Mapping[Platform, MessagingPolicy] = {
    Platform.MESSENGER: MessagingPolicy(
        platform=Platform.MESSENGER,
        standard_window=timedelta(hours=24),
        # NOTE: whether Meta still accepts the three non-human tags in 2026 is
        # not confirmed; a refusal arrives as Graph error 10 and is raised.
        tag_windows={
            HUMAN_AGENT: timedelta(days=7),
            "CONFIRMED_EVENT_UPDATE": None,
            "POST_PURCHASE_UPDATE": None,
            "ACCOUNT_UPDATE": None,
        },
        # NOTE: 2,000 characters comes from vendor help pages, not Meta's own page.
        text_limit=2000,
        text_unit="characters",
    ),
    Platform.INSTAGRAM: MessagingPolicy(
        platform=Platform.INSTAGRAM,
        standard_window=timedelta(hours=24),
        tag_windows={HUMAN_AGENT: timedelta(days=7)},
        # Meta's page says both "less than 1000 characters" and "1000 bytes or
        # less"; the byte limit is the stricter one.
        text_limit=1000,
        text_unit="bytes",
    ),
}


@dataclass(frozen=True)
class SendDecision:
    """How a send that passed :func:`check_send` is to be made."""

    messaging_type: str
    """``RESPONSE`` inside the standard window, else ``MESSAGE_TAG``."""
    tag: str | None
    window_closes_at: datetime | None
    """When this way of sending stops being allowed, if it is bound to a window."""


def text_size(platform: Platform, text: str) -> int:
    """Return the length of ``text`` in the unit the platform's limit uses."""
    policy = POLICIES[platform]
    if policy.text_unit == "bytes":
        return len(text.encode("utf-8"))
    return len(text)


def check_text(platform: Platform, text: str | None) -> None:
    """Raise :class:`NotEligible` when ``text`` is over the platform's limit."""
    if not text:
        return
    policy = POLICIES[platform]
    size = text_size(platform, text)
    if size > policy.text_limit:
        raise NotEligible(
            f"{platform.value} text is {size} {policy.text_unit}, over the limit of "
            f"{policy.text_limit}",
            platform=platform.value,
            allowed=f"text of at most {policy.text_limit} {policy.text_unit} per message; "
            "split it into several messages",
        )


def check_send(
    platform: Platform,
    *,
    last_inbound_at: datetime | None,
    now: datetime,
    text: str | None = None,
    tag: str | None = None,
) -> SendDecision:
    """Decide whether a message may be sent now and with which ``messaging_type``.

    Args:
        last_inbound_at: the contact's last window-opening activity (see
            :func:`opens_window`), or ``None`` if they never wrote.
        tag: a message tag the sender asks for, such as ``"HUMAN_AGENT"``.

    Raises:
        NotEligible: the text is too long, the tag is unknown on this
            platform, or the window for this kind of send has closed.
            ``until`` is when the send would become possible again (``None``
            when only a new message from the contact can reopen it) and
            ``allowed`` says what may be sent instead.
    """
    check_text(platform, text)
    policy = POLICIES[platform]
    if tag is not None and tag not in policy.tag_windows:
        raise NotEligible(
            f"{platform.value} does not accept the message tag {tag!r}",
            platform=platform.value,
            allowed="tags " + ", ".join(sorted(policy.tag_windows)),
        )
    if tag is not None and policy.tag_windows[tag] is None:
        return SendDecision(messaging_type="MESSAGE_TAG", tag=tag, window_closes_at=None)
    if last_inbound_at is None:
        raise NotEligible(
            f"{platform.value} contact has never written to the account, so no window is open",
            platform=platform.value,
            allowed=_alternatives(platform, None, now),
        )
    if tag is None:
        closes_at = last_inbound_at + policy.standard_window
        if now <= closes_at:
            return SendDecision(messaging_type="RESPONSE", tag=None, window_closes_at=closes_at)
        raise NotEligible(
            f"{platform.value} standard messaging window closed at {closes_at.isoformat()}",
            platform=platform.value,
            allowed=_alternatives(platform, last_inbound_at, now),
        )
    window = policy.tag_windows[tag]
    assert window is not None  # tags without a window returned above
    closes_at = last_inbound_at + window
    if now <= closes_at:
        return SendDecision(messaging_type="MESSAGE_TAG", tag=tag, window_closes_at=closes_at)
    raise NotEligible(
        f"{platform.value} {tag} window closed at {closes_at.isoformat()}",
        platform=platform.value,
        allowed=_alternatives(platform, last_inbound_at, now),
    )


def _alternatives(platform: Platform, last_inbound_at: datetime | None, now: datetime) -> str:
    """Describe what may still be sent to a contact whose standard window is closed."""
    policy = POLICIES[platform]
    options: list[str] = []
    human_window = policy.tag_windows.get(HUMAN_AGENT)
    if last_inbound_at is not None and human_window is not None:
        human_until = last_inbound_at + human_window
        if now <= human_until:
            options.append(
                f"a reply written by a person with tag {HUMAN_AGENT} until {human_until.isoformat()}"
            )
    unbound = sorted(name for name, window in policy.tag_windows.items() if window is None)
    if unbound:
        options.append("a non-promotional update with tag " + " or ".join(unbound))
    if platform is Platform.MESSENGER:
        options.append("a Page feed post")
    options.append("waiting for the contact to write again")
    return "; ".join(options)


def opens_window(item: Item) -> bool:
    """Return whether ``item`` is inbound activity that opens the standard window.

    The item kinds counted are the platform's ``window_openers``.
    """
    kind: str | None = None
    platform: Platform | None = None
    if isinstance(item, Message) and item.direction is Direction.INBOUND:
        kind, platform = "message", item.key.platform
    elif isinstance(item, PostbackEvent):
        # A stand-alone referral event keeps its "referral" key in the raw event.
        kind = "referral" if item.raw is not None and "referral" in item.raw else "postback"
        platform = item.conversation.platform
    elif isinstance(item, ReactionEvent) and item.emojis and item.actor_id == item.target.chat_id:
        kind, platform = "reaction", item.target.platform
    if kind is None or platform is None or platform not in POLICIES:
        return False
    return kind in POLICIES[platform].window_openers
