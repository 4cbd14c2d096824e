"""A full daemon cycle at debug verbosity never writes a configured secret to any log line."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from pathlib import Path

import pytest

from socialinbox.config import AccountConfig, DaemonConfig, Settings, SinkConfig
from socialinbox.crm.webhook import generate_webhook_secret
from socialinbox.daemon.app import Daemon
from socialinbox.testing.chatwoot import ChatwootEmulator
from tests.daemon.support import (
    APP_SECRET,
    BOT_TOKEN,
    CHATWOOT_TOKEN,
    PAGE_TOKEN,
    TELEGRAM_WEBHOOK_SECRET,
    VERIFY_TOKEN,
    X_TOKEN,
    DaemonProcess,
    Emulators,
    WebhookReceiver,
    deliver_until_accepted,
    free_port,
    metric_value,
    write_config,
)


def _settings(
    tmp_path: Path, emulators: Emulators, receiver: WebhookReceiver, chatwoot: ChatwootEmulator,
    port: int,
) -> Settings:
    return Settings(
        database=f"sqlite:///{tmp_path / 'secrets.db'}",
        daemon=DaemonConfig(port=port, delivery_interval=0.05, shutdown_timeout=5),
        accounts=[AccountConfig(**section) for section in emulators.account_sections()],
        sinks=[
            SinkConfig(name="hook", type="webhook", url=receiver.url, secret=receiver.secret),
            SinkConfig(
                name="crm",
                type="chatwoot",
                url=chatwoot.base_url,
                token=CHATWOOT_TOKEN,
                options={"account_id": chatwoot.account_id, "inbox_id": chatwoot.inbox_id},
            ),
        ],
    )


def _forms(secret: str) -> set[str]:
    """A secret and the parts of it a careless log line could carry."""
    forms = {secret}
    if secret.startswith("whsec_"):
        forms.add(secret.removeprefix("whsec_"))
    if ":" in secret:  # a Telegram token: the part after the bot id is the secret part
        forms.add(secret.split(":", 1)[1])
    forms.add(base64.b64encode(secret.encode()).decode())
    return forms


def _leaks(lines: list[str], settings: Settings) -> list[str]:
    secrets = set(settings.secret_values())
    assert {BOT_TOKEN, X_TOKEN, PAGE_TOKEN, APP_SECRET, VERIFY_TOKEN, TELEGRAM_WEBHOOK_SECRET,
            CHATWOOT_TOKEN} <= secrets
    forms = {form for secret in secrets for form in _forms(secret)}
    return [line for line in lines if any(form in line for form in forms)]


def _load(emulators: Emulators) -> list[dict[str, object]]:
    emulators.add_telegram(8)
    emulators.add_x(6)
    return emulators.meta_envelopes(3)


async def test_in_process_cycle_logs_no_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with Emulators() as emulators, WebhookReceiver(generate_webhook_secret()) as receiver, \
            ChatwootEmulator(api_token=CHATWOOT_TOKEN) as chatwoot:
        envelopes = _load(emulators)
        settings = _settings(tmp_path, emulators, receiver, chatwoot, 0)
        daemon = Daemon(settings)
        running = asyncio.create_task(daemon.run(handle_signals=False))
        while daemon.http_port is None:
            assert not running.done()
            await asyncio.sleep(0.02)
        url = f"http://127.0.0.1:{daemon.http_port}/webhooks/meta/fb/"
        for envelope in envelopes:
            await deliver_until_accepted(emulators.meta, envelope, url)
        expected = len(emulators.all_texts)
        for _ in range(400):
            if len({hook.event_key for hook in receiver.snapshot()}) >= expected and len(
                [m for m in chatwoot.messages() if not m.get("private")]
            ) >= expected:
                break
            await asyncio.sleep(0.05)
        daemon.stop()
        assert await running == 0

    assert len({hook.event_key for hook in receiver.snapshot()}) == expected
    lines = [record.getMessage() for record in caplog.records]
    lines += [caplog.text]
    assert any("polling started" in line for line in lines)
    assert any(record.levelno == logging.DEBUG for record in caplog.records)
    # Client libraries logged their request URLs, with the bot token masked.
    assert any("/bot<token>/" in line for line in lines)
    assert _leaks(lines, settings) == []
    assert _leaks([f"planted {receiver.secret.removeprefix('whsec_')}"], settings) != []


def test_daemon_process_stderr_has_no_secret(tmp_path: Path) -> None:
    with Emulators() as emulators, WebhookReceiver(generate_webhook_secret()) as receiver, \
            ChatwootEmulator(api_token=CHATWOOT_TOKEN) as chatwoot:
        envelopes = _load(emulators)
        # Two failed polls make the retry and error paths log too.
        emulators.telegram.inject("server_error", status=502, times=2)
        port = free_port()
        settings = _settings(tmp_path, emulators, receiver, chatwoot, port)
        document = settings.model_dump(mode="json")
        for section in [*settings.accounts, *settings.sinks]:
            index = (settings.accounts if isinstance(section, AccountConfig) else settings.sinks)
            target = document["accounts" if isinstance(section, AccountConfig) else "sinks"][
                index.index(section)  # type: ignore[arg-type]
            ]
            for name in type(section).model_fields:
                value = getattr(section, name)
                if hasattr(value, "get_secret_value"):
                    target[name] = value.get_secret_value()
        for table in document.values():
            if isinstance(table, list):
                for section in table:
                    for name in [key for key, value in section.items() if value is None]:
                        del section[name]
        del document["language"]
        config = write_config(tmp_path / "socialinbox.toml", document)
        log = tmp_path / "daemon.log"

        process = DaemonProcess(config, log, port=port, verbosity=2).start()
        try:
            process.wait_ready()
            url = f"{process.base_url}/webhooks/meta/fb/"
            for envelope in envelopes:
                asyncio.run(deliver_until_accepted(emulators.meta, envelope, url))
            expected = len(emulators.all_texts)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                metrics = process.metrics()
                stored = sum(
                    metric_value(metrics, "socialinbox_messages_ingested_total", account=name) or 0
                    for name in ("tg", "x", "fb")
                )
                pending = [metric_value(metrics, "socialinbox_outbox_pending", sink=sink)
                           for sink in ("hook", "crm")]
                if stored >= expected and pending == [0, 0]:
                    break
                time.sleep(0.1)
            code = process.terminate(timeout=15)
        finally:
            process.ensure_stopped()
        output = process.output()

    assert code == 0, output
    assert stored == expected
    assert len([m for m in chatwoot.messages() if not m.get("private")]) == expected
    lines = output.splitlines()
    assert any(" DEBUG " in line for line in lines), "-vv must log at debug level"
    assert any("HTTP server listening" in line for line in lines)
    assert _leaks(lines, settings) == []
