"""`socialinbox demo`: the sample conversations end up in the inbox once, and in Chatwoot too."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

import socialinbox.cli.demo  # noqa: F401 - registers the demo command
from socialinbox.cli.main import build_cli
from socialinbox.demo import run_demo
from socialinbox.model import AttachmentType, Platform
from socialinbox.store import Store

PLATFORMS = (Platform.TELEGRAM, Platform.X, Platform.MESSENGER, Platform.INSTAGRAM)


async def test_run_demo_is_complete() -> None:
    result = await run_demo(drain_timeout=60.0)

    assert result.complete
    assert result.drained
    assert result.skipped_loads == []
    by_platform = {summary.platform: summary for summary in result.platforms}
    assert set(by_platform) == set(PLATFORMS)
    for platform in PLATFORMS:
        summary = by_platform[platform]
        # Each sample message exactly once: not fewer, and no duplicate delivery stored twice.
        assert summary.expected > 0, platform
        assert summary.stored == summary.expected, platform
        assert summary.quarantined == 0, platform
    assert by_platform[Platform.TELEGRAM].duplicates >= 1
    assert result.chatwoot_messages == result.stored_total
    assert result.chatwoot_conversations == len(result.conversations)
    assert result.chatwoot_notes > 0

    with Store.open(result.database_url) as store:
        messages = store.list_messages()
    keys = Counter(message.key for message in messages)
    assert max(keys.values()) == 1
    assert len(messages) == result.stored_total
    lines = result.jsonl_path.read_text(encoding="utf-8").splitlines()
    created = {
        document["data"]["event_key"]
        for document in map(json.loads, lines)
        if document["type"] == "message.created"
    }
    assert len(created) == result.stored_total
    shutil.rmtree(result.folder)


def test_demo_command_english(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(
        build_cli("en"), ["--lang", "en", "--database", database, "demo", "--timeout", "60"]
    )

    assert result.exit_code == 0, result.output
    assert "OK: every sample message is stored once" in result.output
    assert "Chatwoot emulator:" in result.output
    assert "Burak Şahin" in result.output


def test_demo_command_turkish_with_load(tmp_path: Path, corpus: Path) -> None:
    folder = tmp_path / "telegram"
    folder.mkdir()
    recorded = folder / "message_sticker_is_animated_integer.json"
    shutil.copy(corpus / "telegram" / "message_sticker_is_animated_integer.json", recorded)
    database = f"sqlite:///{tmp_path / 'demo.db'}"

    result = CliRunner().invoke(
        build_cli("tr"),
        ["--lang", "tr", "--database", database, "demo", "--timeout", "60",
         "--load", str(recorded)],
    )

    assert result.exit_code == 0, result.output
    assert "Tamam: her örnek mesaj bir kez kaydedildi" in result.output
    with Store.open(database) as store:
        telegram = store.list_messages(platform=Platform.TELEGRAM)
    loaded = [message for message in telegram if message.key.chat_id == "23"]
    assert len(loaded) == 1
    assert loaded[0].key.message_id == "1"
    assert [item.type for item in loaded[0].attachments] == [AttachmentType.STICKER]
    assert len({message.key for message in telegram}) == len(telegram)
