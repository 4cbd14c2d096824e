"""Fixtures for the Telegram tests: a running Bot API emulator and adapters pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from socialinbox.adapters.telegram.adapter import TelegramAdapter
from socialinbox.testing.telegram import TelegramEmulator

BOT_ID = 123456789
TOKEN = f"{BOT_ID}:TEST-socialinbox-emulator-token"
PERSON = 424242
"""A private chat (and its user) the emulator knows."""
GROUP = -1003900000001
"""A supergroup the emulator knows."""

AdapterFactory = Callable[..., TelegramAdapter]


@pytest.fixture
def emulator() -> Iterator[TelegramEmulator]:
    """An emulator with flood limits off; tests of the limits build their own."""
    with TelegramEmulator(TOKEN, limits=False) as server:
        server.add_chat(PERSON, first_name="Çağla", last_name="Işıkoğlu", username="cagla_i")
        server.add_chat(GROUP, type="supergroup", title="Destek Grubu")
        yield server


@pytest.fixture
async def make_adapter(emulator: TelegramEmulator) -> AsyncIterator[AdapterFactory]:
    created: list[TelegramAdapter] = []

    def make(server: TelegramEmulator | None = None, **kwargs: Any) -> TelegramAdapter:
        target = server or emulator
        token = kwargs.pop("token", target.token)
        options: dict[str, Any] = {
            "base_url": target.bot_base_url,
            "base_file_url": target.file_base_url,
            "poll_timeout": 0,
            "pace": False,
            "album_grace": 0,
            "max_retry_after": 3,
        }
        options.update(kwargs)
        adapter = TelegramAdapter(token, **options)
        created.append(adapter)
        return adapter

    yield make
    for adapter in created:
        await adapter.close()
