"""The ``webhook`` sink: signed JSON POSTs following the Standard Webhooks specification 1.0.0.

Each outbox event is one ``POST`` whose body is :meth:`OutboxEvent.document`
(described by ``docs/webhook-payload.schema.json``) with three headers:

* ``webhook-id``: the event's idempotency key, the same on every retry;
* ``webhook-timestamp``: the attempt time in Unix seconds;
* ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``
  for each configured secret, separated by spaces (for secret rotation).

Secrets are written ``whsec_<base64>``; the HMAC key is the decoded bytes.
Receivers verify a request with :func:`verify_webhook`.

Response handling: any 2xx is delivered; 410 and 400, 413, 415 or 422 are permanent
failures; everything else (3xx included, since redirects are not followed)
is retried, after ``Retry-After`` when the receiver sends one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets as secrets_module
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr, TypeAdapter

from socialinbox.crm.base import (
    DeliveryResult,
    OutboxEvent,
    Sink,
    encode_document,
    mask_url,
    parse_retry_after,
)
from socialinbox.errors import ConfigError, SocialInboxError
from socialinbox.model import Event, Message, Platform, UtcDatetime, utc_now

__all__ = [
    "DEFAULT_TOLERANCE",
    "WebhookData",
    "WebhookPayload",
    "WebhookSink",
    "WebhookVerificationError",
    "create_webhook_sink",
    "generate_webhook_secret",
    "sign_webhook",
    "verify_webhook",
    "webhook_payload_schema",
]

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
DEFAULT_TOLERANCE = timedelta(minutes=5)
"""Allowed clock difference between sender and receiver, as in the reference library."""
DEFAULT_TIMEOUT = 15.0
"""Seconds per request; the specification recommends 15 to 30."""
MIN_SECRET_BYTES = 24
"""The specification requires secrets of 24 to 64 random bytes."""
_PERMANENT_STATUSES = {400, 410, 413, 415, 422}

SecretInput = str | SecretStr


class WebhookVerificationError(SocialInboxError):
    """A received webhook is unsigned, wrongly signed, or outside the time tolerance."""


# -- secrets and signatures ---------------------------------------------------------


def generate_webhook_secret(size: int = 32) -> str:
    """Return a new random secret in the ``whsec_<base64>`` form."""
    if not 24 <= size <= 64:
        raise ValueError(f"secret size {size} is outside 24 to 64 bytes")
    return SECRET_PREFIX + base64.b64encode(secrets_module.token_bytes(size)).decode()


def _secret_key(secret: SecretInput) -> bytes:
    text = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    encoded = text.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        # The secret itself must not appear in the message.
        raise ConfigError(
            "invalid webhook secret: expected whsec_ followed by base64; "
            "create one with socialinbox.crm.webhook.generate_webhook_secret()"
        ) from error


def sign_webhook(secret: SecretInput, webhook_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``v1,<base64>`` signature of ``body`` for the given id and timestamp."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_webhook(
    secret: SecretInput | Sequence[SecretInput],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
    now: datetime | None = None,
) -> Any:
    """Check a received webhook and return its decoded JSON body.

    Args:
        secret: the ``whsec_`` secret, or several during a rotation.
        headers: the request headers; names are matched case-insensitively.
        body: the raw request body, exactly as received.
        tolerance: how far ``webhook-timestamp`` may be from ``now``, either way.
        now: the current time (default: the system clock).

    Raises:
        WebhookVerificationError: a header is missing, the timestamp is outside
            the tolerance, or no signature matches.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id = lowered.get("webhook-id")
    timestamp_text = lowered.get("webhook-timestamp")
    signature_header = lowered.get("webhook-signature")
    if not webhook_id or not timestamp_text or not signature_header:
        raise WebhookVerificationError(
            "missing webhook-id, webhook-timestamp or webhook-signature header"
        )
    try:
        timestamp = int(timestamp_text)
    except ValueError as error:
        raise WebhookVerificationError(
            f"invalid webhook-timestamp {timestamp_text!r}: expected Unix seconds"
        ) from error

    current = (now or utc_now()).timestamp()
    if abs(current - timestamp) > tolerance.total_seconds():
        raise WebhookVerificationError(
            f"webhook-timestamp {timestamp} is more than {tolerance} away from the current time"
        )

    candidates = [secret] if isinstance(secret, str | SecretStr) else list(secret)
    expected = {sign_webhook(item, webhook_id, timestamp, body) for item in candidates}
    received = signature_header.split()
    matched = any(
        hmac.compare_digest(signature, candidate)
        for signature in received
        for candidate in expected
    )
    if not matched:
        raise WebhookVerificationError(f"no valid signature for webhook-id {webhook_id}")
    return json.loads(body)


# -- the payload schema --------------------------------------------------------------


class WebhookData(BaseModel):
    """The ``data`` member: where the event comes from, and the message or event itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_key: str
    """The idempotency key; equal to the ``webhook-id`` header."""
    sequence: int
    """Outbox sequence number; increases in the order socialinbox stored the events."""
    platform: Platform
    account_id: str
    chat_id: str | None
    message: Message | None = None
    """Present for ``message.created``."""
    event: Event | None = None
    """Present for ``event.*`` types."""


class WebhookPayload(BaseModel):
    """The body of every webhook request and every ``jsonl`` line."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    """``message.created`` or ``event.<type>`` (``event.edit``, ``event.delete``, ...)."""
    timestamp: UtcDatetime
    """When socialinbox stored the event."""
    data: WebhookData


def webhook_payload_schema() -> dict[str, Any]:
    """Return the JSON Schema of :class:`WebhookPayload`, as published in ``docs/``."""
    schema = TypeAdapter(WebhookPayload).json_schema(mode="serialization")
    # Sinks never send the raw platform payload, so the schema leaves it out.
    for definition in schema.get("$defs", {}).values():
        definition.get("properties", {}).pop("raw", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


# -- the sink -------------------------------------------------------------------------


class WebhookSink(Sink):
    """POST each outbox event, signed, to one URL.

    Args:
        url: the receiver's ``http`` or ``https`` URL.
        secret: one ``whsec_`` secret, or several to sign with during a rotation.
        name: the sink name used in the deliveries table.
        timeout: seconds per request.
        headers: extra request headers (for example a receiver's API key).
        client: an ``httpx.AsyncClient`` to use; the sink closes only its own.
        clock: the source of ``webhook-timestamp``.
    """

    def __init__(
        self,
        url: str,
        *,
        secret: SecretInput | Sequence[SecretInput],
        name: str = "webhook",
        timeout: float = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(name)
        if not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"invalid webhook URL {mask_url(url)!r}: expected http:// or https://"
            )
        secrets = [secret] if isinstance(secret, str | SecretStr) else list(secret)
        if not secrets:
            raise ConfigError(f"webhook sink {name!r} needs at least one secret")
        for item in secrets:
            if len(_secret_key(item)) < MIN_SECRET_BYTES:
                raise ConfigError(
                    f"webhook secret of sink {name!r} is shorter than {MIN_SECRET_BYTES} bytes; "
                    "create one with socialinbox.crm.webhook.generate_webhook_secret()"
                )
        self.url = url
        self._secrets = [SecretStr(item) if isinstance(item, str) else item for item in secrets]
        self._headers = dict(headers or {})
        self._clock = clock
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    def describe(self) -> str:
        return f"webhook {self.name} -> {mask_url(self.url)}"

    def signed_headers(self, event: OutboxEvent, body: bytes) -> dict[str, str]:
        """Return the Standard Webhooks headers for one attempt at ``event``."""
        timestamp = int(self._clock().timestamp())
        signatures = " ".join(
            sign_webhook(secret, event.event_key, timestamp, body) for secret in self._secrets
        )
        return {
            "webhook-id": event.event_key,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures,
        }

    async def deliver_one(self, event: OutboxEvent) -> DeliveryResult:
        body = encode_document(event)
        headers = {
            **self._headers,
            "content-type": "application/json",
            "user-agent": "socialinbox-webhook",
            **self.signed_headers(event, body),
        }
        try:
            response = await self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException as error:
            return DeliveryResult.retry(f"webhook request timed out ({type(error).__name__})")
        except httpx.TransportError as error:
            return DeliveryResult.retry(f"webhook request failed: {type(error).__name__}: {error}")

        status = response.status_code
        logger.debug("webhook %s: outbox %d got HTTP %d", self.name, event.id, status)
        if 200 <= status < 300:
            return DeliveryResult.delivered()
        if status == 410:
            return DeliveryResult.failed(
                "the receiver answered 410 Gone: the endpoint is disabled; "
                "remove this sink or fix its URL, then run `socialinbox outbox retry`"
            )
        if status in _PERMANENT_STATUSES:
            return DeliveryResult.failed(f"the receiver rejected the event with HTTP {status}")
        retry_after = parse_retry_after(response.headers.get("retry-after"), self._clock())
        if 300 <= status < 400:
            return DeliveryResult.retry(
                f"the receiver answered HTTP {status}; redirects are not followed, "
                "so configure the final URL"
            )
        return DeliveryResult.retry(
            f"the receiver answered HTTP {status}",
            retry_after=retry_after,
            throttled=status == 429,
        )

    async def close(self) -> None:
        if self._own_client:
            await self._client.aclose()


def create_webhook_sink(url: str, *, name: str, **options: Any) -> WebhookSink:
    """Build a :class:`WebhookSink` from ``webhook+https://...`` (or ``webhook+http://``).

    Options: ``secret`` (required), ``timeout``, ``headers``.
    """
    target = url.split("+", 1)[1] if url.lower().startswith("webhook+") else ""
    if not target:
        raise ConfigError(
            f"invalid webhook sink URL {mask_url(url)!r}: expected webhook+https://HOST/PATH"
        )
    if "secret" not in options:
        raise ConfigError(f"webhook sink {name!r} needs a secret option (whsec_...)")
    return WebhookSink(target, name=name, **options)
