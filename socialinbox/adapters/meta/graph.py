"""A small Graph API client on httpx, shared by the Messenger and Instagram adapters.

The access token travels in the ``Authorization`` header, never in the URL.
When an app secret is configured, every request also carries
``appsecret_proof`` (HMAC-SHA256 of the token keyed with the app secret) as a
query parameter, which Meta accepts next to a header token. Log lines name the
method, the path and the status only, so neither the token nor the proof is
ever logged.

Graph errors are classified by ``code`` and ``error_subcode``, never by the
message text, which Meta localizes and rewords. :func:`classify_error` returns
the exception class and the account health hint; :func:`health_of` reads the
hint back from a raised exception.

An OAuth error (code 190) is confirmed before the account is reported as
needing re-authorization: the client repeats the same request once, and only
a second 190 raises :class:`~socialinbox.errors.AuthError`. A single 190
followed by success is logged and treated as transient.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

import httpx
from pydantic import SecretStr

from socialinbox.errors import (
    AuthError,
    ConfigError,
    NotEligible,
    NotFound,
    PermissionDenied,
    PlatformError,
    RateLimited,
    SocialInboxError,
    TransportError,
)
from socialinbox.model import Platform

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_GRAPH_VERSION",
    "GraphClient",
    "GraphErrorInfo",
    "Health",
    "UsageReport",
    "appsecret_proof",
    "build_error",
    "classify_error",
    "health_of",
    "normalize_version",
    "parse_usage",
]

logger = logging.getLogger(__name__)

# NOTE: Meta's versioning page names v25.0 or v26.0 as the latest depending on
# the locale copy; facebook-business 26.0.3 pins v26.0. Override it in config.
DEFAULT_GRAPH_VERSION = "v26.0"
DEFAULT_BASE_URL = "https://graph.facebook.com"

_VERSION_PATTERN = re.compile(r"^v?(\d{1,3})\.(\d{1,2})$")

# Graph error codes, grouped by what they mean for the account. Sources: Meta
# "Common Error Codes", "Send API error codes" and "Rate Limits" pages.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
RATE_LIMIT_CODE_RANGE = range(80000, 80100)
"""Business Use Case throttling codes (80000 ads, 80001 Pages, 80002 Instagram, 80006 Messenger)."""
AUTH_CODES = frozenset({102, 190})
PERMISSION_CODES = frozenset({3, 10, 368}) | frozenset(range(200, 300))
TRANSIENT_CODES = frozenset({1, 2, 1200})
NOT_FOUND_SUBCODES = frozenset({33, 2018001})
"""Subcodes of code 100 that mean the object or the recipient does not exist."""
OUTSIDE_WINDOW_SUBCODES = frozenset({2018278, 2534022})
"""Code 10 subcodes for a send outside the messaging window (Messenger, Instagram)."""
USER_UNAVAILABLE_CODES = frozenset({551})


class Health(StrEnum):
    """What an error says about the account that made the request."""

    OK = "ok"
    """The request itself was wrong or not allowed; the account is fine."""
    DEGRADED = "degraded"
    """The account works but lacks a permission or was restricted."""
    RATE_LIMITED = "rate_limited"
    """The account is throttled; retry after the hint."""
    NEEDS_REAUTH = "needs_reauth"
    """The token is invalid, expired or revoked; a person must reconnect the account."""
    UNAVAILABLE = "unavailable"
    """The platform or the network failed temporarily."""


@dataclass(frozen=True)
class UsageReport:
    """Budgets read from the ``x-app-usage`` and ``x-business-use-case-usage`` headers.

    Percentages are Meta's own (0 to 100, may exceed 100 while throttled).
    """

    app: Mapping[str, float] = field(default_factory=dict)
    business: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    """Business Use Case usage keyed by the page or account id."""

    @property
    def max_percent(self) -> float:
        """Return the highest call, CPU or time percentage across all budgets."""
        values = [float(v) for v in self.app.values()]
        for entries in self.business.values():
            for entry in entries:
                for name in ("call_count", "total_cputime", "total_time"):
                    value = entry.get(name)
                    if isinstance(value, int | float):
                        values.append(float(value))
        return max(values, default=0.0)

    @property
    def regain_after(self) -> timedelta | None:
        """Return the longest ``estimated_time_to_regain_access`` (given in minutes)."""
        minutes = [
            entry.get("estimated_time_to_regain_access")
            for entries in self.business.values()
            for entry in entries
        ]
        numbers = [float(m) for m in minutes if isinstance(m, int | float) and m > 0]
        if not numbers:
            return None
        return timedelta(minutes=max(numbers))


def parse_usage(headers: Mapping[str, str]) -> UsageReport:
    """Parse the usage headers; a malformed header is skipped, not raised."""
    lowered = {key.lower(): value for key, value in headers.items()}
    app: dict[str, float] = {}
    business: dict[str, tuple[Mapping[str, Any], ...]] = {}
    raw_app = lowered.get("x-app-usage")
    if raw_app:
        try:
            parsed = json.loads(raw_app)
        except ValueError:
            logger.debug("x-app-usage header is not JSON; ignored")
        else:
            if isinstance(parsed, dict):
                app = {str(k): float(v) for k, v in parsed.items() if isinstance(v, int | float)}
    raw_business = lowered.get("x-business-use-case-usage")
    if raw_business:
        try:
            parsed = json.loads(raw_business)
        except ValueError:
            logger.debug("x-business-use-case-usage header is not JSON; ignored")
        else:
            if isinstance(parsed, dict):
                for key, entries in parsed.items():
                    if isinstance(entries, list):
                        business[str(key)] = tuple(e for e in entries if isinstance(e, dict))
    return UsageReport(app=app, business=business)


@dataclass(frozen=True)
class GraphErrorInfo:
    """How one Graph error response is classified."""

    error_type: type[SocialInboxError]
    health: Health
    status: int | None
    code: int | None
    subcode: int | None
    transient: bool
    retry_after: timedelta | None
    needs_confirmation: bool
    """True for token errors: repeat the request once before reporting ``needs_reauth``."""
    description: str | None = None

    @property
    def reason(self) -> str:
        """Return a one-line summary without the platform's message text."""
        parts = [f"Graph error code {self.code}" if self.code is not None else "HTTP error"]
        if self.subcode is not None:
            parts.append(f"subcode {self.subcode}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        return f"{' '.join(parts)}: {self.error_type.__name__}, health {self.health.value}"


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _retry_after_header(headers: Mapping[str, str]) -> timedelta | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            seconds = _as_int(value)
            if seconds is not None and seconds >= 0:
                return timedelta(seconds=seconds)
    return None


def classify_error(
    status: int | None, body: Any, headers: Mapping[str, str] | None = None
) -> GraphErrorInfo:
    """Classify a Graph error by HTTP status, ``code``, ``error_subcode`` and ``is_transient``.

    ``body`` is the parsed response (a dict with an ``error`` object, or
    anything else when the server sent no Graph error body). The message text
    is kept as ``description`` but never decides the class.
    """
    headers = headers or {}
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    message = error.get("message")
    parsed = _ParsedError(
        status=status,
        code=_as_int(error.get("code")),
        subcode=_as_int(error.get("error_subcode")),
        description=message if isinstance(message, str) else None,
        transient_flag=error.get("is_transient") is True,
        headers=headers,
    )
    code, subcode = parsed.code, parsed.subcode

    if code in RATE_LIMIT_CODES or (code is not None and code in RATE_LIMIT_CODE_RANGE):
        retry_after = parse_usage(headers).regain_after or _retry_after_header(headers)
        return parsed.info(
            RateLimited, Health.RATE_LIMITED, transient=True, retry_after=retry_after
        )
    if code in AUTH_CODES:
        return parsed.info(AuthError, Health.NEEDS_REAUTH, confirm=True)
    if code == 10 and subcode in OUTSIDE_WINDOW_SUBCODES:
        return parsed.info(NotEligible, Health.OK)
    if code in USER_UNAVAILABLE_CODES:
        return parsed.info(NotEligible, Health.OK)
    if parsed.transient_flag or code in TRANSIENT_CODES:
        return parsed.info(PlatformError, Health.UNAVAILABLE, transient=True)
    if code in PERMISSION_CODES:
        return parsed.info(PermissionDenied, Health.DEGRADED)
    if (code == 100 and subcode in NOT_FOUND_SUBCODES) or code == 803:
        return parsed.info(NotFound, Health.OK)
    if code is not None:
        # A request-specific Graph error (invalid parameter and the like) says
        # nothing about the account, unless the server itself failed.
        if status is not None and status >= 500:
            return parsed.info(PlatformError, Health.UNAVAILABLE, transient=True)
        return parsed.info(PlatformError, Health.OK)
    return _classify_status_only(parsed)


@dataclass(frozen=True)
class _ParsedError:
    status: int | None
    code: int | None
    subcode: int | None
    description: str | None
    transient_flag: bool
    headers: Mapping[str, str]

    def info(
        self,
        error_type: type[SocialInboxError],
        health: Health,
        *,
        transient: bool = False,
        retry_after: timedelta | None = None,
        confirm: bool = False,
    ) -> GraphErrorInfo:
        return GraphErrorInfo(
            error_type=error_type,
            health=health,
            status=self.status,
            code=self.code,
            subcode=self.subcode,
            transient=transient,
            retry_after=retry_after,
            needs_confirmation=confirm,
            description=self.description,
        )


def _classify_status_only(parsed: _ParsedError) -> GraphErrorInfo:
    """Classify a response that carries no Graph error object, by HTTP status."""
    status = parsed.status
    if status == 429:
        retry_after = _retry_after_header(parsed.headers)
        return parsed.info(
            RateLimited, Health.RATE_LIMITED, transient=True, retry_after=retry_after
        )
    if status == 401:
        return parsed.info(AuthError, Health.NEEDS_REAUTH, confirm=True)
    if status == 403:
        return parsed.info(PermissionDenied, Health.DEGRADED)
    if status == 404:
        return parsed.info(NotFound, Health.OK)
    if status is None or status >= 500:
        return parsed.info(PlatformError, Health.UNAVAILABLE, transient=True)
    return parsed.info(PlatformError, Health.OK)


def build_error(info: GraphErrorInfo, *, platform: Platform, operation: str) -> SocialInboxError:
    """Build the exception that ``info`` describes; ``operation`` is a method and path."""
    message = f"{platform.value} {operation} failed: {info.reason}"
    if info.error_type is NotEligible:
        refusal = NotEligible(
            message,
            platform=platform.value,
            allowed=(
                "the HUMAN_AGENT tag within 7 days of the contact's last message"
                if info.code == 10
                else None
            ),
        )
        refusal.status = info.status
        refusal.code = info.code
        refusal.subcode = info.subcode
        refusal.description = info.description
        return refusal
    if info.error_type is TransportError:
        return TransportError(message, platform=platform.value)
    error_type: type[PlatformError] = (
        info.error_type if issubclass(info.error_type, PlatformError) else PlatformError
    )
    return error_type(
        message,
        platform=platform.value,
        status=info.status,
        code=info.code,
        subcode=info.subcode,
        description=info.description,
        retry_after=info.retry_after,
        transient=info.transient,
    )


def health_of(error: BaseException) -> Health:
    """Return the account health hint that ``error`` implies."""
    if isinstance(error, NotEligible | NotFound):
        return Health.OK
    if isinstance(error, RateLimited):
        return Health.RATE_LIMITED
    if isinstance(error, AuthError):
        return Health.NEEDS_REAUTH
    if isinstance(error, PermissionDenied):
        return Health.DEGRADED
    if isinstance(error, TransportError):
        return Health.UNAVAILABLE
    if isinstance(error, PlatformError):
        if error.transient or (error.status is not None and error.status >= 500):
            return Health.UNAVAILABLE
        return Health.OK
    return Health.DEGRADED


def normalize_version(version: str) -> str:
    """Return ``version`` as ``vNN.N``; accept ``"26.0"`` and ``"v26.0"``.

    Raises:
        ConfigError: the value is not a Graph API version.
    """
    match = _VERSION_PATTERN.match(version.strip())
    if match is None:
        raise ConfigError(f"invalid Graph API version {version!r}: expected a value like 'v26.0'")
    return f"v{match.group(1)}.{match.group(2)}"


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """Return Meta's ``appsecret_proof``: hex HMAC-SHA256 of the token keyed by the app secret."""
    return hmac.new(
        app_secret.encode("utf-8"), access_token.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def _secret_value(value: str | SecretStr | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value


class GraphClient:
    """Async Graph API client for one access token.

    Args:
        access_token: a Page (or Instagram) access token.
        platform: which platform errors are reported for.
        app_secret: when given, every request carries ``appsecret_proof``.
        version: Graph API version such as ``"v26.0"``.
        base_url: ``https://graph.facebook.com`` (or ``graph.instagram.com``,
            or an emulator on 127.0.0.1).
        timeout: seconds per request.
        confirm_auth_errors: repeat a request once after a token error before
            raising :class:`~socialinbox.errors.AuthError`.
        transport: an httpx transport, for tests.
    """

    def __init__(
        self,
        access_token: str | SecretStr,
        *,
        platform: Platform = Platform.MESSENGER,
        app_secret: str | SecretStr | None = None,
        version: str = DEFAULT_GRAPH_VERSION,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
        confirm_auth_errors: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        token = _secret_value(access_token)
        if not token:
            raise ConfigError(f"{platform.value}: the Graph API access token is empty")
        self.platform = platform
        self.version = normalize_version(version)
        self.confirm_auth_errors = confirm_auth_errors
        self.last_usage: UsageReport = UsageReport()
        secret = _secret_value(app_secret)
        self._proof = appsecret_proof(token, secret) if secret else None
        self._http = httpx.AsyncClient(
            base_url=f"{base_url.rstrip('/')}/{self.version}/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"GraphClient(platform={self.platform.value!r}, version={self.version!r})"

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """GET a Graph path such as ``"123/conversations"`` and return the JSON object."""
        return await self.request("GET", path, params=params)

    async def post(
        self,
        path: str,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST a JSON body to a Graph path and return the JSON object."""
        return await self.request("POST", path, params=params, json_body=json_body)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send one request, confirm token errors once, and raise classified errors.

        Raises:
            TransportError: the request timed out or the connection failed.
            PlatformError: a subclass chosen by :func:`classify_error`.
        """
        operation = f"{method} /{path.lstrip('/')}"
        status, body, headers = await self._send(method, path, params, json_body, operation)
        if _is_success(status, body):
            return _as_object(body)
        info = classify_error(status, body, headers)
        if info.needs_confirmation and self.confirm_auth_errors:
            logger.warning(
                "%s %s returned a token error (code %s); repeating it once to confirm",
                self.platform.value,
                operation,
                info.code,
            )
            status, body, headers = await self._send(method, path, params, json_body, operation)
            if _is_success(status, body):
                logger.warning(
                    "%s %s succeeded on the confirming retry; the token error was transient",
                    self.platform.value,
                    operation,
                )
                return _as_object(body)
            info = classify_error(status, body, headers)
        logger.warning("%s %s failed: %s", self.platform.value, operation, info.reason)
        raise build_error(info, platform=self.platform, operation=operation)

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json_body: Mapping[str, Any] | None,
        operation: str,
    ) -> tuple[int, Any, httpx.Headers]:
        query = dict(params or {})
        if self._proof is not None:
            query["appsecret_proof"] = self._proof
        try:
            response = await self._http.request(
                method, path.lstrip("/"), params=query, json=json_body
            )
        except httpx.TimeoutException as error:
            logger.warning("%s %s timed out", self.platform.value, operation)
            raise TransportError(
                f"{self.platform.value} {operation} timed out", platform=self.platform.value
            ) from error
        except httpx.TransportError as error:
            logger.warning("%s %s failed: %s", self.platform.value, operation, type(error).__name__)
            raise TransportError(
                f"{self.platform.value} {operation} failed: {type(error).__name__}",
                platform=self.platform.value,
            ) from error
        self.last_usage = parse_usage(response.headers)
        logger.debug(
            "%s %s -> HTTP %d (usage %.0f%%)",
            self.platform.value,
            operation,
            response.status_code,
            self.last_usage.max_percent,
        )
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        return response.status_code, body, response.headers

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()


def _is_success(status: int, body: Any) -> bool:
    return 200 <= status < 300 and not (isinstance(body, dict) and "error" in body)


def _as_object(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    # Graph returns objects; a bare ``true`` (some POST edges) is wrapped.
    return {"success": body}
