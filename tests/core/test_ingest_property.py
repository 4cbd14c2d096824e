"""Property: replaying batches any number of times, in any order, leaves the same store."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialinbox.model import (
    Batch,
    Contact,
    ContactStatus,
    ContactStatusEvent,
    DeleteEvent,
    Direction,
    EditEvent,
    Ignored,
    Item,
    Platform,
    Quarantined,
    ReactionEvent,
    ReadEvent,
)
from socialinbox.store import Store
from tests.storehelpers import T0, clear, key, message, snapshot

MESSAGE_IDS = ["1", "2", "3", "4"]
CHATS = ["c1", "c2"]


def _message_item(draw: Any) -> Item:
    message_id = draw(st.sampled_from(MESSAGE_IDS))
    chat_id = draw(st.sampled_from(CHATS))
    # Content is a function of the key: a platform never sends two different
    # messages under one key, so redeliveries are identical.
    minutes = int(message_id) + 10 * CHATS.index(chat_id)
    direction = Direction.OUTBOUND if message_id == "4" else Direction.INBOUND
    return message(message_id, chat_id=chat_id, minutes=minutes, direction=direction)


def _event_item(draw: Any) -> Item:
    target = key(draw(st.sampled_from(MESSAGE_IDS)), draw(st.sampled_from(CHATS)))
    offset = timedelta(seconds=draw(st.integers(min_value=0, max_value=3)))
    kind = draw(st.sampled_from(["edit", "delete", "reaction", "read", "status"]))
    when = T0 + timedelta(hours=1) + offset
    if kind == "edit":
        return EditEvent(
            target=target,
            text=draw(st.sampled_from(["düzeltme A", "düzeltme B", None])),
            edit_number=draw(st.sampled_from([None, 1, 2])),
            occurred_at=when,
            received_at=T0,
        )
    if kind == "delete":
        return DeleteEvent(target=target, occurred_at=when, received_at=T0)
    if kind == "reaction":
        return ReactionEvent(
            target=target,
            actor_id=draw(st.sampled_from(["u1", "u2"])),
            emojis=draw(st.sampled_from([(), ("👍",), ("❤️", "🔥")])),
            occurred_at=when,
            received_at=T0,
        )
    if kind == "read":
        return ReadEvent(
            conversation=target.conversation,
            reader_id="u1",
            watermark=when,
            occurred_at=when,
            received_at=T0,
        )
    return ContactStatusEvent(
        account_id=target.account_id,
        contact=Contact(platform=Platform.TELEGRAM, user_id=f"u-{target.chat_id}"),
        status=draw(st.sampled_from([ContactStatus.ACTIVE, ContactStatus.BLOCKED_US])),
        occurred_at=when,
        received_at=T0,
    )


@st.composite
def items(draw: Any) -> Item:
    if draw(st.booleans()):
        return _message_item(draw)
    return _event_item(draw)


@st.composite
def batches(draw: Any) -> Batch:
    chosen = draw(st.lists(items(), min_size=0, max_size=6))
    quarantined: tuple[Quarantined, ...] = ()
    ignored: tuple[Ignored, ...] = ()
    if draw(st.booleans()):
        number = draw(st.integers(min_value=0, max_value=2))
        quarantined = (
            Quarantined(
                platform=Platform.TELEGRAM, reason="bad update", raw=f"bad {number}".encode()
            ),
        )
    if draw(st.booleans()):
        number = draw(st.integers(min_value=0, max_value=2))
        ignored = (
            Ignored.of(
                Platform.TELEGRAM, {"n": number}, kind="poll", reason="polls are not ingested"
            ),
        )
    return Batch(items=tuple(chosen), quarantined=quarantined, ignored=ignored)


@pytest.fixture
def store_pair(database_url: str) -> Iterator[tuple[Store, Store]]:
    """Two stores on one database kind; the second lives in a separate database or file."""
    first = Store.open(database_url)
    if database_url.startswith("sqlite"):
        second_url = database_url.replace("socialinbox.db", "replayed.db")
    else:
        import uuid

        import sqlalchemy as sa

        url = sa.make_url(database_url)
        name = f"{url.database}_r{uuid.uuid4().hex[:6]}"
        with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        second_url = url.set(database=name).render_as_string(hide_password=False)
    second = Store.open(second_url)
    yield first, second
    first.close()
    second.close()
    if not database_url.startswith("sqlite"):
        import sqlalchemy as sa

        admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(
                sa.text(
                    f'DROP DATABASE IF EXISTS "{sa.make_url(second_url).database}" WITH (FORCE)'
                )
            )
        admin.dispose()


@settings(
    # Raise SOCIALINBOX_PROPERTY_EXAMPLES for a deeper local search.
    max_examples=int(os.environ.get("SOCIALINBOX_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(generated=st.lists(batches(), min_size=1, max_size=5), seed=st.integers(0, 2**16))
def test_replay_in_any_order_is_idempotent(
    store_pair: tuple[Store, Store], generated: list[Batch], seed: int
) -> None:
    reference, replayed = store_pair
    clear(reference)
    clear(replayed)
    shuffler = random.Random(seed)

    for batch in generated:
        reference.ingest(batch)

    # Replay: every batch at least once, some twice or three times, the batches
    # and the items inside each in a shuffled order.
    replay_plan = [batch for batch in generated for _ in range(shuffler.randint(1, 3))]
    shuffler.shuffle(replay_plan)
    for batch in replay_plan:
        shuffled = list(batch.items)
        shuffler.shuffle(shuffled)
        replayed.ingest(batch.model_copy(update={"items": tuple(shuffled)}))

    assert snapshot(replayed) == snapshot(reference)


def test_snapshot_detects_a_difference(store_pair: tuple[Store, Store]) -> None:
    """Guard for the property above: two stores that differ do not compare equal."""
    reference, replayed = store_pair
    reference.ingest(Batch(items=(message("1"),)))
    replayed.ingest(Batch(items=(message("2"),)))

    assert snapshot(replayed) != snapshot(reference)
