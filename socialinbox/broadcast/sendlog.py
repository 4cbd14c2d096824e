"""Send-ledger writes for many announcement messages in one transaction.

These do what :func:`socialinbox.store.sends.record_send` and
:func:`~socialinbox.store.sends.complete_send` do for one message, but on a
connection the caller already holds, so the sender can batch them with its
own ledger updates.

"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from socialinbox.model import OutboundMessage, SendResult
from socialinbox.store import sends

__all__ = ["CompletedSend", "complete_sends", "record_sends"]


@dataclass(frozen=True)
class CompletedSend:
    """A platform call that succeeded, with the message it sent."""

    message: OutboundMessage
    result: SendResult


def record_sends(
    connection: sa.Connection, messages: Sequence[OutboundMessage], *, author: str | None
) -> None:
    """Write a ``pending`` send-ledger row per message; a ``client_ref`` recorded before is kept."""
    sends.record_sends(connection, messages, author=author)


def complete_sends(connection: sa.Connection, completed: Sequence[CompletedSend]) -> None:
    """Mark sends ``sent`` and store their outbound messages through one ingest batch."""
    if completed:
        sends.complete_sends(connection, [(send.message, send.result) for send in completed])
