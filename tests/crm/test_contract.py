"""The sink contract, checked against every sink with a real receiver.

webhook: a Standard Webhooks receiver on 127.0.0.1; chatwoot: the Chatwoot
emulator; jsonl: a file in a temporary folder; callback: a coroutine.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from socialinbox.crm.base import DeliveryOutcome, OutboxEvent, Sink
from socialinbox.crm.callback import CallbackSink
from socialinbox.crm.chatwoot import ChatwootSink
from socialinbox.crm.jsonl import JsonlSink
from socialinbox.crm.webhook import WebhookSink
from socialinbox.model import Direction
from socialinbox.store import Store
from socialinbox.testing.chatwoot import ChatwootEmulator
from tests.crm.support import (
    Answer,
    WebhookReceiver,
    edit,
    ingest,
    message,
    outbox_events,
)

SINKS = ["webhook", "chatwoot", "jsonl", "callback"]


@dataclass
class Harness:
    """One sink with hooks to look at, break and repair what is behind it."""

    sink: Sink
    stored: Callable[[], Counter[str]]
    """Event key -> how many copies the receiver holds after its own deduplication."""
    break_receiver: Callable[[], None]
    repair_receiver: Callable[[], None]


@pytest.fixture(params=SINKS)
async def harness(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    webhook_secret: str,
) -> AsyncIterator[Harness]:
    kind = request.param
    if kind == "webhook":
        receiver, url = request.getfixturevalue("receiver")
        assert isinstance(receiver, WebhookReceiver)

        def break_webhook() -> None:
            receiver.failing = Answer(503)

        def repair_webhook() -> None:
            receiver.failing = None

        sink: Sink = WebhookSink(url, secret=webhook_secret)
        built = Harness(sink, receiver.stored, break_webhook, repair_webhook)
    elif kind == "chatwoot":
        emulator = request.getfixturevalue("chatwoot")
        assert isinstance(emulator, ChatwootEmulator)

        def chatwoot_messages() -> Counter[str]:
            return Counter(
                item["content_attributes"]["socialinbox"]["event_key"]
                for item in emulator.messages()
            )

        def break_chatwoot() -> None:
            emulator.fail_next(1000, status=503)

        sink = ChatwootSink(
            emulator.base_url,
            account_id=emulator.account_id,
            inbox_id=emulator.inbox_id,
            api_token=emulator.api_token,
            throttle_backoff=0.01,
        )
        built = Harness(sink, chatwoot_messages, break_chatwoot, emulator.clear_faults)
    elif kind == "jsonl":
        folder = tmp_path / "out"
        path = folder / "events.jsonl"
        folder.mkdir()

        def jsonl_keys() -> Counter[str]:
            if not path.exists():
                return Counter()
            lines = path.read_text(encoding="utf-8").splitlines()
            # A reader keeps one copy per event key.
            return Counter({json.loads(line)["data"]["event_key"]: 1 for line in lines})

        def break_jsonl() -> None:
            if path.exists():
                path.rename(tmp_path / "kept.jsonl")
            folder.rmdir()

        def repair_jsonl() -> None:
            folder.mkdir()
            if (tmp_path / "kept.jsonl").exists():
                (tmp_path / "kept.jsonl").rename(path)

        sink = JsonlSink(path)
        built = Harness(sink, jsonl_keys, break_jsonl, repair_jsonl)
    else:
        received: dict[str, OutboxEvent] = {}
        state = {"broken": False}

        async def on_event(event: OutboxEvent) -> str:
            if state["broken"]:
                raise ConnectionError("the embedding service is down")
            received[event.event_key] = event
            return f"local-{event.id}"

        def broken() -> None:
            state["broken"] = True

        def repaired() -> None:
            state["broken"] = False

        sink = CallbackSink(on_event)
        built = Harness(sink, lambda: Counter(dict.fromkeys(received, 1)), broken, repaired)

    yield built
    await built.sink.close()


@pytest.fixture
def events(sqlite_store: Store) -> list[OutboxEvent]:
    """Two conversations: three events in chat 501 (two messages and an edit), two in 502."""
    first = message("501", 1)
    ingest(
        sqlite_store,
        first,
        message("502", 2, "Para yatırma işlemim görünmüyor"),
        message("501", 3, "Kimlik belgemi gönderdim", direction=Direction.OUTBOUND),
        edit(first, "Merhaba, çekim talebim ne durumda? (düzeltildi)"),
        message("502", 4, "Uygulama açılırken çöküyor 😞"),
    )
    found = outbox_events(sqlite_store)
    assert [event.kind for event in found] == [
        "message.created",
        "message.created",
        "message.created",
        "event.edit",
        "message.created",
    ]
    return found


def outcomes_by_conversation(
    events: list[OutboxEvent], outcomes: list[DeliveryOutcome]
) -> dict[Any, list[DeliveryOutcome]]:
    grouped: dict[Any, list[DeliveryOutcome]] = {}
    for event, outcome in zip(events, outcomes, strict=True):
        grouped.setdefault(event.ordering_key, []).append(outcome)
    return grouped


async def test_sink_delivers_every_event(harness: Harness, events: list[OutboxEvent]) -> None:
    results = await harness.sink.deliver(events)

    assert len(results) == len(events)
    assert all(result.outcome is DeliveryOutcome.DELIVERED for result in results)
    assert harness.stored() == Counter({event.event_key: 1 for event in events})


async def test_sink_redelivery_is_stored_once(harness: Harness, events: list[OutboxEvent]) -> None:
    await harness.sink.deliver(events)
    again = await harness.sink.deliver(events)

    assert all(result.ok for result in again)
    assert harness.stored() == Counter({event.event_key: 1 for event in events})


async def test_sink_failure_holds_back_conversation(
    harness: Harness, events: list[OutboxEvent]
) -> None:
    harness.break_receiver()
    results = await harness.sink.deliver(events)

    assert len(results) == len(events)
    assert not any(result.ok for result in results)
    for outcomes in outcomes_by_conversation(events, [r.outcome for r in results]).values():
        assert outcomes[0] in (DeliveryOutcome.RETRY, DeliveryOutcome.DEFERRED)
        assert DeliveryOutcome.FAILED not in outcomes
    assert results[0].outcome is DeliveryOutcome.RETRY
    assert results[0].error
    assert harness.stored() == Counter()

    harness.repair_receiver()
    retried = await harness.sink.deliver(events)
    assert all(result.ok for result in retried)
    assert harness.stored() == Counter({event.event_key: 1 for event in events})


async def test_sink_never_delivers_after_a_failure(
    harness: Harness, events: list[OutboxEvent]
) -> None:
    # Deliver the first event, then break the receiver for the rest.
    first = await harness.sink.deliver(events[:1])
    harness.break_receiver()
    rest = await harness.sink.deliver(events[1:])

    outcomes = [result.outcome for result in first + rest]
    for sequence in outcomes_by_conversation(events, outcomes).values():
        delivered = [outcome is DeliveryOutcome.DELIVERED for outcome in sequence]
        assert delivered == sorted(delivered, reverse=True), sequence


async def test_sink_empty_batch_and_double_close(harness: Harness) -> None:
    assert await harness.sink.deliver([]) == []
    assert harness.sink.describe()
    await harness.sink.close()
    await harness.sink.close()
