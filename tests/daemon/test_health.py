"""The per-account health state machine, and stopped accounts next to running ones."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from socialinbox.config import AccountConfig, DaemonConfig, Settings
from socialinbox.daemon.app import Daemon
from socialinbox.daemon.health import AccountHealth, HealthState
from socialinbox.errors import (
    AuthError,
    NotFound,
    PermissionDenied,
    PlatformError,
    RateLimited,
    TransportError,
)
from socialinbox.model import Platform
from socialinbox.store import Store
from socialinbox.testing.telegram import TelegramEmulator
from socialinbox.testing.twitter import TwitterEmulator
from tests.daemon.support import BOT_ID, BOT_TOKEN, X_ACCOUNT, X_TOKEN, until

OK = HealthState.OK
DEGRADED = HealthState.DEGRADED
RATE_LIMITED = HealthState.RATE_LIMITED
NEEDS_REAUTH = HealthState.NEEDS_REAUTH
UNAVAILABLE = HealthState.UNAVAILABLE


def _auth() -> AuthError:
    return AuthError("token rejected", platform="telegram", status=401)


CASES: list[tuple[str, Sequence[BaseException], HealthState, bool]] = [
    ("transport", [TransportError("connection refused", platform="x")], DEGRADED, False),
    (
        "rate limited",
        [RateLimited("slow down", platform="x", status=429, retry_after=timedelta(seconds=30))],
        RATE_LIMITED,
        False,
    ),
    ("auth once", [_auth()], DEGRADED, False),
    ("auth twice", [_auth(), _auth()], NEEDS_REAUTH, True),
    (
        "auth, other error, auth",
        [_auth(), TransportError("reset"), _auth()],
        DEGRADED,
        False,
    ),
    (
        "permission with reason",
        [PermissionDenied("no DM access", platform="x", unavailable_reason="API tier lacks DMs")],
        UNAVAILABLE,
        True,
    ),
    ("permission without reason", [PermissionDenied("blocked", platform="x")], DEGRADED, False),
    ("platform error", [PlatformError("server error", platform="messenger", status=500)], DEGRADED, False),
    ("not found", [NotFound("no such chat", platform="telegram", status=400)], DEGRADED, False),
    ("unexpected", [ValueError("bug")], DEGRADED, False),
]


@pytest.mark.parametrize(
    ("errors", "expected", "stopped"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_health_state_per_error(
    errors: Sequence[BaseException], expected: HealthState, stopped: bool
) -> None:
    health = AccountHealth("acct")
    for error in errors:
        state = health.record_failure(error)

    assert state is expected
    assert health.state is expected
    assert health.polling_stopped is stopped
    assert health.consecutive_failures == len(errors)
    assert health.reason


def test_health_keeps_retry_after() -> None:
    health = AccountHealth("acct")
    health.record_failure(
        RateLimited("slow down", platform="telegram", status=429, retry_after=timedelta(seconds=7))
    )

    assert health.retry_after == timedelta(seconds=7)
    assert health.as_dict()["state"] == "rate_limited"


@pytest.mark.parametrize("state", [DEGRADED, RATE_LIMITED])
def test_health_success_resets(state: HealthState) -> None:
    health = AccountHealth("acct")
    error: BaseException = (
        RateLimited("slow", platform="x", retry_after=timedelta(seconds=3))
        if state is RATE_LIMITED
        else TransportError("reset")
    )
    health.record_failure(error)
    assert health.state is state

    health.record_success()

    assert health.state is OK
    assert health.reason is None
    assert health.retry_after is None
    assert health.consecutive_failures == 0
    assert health.last_success_at is not None


def test_health_success_resets_auth_count() -> None:
    health = AccountHealth("acct")
    health.record_failure(_auth())
    health.record_success()
    health.record_failure(_auth())

    assert health.state is DEGRADED
    assert not health.polling_stopped


def test_health_stall_degrades_only_ok() -> None:
    health = AccountHealth("acct")
    health.mark_stalled(700)
    assert health.state is DEGRADED
    assert health.reason is not None
    assert "700" in health.reason

    limited = AccountHealth("acct")
    limited.record_failure(RateLimited("slow", platform="x"))
    limited.mark_stalled(700)
    assert limited.state is RATE_LIMITED


async def test_stopped_accounts_do_not_block_others(tmp_path: Path) -> None:
    quick = {"poll_interval": 0.05, "jitter": 0.0, "max_backoff": 0.2}
    good = TelegramEmulator(BOT_TOKEN, limits=False)
    revoked = TwitterEmulator(X_ACCOUNT)
    revoked.add_account(X_ACCOUNT, "a-token-that-is-not-ours")
    denied = TwitterEmulator("1598800000000000888")
    denied.add_account("1598800000000000888", X_TOKEN)
    denied.deny_dm_access("1598800000000000888")
    database = f"sqlite:///{tmp_path / 'health.db'}"
    with good, revoked, denied:
        settings = Settings(
            database=database,
            daemon=DaemonConfig(http=False, delivery_interval=0.1),
            accounts=[
                AccountConfig(
                    name="tg",
                    platform=Platform.TELEGRAM,
                    token=BOT_TOKEN,
                    base_url=good.base_url,
                    options={"poll_timeout": 0, "album_grace": 0, "pace": False},
                    **quick,
                ),
                AccountConfig(
                    name="x-revoked",
                    platform=Platform.X,
                    account_id=X_ACCOUNT,
                    token=X_TOKEN,
                    base_url=revoked.base_url,
                    options={"max_attempts": 1},
                    **quick,
                ),
                AccountConfig(
                    name="x-denied",
                    platform=Platform.X,
                    account_id="1598800000000000888",
                    token=X_TOKEN,
                    base_url=denied.base_url,
                    options={"max_attempts": 1},
                    **quick,
                ),
            ],
        )
        daemon = Daemon(settings)
        running = asyncio.create_task(daemon.run(handle_signals=False))
        try:
            await until(lambda: len(daemon.runners) == 3)
            runners = daemon.runners
            await until(lambda: runners["x-revoked"].health.polling_stopped)
            await until(lambda: runners["x-denied"].health.polling_stopped)

            revoked_requests = revoked.request_count()
            denied_requests = denied.request_count()
            good.add_message(424201, "Para çekme talebim 3 gündür bekliyor")
            polls = runners["tg"].polls
            await until(lambda: runners["tg"].polls >= polls + 3)
            health = daemon.health()
        finally:
            daemon.stop()
            code = await running

    assert code == 0
    assert health["status"] == "degraded"
    assert health["accounts"]["x-revoked"]["state"] == "needs_reauth"
    assert health["accounts"]["x-denied"]["state"] == "unavailable"
    assert health["accounts"]["tg"]["state"] == "ok"
    # Stopped accounts send nothing more while the healthy one keeps polling.
    assert revoked.request_count() == revoked_requests
    assert denied.request_count() == denied_requests
    with Store.open(database) as store:
        texts = [message.text for message in store.list_messages(platform=Platform.TELEGRAM)]
        cursor = store.get_cursor(Platform.TELEGRAM, BOT_ID, "updates")
    assert texts == ["Para çekme talebim 3 gündür bekliyor"]
    assert cursor is not None
