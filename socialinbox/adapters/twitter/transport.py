"""HTTP transport for the X API: a tweepy ``Client`` pointed at a configurable host.

tweepy 4 hard-codes ``https://api.twitter.com`` in ``BaseClient.request``.
:class:`RedirectingSession` replaces the client's ``requests`` session and
rewrites that prefix to :data:`DEFAULT_BASE_URL` (production) or to an
emulator on 127.0.0.1. The rewrite happens in ``Session.request``, before
``requests`` applies OAuth 1.0a, so the signature covers the host that
actually receives the request.

tweepy's ``wait_on_rate_limit`` stays off because it sleeps without a cap
and retries at once when the reset header is missing. Instead this module
tracks the ``x-rate-limit-*`` headers and configured per-endpoint limits,
maps tweepy exceptions to :mod:`socialinbox.errors`, and retries with
tenacity, honouring the reset time the server sent.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import requests
import tweepy
from pydantic import BaseModel, ConfigDict, SecretStr, model_validator
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from socialinbox.errors import (
    AuthError,
    NotFound,
    PermissionDenied,
    PlatformError,
    RateLimited,
    SocialInboxError,
    TransportError,
    UsageError,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_RATE_LIMITS",
    "DM_EVENT_FIELDS",
    "DM_EXPANSIONS",
    "DmAccessDenied",
    "EndpointLimit",
    "RedirectingSession",
    "TwitterCredentials",
    "TwitterTransport",
    "translate_error",
]

logger = logging.getLogger(__name__)

PLATFORM = "x"
DEFAULT_BASE_URL = "https://api.x.com"
"""Host of the X API as named in X's current documentation and OpenAPI spec."""
TWEEPY_HOSTS = ("https://api.twitter.com", "https://api.x.com")
"""Prefixes tweepy builds URLs with; both are rewritten to the configured base URL."""

DM_EVENT_FIELDS = (
    "attachments",
    "created_at",
    "dm_conversation_id",
    "entities",
    "event_type",
    "id",
    "participant_ids",
    "referenced_tweets",
    "sender_id",
    "text",
)
"""``dm_event.fields`` in the names tweepy 4.17 documents (the 2025 API spec)."""
DM_EXPANSIONS = ("sender_id", "participant_ids", "attachments.media_keys", "referenced_tweets.id")
USER_FIELDS = ("id", "name", "username")
MEDIA_FIELDS = (
    "duration_ms",
    "height",
    "media_key",
    "preview_image_url",
    "type",
    "url",
    "variants",
    "width",
)
TWEET_FIELDS = ("author_id", "created_at", "text")

# Endpoint names used for rate-limit bookkeeping.
DM_EVENTS = "dm_events"
DM_SEND = "dm_send"
POST_CREATE = "post_create"


@dataclass(frozen=True)
class EndpointLimit:
    """At most ``requests`` calls per ``window`` on one endpoint, per user."""

    requests: int
    window: timedelta


DEFAULT_RATE_LIMITS: Mapping[str, tuple[EndpointLimit, ...]] = {
    DM_EVENTS: (EndpointLimit(15, timedelta(minutes=15)),),
    DM_SEND: (
        EndpointLimit(15, timedelta(minutes=15)),
        EndpointLimit(1440, timedelta(hours=24)),
    ),
    POST_CREATE: (EndpointLimit(100, timedelta(minutes=15)),),
}
"""The strictest per-user limits in X's rate-limit table (docs.x.com, "X API Rate Limits").

Older X pages give 300 per 15 minutes for DM lookups and 200 per 15 minutes
for sends. Responses recorded from the live API in 2022 carry those values in
their headers.
"""


class TwitterCredentials(BaseModel):
    """User-context credentials: OAuth 1.0a keys, or an OAuth 2.0 user access token.

    DM endpoints need user context; an app-only bearer token is rejected by X.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    bearer_token: SecretStr | None = None
    """An OAuth 2.0 user access token (scopes ``dm.read dm.write tweet.read users.read``)."""

    @model_validator(mode="after")
    def _check_complete(self) -> TwitterCredentials:
        oauth1 = (
            self.consumer_key,
            self.consumer_secret,
            self.access_token,
            self.access_token_secret,
        )
        if any(value is not None for value in oauth1) and not all(
            value is not None for value in oauth1
        ):
            raise ValueError(
                "OAuth 1.0a needs all of consumer_key, consumer_secret, access_token "
                "and access_token_secret"
            )
        if self.bearer_token is None and oauth1[0] is None:
            raise ValueError("set the four OAuth 1.0a keys or an OAuth 2.0 bearer_token")
        return self

    @property
    def user_auth(self) -> bool:
        """Whether tweepy signs with OAuth 1.0a (``True``) or sends the bearer token."""
        return self.consumer_key is not None


class DmAccessDenied(PermissionDenied):
    """The app's X API access level does not include direct messages.

    The account cannot work until its developer app gets DM access, so the
    daemon marks it ``unavailable`` with :attr:`unavailable_reason`; other
    accounts are unaffected.
    """

    def __init__(self, message: str, *, unavailable_reason: str, **kwargs: Any) -> None:
        super().__init__(message, platform=PLATFORM, **kwargs)
        self.unavailable_reason = unavailable_reason


class RedirectingSession(requests.Session):
    """A ``requests`` session that sends tweepy's API calls to ``base_url``.

    ``timeout`` (seconds) applies to every request that does not set its own,
    because tweepy sets none and a stalled connection would block forever.
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, *, timeout: float = 30.0) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def rewrite(self, url: str) -> str:
        """Return ``url`` with a tweepy API host replaced by the base URL."""
        for host in TWEEPY_HOSTS:
            if url == host or url.startswith(host + "/"):
                return self.base_url + url[len(host) :]
        return url

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if isinstance(url, bytes):
            url = url.decode()
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, self.rewrite(url), *args, **kwargs)


class _DropRequestDumps(logging.Filter):
    """Drop tweepy's DEBUG dumps of requests and responses.

    tweepy 4.17 logs the full request headers (including ``Authorization:
    Bearer ...``) and response bodies (message texts) at DEBUG level.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not message.startswith(("Making API request", "Received API response"))


logging.getLogger("tweepy.client").addFilter(_DropRequestDumps())


# ---------------------------------------------------------------------------
# Error translation


def _response_json(response: Any) -> Mapping[str, Any]:
    try:
        body = response.json()
    except (ValueError, AttributeError):
        return {}
    return body if isinstance(body, Mapping) else {}


def _first_code(error: tweepy.HTTPException) -> int | str | None:
    codes = getattr(error, "api_codes", None) or []
    return codes[0] if codes else None


def _retry_after_from_reset(reset_time: int | None, now: float) -> timedelta | None:
    if reset_time is None:
        return None
    return timedelta(seconds=max(0.0, reset_time - now))


def _is_dm_tier_denial(body: Mapping[str, Any], codes: list[Any]) -> str | None:
    """Return why a 403 means the API access level lacks DMs, or ``None``.

    X responds with v1 code 453 ("You currently have access to a subset of X
    API V2 endpoints ...") or with the problem type ``client-forbidden`` and
    a ``reason`` such as ``client-not-enrolled``.
    """
    if 453 in codes:
        return "X API access level lacks direct messages (error 453)"
    problem_type = body.get("type")
    if isinstance(problem_type, str) and problem_type.endswith("/client-forbidden"):
        reason = body.get("reason") or "client-forbidden"
        return f"X API access level lacks direct messages ({reason})"
    return None


def translate_error(error: Exception, *, now: float | None = None) -> SocialInboxError:
    """Map a tweepy or requests exception to the socialinbox exception tree."""
    if isinstance(error, requests.RequestException) and not isinstance(error, requests.HTTPError):
        return TransportError(
            f"request to the X API failed: {type(error).__name__}", platform=PLATFORM
        )
    if not isinstance(error, tweepy.HTTPException):
        return PlatformError(f"X client error: {type(error).__name__}", platform=PLATFORM)

    response = error.response
    status = getattr(response, "status_code", None)
    body = _response_json(response)
    code = _first_code(error)
    messages = getattr(error, "api_messages", None) or []
    description = messages[0] if messages else body.get("detail")
    description = description if isinstance(description, str) else None
    common: dict[str, Any] = {"status": status, "code": code, "description": description}

    if isinstance(error, tweepy.TooManyRequests):
        retry_after = _retry_after_from_reset(error.reset_time, time.time() if now is None else now)
        return RateLimited(
            f"X API rate limit exceeded (HTTP 429, code {code})",
            platform=PLATFORM,
            retry_after=retry_after,
            transient=True,
            **common,
        )
    if isinstance(error, tweepy.Unauthorized):
        return AuthError("X API rejected the credentials (HTTP 401)", platform=PLATFORM, **common)
    if isinstance(error, tweepy.Forbidden):
        reason = _is_dm_tier_denial(body, list(getattr(error, "api_codes", []) or []))
        if reason is not None:
            return DmAccessDenied(
                f"X API refused direct message access (HTTP 403): {reason}",
                unavailable_reason=reason,
                **common,
            )
        return PermissionDenied(
            f"X API refused the request (HTTP 403, code {code})", platform=PLATFORM, **common
        )
    if isinstance(error, tweepy.NotFound):
        return NotFound("X API: not found (HTTP 404)", platform=PLATFORM, **common)
    if isinstance(error, tweepy.TwitterServerError):
        return PlatformError(
            f"X API server error (HTTP {status})", platform=PLATFORM, transient=True, **common
        )
    return PlatformError(f"X API error (HTTP {status}, code {code})", platform=PLATFORM, **common)


# ---------------------------------------------------------------------------
# Rate-limit bookkeeping


@dataclass
class _EndpointState:
    sent: deque[float] = field(default_factory=deque)
    remaining: int | None = None
    reset: float | None = None


class RateLimitTracker:
    """Per-endpoint request accounting from configured limits and server headers.

    Thread-safe, because tweepy calls run in worker threads.
    """

    def __init__(
        self,
        limits: Mapping[str, tuple[EndpointLimit, ...]],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._states: dict[str, _EndpointState] = {}
        self._lock = threading.Lock()

    def wait_time(self, endpoint: str) -> float:
        """Return how many seconds to wait before the next request to ``endpoint``."""
        now = self._clock()
        with self._lock:
            state = self._states.setdefault(endpoint, _EndpointState())
            wait = 0.0
            if state.remaining == 0 and state.reset is not None and state.reset > now:
                wait = state.reset - now
            longest_window = max(
                (limit.window.total_seconds() for limit in self._limits.get(endpoint, ())),
                default=0.0,
            )
            while state.sent and state.sent[0] <= now - longest_window:
                state.sent.popleft()
            for limit in self._limits.get(endpoint, ()):
                window = limit.window.total_seconds()
                in_window = [sent for sent in state.sent if sent > now - window]
                if len(in_window) >= limit.requests:
                    oldest = in_window[len(in_window) - limit.requests]
                    wait = max(wait, oldest + window - now)
            return wait

    def record_request(self, endpoint: str) -> None:
        with self._lock:
            self._states.setdefault(endpoint, _EndpointState()).sent.append(self._clock())

    def record_headers(self, endpoint: str, headers: Mapping[str, str]) -> None:
        """Store ``x-rate-limit-remaining`` and ``x-rate-limit-reset`` from a response."""
        remaining = _int_header(headers, "x-rate-limit-remaining")
        reset = _int_header(headers, "x-rate-limit-reset")
        with self._lock:
            state = self._states.setdefault(endpoint, _EndpointState())
            if remaining is not None:
                state.remaining = remaining
            if reset is not None:
                state.reset = float(reset)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# The transport


class TwitterTransport:
    """tweepy ``Client`` calls with error mapping, rate limits and retries.

    Args:
        credentials: OAuth 1.0a keys or an OAuth 2.0 user token.
        base_url: API host; the emulator's ``base_url`` in tests.
        rate_limits: per-endpoint limits; defaults to :data:`DEFAULT_RATE_LIMITS`.
        max_wait: maximum wait in seconds that a retry or a rate limit may
            cause inside one call; a longer wait raises :class:`RateLimited`
            so that the caller reschedules instead of blocking.
        max_attempts: attempts per call, the first one included.
        timeout: per-request timeout in seconds.
    """

    def __init__(
        self,
        credentials: TwitterCredentials,
        *,
        base_url: str = DEFAULT_BASE_URL,
        rate_limits: Mapping[str, tuple[EndpointLimit, ...]] | None = None,
        max_wait: float = 60.0,
        max_attempts: int = 4,
        timeout: float = 30.0,
    ) -> None:
        if max_attempts < 1:
            raise UsageError(f"max_attempts must be at least 1, got {max_attempts}")
        self._user_auth = credentials.user_auth
        self.client = tweepy.Client(
            bearer_token=_secret(credentials.bearer_token),
            consumer_key=_secret(credentials.consumer_key),
            consumer_secret=_secret(credentials.consumer_secret),
            access_token=_secret(credentials.access_token),
            access_token_secret=_secret(credentials.access_token_secret),
            return_type=requests.Response,
            wait_on_rate_limit=False,
        )
        self.client.session = RedirectingSession(base_url, timeout=timeout)
        self.base_url = base_url
        self.max_wait = max_wait
        self.max_attempts = max_attempts
        self.limits = RateLimitTracker(DEFAULT_RATE_LIMITS if rate_limits is None else rate_limits)
        self.request_count = 0
        """HTTP requests sent so far, failed ones included."""
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TwitterTransport(base_url={self.base_url!r})"

    # -- API calls ---------------------------------------------------------

    async def list_dm_events(
        self, *, pagination_token: str | None = None, max_results: int = 100
    ) -> dict[str, Any]:
        """Return one page of ``GET /2/dm_events`` (newest first) as parsed JSON."""
        params: dict[str, Any] = {
            "dm_event_fields": list(DM_EVENT_FIELDS),
            "expansions": list(DM_EXPANSIONS),
            "user_fields": list(USER_FIELDS),
            "media_fields": list(MEDIA_FIELDS),
            "tweet_fields": list(TWEET_FIELDS),
            "max_results": max_results,
        }
        if pagination_token is not None:
            params["pagination_token"] = pagination_token
        return await self._call(
            DM_EVENTS,
            lambda: self.client.get_direct_message_events(user_auth=self._user_auth, **params),
            idempotent=True,
        )

    async def create_direct_message(
        self,
        *,
        text: str | None,
        media_id: str | None = None,
        participant_id: str | None = None,
        dm_conversation_id: str | None = None,
    ) -> dict[str, Any]:
        """Send one DM; return ``{"data": {"dm_conversation_id", "dm_event_id"}}``."""
        return await self._call(
            DM_SEND,
            lambda: self.client.create_direct_message(
                dm_conversation_id=dm_conversation_id,
                participant_id=participant_id,
                media_id=media_id,
                text=text,
                user_auth=self._user_auth,
            ),
            idempotent=False,
        )

    async def create_post(
        self, *, text: str, media_ids: list[str] | None = None, reply_to: str | None = None
    ) -> dict[str, Any]:
        """Publish a post; return ``{"data": {"id", "text", ...}}``."""
        return await self._call(
            POST_CREATE,
            lambda: self.client.create_tweet(
                text=text,
                media_ids=media_ids or None,
                in_reply_to_tweet_id=reply_to,
                user_auth=self._user_auth,
            ),
            idempotent=False,
        )

    def close(self) -> None:
        self.client.session.close()

    # -- machinery ---------------------------------------------------------

    def _send_once(self, endpoint: str, call: Callable[[], Any]) -> dict[str, Any]:
        """Run one tweepy call in the calling thread; raise socialinbox errors."""
        with self._count_lock:
            self.request_count += 1
        self.limits.record_request(endpoint)
        try:
            response = call()
        except tweepy.HTTPException as error:
            headers = getattr(error.response, "headers", None)
            if headers is not None:
                self.limits.record_headers(endpoint, headers)
            raise translate_error(error) from error
        except requests.RequestException as error:
            raise translate_error(error) from error
        self.limits.record_headers(endpoint, response.headers)
        try:
            body = response.json()
        except ValueError as error:
            raise PlatformError(
                f"X API answered HTTP {response.status_code} with a body that is not JSON",
                platform=PLATFORM,
                status=response.status_code,
            ) from error
        if not isinstance(body, dict):
            raise PlatformError(
                "X API answered with JSON that is not an object",
                platform=PLATFORM,
                status=response.status_code,
            )
        return body

    async def _call(
        self, endpoint: str, call: Callable[[], Any], *, idempotent: bool
    ) -> dict[str, Any]:
        def should_retry(error: BaseException) -> bool:
            if isinstance(error, RateLimited):
                # A 429 means X did not process the request, so even sends retry.
                return error.retry_after is None or (
                    error.retry_after.total_seconds() <= self.max_wait
                )
            if not idempotent:
                # A send that timed out or hit a 5xx may have been delivered.
                return False
            return isinstance(error, TransportError) or (
                isinstance(error, PlatformError) and error.transient
            )

        fallback_wait = wait_exponential_jitter(multiplier=1, max=min(30.0, self.max_wait))

        def wait(retry_state: RetryCallState) -> float:
            outcome = retry_state.outcome
            error = outcome.exception() if outcome is not None else None
            if isinstance(error, RateLimited) and error.retry_after is not None:
                # x-rate-limit-reset has whole-second precision; one extra second
                # avoids arriving just before the window resets.
                return error.retry_after.total_seconds() + 1.0
            return float(fallback_wait(retry_state))

        async for attempt in AsyncRetrying(
            retry=retry_if_exception(should_retry),
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            reraise=True,
            before_sleep=_log_retry(endpoint),
        ):
            with attempt:
                await self._respect_limits(endpoint)
                return await asyncio.to_thread(self._send_once, endpoint, call)
        raise AssertionError("unreachable: tenacity either returns or reraises")

    async def _respect_limits(self, endpoint: str) -> None:
        wait = self.limits.wait_time(endpoint)
        if wait <= 0:
            return
        if wait > self.max_wait:
            raise RateLimited(
                f"X API rate limit for {endpoint} is used up for {wait:.0f} s",
                platform=PLATFORM,
                retry_after=timedelta(seconds=wait),
                transient=True,
            )
        logger.info("waiting %.1f s for the X rate limit of %s", wait, endpoint)
        await asyncio.sleep(wait)


def _log_retry(endpoint: str) -> Callable[[RetryCallState], None]:
    def log(retry_state: RetryCallState) -> None:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        sleep = retry_state.next_action.sleep if retry_state.next_action else 0.0
        logger.warning(
            "X API call to %s failed (attempt %d): %s; retrying in %.1f s",
            endpoint,
            retry_state.attempt_number,
            error,
            sleep,
        )

    return log


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
