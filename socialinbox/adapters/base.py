"""The contracts every platform adapter implements.

An adapter is split in three layers:

* a **codec**: pure functions from platform JSON to :class:`~socialinbox.model.Batch`
  (and from our outbound requests to platform JSON). Codecs never do I/O.
* a **transport**: the platform's client library or an ``httpx`` client.
* the **adapter** class, which only sequences transport calls and codec
  calls. It never touches the store: the caller ingests what ``fetch``
  returns and only then confirms the cursor.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from socialinbox.model import (
    Batch,
    OutboundMessage,
    Platform,
    SendResult,
    utc_now,
)

__all__ = [
    "Adapter",
    "Codec",
    "DecodeContext",
    "FetchResult",
    "OutboundMessage",
    "SendResult",
]


@dataclass(frozen=True)
class DecodeContext:
    """What a codec needs to know beyond the payload itself."""

    account_id: str | None = None
    """Our account on the platform, when the payload does not name it."""
    received_at: datetime = field(default_factory=utc_now)
    location: str | None = None
    """Where the payload came from, copied into quarantine records."""
    own_user_ids: frozenset[str] = frozenset()
    """User ids that belong to us, so messages from them are outbound."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Per-account codec options, such as which Telegram chat types to ingest."""


@runtime_checkable
class Codec(Protocol):
    """Turns one platform payload into normalized items."""

    platform: Platform

    def sniff(self, payload: Any) -> bool:
        """Return whether ``payload`` (parsed JSON) looks like this platform's."""
        ...

    def decode(self, payload: Any, context: DecodeContext) -> Batch:
        """Normalize one parsed payload.

        Must not raise for malformed input: a part that cannot be normalized
        becomes a :class:`~socialinbox.model.Quarantined` record with the reason.
        """
        ...


@dataclass(frozen=True)
class FetchResult:
    """One poll step: the items fetched and the cursor to store with them."""

    batch: Batch
    cursor: str | None
    """Value to persist in the same transaction as ``batch``; ``None`` keeps the old one."""
    requests: int = 1
    """How many API requests the step used."""
    more: bool = False
    """Whether the platform has more to fetch right away."""


class Adapter(abc.ABC):
    """One account on one platform: fetch, send, close."""

    platform: Platform

    @property
    @abc.abstractmethod
    def account_id(self) -> str:
        """Our account id on the platform."""

    @abc.abstractmethod
    async def fetch(self, cursor: str | None) -> FetchResult:
        """Fetch what is new since ``cursor`` without confirming anything."""

    @abc.abstractmethod
    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver ``message``; raise a :class:`~socialinbox.errors.PlatformError` on refusal."""

    async def confirm(self, cursor: str | None) -> None:  # noqa: B027 - optional hook
        """Tell the platform the batch up to ``cursor`` is stored (Telegram offsets)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections."""
