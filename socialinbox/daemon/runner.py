"""The poll loop of one account: fetch, ingest with the cursor, confirm, wait.

The cursor rule: a fetched batch and the cursor that covers it are written in
one transaction, and only then is the platform notified (``Adapter.confirm``).
A crash anywhere in between replays the batch, which ingest deduplicates.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta
from typing import TYPE_CHECKING

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from socialinbox.adapters.base import Adapter, FetchResult
from socialinbox.config import AccountConfig
from socialinbox.daemon.health import AccountHealth, HealthState
from socialinbox.daemon.metrics import Metrics
from socialinbox.errors import RateLimited
from socialinbox.model import Platform, utc_now
from socialinbox.store import AsyncStore, CursorUpdate, IngestResult

if TYPE_CHECKING:
    from socialinbox.moderation.rules import RuleSet

__all__ = ["CURSOR_STREAMS", "AccountRunner"]

logger = logging.getLogger(__name__)

CURSOR_STREAMS = {
    Platform.TELEGRAM: "updates",
    Platform.X: "dm_events",
    Platform.MESSENGER: "conversations",
    Platform.INSTAGRAM: "conversations",
}
"""Name under which each platform's poll cursor is stored."""


class AccountRunner:
    """Polls one account until stopped, keeping its health and metrics current."""

    def __init__(
        self,
        config: AccountConfig,
        adapter: Adapter,
        store: AsyncStore,
        metrics: Metrics,
        *,
        rng: random.Random | None = None,
        rules: RuleSet | None = None,
    ) -> None:
        self.config = config
        self.rules = rules
        self.adapter = adapter
        self.store = store
        self.metrics = metrics
        self.health = AccountHealth(config.name)
        self.polls = 0
        self.idle = False
        """True after a poll that found nothing new and nothing more to fetch."""
        self._rng = rng or random.Random()
        self._labels = (config.name, config.platform.value)
        metrics.set_health(config.name, config.platform.value, self.health.state)

    @property
    def stream(self) -> str:
        return CURSOR_STREAMS[self.config.platform]

    async def poll_once(self) -> tuple[FetchResult, IngestResult]:
        """Run one fetch, ingest and confirm step; raise what the platform raised."""
        account_id = self.adapter.account_id
        cursor = await self.store.get_cursor(self.config.platform, account_id, self.stream)
        fetched = await self.adapter.fetch(cursor)
        update = (
            CursorUpdate(self.config.platform, account_id, self.stream, fetched.cursor)
            if fetched.cursor is not None and fetched.cursor != cursor
            else None
        )
        result = await self.store.ingest(fetched.batch, update)
        await self.adapter.confirm(fetched.cursor)
        if self.rules is not None and result.stored:
            await self.run_rules(result)
        self._count(fetched, result)
        self.polls += 1
        self.idle = not fetched.more and result.messages_stored == 0 and result.events == 0
        if result.messages_stored or result.quarantined:
            logger.info(
                "account %s: %d stored, %d duplicates, %d events, %d ignored, %d quarantined",
                self.config.name,
                result.messages_stored,
                result.duplicates,
                result.events,
                result.ignored,
                result.quarantined,
            )
        return fetched, result

    async def run_rules(self, result: IngestResult) -> None:
        """Run the moderation rules on the messages this poll stored for the first time."""
        from socialinbox.moderation.rules import run_rules_after_ingest

        assert self.rules is not None
        try:
            await run_rules_after_ingest(
                self.store,
                self.adapter,
                result.stored,
                self.rules,
                parse_mode=self.config.options.get("parse_mode"),
            )
        except Exception:
            # The messages are stored; the rules are skipped for them and the loop goes on.
            logger.exception(
                "account %s: moderation rules failed for %d new message(s)",
                self.config.name,
                len(result.stored),
            )

    def _count(self, fetched: FetchResult, result: IngestResult) -> None:
        labels = self._labels
        self.metrics.ingested.labels(*labels).inc(result.messages_stored)
        self.metrics.duplicates.labels(*labels).inc(result.duplicates)
        self.metrics.events.labels(*labels).inc(result.events)
        self.metrics.quarantined.labels(*labels).inc(result.quarantined)
        self.metrics.ignored.labels(*labels).inc(result.ignored)
        sent_times = [message.sent_at for message in fetched.batch.messages]
        if result.messages_stored and sent_times:
            lag = (utc_now() - max(sent_times)).total_seconds()
            self.metrics.ingest_lag.labels(*labels).set(max(0.0, lag))

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set, or until the account's health stops polling."""
        logger.info("account %s (%s) polling started", self.config.name, self.config.platform.value)
        while not stop.is_set():
            try:
                fetched = await self._poll_with_retries(stop)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - logged; the loop decides what follows
                if stop.is_set():
                    break
                if self.health.polling_stopped:
                    logger.error(  # noqa: TRY400 - the failure was logged when it happened
                        "account %s polling stopped: %s (%s)",
                        self.config.name,
                        self.health.state.value,
                        self.health.reason,
                    )
                    await stop.wait()
                    break
                continue
            delay = 0.0 if fetched.more else self._interval()
            await _sleep_unless(stop, delay)
        logger.info("account %s polling stopped", self.config.name)

    async def _poll_with_retries(self, stop: asyncio.Event) -> FetchResult:
        def should_retry(error: BaseException) -> bool:
            return (
                not stop.is_set()
                and not self.health.polling_stopped
                and not isinstance(error, asyncio.CancelledError)
            )

        retrying = AsyncRetrying(
            retry=retry_if_exception(should_retry),
            wait=self._wait,
            before_sleep=self._record_failure_before_sleep,
            sleep=lambda seconds: _sleep_unless(stop, seconds),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                try:
                    fetched, _ = await self.poll_once()
                except Exception as error:
                    self._record_failure(error)
                    raise
                self.health.record_success()
                self.metrics.set_health(*self._labels, self.health.state)
                return fetched
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    def _record_failure(self, error: BaseException) -> None:
        state = self.health.record_failure(error)
        self.metrics.poll_errors.labels(*self._labels).inc()
        if isinstance(error, RateLimited):
            self.metrics.rate_limited.labels(*self._labels).inc()
        self.metrics.set_health(*self._labels, state)
        if state in {HealthState.NEEDS_REAUTH, HealthState.UNAVAILABLE}:
            return
        logger.warning(
            "account %s poll failed (%s); attempt %d",
            self.config.name,
            self.health.reason,
            self.health.consecutive_failures,
        )

    def _record_failure_before_sleep(self, retry_state: RetryCallState) -> None:
        if retry_state.next_action is not None:
            logger.info(
                "account %s retrying in %.1f s", self.config.name, retry_state.next_action.sleep
            )

    def _wait(self, retry_state: RetryCallState) -> float:
        """Exponential backoff with full jitter, never shorter than the platform's retry-after."""
        attempt = retry_state.attempt_number
        ceiling = min(self.config.max_backoff, 2.0 ** min(attempt, 16))
        backoff = self._rng.uniform(ceiling / 2, ceiling)
        retry_after = self.health.retry_after
        if isinstance(retry_after, timedelta):
            # The platform's own wait wins, even past max_backoff.
            backoff = max(backoff, retry_after.total_seconds())
        return backoff

    def _interval(self) -> float:
        spread = self.config.poll_interval * self.config.jitter
        return max(0.0, self.config.poll_interval + self._rng.uniform(-spread, spread))

    def stalled_for(self) -> float | None:
        """Seconds since the last successful poll, or ``None`` if none happened yet."""
        if self.health.last_success_at is None:
            return None
        return (utc_now() - self.health.last_success_at).total_seconds()


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds`` or until ``stop`` is set, whichever comes first."""
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return
