"""Ingest pipeline throughput against a raw executemany baseline, in one run.

Measures, on SQLite and (when a server is given) PostgreSQL:

1. ``baseline``: a raw SQLAlchemy Core ``executemany`` of pre-built message
   rows into the ``messages`` table of the same schema, in batches of the
   same size, one transaction per batch;
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
from socialinbox.store.tables import Base, ConversationRow, MessageRow, table_of

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
    """Insert the rows the pipeline would store, with plain executemany; return messages per second.

    The rows are built outside the timed part from the same Telegram updates
    the pipeline decodes, so both store exactly the same data.
    """
    ids = conversation_ids(store)
    messages = table_of(MessageRow)
    prepared = []
    for chunk in updates(first, count):
        batch = normalize(chunk, Platform.TELEGRAM, account_id=ACCOUNT)
        prepared.append(
            [message_to_row(message, ids[message.key.chat_id]) for message in batch.messages]
        )
    began = time.perf_counter()
    for rows in prepared:
        with store.engine.begin() as connection:
            connection.execute(messages.insert(), rows)
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


def measure(kind: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"database": kind, "messages": args.messages, "batch": BATCH}

    store = fresh_store(kind, folder, "baseline", args.postgres)
    results["baseline_rate"] = run_baseline(store, args.messages)
    store.close()

    store = fresh_store(kind, folder, "pipeline", args.postgres)
    results["pipeline_rate"] = run_pipeline(store, args.messages)
    store.close()

    store = fresh_store(kind, folder, "preloaded", args.postgres)
    preload(store, args.preload, first=10_000_000)
    results["preloaded"] = args.preload
    results["pipeline_preloaded_rate"] = run_pipeline(store, args.messages)
    store.close()

    results["pipeline_vs_baseline"] = results["pipeline_rate"] / results["baseline_rate"]
    results["preloaded_vs_empty"] = results["pipeline_preloaded_rate"] / results["pipeline_rate"]
    results["peak_rss_mb"] = peak_rss_mb()
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
    args = parser.parse_args()

    Base.metadata  # noqa: B018 - the schema is created by Store.open through migrations
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
            f"  pipeline ({result['preloaded']:,} stored) {result['pipeline_preloaded_rate']:>8.0f} msg/s  ratio {result['preloaded_vs_empty']:.2f} (target >= 0.80)"
        )
        print(f"  peak RSS so far          {result['peak_rss_mb']:>10.0f} MB (target < 300)")
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
