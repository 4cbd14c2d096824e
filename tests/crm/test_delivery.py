"""The delivery worker on a real store (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from socialinbox.crm.base import DeliveryResult, OutboxEvent, Sink
from socialinbox.crm.callback import CallbackSink
from socialinbox.crm.chatwoot import ChatwootSink, LedgerEntry
from socialinbox.crm.delivery import (
    DeliveryStatus,
    DeliveryWorker,
    RetryPolicy,
    delivery_counts,
    list_deliveries,
    retry_dead_letters,
    unassigned_count,
)
from socialinbox.crm.jsonl import JsonlSink
from socialinbox.crm.webhook import WebhookSink
from socialinbox.errors import ConfigError, SinkError
from socialinbox.store import Store
from socialinbox.testing.chatwoot import ChatwootEmulator
from tests.crm.support import (
    Answer,
    Clock,
    WebhookReceiver,
    deliveries,
    ingest,
    message,
    outbox_events,
)

NO_JITTER = RetryPolicy(
    max_attempts=4,
    initial_delay=timedelta(seconds=10),
    max_delay=timedelta(minutes=5),
    jitter=timedelta(0),
)


class Recorder:
    """A callback target that records deliveries and fails chosen events on demand."""

    def __init__(self) -> None:
        self.delivered: list[OutboxEvent] = []
        self.failing: set[str] = set()
        """Event keys that raise until removed."""
        self.down = False
        self.changed = asyncio.Event()

    async def __call__(self, event: OutboxEvent) -> None:
        if self.down or event.event_key in self.failing:
            raise SinkError("the service is unavailable", sink="recorder")
        self.delivered.append(event)
        self.changed.set()

    async def wait_for(self, count: int) -> None:
        while len(self.delivered) < count:
            self.changed.clear()
            await self.changed.wait()

    def chats(self) -> dict[str | None, list[str]]:
        """Return chat id -> delivered message ids, in delivery order."""
        found: dict[str | None, list[str]] = {}
        for event in self.delivered:
            assert event.message is not None
            found.setdefault(event.chat_id, []).append(event.message["key"]["message_id"])
        return found


def statuses(store: Store, sink: str) -> dict[int, str]:
    return {outbox_id: row.status for outbox_id, row in deliveries(store, sink).items()}


async def test_worker_delivers_to_every_sink(
    store: Store, receiver: tuple[WebhookReceiver, str], webhook_secret: str, tmp_path: Path
) -> None:
    app, url = receiver
    recorder = Recorder()
    path = tmp_path / "events.jsonl"
    ingest(store, *(message(str(500 + n % 2), n) for n in range(1, 7)))
    sinks: list[Sink] = [
        WebhookSink(url, secret=webhook_secret),
        JsonlSink(path),
        CallbackSink(recorder),
    ]
    worker = DeliveryWorker(store, sinks, batch_size=4, clock=Clock())

    reports = await worker.drain()
    await worker.close()

    keys = [event.event_key for event in outbox_events(store)]
    assert len(keys) == 6
    assert {name: report.delivered for name, report in reports.items()} == {
        "webhook": 6,
        "jsonl": 6,
        "callback": 6,
    }
    assert app.arrivals() == Counter(keys)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["data"]["event_key"] for line in lines] == keys
    assert [event.event_key for event in recorder.delivered] == keys
    counts = delivery_counts(store)
    assert counts == {name: {"delivered": 6} for name in ("webhook", "jsonl", "callback")}
    assert unassigned_count(store) == 0
    again = await worker.run_once()
    assert all(report.claimed == 0 for report in again.values())


async def test_worker_orders_each_conversation(store: Store) -> None:
    recorder = Recorder()
    clock = Clock()
    ingest(
        store,
        message("601", 1),
        message("602", 2),
        message("601", 3),
        message("602", 4),
        message("601", 5),
    )
    events = outbox_events(store)
    recorder.failing.add(events[0].event_key)
    worker = DeliveryWorker(store, [CallbackSink(recorder)], retry=NO_JITTER, clock=clock)

    first = await worker.drain()

    assert first["callback"].delivered == 2
    assert recorder.chats() == {"602": ["2", "4"]}
    rows = deliveries(store, "callback")
    assert rows[events[0].id].status == DeliveryStatus.FAILED
    assert rows[events[0].id].attempts == 1
    assert rows[events[0].id].next_attempt_at == clock.now + timedelta(seconds=10)
    # The later events of chat 601 were not attempted, so no attempt is counted.
    assert rows[events[2].id].status == DeliveryStatus.PENDING
    assert rows[events[2].id].attempts == 0

    # Later rounds before the backoff ends keep chat 601 waiting.
    ingest(store, message("601", 6), message("603", 7))
    await worker.drain()
    assert recorder.chats() == {"602": ["2", "4"], "603": ["7"]}

    recorder.failing.clear()
    clock.advance(seconds=10)
    await worker.drain()
    assert recorder.chats() == {"602": ["2", "4"], "603": ["7"], "601": ["1", "3", "5", "6"]}
    assert set(statuses(store, "callback").values()) == {DeliveryStatus.DELIVERED}


async def test_worker_honours_retry_after(
    store: Store, receiver: tuple[WebhookReceiver, str], webhook_secret: str
) -> None:
    app, url = receiver
    clock = Clock()
    app.answers.append(Answer(429, headers={"Retry-After": "120"}))
    ingest(store, message("701", 1), message("701", 2))
    events = outbox_events(store)
    worker = DeliveryWorker(
        store, [WebhookSink(url, secret=webhook_secret)], retry=NO_JITTER, clock=clock
    )

    report = (await worker.run_once())["webhook"]

    assert (report.retried, report.deferred, report.delivered) == (1, 1, 0)
    rows = deliveries(store, "webhook")
    assert rows[events[0].id].next_attempt_at == clock.now + timedelta(seconds=120)
    assert rows[events[0].id].last_error == "the receiver answered HTTP 429"
    assert rows[events[1].id].status == DeliveryStatus.PENDING

    clock.advance(seconds=119)
    assert (await worker.run_once())["webhook"].claimed == 0
    clock.advance(seconds=1)
    assert (await worker.drain())["webhook"].delivered == 2
    assert app.arrivals() == Counter(event.event_key for event in events)
    await worker.close()


def test_retry_policy_backs_off_exponentially() -> None:
    assert [NO_JITTER.delay(attempt).total_seconds() for attempt in (1, 2, 3, 4, 6)] == [
        10,
        20,
        40,
        80,
        300,
    ]
    assert NO_JITTER.delay(1, timedelta(seconds=3)) == timedelta(seconds=3)
    assert NO_JITTER.delay(1, timedelta(days=9)) == timedelta(days=1)
    jittered = RetryPolicy(initial_delay=timedelta(seconds=10), jitter=timedelta(seconds=5))
    assert all(10 <= jittered.delay(1).total_seconds() <= 15 for _ in range(20))
    with pytest.raises(ConfigError):
        RetryPolicy(max_attempts=0)


async def test_worker_dead_letters_then_retry(store: Store) -> None:
    recorder = Recorder()
    recorder.down = True
    clock = Clock()
    ingest(store, message("801", 1), message("802", 2))
    events = outbox_events(store)
    worker = DeliveryWorker(store, [CallbackSink(recorder)], retry=NO_JITTER, clock=clock)

    for _ in range(NO_JITTER.max_attempts):
        await worker.drain()
        clock.advance(minutes=10)

    rows = deliveries(store, "callback")
    assert {row.status for row in rows.values()} == {DeliveryStatus.DEAD}
    assert {row.attempts for row in rows.values()} == {NO_JITTER.max_attempts}
    assert rows[events[0].id].last_error == "the service is unavailable"
    assert (await worker.drain())["callback"].claimed == 0

    # A dead letter does not hold its conversation back.
    ingest(store, message("801", 3))
    recorder.down = False
    await worker.drain()
    assert recorder.chats() == {"801": ["3"]}

    assert await worker.retry_dead_letters(ids=[events[0].id]) == 1
    assert deliveries(store, "callback")[events[0].id].attempts == 0
    await worker.drain()
    assert recorder.chats() == {"801": ["3", "1"]}
    assert retry_dead_letters(store, sink="callback") == 1
    await worker.drain()
    assert recorder.chats() == {"801": ["3", "1"], "802": ["2"]}
    assert retry_dead_letters(store) == 0


async def test_worker_dead_letters_permanent_failure(
    store: Store, receiver: tuple[WebhookReceiver, str], webhook_secret: str
) -> None:
    app, url = receiver
    app.answers.append(Answer(410))
    ingest(store, message("811", 1))
    worker = DeliveryWorker(store, [WebhookSink(url, secret=webhook_secret)], clock=Clock())

    report = (await worker.run_once())["webhook"]
    await worker.close()

    assert report.dead == 1
    [record] = list_deliveries(store, status="dead")
    assert record.attempts == 1
    assert record.last_error is not None
    assert "410" in record.last_error


async def test_down_sink_does_not_block_others(
    store: Store, webhook_secret: str, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    path = tmp_path / "events.jsonl"
    clock = Clock()
    down = WebhookSink(f"http://127.0.0.1:{closed_port}/hook", secret=webhook_secret, name="crm")
    worker = DeliveryWorker(store, [down, JsonlSink(path)], retry=NO_JITTER, clock=clock)
    ingest(store, message("901", 1), message("902", 2))

    reports = await worker.drain()

    assert reports["jsonl"].delivered == 2
    assert reports["crm"].delivered == 0
    assert reports["crm"].retried == 2
    assert set(statuses(store, "crm").values()) == {DeliveryStatus.FAILED}
    # Ingest goes on while the sink is down, and the other sink keeps up.
    ingest(store, message("901", 3))
    assert (await worker.drain())["jsonl"].delivered == 1
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3
    [failed, *_] = list_deliveries(store, sink="crm")
    assert failed.last_error is not None
    assert failed.last_error.startswith("webhook request failed: ConnectError")
    await worker.close()


async def test_lost_response_is_counted_once(
    store: Store, receiver: tuple[WebhookReceiver, str], webhook_secret: str
) -> None:
    app, url = receiver
    clock = Clock()
    # The receiver stores the first two events, but the answers never arrive intact.
    app.answers.extend([Answer(502, commit=True), Answer(200), Answer(504, commit=True)])
    ingest(store, *(message(str(1000 + n), n) for n in range(1, 5)))
    events = outbox_events(store)
    worker = DeliveryWorker(
        store, [WebhookSink(url, secret=webhook_secret)], retry=NO_JITTER, clock=clock
    )

    await worker.drain()
    clock.advance(minutes=1)
    await worker.drain()
    await worker.close()

    keys = [event.event_key for event in events]
    assert sum(app.arrivals().values()) == 6
    assert app.stored() == Counter(dict.fromkeys(keys, 1))
    assert set(statuses(store, "webhook").values()) == {DeliveryStatus.DELIVERED}


class Stalling(Sink):
    """A sink whose delivery never finishes, like a worker killed mid-batch."""

    def __init__(self, name: str = "stalling") -> None:
        super().__init__(name)
        self.started = asyncio.Event()

    async def deliver_one(self, event: OutboxEvent) -> DeliveryResult:
        self.started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_killed_worker_lease_is_recovered(store: Store) -> None:
    clock = Clock()
    ingest(store, message("1101", 1), message("1101", 2))
    stalling = Stalling(name="crm")
    first = DeliveryWorker(store, [stalling], lease=timedelta(minutes=10), clock=clock)
    task = asyncio.create_task(first.run_once())
    await stalling.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert set(statuses(store, "crm").values()) == {DeliveryStatus.IN_FLIGHT}

    recorder = Recorder()
    second = DeliveryWorker(store, [CallbackSink(recorder, name="crm")], clock=clock)
    assert (await second.run_once())["crm"].claimed == 0
    clock.advance(minutes=10)
    assert (await second.drain())["crm"].delivered == 2
    assert recorder.chats() == {"1101": ["1", "2"]}

    # After a restart on a database no one else uses, the claims are released at once.
    ingest(store, message("1102", 3))
    stalled = Stalling("crm")
    task = asyncio.create_task(DeliveryWorker(store, [stalled], clock=clock).run_once())
    await stalled.started.wait()
    assert statuses(store, "crm")[3] == DeliveryStatus.IN_FLIGHT
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await second.release_in_flight() == 1
    assert (await second.drain())["crm"].delivered == 1


async def test_chatwoot_ledger_survives_restart(store: Store, chatwoot: ChatwootEmulator) -> None:
    clock = Clock()
    ingest(store, message("1201", 1), message("1201", 2))
    events = outbox_events(store)
    # Chatwoot stores the first message, but the answer is lost.
    chatwoot.fail_next(1, status=502, after_commit=True, method="POST", path_contains="/messages")

    def build() -> DeliveryWorker:
        sink = ChatwootSink(
            chatwoot.base_url,
            account_id=chatwoot.account_id,
            inbox_id=chatwoot.inbox_id,
            api_token=chatwoot.api_token,
        )
        return DeliveryWorker(store, [sink], retry=NO_JITTER, clock=clock)

    first = build()
    report = (await first.run_once())["chatwoot"]
    await first.close()
    assert (report.retried, report.deferred) == (1, 1)
    assert len(chatwoot.messages()) == 1
    posting = LedgerEntry.decode(deliveries(store, "chatwoot")[events[0].id].remote_id)
    assert posting is not None
    assert posting.message_id is None

    # A new process: no memory of the first, only the store.
    clock.advance(minutes=1)
    second = build()
    assert (await second.drain())["chatwoot"].delivered == 2
    await second.close()

    stored = chatwoot.messages()
    assert [item["source_id"] for item in stored] == [
        f"socialinbox:{event.event_key}" for event in events
    ]
    rows = deliveries(store, "chatwoot")
    assert rows[events[0].id].remote_id == f"conversation/1/message/{stored[0]['id']}"
    assert rows[events[1].id].remote_id == f"conversation/1/message/{stored[1]['id']}"
    assert len(chatwoot.conversations()) == 1


async def test_run_forever_stops_on_event(store: Store) -> None:
    recorder = Recorder()
    worker = DeliveryWorker(store, [CallbackSink(recorder)], poll_interval=0.05)
    stop = asyncio.Event()
    ingest(store, message("1301", 1))
    runner = asyncio.create_task(worker.run_forever(stop))
    await recorder.wait_for(1)
    ingest(store, message("1301", 2))
    worker.wake()
    await recorder.wait_for(2)
    stop.set()
    await runner
    assert recorder.chats() == {"1301": ["1", "2"]}


def test_worker_rejects_duplicate_sink_names(sqlite_store: Store, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="repeated: jsonl"):
        DeliveryWorker(sqlite_store, [JsonlSink(tmp_path / "a"), JsonlSink(tmp_path / "b")])


async def test_sink_returning_wrong_count_is_retried(sqlite_store: Store) -> None:
    class Short(Sink):
        async def deliver(self, events: object) -> list[DeliveryResult]:
            return []

    ingest(sqlite_store, message("1401", 1))
    worker = DeliveryWorker(sqlite_store, [Short("short")], retry=NO_JITTER, clock=Clock())
    report = (await worker.run_once())["short"]
    assert report.retried == 1
    [record] = list_deliveries(sqlite_store)
    assert record.last_error == "the sink returned 0 results for 1 events"
