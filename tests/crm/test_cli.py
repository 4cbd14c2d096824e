"""``socialinbox outbox list|retry`` on dead letters produced by the delivery worker."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from click.testing import CliRunner

import socialinbox.cli.outbox  # noqa: F401 - registers the outbox command
from socialinbox.cli.main import build_cli
from socialinbox.crm.base import OutboxEvent
from socialinbox.crm.callback import CallbackSink
from socialinbox.crm.delivery import DeliveryWorker, RetryPolicy
from socialinbox.errors import SinkError
from socialinbox.store import Store
from tests.crm.support import Clock, ingest, message, outbox_events


class Flaky:
    def __init__(self) -> None:
        self.down = True
        self.keys: list[str] = []

    async def __call__(self, event: OutboxEvent) -> None:
        if self.down:
            raise SinkError("CRM answered 503", sink="crm")
        self.keys.append(event.event_key)


async def test_outbox_dead_letters_and_retry(store: Store, database_url: str) -> None:
    flaky = Flaky()
    ingest(store, message("51", 1), message("52", 2), message("53", 3))
    ids = [event.id for event in outbox_events(store)]
    worker = DeliveryWorker(
        store,
        [CallbackSink(flaky, name="crm")],
        retry=RetryPolicy(max_attempts=1),
        clock=Clock(),
    )
    await worker.drain()
    runner = CliRunner()
    cli = build_cli("en")
    base = ["--database", database_url, "outbox"]

    listed = runner.invoke(cli, [*base, "list", "--status", "dead", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    document = json.loads(listed.output)
    assert [row["outbox_id"] for row in document["deliveries"]] == ids
    assert {row["status"] for row in document["deliveries"]} == {"dead"}
    assert {row["last_error"] for row in document["deliveries"]} == {"CRM answered 503"}
    assert document["unassigned"] == 0

    text = runner.invoke(cli, [*base, "list"])
    assert text.exit_code == 0
    assert "dead letter" in text.output
    assert "503" in text.output

    table = runner.invoke(cli, [*base, "list", "--sink", "crm", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(table.output)))
    assert [int(row["outbox_id"]) for row in rows] == ids
    assert {row["status"] for row in rows} == {"dead"}

    retried = runner.invoke(cli, [*base, "retry", str(ids[0]), "--sink", "crm"])
    assert retried.exit_code == 0
    assert retried.output == (
        "1 dead letters moved back to pending. The daemon delivers them on its next round.\n"
    )
    pending = runner.invoke(cli, [*base, "list", "--status", "pending", "--format", "json"])
    assert [row["outbox_id"] for row in json.loads(pending.output)["deliveries"]] == ids[:1]

    flaky.down = False
    await worker.drain()
    assert flaky.keys == [outbox_events(store)[0].event_key]

    rest = runner.invoke(cli, [*base, "retry"])
    assert rest.output.startswith("2 dead letters moved back to pending.")
    await worker.drain()
    assert len(flaky.keys) == 3
    delivered = runner.invoke(cli, [*base, "list", "--status", "delivered", "--format", "json"])
    assert len(json.loads(delivered.output)["deliveries"]) == 3
    empty = runner.invoke(cli, [*base, "list"])
    assert empty.output == "No deliveries match.\n"


async def test_outbox_in_turkish(store: Store, database_url: str) -> None:
    flaky = Flaky()
    ingest(store, message("54", 1))
    worker = DeliveryWorker(
        store,
        [CallbackSink(flaky, name="crm")],
        retry=RetryPolicy(max_attempts=2, jitter=timedelta(0)),
        clock=Clock(),
    )
    await worker.drain()
    ingest(store, message("55", 2))
    runner = CliRunner()
    cli = build_cli("tr")
    base = ["--database", database_url, "outbox"]

    listed = runner.invoke(cli, [*base, "list"])
    unknown = runner.invoke(cli, [*base, "retry", "999"])
    help_text = runner.invoke(cli, [*base, "--help"])

    assert listed.exit_code == 0
    assert "başarısız" in listed.output
    assert "Son hata" in listed.output
    assert "Kaydedilen 1 olay henüz hiçbir hedef tarafından alınmadı." in listed.output
    assert unknown.exit_code == 1
    assert unknown.output == (
        "Eşleşen teslim edilemeyen kayıt yok. "
        "Görmek için `socialinbox outbox list --status dead` çalıştırın.\n"
    )
    assert "yeniden başlat" in help_text.output
