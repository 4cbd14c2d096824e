"""SIGTERM and SIGINT on a `socialinbox daemon` process: a bounded clean exit, and nothing lost."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

from socialinbox.crm.webhook import generate_webhook_secret
from socialinbox.model import Platform
from socialinbox.store import Store
from socialinbox.store.codec import created_event_key
from tests.daemon.support import (
    DaemonProcess,
    Emulators,
    WebhookReceiver,
    free_port,
    metric_value,
    write_config,
)

SHUTDOWN_TIMEOUT = 2.0


def _config(tmp_path: Path, emulators: Emulators, receiver: WebhookReceiver, port: int) -> Path:
    return write_config(
        tmp_path / "socialinbox.toml",
        {
            "database": f"sqlite:///{tmp_path / 'daemon.db'}",
            "daemon": {"port": port, "shutdown_timeout": SHUTDOWN_TIMEOUT,
                       "delivery_interval": 0.05},
            "accounts": emulators.account_sections(poll_interval=0.1),
            "sinks": [
                {"name": "hook", "type": "webhook", "url": receiver.url,
                 "secret": receiver.secret},
                {"name": "lines", "type": "jsonl", "path": str(tmp_path / "events.jsonl")},
            ],
        },
    )


def _wait_for(condition: Any, process: DaemonProcess, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s:\n{process.tail()}")
        time.sleep(0.05)


def _drained(process: DaemonProcess) -> bool:
    metrics = process.metrics()
    return all(
        metric_value(metrics, "socialinbox_outbox_pending", sink=sink) == 0
        for sink in ("hook", "lines")
    )


def _check_everything_once(tmp_path: Path, emulators: Emulators, receiver: WebhookReceiver) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'daemon.db'}") as store:
        messages = store.list_messages()
    texts = sorted(message.text or "" for message in messages)
    assert texts == sorted(emulators.all_texts)
    keys = {created_event_key(message.key) for message in messages}
    assert {hook.webhook_id for hook in receiver.snapshot()} == keys
    lines = (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert {json.loads(line)["data"]["event_key"] for line in lines} == keys


def test_sigterm_then_restart_loses_nothing(tmp_path: Path) -> None:
    with Emulators() as emulators, WebhookReceiver(
        generate_webhook_secret(), delay=0.02
    ) as receiver:
        emulators.add_telegram(40)
        emulators.add_x(20)
        port = free_port()
        config = _config(tmp_path, emulators, receiver, port)
        log = tmp_path / "daemon.log"

        first = DaemonProcess(config, log, port=port).start()
        try:
            first.wait_ready()
            # Stop while deliveries are still in flight.
            _wait_for(lambda: len(receiver.snapshot()) >= 5, first)
            code = first.terminate(timeout=SHUTDOWN_TIMEOUT + 5)
        finally:
            first.ensure_stopped()
        delivered_before_restart = len(receiver.snapshot())

        assert code == 0, first.output()
        assert "daemon stopped" in first.output()
        assert delivered_before_restart < 60

        emulators.add_telegram(5)
        emulators.add_x(5)
        second = DaemonProcess(config, log, port=port).start()
        try:
            second.wait_ready()
            _wait_for(lambda: len({h.webhook_id for h in receiver.snapshot()}) >= 70, second)
            _wait_for(lambda: _drained(second), second)
            code = second.terminate(timeout=SHUTDOWN_TIMEOUT + 5)
        finally:
            second.ensure_stopped()

        assert code == 0, second.output()
        _check_everything_once(tmp_path, emulators, receiver)
        assert len(emulators.texts[Platform.TELEGRAM]) == 45


def test_second_signal_exits_at_once(tmp_path: Path) -> None:
    # Each delivery takes longer than the shutdown bound, so the first signal has to wait.
    with Emulators() as emulators, WebhookReceiver(
        generate_webhook_secret(), delay=SHUTDOWN_TIMEOUT * 2
    ) as receiver:
        emulators.add_telegram(3)
        port = free_port()
        config = _config(tmp_path, emulators, receiver, port)
        log = tmp_path / "daemon.log"

        process = DaemonProcess(config, log, port=port).start()
        try:
            process.wait_ready()
            _wait_for(
                lambda: (metric_value(process.metrics(), "socialinbox_messages_ingested_total",
                                      account="tg", platform="telegram") or 0) >= 3,
                process,
            )
            time.sleep(0.3)  # let the webhook sink start its slow request
            assert process.process is not None
            process.process.send_signal(signal.SIGINT)
            time.sleep(0.2)
            code = process.terminate(timeout=SHUTDOWN_TIMEOUT)
        finally:
            process.ensure_stopped()

        assert code == 1, process.output()
        assert "second signal" in process.output()

        # The abrupt exit left the slow delivery in flight; the crash test covers the restart.
        with Store.open(f"sqlite:///{tmp_path / 'daemon.db'}") as store:
            assert len(store.list_messages()) == 3
