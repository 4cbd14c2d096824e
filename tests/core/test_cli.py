"""The command line: replay, quarantine, inbox and db, in English and Turkish."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from socialinbox.cli.main import EXIT_CONFIG, build_cli, main
from socialinbox.model import Batch
from socialinbox.store import Store
from socialinbox.store.engine import head_revision
from tests.storehelpers import message


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_replay_quarantines_invalid_json_with_reason(
    runner: CliRunner, tmp_path: Path, sqlite_url: str
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"update_id": 1, "message": ')

    result = runner.invoke(
        build_cli("en"), ["--database", sqlite_url, "replay", "--format", "json", str(broken)]
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["files"][0]
    assert report["quarantined"] == 1
    assert report["messages_stored"] == 0
    assert list(report["reasons"]) == ["invalid JSON at line 1 column 29: Expecting value"]


def test_replay_rejects_unknown_shape(runner: CliRunner, tmp_path: Path, sqlite_url: str) -> None:
    odd = tmp_path / "odd.json"
    odd.write_text('{"hello": "world"}')

    result = runner.invoke(
        build_cli("en"), ["--database", sqlite_url, "replay", "--format", "json", str(odd)]
    )

    report = json.loads(result.output)["files"][0]
    assert report["platform"] is None
    assert report["reasons"] == {"unknown payload shape: no platform codec recognised it": 1}


def test_quarantine_list_and_show(runner: CliRunner, tmp_path: Path, sqlite_url: str) -> None:
    broken = tmp_path / "broken.json"
    broken.write_bytes(b"\x80not json")
    runner.invoke(build_cli("en"), ["--database", sqlite_url, "replay", str(broken)])

    listing = runner.invoke(
        build_cli("en"), ["--database", sqlite_url, "quarantine", "list", "--format", "json"]
    )
    entries = json.loads(listing.output)
    shown = runner.invoke(
        build_cli("en"),
        ["--database", sqlite_url, "quarantine", "show", str(entries[0]["id"]), "--format", "json"],
    )

    assert [entry["reason"] for entry in entries] == ["invalid UTF-8 at byte 0"]
    assert json.loads(shown.output)["raw_base64"] == "gG5vdCBqc29u"


def test_quarantine_show_missing_id_names_next_command(runner: CliRunner, sqlite_url: str) -> None:
    Store.open(sqlite_url).close()

    result = runner.invoke(build_cli("tr"), ["--database", sqlite_url, "quarantine", "show", "99"])

    assert result.exit_code == 5
    assert "99 numaralı karantina kaydı yok" in result.output
    assert "socialinbox quarantine list" in result.output


def test_inbox_lists_conversations_as_csv(runner: CliRunner, sqlite_url: str) -> None:
    with Store.open(sqlite_url) as store:
        store.ingest(
            Batch(items=(message("1", chat_id="c1"), message("2", chat_id="c2", minutes=5)))
        )

    result = runner.invoke(build_cli("en"), ["--database", sqlite_url, "inbox", "--format", "csv"])

    lines = result.output.strip().splitlines()
    assert lines[0] == (
        "id,conversation,platform,contact,status,assignee,priority,tags,last_message_at,last_text"
    )
    assert lines[1].startswith("2,telegram:acct:c2,telegram,Kişi c2,open,,0,,")
    assert len(lines) == 3


def test_inbox_empty_message_in_turkish(runner: CliRunner, sqlite_url: str) -> None:
    Store.open(sqlite_url).close()

    result = runner.invoke(build_cli("tr"), ["--database", sqlite_url, "inbox"])

    assert "Henüz konuşma yok" in result.output


def test_help_is_translated(runner: CliRunner) -> None:
    english = runner.invoke(build_cli("en"), ["--help"])
    turkish = runner.invoke(build_cli("tr"), ["--help"])

    assert "Direct messages from X" in english.output
    assert "doğrudan mesajlar" in turkish.output


def test_db_upgrade_reports_revision(runner: CliRunner, sqlite_url: str) -> None:
    first = runner.invoke(build_cli("en"), ["--database", sqlite_url, "db", "upgrade"])
    second = runner.invoke(build_cli("en"), ["--database", sqlite_url, "db", "upgrade"])

    heads = head_revision()
    assert heads is not None
    assert first.output.startswith(f"Database at revision {heads} ")
    assert second.output.startswith(f"Database already at the latest revision {heads}")


def test_invalid_database_url_exits_with_config_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--lang", "tr", "--database", "mysql://127.0.0.1/x", "inbox"])

    assert exit_info.value.code == EXIT_CONFIG
    assert "Geçersiz yapılandırma" in capsys.readouterr().err


def test_missing_database_file_is_an_error(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "socialinbox.db"

    result = runner.invoke(build_cli("en"), ["--database", f"sqlite:///{missing}", "quarantine", "list"])

    assert result.exit_code == 4
    assert "does not exist" in result.output
    assert "socialinbox db upgrade" in result.output
    assert not missing.exists()


def test_settings_file_names_database_and_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "from-settings.db"
    Store.open(f"sqlite:///{database}").close()
    (tmp_path / "socialinbox.toml").write_text(
        f'database = "sqlite:///{database}"\nlanguage = "tr"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOCIALINBOX_DATABASE", raising=False)
    monkeypatch.delenv("SOCIALINBOX_LANG", raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")

    with pytest.raises(SystemExit) as exit_info:
        main(["quarantine", "list"])

    assert exit_info.value.code == 0
    assert "Karantina boş." in capsys.readouterr().out


def test_click_words_follow_the_language(runner: CliRunner) -> None:
    turkish = runner.invoke(build_cli("tr"), ["inbox", "--format", "xml"])
    english = runner.invoke(build_cli("en"), ["inbox", "--format", "xml"])

    assert turkish.exit_code == 2
    assert "Kullanım:" in turkish.output
    assert "için geçersiz değer" in turkish.output
    assert "Usage:" in english.output
    assert "Invalid value for" in english.output
