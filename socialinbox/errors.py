"""The socialinbox exception tree.

::

    SocialInboxError
    ├── TransportError            network failure or timeout talking to a platform or sink
    ├── PlatformError             a platform returned a refusal
    │   ├── RateLimited           throttled; ``retry_after`` says how long to wait
    │   ├── AuthError             credentials invalid, expired or revoked
    │   ├── PermissionDenied      valid credentials, but not allowed (tier, scope, blocked)
    │   ├── NotFound              the chat, message or user does not exist
    │   └── NotEligible           policy forbids sending now (messaging window, block)
    ├── DecodeError               a payload could not be normalized
    ├── SinkError                 a CRM sink rejected or failed a delivery
    ├── StoreError                the database rejected an operation
    └── UsageError                local misuse: bad configuration, unknown platform
        └── ConfigError

Messages name platforms, ids, HTTP statuses and platform codes. They never
contain message text, tokens or other secrets.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

__all__ = [
    "AuthError",
    "ConfigError",
    "DecodeError",
    "NotEligible",
    "NotFound",
    "PermissionDenied",
    "PlatformError",
    "RateLimited",
    "SinkError",
    "SocialInboxError",
    "StoreError",
    "TransportError",
    "UsageError",
]


class SocialInboxError(Exception):
    """Base class of every error socialinbox raises."""


class TransportError(SocialInboxError):
    """The request did not complete: connection refused, reset or timed out."""

    def __init__(self, message: str, *, platform: str | None = None) -> None:
        super().__init__(message)
        self.platform = platform


class PlatformError(SocialInboxError):
    """A platform API returned an error.

    Attributes:
        platform: platform name, such as ``"telegram"``.
        status: HTTP status code, when there was one.
        code: the platform's own error code (Graph ``code``, Bot API ``error_code``).
        subcode: a secondary code (Graph ``error_subcode``).
        description: the platform's description, which may be in any language.
        retry_after: how long the platform asked us to wait, if it said.
        transient: whether the platform marked the error as temporary.
    """

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        status: int | None = None,
        code: int | str | None = None,
        subcode: int | None = None,
        description: str | None = None,
        retry_after: timedelta | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.platform = platform
        self.status = status
        self.code = code
        self.subcode = subcode
        self.description = description
        self.retry_after = retry_after
        self.transient = transient


class RateLimited(PlatformError):
    """The platform throttled us; wait ``retry_after`` (or back off) and retry."""


class AuthError(PlatformError):
    """The credentials were rejected; the account needs re-authorization."""


class PermissionDenied(PlatformError):
    """The credentials are valid but lack access (API tier, scope, blocked by user).

    Attributes:
        unavailable_reason: set when the account as a whole cannot use the API,
            for example because its API tier has no DM access. The daemon then
            marks the account ``unavailable`` with this reason.
    """

    def __init__(self, message: str, *, unavailable_reason: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.unavailable_reason = unavailable_reason


class NotFound(PlatformError):
    """The chat, message or user named in the request does not exist."""


class NotEligible(PlatformError):
    """Platform policy forbids this send now.

    Attributes:
        until: when the send becomes possible again, if ever.
        allowed: what may be sent instead (for example ``"HUMAN_AGENT tag"``).
    """

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        until: datetime | None = None,
        allowed: str | None = None,
    ) -> None:
        super().__init__(message, platform=platform)
        self.until = until
        self.allowed = allowed


class DecodeError(SocialInboxError):
    """A payload could not be normalized; the ingest path quarantines it."""


class SinkError(SocialInboxError):
    """A sink failed to deliver an outbox event.

    Attributes:
        sink: the sink's name.
        retry_after: how long the receiver asked us to wait, if it said.
        permanent: whether retrying cannot help (for example, HTTP 400).
    """

    def __init__(
        self,
        message: str,
        *,
        sink: str,
        retry_after: timedelta | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(message)
        self.sink = sink
        self.retry_after = retry_after
        self.permanent = permanent


class StoreError(SocialInboxError):
    """The database rejected an operation or holds an unexpected schema."""


class UsageError(SocialInboxError):
    """socialinbox was called in a way it does not support."""


class ConfigError(UsageError):
    """The configuration is invalid or incomplete."""
