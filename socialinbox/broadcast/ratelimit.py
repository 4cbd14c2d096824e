"""Token buckets kept in the database, so every sender process shares one budget.

Each bucket is a row: tokens, the time of the last refill and a "blocked
until" time set when the platform responded with HTTP 429. :meth:`SharedRateLimiter.try_acquire`
takes one token from several buckets at once (the platform, the chat and,
for groups, the group) in one transaction, or takes none and returns how
long to wait. :meth:`SharedRateLimiter.reserve` hands out the next tokens of
one shared bucket as send times spaced ``1 / rate`` apart, for a batch of
messages at once, inside the caller's transaction. A bucket may go below
zero tokens, which books its future tokens: every process then waits until
they are paid back, so the shared rate holds whichever process spends them.
SQLite serializes the transaction with ``BEGIN IMMEDIATE``;
PostgreSQL locks the rows with ``SELECT … FOR UPDATE`` in key order, so two
processes never deadlock. Times are Unix seconds from :func:`time.time`,
because monotonic clocks are not comparable across processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from socialinbox.broadcast.tables import rate_buckets
from socialinbox.model import Platform

__all__ = ["DEFAULT_LIMITS", "Bucket", "RateLimits", "Reservation", "SharedRateLimiter"]


@dataclass(frozen=True)
class Bucket:
    """A token bucket: ``rate`` tokens per second up to ``burst`` tokens."""

    key: str
    rate: float
    burst: float = 1.0


@dataclass(frozen=True)
class RateLimits:
    """Send limits of one platform account.

    Attributes:
        per_second: messages per second over all chats.
        burst: how many messages may go out at once after a quiet period.
        chat_interval: minimum seconds between two messages to one chat.
        group_per_minute: messages per minute to one group chat.
        concurrency: platform calls in flight at once.
    """

    per_second: float
    burst: float = 1.0
    chat_interval: float = 1.05
    group_per_minute: float = 19.0
    concurrency: int = 8

    def buckets(self, account_key: str, chat_id: str, *, is_group: bool) -> list[Bucket]:
        """Return the buckets one message to ``chat_id`` takes a token from."""
        found = [
            Bucket(f"{account_key}", self.per_second, self.burst),
            Bucket(f"{account_key}:chat:{chat_id}", 1.0 / self.chat_interval, 1.0),
        ]
        if is_group:
            found.append(Bucket(f"{account_key}:group:{chat_id}", self.group_per_minute / 60.0, 1.0))
        return found

    def with_options(self, options: Mapping[str, Any]) -> RateLimits:
        """Return a copy with the values given in an account's ``options.broadcast`` table."""
        known = {"per_second", "burst", "chat_interval", "group_per_minute", "concurrency"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(
                f"unknown broadcast option(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = {
            "per_second": self.per_second,
            "burst": self.burst,
            "chat_interval": self.chat_interval,
            "group_per_minute": self.group_per_minute,
            "concurrency": self.concurrency,
        }
        values.update(options)
        return RateLimits(**values)


DEFAULT_LIMITS: Mapping[Platform, RateLimits] = {
    # Telegram allows about 30 messages per second overall, 1 per second per
    # chat and 20 per minute per group (Bot API FAQ; python-telegram-bot 22.8
    # FloodLimit). The defaults stay a little below so that timing jitter
    # between us and the server does not turn into 429 responses.
    Platform.TELEGRAM: RateLimits(per_second=29.0, chat_interval=1.05, group_per_minute=19.0),
    # X: the strict documented DM limit, 15 sends per 15 minutes per user.
    Platform.X: RateLimits(per_second=15 / 900, burst=15, concurrency=1),
    # NOTE: Meta publishes no fixed Send API rate for Messenger; 10 per second
    # is a cautious guess. Instagram's "200 automated DMs per hour" appears only
    # in vendor blogs but is kept as the default pace.
    Platform.MESSENGER: RateLimits(per_second=10.0, concurrency=4),
    Platform.INSTAGRAM: RateLimits(per_second=200 / 3600, concurrency=1),
}


@dataclass
class Reservation:
    """The outcome of :meth:`SharedRateLimiter.reserve`."""

    granted: list[tuple[int, float]] = field(default_factory=list)
    """Request index and the Unix time at which its message may go out."""
    deferred: list[tuple[int, float]] = field(default_factory=list)
    """Request index and the Unix time at which its own buckets have a token."""
    examined: int = 0
    """Requests looked at; the rest were left because the shared bucket's next token was too far off."""
    wait: float = 0.0
    """Seconds until the shared bucket's next token, when it was beyond the horizon."""


class _Level:
    """A bucket row's state while a reservation is being computed."""

    def __init__(self, bucket: Bucket, tokens: float, updated_at: float, blocked_until: float) -> None:
        self.bucket = bucket
        self.tokens = tokens
        self.updated_at = updated_at
        self.blocked_until = blocked_until
        self.changed = False

    def available_at(self) -> float:
        """Return the Unix time at which the bucket holds one token and is not blocked."""
        ready = self.updated_at
        if self.tokens < 1.0:
            ready += (1.0 - self.tokens) / self.bucket.rate
        return max(ready, self.blocked_until)

    def take(self, at: float) -> None:
        """Spend one token at Unix time ``at``; the level may go below zero."""
        self.tokens = min(self.bucket.burst, self.tokens + (at - self.updated_at) * self.bucket.rate) - 1.0
        self.updated_at = at
        self.changed = True


class SharedRateLimiter:
    """Token buckets in the ``broadcast_rate_buckets`` table."""

    def __init__(self, engine: sa.Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._clock = clock

    def try_acquire(self, buckets: Sequence[Bucket]) -> float:
        """Take one token from every bucket and return 0, or take none and return the wait in seconds."""
        return self.acquire_or_wait(buckets)[0]

    def acquire_or_wait(self, buckets: Sequence[Bucket]) -> tuple[float, str | None]:
        """Like :meth:`try_acquire`, and also return the key of the bucket that needs the longest wait."""
        keys = sorted({bucket.key for bucket in buckets})
        by_key = {bucket.key: bucket for bucket in buckets}
        with self.engine.begin() as connection:
            now = self._clock()
            self._ensure(connection, [by_key[key] for key in keys], now)
            query = sa.select(rate_buckets).where(rate_buckets.c.key.in_(keys)).order_by(
                rate_buckets.c.key
            )
            if connection.dialect.name == "postgresql":
                query = query.with_for_update()
            rows = {row.key: row for row in connection.execute(query)}
            wait = 0.0
            slowest: str | None = None
            levels: dict[str, float] = {}
            for key in keys:
                bucket, row = by_key[key], rows[key]
                # An updated_at in the future marks tokens booked by reserve();
                # the negative elapsed time keeps them unavailable until then.
                elapsed = now - row.updated_at
                tokens = min(bucket.burst, row.tokens + elapsed * bucket.rate)
                levels[key] = tokens
                needed = max(
                    row.blocked_until - now,
                    (1.0 - tokens) / bucket.rate if tokens < 1.0 else 0.0,
                )
                if needed > wait:
                    wait, slowest = needed, key
            if wait > 0:
                return wait, slowest
            for key in keys:
                connection.execute(
                    rate_buckets.update()
                    .where(rate_buckets.c.key == key)
                    .values(tokens=levels[key] - 1.0, updated_at=now)
                )
            return 0.0, None

    def reserve(
        self,
        connection: sa.Connection,
        shared: Bucket,
        requests: Sequence[Sequence[Bucket]],
        *,
        horizon: float,
        claim: Callable[[int], bool],
    ) -> Reservation:
        """Book send times for a batch of messages in the caller's transaction.

        Request ``i`` needs one token of ``shared`` and one of each bucket in
        ``requests[i]`` (its chat and group). Requests are served in order:
        each gets the shared bucket's next token time as its send time while
        that time is at most ``horizon`` seconds away. A request whose own
        buckets have no token by then is deferred without spending the shared
        token. ``claim(i)`` is called before tokens are spent on request ``i``;
        when it returns False, nothing is spent for it.
        """
        now = self._clock()
        by_key = {shared.key: shared}
        for buckets in requests:
            by_key.update((bucket.key, bucket) for bucket in buckets)
        keys = sorted(by_key)
        self._ensure(connection, [by_key[key] for key in keys], now)
        query = sa.select(rate_buckets).where(rate_buckets.c.key.in_(keys)).order_by(rate_buckets.c.key)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        levels = {
            row.key: _Level(by_key[row.key], row.tokens, row.updated_at, row.blocked_until)
            for row in connection.execute(query)
        }
        shared_level = levels[shared.key]
        # The shared bucket is read at "now", so tokens that were not spent in
        # the past are capped at its burst as usual.
        shared_level.tokens = min(
            shared.burst, shared_level.tokens + (now - shared_level.updated_at) * shared.rate
        )
        shared_level.updated_at = now

        reservation = Reservation()
        for index, buckets in enumerate(requests):
            send_at = max(now, shared_level.available_at())
            if send_at - now > horizon:
                reservation.wait = send_at - now
                break
            reservation.examined = index + 1
            own = [levels[bucket.key] for bucket in buckets]
            ready = max((level.available_at() for level in own), default=now)
            if ready > send_at:
                reservation.deferred.append((index, ready))
                continue
            if not claim(index):
                continue
            shared_level.take(send_at)
            for level in own:
                level.take(send_at)
            reservation.granted.append((index, send_at))

        for key, level in levels.items():
            if level.changed:
                connection.execute(
                    rate_buckets.update()
                    .where(rate_buckets.c.key == key)
                    .values(tokens=level.tokens, updated_at=level.updated_at)
                )
        return reservation

    def block(self, key: str, seconds: float) -> None:
        """Let no token out of bucket ``key`` for ``seconds`` (after a 429 with ``retry_after``)."""
        with self.engine.begin() as connection:
            now = self._clock()
            self._ensure(connection, [Bucket(key, 1.0)], now)
            connection.execute(
                rate_buckets.update()
                .where(rate_buckets.c.key == key, rate_buckets.c.blocked_until < now + seconds)
                .values(blocked_until=now + seconds)
            )

    @staticmethod
    def _ensure(connection: sa.Connection, buckets: Sequence[Bucket], now: float) -> None:
        values = [
            {"key": bucket.key, "tokens": bucket.burst, "updated_at": now, "blocked_until": 0.0}
            for bucket in buckets
        ]
        if connection.dialect.name == "postgresql":
            from sqlalchemy.dialects import postgresql

            statement: Any = postgresql.insert(rate_buckets)
        else:
            from sqlalchemy.dialects import sqlite

            statement = sqlite.insert(rate_buckets)
        connection.execute(statement.values(values).on_conflict_do_nothing(index_elements=["key"]))
