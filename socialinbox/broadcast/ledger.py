"""Announcements and their delivery ledger in the database.

Every state change is one conditional ``UPDATE`` so that several processes
can work on the same announcement: a ledger row moves from ``pending`` to
``sending`` only for the process whose update matched it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from socialinbox.broadcast.model import BroadcastStatus, DeliveryStatus, Draft, Target
from socialinbox.broadcast.tables import broadcast_deliveries, broadcasts
from socialinbox.errors import UsageError
from socialinbox.model import Platform

__all__ = [
    "ANY_ACCOUNT",
    "Broadcast",
    "BroadcastError",
    "Delivery",
    "approve_broadcast",
    "cancel_broadcast",
    "create_broadcast",
    "delivery_counts",
    "get_broadcast",
    "list_broadcasts",
    "list_deliveries",
]

ANY_ACCOUNT = "*"
"""Account id of a channel or post row whose target names no account: the configured one is used."""


class BroadcastError(UsageError):
    """A workflow step is not allowed in the announcement's current state."""


@dataclass(frozen=True)
class Broadcast:
    """An announcement as stored."""

    id: int
    title: str
    body: str
    overrides: dict[Platform, str]
    image_url: str | None
    targets: tuple[Target, ...]
    meta_tag: str | None
    status: BroadcastStatus
    scheduled_at: datetime
    expires_at: datetime
    approvals_required: int
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    cancelled_by: str | None
    cancelled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None

    def source_for(self, platform: Platform) -> str:
        """Return the Markdown text for ``platform``: its override, else the body."""
        return self.overrides.get(platform, self.body)


@dataclass(frozen=True)
class Delivery:
    """One ledger row."""

    id: int
    broadcast_id: int
    target: str
    platform: Platform
    account_id: str
    chat_id: str
    contact_user_id: str | None
    is_group: bool
    client_ref: str
    status: DeliveryStatus
    reason: str | None
    parts_total: int
    parts_sent: int
    platform_message_ids: tuple[str, ...]
    attempts: int
    not_before: datetime | None
    claimed_by: str | None
    claimed_at: datetime | None
    sent_at: datetime | None
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target": self.target,
            "platform": self.platform.value,
            "account_id": self.account_id,
            "chat_id": self.chat_id,
            "contact_user_id": self.contact_user_id,
            "status": self.status.value,
            "reason": self.reason,
            "parts": f"{self.parts_sent}/{self.parts_total}",
            "platform_message_ids": list(self.platform_message_ids),
            "attempts": self.attempts,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
        }


def _broadcast_from_row(row: Any) -> Broadcast:
    return Broadcast(
        id=row.id,
        title=row.title,
        body=row.body,
        overrides={Platform(key): value for key, value in (row.overrides or {}).items()},
        image_url=row.image_url,
        targets=tuple(Target.model_validate(item) for item in row.targets or ()),
        meta_tag=row.meta_tag,
        status=BroadcastStatus(row.status),
        scheduled_at=row.scheduled_at,
        expires_at=row.expires_at,
        approvals_required=row.approvals_required,
        created_by=row.created_by,
        created_at=row.created_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        cancelled_by=row.cancelled_by,
        cancelled_at=row.cancelled_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def delivery_from_row(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        broadcast_id=row.broadcast_id,
        target=row.target,
        platform=Platform(row.platform),
        account_id=row.account_id,
        chat_id=row.chat_id,
        contact_user_id=row.contact_user_id,
        is_group=row.is_group,
        client_ref=row.client_ref,
        status=DeliveryStatus(row.status),
        reason=row.reason,
        parts_total=row.parts_total,
        parts_sent=row.parts_sent,
        platform_message_ids=tuple(row.platform_message_ids or ()),
        attempts=row.attempts,
        not_before=row.not_before,
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        sent_at=row.sent_at,
        updated_at=row.updated_at,
    )


def create_broadcast(engine: sa.Engine, draft: Draft, *, now: datetime) -> Broadcast:
    """Store a new announcement; it is approved at once unless it needs an approval."""
    status = BroadcastStatus.DRAFT if draft.approvals_required else BroadcastStatus.APPROVED
    with engine.begin() as connection:
        new_id = connection.execute(
            broadcasts.insert()
            .values(
                title=draft.title,
                body=draft.body,
                overrides={platform.value: text for platform, text in draft.overrides.items()},
                image_url=draft.image_url,
                targets=[target.model_dump(mode="json", exclude_none=True) for target in draft.targets],
                meta_tag=draft.meta_tag,
                status=status.value,
                scheduled_at=draft.scheduled_at,
                expires_at=draft.expires_at,
                approvals_required=draft.approvals_required,
                created_by=draft.created_by,
                created_at=now,
            )
            .returning(broadcasts.c.id)
        ).scalar_one()
    return get_broadcast(engine, new_id)


def get_broadcast(engine: sa.Engine, broadcast_id: int) -> Broadcast:
    """Return announcement ``broadcast_id``.

    Raises:
        BroadcastError: no announcement has that id.
    """
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(broadcasts).where(broadcasts.c.id == broadcast_id)
        ).one_or_none()
    if row is None:
        raise BroadcastError(
            f"announcement {broadcast_id} not found; `socialinbox broadcast status` lists them"
        )
    return _broadcast_from_row(row)


def list_broadcasts(engine: sa.Engine, *, limit: int = 50) -> list[Broadcast]:
    """Return the newest announcements first."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(broadcasts).order_by(broadcasts.c.id.desc()).limit(limit)
        ).all()
    return [_broadcast_from_row(row) for row in rows]


def approve_broadcast(engine: sa.Engine, broadcast_id: int, *, user: str, now: datetime) -> Broadcast:
    """Approve a draft as ``user``.

    Raises:
        BroadcastError: the announcement is not a draft, or ``user`` created it
            (two-person approval: the creator cannot approve).
    """
    broadcast = get_broadcast(engine, broadcast_id)
    if broadcast.status is not BroadcastStatus.DRAFT:
        raise BroadcastError(
            f"announcement {broadcast_id} is {broadcast.status.value}; only a draft can be approved"
        )
    if user == broadcast.created_by:
        raise BroadcastError(
            f"announcement {broadcast_id} was created by {user}; another person must approve it"
        )
    with engine.begin() as connection:
        updated = connection.execute(
            broadcasts.update()
            .where(broadcasts.c.id == broadcast_id, broadcasts.c.status == BroadcastStatus.DRAFT.value)
            .values(status=BroadcastStatus.APPROVED.value, approved_by=user, approved_at=now)
        ).rowcount
    if updated != 1:
        raise BroadcastError(f"announcement {broadcast_id} changed while approving; try again")
    return get_broadcast(engine, broadcast_id)


def cancel_broadcast(engine: sa.Engine, broadcast_id: int, *, user: str, now: datetime) -> int:
    """Cancel an announcement; return how many pending ledger rows were skipped.

    Rows already ``sending`` finish their platform call; nothing starts after this.

    Raises:
        BroadcastError: the announcement already finished, expired or was cancelled.
    """
    active = (BroadcastStatus.DRAFT, BroadcastStatus.APPROVED, BroadcastStatus.SENDING)
    broadcast = get_broadcast(engine, broadcast_id)
    if broadcast.status not in active:
        raise BroadcastError(
            f"announcement {broadcast_id} is {broadcast.status.value} and cannot be cancelled"
        )
    with engine.begin() as connection:
        connection.execute(
            broadcasts.update()
            .where(
                broadcasts.c.id == broadcast_id,
                broadcasts.c.status.in_([status.value for status in active]),
            )
            .values(
                status=BroadcastStatus.CANCELLED.value,
                cancelled_by=user,
                cancelled_at=now,
                finished_at=now,
            )
        )
        skipped = connection.execute(
            broadcast_deliveries.update()
            .where(
                broadcast_deliveries.c.broadcast_id == broadcast_id,
                broadcast_deliveries.c.status == DeliveryStatus.PENDING.value,
            )
            .values(
                status=DeliveryStatus.SKIPPED.value, reason=f"cancelled by {user}", updated_at=now
            )
        ).rowcount
    return int(skipped)


def set_status(
    connection: sa.Connection,
    broadcast_id: int,
    status: BroadcastStatus,
    *,
    expected: tuple[BroadcastStatus, ...],
    **values: Any,
) -> bool:
    """Move an announcement from one of ``expected`` to ``status``; return whether it moved."""
    result = connection.execute(
        broadcasts.update()
        .where(
            broadcasts.c.id == broadcast_id,
            broadcasts.c.status.in_([item.value for item in expected]),
        )
        .values(status=status.value, **values)
    )
    return bool(result.rowcount)


def client_ref_for(broadcast_id: int, target: str, platform: Platform, account_id: str, chat_id: str) -> str:
    """Return the stable idempotency reference of one ledger row."""
    digest = hashlib.sha256(f"{target}|{platform.value}|{account_id}|{chat_id}".encode()).hexdigest()
    return f"bc{broadcast_id}-{digest[:20]}"


def list_deliveries(
    engine: sa.Engine, broadcast_id: int, *, status: DeliveryStatus | None = None
) -> list[Delivery]:
    query = (
        sa.select(broadcast_deliveries)
        .where(broadcast_deliveries.c.broadcast_id == broadcast_id)
        .order_by(broadcast_deliveries.c.id)
    )
    if status is not None:
        query = query.where(broadcast_deliveries.c.status == status.value)
    with engine.connect() as connection:
        return [delivery_from_row(row) for row in connection.execute(query)]


def delivery_counts(engine: sa.Engine, broadcast_id: int) -> dict[tuple[str, str], Counter[str]]:
    """Return ledger row counts per (target, platform) and status."""
    query = (
        sa.select(
            broadcast_deliveries.c.target,
            broadcast_deliveries.c.platform,
            broadcast_deliveries.c.status,
            sa.func.count(),
        )
        .where(broadcast_deliveries.c.broadcast_id == broadcast_id)
        .group_by(
            broadcast_deliveries.c.target,
            broadcast_deliveries.c.platform,
            broadcast_deliveries.c.status,
        )
    )
    counts: dict[tuple[str, str], Counter[str]] = {}
    with engine.connect() as connection:
        for target, platform, status, count in connection.execute(query):
            counts.setdefault((target, platform), Counter())[status] = int(count)
    return counts
