"""Planning: render per platform, select and check recipients, and write the ledger.

:func:`plan_broadcast` is the dry run: it reads the store, changes nothing
and says what each target would send, to how many recipients, and who is
left out and why. :func:`materialize` writes the same plan into the ledger
when sending starts; inserting is idempotent, so a second sender process or
a resumed run adds nothing twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from socialinbox.broadcast.audience import Exclusion, Recipient, check_recipient, select_audience
from socialinbox.broadcast.ledger import ANY_ACCOUNT, Broadcast, client_ref_for
from socialinbox.broadcast.model import Audience, DeliveryStatus, Target
from socialinbox.broadcast.render import Rendering, render
from socialinbox.broadcast.tables import broadcast_deliveries
from socialinbox.model import Platform

__all__ = ["Plan", "TargetPlan", "materialize", "plan_broadcast"]

POST_CHAT = "feed"
"""Chat id of a post row: the account's own feed or timeline."""


@dataclass
class TargetPlan:
    """The rendered text and the recipients of one target."""

    target: Target
    renderings: dict[Platform, Rendering] = field(default_factory=dict)
    recipients: list[Recipient] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list)
    duplicates: int = 0
    """Recipients already reached by an earlier target of the same kind."""

    @property
    def kind(self) -> str:
        return self.target.kind

    def reach(self) -> Counter[str]:
        """Return the recipient count per platform."""
        return Counter(recipient.platform.value for recipient in self.recipients)

    def excluded(self) -> Counter[str]:
        """Return the exclusion count per reason."""
        return Counter(exclusion.reason for exclusion in self.exclusions)


@dataclass
class Plan:
    """The dry run of one announcement."""

    broadcast: Broadcast
    targets: list[TargetPlan]
    now: datetime

    @property
    def errors(self) -> list[str]:
        found: list[str] = []
        for target_plan in self.targets:
            for rendering in target_plan.renderings.values():
                found.extend(rendering.errors)
        return found

    def renderings(self) -> dict[tuple[str, Platform], Rendering]:
        found: dict[tuple[str, Platform], Rendering] = {}
        for target_plan in self.targets:
            for platform, rendering in target_plan.renderings.items():
                found.setdefault((target_plan.kind, platform), rendering)
        return found

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary (no message bodies of other people, only ids)."""
        return {
            "id": self.broadcast.id,
            "title": self.broadcast.title,
            "status": self.broadcast.status.value,
            "errors": self.errors,
            "targets": [
                {
                    "target": target_plan.target.describe(),
                    "recipients": dict(target_plan.reach()),
                    "excluded": dict(target_plan.excluded()),
                    "duplicates": target_plan.duplicates,
                    "exclusions": [
                        {
                            "platform": exclusion.recipient.platform.value,
                            "chat_id": exclusion.recipient.chat_id,
                            "reason": exclusion.reason,
                            "detail": exclusion.detail,
                        }
                        for exclusion in target_plan.exclusions
                    ],
                }
                for target_plan in self.targets
            ],
            "renderings": [
                {
                    "kind": kind,
                    "platform": platform.value,
                    "parts": len(rendering.parts),
                    "size": rendering.size,
                    "limit": rendering.limit,
                    "unit": rendering.unit,
                    "text": rendering.preview,
                    "notes": list(rendering.notes),
                    "errors": list(rendering.errors),
                }
                for (kind, platform), rendering in self.renderings().items()
            ],
        }


def plan_broadcast(engine: sa.Engine, broadcast: Broadcast, *, now: datetime) -> Plan:
    """Render, select and check recipients for every target of ``broadcast``."""
    plans: list[TargetPlan] = []
    seen: set[tuple[str, str, str, str]] = set()
    with engine.connect() as connection:
        for target in broadcast.targets:
            target_plan = TargetPlan(target=target)
            if target.kind == "dm":
                candidates = select_audience(connection, target.audience or Audience(), now=now)
            else:
                assert target.platform is not None
                chat = target.chat if target.kind == "channel" else POST_CHAT
                assert chat is not None
                candidates = [
                    Recipient(
                        platform=target.platform,
                        account_id=target.account or ANY_ACCOUNT,
                        chat_id=chat,
                        is_group=target.kind == "channel" and _looks_like_group(chat),
                    )
                ]
            for recipient in candidates:
                identity = (target.kind, recipient.platform.value, recipient.account_id, recipient.chat_id)
                if identity in seen:
                    target_plan.duplicates += 1
                    continue
                seen.add(identity)
                exclusion = (
                    check_recipient(recipient, now=now, meta_tag=broadcast.meta_tag)
                    if target.kind == "dm"
                    else None
                )
                if exclusion is not None:
                    target_plan.exclusions.append(exclusion)
                else:
                    target_plan.recipients.append(recipient)
            platforms = {recipient.platform for recipient in target_plan.recipients}
            if target.kind != "dm":
                assert target.platform is not None
                platforms.add(target.platform)
            for platform in sorted(platforms, key=lambda item: item.value):
                target_plan.renderings[platform] = render(
                    broadcast.source_for(platform),
                    platform,
                    target.kind,
                    image_url=broadcast.image_url,
                )
            plans.append(target_plan)
    return Plan(broadcast=broadcast, targets=plans, now=now)


def _looks_like_group(chat: str) -> bool:
    # A numeric Telegram id below zero is a group, a supergroup or a channel;
    # pacing it as a group is the safe choice. An @username is a public channel.
    return chat.lstrip("-").isdigit() and chat.startswith("-")


def materialize(connection: sa.Connection, plan: Plan, *, now: datetime) -> int:
    """Insert the plan's ledger rows that do not exist yet; return how many were inserted.

    Eligible recipients become ``pending`` rows; excluded ones become
    ``skipped`` rows with the reason, so the report accounts for everyone.
    """
    broadcast_id = plan.broadcast.id
    values: list[dict[str, Any]] = []
    for target_plan in plan.targets:
        kind = target_plan.kind
        rows = [(recipient, None) for recipient in target_plan.recipients] + [
            (exclusion.recipient, exclusion) for exclusion in target_plan.exclusions
        ]
        for recipient, exclusion in rows:
            rendering = target_plan.renderings.get(recipient.platform)
            status = DeliveryStatus.PENDING
            reason = None
            if exclusion is not None:
                status, reason = DeliveryStatus.SKIPPED, f"{exclusion.reason}: {exclusion.detail}"
            elif rendering is not None and rendering.errors:
                status, reason = DeliveryStatus.FAILED, "; ".join(rendering.errors)
            values.append(
                {
                    "broadcast_id": broadcast_id,
                    "target": kind,
                    "platform": recipient.platform.value,
                    "account_id": recipient.account_id,
                    "chat_id": recipient.chat_id,
                    "contact_user_id": recipient.contact_user_id,
                    "is_group": recipient.is_group,
                    "client_ref": client_ref_for(
                        broadcast_id, kind, recipient.platform, recipient.account_id, recipient.chat_id
                    ),
                    "status": status.value,
                    "reason": reason,
                    "parts_total": len(rendering.parts) if rendering is not None else 1,
                    "parts_sent": 0,
                    "platform_message_ids": [],
                    "attempts": 0,
                    "updated_at": now,
                }
            )
    if not values:
        return 0
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        statement: Any = postgresql.insert(broadcast_deliveries)
    else:
        from sqlalchemy.dialects import sqlite

        statement = sqlite.insert(broadcast_deliveries)
    inserted = 0
    for start in range(0, len(values), 500):
        result = connection.execute(
            statement.values(values[start : start + 500]).on_conflict_do_nothing()
        )
        inserted += max(result.rowcount, 0)
    return inserted
