"""Tables of announcement broadcasts, on the store's declarative ``Base``.

The schema is created by the hand-written migration ``0003_broadcast``;
keep the two in step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from socialinbox.store.tables import Base, table_of

__all__ = [
    "BroadcastDeliveryRow",
    "BroadcastRow",
    "BroadcastRunRow",
    "RateBucketRow",
    "broadcast_deliveries",
    "broadcast_runs",
    "broadcasts",
    "rate_buckets",
]


class BroadcastRow(Base):
    """One announcement with its workflow state."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    """Markdown subset: paragraphs, ``**bold**``, ``*italic*``, ``` `code` ```, links, ``- `` lists."""
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Platform value -> body used instead of ``body`` on that platform."""
    image_url: Mapped[str | None] = mapped_column(sa.Text)
    targets: Mapped[list[Any]] = mapped_column(default=list)
    """Target specifications (see :class:`socialinbox.broadcast.model.Target`) as JSON."""
    meta_tag: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16))
    scheduled_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    approvals_required: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[datetime]
    approved_by: Mapped[str | None] = mapped_column(sa.String(128))
    approved_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(128))
    cancelled_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class BroadcastDeliveryRow(Base):
    """The ledger: one row per recipient and target, written before any platform call."""

    __tablename__ = "broadcast_deliveries"
    __table_args__ = (
        sa.UniqueConstraint(
            "broadcast_id", "target", "platform", "account_id", "chat_id",
            name="uq_broadcast_deliveries_recipient",
        ),
        sa.Index("ix_broadcast_deliveries_due", "broadcast_id", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(sa.ForeignKey("broadcasts.id"))
    target: Mapped[str] = mapped_column(sa.String(32))
    """``dm``, ``channel`` or ``post``."""
    platform: Mapped[str] = mapped_column(sa.String(16))
    account_id: Mapped[str] = mapped_column(sa.String(128))
    chat_id: Mapped[str] = mapped_column(sa.String(128))
    """The chat, channel or, for posts, the feed owner (the account itself)."""
    contact_user_id: Mapped[str | None] = mapped_column(sa.String(128))
    is_group: Mapped[bool] = mapped_column(default=False)
    client_ref: Mapped[str] = mapped_column(sa.String(128), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    parts_total: Mapped[int] = mapped_column(default=1)
    parts_sent: Mapped[int] = mapped_column(default=0)
    platform_message_ids: Mapped[list[Any]] = mapped_column(default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class BroadcastRunRow(Base):
    """A sender process; its heartbeat shows whether its ``sending`` rows are still in flight."""

    __tablename__ = "broadcast_runs"

    run_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class RateBucketRow(Base):
    """A token bucket shared by every process that uses the same database."""

    __tablename__ = "broadcast_rate_buckets"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    tokens: Mapped[float] = mapped_column(sa.Float)
    updated_at: Mapped[float] = mapped_column(sa.Float)
    """Unix time in seconds of the last refill."""
    blocked_until: Mapped[float] = mapped_column(sa.Float, default=0.0)
    """Unix time until which the platform asked us to wait (HTTP 429 ``retry_after``)."""


broadcasts = table_of(BroadcastRow)
broadcast_deliveries = table_of(BroadcastDeliveryRow)
broadcast_runs = table_of(BroadcastRunRow)
rate_buckets = table_of(RateBucketRow)
