"""Sending an announcement: book send times and claim rows in batches, call the platform, record.

One transaction per batch books the account's next rate tokens as send
times, claims the rows and records their first part in the store's send
ledger; the results of finished calls are committed in batches by one
completion writer.

Exactly-once rules:

* A row becomes ``sending`` (a conditional update that only one process
  wins) before its platform call, and the part counter moves after each
  platform message, so a restart never repeats a part that was recorded.
* An HTTP 429 response means nothing went out: the row returns to ``pending`` with a
  ``not_before`` time and the chat's bucket is blocked for ``retry_after``,
  so only that chat waits.
* A timeout or a 5xx response may have delivered the message, so the row
  becomes ``unknown`` and is sent again only with ``resend_unknown``.
* A row left in ``sending`` by a run that stopped (its heartbeat is stale,
  or its process is gone on this host) is reconciled: when the store holds
  the send as completed or an echo carrying its ``client_ref``, the row is
  ``sent``; otherwise it is ``unknown``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from socialinbox.adapters.base import Adapter
from socialinbox.broadcast.accounts import SendAccount
from socialinbox.broadcast.ledger import (
    ANY_ACCOUNT,
    Broadcast,
    BroadcastError,
    Delivery,
    delivery_from_row,
    get_broadcast,
    set_status,
)
from socialinbox.broadcast.model import BroadcastStatus, DeliveryStatus
from socialinbox.broadcast.planner import materialize, plan_broadcast
from socialinbox.broadcast.ratelimit import Bucket, Reservation, SharedRateLimiter
from socialinbox.broadcast.render import Part, Rendering, render
from socialinbox.broadcast.sendlog import CompletedSend, complete_sends, record_sends
from socialinbox.broadcast.tables import broadcast_deliveries, broadcast_runs
from socialinbox.errors import (
    NotEligible,
    PlatformError,
    RateLimited,
    SocialInboxError,
    TransportError,
    UsageError,
)
from socialinbox.model import (
    Attachment,
    AttachmentType,
    Batch,
    ContactStatusEvent,
    ConversationKey,
    OutboundMessage,
    Platform,
    SendResult,
    utc_now,
)
from socialinbox.store import Store
from socialinbox.store.tables import MessageRow, table_of

__all__ = ["SendReport", "Sender", "reconcile"]

logger = logging.getLogger(__name__)

_messages = table_of(MessageRow)

HEARTBEAT_INTERVAL = 2.0
"""Seconds between heartbeats of a running sender."""
STALE_AFTER = 15.0
"""Seconds without a heartbeat after which a run on another host counts as stopped."""
RESERVE_HORIZON = 0.25
"""Seconds ahead for which a run books send times and claims rows.

Rows claimed ahead are still sent when the announcement is cancelled, so
this also bounds what a cancellation cannot stop."""
LATE_FRACTION = 0.9
"""A row that starts later than this fraction of the account's send interval after its
booked time takes a new token. With booked times ``1 / rate`` apart and every send less
than one interval late, a one-second window holds at most ``rate + 1`` sends."""
COMPLETION_DELAY = 0.02
"""Seconds the completion writer waits so that calls finishing together share one transaction."""


@dataclass
class _Completion:
    """A part sent by the platform, waiting for the completion writer."""

    row: Delivery
    index: int
    message_ids: tuple[str, ...]
    send: CompletedSend | None
    done: bool
    future: asyncio.Future[None]


@dataclass
class SendReport:
    """The outcome of one run and the ledger state after it."""

    broadcast_id: int
    status: BroadcastStatus
    counts: Counter[str] = field(default_factory=Counter)
    """Ledger rows per status after the run."""
    attempted: int = 0
    """Platform calls made by this run."""
    rate_limited: int = 0
    """Platform calls that received HTTP 429."""
    reconciled: Counter[str] = field(default_factory=Counter)
    """Rows found in ``sending`` from a stopped run, by the status they were given."""
    elapsed: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "broadcast_id": self.broadcast_id,
            "status": self.status.value,
            "counts": dict(self.counts),
            "attempted": self.attempted,
            "rate_limited": self.rate_limited,
            "reconciled": dict(self.reconciled),
            "elapsed_seconds": round(self.elapsed, 3),
        }


ProgressCallback = Callable[[Delivery], None]


class Sender:
    """Sends the due ledger rows of one announcement through the given accounts.

    Args:
        store: the store; its send ledger and messages are used for echoes
            and reconciliation, and completed sends are stored as outbound
            messages.
        accounts: the accounts to send through.
        resend_unknown: move ``unknown`` rows back to ``pending`` first.
        retry_failed: move ``failed`` rows back to ``pending`` first.
        on_row_done: called with each row that reached a final state.
        clock: the current time, aware UTC.
    """

    def __init__(
        self,
        store: Store,
        accounts: Sequence[SendAccount],
        *,
        resend_unknown: bool = False,
        retry_failed: bool = False,
        on_row_done: ProgressCallback | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.engine = store.engine
        self.accounts = list(accounts)
        self.limiter = SharedRateLimiter(self.engine)
        self.resend_unknown = resend_unknown
        self.retry_failed = retry_failed
        self.on_row_done = on_row_done
        self.clock = clock
        self.run_id = uuid.uuid4().hex
        self._renderings: dict[tuple[str, Platform], Rendering] = {}
        self._held: dict[str, int] = {}
        """Rows claimed and not yet finished by this run, per account key."""
        self._completions: list[_Completion] = []
        self._completions_ready = asyncio.Event()
        self._report: SendReport | None = None

    # ------------------------------------------------------------------ accounts

    def account_for(self, platform: Platform, account_id: str) -> SendAccount | None:
        matching = [account for account in self.accounts if account.platform is platform]
        if account_id == ANY_ACCOUNT:
            return matching[0] if len(matching) == 1 else None
        return next((account for account in matching if account.account_id == account_id), None)

    # ------------------------------------------------------------------ run

    async def run(self, broadcast_id: int) -> SendReport:
        """Send what is due of announcement ``broadcast_id`` and return the report.

        Raises:
            BroadcastError: the announcement waits for approval or is not due yet.
        """
        started = time.monotonic()
        broadcast = await asyncio.to_thread(get_broadcast, self.engine, broadcast_id)
        report = SendReport(broadcast_id=broadcast_id, status=broadcast.status)
        self._report = report
        now = self.clock()
        if broadcast.status is BroadcastStatus.DRAFT:
            raise BroadcastError(
                f"announcement {broadcast_id} needs approval by a second person before sending"
            )
        if broadcast.status is BroadcastStatus.APPROVED:
            if now < broadcast.scheduled_at:
                raise BroadcastError(
                    f"announcement {broadcast_id} is scheduled for "
                    f"{broadcast.scheduled_at.isoformat()}; send it then or pass --wait"
                )
            if now > broadcast.expires_at:
                await asyncio.to_thread(self._expire, broadcast, now)
                report.status = BroadcastStatus.EXPIRED
                return await self._finish_report(report, started)
        if broadcast.status in (BroadcastStatus.CANCELLED, BroadcastStatus.EXPIRED):
            return await self._finish_report(report, started)

        await asyncio.to_thread(self._register_run, now)
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            if broadcast.status is BroadcastStatus.APPROVED:
                await asyncio.to_thread(self._start, broadcast, now)
            report.reconciled = await asyncio.to_thread(
                reconcile, self.store, broadcast_id, now=self.clock(), own_run=self.run_id
            )
            await asyncio.to_thread(self._reopen, broadcast_id)
            self._prepare_renderings(broadcast)
            await self._send_due(broadcast)
        finally:
            heartbeat.cancel()
            await asyncio.to_thread(self._finish_run)
        await asyncio.to_thread(self._close_if_done, broadcast_id)
        broadcast = await asyncio.to_thread(get_broadcast, self.engine, broadcast_id)
        report.status = broadcast.status
        return await self._finish_report(report, started)

    async def _finish_report(self, report: SendReport, started: float) -> SendReport:
        report.counts = await asyncio.to_thread(self._status_counts, report.broadcast_id)
        report.elapsed = time.monotonic() - started
        return report

    def _status_counts(self, broadcast_id: int) -> Counter[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(broadcast_deliveries.c.status, sa.func.count())
                .where(broadcast_deliveries.c.broadcast_id == broadcast_id)
                .group_by(broadcast_deliveries.c.status)
            ).all()
        return Counter({status: int(count) for status, count in rows})

    def _expire(self, broadcast: Broadcast, now: datetime) -> None:
        with self.engine.begin() as connection:
            set_status(
                connection,
                broadcast.id,
                BroadcastStatus.EXPIRED,
                expected=(BroadcastStatus.APPROVED,),
                finished_at=now,
            )
        logger.warning(
            "announcement %d expired at %s before sending started; it is not sent",
            broadcast.id,
            broadcast.expires_at.isoformat(),
        )

    def _start(self, broadcast: Broadcast, now: datetime) -> None:
        plan = plan_broadcast(self.engine, broadcast, now=now)
        with self.engine.begin() as connection:
            # Only the process that moves the announcement to "sending" writes the
            # ledger; the insert is idempotent all the same.
            if set_status(
                connection,
                broadcast.id,
                BroadcastStatus.SENDING,
                expected=(BroadcastStatus.APPROVED,),
                started_at=now,
            ):
                inserted = materialize(connection, plan, now=now)
                logger.info("announcement %d: %d ledger rows written", broadcast.id, inserted)

    def _reopen(self, broadcast_id: int) -> None:
        statuses = []
        if self.resend_unknown:
            statuses.append(DeliveryStatus.UNKNOWN.value)
        if self.retry_failed:
            statuses.append(DeliveryStatus.FAILED.value)
        if not statuses:
            return
        with self.engine.begin() as connection:
            reopened = connection.execute(
                broadcast_deliveries.update()
                .where(
                    broadcast_deliveries.c.broadcast_id == broadcast_id,
                    broadcast_deliveries.c.status.in_(statuses),
                )
                .values(status=DeliveryStatus.PENDING.value, not_before=None, updated_at=self.clock())
            ).rowcount
            if reopened:
                set_status(
                    connection,
                    broadcast_id,
                    BroadcastStatus.SENDING,
                    expected=(BroadcastStatus.DONE,),
                    finished_at=None,
                )
        logger.info("announcement %d: %d rows moved back to pending", broadcast_id, reopened)

    def _close_if_done(self, broadcast_id: int) -> None:
        with self.engine.begin() as connection:
            open_rows = connection.execute(
                sa.select(sa.func.count()).where(
                    broadcast_deliveries.c.broadcast_id == broadcast_id,
                    broadcast_deliveries.c.status.in_(
                        [DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]
                    ),
                )
            ).scalar_one()
            if open_rows == 0:
                set_status(
                    connection,
                    broadcast_id,
                    BroadcastStatus.DONE,
                    expected=(BroadcastStatus.SENDING,),
                    finished_at=self.clock(),
                )

    def _prepare_renderings(self, broadcast: Broadcast) -> None:
        for platform in Platform:
            for kind in ("dm", "channel", "post"):  # the TargetKind values
                if kind == "channel" and platform is not Platform.TELEGRAM:
                    continue
                self._renderings[(kind, platform)] = render(
                    broadcast.source_for(platform), platform, kind, image_url=broadcast.image_url
                )

    # ------------------------------------------------------------------ runs

    def _register_run(self, now: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                broadcast_runs.insert().values(
                    run_id=self.run_id,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    started_at=now,
                    heartbeat_at=now,
                )
            )

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_INTERVAL)
            try:
                await asyncio.to_thread(self._beat)
            except sa.exc.SQLAlchemyError as error:
                logger.warning("broadcast run %s: heartbeat failed: %s", self.run_id, error)

    def _beat(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                broadcast_runs.update()
                .where(broadcast_runs.c.run_id == self.run_id)
                .values(heartbeat_at=self.clock())
            )

    def _finish_run(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                broadcast_runs.update()
                .where(broadcast_runs.c.run_id == self.run_id)
                .values(finished_at=self.clock())
            )

    # ------------------------------------------------------------------ scheduling

    async def _send_due(self, broadcast: Broadcast) -> None:
        """Reserve send times for due rows in batches and start one task per granted row.

        A batch is one transaction that books the account's next tokens as
        send times, checks each row's chat and group buckets, claims the rows
        and records their first part in the store's send ledger. Each row task
        waits for its send time, calls the platform and hands the result to
        the completion writer.
        """
        inflight: dict[int, asyncio.Task[None]] = {}
        failures: list[asyncio.Task[None]] = []
        candidates: list[Delivery] = []
        self._completions = []
        self._completions_ready = asyncio.Event()
        writer = asyncio.create_task(self._write_completions_loop())
        try:
            while True:
                if failures:
                    # A bug or a database error in a row task: stop here; the row
                    # stays "sending" and the next run reconciles it.
                    await asyncio.gather(*inflight.values(), return_exceptions=True)
                    failures[0].result()
                if not candidates:
                    status = await asyncio.to_thread(self._broadcast_status, broadcast.id)
                    if status is BroadcastStatus.CANCELLED:
                        logger.info("announcement %d was cancelled; stopping", broadcast.id)
                        break
                    candidates = await asyncio.to_thread(self._due_rows, broadcast.id, set(inflight))
                if not candidates:
                    if inflight:
                        await asyncio.wait(inflight.values(), return_when=asyncio.FIRST_COMPLETED)
                        continue
                    next_time = await asyncio.to_thread(self._next_not_before, broadcast.id)
                    if next_time is None:
                        break
                    delay = (next_time - self.clock()).total_seconds()
                    await asyncio.sleep(min(max(delay, 0.01), 1.0))
                    continue
                account = self.account_for(candidates[0].platform, candidates[0].account_id)
                if account is None:
                    row = candidates.pop(0)
                    await asyncio.to_thread(
                        self._finish_row,
                        row,
                        DeliveryStatus.FAILED,
                        f"no configured account for {row.platform.value} {row.account_id}; "
                        "add it to the configuration file",
                    )
                    continue
                account_key = self._account_key(account)
                held = self._held.get(account_key, 0)
                free = account.limits.concurrency - held
                # Reserve in batches of about half the concurrency, so one
                # transaction books several send times while the rows already
                # held still cover the time until the next batch.
                if free < (1 if held == 0 else max(1, account.limits.concurrency // 2)):
                    await asyncio.wait(inflight.values(), return_when=asyncio.FIRST_COMPLETED)
                    continue
                batch = [
                    row
                    for row in candidates
                    if self.account_for(row.platform, row.account_id) is account
                ][:free]
                reservation = await asyncio.to_thread(self._reserve, batch, account, broadcast)
                examined = {row.id for row in batch[: reservation.examined]}
                candidates = [row for row in candidates if row.id not in examined]
                for index, send_at in reservation.granted:
                    row = batch[index]
                    self._held[account_key] = self._held.get(account_key, 0) + 1
                    task = asyncio.create_task(self._send_row(row, account, broadcast, send_at))
                    inflight[row.id] = task

                    def _done(
                        finished: asyncio.Task[None], row_id: int = row.id, key: str = account_key
                    ) -> None:
                        inflight.pop(row_id, None)
                        self._held[key] -= 1
                        if not finished.cancelled() and finished.exception() is not None:
                            failures.append(finished)

                    task.add_done_callback(_done)
                if reservation.wait > 0 and not reservation.granted:
                    # The account's next token is beyond the horizon (another
                    # process booked it, or the rate is slow).
                    pause = min(max(reservation.wait - RESERVE_HORIZON, 0.01), 1.0)
                    if inflight:
                        await asyncio.wait(
                            inflight.values(), timeout=pause, return_when=asyncio.FIRST_COMPLETED
                        )
                    else:
                        await asyncio.sleep(pause)
            if inflight:
                await asyncio.gather(*inflight.values())
        finally:
            writer.cancel()

    def _broadcast_status(self, broadcast_id: int) -> BroadcastStatus:
        return get_broadcast(self.engine, broadcast_id).status

    def _due_rows(self, broadcast_id: int, exclude: set[int]) -> list[Delivery]:
        now = self.clock()
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(broadcast_deliveries)
                .where(
                    broadcast_deliveries.c.broadcast_id == broadcast_id,
                    broadcast_deliveries.c.status == DeliveryStatus.PENDING.value,
                    sa.or_(
                        broadcast_deliveries.c.not_before.is_(None),
                        broadcast_deliveries.c.not_before <= now,
                    ),
                )
                .order_by(broadcast_deliveries.c.id)
                .limit(200)
            ).all()
        return [delivery_from_row(row) for row in rows if row.id not in exclude]

    def _next_not_before(self, broadcast_id: int) -> datetime | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(
                    sa.func.count(), sa.func.min(broadcast_deliveries.c.not_before)
                ).where(
                    broadcast_deliveries.c.broadcast_id == broadcast_id,
                    broadcast_deliveries.c.status == DeliveryStatus.PENDING.value,
                )
            ).one()
        if not row[0]:
            return None
        value: datetime | None = row[1]
        return value if value is not None else self.clock()

    @staticmethod
    def _account_key(account: SendAccount) -> str:
        return f"{account.platform.value}:{account.account_id}"

    def _buckets(self, row: Delivery, account: SendAccount) -> list[Bucket]:
        return account.limits.buckets(self._account_key(account), row.chat_id, is_group=row.is_group)

    def _reserve(self, rows: Sequence[Delivery], account: SendAccount, broadcast: Broadcast) -> Reservation:
        """Book send times, claim rows and record their next part, in one transaction.

        A row whose chat or group must wait gets that time as ``not_before``
        and stays ``pending``, so other chats go first.
        """
        now = self.clock()
        shared = self._buckets(rows[0], account)[0]
        requests = [self._buckets(row, account)[1:] for row in rows]
        with self.engine.begin() as connection:

            def claim(index: int) -> bool:
                claimed = connection.execute(
                    broadcast_deliveries.update()
                    .where(
                        broadcast_deliveries.c.id == rows[index].id,
                        broadcast_deliveries.c.status == DeliveryStatus.PENDING.value,
                    )
                    .values(
                        status=DeliveryStatus.SENDING.value,
                        claimed_by=self.run_id,
                        claimed_at=now,
                        attempts=broadcast_deliveries.c.attempts + 1,
                        updated_at=now,
                    )
                ).rowcount
                return bool(claimed)

            reservation = self.limiter.reserve(
                connection, shared, requests, horizon=RESERVE_HORIZON, claim=claim
            )
            for index, ready in reservation.deferred:
                connection.execute(
                    broadcast_deliveries.update()
                    .where(
                        broadcast_deliveries.c.id == rows[index].id,
                        broadcast_deliveries.c.status == DeliveryStatus.PENDING.value,
                    )
                    .values(not_before=now + timedelta(seconds=ready - time.time()), updated_at=now)
                )
            record_sends(
                connection,
                [
                    self._outbound(rows[index], account, rows[index].parts_sent, broadcast)
                    for index, _ in reservation.granted
                    if rows[index].target != "post"
                ],
                author=f"broadcast:{broadcast.id}",
            )
        return reservation

    async def _take_tokens(
        self, row: Delivery, account: SendAccount, *, buckets: Sequence[Bucket] | None = None
    ) -> None:
        """Wait for rate tokens (by default all of the row's buckets) for a row this run holds."""
        if buckets is None:
            buckets = self._buckets(row, account)
        while True:
            wait, _slowest = await asyncio.to_thread(self.limiter.acquire_or_wait, buckets)
            if wait <= 0:
                return
            await asyncio.sleep(min(wait, 1.0))

    # ------------------------------------------------------------------ completions

    async def _complete(
        self,
        row: Delivery,
        index: int,
        message_ids: Sequence[str],
        send: CompletedSend | None,
        *,
        done: bool,
    ) -> None:
        """Record part ``index`` of ``row`` as sent (with ``done``, the row too) and wait for the commit."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._completions.append(_Completion(row, index, tuple(message_ids), send, done, future))
        self._completions_ready.set()
        await future

    async def _write_completions_loop(self) -> None:
        """Commit queued completions in batches, one transaction per batch."""
        while True:
            await self._completions_ready.wait()
            # Let the calls finishing at about the same time join this batch.
            await asyncio.sleep(COMPLETION_DELAY)
            self._completions_ready.clear()
            batch, self._completions = self._completions, []
            try:
                done = await asyncio.to_thread(self._write_completions, batch)
            except Exception as error:  # noqa: BLE001 - each waiting row task re-raises it
                for completion in batch:
                    completion.future.set_exception(error)
                continue
            for completion in batch:
                completion.future.set_result(None)
            if self.on_row_done is not None:
                for delivery in done:
                    self.on_row_done(delivery)

    def _write_completions(self, batch: Sequence[_Completion]) -> list[Delivery]:
        """Mark sends and parts as sent; return the rows that became ``sent``."""
        now = self.clock()
        row_ids = sorted({completion.row.id for completion in batch})
        finished: list[int] = []
        with self.engine.begin() as connection:
            complete_sends(connection, [c.send for c in batch if c.send is not None])
            known_ids = {
                row.id: list(row.platform_message_ids or [])
                for row in connection.execute(
                    sa.select(
                        broadcast_deliveries.c.id, broadcast_deliveries.c.platform_message_ids
                    ).where(broadcast_deliveries.c.id.in_(row_ids))
                )
            }
            for completion in batch:
                row = completion.row
                known_ids[row.id].extend(completion.message_ids)
                values: dict[str, Any] = {
                    "parts_sent": completion.index + 1,
                    "platform_message_ids": list(known_ids[row.id]),
                    "updated_at": now,
                }
                if completion.done:
                    values.update(status=DeliveryStatus.SENT.value, reason=None, sent_at=now)
                    finished.append(row.id)
                connection.execute(
                    broadcast_deliveries.update().where(broadcast_deliveries.c.id == row.id).values(**values)
                )
            if not finished or self.on_row_done is None:
                return []
            rows = connection.execute(
                sa.select(broadcast_deliveries).where(broadcast_deliveries.c.id.in_(finished))
            ).all()
        return [delivery_from_row(row) for row in rows]

    # ------------------------------------------------------------------ one row


    def _finish_row(
        self,
        row: Delivery,
        status: DeliveryStatus,
        reason: str | None,
        *,
        not_before: datetime | None = None,
    ) -> None:
        now = self.clock()
        values: dict[str, Any] = {"status": status.value, "reason": reason, "updated_at": now}
        if status is DeliveryStatus.SENT:
            values["sent_at"] = now
        if status is DeliveryStatus.PENDING:
            values["not_before"] = not_before
        with self.engine.begin() as connection:
            connection.execute(
                broadcast_deliveries.update().where(broadcast_deliveries.c.id == row.id).values(**values)
            )
            final = connection.execute(
                sa.select(broadcast_deliveries).where(broadcast_deliveries.c.id == row.id)
            ).one()
        if status is not DeliveryStatus.PENDING and self.on_row_done is not None:
            self.on_row_done(delivery_from_row(final))

    async def _send_row(
        self, row: Delivery, account: SendAccount, broadcast: Broadcast, send_at: float
    ) -> None:
        """Send the remaining parts of a row claimed by :meth:`_reserve`, the first at ``send_at``.

        ``send_at`` is a Unix time, because the rate buckets are shared across processes.
        """
        rendering = self._renderings[(row.target, row.platform)]
        assert self._report is not None
        index = row.parts_sent
        try:
            delay = send_at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            shared = self._buckets(row, account)[0]
            if time.time() - send_at > LATE_FRACTION / shared.rate:
                # Sent this late, the message would crowd the next booked
                # send times into one server window, so book a new time.
                await self._take_tokens(row, account, buckets=[shared])
            while index < len(rendering.parts):
                first = index == row.parts_sent
                if not first:
                    await self._take_tokens(row, account)
                part = rendering.parts[index]
                self._report.attempted += 1
                message_ids, send = await self._call(
                    row, account, part, index, broadcast, recorded=first
                )
                await self._complete(
                    row, index, message_ids, send, done=index + 1 == len(rendering.parts)
                )
                index += 1
        except RateLimited as error:
            self._report.rate_limited += 1
            wait = error.retry_after.total_seconds() if error.retry_after else 1.0
            bucket = self._buckets(row, account)[1].key
            await asyncio.to_thread(self.limiter.block, bucket, wait)
            logger.info(
                "announcement %d row %d: %s asked to wait %.1f s for this chat",
                row.broadcast_id, row.id, row.platform.value, wait,
            )
            await asyncio.to_thread(
                self._finish_row,
                row,
                DeliveryStatus.PENDING,
                f"rate limited; retry after {wait:.0f} s",
                not_before=self.clock() + timedelta(seconds=wait),
            )
            return
        except NotEligible as error:
            await asyncio.to_thread(self._finish_row, row, DeliveryStatus.SKIPPED, f"not eligible: {error}")
            return
        except PlatformError as error:
            status_event: ContactStatusEvent | None = getattr(error, "contact_status", None)
            if status_event is not None:
                await asyncio.to_thread(self.store.ingest, Batch(items=(status_event,)))
                await asyncio.to_thread(
                    self._finish_row, row, DeliveryStatus.SKIPPED, f"blocked_us: {error}"
                )
                return
            ambiguous = error.status is not None and error.status >= 500
            await asyncio.to_thread(
                self._finish_row,
                row,
                DeliveryStatus.UNKNOWN if ambiguous else DeliveryStatus.FAILED,
                f"{error}" + ("; it may have been delivered" if ambiguous else ""),
            )
            logger.warning("announcement %d row %d failed: %s", row.broadcast_id, row.id, error)
            return
        except TransportError as error:
            await asyncio.to_thread(
                self._finish_row,
                row,
                DeliveryStatus.UNKNOWN,
                f"{error}; it may have been delivered, check the chat, then use --resend-unknown",
            )
            logger.warning("announcement %d row %d outcome unknown: %s", row.broadcast_id, row.id, error)
            return
        except (UsageError, SocialInboxError) as error:
            await asyncio.to_thread(self._finish_row, row, DeliveryStatus.FAILED, str(error))
            logger.warning("announcement %d row %d failed: %s", row.broadcast_id, row.id, error)
            return

    def _outbound(
        self, row: Delivery, account: SendAccount, index: int, broadcast: Broadcast
    ) -> OutboundMessage:
        part = self._renderings[(row.target, row.platform)].parts[index]
        return OutboundMessage(
            conversation=ConversationKey(
                platform=row.platform, account_id=account.account_id, chat_id=row.chat_id
            ),
            text=part.text,
            attachments=(Attachment(type=AttachmentType.IMAGE, url=part.image_url),)
            if part.image_url
            else (),
            client_ref=part_ref(row.client_ref, index),
            tag=_meta_tag(row.platform, broadcast.meta_tag),
        )

    async def _call(
        self,
        row: Delivery,
        account: SendAccount,
        part: Part,
        index: int,
        broadcast: Broadcast,
        *,
        recorded: bool,
    ) -> tuple[tuple[str, ...], CompletedSend | None]:
        """Send one part; ``recorded`` says that :meth:`_reserve` already wrote its send-ledger row."""
        adapter: Adapter = account.adapter
        if row.target == "post":
            return await _post(adapter, row.platform, part), None
        message = self._outbound(row, account, index, broadcast)
        if not recorded:
            await asyncio.to_thread(self.store.record_send, message, author=f"broadcast:{broadcast.id}")
        result: SendResult = await adapter.send(message)
        return result.message_ids, CompletedSend(message, result)


def part_ref(client_ref: str, index: int) -> str:
    """Return the send-ledger reference of part ``index`` of a ledger row."""
    return f"{client_ref}-{index}"


def _meta_tag(platform: Platform, tag: str | None) -> str | None:
    from socialinbox.adapters.meta.eligibility import POLICIES

    policy = POLICIES.get(platform)
    if policy is None or tag is None or tag not in policy.tag_windows:
        return None
    return tag


async def _post(adapter: Adapter, platform: Platform, part: Part) -> tuple[str, ...]:
    text = part.text or ""
    if platform is Platform.X:
        result: SendResult = await adapter.post(text)  # type: ignore[attr-defined]
        return result.message_ids
    if platform is Platform.MESSENGER:
        # NOTE: the image is shared as a link; uploading it as a Page photo is not implemented.
        post_id: str = await adapter.post_to_feed(text, link=part.image_url)  # type: ignore[attr-defined]
        return (post_id,)
    if platform is Platform.INSTAGRAM:
        # NOTE: the two-step container and publish calls follow Meta's content
        # publishing guide; no emulator implements them yet, so this path is untested.
        client: Any = adapter.client  # type: ignore[attr-defined]
        node = adapter.account_id
        container = await client.post(f"{node}/media", {"image_url": part.image_url, "caption": text})
        published = await client.post(f"{node}/media_publish", {"creation_id": container.get("id")})
        return (str(published.get("id")),)
    raise UsageError(f"{platform.value} has no post target")


def reconcile(store: Store, broadcast_id: int, *, now: datetime, own_run: str | None = None) -> Counter[str]:
    """Settle rows left in ``sending`` by runs that stopped; return the new statuses counted.

    A part counts as delivered when the store's send ledger marks it sent or
    a stored message carries its ``client_ref`` (Messenger echoes do).
    Telegram and X return no such echo for bot sends, so their interrupted
    rows become ``unknown``.
    """
    engine = store.engine
    live = _live_runs(engine, now=now)
    if own_run is not None:
        live.add(own_run)
    with engine.connect() as connection:
        rows = [
            delivery_from_row(row)
            for row in connection.execute(
                sa.select(broadcast_deliveries).where(
                    broadcast_deliveries.c.broadcast_id == broadcast_id,
                    broadcast_deliveries.c.status == DeliveryStatus.SENDING.value,
                )
            )
            if row.claimed_by not in live
        ]
    counts: Counter[str] = Counter()
    for row in rows:
        parts_sent = row.parts_sent
        found_ids: list[str] = []
        while parts_sent < row.parts_total:
            ids = _delivered_ids(store, part_ref(row.client_ref, parts_sent))
            if not ids:
                break
            found_ids.extend(ids)
            parts_sent += 1
        if parts_sent >= row.parts_total:
            status, reason = DeliveryStatus.SENT, "reconciled: found in the platform's echo or the send ledger"
        elif parts_sent > row.parts_sent:
            status, reason = DeliveryStatus.PENDING, "reconciled: the interrupted part was delivered"
        else:
            status = DeliveryStatus.UNKNOWN
            reason = (
                f"interrupted during the platform call (run {row.claimed_by}); no echo or history "
                "shows whether it was delivered: check the chat, then use --resend-unknown"
            )
        with engine.begin() as connection:
            connection.execute(
                broadcast_deliveries.update()
                .where(
                    broadcast_deliveries.c.id == row.id,
                    broadcast_deliveries.c.status == DeliveryStatus.SENDING.value,
                )
                .values(
                    status=status.value,
                    reason=reason,
                    parts_sent=parts_sent,
                    platform_message_ids=[*row.platform_message_ids, *found_ids],
                    sent_at=now if status is DeliveryStatus.SENT else None,
                    updated_at=now,
                )
            )
        counts[status.value] += 1
        logger.warning("announcement %d row %d reconciled as %s", broadcast_id, row.id, status.value)
    return counts


def _live_runs(engine: sa.Engine, *, now: datetime) -> set[str]:
    host = socket.gethostname()
    live: set[str] = set()
    with engine.connect() as connection:
        for row in connection.execute(
            sa.select(broadcast_runs).where(broadcast_runs.c.finished_at.is_(None))
        ):
            if row.host == host:
                if _process_alive(row.pid):
                    live.add(row.run_id)
            elif (now - row.heartbeat_at).total_seconds() < STALE_AFTER:
                live.add(row.run_id)
    return live


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _delivered_ids(store: Store, client_ref: str) -> tuple[str, ...]:
    record = store.get_send(client_ref)
    if record is not None and record.status == "sent" and record.platform_message_ids:
        return record.platform_message_ids
    with store.engine.connect() as connection:
        ids = connection.execute(
            sa.select(_messages.c.message_id).where(_messages.c.client_ref == client_ref)
        ).scalars().all()
    return tuple(ids)
