"""The ``broadcast`` commands through click's CliRunner, in English and Turkish."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from socialinbox.cli.main import build_cli
from socialinbox.model import Batch, ContactStatus, Platform, utc_now
from socialinbox.store import Store
from socialinbox.testing.telegram import TelegramEmulator
from tests.broadcast.support import BOT_ID, seed_telegram, status_event


def _create(runner: CliRunner, language: str, database: str, *extra: str) -> dict[str, object]:
    result = runner.invoke(
        build_cli(language),
        [
            "--database", database, "broadcast", "create",
            "--title", "Planlı bakım",
            "--body", "**Planlı bakım** bu gece [ayrıntılar](https://example.com/bakim)",
            "--dm", "telegram",
            "--channel", "@duyurular",
            "--user", "ayse",
            "--format", "json",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.output)
    return document


def test_create_preview_approve_in_turkish(sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    now = utc_now()
    seed_telegram(store, [1, 2, 3], now=now)
    store.ingest(Batch(items=(status_event(Platform.TELEGRAM, BOT_ID, "3", ContactStatus.OPTED_OUT, now),)))
    store.close()
    runner = CliRunner()
    created = _create(runner, "tr", sqlite_url, "--two-person", "--at", "2030-01-15 09:30")
    assert created["status"] == "draft"
    assert created["scheduled_at"] == "2030-01-15T06:30:00+00:00"  # 09:30 in Istanbul is 06:30 UTC

    cli = build_cli("tr")
    preview = runner.invoke(cli, ["--database", sqlite_url, "broadcast", "preview", str(created["id"])])
    assert preview.exit_code == 0, preview.output
    assert "planlanan zaman 2030-01-15 09:30 +03" in preview.output
    assert "<b>Planlı bakım</b>" in preview.output
    assert "telegram 2" in preview.output
    assert "opted_out 1" in preview.output

    refused = runner.invoke(cli, ["--database", sqlite_url, "broadcast", "approve", str(created["id"]), "--user", "ayse"])
    assert refused.exit_code == 2
    assert "another person must approve" in refused.output
    assert "Kullanım için" in refused.output

    approved = runner.invoke(cli, ["--database", sqlite_url, "broadcast", "approve", str(created["id"]), "--user", "mehmet"])
    assert approved.exit_code == 0, approved.output
    assert "mehmet tarafından onaylandı" in approved.output

    listing = runner.invoke(cli, ["--database", sqlite_url, "broadcast", "status"])
    assert "onaylandı" in listing.output


def test_preview_json_numbers_in_english(sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    seed_telegram(store, [1, 2], now=utc_now())
    store.close()
    runner = CliRunner()
    created = _create(runner, "en", sqlite_url)
    assert created["status"] == "approved"
    result = runner.invoke(
        build_cli("en"), ["--database", sqlite_url, "broadcast", "preview", str(created["id"]), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert [target["recipients"] for target in document["targets"]] == [{"telegram": 1}, {"telegram": 2}]
    assert document["errors"] == []


def test_preview_fails_on_x_post_too_long(sqlite_url: str) -> None:
    runner = CliRunner()
    cli = build_cli("en")
    created = runner.invoke(
        cli,
        ["--database", sqlite_url, "broadcast", "create", "--title", "t", "--body", "a" * 300, "--post", "x", "--format", "json"],
    )
    assert created.exit_code == 0, created.output
    broadcast_id = json.loads(created.output)["id"]
    result = runner.invoke(cli, ["--database", sqlite_url, "broadcast", "preview", str(broadcast_id)])
    assert result.exit_code == 1
    assert "weighted length 300" in result.output


def test_create_rejects_bad_input(sqlite_url: str) -> None:
    runner = CliRunner()
    cli = build_cli("en")
    base = ["--database", sqlite_url, "broadcast", "create", "--title", "t", "--body", "b"]
    no_target = runner.invoke(cli, base)
    assert no_target.exit_code == 2
    assert "no target given" in no_target.output
    instagram = runner.invoke(cli, [*base, "--post", "instagram"])
    assert instagram.exit_code == 2
    assert "needs an image" in instagram.output
    human = runner.invoke(cli, [*base, "--dm", "messenger", "--meta-tag", "HUMAN_AGENT"])
    assert human.exit_code == 2
    assert "only for replies written by a person" in human.output
    bad_time = runner.invoke(cli, [*base, "--dm", "all", "--at", "tomorrow"])
    assert bad_time.exit_code == 2
    assert "invalid time 'tomorrow'" in bad_time.output


def test_send_and_report_formats(sqlite_url: str, tmp_path: Path) -> None:
    with TelegramEmulator() as emulator:
        for chat in (1, 2):
            emulator.add_chat(chat)
        emulator.add_chat(-1001500, type="channel", username="duyurular")
        store = Store.open(sqlite_url)
        seed_telegram(store, [1, 2], now=utc_now())
        store.close()
        config = tmp_path / "socialinbox.toml"
        config.write_text(
            f'[[accounts]]\nname = "tg"\nplatform = "telegram"\ntoken = "{emulator.token}"\n'
            f'base_url = "{emulator.base_url}"\n',
            encoding="utf-8",
        )
        runner = CliRunner()
        created = _create(runner, "tr", sqlite_url)
        cli = build_cli("tr")
        sent = runner.invoke(
            cli, ["--database", sqlite_url, "broadcast", "send", str(created["id"]), "--config", str(config), "--no-progress"]
        )
        assert sent.exit_code == 0, sent.output
        assert "Gönderilen 3, başarısız 0, atlanan 0, bilinmeyen 0" in sent.output
        assert sorted(str(message.chat_id) for message in emulator.sent) == ["-1001500", "1", "2"]
        assert all(message.parse_mode == "HTML" for message in emulator.sent)

        again = runner.invoke(
            cli, ["--database", sqlite_url, "broadcast", "send", str(created["id"]), "--config", str(config), "--format", "json"]
        )
        assert again.exit_code == 0, again.output
        assert json.loads(again.output)["counts"] == {"sent": 3}
        assert len(emulator.sent) == 3

        csv_out = runner.invoke(cli, ["--database", sqlite_url, "broadcast", "status", str(created["id"]), "--format", "csv"])
        lines = csv_out.output.strip().splitlines()
        assert lines[0].startswith("id,target,platform,account_id,chat_id,status")
        assert len(lines) == 4
        assert all(",sent," in line for line in lines[1:])

        text = runner.invoke(build_cli("en"), ["--database", sqlite_url, "broadcast", "status", str(created["id"])])
        assert "Sent" in text.output
        assert "done" in text.output


def test_cancel_then_send_sends_nothing(sqlite_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    created = _create(runner, "en", sqlite_url, "--at", (utc_now() + timedelta(hours=1)).isoformat())
    cli = build_cli("en")
    cancelled = runner.invoke(cli, ["--database", sqlite_url, "broadcast", "cancel", str(created["id"]), "--user", "mehmet"])
    assert cancelled.exit_code == 0, cancelled.output
    assert "cancelled" in cancelled.output
    status = runner.invoke(cli, ["--database", sqlite_url, "broadcast", "status", "--format", "json"])
    assert json.loads(status.output)[0]["status"] == "cancelled"
