"""The ``socialinbox import`` command in English and Turkish."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from socialinbox.cli.main import build_cli
from socialinbox.store import Store


def test_import_json_summary(sqlite_url: str, exports: Path) -> None:
    result = CliRunner().invoke(
        build_cli("en"), ["--database", sqlite_url, "import", "--format", "json", str(exports)]
    )

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["push"] is False
    assert document["total"]["messages_stored"] == 41
    assert document["total"]["outbox"] == 0
    assert [row["platform"] for row in document["files"]] == ["x", "x", "messenger", "telegram"]
    with Store.open(sqlite_url) as store:
        assert store.counts()["outbox"] == 0


def test_import_text_summary_english(sqlite_url: str, exports: Path) -> None:
    runner = CliRunner()
    path = str(exports / "twitter_archive_direct-messages.js")
    runner.invoke(build_cli("en"), ["--database", sqlite_url, "import", path])

    result = runner.invoke(build_cli("en"), ["--database", sqlite_url, "import", path])

    assert result.exit_code == 0, result.output
    assert "Imported 1 files: 0 new messages, 9 already stored, 0 new events." in result.stdout
    assert "Nothing was sent to the CRM sinks; use --push to send the history too." in result.stdout


def test_import_text_summary_turkish_with_push(sqlite_url: str, exports: Path) -> None:
    result = CliRunner().invoke(
        build_cli("tr"),
        [
            "--database",
            sqlite_url,
            "import",
            "--push",
            "--account",
            "shop",
            str(exports / "facebook_message_1_mojibake.json"),
        ],
    )

    assert result.exit_code == 0, result.output
    assert "1 dosya içe aktarıldı: 23 yeni mesaj, 0 zaten kayıtlı, 4 yeni olay." in result.stdout
    assert "27 yeni mesaj ve olay CRM hedefleri için sıraya alındı." in result.stdout
    assert "Toplam" in result.stdout
    with Store.open(sqlite_url) as store:
        assert store.counts()["outbox"] == 27


def test_import_reports_quarantine_in_turkish(sqlite_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "message_1.json"
    broken.write_text('{"participants": [], "messages": [{"sender_name": "A"}]}')

    result = CliRunner().invoke(build_cli("tr"), ["--database", sqlite_url, "import", str(broken)])

    assert result.exit_code == 0, result.output
    assert "1 parça okunamadı ve karantinada." in result.stdout


def test_import_rejects_unknown_file(sqlite_url: str, tmp_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("hello")

    english = CliRunner().invoke(build_cli("en"), ["--database", sqlite_url, "import", str(odd)])
    turkish = CliRunner().invoke(build_cli("tr"), ["--database", sqlite_url, "import", str(odd)])

    assert english.exit_code == 2
    assert "is not a known export file" in english.stderr
    assert "Run `socialinbox --help` for usage." in english.stderr
    assert turkish.exit_code == 2
    assert "Kullanım için `socialinbox --help` çalıştırın." in turkish.stderr


def test_import_help_in_both_languages() -> None:
    english = CliRunner().invoke(build_cli("en"), ["import", "--help"])
    turkish = CliRunner().invoke(build_cli("tr"), ["import", "--help"])

    assert "Import message history from platform data exports" in english.output
    assert "--push" in english.output
    assert "Platformların veri dışa aktarımlarından mesaj geçmişini içe aktar" in turkish.output
