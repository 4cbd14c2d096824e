"""End to end: demo data in the Telegram emulator, the daemon, then the CLI as a subprocess.

A moderator lists the inbox in Turkish, opens a conversation, replies with a
template, and the emulator receives exactly the template text.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from socialinbox.config import AccountConfig, DaemonConfig, Settings
from socialinbox.daemon.app import Daemon
from socialinbox.demo.loaders import load_script, load_telegram
from socialinbox.moderation.templates import TemplateLibrary
from socialinbox.testing.telegram import TelegramEmulator

TOKEN = "7000000001:DEMO-socialinbox-emulator-token"
AYSE_CHAT = "5104417001"
BURAK_CHAT = "5104417005"


@pytest.fixture
def telegram() -> Iterator[TelegramEmulator]:
    emulator = TelegramEmulator(TOKEN, username="destek_demo_bot", first_name="Destek")
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


def _cli(database: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "SOCIALINBOX_MODERATOR": "elif", "COLUMNS": "160"}
    environment.pop("SOCIALINBOX_CONFIG", None)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from socialinbox.cli import main; main()",
            "--lang",
            "tr",
            "--database",
            database,
            *arguments,
        ],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )


async def test_moderator_replies_with_template(
    telegram: TelegramEmulator, tmp_path: Path, sqlite_url: str
) -> None:
    load_telegram(telegram, load_script())
    account = AccountConfig(
        name="destek-telegram",
        platform="telegram",
        token=TOKEN,
        base_url=telegram.base_url,
        poll_interval=0.2,
        options={"poll_timeout": 0, "album_grace": 0.3},
    )
    settings = Settings(
        database=sqlite_url,
        daemon=DaemonConfig(http=False, shutdown_timeout=5.0),
        accounts=[account],
    )
    await Daemon(settings).run(until_idle=True, handle_signals=False)
    config = tmp_path / "socialinbox.toml"
    config.write_text(
        f'[[accounts]]\nname = "destek-telegram"\nplatform = "telegram"\n'
        f'token = "{TOKEN}"\nbase_url = "{telegram.base_url}"\n',
        encoding="utf-8",
    )
    conversation = f"telegram:7000000001:{AYSE_CHAT}"

    inbox = _cli(sqlite_url, "inbox")
    refused = _cli(
        sqlite_url,
        "reply",
        conversation,
        "--template",
        "para_cekme_beklemede",
        "--config",
        str(config),
    )
    shown = _cli(sqlite_url, "show", conversation)
    replied = _cli(
        sqlite_url,
        "reply",
        conversation,
        "--template",
        "para_cekme_beklemede",
        "--config",
        str(config),
    )
    blocked_show = _cli(sqlite_url, "show", f"telegram:7000000001:{BURAK_CHAT}")
    blocked = _cli(
        sqlite_url, "reply", f"telegram:7000000001:{BURAK_CHAT}", "Merhaba", "--config", str(config)
    )

    assert inbox.returncode == 0, inbox.stderr
    assert "Ayşe Yılmaz" in inbox.stdout
    assert "Durum" in inbox.stdout
    assert refused.returncode == 7
    assert "henüz açmadınız" in refused.stderr
    assert "socialinbox show" in refused.stderr
    assert shown.returncode == 0, shown.stderr
    assert "ÇK-20418" in shown.stdout
    assert "ÇK-20481" in shown.stdout  # the text before the edit
    assert replied.returncode == 0, replied.stderr
    assert "gönderildi" in replied.stdout
    expected = TemplateLibrary().get("para_cekme_beklemede").render("tr", {"first_name": "Ayşe"})
    assert [message.source for message in telegram.sent] == [expected]
    assert blocked_show.returncode == 0
    assert blocked.returncode == 6
    assert "engelledi" in blocked.stderr
    assert len(telegram.sent) == 1


async def test_reply_refused_after_new_message(
    telegram: TelegramEmulator, tmp_path: Path, sqlite_url: str
) -> None:
    load_telegram(telegram, load_script())
    account = AccountConfig(
        name="t",
        platform="telegram",
        token=TOKEN,
        base_url=telegram.base_url,
        poll_interval=0.2,
        options={"poll_timeout": 0, "album_grace": 0.3},
    )
    settings = Settings(database=sqlite_url, daemon=DaemonConfig(http=False), accounts=[account])
    await Daemon(settings).run(until_idle=True, handle_signals=False)
    conversation = f"telegram:7000000001:{AYSE_CHAT}"
    config = tmp_path / "socialinbox.toml"
    config.write_text(
        f'[[accounts]]\nname = "t"\nplatform = "telegram"\ntoken = "{TOKEN}"\nbase_url = "{telegram.base_url}"\n',
        encoding="utf-8",
    )
    assert _cli(sqlite_url, "show", conversation).returncode == 0
    telegram.add_message(
        int(AYSE_CHAT),
        "Bir şey daha: acil!",
        from_user={"id": int(AYSE_CHAT), "is_bot": False, "first_name": "Ayşe"},
    )
    await Daemon(settings).run(until_idle=True, handle_signals=False)

    refused = _cli(sqlite_url, "reply", conversation, "Tamam", "--config", str(config))
    forced = _cli(sqlite_url, "reply", conversation, "Tamam", "--force", "--config", str(config))

    assert refused.returncode == 7
    assert "1 yeni mesaj" in refused.stderr
    assert forced.returncode == 0, forced.stderr
    assert [message.source for message in telegram.sent] == ["Tamam"]
