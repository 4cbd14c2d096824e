"""The announcement model: body, per-platform overrides, targets, audience and schedule."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from socialinbox.model import Platform, UtcDatetime

__all__ = [
    "DEFAULT_EXPIRY",
    "DISPLAY_ZONE",
    "Audience",
    "BroadcastStatus",
    "DeliveryStatus",
    "Draft",
    "Target",
]

DISPLAY_ZONE = ZoneInfo("Europe/Istanbul")
"""Zone in which schedules are read and shown unless the user names another."""
DEFAULT_EXPIRY = timedelta(hours=24)
"""How long after its scheduled time an unstarted announcement may still start."""


class BroadcastStatus(StrEnum):
    """Workflow state of an announcement."""

    DRAFT = "draft"
    """Created; waits for approval when approvals are required."""
    APPROVED = "approved"
    """Ready to send at its scheduled time."""
    SENDING = "sending"
    DONE = "done"
    """Every ledger row reached a final state (sent, failed, skipped or unknown)."""
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    """The expiry passed before sending started; it is never sent."""


class DeliveryStatus(StrEnum):
    """State of one ledger row (one recipient of one target)."""

    PENDING = "pending"
    SENDING = "sending"
    """Claimed by a sender; the platform call may be in flight."""
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"
    """Interrupted during the platform call and not found in the platform's echo or history."""


class Audience(BaseModel):
    """The contacts that receive the announcement as a direct message.

    A contact matches when its conversation is on one of ``platforms`` (all
    when empty), carries one of ``tags`` on the contact or the conversation
    (any tag when empty) and is in ``segment`` when one is given.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    platforms: tuple[Platform, ...] = ()
    tags: tuple[str, ...] = ()
    segment: str | None = None
    """``recent:<N>d`` (inbound activity in the last N days) or ``language:<code>``."""


class Target(BaseModel):
    """A destination of the announcement.

    ``dm``: direct messages to the audience. ``channel``: a Telegram channel or
    group (``chat`` is its ``@username`` or numeric id). ``post``: an X post, a
    Facebook Page feed post (platform ``messenger``) or an Instagram feed post
    (only with an image).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["dm", "channel", "post"]
    platform: Platform | None = None
    """Required for ``channel`` and ``post``; for ``dm`` the audience picks platforms."""
    chat: str | None = None
    account: str | None = None
    """Account id to send from; the only configured account of the platform when omitted."""
    audience: Audience | None = None
    """For ``dm``: who receives it; ``None`` means every contact on every platform."""

    @model_validator(mode="after")
    def _check(self) -> Target:
        if self.kind == "channel":
            if self.platform is not Platform.TELEGRAM or not self.chat:
                raise ValueError("a channel target needs platform telegram and a chat")
        if self.kind == "post" and self.platform is None:
            raise ValueError("a post target needs a platform")
        if self.kind == "post" and self.platform is Platform.TELEGRAM:
            raise ValueError("Telegram announcements go to channels: use a channel target")
        if self.kind != "dm" and self.audience is not None:
            raise ValueError("only a dm target has an audience")
        return self

    def describe(self) -> str:
        """Return a short label such as ``channel telegram @duyurular``."""
        if self.kind == "channel":
            return f"channel telegram {self.chat}"
        if self.kind == "post":
            assert self.platform is not None
            name = "facebook" if self.platform is Platform.MESSENGER else self.platform.value
            return f"post {name}"
        audience = self.audience or Audience()
        parts = ["dm", ",".join(p.value for p in audience.platforms) or "all"]
        if audience.tags:
            parts.append("tags=" + ",".join(audience.tags))
        if audience.segment:
            parts.append("segment=" + audience.segment)
        return " ".join(parts)


class Draft(BaseModel):
    """The fields of a new announcement, before it is stored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=255)
    body: str = Field(min_length=1)
    overrides: dict[Platform, str] = Field(default_factory=dict)
    image_url: str | None = None
    targets: tuple[Target, ...] = Field(min_length=1)
    scheduled_at: UtcDatetime
    expires_at: UtcDatetime
    approvals_required: int = Field(default=0, ge=0, le=1)
    """1 for two-person approval: someone other than the creator must approve."""
    meta_tag: str | None = None
    """Meta message tag for DMs outside the 24-hour window, such as ``ACCOUNT_UPDATE``."""
    created_by: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Draft:
        if self.expires_at <= self.scheduled_at:
            raise ValueError("the expiry must be after the scheduled time")
        for target in self.targets:
            if target.kind == "post" and target.platform is Platform.INSTAGRAM and not self.image_url:
                raise ValueError("an Instagram feed post needs an image (--image)")
        return self


def parse_when(value: str, zone: ZoneInfo = DISPLAY_ZONE) -> datetime:
    """Parse an ISO 8601 date and time; a value without an offset is read in ``zone``.

    Raises:
        ValueError: ``value`` is not an ISO 8601 date and time.
    """
    parsed = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def parse_duration(value: str) -> timedelta:
    """Parse ``90m``, ``6h`` or ``2d``.

    Raises:
        ValueError: the value has no known unit or is not a positive number.
    """
    units = {"m": "minutes", "h": "hours", "d": "days"}
    text = value.strip().lower()
    if len(text) < 2 or text[-1] not in units:
        raise ValueError(f"invalid duration {value!r}: expected a number and m, h or d, like 6h")
    amount = float(text[:-1])
    if amount <= 0:
        raise ValueError(f"invalid duration {value!r}: must be positive")
    return timedelta(**{units[text[-1]]: amount})
