"""Outbox delivery: the worker that moves outbox events into the sinks, and dead-letter tools.

Every outbox event gets one ``deliveries`` row per sink. The row's status moves

    pending ─▶ in_flight ─▶ delivered
                  │  ▲
                  ▼  │ (backoff elapsed)
                failed ─▶ dead ─▶ (retry_dead_letters) ─▶ pending

``in_flight`` is a lease: the worker that claimed the row owns it until
``next_attempt_at``. A worker killed mid-delivery leaves its rows in flight,
and they are offered again when the lease expires (or at once after
:meth:`DeliveryWorker.release_in_flight`), with the same idempotency key.

Ordering: for one sink, an event of a conversation is never delivered while
an earlier event of the same conversation is ``pending``, ``in_flight`` or
``failed``. Dead letters do not hold a conversation back.

Each sink runs independently: a sink that is down only accumulates its own
``failed`` rows. Ingest never waits for delivery, because the worker keeps
its transactions short and keeps none open while a sink is called.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import tenacity
from sqlalchemy.dialects import postgresql, sqlite

from socialinbox.crm.base import (
    DeliveryOutcome,
    DeliveryResult,
    OrderingKey,
    OutboxEvent,
    Sink,
)
from socialinbox.errors import ConfigError, SinkError
from socialinbox.model import utc_now
from socialinbox.store import Store
from socialinbox.store.tables import DeliveryRow, OutboxRow, table_of

__all__ = [
    "DeliveryRecord",
    "DeliveryStatus",
    "DeliveryWorker",
    "RetryPolicy",
    "SinkRunReport",
    "delivery_counts",
    "list_deliveries",
    "release_in_flight",
    "retry_dead_letters",
    "unassigned_count",
    "wait_retry_after",
]

logger = logging.getLogger(__name__)

_outbox = table_of(OutboxRow)
_deliveries = table_of(DeliveryRow)

_CHUNK = 500
"""Ids per IN (...) clause; stays under SQLite's default host-parameter limit."""
_ENQUEUE_OVERLAP = 1000
"""How far below the last enqueued outbox id the next enqueue looks again.

PostgreSQL hands out ids when a row is inserted, not when it commits, so a
slow ingest transaction can commit an id lower than one already seen.
"""


class DeliveryStatus(enum.StrEnum):
    """State of one outbox event for one sink (``deliveries.status``)."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    FAILED = "failed"
    """At least one attempt failed; the next one is due at ``next_attempt_at``."""
    DEAD = "dead"
    """A dead letter: parked until someone runs ``socialinbox outbox retry``."""
    DELIVERED = "delivered"


_OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT, DeliveryStatus.FAILED)


# -- retry policy -------------------------------------------------------------------


# Lower case like the wait strategies tenacity ships.
class wait_retry_after(tenacity.wait.wait_base):
    """Wait for the receiver's requested delay, else for the delay ``fallback`` computes.

    The receiver's request comes from the ``retry_after`` of the
    :class:`~socialinbox.errors.SinkError` in the retry state's outcome; it is
    capped at ``maximum`` seconds.
    """

    def __init__(self, fallback: tenacity.wait.wait_base, maximum: float) -> None:
        self.fallback = fallback
        self.maximum = maximum

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        if isinstance(error, SinkError) and error.retry_after is not None:
            return min(max(error.retry_after.total_seconds(), 0.0), self.maximum)
        return float(self.fallback(retry_state))


_SCHEDULER = tenacity.Retrying()


@dataclass(frozen=True)
class RetryPolicy:
    """When failed deliveries are retried, and when they become dead letters.

    The delay before attempt ``n + 1`` is ``initial_delay * 2 ** (n - 1)``,
    capped at ``max_delay``, plus a random jitter up to ``jitter``. When the
    receiver sent ``Retry-After``, the delay is exactly that value, capped at
    ``max_retry_after``. With the defaults an event becomes a dead letter
    after 10 failed attempts spread over about 2.3 hours.
    """

    max_attempts: int = 10
    initial_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(hours=1)
    jitter: timedelta = timedelta(seconds=5)
    max_retry_after: timedelta = timedelta(days=1)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, got {self.max_attempts}")

    def wait_strategy(self) -> tenacity.wait.wait_base:
        exponential: tenacity.wait.wait_base = tenacity.wait_exponential(
            multiplier=self.initial_delay.total_seconds(), max=self.max_delay.total_seconds()
        )
        if self.jitter > timedelta(0):
            exponential = exponential + tenacity.wait_random(0, self.jitter.total_seconds())
        return wait_retry_after(exponential, self.max_retry_after.total_seconds())

    def delay(self, attempts: int, retry_after: timedelta | None = None) -> timedelta:
        """Return how long to wait after the ``attempts``-th failed attempt."""
        state = tenacity.RetryCallState(_SCHEDULER, fn=None, args=(), kwargs={})
        state.attempt_number = attempts
        outcome = tenacity.Future(attempts)
        outcome.set_exception(SinkError("delivery failed", sink="", retry_after=retry_after))
        state.outcome = outcome
        return timedelta(seconds=self.wait_strategy()(state))


# -- reports and listings -------------------------------------------------------------


@dataclass
class SinkRunReport:
    """Counts of one delivery round for one sink."""

    sink: str
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0
    error: str | None = None
    """Set when the round could not run (database error); the rows are untouched."""

    def add(self, other: SinkRunReport) -> None:
        self.claimed += other.claimed
        self.delivered += other.delivered
        self.retried += other.retried
        self.dead += other.dead
        self.deferred += other.deferred
        self.error = other.error or self.error


@dataclass(frozen=True)
class DeliveryRecord:
    """One ``deliveries`` row with the outbox event it belongs to."""

    outbox_id: int
    sink: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    delivered_at: datetime | None
    remote_id: str | None
    event_key: str
    kind: str
    platform: str
    account_id: str
    chat_id: str | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "outbox_id": self.outbox_id,
            "sink": self.sink,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": _iso(self.next_attempt_at),
            "last_error": self.last_error,
            "delivered_at": _iso(self.delivered_at),
            "remote_id": self.remote_id,
            "event_key": self.event_key,
            "kind": self.kind,
            "platform": self.platform,
            "account_id": self.account_id,
            "chat_id": self.chat_id,
            "created_at": _iso(self.created_at),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# -- SQL helpers ----------------------------------------------------------------------


def _insert(connection: sa.Connection, table: sa.Table) -> Any:
    """Return a dialect-specific INSERT that supports ON CONFLICT."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _chunks(values: Sequence[int], size: int = _CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _resting_status(attempts: Any) -> Any:
    """SQL for the status a row returns to when its claim is given up without an attempt."""
    return sa.case(
        (attempts > 0, sa.literal(DeliveryStatus.FAILED.value)),
        else_=sa.literal(DeliveryStatus.PENDING.value),
    )


def _enqueue(connection: sa.Connection, sink: str, after_id: int | None) -> int | None:
    """Create ``pending`` rows for outbox events this sink has no row for; return the max id."""
    missing = sa.select(
        _outbox.c.id,
        sa.literal(sink, sa.String),
        sa.literal(DeliveryStatus.PENDING.value, sa.String),
        sa.literal(0, sa.Integer),
    ).where(~sa.exists().where(_deliveries.c.outbox_id == _outbox.c.id, _deliveries.c.sink == sink))
    if after_id is not None:
        missing = missing.where(_outbox.c.id > after_id)
    statement = (
        _insert(connection, _deliveries)
        .from_select(["outbox_id", "sink", "status", "attempts"], missing)
        .on_conflict_do_nothing(index_elements=["outbox_id", "sink"])
    )
    connection.execute(statement)
    maximum: int | None = connection.execute(sa.select(sa.func.max(_outbox.c.id))).scalar()
    return maximum


def _is_due(status: str, next_attempt_at: datetime | None, now: datetime) -> bool:
    if status == DeliveryStatus.IN_FLIGHT:
        # An in-flight row is due only when its lease has expired.
        return next_attempt_at is not None and next_attempt_at <= now
    return next_attempt_at is None or next_attempt_at <= now


def _choose_due(rows: Sequence[Any], now: datetime, limit: int) -> list[int]:
    """Pick due rows in outbox order, skipping conversations held back by an earlier row."""
    blocked: set[OrderingKey] = set()
    chosen: list[int] = []
    for row in rows:
        key: OrderingKey = (row.platform, row.account_id, row.chat_id)
        if key in blocked:
            continue
        if not _is_due(row.status, row.next_attempt_at, now):
            blocked.add(key)
            continue
        chosen.append(row.outbox_id)
        if len(chosen) >= limit:
            break
    return chosen


def _claim(
    connection: sa.Connection,
    sink: str,
    candidates: Sequence[Any],
    chosen: list[int],
    now: datetime,
    lease_until: datetime,
) -> dict[int, int]:
    """Lease the chosen rows; return outbox id -> attempts so far for the rows now held.

    Another worker may have claimed some rows since they were read. A row
    that is lost that way holds back the later rows of its conversation, so
    those are released again here.
    """
    due = sa.or_(
        sa.and_(
            _deliveries.c.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value]),
            sa.or_(_deliveries.c.next_attempt_at.is_(None), _deliveries.c.next_attempt_at <= now),
        ),
        sa.and_(
            _deliveries.c.status == DeliveryStatus.IN_FLIGHT.value,
            _deliveries.c.next_attempt_at <= now,
        ),
    )
    claimed: dict[int, int] = {}
    for chunk in _chunks(chosen):
        statement = (
            _deliveries.update()
            .where(_deliveries.c.sink == sink, _deliveries.c.outbox_id.in_(list(chunk)), due)
            .values(status=DeliveryStatus.IN_FLIGHT.value, next_attempt_at=lease_until)
            .returning(_deliveries.c.outbox_id, _deliveries.c.attempts)
        )
        claimed.update((row.outbox_id, row.attempts) for row in connection.execute(statement))
    if len(claimed) == len(chosen):
        return claimed

    keys = {row.outbox_id: (row.platform, row.account_id, row.chat_id) for row in candidates}
    lost: set[OrderingKey] = set()
    released: list[int] = []
    for outbox_id in chosen:
        key = keys[outbox_id]
        if outbox_id not in claimed:
            lost.add(key)
        elif key in lost:
            released.append(outbox_id)
            del claimed[outbox_id]
    for chunk in _chunks(released):
        connection.execute(
            _deliveries.update()
            .where(_deliveries.c.sink == sink, _deliveries.c.outbox_id.in_(list(chunk)))
            .values(status=_resting_status(_deliveries.c.attempts), next_attempt_at=None)
        )
    return claimed


def _load_events(connection: sa.Connection, ids: Sequence[int]) -> list[OutboxEvent]:
    events: list[OutboxEvent] = []
    for chunk in _chunks(sorted(ids)):
        rows = connection.execute(
            sa.select(_outbox).where(_outbox.c.id.in_(list(chunk))).order_by(_outbox.c.id)
        ).all()
        events.extend(OutboxEvent.from_row(row) for row in rows)
    return events


# -- the worker -----------------------------------------------------------------------


class DeliveryWorker:
    """Deliver outbox events to each configured sink, with retries and dead letters.

    Args:
        store: the store whose ``outbox`` and ``deliveries`` tables are used.
        sinks: the sinks; their names must be unique.
        batch_size: the maximum number of events handed to a sink at once (a sink's own
            ``max_batch_size`` lowers it further).
        retry: when failed deliveries are retried and when they become dead letters.
        lease: how long a claimed batch belongs to this worker; it must be
            longer than a sink takes to deliver one batch.
        poll_interval: seconds :meth:`run_forever` waits between rounds when
            there is nothing to deliver.
        delivery_timeout: seconds one ``Sink.deliver`` call may take before
            the whole batch is counted as failed.
        scan_limit: the most open rows read per round to choose a batch.
        clock: the source of the current time.
    """

    def __init__(
        self,
        store: Store,
        sinks: Sequence[Sink],
        *,
        batch_size: int = 50,
        retry: RetryPolicy | None = None,
        lease: timedelta = timedelta(minutes=10),
        poll_interval: float = 2.0,
        delivery_timeout: float | None = None,
        scan_limit: int = 5000,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        names = Counter(sink.name for sink in sinks)
        duplicates = sorted(name for name, count in names.items() if count > 1)
        if duplicates:
            raise ConfigError(
                f"sink names must be unique; repeated: {', '.join(duplicates)}. "
                "Give each sink its own name"
            )
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        self.store = store
        self.sinks: tuple[Sink, ...] = tuple(sinks)
        self.batch_size = batch_size
        self.retry = retry or RetryPolicy()
        self.lease = lease
        self.poll_interval = poll_interval
        self.delivery_timeout = (
            delivery_timeout if delivery_timeout is not None else lease.total_seconds() / 2
        )
        self.scan_limit = scan_limit
        self._clock = clock
        self._enqueued_up_to: dict[str, int | None] = {sink.name: None for sink in self.sinks}
        self._wake_events: dict[str, asyncio.Event] = {}
        for sink in self.sinks:
            sink.attach_store(store)

    # -- one round ---------------------------------------------------------------------

    async def run_once(self) -> dict[str, SinkRunReport]:
        """Run one delivery round for every sink at once; return a report per sink."""
        reports = await asyncio.gather(*(self.run_sink_once(sink) for sink in self.sinks))
        return {report.sink: report for report in reports}

    async def drain(self, max_rounds: int = 10_000) -> dict[str, SinkRunReport]:
        """Run rounds until no sink has a due event; return the summed reports.

        Events waiting for a backoff are not due, so a sink that keeps failing
        does not keep this loop alive.
        """
        totals = {sink.name: SinkRunReport(sink.name) for sink in self.sinks}
        for _ in range(max_rounds):
            reports = await self.run_once()
            for name, report in reports.items():
                totals[name].add(report)
            if all(report.claimed == 0 for report in reports.values()):
                break
        return totals

    async def run_sink_once(self, sink: Sink) -> SinkRunReport:
        """Claim one batch of due events for ``sink``, deliver it, and record the results."""
        report = SinkRunReport(sink.name)
        try:
            events, attempts = await asyncio.to_thread(self._claim_batch, sink)
        except sa.exc.SQLAlchemyError as error:
            logger.warning("sink %s: cannot read the outbox: %s", sink.name, type(error).__name__)
            report.error = f"database error: {type(error).__name__}"
            return report
        report.claimed = len(events)
        if not events:
            return report

        results = await self._call_sink(sink, events)
        try:
            await asyncio.to_thread(self._record, sink, events, attempts, results, report)
        except sa.exc.SQLAlchemyError as error:
            # The rows stay in flight and are offered again when the lease expires.
            logger.exception(
                "sink %s: cannot record %d delivery results: %s",
                sink.name,
                len(events),
                type(error).__name__,
            )
            report.error = f"database error: {type(error).__name__}"
        return report

    async def _call_sink(self, sink: Sink, events: list[OutboxEvent]) -> list[DeliveryResult]:
        try:
            results = await asyncio.wait_for(sink.deliver(events), self.delivery_timeout)
        except TimeoutError:
            logger.warning(
                "sink %s: batch of %d (outbox %d..%d) timed out after %.0f s",
                sink.name,
                len(events),
                events[0].id,
                events[-1].id,
                self.delivery_timeout,
            )
            return [
                DeliveryResult.retry(f"delivery timed out after {self.delivery_timeout:.0f} s")
                for _ in events
            ]
        except SinkError as error:
            return [DeliveryResult.from_error(error) for _ in events]
        except Exception as error:
            # A broken sink must never stop the others, so every error is caught here.
            logger.exception(
                "sink %s raised %s on a batch of %d", sink.name, type(error).__name__, len(events)
            )
            return [
                DeliveryResult.retry(f"the sink raised {type(error).__name__}: {error}")
                for _ in events
            ]
        if len(results) != len(events):
            logger.error(
                "sink %s returned %d results for %d events; retrying the batch",
                sink.name,
                len(results),
                len(events),
            )
            message = f"the sink returned {len(results)} results for {len(events)} events"
            return [DeliveryResult.retry(message) for _ in events]
        return list(results)

    def _claim_batch(self, sink: Sink) -> tuple[list[OutboxEvent], dict[int, int]]:
        now = self._clock()
        limit = max(1, min(self.batch_size, sink.max_batch_size))
        with self.store.engine.begin() as connection:
            self._enqueued_up_to[sink.name] = _enqueue(
                connection, sink.name, self._enqueue_floor(sink.name)
            )
            candidates = connection.execute(
                sa.select(
                    _deliveries.c.outbox_id,
                    _deliveries.c.status,
                    _deliveries.c.next_attempt_at,
                    _outbox.c.platform,
                    _outbox.c.account_id,
                    _outbox.c.chat_id,
                )
                .join(_outbox, _outbox.c.id == _deliveries.c.outbox_id)
                .where(
                    _deliveries.c.sink == sink.name,
                    _deliveries.c.status.in_([status.value for status in _OPEN_STATUSES]),
                )
                .order_by(_deliveries.c.outbox_id)
                .limit(self.scan_limit)
            ).all()
            chosen = _choose_due(candidates, now, limit)
            if not chosen:
                return [], {}
            attempts = _claim(connection, sink.name, candidates, chosen, now, now + self.lease)
            events = _load_events(connection, list(attempts))
        return events, attempts

    def _enqueue_floor(self, sink: str) -> int | None:
        last = self._enqueued_up_to.get(sink)
        if last is None:
            return None
        return max(0, last - _ENQUEUE_OVERLAP)

    def _record(
        self,
        sink: Sink,
        events: list[OutboxEvent],
        attempts: dict[int, int],
        results: list[DeliveryResult],
        report: SinkRunReport,
    ) -> None:
        now = self._clock()
        retried: list[tuple[OutboxEvent, DeliveryResult, timedelta]] = []
        with self.store.engine.begin() as connection:
            for event, result in zip(events, results, strict=True):
                where = sa.and_(
                    _deliveries.c.sink == sink.name, _deliveries.c.outbox_id == event.id
                )
                done = attempts[event.id] + 1
                if result.outcome is DeliveryOutcome.DELIVERED:
                    values: dict[str, Any] = {
                        "status": DeliveryStatus.DELIVERED.value,
                        "attempts": done,
                        "delivered_at": now,
                        "next_attempt_at": None,
                        "last_error": None,
                    }
                    if result.remote_id is not None:
                        values["remote_id"] = result.remote_id
                    report.delivered += 1
                elif result.outcome is DeliveryOutcome.DEFERRED:
                    wait = result.retry_after
                    values = {
                        "status": _resting_status(_deliveries.c.attempts),
                        "next_attempt_at": now + wait if wait is not None else None,
                    }
                    report.deferred += 1
                elif result.outcome is DeliveryOutcome.RETRY and done < self.retry.max_attempts:
                    delay = self.retry.delay(done, result.retry_after)
                    values = {
                        "status": DeliveryStatus.FAILED.value,
                        "attempts": done,
                        "next_attempt_at": now + delay,
                        "last_error": result.error,
                    }
                    retried.append((event, result, delay))
                    report.retried += 1
                else:
                    values = {
                        "status": DeliveryStatus.DEAD.value,
                        "attempts": done,
                        "next_attempt_at": None,
                        "last_error": result.error,
                    }
                    report.dead += 1
                    logger.warning(
                        "sink %s: outbox %d (%s, key %s) is a dead letter after %d attempts: %s",
                        sink.name,
                        event.id,
                        event.kind,
                        event.event_key,
                        done,
                        result.error,
                    )
                connection.execute(_deliveries.update().where(where).values(**values))
        self._log_round(sink, report, retried)

    @staticmethod
    def _log_round(
        sink: Sink,
        report: SinkRunReport,
        retried: list[tuple[OutboxEvent, DeliveryResult, timedelta]],
    ) -> None:
        if retried:
            event, result, delay = retried[0]
            logger.warning(
                "sink %s: %d events will be retried; first is outbox %d, retry in %.0f s: %s",
                sink.name,
                len(retried),
                event.id,
                delay.total_seconds(),
                result.error,
            )
        logger.info(
            "sink %s: %d delivered, %d to retry, %d dead letters, %d deferred",
            sink.name,
            report.delivered,
            report.retried,
            report.dead,
            report.deferred,
        )

    # -- running ------------------------------------------------------------------------

    def wake(self, sink: str | None = None) -> None:
        """Start the next round of ``sink`` (default: every sink) without waiting.

        Call it from the event loop that runs :meth:`run_forever`, for example
        right after an ingest stored new events.
        """
        for name, event in self._wake_events.items():
            if sink is None or name == sink:
                event.set()

    async def run_forever(self, stop_event: asyncio.Event) -> None:
        """Deliver until ``stop_event`` is set; the batch in progress is finished first."""
        self._wake_events = {sink.name: asyncio.Event() for sink in self.sinks}
        logger.info(
            "delivery worker started: %s",
            ", ".join(sink.describe() for sink in self.sinks) or "no sinks",
        )
        await asyncio.gather(*(self._sink_loop(sink, stop_event) for sink in self.sinks))
        logger.info("delivery worker stopped")

    async def _sink_loop(self, sink: Sink, stop_event: asyncio.Event) -> None:
        wake = self._wake_events[sink.name]
        while not stop_event.is_set():
            report = await self.run_sink_once(sink)
            if report.claimed and report.claimed == report.delivered and not report.error:
                continue  # more may be due; go on without waiting
            waiters = [
                asyncio.ensure_future(stop_event.wait()),
                asyncio.ensure_future(wake.wait()),
            ]
            try:
                await asyncio.wait(
                    waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for waiter in waiters:
                    waiter.cancel()
            wake.clear()

    async def release_in_flight(self, sink: str | None = None) -> int:
        """Make rows left in flight by a killed worker due now; see :func:`release_in_flight`."""
        return await asyncio.to_thread(release_in_flight, self.store, sink=sink)

    async def retry_dead_letters(
        self, sink: str | None = None, ids: Sequence[int] | None = None
    ) -> int:
        """Move dead letters back to pending; see :func:`retry_dead_letters`."""
        count = await asyncio.to_thread(retry_dead_letters, self.store, sink=sink, ids=ids)
        if count:
            self.wake(sink)
        return count

    async def close(self) -> None:
        """Close every sink; errors are logged so that each sink gets closed."""
        for sink in self.sinks:
            try:
                await sink.close()
            except Exception as error:  # noqa: BLE001 - keep closing the other sinks
                logger.warning("sink %s failed to close: %s", sink.name, type(error).__name__)


# -- administration (used by the CLI) ---------------------------------------------------


def retry_dead_letters(
    store: Store, *, sink: str | None = None, ids: Sequence[int] | None = None
) -> int:
    """Move dead letters back to ``pending`` with a fresh attempt count; return how many.

    Args:
        store: the store.
        sink: only this sink's dead letters (default: every sink).
        ids: only these outbox ids (default: every dead letter).
    """
    where = [_deliveries.c.status == DeliveryStatus.DEAD.value]
    if sink is not None:
        where.append(_deliveries.c.sink == sink)
    values = {"status": DeliveryStatus.PENDING.value, "attempts": 0, "next_attempt_at": None}
    count = 0
    with store.engine.begin() as connection:
        if ids is None:
            count = connection.execute(_deliveries.update().where(*where).values(**values)).rowcount
        else:
            for chunk in _chunks(sorted(set(ids))):
                statement = (
                    _deliveries.update()
                    .where(*where, _deliveries.c.outbox_id.in_(list(chunk)))
                    .values(**values)
                )
                count += connection.execute(statement).rowcount
    logger.info("moved %d dead letters back to pending (sink %s)", count, sink or "any")
    return count


def release_in_flight(store: Store, *, sink: str | None = None) -> int:
    """Make every in-flight row due now; return how many.

    Call it at start-up when no other worker uses the same database (always
    true for SQLite), so that events a killed worker had claimed are offered
    again at once instead of when their lease expires.
    """
    where = [_deliveries.c.status == DeliveryStatus.IN_FLIGHT.value]
    if sink is not None:
        where.append(_deliveries.c.sink == sink)
    with store.engine.begin() as connection:
        count: int = connection.execute(
            _deliveries.update()
            .where(*where)
            .values(status=_resting_status(_deliveries.c.attempts), next_attempt_at=None)
        ).rowcount
    if count:
        logger.info("released %d in-flight deliveries left by an earlier run", count)
    return count


def list_deliveries(
    store: Store,
    *,
    status: str | Sequence[str] | None = None,
    sink: str | None = None,
    limit: int | None = None,
) -> list[DeliveryRecord]:
    """Return delivery rows with their outbox events, oldest event first."""
    query = sa.select(
        _deliveries.c.outbox_id,
        _deliveries.c.sink,
        _deliveries.c.status,
        _deliveries.c.attempts,
        _deliveries.c.next_attempt_at,
        _deliveries.c.last_error,
        _deliveries.c.delivered_at,
        _deliveries.c.remote_id,
        _outbox.c.event_key,
        _outbox.c.kind,
        _outbox.c.platform,
        _outbox.c.account_id,
        _outbox.c.chat_id,
        _outbox.c.created_at,
    ).join(_outbox, _outbox.c.id == _deliveries.c.outbox_id)
    if isinstance(status, str):
        query = query.where(_deliveries.c.status == status)
    elif status is not None:
        query = query.where(_deliveries.c.status.in_(list(status)))
    if sink is not None:
        query = query.where(_deliveries.c.sink == sink)
    query = query.order_by(_deliveries.c.outbox_id, _deliveries.c.sink)
    if limit is not None:
        query = query.limit(limit)
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [DeliveryRecord(**row._mapping) for row in rows]


def delivery_counts(store: Store) -> dict[str, dict[str, int]]:
    """Return the number of deliveries per sink and status, for summaries and metrics."""
    query = sa.select(_deliveries.c.sink, _deliveries.c.status, sa.func.count()).group_by(
        _deliveries.c.sink, _deliveries.c.status
    )
    counts: dict[str, dict[str, int]] = {}
    with store.engine.connect() as connection:
        for sink, status, count in connection.execute(query):
            counts.setdefault(sink, {})[status] = count
    return counts


def unassigned_count(store: Store) -> int:
    """Return how many outbox events no sink has picked up yet."""
    query = (
        sa.select(sa.func.count())
        .select_from(_outbox)
        .where(~sa.exists().where(_deliveries.c.outbox_id == _outbox.c.id))
    )
    with store.engine.connect() as connection:
        count: int = connection.execute(query).scalar_one()
    return count
