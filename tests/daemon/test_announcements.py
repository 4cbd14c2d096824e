"""The daemon sends approved announcements once their scheduled time has come."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from socialinbox.broadcast import ledger
from socialinbox.broadcast.model import BroadcastStatus
from socialinbox.cli.main import build_cli
from socialinbox.config import AccountConfig, DaemonConfig, Settings
from socialinbox.daemon.app import Daemon
from socialinbox.model import Platform
from socialinbox.store import Store
from socialinbox.testing.telegram import TelegramEmulator

TOKEN = "7400000001:announcement-token"
CHATS = (5300000001, 5300000002, 5300000003)


def _settings(database: str, emulator: TelegramEmulator) -> Settings:
    return Settings(
        database=database,
        daemon=DaemonConfig(http=False, shutdown_timeout=5, announcement_interval=0.2),
        accounts=[
            AccountConfig(
                name="tg",
                platform=Platform.TELEGRAM,
                token=TOKEN,
                base_url=emulator.base_url,
                poll_interval=0.1,
                options={"poll_timeout": 0, "album_grace": 0},
            )
        ],
    )


async def _run_until(daemon: Daemon, done: Callable[[Daemon], bool]) -> None:
    running = asyncio.create_task(daemon.run(handle_signals=False))
    for _ in range(300):
        if done(daemon):
            break
        await asyncio.sleep(0.05)
    daemon.stop()
    await running


def test_due_announcement_reaches_each_contact_once(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'announce.db'}"
    with TelegramEmulator(TOKEN, limits=False) as emulator:
        for chat in CHATS:
            emulator.add_message(chat, "Merhaba")
        settings = _settings(database, emulator)

        # First run: ingest the contacts who wrote to the bot.
        asyncio.run(
            _run_until(
                Daemon(settings),
                lambda daemon: bool(daemon.runners)
                and all(runner.polls >= 2 for runner in daemon.runners.values()),
            )
        )
        created = CliRunner().invoke(
            build_cli("en"),
            [
                "--database",
                database,
                "broadcast",
                "create",
                "--title",
                "Bakım",
                "--body",
                "Yarın 02:00-04:00 arası planlı bakım yapılacaktır.",
                "--dm",
                "telegram",
                "--user",
                "iletisim",
            ],
        )
        assert created.exit_code == 0, created.output

        # Second run: the daemon finds the approved, due announcement and sends it.
        asyncio.run(_run_until(Daemon(settings), lambda _daemon: len(emulator.sent) >= len(CHATS)))
        sent = list(emulator.sent)

    with Store.open(database) as store:
        (broadcast,) = ledger.list_broadcasts(store.engine)

    assert sorted(message.chat_id for message in sent) == sorted(CHATS)
    assert all("planlı bakım" in (message.text or "") for message in sent)
    assert broadcast.status is BroadcastStatus.DONE
