"""Build adapters and sinks from configuration sections."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import SecretStr

from socialinbox.adapters.base import Adapter
from socialinbox.config import AccountConfig, SinkConfig
from socialinbox.crm.base import Sink
from socialinbox.errors import ConfigError
from socialinbox.model import ConversationKey, Platform
from socialinbox.store import AsyncStore

__all__ = ["build_adapter", "build_sink"]


def _required(config: AccountConfig, field: str) -> SecretStr:
    value = getattr(config, field)
    if value is None or not value.get_secret_value():
        raise ConfigError(f"account {config.name} ({config.platform.value}) needs {field}")
    assert isinstance(value, SecretStr)
    return value


def build_adapter(config: AccountConfig, store: AsyncStore) -> Adapter:
    """Create the adapter for one configured account.

    Raises:
        ConfigError: a credential the platform needs is missing.
    """
    options = dict(config.options)
    if config.platform is Platform.TELEGRAM:
        from socialinbox.adapters.telegram.adapter import TelegramAdapter

        telegram_options: dict[str, Any] = {}
        if config.base_url:
            base = config.base_url.rstrip("/")
            # Accept the Bot API base with or without the /bot suffix PTB uses.
            base = base.removesuffix("/bot")
            telegram_options["base_url"] = f"{base}/bot"
            telegram_options["base_file_url"] = f"{base}/file/bot"
        for name in (
            "poll_timeout",
            "limit",
            "parse_mode",
            "album_grace",
            "pace",
            "own_user_ids",
            "max_retry_after",
            "max_attempts",
            "timeout",
        ):
            if name in options:
                telegram_options[name] = options.pop(name)
        return TelegramAdapter(
            _required(config, "token"),
            account_id=config.account_id,
            options=options,
            **telegram_options,
        )

    if config.platform is Platform.X:
        from socialinbox.adapters.twitter.adapter import TwitterAdapter
        from socialinbox.adapters.twitter.transport import TwitterCredentials

        if not config.account_id:
            raise ConfigError(f"account {config.name} (x) needs account_id, our X user id")
        credentials = TwitterCredentials(
            consumer_key=config.consumer_key,
            consumer_secret=config.consumer_secret,
            access_token=config.access_token,
            access_token_secret=config.access_token_secret,
            bearer_token=config.token,
        )
        x_options: dict[str, Any] = {}
        if config.base_url:
            x_options["base_url"] = config.base_url
        for name in ("page_size", "max_pages", "max_wait", "max_attempts", "timeout"):
            if name in options:
                x_options[name] = options.pop(name)
        if "rate_limits" in options:
            x_options["rate_limits"] = _x_rate_limits(config, options.pop("rate_limits"))
        return TwitterAdapter(account_id=config.account_id, credentials=credentials, **x_options)

    from socialinbox.adapters.meta.adapter import InstagramAdapter, MessengerAdapter

    if not config.account_id:
        raise ConfigError(
            f"account {config.name} ({config.platform.value}) needs account_id, the page or Instagram account id"
        )

    async def last_inbound(conversation: ConversationKey) -> datetime | None:
        found = await store.get_conversation(conversation)
        return found.last_inbound_at if found is not None else None

    meta_options: dict[str, Any] = {}
    if config.base_url:
        meta_options["base_url"] = config.base_url
    for name in ("version", "page_size", "message_page_size", "max_message_pages"):
        if name in options:
            meta_options[name] = options.pop(name)
    adapter_class = MessengerAdapter if config.platform is Platform.MESSENGER else InstagramAdapter
    # An Instagram account is reached through its linked Page: options.page_id.
    page_id = str(options.pop("page_id", config.account_id))
    return adapter_class(
        page_id=page_id,
        account_id=config.account_id,
        access_token=_required(config, "token"),
        app_secret=config.app_secret,
        last_inbound=last_inbound,
        **meta_options,
    )


def _x_rate_limits(config: AccountConfig, value: Any) -> dict[str, tuple[Any, ...]]:
    """Convert ``{"dm_events": [[requests, window_seconds], ...]}`` into endpoint limits.

    The X adapter's default limits are the strictest tier's; an account on a
    higher tier states its own here, and endpoints it leaves out keep the defaults.
    """
    from socialinbox.adapters.twitter.transport import DEFAULT_RATE_LIMITS, EndpointLimit

    problem = (
        f"account {config.name} (x): options.rate_limits must map an endpoint "
        "(dm_events, dm_send, post_create) to a list of [requests, window_seconds] pairs"
    )
    if not isinstance(value, dict):
        raise ConfigError(problem)
    limits: dict[str, tuple[Any, ...]] = dict(DEFAULT_RATE_LIMITS)
    for endpoint, pairs in value.items():
        try:
            limits[str(endpoint)] = tuple(
                EndpointLimit(int(requests), timedelta(seconds=float(window)))
                for requests, window in pairs
            )
        except (TypeError, ValueError) as error:
            raise ConfigError(problem) from error
    return limits


def build_sink(config: SinkConfig) -> Sink:
    """Create the sink for one configured sink section.

    Raises:
        ConfigError: a setting the sink type needs is missing.
    """
    if config.type == "jsonl":
        from socialinbox.crm.jsonl import JsonlSink

        return JsonlSink(config.path or "-", name=config.name)
    if config.type == "webhook":
        from socialinbox.crm.webhook import WebhookSink

        if not config.url or config.secret is None:
            raise ConfigError(f"sink {config.name} (webhook) needs url and secret")
        return WebhookSink(config.url, secret=config.secret, name=config.name, **config.options)
    from socialinbox.crm.chatwoot import ChatwootSink

    if not config.url or config.token is None:
        raise ConfigError(f"sink {config.name} (chatwoot) needs url and token")
    options = dict(config.options)
    try:
        account_id = int(options.pop("account_id"))
        inbox_id = int(options.pop("inbox_id"))
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(
            f"sink {config.name} (chatwoot) needs options.account_id and options.inbox_id as numbers"
        ) from error
    return ChatwootSink(
        config.url,
        account_id=account_id,
        inbox_id=inbox_id,
        api_token=config.token,
        name=config.name,
        **options,
    )
