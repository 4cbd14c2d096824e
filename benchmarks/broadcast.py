"""Benchmark: one announcement to 2,000 Telegram chats, socialinbox against Apprise.

Both senders deliver the same text to the same 2,000 private chats through
one Telegram Bot API emulator that enforces Telegram's flood limits
(30 messages per second overall, 1 per second per chat). Apprise 2.2 sends
sequentially through its ``tgram://`` plugin, with its class-level API URL
pointed at the emulator; it does not retry after a 429 response.

Run: ``.venv/bin/python benchmarks/broadcast.py [--recipients 2000] [--scale 1] [--database URL]``.
``--scale`` speeds the emulator's clock and socialinbox's rate budget up by
the same factor, to shorten the run.

Printed figures: wall time, delivered messages, achieved rate against the
emulator's allowed rate, and the share of requests answered 429.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")

from socialinbox.broadcast import Target, create_broadcast
from socialinbox.broadcast.accounts import SendAccount, build_telegram_adapter
from socialinbox.broadcast.model import Draft
from socialinbox.broadcast.ratelimit import RateLimits
from socialinbox.broadcast.sender import Sender
from socialinbox.config import AccountConfig
from socialinbox.model import (
    Batch,
    Contact,
    Direction,
    Message,
    MessageKey,
    Platform,
    utc_now,
)
from socialinbox.store import Store
from socialinbox.testing.telegram import Limits, TelegramEmulator

TEXT = "Planlı bakım: bu gece 02:00-04:00 arasında hizmetimize erişilemeyecek."
ALLOWED_PER_SECOND = 30


def _summary(name: str, emulator: TelegramEmulator, started: float, ended: float, scale: float) -> dict[str, float]:
    requests = [request for request in emulator.requests if request.method == "sendMessage"]
    delivered = sum(1 for request in requests if request.status == 200)
    limited = sum(1 for request in requests if request.status == 429)
    elapsed = ended - started
    allowed = ALLOWED_PER_SECOND * scale
    figures = {
        "seconds": elapsed,
        "delivered": delivered,
        "requests": len(requests),
        "rate": delivered / elapsed if elapsed else 0.0,
        "rate_ratio": (delivered / elapsed) / allowed if elapsed else 0.0,
        "share_429": limited / len(requests) if requests else 0.0,
    }
    print(
        f"{name:12s} {elapsed:8.1f} s  delivered {delivered:5d}/{len(requests):5d} requests  "
        f"{figures['rate']:6.1f} msg/s = {figures['rate_ratio']:.3f} of allowed {allowed:.0f}/s  "
        f"429: {limited} ({figures['share_429']:.2%})"
    )
    return figures


def run_socialinbox(recipients: int, scale: float, database: str | None) -> dict[str, float]:
    chats = [700_000 + index for index in range(recipients)]
    clock_start = time.monotonic()
    with tempfile.TemporaryDirectory() as folder, TelegramEmulator(
        limits=Limits(), clock=lambda: clock_start + (time.monotonic() - clock_start) * scale
    ) as emulator:
        for chat in chats:
            emulator.add_chat(chat)
        store = Store.open(database or f"sqlite:///{Path(folder) / 'bench.db'}")
        now = utc_now()
        items = tuple(
            Message(
                key=MessageKey(platform=Platform.TELEGRAM, account_id="123456789", chat_id=str(chat), message_id="1"),
                direction=Direction.INBOUND,
                sender=Contact(platform=Platform.TELEGRAM, user_id=str(chat)),
                text="merhaba",
                sent_at=now - timedelta(days=1),
                received_at=now - timedelta(days=1),
            )
            for chat in chats
        )
        store.ingest(Batch(items=items))
        draft = Draft(
            title="bench",
            body=TEXT,
            targets=(Target(kind="dm"),),
            scheduled_at=now,
            expires_at=now + timedelta(hours=1),
            created_by="bench",
        )
        created = create_broadcast(store.engine, draft, now=now)
        config = AccountConfig(name="tg", platform=Platform.TELEGRAM, token=emulator.token, base_url=emulator.base_url)
        account = SendAccount(
            name="tg",
            platform=Platform.TELEGRAM,
            adapter=build_telegram_adapter(config),
            limits=RateLimits(per_second=29.0 * scale, concurrency=8),
        )

        async def send() -> None:
            report = await Sender(store, [account]).run(created.id)
            await account.adapter.close()
            assert report.counts.get("sent") == recipients, report.as_dict()

        started = time.monotonic()
        asyncio.run(send())
        ended = time.monotonic()
        figures = _summary("socialinbox", emulator, started, ended, scale)
        store.close()
        return figures


def run_apprise(recipients: int, scale: float) -> dict[str, float]:
    import apprise
    from apprise.plugins.telegram import NotifyTelegram

    chats = [800_000 + index for index in range(recipients)]
    clock_start = time.monotonic()
    with TelegramEmulator(
        limits=Limits(), clock=lambda: clock_start + (time.monotonic() - clock_start) * scale
    ) as emulator:
        for chat in chats:
            emulator.add_chat(chat)
        NotifyTelegram.notify_url = emulator.bot_base_url
        notifier = apprise.Apprise()
        # One URL per 100 chats keeps the URLs short; Apprise sends them one by one.
        for start in range(0, recipients, 100):
            targets = "/".join(str(chat) for chat in chats[start : start + 100])
            notifier.add(f"tgram://{emulator.token}/{targets}/?format=text&detect=no")
        started = time.monotonic()
        notifier.notify(body=TEXT)
        ended = time.monotonic()
        return _summary("apprise", emulator, started, ended, scale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--scale", type=float, default=1.0, help="emulator clock speed-up factor")
    parser.add_argument(
        "--database", help="an empty database URL for the ledger (default: a temporary SQLite file)"
    )
    arguments = parser.parse_args()
    print(f"{arguments.recipients} Telegram recipients, emulator clock x{arguments.scale:g}")
    ours = run_socialinbox(arguments.recipients, arguments.scale, arguments.database)
    theirs = run_apprise(arguments.recipients, arguments.scale)
    ours_per_delivered = ours["seconds"] / max(ours["delivered"], 1)
    theirs_per_delivered = theirs["seconds"] / max(theirs["delivered"], 1)
    print(
        f"time per delivered message: socialinbox {ours_per_delivered * 1000:.1f} ms, "
        f"apprise {theirs_per_delivered * 1000:.1f} ms; "
        f"factor {theirs_per_delivered / ours_per_delivered:.2f}"
    )


if __name__ == "__main__":
    main()
