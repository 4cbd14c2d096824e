"""Result and cursor types of the ingest pipeline."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from socialinbox.model import MessageKey, Platform

__all__ = ["CursorUpdate", "IngestResult"]


@dataclass(frozen=True)
class CursorUpdate:
    """A poll position to store together with the batch it covered."""

    platform: Platform
    account_id: str
    stream: str
    """Which feed of the account the cursor belongs to, such as ``updates`` or ``dm_events``."""
    value: str | None


@dataclass
class IngestResult:
    """Counts of what one ingest call did."""

    messages_stored: int = 0
    duplicates: int = 0
    events: int = 0
    event_duplicates: int = 0
    ignored: int = 0
    quarantined: int = 0
    outbox: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    """Why items were ignored or quarantined, with counts."""
    stored: list[MessageKey] = field(default_factory=list)
    """Keys of the messages this call stored for the first time."""

    def __iadd__(self, other: IngestResult) -> IngestResult:
        self.messages_stored += other.messages_stored
        self.duplicates += other.duplicates
        self.events += other.events
        self.event_duplicates += other.event_duplicates
        self.ignored += other.ignored
        self.quarantined += other.quarantined
        self.outbox += other.outbox
        self.reasons.update(other.reasons)
        self.stored.extend(other.stored)
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages_stored": self.messages_stored,
            "duplicates": self.duplicates,
            "events": self.events,
            "event_duplicates": self.event_duplicates,
            "ignored": self.ignored,
            "quarantined": self.quarantined,
            "outbox": self.outbox,
            "reasons": dict(sorted(self.reasons.items())),
        }
