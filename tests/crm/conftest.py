"""Fixtures of the CRM sink tests: stores, the webhook receiver and the Chatwoot emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from socialinbox.crm.webhook import generate_webhook_secret
from socialinbox.store import Store
from socialinbox.testing._server import BackgroundServer
from socialinbox.testing.chatwoot import ChatwootEmulator
from tests.crm.support import WebhookReceiver


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A fresh store on SQLite and, when configured, on PostgreSQL."""
    opened = Store.open(database_url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    opened = Store.open(sqlite_url)
    yield opened
    opened.close()


@pytest.fixture
def webhook_secret() -> str:
    return generate_webhook_secret()


@pytest.fixture
def receiver(webhook_secret: str) -> Iterator[tuple[WebhookReceiver, str]]:
    """A webhook receiver on 127.0.0.1 and its URL."""
    app = WebhookReceiver(webhook_secret)
    with BackgroundServer(app.app, name="webhook-receiver") as server:
        yield app, f"{server.base_url}/hook"


@pytest.fixture
def chatwoot() -> Iterator[ChatwootEmulator]:
    with ChatwootEmulator() as emulator:
        yield emulator
