"""The Sink contract, the outbox event a sink receives, and the registry of sink factories.

A sink pushes outbox events into one external system (a CRM, a webhook
receiver, a file). The delivery worker in :mod:`socialinbox.crm.delivery`
hands each sink batches of :class:`OutboxEvent` in outbox order and records
the :class:`DeliveryResult` the sink returns for each event.

Delivery is at least once: after a crash or an ambiguous failure the same
event is offered again with the same ``event_key``, so a receiver (or the
sink itself, when the receiver cannot) deduplicates on that key.
"""

from __future__ import annotations

import enum
import importlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

from socialinbox.errors import ConfigError, SinkError
from socialinbox.model import ConversationKey, Platform, UtcDatetime

if TYPE_CHECKING:
    from socialinbox.store import Store

__all__ = [
    "DeliveryOutcome",
    "DeliveryResult",
    "OrderingKey",
    "OutboxEvent",
    "Sink",
    "SinkFactory",
    "create_sink",
    "encode_document",
    "mask_url",
    "parse_retry_after",
    "register_sink_factory",
    "sink_schemes",
]

OrderingKey = tuple[str, str, str | None]
"""(platform, account id, chat id): events with equal keys are delivered in outbox order."""

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MAX_ERROR_LENGTH = 500


class OutboxEvent(BaseModel):
    """One row of the outbox: a stored message or event, ready for the sinks.

    ``payload`` is ``{"message": {...}}`` for ``message.created`` and
    ``{"event": {...}}`` for ``event.*`` kinds; both are the JSON form of the
    :mod:`socialinbox.model` object without its raw platform payload.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    """Outbox sequence number; increases in the order events were stored."""
    event_key: str = Field(min_length=1)
    """Idempotency key, stable across retries, replays and restarts."""
    kind: str
    platform: Platform
    account_id: str
    chat_id: str | None = None
    payload: dict[str, Any]
    created_at: UtcDatetime

    @classmethod
    def from_row(cls, row: Any) -> OutboxEvent:
        """Build an event from an ``outbox`` table row."""
        return cls(
            id=row.id,
            event_key=row.event_key,
            kind=row.kind,
            platform=Platform(row.platform),
            account_id=row.account_id,
            chat_id=row.chat_id,
            payload=dict(row.payload),
            created_at=row.created_at,
        )

    @property
    def message(self) -> dict[str, Any] | None:
        """The message of a ``message.created`` event, else ``None``."""
        value = self.payload.get("message")
        return value if isinstance(value, dict) else None

    @property
    def event(self) -> dict[str, Any] | None:
        """The event of an ``event.*`` kind, else ``None``."""
        value = self.payload.get("event")
        return value if isinstance(value, dict) else None

    @property
    def ordering_key(self) -> OrderingKey:
        return (self.platform.value, self.account_id, self.chat_id)

    @property
    def conversation(self) -> ConversationKey | None:
        """The conversation the event belongs to; ``None`` for account-wide events."""
        if self.chat_id is None:
            return None
        return ConversationKey(
            platform=self.platform, account_id=self.account_id, chat_id=self.chat_id
        )

    def document(self) -> dict[str, Any]:
        """Return the JSON document sinks send: ``{"type", "timestamp", "data"}``.

        The envelope follows the payload structure the Standard Webhooks
        specification recommends; ``docs/webhook-payload.schema.json`` describes it.
        """
        data: dict[str, Any] = {
            "event_key": self.event_key,
            "sequence": self.id,
            "platform": self.platform.value,
            "account_id": self.account_id,
            "chat_id": self.chat_id,
        }
        data.update(self.payload)
        return {"type": self.kind, "timestamp": self.created_at.isoformat(), "data": data}


def encode_document(event: OutboxEvent) -> bytes:
    """Return the compact UTF-8 JSON encoding of ``event.document()``."""
    return json.dumps(event.document(), ensure_ascii=False, separators=(",", ":")).encode()


class DeliveryOutcome(enum.StrEnum):
    """The outcome of one delivery attempt for one event."""

    DELIVERED = "delivered"
    RETRY = "retry"
    """Not delivered; the attempt counts and the event is retried after a backoff."""
    FAILED = "failed"
    """Not delivered and retrying cannot help; the event becomes a dead letter at once."""
    DEFERRED = "deferred"
    """Not attempted (an earlier event of its conversation failed); the attempt does not count."""


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The result of delivering one event; build it with the class methods."""

    outcome: DeliveryOutcome
    remote_id: str | None = None
    """The receiver's id for what the sink created, such as a Chatwoot message id."""
    retry_after: timedelta | None = None
    """How long the receiver asked us to wait before the next attempt."""
    error: str | None = None
    throttled: bool = False
    """The receiver throttles every request, so the rest of the batch is deferred too."""

    @classmethod
    def delivered(cls, remote_id: str | None = None) -> DeliveryResult:
        return cls(DeliveryOutcome.DELIVERED, remote_id=remote_id)

    @classmethod
    def retry(
        cls, error: str, *, retry_after: timedelta | None = None, throttled: bool = False
    ) -> DeliveryResult:
        return cls(
            DeliveryOutcome.RETRY,
            error=_shorten(error),
            retry_after=retry_after,
            throttled=throttled,
        )

    @classmethod
    def failed(cls, error: str) -> DeliveryResult:
        return cls(DeliveryOutcome.FAILED, error=_shorten(error))

    @classmethod
    def deferred(cls, reason: str, *, retry_after: timedelta | None = None) -> DeliveryResult:
        return cls(DeliveryOutcome.DEFERRED, error=_shorten(reason), retry_after=retry_after)

    @classmethod
    def from_error(cls, error: SinkError) -> DeliveryResult:
        if error.permanent:
            return cls.failed(str(error))
        return cls.retry(str(error), retry_after=error.retry_after)

    @property
    def ok(self) -> bool:
        return self.outcome is DeliveryOutcome.DELIVERED


def _shorten(text: str) -> str:
    if len(text) <= _MAX_ERROR_LENGTH:
        return text
    return text[: _MAX_ERROR_LENGTH - 1] + "…"


class Sink:
    """A destination for outbox events.

    Subclasses implement :meth:`deliver_one`, or override :meth:`deliver` when
    the receiver accepts a whole batch at once. Either way the contract is:

    * :meth:`deliver` returns one result per event, in the order given;
    * once an event of a conversation is not delivered, later events of the
      same conversation in that batch are not attempted (``DEFERRED``);
    * the same ``event_key`` may be offered again after a crash, and the
      receiver must end up with one copy of it;
    * failures are returned as results; :class:`~socialinbox.errors.SinkError`
      raised by :meth:`deliver_one` is turned into a result here.
    """

    max_batch_size: int = 50
    """The largest batch the delivery worker passes to :meth:`deliver`."""

    def __init__(self, name: str) -> None:
        if not _NAME_PATTERN.match(name):
            raise ConfigError(
                f"invalid sink name {name!r}: use 1 to 64 letters, digits, '.', '_' or '-'"
            )
        self.name = name

    async def deliver(self, events: Sequence[OutboxEvent]) -> list[DeliveryResult]:
        """Deliver ``events`` in order and return one result per event."""
        results: list[DeliveryResult] = []
        failed_conversations: set[OrderingKey] = set()
        throttled: DeliveryResult | None = None
        for event in events:
            if throttled is not None:
                results.append(
                    DeliveryResult.deferred(
                        "the receiver is throttling requests", retry_after=throttled.retry_after
                    )
                )
                continue
            if event.ordering_key in failed_conversations:
                results.append(
                    DeliveryResult.deferred("an earlier event of this conversation failed")
                )
                continue

            try:
                result = await self.deliver_one(event)
            except SinkError as error:
                result = DeliveryResult.from_error(error)

            if not result.ok:
                failed_conversations.add(event.ordering_key)
            if result.throttled:
                throttled = result
            results.append(result)
        return results

    async def deliver_one(self, event: OutboxEvent) -> DeliveryResult:
        """Deliver one event; called by the default :meth:`deliver`."""
        raise NotImplementedError(f"{type(self).__name__} must implement deliver_one or deliver")

    def attach_store(self, store: Store) -> None:
        """Give the sink the store the delivery worker reads from.

        Sinks that keep their own delivery record there (Chatwoot) override it;
        the default does nothing.
        """

    def describe(self) -> str:
        """Return a one-line description without secrets, for logs and listings."""
        return f"{type(self).__name__}({self.name})"

    async def close(self) -> None:
        """Release connections and files; calling it twice is harmless."""


# -- Retry-After -----------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Parse an HTTP ``Retry-After`` value (seconds or an HTTP date) relative to ``now``.

    Returns ``None`` when the header is missing or unreadable, and zero for a
    date in the past.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(moment - now, timedelta(0))


# -- registry ---------------------------------------------------------------------

SinkFactory = Callable[..., Sink]
"""``factory(url, *, name, **options) -> Sink``: builds a sink from its configuration URL."""

# Built-in factories are imported on first use so that a sink's optional
# dependencies never break the others. Each entry is "module:attribute".
_BUILTIN_FACTORIES: dict[str, str] = {
    "webhook": "socialinbox.crm.webhook:create_webhook_sink",
    "chatwoot": "socialinbox.crm.chatwoot:create_chatwoot_sink",
    "jsonl": "socialinbox.crm.jsonl:create_jsonl_sink",
}
_FACTORIES: dict[str, SinkFactory] = {}


def register_sink_factory(scheme: str, factory: SinkFactory) -> None:
    """Register ``factory`` for sink URLs that start with ``scheme:`` or ``scheme+``.

    Raises:
        ConfigError: the scheme is already registered (built-in or not).
    """
    key = scheme.lower()
    if not re.fullmatch(r"[a-z][a-z0-9.-]*", key):
        raise ConfigError(f"invalid sink scheme {scheme!r}: use lowercase letters and digits")
    if key in _BUILTIN_FACTORIES or key in _FACTORIES:
        raise ConfigError(f"sink scheme {scheme!r} is already registered")
    _FACTORIES[key] = factory


def sink_schemes() -> tuple[str, ...]:
    """Return every registered sink scheme, sorted."""
    return tuple(sorted({*_BUILTIN_FACTORIES, *_FACTORIES}))


def _factory(scheme: str) -> SinkFactory:
    if scheme in _FACTORIES:
        return _FACTORIES[scheme]
    module_name, _, attribute = _BUILTIN_FACTORIES[scheme].partition(":")
    module = importlib.import_module(module_name)
    factory: SinkFactory = getattr(module, attribute)
    return factory


def create_sink(url: str, *, name: str | None = None, **options: Any) -> Sink:
    """Build a sink from a URL such as ``webhook+https://crm.example/hooks``.

    The part of the scheme before ``+`` selects the factory; the sink name
    defaults to that part. Secrets (``secret``, ``api_token``) are passed as
    keyword options, never inside the URL.

    Raises:
        ConfigError: the scheme is unknown or the URL or options are invalid.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    family = scheme.split("+", 1)[0]
    if family not in _BUILTIN_FACTORIES and family not in _FACTORIES:
        raise ConfigError(
            f"unknown sink scheme {scheme!r} in {mask_url(url)!r}: "
            f"expected one of {', '.join(sink_schemes())}"
        )
    return _factory(family)(url, name=name or family, **options)


_SECRET_PARAMETERS = {"secret", "token", "api_token", "api_access_token", "key", "password"}


def mask_url(url: str) -> str:
    """Return ``url`` with its password and secret-looking query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@")
    query = urlencode(
        [
            (key, "***" if key.lower() in _SECRET_PARAMETERS else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
