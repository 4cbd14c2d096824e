"""The daemon applies the moderation rules file to every newly stored message."""

from __future__ import annotations

import asyncio
from pathlib import Path

from socialinbox.config import AccountConfig, DaemonConfig, Settings
from socialinbox.daemon.app import Daemon
from socialinbox.model import ConversationKey, Platform
from socialinbox.store import Store
from socialinbox.testing.telegram import TelegramEmulator

TOKEN = "7300000001:rules-wiring-token"
RULES = """
[settings]
auto_reply_period = "24h"
auto_reply_max_age = "1h"

[[rules]]
name = "para-cekme"
language = "tr"
[rules.match]
keywords = ["çekim", "para çekme"]
[rules.actions]
tag = ["para-cekme"]
auto_reply = "para_cekme_beklemede"
"""


async def _run_until_replied(daemon: Daemon, emulator: TelegramEmulator) -> None:
    running = asyncio.create_task(daemon.run(handle_signals=False))
    for _ in range(200):
        if emulator.sent:
            break
        await asyncio.sleep(0.05)
    daemon.stop()
    await running


def test_rules_tag_and_auto_reply(tmp_path: Path) -> None:
    rules_path = tmp_path / "kurallar.toml"
    rules_path.write_text(RULES, encoding="utf-8")
    database = f"sqlite:///{tmp_path / 'rules.db'}"
    with TelegramEmulator(TOKEN, limits=False) as emulator:
        emulator.add_message(5200000001, "Merhaba, ÇEKİM talebim 3 gündür bekliyor")
        emulator.add_message(5200000002, "Bonus ne zaman yüklenir?")
        settings = Settings(
            database=database,
            rules=rules_path,
            daemon=DaemonConfig(http=False, shutdown_timeout=5),
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
        asyncio.run(_run_until_replied(Daemon(settings), emulator))
        sent = list(emulator.sent)

    with Store.open(database) as store:
        tagged = store.get_conversation(
            ConversationKey(platform=Platform.TELEGRAM, account_id="7300000001", chat_id="5200000001")
        )
        untouched = store.get_conversation(
            ConversationKey(platform=Platform.TELEGRAM, account_id="7300000001", chat_id="5200000002")
        )
        replies = store.list_sends(status="sent")

    assert tagged is not None
    assert tagged.tags == ("para-cekme",)
    assert untouched is not None
    assert untouched.tags == ()
    assert [message.chat_id for message in sent] == [5200000001]
    assert len(replies) == 1
    assert replies[0].conversation.chat_id == "5200000001"
