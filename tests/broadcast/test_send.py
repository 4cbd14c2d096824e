"""Sending against the Telegram emulator: crash and resume, 429 storms, shared ledger and limits."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from socialinbox.broadcast import (
    BroadcastStatus,
    DeliveryStatus,
    Sender,
    Target,
    create_broadcast,
    get_broadcast,
    list_deliveries,
)
from socialinbox.broadcast.ratelimit import Bucket, SharedRateLimiter
from socialinbox.model import ContactStatus, Platform, utc_now
from socialinbox.store import Store
from socialinbox.testing.telegram import Limits, TelegramEmulator
from tests.broadcast.support import BOT_ID, draft, seed_telegram, sent_counts, telegram_account

FAST = Limits(per_chat_per_second=1, overall_per_second=200, per_group_per_minute=20)


@pytest.fixture
def fast_emulator() -> Iterator[TelegramEmulator]:
    with TelegramEmulator(limits=FAST) as emulator:
        yield emulator


def _config(path: Path, emulator: TelegramEmulator, *, per_second: float, concurrency: int) -> Path:
    path.write_text(
        "[[accounts]]\n"
        'name = "tg"\n'
        'platform = "telegram"\n'
        f'token = "{emulator.token}"\n'
        f'base_url = "{emulator.base_url}"\n'
        "[accounts.options.broadcast]\n"
        f"per_second = {per_second}\n"
        f"concurrency = {concurrency}\n",
        encoding="utf-8",
    )
    return path


def test_crash_mid_send_then_resume_reaches_everyone_once(
    fast_emulator: TelegramEmulator, sqlite_url: str, tmp_path: Path
) -> None:
    chats = [10_000 + index for index in range(500)]
    for chat in chats:
        fast_emulator.add_chat(chat)
    store = Store.open(sqlite_url)
    now = utc_now()
    seed_telegram(store, chats, now=now)
    created = create_broadcast(store.engine, draft(now, Target(kind="dm")), now=now)
    config = _config(tmp_path / "socialinbox.toml", fast_emulator, per_second=180, concurrency=1)

    # When 250 messages are out, the emulator holds the next sendMessage for a
    # minute; the sender process is killed while that call is in flight.
    def hang_after_250() -> None:
        while len(fast_emulator.sent) < 250:
            time.sleep(0.005)
        fast_emulator.inject("timeout", method="sendMessage", delay=60)

    watcher = threading.Thread(target=hang_after_250, daemon=True)
    watcher.start()
    process = subprocess.Popen(
        [
            sys.executable, "-c", "from socialinbox.cli.main import main; main()",
            "--database", sqlite_url, "broadcast", "send", str(created.id),
            "--config", str(config), "--no-progress",
        ],
        env={**os.environ, "PTB_TIMEDELTA": "true"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    watcher.join(timeout=60)
    stable_since, last = time.monotonic(), -1
    while time.monotonic() - stable_since < 0.5:
        count = len(fast_emulator.sent)
        if count != last:
            stable_since, last = time.monotonic(), count
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read() if process.stderr else ""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    delivered_before = len(fast_emulator.sent)
    assert 250 <= delivered_before < 500

    rows = {row.status for row in list_deliveries(store.engine, created.id)}
    assert DeliveryStatus.SENDING in rows

    account = telegram_account(fast_emulator, per_second=180)
    report = asyncio.run(Sender(store, [account]).run(created.id))
    assert dict(report.reconciled) == {"unknown": 1}
    assert report.counts["sent"] == 499
    assert report.counts["unknown"] == 1
    counts = sent_counts(fast_emulator)
    assert all(count == 1 for count in counts.values())
    assert len(counts) == 499
    (unknown,) = list_deliveries(store.engine, created.id, status=DeliveryStatus.UNKNOWN)
    assert "--resend-unknown" in (unknown.reason or "")
    assert int(unknown.chat_id) not in counts

    # The operator checked the chat: the held call never completed, so resend it.
    account = telegram_account(fast_emulator, per_second=180)
    report = asyncio.run(Sender(store, [account], resend_unknown=True).run(created.id))
    assert report.status is BroadcastStatus.DONE
    assert report.counts == {"sent": 500}
    assert sent_counts(fast_emulator) == {chat: 1 for chat in chats}


async def test_429_storm_on_one_chat_does_not_delay_others(sqlite_url: str) -> None:
    storm_chat = -1003900000777
    quiet = [20_000 + index for index in range(20)]
    with TelegramEmulator() as emulator:
        emulator.add_chat(storm_chat, type="supergroup", title="Kalabalık grup")
        for chat in quiet:
            emulator.add_chat(chat)
        store = Store.open(sqlite_url)
        now = utc_now()
        seed_telegram(store, quiet, now=now)
        created = create_broadcast(
            store.engine,
            draft(now, Target(kind="channel", platform=Platform.TELEGRAM, chat=str(storm_chat)), Target(kind="dm")),
            now=now,
        )

        # Another client floods the group, so every send of ours there meets a 429.
        stop = threading.Event()

        def flood() -> None:
            with httpx.Client() as client:
                while not stop.is_set():
                    client.post(
                        f"{emulator.bot_base_url}{emulator.token}/sendMessage",
                        data={"chat_id": str(storm_chat), "text": "flood"},
                    )
                    time.sleep(0.1)

        flooder = threading.Thread(target=flood, daemon=True)
        flooder.start()
        await asyncio.sleep(0.3)
        started = time.time()
        account = telegram_account(emulator)
        task = asyncio.create_task(Sender(store, [account]).run(created.id))
        await asyncio.sleep(4.0)
        stop.set()
        report = await task
        flooder.join()
        await account.adapter.close()

        ours = [request for request in emulator.requests if request.params.get("text") != "flood"]
        ours = [request for request in ours if request.method == "sendMessage"]
        quiet_done = [request.at for request in ours if request.status == 200 and request.params["chat_id"] in quiet]
        storm_tries = [request for request in ours if request.params["chat_id"] == storm_chat]
        assert len(quiet_done) == 20
        # 20 private chats at 29 per second take 0.7 s; the per-chat limit is 1 s.
        assert max(quiet_done) - started < 1.0 + 20 / 29
        assert report.rate_limited >= 2
        assert [request.status for request in storm_tries][-1] == 200
        assert sum(1 for request in storm_tries if request.status == 429) == report.rate_limited
        assert report.counts == {"sent": 21}


def test_two_senders_share_ledger_and_limits(database_url: str) -> None:
    chats = [30_000 + index for index in range(60)]
    with TelegramEmulator(limits=FAST) as emulator:
        for chat in chats:
            emulator.add_chat(chat)
        first_store, second_store = Store.open(database_url), Store.open(database_url)
        now = utc_now()
        seed_telegram(first_store, chats, now=now)
        created = create_broadcast(first_store.engine, draft(now), now=now)

        async def both() -> None:
            accounts = [telegram_account(emulator, per_second=40), telegram_account(emulator, per_second=40)]
            await asyncio.gather(
                Sender(first_store, [accounts[0]]).run(created.id),
                Sender(second_store, [accounts[1]]).run(created.id),
            )
            for account in accounts:
                await account.adapter.close()

        started = time.monotonic()
        asyncio.run(both())
        elapsed = time.monotonic() - started

        assert sent_counts(emulator) == {chat: 1 for chat in chats}
        assert get_broadcast(first_store.engine, created.id).status is BroadcastStatus.DONE
        # One shared budget of 40 per second: 60 messages need at least 1.4 s.
        assert elapsed >= 59 / 40
        assert not any(request.status == 429 for request in emulator.requests)
        first_store.close()
        second_store.close()


def test_rate_buckets_shared_between_engines(database_url: str) -> None:
    stores = [Store.open(database_url) for _ in range(3)]
    limiters = [SharedRateLimiter(store.engine) for store in stores]
    bucket = [Bucket("telegram:1", rate=20.0, burst=1.0)]
    granted: list[float] = []
    lock = threading.Lock()
    deadline = time.time() + 1.0

    def work(limiter: SharedRateLimiter) -> None:
        while time.time() < deadline:
            if limiter.try_acquire(bucket) == 0:
                with lock:
                    granted.append(time.time())
            else:
                time.sleep(0.005)

    threads = [threading.Thread(target=work, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # At most the burst plus 20 per second over the second.
    assert 15 <= len(granted) <= 21
    limiters[0].block("telegram:1", 5.0)
    assert limiters[1].try_acquire(bucket) > 4.0
    for store in stores:
        store.close()


async def test_blocked_user_is_skipped_and_recorded(sqlite_url: str) -> None:
    with TelegramEmulator(limits=False) as emulator:
        for chat in (41, 42):
            emulator.add_chat(chat)
        emulator.block(42)
        store = Store.open(sqlite_url)
        now = utc_now()
        seed_telegram(store, [41, 42], now=now)
        created = create_broadcast(store.engine, draft(now), now=now)
        account = telegram_account(emulator)
        report = await Sender(store, [account]).run(created.id)
        await account.adapter.close()
        assert report.counts == {"sent": 1, "skipped": 1}
        (skipped,) = list_deliveries(store.engine, created.id, status=DeliveryStatus.SKIPPED)
        assert skipped.chat_id == "42"
        assert (skipped.reason or "").startswith("blocked_us")
        assert store.contact_status(Platform.TELEGRAM, BOT_ID, "42") is ContactStatus.BLOCKED_US


async def test_cancel_during_send_stops_remaining(sqlite_url: str) -> None:
    from socialinbox.broadcast import cancel_broadcast

    chats = [50_000 + index for index in range(40)]
    with TelegramEmulator() as emulator:
        for chat in chats:
            emulator.add_chat(chat)
        store = Store.open(sqlite_url)
        now = utc_now()
        seed_telegram(store, chats, now=now)
        created = create_broadcast(store.engine, draft(now, expires_at=now + timedelta(hours=1)), now=now)
        account = telegram_account(emulator, per_second=10)
        task = asyncio.create_task(Sender(store, [account]).run(created.id))
        await asyncio.to_thread(emulator.wait_for_sent, 5, 10.0)
        skipped = cancel_broadcast(store.engine, created.id, user="mehmet", now=utc_now())
        report = await task
        await account.adapter.close()
        assert report.status is BroadcastStatus.CANCELLED
        assert skipped >= 30
        assert len(emulator.sent) == report.counts["sent"]
        assert report.counts["sent"] + report.counts["skipped"] == 40
