"""Ingest pipeline throughput against a raw executemany baseline, in one run.

Measures, on SQLite and (when a server is given) PostgreSQL:

1. ``baseline``: raw SQLAlchemy Core ``executemany`` inserts of exactly the
   rows the pipeline writes (contacts, conversations, messages, outbox),
   built beforehand, into the same schema, in batches of the same size, one
   transaction per batch;
2. ``pipeline``: Telegram update dicts through the real codec (normalize),
   then ``Store.ingest`` (dedup, conversations, contacts, messages, outbox),
   one transaction per batch;
3. ``pipeline_preloaded``: the same pipeline into a store that already holds
   ``--preload`` messages.

Targets: pipeline >= 0.5 x baseline rate; preloaded >= 0.8 x the pipeline's
own rate on an empty store; peak RSS under 300 MB.

Usage::

    python benchmarks/ingest.py                      # SQLite, 100,000 messages, 1,000,000 preloaded
    python benchmarks/ingest.py --postgres URL       # also PostgreSQL
    python benchmarks/ingest.py --messages 20000 --preload 100000   # quick run
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from socialinbox.model import Contact, Direction, Message, MessageKey, Platform
from socialinbox.replay import normalize
from socialinbox.store import Store
from socialinbox.store.codec import message_to_row
from socialinbox.store.tables import ContactRow, ConversationRow, MessageRow, OutboxRow, table_of

BATCH = 1000
CHATS = 2000
ACCOUNT = "7000000001"
START = datetime(2026, 1, 1, tzinfo=UTC)
TEXTS = [
    "Merhaba, para çekme talebim 3 gündür beklemede, yardımcı olur musunuz? 🙏",
    "Yatırdığım tutar hesabıma geçmedi, dekont ekte.",
    "Kimlik doğrulama belgem neden reddedildi?",
    "Uygulama açılırken çöküyor, iPhone 15 kullanıyorum.",
    "Bonus çevrim şartlarını öğrenebilir miyim?",
]


def telegram_update(number: int) -> dict[str, Any]:
    chat = 100_000_000 + number % CHATS
    return {
        "update_id": 500_000_000 + number,
        "message": {
            "message_id": number,
            "date": int((START + timedelta(seconds=number)).timestamp()),
            "chat": {"id": chat, "type": "private", "first_name": "Ayşe", "username": f"u{chat}"},
            "from": {
                "id": chat,
                "is_bot": False,
                "first_name": "Ayşe",
                "username": f"u{chat}",
                "language_code": "tr",
            },
            "text": TEXTS[number % len(TEXTS)],
        },
    }


def updates(first: int, count: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(first, first + count, BATCH):
        yield [
            telegram_update(number) for number in range(start, min(start + BATCH, first + count))
        ]


def plain_message(number: int) -> Message:
    chat = str(100_000_000 + number % CHATS)
    when = START + timedelta(seconds=number)
    return Message(
        key=MessageKey(
            platform=Platform.TELEGRAM, account_id=ACCOUNT, chat_id=chat, message_id=str(number)
        ),
        direction=Direction.INBOUND,
        text=TEXTS[number % len(TEXTS)],
        sent_at=when,
        received_at=when,
        sender=Contact(platform=Platform.TELEGRAM, user_id=chat, display_name="Ayşe"),
    )


def conversation_ids(store: Store) -> dict[str, int]:
    """Create one conversation row per chat and return their ids (setup, not timed)."""
    conversations = table_of(ConversationRow)
    rows = [
        {
            "platform": "telegram",
            "account_id": ACCOUNT,
            "chat_id": str(100_000_000 + chat),
            "is_group": False,
            "tags": [],
            "priority": 0,
            "status": "open",
        }
        for chat in range(CHATS)
    ]
    with store.engine.begin() as connection:
        existing = connection.execute(
            sa.select(sa.func.count()).select_from(conversations)
        ).scalar_one()
        if not existing:
            connection.execute(conversations.insert(), rows)
        found = connection.execute(sa.select(conversations.c.id, conversations.c.chat_id)).all()
    return {row.chat_id: row.id for row in found}


def run_baseline(store: Store, count: int, first: int = 0) -> float:
    """Insert the rows the pipeline writes, with plain executemany; return messages per second.

    The pipeline writes four tables per batch: contacts, conversations,
    messages and outbox. The baseline builds exactly those rows outside the
    timed part (by running the pipeline once into a scratch store and reading
    its tables back) and then times bare ``executemany`` inserts of them, one
    transaction per batch, with no lookups, no conflict handling and no
    decoding.
    """
    with tempfile.TemporaryDirectory() as scratch_folder:
        scratch = Store.open(f"sqlite:///{Path(scratch_folder) / 'scratch.db'}")
        for chunk in updates(first, count):
            scratch.ingest(normalize(chunk, Platform.TELEGRAM, account_id=ACCOUNT))
        tables = [table_of(model) for model in (ContactRow, ConversationRow, MessageRow, OutboxRow)]
        with scratch.engine.connect() as connection:
            dumped = {
                table.name: [
                    dict(row._mapping)
                    for row in connection.execute(sa.select(table).order_by(table.c.id))
                ]
                for table in tables
            }
        scratch.close()

    # Each contact and conversation goes in with the batch of its first
    # message, as in the pipeline; messages and outbox rows keep their order.
    batches = (count + BATCH - 1) // BATCH
    first_batch: dict[str, int] = {}
    for position, row in enumerate(dumped["messages"]):
        first_batch.setdefault(row["chat_id"], position // BATCH)
    per_batch: list[list[tuple[sa.Table, list[dict[str, Any]]]]] = [
        [(table, []) for table in tables] for _ in range(batches)
    ]
    for table_index, table in enumerate(tables):
        for position, row in enumerate(dumped[table.name]):
            if table.name == "contacts":
                index = first_batch[row["user_id"]]
            elif table.name == "conversations":
                index = first_batch[row["chat_id"]]
            else:
                index = position // BATCH
            per_batch[index][table_index][1].append(row)

    began = time.perf_counter()
    for step in per_batch:
        with store.engine.begin() as connection:
            for table, rows in step:
                if rows:
                    connection.execute(table.insert(), rows)
    return count / (time.perf_counter() - began)


def run_pipeline(store: Store, count: int, first: int = 0) -> float:
    """Decode Telegram updates and ingest them; return messages per second."""
    stored = 0
    began = time.perf_counter()
    for chunk in updates(first, count):
        batch = normalize(chunk, Platform.TELEGRAM, account_id=ACCOUNT)
        stored += store.ingest(batch).messages_stored
    elapsed = time.perf_counter() - began
    if stored != count:
        raise SystemExit(f"pipeline stored {stored} of {count} messages")
    return count / elapsed


def preload(store: Store, count: int, first: int) -> None:
    """Fill the store with ``count`` messages quickly (raw insert, not timed)."""
    ids = conversation_ids(store)
    messages = table_of(MessageRow)
    for start in range(first, first + count, 10_000):
        rows = []
        for number in range(start, min(start + 10_000, first + count)):
            message = plain_message(number)
            rows.append(message_to_row(message, ids[message.key.chat_id]))
        with store.engine.begin() as connection:
            connection.execute(messages.insert(), rows)


def fresh_store(kind: str, folder: Path, name: str, postgres_url: str | None) -> Store:
    if kind == "sqlite":
        return Store.open(f"sqlite:///{folder / (name + '.db')}")
    assert postgres_url is not None
    url = sa.make_url(postgres_url)
    database = f"bench_{name}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return Store.open(url.set(database=database).render_as_string(hide_password=False))


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_phase(phase: str, kind: str, args: argparse.Namespace, folder: Path) -> dict[str, float]:
    """Run one phase in this process; return its rate and this process's peak RSS."""
    store = fresh_store(kind, folder, phase, args.postgres)
    if phase == "baseline":
        rate = run_baseline(store, args.messages)
    elif phase == "pipeline":
        rate = run_pipeline(store, args.messages)
    else:
        preload(store, args.preload, first=10_000_000)
        rate = run_pipeline(store, args.messages)
    store.close()
    return {"rate": rate, "peak_rss_mb": peak_rss_mb()}


def measure(kind: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Run each phase in a child process, so that each peak RSS is its own."""
    results: dict[str, Any] = {
        "database": kind,
        "messages": args.messages,
        "batch": BATCH,
        "preloaded": args.preload,
    }
    for phase in ("baseline", "pipeline", "preloaded"):
        command = [
            sys.executable,
            __file__,
            "--phase",
            phase,
            "--database-kind",
            kind,
            "--folder",
            str(folder),
            "--messages",
            str(args.messages),
            "--preload",
            str(args.preload),
        ]
        if args.postgres:
            command += ["--postgres", args.postgres]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        phase_result = json.loads(output)
        results[f"{phase}_rate"] = phase_result["rate"]
        results[f"{phase}_peak_rss_mb"] = phase_result["peak_rss_mb"]
    results["pipeline_vs_baseline"] = results["pipeline_rate"] / results["baseline_rate"]
    results["preloaded_vs_empty"] = results["preloaded_rate"] / results["pipeline_rate"]
    results["peak_rss_mb"] = max(results["pipeline_peak_rss_mb"], results["preloaded_peak_rss_mb"])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--preload", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", metavar="URL", help="PostgreSQL server URL (a scratch database is created)"
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument(
        "--phase", choices=["baseline", "pipeline", "preloaded"], help=argparse.SUPPRESS
    )
    parser.add_argument("--database-kind", default="sqlite", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(run_phase(args.phase, args.database_kind, args, Path(args.folder))))
        return

    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    all_results = []
    with tempfile.TemporaryDirectory() as folder:
        for kind in kinds:
            all_results.append(measure(kind, args, Path(folder)))

    if args.json:
        print(json.dumps(all_results, indent=2))
        return
    for result in all_results:
        print(
            f"{result['database']}: {result['messages']} messages in batches of {result['batch']}"
        )
        print(f"  baseline executemany     {result['baseline_rate']:>10.0f} msg/s")
        print(
            f"  pipeline (empty store)   {result['pipeline_rate']:>10.0f} msg/s  ratio {result['pipeline_vs_baseline']:.2f} (target >= 0.50)"
        )
        print(
            f"  pipeline ({result['preloaded']:,} stored) {result['preloaded_rate']:>8.0f} msg/s  ratio {result['preloaded_vs_empty']:.2f} (target >= 0.80)"
        )
        print(f"  peak RSS of the pipeline {result['peak_rss_mb']:>10.0f} MB (target < 300)")
    failed = [
        result
        for result in all_results
        if result["pipeline_vs_baseline"] < 0.5
        or result["preloaded_vs_empty"] < 0.8
        or result["peak_rss_mb"] >= 300
    ]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
