"""Audience selection and send eligibility for direct-message targets.

A recipient is a one-to-one conversation. It is excluded, with the reason
recorded, when the contact opted out (``opted_out``), blocked the account
(``blocked_us``, which covers Telegram users who blocked the bot), has not
accepted a message request (``message_request``), or, on Messenger and
Instagram, when the 24-hour window since the contact's last inbound activity
is closed and the announcement carries no message tag that allows the send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from socialinbox.adapters.meta.eligibility import HUMAN_AGENT, POLICIES, check_send
from socialinbox.broadcast.model import Audience
from socialinbox.errors import NotEligible, UsageError
from socialinbox.model import ContactStatus, Platform
from socialinbox.store.tables import ContactRow, ConversationRow, table_of

__all__ = ["Exclusion", "Recipient", "check_recipient", "select_audience"]

_contacts = table_of(ContactRow)
_conversations = table_of(ConversationRow)
_SEGMENT = re.compile(r"^(recent):(\d+)d$|^(language):([A-Za-z-]+)$")

EXCLUSION_REASONS = ("opted_out", "blocked_us", "message_request", "window_closed")


@dataclass(frozen=True)
class Recipient:
    """One chat a target sends to."""

    platform: Platform
    account_id: str
    chat_id: str
    contact_user_id: str | None = None
    name: str | None = None
    is_group: bool = False
    last_inbound_at: datetime | None = None
    contact_status: str | None = None


@dataclass(frozen=True)
class Exclusion:
    """A recipient left out of a target, with a reason code and a readable detail."""

    recipient: Recipient
    reason: str
    """One of ``opted_out``, ``blocked_us``, ``message_request``, ``window_closed``."""
    detail: str


def check_segment(segment: str | None) -> None:
    """Raise :class:`UsageError` for a segment that is not ``recent:<N>d`` or ``language:<code>``."""
    if segment is not None and _SEGMENT.match(segment) is None:
        raise UsageError(
            f"invalid segment {segment!r}: use recent:<days>d (like recent:30d) or "
            "language:<code> (like language:tr)"
        )


def select_audience(
    connection: sa.Connection, audience: Audience, *, now: datetime
) -> list[Recipient]:
    """Return the one-to-one conversations that match ``audience``, oldest conversation first."""
    check_segment(audience.segment)
    join = _conversations.outerjoin(
        _contacts,
        sa.and_(
            _contacts.c.platform == _conversations.c.platform,
            _contacts.c.account_id == _conversations.c.account_id,
            _contacts.c.user_id == _conversations.c.contact_user_id,
        ),
    )
    query = (
        sa.select(
            _conversations.c.platform,
            _conversations.c.account_id,
            _conversations.c.chat_id,
            _conversations.c.contact_user_id,
            _conversations.c.title,
            _conversations.c.tags.label("conversation_tags"),
            _conversations.c.last_inbound_at,
            _contacts.c.status,
            _contacts.c.tags.label("contact_tags"),
            _contacts.c.display_name,
            _contacts.c.language_code,
        )
        .select_from(join)
        .where(_conversations.c.is_group.is_(False))
        .order_by(_conversations.c.id)
    )
    if audience.platforms:
        query = query.where(_conversations.c.platform.in_([p.value for p in audience.platforms]))
    wanted_tags = set(audience.tags)
    segment = _SEGMENT.match(audience.segment) if audience.segment else None
    found: list[Recipient] = []
    for row in connection.execute(query):
        if wanted_tags:
            tags = set(row.conversation_tags or ()) | set(row.contact_tags or ())
            if not tags & wanted_tags:
                continue
        if segment is not None and segment.group(1) == "recent":
            since = now - timedelta(days=int(segment.group(2)))
            if row.last_inbound_at is None or row.last_inbound_at < since:
                continue
        if segment is not None and segment.group(3) == "language":
            language = (row.language_code or "").lower()
            if not language.startswith(segment.group(4).lower()):
                continue
        found.append(
            Recipient(
                platform=Platform(row.platform),
                account_id=row.account_id,
                chat_id=row.chat_id,
                contact_user_id=row.contact_user_id,
                name=row.display_name or row.title,
                last_inbound_at=row.last_inbound_at,
                contact_status=row.status,
            )
        )
    return found


def check_recipient(
    recipient: Recipient, *, now: datetime, meta_tag: str | None = None
) -> Exclusion | None:
    """Return why ``recipient`` may not get a direct message now, or ``None`` when it may."""
    status = recipient.contact_status
    if status == ContactStatus.OPTED_OUT.value:
        return Exclusion(recipient, "opted_out", "the contact opted out of announcements")
    if status == ContactStatus.BLOCKED_US.value:
        return Exclusion(recipient, "blocked_us", "the contact blocked the account")
    if status == ContactStatus.MESSAGE_REQUEST.value:
        return Exclusion(
            recipient, "message_request", "the contact has not accepted the message request"
        )
    policy = POLICIES.get(recipient.platform)
    if policy is not None:
        # A tag another Meta platform does not know is left out there, not an error.
        tag = meta_tag if meta_tag in policy.tag_windows else None
        try:
            check_send(recipient.platform, last_inbound_at=recipient.last_inbound_at, now=now, tag=tag)
        except NotEligible as error:
            return Exclusion(recipient, "window_closed", str(error))
    return None


def check_meta_tag(tag: str | None) -> None:
    """Reject a message tag that an automated announcement may not use.

    Raises:
        UsageError: the tag is ``HUMAN_AGENT`` (only for replies written by a
            person) or unknown on every Meta platform.
    """
    if tag is None:
        return
    if tag == HUMAN_AGENT:
        raise UsageError(
            f"the {HUMAN_AGENT} tag is only for replies written by a person; "
            "announcements may use ACCOUNT_UPDATE or CONFIRMED_EVENT_UPDATE on Messenger"
        )
    known = {name for policy in POLICIES.values() for name in policy.tag_windows}
    if tag not in known:
        raise UsageError(f"unknown Meta message tag {tag!r}; known tags: {', '.join(sorted(known))}")
