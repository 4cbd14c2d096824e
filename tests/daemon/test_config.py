"""Settings from TOML and the environment, secret references, and `socialinbox accounts check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import socialinbox.cli.daemon  # noqa: F401 - registers the daemon and accounts commands
from socialinbox.cli.main import build_cli
from socialinbox.config import load_settings
from socialinbox.errors import ConfigError
from socialinbox.model import Platform
from socialinbox.testing.telegram import TelegramEmulator
from tests.daemon.support import BOT_TOKEN, write_config


def _base(tmp_path: Path) -> dict[str, object]:
    return {
        "database": f"sqlite:///{tmp_path / 'config.db'}",
        "language": "tr",
        "daemon": {"port": 9100, "shutdown_timeout": 4.5},
        "accounts": [
            {
                "name": "destek-tg",
                "platform": "telegram",
                "token": "env:TEST_TG_TOKEN",
                "webhook_secret": "file:" + str(tmp_path / "hook-secret.txt"),
                "poll_interval": 2.5,
            },
            {"name": "destek-x", "platform": "x", "account_id": "1598800000000000777",
             "token": "literal-x-token"},
        ],
        "sinks": [{"name": "crm", "type": "jsonl", "path": "-", "max_attempts": 3}],
    }


def test_settings_from_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_TG_TOKEN", BOT_TOKEN)
    (tmp_path / "hook-secret.txt").write_text("hook-secret-value\n", encoding="utf-8")
    path = write_config(tmp_path / "socialinbox.toml", _base(tmp_path))

    settings = load_settings(path)

    assert settings.language == "tr"
    assert settings.daemon.port == 9100
    assert settings.daemon.shutdown_timeout == 4.5
    assert [account.name for account in settings.accounts] == ["destek-tg", "destek-x"]
    telegram = settings.accounts[0]
    assert telegram.platform is Platform.TELEGRAM
    assert telegram.poll_interval == 2.5
    assert telegram.token is not None
    assert telegram.token.get_secret_value() == BOT_TOKEN
    assert telegram.webhook_secret is not None
    assert telegram.webhook_secret.get_secret_value() == "hook-secret-value"
    assert BOT_TOKEN not in repr(telegram)
    assert settings.sinks[0].max_attempts == 3
    assert set(settings.secret_values()) == {BOT_TOKEN, "hook-secret-value", "literal-x-token"}


def test_environment_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_TG_TOKEN", BOT_TOKEN)
    (tmp_path / "hook-secret.txt").write_text("s3cret", encoding="utf-8")
    path = write_config(tmp_path / "socialinbox.toml", _base(tmp_path))
    monkeypatch.setenv("SOCIALINBOX_DAEMON__PORT", "9200")
    monkeypatch.setenv("SOCIALINBOX_DAEMON__LOG_FORMAT", "json")
    monkeypatch.setenv("SOCIALINBOX_DATABASE", f"sqlite:///{tmp_path / 'other.db'}")

    settings = load_settings(path)

    assert settings.daemon.port == 9200
    assert settings.daemon.log_format == "json"
    assert settings.daemon.shutdown_timeout == 4.5
    assert settings.database.endswith("other.db")


def test_environment_alone_and_config_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(
        "SOCIALINBOX_ACCOUNTS",
        json.dumps([{"name": "tg", "platform": "telegram", "token": "env:TEST_TG_TOKEN"}]),
    )
    monkeypatch.setenv("TEST_TG_TOKEN", BOT_TOKEN)

    settings = load_settings()

    assert settings.accounts[0].token is not None
    assert settings.accounts[0].token.get_secret_value() == BOT_TOKEN

    monkeypatch.setenv("SOCIALINBOX_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"missing\.toml"):
        load_settings()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"daemon": {"port": 70000}}, "daemon.port"),
        ({"daemon": {"colour": "blue"}}, "daemon.colour"),
        ({"accounts": [{"name": "bad name!", "platform": "telegram"}]}, "accounts.0.name"),
        ({"accounts": [{"name": "tg", "platform": "icq"}]}, "accounts.0.platform"),
        ({"accounts": [{"name": "tg", "platform": "telegram", "poll_interval": 0}]},
         "accounts.0.poll_interval"),
        ({"sinks": [{"name": "crm", "type": "fax"}]}, "sinks.0.type"),
    ],
)
def test_invalid_settings_name_field(
    tmp_path: Path, change: dict[str, object], field: str
) -> None:
    path = write_config(tmp_path / "socialinbox.toml", {"database": "sqlite:///x.db", **change})

    with pytest.raises(ConfigError) as raised:
        load_settings(path)

    assert field in str(raised.value)
    assert str(path) in str(raised.value)


def test_duplicate_account_names_rejected(tmp_path: Path) -> None:
    account = {"name": "tg", "platform": "telegram", "token": "t"}
    path = write_config(tmp_path / "socialinbox.toml", {"accounts": [account, account]})

    with pytest.raises(ConfigError, match="duplicate account name"):
        load_settings(path)


def test_broken_toml_rejected(tmp_path: Path) -> None:
    path = tmp_path / "socialinbox.toml"
    path.write_text("[daemon\nport = 1\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"socialinbox\.toml"):
        load_settings(path)


def test_secret_reference_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_UNSET_TOKEN", raising=False)
    unset = write_config(
        tmp_path / "unset.toml",
        {"accounts": [{"name": "tg", "platform": "telegram", "token": "env:TEST_UNSET_TOKEN"}]},
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(unset)
    assert "accounts.0.token" in str(raised.value)
    assert "TEST_UNSET_TOKEN" in str(raised.value)

    missing = write_config(
        tmp_path / "missing.toml",
        {"sinks": [{"name": "crm", "type": "webhook", "secret": f"file:{tmp_path / 'nope'}"}]},
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(missing)
    assert "sinks.0.secret" in str(raised.value)


def test_accounts_check_reports_each_account(tmp_path: Path) -> None:
    with TelegramEmulator(BOT_TOKEN, limits=False) as emulator:
        emulator.add_message(424201, "Merhaba, hesabım kilitlendi")
        options = {"poll_timeout": 0, "album_grace": 0}
        path = write_config(
            tmp_path / "socialinbox.toml",
            {
                "database": f"sqlite:///{tmp_path / 'check.db'}",
                "accounts": [
                    {"name": "good", "platform": "telegram", "token": BOT_TOKEN,
                     "base_url": emulator.base_url, "options": options},
                    {"name": "wrong", "platform": "telegram",
                     "token": "7100000002:not-the-emulator-token",
                     "base_url": emulator.base_url, "options": options},
                    {"name": "off", "platform": "telegram", "token": BOT_TOKEN, "enabled": False},
                ],
            },
        )
        result = CliRunner().invoke(
            build_cli("en"), ["accounts", "--config", str(path), "check", "--format", "json"]
        )
        pending = emulator.pending_updates

    assert result.exit_code == 1, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["good"]["state"] == "ok"
    assert "1 item(s) waiting" in rows["good"]["detail"]
    assert rows["wrong"]["state"] == "degraded"
    assert "401" in rows["wrong"]["detail"]
    assert rows["off"]["state"] == "disabled"
    # A probe confirms nothing: the update is still waiting on the platform.
    assert len(pending) == 1


def test_accounts_check_all_ok_exits_zero(tmp_path: Path) -> None:
    with TelegramEmulator(BOT_TOKEN, limits=False) as emulator:
        path = write_config(
            tmp_path / "socialinbox.toml",
            {
                "database": f"sqlite:///{tmp_path / 'check.db'}",
                "accounts": [{"name": "good", "platform": "telegram", "token": BOT_TOKEN,
                              "base_url": emulator.base_url, "options": {"poll_timeout": 0}}],
            },
        )
        result = CliRunner().invoke(build_cli("en"), ["accounts", "--config", str(path), "check"])

    assert result.exit_code == 0, result.output
    assert "good" in result.output
    assert BOT_TOKEN not in result.output
