"""Fixtures for the X tests: a running emulator and adapters pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from socialinbox.adapters.twitter.adapter import TwitterAdapter
from socialinbox.adapters.twitter.transport import TwitterCredentials
from socialinbox.testing.twitter import TwitterEmulator
from tests.twitter.support import CONTACT_ID, GENEROUS_LIMITS, OWN_ID, TOKEN, AdapterFactory


@pytest.fixture
def emulator() -> Iterator[TwitterEmulator]:
    with TwitterEmulator(user_id=OWN_ID) as server:
        server.add_user(CONTACT_ID, username="quillmarsh1", name="Çağrı Işık")
        yield server


@pytest.fixture
async def make_adapter(emulator: TwitterEmulator) -> AsyncIterator[AdapterFactory]:
    created: list[TwitterAdapter] = []

    def make(**kwargs: Any) -> TwitterAdapter:
        options: dict[str, Any] = {
            "account_id": OWN_ID,
            "credentials": TwitterCredentials(bearer_token=TOKEN),
            "base_url": emulator.base_url,
            "rate_limits": GENEROUS_LIMITS,
            "max_wait": 5.0,
            "page_size": 3,
        }
        options.update(kwargs)
        adapter = TwitterAdapter(**options)
        created.append(adapter)
        return adapter

    yield make
    for adapter in created:
        await adapter.close()
