"""``socialinbox accounts check``: validate settings and probe each account without ingesting."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from socialinbox.config import Settings
from socialinbox.daemon.factory import build_adapter
from socialinbox.daemon.health import AccountHealth
from socialinbox.daemon.runner import CURSOR_STREAMS
from socialinbox.errors import SocialInboxError
from socialinbox.store import AsyncStore, Store

__all__ = ["ProbeResult", "probe_accounts"]


@dataclass(frozen=True)
class ProbeResult:
    name: str
    platform: str
    state: str
    """The health state the probe implies: ``ok``, ``degraded``, ``rate_limited``, ..."""
    detail: str | None = None


async def probe_accounts(settings: Settings, *, fetch_timeout: float = 30.0) -> list[ProbeResult]:
    """Build each enabled account's adapter and run one fetch from its stored cursor.

    The fetch confirms nothing to the platform and its result is discarded,
    so a probe never moves a cursor or stores a message.
    """
    loop = asyncio.get_running_loop()
    sync_store = await loop.run_in_executor(None, lambda: Store.open(settings.database))
    store = AsyncStore(sync_store)
    results = []
    try:
        for account in settings.accounts:
            if not account.enabled:
                results.append(ProbeResult(account.name, account.platform.value, "disabled"))
                continue
            try:
                adapter = build_adapter(account, store)
            except SocialInboxError as error:
                results.append(
                    ProbeResult(account.name, account.platform.value, "invalid", str(error))
                )
                continue
            health = AccountHealth(account.name)
            try:
                cursor = await store.get_cursor(
                    account.platform, adapter.account_id, CURSOR_STREAMS[account.platform]
                )
                fetched = await asyncio.wait_for(adapter.fetch(cursor), fetch_timeout)
                detail = (
                    f"{len(fetched.batch.items)} item(s) waiting" if fetched.batch.items else None
                )
                results.append(ProbeResult(account.name, account.platform.value, "ok", detail))
            except (SocialInboxError, TimeoutError) as error:
                health.record_failure(error)
                results.append(
                    ProbeResult(
                        account.name, account.platform.value, health.state.value, health.reason
                    )
                )
            finally:
                await adapter.close()
    finally:
        await store.close()
    return results
