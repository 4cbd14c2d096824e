"""Per-account health: a state machine driven by error classes, not message text.

::

    ok ──transient error──▶ degraded ──success──▶ ok
    ok ──RateLimited──────▶ rate_limited ──success──▶ ok
    ok ──AuthError (twice in a row)──▶ needs_reauth
    ok ──PermissionDenied with unavailable_reason──▶ unavailable

A single authentication failure only degrades the account: platforms return
token errors during outages too, so ``needs_reauth`` needs a confirming
second failure. ``needs_reauth`` and ``unavailable`` stop polling until the
configuration changes or an operator resets the account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from socialinbox.errors import (
    AuthError,
    PermissionDenied,
    PlatformError,
    RateLimited,
    TransportError,
)
from socialinbox.model import utc_now

__all__ = ["AccountHealth", "HealthState"]

logger = logging.getLogger(__name__)


class HealthState(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    RATE_LIMITED = "rate_limited"
    NEEDS_REAUTH = "needs_reauth"
    UNAVAILABLE = "unavailable"


_STOPPED = {HealthState.NEEDS_REAUTH, HealthState.UNAVAILABLE}


@dataclass
class AccountHealth:
    """Health of one account, updated after every poll."""

    account: str
    state: HealthState = HealthState.OK
    reason: str | None = None
    changed_at: datetime = field(default_factory=utc_now)
    consecutive_failures: int = 0
    consecutive_auth_failures: int = 0
    last_success_at: datetime | None = None
    retry_after: timedelta | None = None
    """The wait the platform requested after the last failure, if it gave one."""

    @property
    def polling_stopped(self) -> bool:
        return self.state in _STOPPED

    def record_success(self, now: datetime | None = None) -> None:
        self.consecutive_failures = 0
        self.consecutive_auth_failures = 0
        self.retry_after = None
        self.last_success_at = now or utc_now()
        self._move(HealthState.OK, None)

    def record_failure(self, error: BaseException) -> HealthState:
        """Classify ``error`` and move to the state it implies; return the new state."""
        self.consecutive_failures += 1
        self.retry_after = getattr(error, "retry_after", None)
        if isinstance(error, AuthError):
            self.consecutive_auth_failures += 1
            if self.consecutive_auth_failures >= 2:
                self._move(HealthState.NEEDS_REAUTH, _describe(error))
            else:
                self._move(HealthState.DEGRADED, f"authentication failed once: {_describe(error)}")
            return self.state
        self.consecutive_auth_failures = 0
        if isinstance(error, PermissionDenied) and error.unavailable_reason:
            self._move(HealthState.UNAVAILABLE, error.unavailable_reason)
        elif isinstance(error, RateLimited):
            self._move(HealthState.RATE_LIMITED, _describe(error))
        elif isinstance(error, TransportError | PlatformError):
            self._move(HealthState.DEGRADED, _describe(error))
        else:
            self._move(HealthState.DEGRADED, f"unexpected {type(error).__name__}")
        return self.state

    def mark_stalled(self, seconds: float) -> None:
        """Record that no poll succeeded for ``seconds`` although the account is running."""
        if self.state is HealthState.OK:
            self._move(HealthState.DEGRADED, f"no successful poll for {seconds:.0f} s")

    def reset(self) -> None:
        self.consecutive_failures = 0
        self.consecutive_auth_failures = 0
        self._move(HealthState.OK, None)

    def _move(self, state: HealthState, reason: str | None) -> None:
        if state is not self.state:
            logger.warning(
                "account %s health %s -> %s%s",
                self.account,
                self.state.value,
                state.value,
                f" ({reason})" if reason else "",
            )
            self.state = state
            self.changed_at = utc_now()
        self.reason = reason

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "reason": self.reason,
            "since": self.changed_at.isoformat(),
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "consecutive_failures": self.consecutive_failures,
        }


def _describe(error: BaseException) -> str:
    if isinstance(error, PlatformError):
        parts = [error.platform]
        if error.status is not None:
            parts.append(f"HTTP {error.status}")
        if error.code is not None:
            parts.append(f"code {error.code}")
        if error.subcode is not None:
            parts.append(f"subcode {error.subcode}")
        return " ".join(parts)
    text = str(error)
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__
