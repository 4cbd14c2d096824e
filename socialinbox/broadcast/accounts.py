"""Adapters and rate limits of the configured accounts, set up for broadcasting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from socialinbox.adapters.base import Adapter
from socialinbox.broadcast.ratelimit import DEFAULT_LIMITS, RateLimits
from socialinbox.config import AccountConfig, Settings
from socialinbox.errors import ConfigError
from socialinbox.model import Platform
from socialinbox.store import AsyncStore

__all__ = ["SendAccount", "build_send_accounts"]


@dataclass
class SendAccount:
    """One account a broadcast sends through."""

    name: str
    platform: Platform
    adapter: Adapter
    limits: RateLimits

    @property
    def account_id(self) -> str:
        return self.adapter.account_id


def limits_for(config: AccountConfig) -> RateLimits:
    """Return the default limits of the platform with the account's ``options.broadcast`` applied.

    Raises:
        ConfigError: ``options.broadcast`` is not a table or names an unknown setting.
    """
    options = config.options.get("broadcast", {})
    if not isinstance(options, Mapping):
        raise ConfigError(f"account {config.name}: options.broadcast must be a table")
    try:
        return DEFAULT_LIMITS[config.platform].with_options(options)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"account {config.name}: {error}") from error


def build_telegram_adapter(config: AccountConfig) -> Adapter:
    """Build a Telegram adapter that leaves pacing and 429 retries to the broadcast sender.

    The daemon's factory keeps the adapter's own pacer and retries, which
    would hold a sender slot for the whole ``retry_after``; here a 429 is
    raised at once, so the sender can defer only the chat that was throttled.
    """
    from socialinbox.adapters.telegram.adapter import TelegramAdapter

    if config.token is None or not config.token.get_secret_value():
        raise ConfigError(f"account {config.name} (telegram) needs token")
    extra: dict[str, Any] = {}
    if config.base_url:
        base = config.base_url.rstrip("/")
        extra["base_url"] = f"{base}/bot"
        extra["base_file_url"] = f"{base}/file/bot"
    token: SecretStr = config.token
    return TelegramAdapter(
        token,
        account_id=config.account_id,
        parse_mode="HTML",
        pace=False,
        max_attempts=1,
        allowed_updates=None,
        **extra,
    )


def build_send_accounts(settings: Settings, store: AsyncStore) -> list[SendAccount]:
    """Build one :class:`SendAccount` per enabled account in ``settings``.

    Raises:
        ConfigError: an account lacks a credential its platform needs.
    """
    from socialinbox.daemon.factory import build_adapter

    accounts: list[SendAccount] = []
    for config in settings.accounts:
        if not config.enabled:
            continue
        if config.platform is Platform.TELEGRAM:
            adapter = build_telegram_adapter(config)
        else:
            stripped = config.model_copy(
                update={"options": {k: v for k, v in config.options.items() if k != "broadcast"}}
            )
            adapter = build_adapter(stripped, store)
        accounts.append(
            SendAccount(
                name=config.name, platform=config.platform, adapter=adapter, limits=limits_for(config)
            )
        )
    return accounts
