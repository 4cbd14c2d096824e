"""The verified webhook receiver for Messenger and Instagram, as a Starlette app.

``GET`` handles Meta's subscription handshake. With ``hub.mode=subscribe``
and the configured ``hub.verify_token`` it returns ``hub.challenge`` as plain
text, and with a wrong token it returns 403.

``POST`` checks ``X-Hub-Signature-256`` (``sha256=`` + hex HMAC-SHA256 of the
raw request body keyed with the app secret) with a constant-time compare
before anything parses the body. A missing or wrong signature gets 401 and
nothing is handed on. Meta signs the bytes it sends (ASCII-escaped JSON), so
the check never re-serializes.

A verified body is handed to the caller, because adapters never touch the
store. Pass exactly one of:

* ``on_payload(platform, body)``: receives the raw verified bytes, so the
  daemon can park them durably and decode later;
* ``on_batch(batch)``: receives the decoded :class:`~socialinbox.model.Batch`;
  a body that is not JSON arrives as a batch with one quarantine record.

Either may be sync (run in a worker thread) or async. The receiver responds
200 once the callback returns, whatever the payload's shape, so the callback
must only store or queue, not do slow work. If the callback raises, the
receiver answers 503 and Meta delivers the body again later.

The receiver does not consult account health: webhooks keep being accepted
while an account needs re-authorization.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from socialinbox.adapters.base import DecodeContext
from socialinbox.adapters.meta.codec import INSTAGRAM_CODEC, MESSENGER_CODEC
from socialinbox.errors import ConfigError
from socialinbox.model import Batch, Platform, Quarantined, utc_now

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "OnBatch",
    "OnPayload",
    "create_webhook_app",
    "signature_header",
    "verify_signature",
]

logger = logging.getLogger(__name__)

OnPayload = Callable[[Platform, bytes], "Awaitable[None] | None"]
OnBatch = Callable[[Batch], "Awaitable[None] | None"]

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
"""Largest body accepted; Meta batches events, but bodies stay far below this."""

_SIGNATURE_PREFIX = b"sha256="
_OBJECT_PLATFORMS = {"page": Platform.MESSENGER, "instagram": Platform.INSTAGRAM}
_ROUTE_PLATFORMS = {"messenger": Platform.MESSENGER, "instagram": Platform.INSTAGRAM}


def signature_header(body: bytes, app_secret: str) -> str:
    """Return the ``X-Hub-Signature-256`` value Meta sends for ``body``."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(body: bytes, header: str | None, app_secret: str) -> bool:
    """Check ``header`` against the HMAC-SHA256 of the raw ``body`` in constant time."""
    if not header:
        return False
    given = header.strip().encode("latin-1", errors="replace")
    if given[: len(_SIGNATURE_PREFIX)].lower() != _SIGNATURE_PREFIX:
        return False
    expected = signature_header(body, app_secret).encode("ascii")
    return hmac.compare_digest(
        _SIGNATURE_PREFIX + given[len(_SIGNATURE_PREFIX) :].lower(), expected
    )


def _secret(value: str | SecretStr, name: str) -> str:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not text:
        raise ConfigError(f"the Meta webhook {name} is empty")
    return text


def _platform_of(body: bytes, route_hint: Platform | None, default: Platform) -> Platform:
    """Pick the platform from the envelope's ``object``, else the route, else the default."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        platform = _OBJECT_PLATFORMS.get(str(parsed.get("object")))
        if platform is not None:
            return platform
    return route_hint or default


def _decode(platform: Platform, body: bytes, location: str) -> Batch:
    try:
        payload = json.loads(body)
    except ValueError as error:
        return Batch(
            quarantined=(
                Quarantined(
                    platform=platform,
                    reason=f"webhook body is not valid JSON: {error.msg} at byte {error.pos}"
                    if isinstance(error, json.JSONDecodeError)
                    else "webhook body is not valid UTF-8 JSON",
                    raw=body,
                    location=location,
                ),
            )
        )
    codec = MESSENGER_CODEC if platform is Platform.MESSENGER else INSTAGRAM_CODEC
    context = DecodeContext(received_at=utc_now(), location=location)
    return codec.decode(payload, context)


async def _call(callback: Callable[..., Any], *args: Any) -> None:
    if inspect.iscoroutinefunction(callback):
        await callback(*args)
        return
    result = await run_in_threadpool(callback, *args)
    if inspect.isawaitable(result):
        await result


def create_webhook_app(
    *,
    app_secret: str | SecretStr,
    verify_token: str | SecretStr,
    on_payload: OnPayload | None = None,
    on_batch: OnBatch | None = None,
    default_platform: Platform = Platform.MESSENGER,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Starlette:
    """Build the receiver app; mount it where Meta's callback URL points.

    Routes: ``/`` (platform from the envelope's ``object``), and
    ``/messenger`` and ``/instagram`` (platform from the path when the body
    does not name one).

    Raises:
        ConfigError: a secret is empty, or not exactly one callback was given.
    """
    secret = _secret(app_secret, "app secret")
    token = _secret(verify_token, "verify token")
    if (on_payload is None) == (on_batch is None):
        raise ConfigError("create_webhook_app needs exactly one of on_payload and on_batch")

    async def handshake(request: Request) -> Response:
        params = request.query_params
        if params.get("hub.mode") != "subscribe" or "hub.challenge" not in params:
            return PlainTextResponse("expected hub.mode=subscribe and hub.challenge", 400)
        received_token = params.get("hub.verify_token", "").encode("utf-8")
        if not hmac.compare_digest(received_token, token.encode("utf-8")):
            logger.warning("Meta webhook handshake rejected: wrong hub.verify_token")
            return PlainTextResponse("wrong hub.verify_token", 403)
        logger.info("Meta webhook subscription verified on %s", request.url.path)
        return PlainTextResponse(params["hub.challenge"])

    async def receive(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > max_body_bytes:
                logger.warning("Meta webhook body over %d bytes rejected", max_body_bytes)
                return PlainTextResponse("body too large", 413)
        raw = bytes(body)
        if not verify_signature(raw, request.headers.get("x-hub-signature-256"), secret):
            reason = "missing" if "x-hub-signature-256" not in request.headers else "invalid"
            logger.warning("Meta webhook rejected: %s X-Hub-Signature-256", reason)
            return PlainTextResponse(f"{reason} X-Hub-Signature-256", 401)

        route_hint = _ROUTE_PLATFORMS.get(request.url.path.rstrip("/").rsplit("/", 1)[-1])
        platform = _platform_of(raw, route_hint, default_platform)
        try:
            if on_payload is not None:
                await _call(on_payload, platform, raw)
            elif on_batch is not None:
                batch = _decode(platform, raw, f"webhook:{platform.value}")
                await _call(on_batch, batch)
        except Exception:  # the body is not lost: Meta redelivers after a non-200
            logger.exception("Meta webhook callback failed; responding 503 so that Meta redelivers")
            return PlainTextResponse("temporarily unavailable", 503)
        return PlainTextResponse("EVENT_RECEIVED")

    async def endpoint(request: Request) -> Response:
        if request.method == "GET":
            return await handshake(request)
        return await receive(request)

    paths = ("/", "/messenger", "/instagram")
    return Starlette(routes=[Route(path, endpoint, methods=["GET", "POST"]) for path in paths])
