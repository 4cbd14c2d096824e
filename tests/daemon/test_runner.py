"""The daemon in-process against emulators: polling, cursors, backoff, health, metrics, webhooks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from socialinbox.config import AccountConfig, DaemonConfig, Settings, SinkConfig
from socialinbox.daemon.app import Daemon
from socialinbox.model import Platform
from socialinbox.store import Store
from socialinbox.testing.meta import MetaEmulator
from tests.daemon.support import (
    APP_SECRET,
    BOT_ID,
    PAGE_ID,
    TELEGRAM_WEBHOOK_SECRET,
    X_ACCOUNT,
    Emulators,
    metric_value,
    until,
)


def _settings(
    emulators: Emulators, database: str, tmp_path: Path, *, http: bool = True, **telegram: Any
) -> Settings:
    accounts = [AccountConfig(**section) for section in emulators.account_sections()]
    accounts[0] = accounts[0].model_copy(
        update={"options": {**accounts[0].options, **telegram}}
    )
    return Settings(
        database=database,
        daemon=DaemonConfig(port=0, http=http, delivery_interval=0.05, shutdown_timeout=5),
        accounts=accounts,
        sinks=[SinkConfig(name="lines", type="jsonl", path=str(tmp_path / "events.jsonl"))],
    )


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Daemon]:
    daemon = Daemon(settings)
    task = asyncio.create_task(daemon.run(handle_signals=False))
    try:
        if settings.daemon.http:
            await until(lambda: daemon.http_port is not None or task.done())
        else:
            await until(lambda: bool(daemon.runners) or task.done())
        assert not task.done(), task.exception()
        yield daemon
    finally:
        daemon.stop()
        assert await task == 0


async def test_daemon_ingests_and_stores_cursors(database_url: str, tmp_path: Path) -> None:
    with Emulators() as emulators:
        emulators.add_telegram(45)
        emulators.add_x(30)
        settings = _settings(emulators, database_url, tmp_path, http=False)
        async with running(settings) as daemon:
            store = daemon.store
            assert store is not None
            await until(lambda: daemon.runners["tg"].polls >= 3 and daemon.runners["tg"].idle)
            await until(lambda: daemon.runners["x"].polls >= 2 and daemon.runners["x"].idle)
            emulators.add_telegram(5)
            emulators.add_x(5)
            await until(lambda: not emulators.telegram.pending_updates)
            polls = daemon.runners["x"].polls
            await until(lambda: daemon.runners["x"].polls >= polls + 2)
        newest_x = max(int(event["id"]) for event in emulators.twitter.events)

    with Store.open(database_url) as store:
        telegram = store.list_messages(platform=Platform.TELEGRAM)
        x = store.list_messages(platform=Platform.X)
        telegram_cursor = store.get_cursor(Platform.TELEGRAM, BOT_ID, "updates")
        x_cursor = store.get_cursor(Platform.X, X_ACCOUNT, "dm_events")
    assert sorted(message.text or "" for message in telegram) == sorted(
        emulators.texts[Platform.TELEGRAM]
    )
    assert sorted(message.text or "" for message in x) == sorted(emulators.texts[Platform.X])
    assert telegram_cursor is not None
    assert x_cursor == str(newest_x)


async def test_backoff_honours_retry_after(tmp_path: Path) -> None:
    with Emulators() as emulators:
        emulators.add_telegram(3)
        # max_retry_after 0 hands every 429 to the daemon's own backoff.
        settings = _settings(
            emulators, f"sqlite:///{tmp_path / 'r.db'}", tmp_path, http=False, max_retry_after=0
        )
        # The emulator matches fault methods case-sensitively, and the client sends "getupdates".
        emulators.telegram.inject("rate_limit", method="getupdates", retry_after=2)
        async with running(settings) as daemon:
            runner = daemon.runners["tg"]
            await until(lambda: runner.health.state.value == "rate_limited")
            assert runner.health.retry_after is not None
            assert runner.health.retry_after.total_seconds() == 2
            await until(lambda: runner.polls >= 2 and runner.health.state.value == "ok")
            limited = daemon.metrics.registry.get_sample_value(
                "socialinbox_rate_limited_total", {"account": "tg", "platform": "telegram"}
            )
        requests = [r for r in emulators.telegram.requests if r.method.lower() == "getupdates"]

    statuses = [request.status for request in requests]
    assert statuses[0] == 429
    assert 200 in statuses[1:]
    gap = requests[1].at - requests[0].at
    assert gap >= 2.0, f"the next getUpdates came {gap:.3f} s after a 429 asking for 2 s"
    assert limited == 1


async def test_adapter_retry_after_inside_one_poll(tmp_path: Path) -> None:
    with Emulators() as emulators:
        emulators.add_telegram(2)
        settings = _settings(emulators, f"sqlite:///{tmp_path / 'r.db'}", tmp_path, http=False)
        emulators.telegram.inject("rate_limit", method="getupdates", retry_after=1)
        async with running(settings) as daemon:
            await until(lambda: daemon.runners["tg"].polls >= 2)
        requests = [r for r in emulators.telegram.requests if r.method.lower() == "getupdates"]

    assert requests[0].status == 429
    assert requests[1].at - requests[0].at >= 1.0


async def test_healthz_and_metrics(tmp_path: Path) -> None:
    with Emulators() as emulators:
        emulators.add_telegram(7)
        emulators.add_x(4)
        settings = _settings(emulators, f"sqlite:///{tmp_path / 'm.db'}", tmp_path)
        async with running(settings) as daemon, httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{daemon.http_port}"
        ) as client:
            await until(lambda: all(r.polls >= 2 and r.idle for r in daemon.runners.values()))
            worker = daemon.worker
            assert worker is not None
            await worker.drain()
            health = (await client.get("/healthz")).json()
            response = await client.get("/metrics")

    assert health["status"] == "ok"
    assert set(health["accounts"]) == {"tg", "x", "fb"}
    for account in health["accounts"].values():
        assert account["state"] == "ok"
        assert account["last_success_at"] is not None
        assert account["consecutive_failures"] == 0
    assert response.status_code == 200
    metrics = response.text
    ingested = "socialinbox_messages_ingested_total"
    assert metric_value(metrics, ingested, account="tg", platform="telegram") == 7
    assert metric_value(metrics, ingested, account="x", platform="x") == 4
    assert metric_value(metrics, "socialinbox_outbox_pending", sink="lines") == 0
    assert metric_value(metrics, "socialinbox_dead_letters", sink="lines") == 0
    assert metric_value(
        metrics, "socialinbox_account_health", account="x", platform="x", state="ok"
    ) == 1
    assert metric_value(metrics, "socialinbox_ingest_lag_seconds", account="tg") is not None


async def test_outbox_gauges_count_pending(tmp_path: Path) -> None:
    with Emulators() as emulators:
        emulators.add_telegram(4)
        settings = _settings(emulators, f"sqlite:///{tmp_path / 'g.db'}", tmp_path)
        # A webhook sink whose receiver does not exist keeps every event pending.
        settings.sinks.append(
            SinkConfig(
                name="down",
                type="webhook",
                url="http://127.0.0.1:9/hook",
                secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==",
            )
        )
        async with running(settings) as daemon, httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{daemon.http_port}"
        ) as client:
            await until(lambda: daemon.runners["tg"].polls >= 2 and daemon.runners["tg"].idle)
            metrics = (await client.get("/metrics")).text

    assert metric_value(metrics, "socialinbox_outbox_pending", sink="down") == 4
    assert metric_value(metrics, "socialinbox_dead_letters", sink="down") == 0


def _telegram_update(update_id: int, text: str) -> dict[str, Any]:
    user = {"id": 555001, "is_bot": False, "first_name": "Zeynep"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1767000000,
            "chat": {"id": 555001, "type": "private", "first_name": "Zeynep"},
            "from": user,
            "text": text,
        },
    }


async def test_telegram_webhook_secret_token(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'w.db'}"
    with Emulators() as emulators:
        settings = _settings(emulators, database, tmp_path)
        async with running(settings) as daemon, httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{daemon.http_port}"
        ) as client:
            url = "/webhooks/telegram/tg"
            header = "X-Telegram-Bot-Api-Secret-Token"
            right = await client.post(
                url,
                json=_telegram_update(9001, "webhook ile gelen mesaj"),
                headers={header: TELEGRAM_WEBHOOK_SECRET},
            )
            wrong = await client.post(
                url, json=_telegram_update(9002, "sahte mesaj"), headers={header: "guess"}
            )
            missing = await client.post(url, json=_telegram_update(9003, "başlıksız mesaj"))
            broken = await client.post(
                url, content=b'{"update_id": ', headers={header: TELEGRAM_WEBHOOK_SECRET}
            )
            again = await client.post(
                url,
                json=_telegram_update(9001, "webhook ile gelen mesaj"),
                headers={header: TELEGRAM_WEBHOOK_SECRET},
            )

    assert right.status_code == 200
    assert wrong.status_code == 403
    assert missing.status_code == 403
    assert broken.status_code == 200
    assert again.status_code == 200
    with Store.open(database) as store:
        texts = [message.text for message in store.list_messages(platform=Platform.TELEGRAM)]
    assert texts == ["webhook ile gelen mesaj"]


async def test_meta_webhook_signed_delivery(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'meta.db'}"
    with Emulators() as emulators:
        settings = _settings(emulators, database, tmp_path)
        envelope = emulators.meta_envelopes(1)[0]
        forged = MetaEmulator(app_secret="not-the-app-secret", webhook_retry_delays=())
        async with running(settings) as daemon, httpx.AsyncClient() as client:
            url = f"http://127.0.0.1:{daemon.http_port}/webhooks/meta/fb/"
            handshake = await client.get(
                url,
                params={"hub.mode": "subscribe", "hub.verify_token": "wrong",
                        "hub.challenge": "42"},
            )
            rejected = await forged.deliver(envelope, url=url)
            accepted = await emulators.meta.deliver(envelope, url=url)
            redelivered = await emulators.meta.deliver(envelope, url=url)
        assert APP_SECRET == emulators.meta.app_secret

    assert handshake.status_code == 403
    assert rejected.statuses == [401]
    assert accepted.statuses == [200]
    assert redelivered.statuses == [200]
    with Store.open(database) as store:
        messages = store.list_messages(platform=Platform.MESSENGER)
    assert [message.text for message in messages] == emulators.texts[Platform.MESSENGER]
    assert messages[0].key.account_id == PAGE_ID
    lines = (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    created = [json.loads(line) for line in lines]
    assert [document["type"] for document in created] == ["message.created"]
