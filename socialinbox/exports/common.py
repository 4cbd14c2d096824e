"""State and helpers shared by the export decoders."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from socialinbox.model import Account, Batch, Ignored, Item, Platform, Quarantined, utc_now

__all__ = ["DEFAULT_ACCOUNT_ID", "BatchBuilder", "ExportContext", "InvalidPart", "raw_bytes"]

logger = logging.getLogger(__name__)

DEFAULT_ACCOUNT_ID = "default"


class InvalidPart(Exception):
    """A part of an export that cannot be normalized; the message names the field."""


@dataclass
class ExportContext:
    """Options of one import run, plus what earlier files of the run revealed."""

    account_id: str | None = None
    """Our account id; ``None`` lets each format pick (X: the archive owner, else ``default``)."""
    platform: Platform | None = None
    """Platform the user chose; decides Messenger or Instagram for Meta thread files."""
    own_user_ids: frozenset[str] = frozenset()
    """Platform user ids of our own account, so their messages are outbound."""
    owner_name: str | None = None
    """Our display name in Messenger and Instagram exports, which carry names only."""
    received_at: datetime = field(default_factory=utc_now)
    chunk_size: int = 1000
    """Items per ingest transaction."""
    x_owner_id: str | None = None
    """X user id of the archive owner, learned from ``account.js`` or the one-to-one file."""
    x_owner_username: str | None = None
    meta_owner_name: str | None = None
    """Owner name learned from the profile file of a Facebook or Instagram export."""


def raw_bytes(part: Any) -> bytes:
    return json.dumps(part, ensure_ascii=False, default=str).encode()


def unix_time(value: Any, field_name: str, *, milliseconds: bool = False) -> datetime:
    """Parse a Unix time given as a number or a string of digits."""
    if isinstance(value, bool):
        raise InvalidPart(f"{field_name} is not a Unix time: {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise InvalidPart(f"{field_name} is not a Unix time: {value!r}") from error
    try:
        return datetime.fromtimestamp(number / 1000 if milliseconds else number, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise InvalidPart(f"{field_name} is out of range: {value!r}") from error


class BatchBuilder:
    """Collects the items of one export file and hands them out in chunks."""

    def __init__(self, platform: Platform | None, account_id: str | None, size: int) -> None:
        self.platform = platform
        self.account_id = account_id
        self.size = max(1, size)
        self.items: list[Item] = []
        self.quarantined: list[Quarantined] = []
        self.ignored: list[Ignored] = []
        self.accounts: list[Account] = []

    def add(self, *items: Item) -> None:
        self.items.extend(items)

    def quarantine(self, reason: str, part: Any, location: str) -> None:
        logger.warning("quarantined an export part: %s (at %s)", reason, location)
        data = part if isinstance(part, bytes) else raw_bytes(part)
        self.quarantined.append(
            Quarantined(
                platform=self.platform,
                account_id=self.account_id,
                reason=reason,
                raw=data,
                location=location,
            )
        )

    def ignore(self, part: Any, *, kind: str, reason: str) -> None:
        assert self.platform is not None
        self.ignored.append(
            Ignored.of(self.platform, part, kind=kind, reason=reason, account_id=self.account_id)
        )

    def full(self) -> bool:
        return len(self.items) + len(self.quarantined) + len(self.ignored) >= self.size

    def take(self) -> Batch:
        batch = Batch.model_construct(
            items=tuple(self.items),
            quarantined=tuple(self.quarantined),
            ignored=tuple(self.ignored),
            accounts=tuple(self.accounts),
        )
        self.items, self.quarantined, self.ignored, self.accounts = [], [], [], []
        return batch

    def drain_if_full(self) -> Iterator[Batch]:
        if self.full():
            yield self.take()

    def rest(self) -> Iterator[Batch]:
        if self.items or self.quarantined or self.ignored or self.accounts:
            yield self.take()
