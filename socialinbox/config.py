"""Settings: a TOML file plus environment variables, secrets as ``SecretStr``.

Sources, later ones winning: built-in defaults, the TOML file
(``--config``, else ``SOCIALINBOX_CONFIG``, else ``./socialinbox.toml`` when it
exists), then environment variables with the ``SOCIALINBOX_`` prefix and
``__`` between nested names (``SOCIALINBOX_DAEMON__PORT=9000``).

Any secret value may be a reference instead of the secret itself:
``env:NAME`` reads environment variable ``NAME`` and ``file:/path`` reads a
file (trailing newlines stripped), so the TOML file can be committed without
credentials.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from socialinbox.errors import ConfigError
from socialinbox.model import Platform
from socialinbox.store.engine import DEFAULT_DATABASE_URL

__all__ = [
    "AccountConfig",
    "DaemonConfig",
    "Settings",
    "SinkConfig",
    "find_config_file",
    "load_settings",
    "resolve_secret",
]


def resolve_secret(value: Any) -> Any:
    """Replace an ``env:NAME`` or ``file:/path`` reference by the secret it points to."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        return value
    if value.startswith("env:"):
        name = value[len("env:") :]
        if name not in os.environ:
            raise ValueError(f"environment variable {name} named by a secret reference is not set")
        return os.environ[name]
    if value.startswith("file:"):
        path = Path(value[len("file:") :]).expanduser()
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise ValueError(f"secret file {path} cannot be read: {error.strerror}") from error
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountConfig(_Section):
    """One account (bot, page or handle) the daemon polls and sends through."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    """Short unique name used in logs, metrics and the CLI."""
    platform: Platform
    account_id: str | None = None
    """Platform id of the account; Telegram learns it from ``getMe`` when omitted."""
    enabled: bool = True
    token: SecretStr | None = None
    """Bot token (Telegram), page or Instagram access token (Graph), or OAuth 2.0 user token (X)."""
    app_secret: SecretStr | None = None
    """Meta app secret: verifies webhook signatures and signs ``appsecret_proof``."""
    verify_token: SecretStr | None = None
    """Meta webhook verification token for the ``hub.challenge`` handshake."""
    webhook_secret: SecretStr | None = None
    """Telegram webhook ``secret_token``."""
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    base_url: str | None = None
    """API base URL; the platform's production host when omitted."""
    poll_interval: float = Field(default=10.0, gt=0)
    """Seconds between polls when the platform reported nothing more."""
    jitter: float = Field(default=0.1, ge=0, le=1)
    """Random spread added to each poll interval, as a fraction of it."""
    max_backoff: float = Field(default=300.0, gt=0)
    """Longest wait in seconds between retries after errors."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Platform-specific codec and adapter options."""

    @field_validator(
        "token",
        "app_secret",
        "verify_token",
        "webhook_secret",
        "consumer_key",
        "consumer_secret",
        "access_token",
        "access_token_secret",
        mode="before",
    )
    @classmethod
    def _resolve(cls, value: Any) -> Any:
        return resolve_secret(value)


class SinkConfig(_Section):
    """One CRM sink the outbox is delivered to."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    type: Literal["webhook", "chatwoot", "jsonl"]
    url: str | None = None
    path: str | None = None
    """File for the ``jsonl`` sink; ``-`` is standard output."""
    secret: SecretStr | None = None
    """Signing secret (``webhook``) in the ``whsec_`` form."""
    token: SecretStr | None = None
    """API access token (``chatwoot``)."""
    max_attempts: int = Field(default=8, ge=1)
    """Failed deliveries before an event is moved to the dead-letter list."""
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("secret", "token", mode="before")
    @classmethod
    def _resolve(cls, value: Any) -> Any:
        return resolve_secret(value)


class DaemonConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535)
    """Port of the webhook, health and metrics server; 0 picks a free one."""
    http: bool = True
    """Whether to run the HTTP server at all."""
    log_format: Literal["text", "json"] = "text"
    shutdown_timeout: float = Field(default=10.0, gt=0)
    """Seconds to finish in-flight work after SIGTERM before exiting anyway."""
    stall_after: float = Field(default=600.0, gt=0)
    """Seconds without a successful poll after which an account counts as stalled."""
    delivery_interval: float = Field(default=1.0, gt=0)
    """Seconds between outbox delivery rounds when nothing is due."""
    announcements: bool = True
    """Send approved announcements once their scheduled time has come."""
    announcement_interval: float = Field(default=30.0, gt=0)
    """Seconds between checks for announcements that fell due."""


class Settings(BaseSettings):
    """Everything the daemon and the CLI read from configuration."""

    model_config = SettingsConfigDict(
        env_prefix="SOCIALINBOX_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    database: str = DEFAULT_DATABASE_URL
    language: Literal["en", "tr"] | None = None
    rules: Path | None = None
    """Moderation rules file (TOML or YAML) applied to every newly stored message."""
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    accounts: list[AccountConfig] = Field(default_factory=list)
    sinks: list[SinkConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        for kind, names in (
            ("account", [account.name for account in self.accounts]),
            ("sink", [sink.name for sink in self.sinks]),
        ):
            duplicates = sorted({name for name in names if names.count(name) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind} name(s): {', '.join(duplicates)}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = _TOML_PATH.get("path")
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    def secret_values(self) -> list[str]:
        """Return every configured secret, for redaction checks."""
        values = []
        for section in [*self.accounts, *self.sinks]:
            for name in type(section).model_fields:
                value = getattr(section, name)
                if isinstance(value, SecretStr) and value.get_secret_value():
                    values.append(value.get_secret_value())
        return values


# pydantic-settings builds sources from the class, so the chosen file path is
# passed through this holder while one load runs.
_TOML_PATH: dict[str, Path | None] = {"path": None}


def find_config_file(explicit: str | Path | None = None) -> Path | None:
    """Return the configuration file to read, or ``None`` when there is none."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"configuration file {path} not found")
        return path
    from_environment = os.environ.get("SOCIALINBOX_CONFIG")
    if from_environment:
        path = Path(from_environment)
        if not path.is_file():
            raise ConfigError(f"configuration file {path} (from SOCIALINBOX_CONFIG) not found")
        return path
    default = Path("socialinbox.toml")
    return default if default.is_file() else None


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Load settings from the TOML file, the environment and ``overrides``.

    Raises:
        ConfigError: the file is missing or invalid; the message names the field.
    """
    from pydantic import ValidationError

    chosen = find_config_file(path)
    _TOML_PATH["path"] = chosen
    try:
        return Settings(**overrides)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors(include_url=False, include_input=False)
        )
        source = f" in {chosen}" if chosen else ""
        raise ConfigError(f"invalid settings{source}: {problems}") from error
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read settings{' from ' + str(chosen) if chosen else ''}: {error}") from error
    finally:
        _TOML_PATH["path"] = None
