"""Kill the daemon with SIGKILL at random points and check that nothing is lost or doubled.

Used by ``tests/daemon/test_crash.py`` (20+ cycles) and ``benchmarks/crash.py``
(200 by default). Each cycle adds messages to the Telegram and X emulators
and Messenger webhook bodies to a pending list, starts ``socialinbox daemon``
as a child process, delivers pending webhooks while it runs, and kills it
after a random delay: sometimes before its HTTP server is up (during
migrations and start-up), mostly while it polls, ingests and delivers to a
``webhook`` sink (a receiver in this process that records each
``webhook-id``) and a ``jsonl`` sink. A final run drains everything and is
stopped with SIGTERM. Then the store must hold every sent text exactly
once, and each sink must have received exactly the store's
``message.created`` idempotency keys.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from socialinbox.crm.webhook import generate_webhook_secret
from socialinbox.store import Store
from socialinbox.store.codec import created_event_key
from socialinbox.store.tables import DeliveryRow, OutboxRow, table_of
from tests.daemon.support import (
    DaemonProcess,
    Emulators,
    WebhookReceiver,
    Zygote,
    deliver_until_accepted,
    free_port,
    metric_value,
    write_config,
)

SINKS = ("hook", "lines")


@dataclass
class CrashPlan:
    """How a crash run is shaped; the defaults keep 20 cycles well under a minute."""

    cycles: int = 20
    seed: int | None = None
    preload_telegram: int = 100
    preload_x: int = 80
    preload_meta: int = 20
    per_cycle_telegram: int = 2
    per_cycle_x: int = 2
    per_cycle_meta: int = 1
    early_kill_share: float = 0.15
    """Share of cycles killed before the HTTP server is up (start-up, migrations)."""
    max_kill_delay: float = 0.6
    """Longest time in seconds a cycle runs after its HTTP server is up."""
    receiver_delay: float = 0.0
    drain_timeout: float = 60.0
    shutdown_timeout: float = 5.0
    fork: bool = True
    """Fork the killed runs from a pre-imported launcher; the final run is always a new process."""


@dataclass
class CrashReport:
    """What a crash run observed; ``problems`` is empty when nothing was lost or doubled."""

    cycles: int
    early_kills: int = 0
    kill_delays: list[float] = field(default_factory=list)
    texts_sent: int = 0
    messages_stored: int = 0
    webhook_requests: int = 0
    webhook_keys: int = 0
    jsonl_lines: int = 0
    jsonl_keys: int = 0
    meta_deliveries: int = 0
    final_exit_code: int | None = None
    final_shutdown_seconds: float = 0.0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        redelivered = self.webhook_requests - self.webhook_keys
        lines = [
            f"cycles: {self.cycles} ({self.early_kills} killed during start-up)",
            f"texts sent: {self.texts_sent}; messages stored: {self.messages_stored}",
            f"webhook sink: {self.webhook_requests} requests, {self.webhook_keys} distinct keys "
            f"({redelivered} redelivered after kills)",
            f"jsonl sink: {self.jsonl_lines} lines, {self.jsonl_keys} distinct keys",
            f"Meta webhook deliveries: {self.meta_deliveries}",
            f"final run: exit code {self.final_exit_code}, "
            f"SIGTERM to exit {self.final_shutdown_seconds:.2f} s",
            f"wall time: {self.seconds:.1f} s",
        ]
        lines.append("result: OK" if not self.problems else "result: FAILED")
        lines.extend(f"  problem: {problem}" for problem in self.problems)
        return "\n".join(lines)


def _config(workdir: Path, emulators: Emulators, receiver: WebhookReceiver, port: int,
            plan: CrashPlan) -> Path:
    return write_config(
        workdir / "socialinbox.toml",
        {
            "database": f"sqlite:///{workdir / 'crash.db'}",
            "daemon": {
                "port": port,
                "shutdown_timeout": plan.shutdown_timeout,
                "delivery_interval": 0.05,
                "stall_after": 120.0,
            },
            "accounts": emulators.account_sections(poll_interval=0.05),
            "sinks": [
                {"name": "hook", "type": "webhook", "url": receiver.url, "secret": receiver.secret},
                {"name": "lines", "type": "jsonl", "path": str(workdir / "events.jsonl")},
            ],
        },
    )


async def _deliver_pending(
    emulators: Emulators, pending: list[dict[str, Any]], url: str, report: CrashReport
) -> None:
    """Deliver pending webhook bodies one by one; drop each one the daemon accepted."""
    while pending:
        delivery = await emulators.meta.deliver(pending[0], url=url)
        report.meta_deliveries += 1
        if delivery.delivered:
            pending.pop(0)
        else:
            await asyncio.sleep(0.05)


async def _run_cycle(
    daemon: DaemonProcess,
    emulators: Emulators,
    pending: list[dict[str, Any]],
    rng: random.Random,
    plan: CrashPlan,
    report: CrashReport,
) -> None:
    daemon.start()
    if rng.random() < plan.early_kill_share:
        report.early_kills += 1
        await asyncio.sleep(rng.uniform(0.0, 0.5))
        daemon.kill()
        return
    await asyncio.to_thread(daemon.wait_ready)
    url = f"{daemon.base_url}/webhooks/meta/fb/"
    delivering = asyncio.create_task(_deliver_pending(emulators, pending, url, report))
    delay = rng.uniform(0.0, plan.max_kill_delay)
    report.kill_delays.append(delay)
    await asyncio.sleep(delay)
    daemon.kill()
    delivering.cancel()
    await asyncio.gather(delivering, return_exceptions=True)


def _stored_count(database: Path) -> int:
    if not database.exists():
        return 0
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        count: int = connection.execute("SELECT count(*) FROM messages").fetchone()[0]
        return count
    except sqlite3.OperationalError:
        return 0
    finally:
        connection.close()


async def _final_run(
    daemon: DaemonProcess,
    emulators: Emulators,
    pending: list[dict[str, Any]],
    database: Path,
    plan: CrashPlan,
    report: CrashReport,
) -> None:
    daemon.start()
    await asyncio.to_thread(daemon.wait_ready)
    url = f"{daemon.base_url}/webhooks/meta/fb/"
    for envelope in list(pending):
        report.meta_deliveries += await deliver_until_accepted(emulators.meta, envelope, url)
        pending.remove(envelope)
    expected = len(emulators.all_texts)
    deadline = time.monotonic() + plan.drain_timeout
    drained = False
    async with httpx.AsyncClient(timeout=5.0) as client:
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            if _stored_count(database) < expected:
                continue
            metrics = (await client.get(f"{daemon.base_url}/metrics")).text
            outstanding = [
                metric_value(metrics, "socialinbox_outbox_pending", sink=sink) for sink in SINKS
            ]
            if all(value == 0 for value in outstanding):
                drained = True
                break
    if not drained:
        report.problems.append(
            f"the final run did not drain within {plan.drain_timeout} s "
            f"({_stored_count(database)} of {expected} messages stored)"
        )
    started = time.monotonic()
    report.final_exit_code = await asyncio.to_thread(daemon.terminate, plan.shutdown_timeout + 5)
    report.final_shutdown_seconds = time.monotonic() - started
    if report.final_exit_code != 0:
        report.problems.append(f"the final run exited with {report.final_exit_code} after SIGTERM")


def _check(
    report: CrashReport,
    emulators: Emulators,
    receiver: WebhookReceiver,
    database_url: str,
    jsonl: Path,
) -> None:
    sent = Counter(emulators.all_texts)
    report.texts_sent = len(sent)
    with Store.open(database_url) as store:
        messages = store.list_messages()
        with store.engine.connect() as connection:
            outbox = table_of(OutboxRow)
            outbox_keys = set(
                connection.execute(
                    sa.select(outbox.c.event_key).where(outbox.c.kind == "message.created")
                ).scalars()
            )
            deliveries = table_of(DeliveryRow)
            statuses = Counter(
                connection.execute(sa.select(deliveries.c.sink, deliveries.c.status)).all()
            )
    report.messages_stored = len(messages)
    stored = Counter(message.text for message in messages)
    doubled = sorted(text for text, count in stored.items() if text is not None and count > 1)
    missing = sorted(text for text in sent if text not in stored)
    unexpected = sorted(str(text) for text in stored if text not in sent)
    if doubled:
        report.problems.append(f"{len(doubled)} texts stored more than once, e.g. {doubled[:3]}")
    if missing:
        report.problems.append(f"{len(missing)} sent texts not stored, e.g. {missing[:3]}")
    if unexpected:
        report.problems.append(f"{len(unexpected)} stored texts never sent, e.g. {unexpected[:3]}")

    store_keys = {created_event_key(message.key) for message in messages}
    if outbox_keys != store_keys:
        report.problems.append(
            f"outbox message.created keys differ from the stored messages' keys "
            f"({len(outbox_keys)} vs {len(store_keys)})"
        )
    for (sink, status), count in sorted(statuses.items()):
        if status != "delivered":
            report.problems.append(f"sink {sink}: {count} deliveries left {status}")

    hooks = receiver.snapshot()
    report.webhook_requests = len(hooks)
    if receiver.rejected:
        report.problems.append(f"the webhook receiver rejected {receiver.rejected} signatures")
    if any(hook.webhook_id != hook.event_key for hook in hooks):
        report.problems.append("a webhook-id header differs from the body's data.event_key")
    hook_keys = {hook.webhook_id for hook in hooks if hook.type == "message.created"}
    report.webhook_keys = len(hook_keys)
    if hook_keys != store_keys:
        report.problems.append(
            f"webhook keys differ from the store: {len(store_keys - hook_keys)} missing, "
            f"{len(hook_keys - store_keys)} unknown"
        )

    lines = jsonl.read_text(encoding="utf-8").splitlines() if jsonl.exists() else []
    report.jsonl_lines = len(lines)
    jsonl_keys = set()
    broken = 0
    for line in lines:
        try:
            document = json.loads(line)
        except json.JSONDecodeError:
            broken += 1
            continue
        if document["type"] == "message.created":
            jsonl_keys.add(document["data"]["event_key"])
    report.jsonl_keys = len(jsonl_keys)
    if broken:
        report.problems.append(f"{broken} jsonl lines are not valid JSON (torn writes)")
    if jsonl_keys != store_keys:
        report.problems.append(
            f"jsonl keys differ from the store: {len(store_keys - jsonl_keys)} missing, "
            f"{len(jsonl_keys - store_keys)} unknown"
        )


async def run_crash_test(
    workdir: Path, plan: CrashPlan, *, progress: Callable[[int, CrashReport], None] | None = None
) -> CrashReport:
    """Run ``plan.cycles`` kill and restart cycles, a draining final run, and the checks."""
    rng = random.Random(plan.seed)
    report = CrashReport(cycles=plan.cycles)
    started = time.monotonic()
    database = workdir / "crash.db"
    with Emulators() as emulators, WebhookReceiver(
        generate_webhook_secret(), delay=plan.receiver_delay
    ) as receiver:
        emulators.add_telegram(plan.preload_telegram)
        emulators.add_x(plan.preload_x)
        pending = emulators.meta_envelopes(plan.preload_meta)
        port = free_port()
        config = _config(workdir, emulators, receiver, port, plan)
        log = workdir / "daemon.log"
        zygote = Zygote() if plan.fork else None
        daemon = DaemonProcess(config, log, port=port, zygote=zygote)
        try:
            for cycle in range(plan.cycles):
                emulators.add_telegram(plan.per_cycle_telegram)
                emulators.add_x(plan.per_cycle_x)
                pending.extend(emulators.meta_envelopes(plan.per_cycle_meta))
                await _run_cycle(daemon, emulators, pending, rng, plan, report)
                if progress is not None:
                    progress(cycle + 1, report)
            daemon.ensure_stopped()
            # The final run is a fresh `socialinbox daemon` process, so its exit code is real.
            daemon = DaemonProcess(config, log, port=port)
            await _final_run(daemon, emulators, pending, database, plan, report)
        finally:
            daemon.ensure_stopped()
            if zygote is not None:
                zygote.close()
        _check(report, emulators, receiver, f"sqlite:///{database}", workdir / "events.jsonl")
    report.seconds = time.monotonic() - started
    if report.problems:
        tail = daemon.output().splitlines()[-40:]
        report.problems.append("last daemon log lines:\n" + "\n".join(tail))
    return report
