"""Dry run numbers, approval, expiry and cancel, against a real SQLite store."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from socialinbox.broadcast import (
    Audience,
    BroadcastError,
    BroadcastStatus,
    Sender,
    Target,
    approve_broadcast,
    cancel_broadcast,
    create_broadcast,
    get_broadcast,
    list_deliveries,
    plan_broadcast,
)
from socialinbox.model import Batch, ContactStatus, Platform, utc_now
from socialinbox.store import Store
from socialinbox.testing.telegram import TelegramEmulator
from tests.broadcast.support import (
    BOT_ID,
    IG_ID,
    PAGE_ID,
    draft,
    inbound,
    status_event,
    tag_contacts,
    telegram_account,
)


@pytest.fixture
def store(sqlite_url: str) -> Store:
    return Store.open(sqlite_url)


def seed_mixed(store: Store) -> None:
    """Telegram: 5 contacts, one opted out, one blocked the bot.
    Messenger: 3 contacts, one inside the 24-hour window. Instagram: 2, both inside."""
    now = utc_now()
    items = [inbound(Platform.TELEGRAM, BOT_ID, str(100 + i), now - timedelta(days=3)) for i in range(5)]
    items += [
        inbound(Platform.MESSENGER, PAGE_ID, "m1", now - timedelta(hours=2)),
        inbound(Platform.MESSENGER, PAGE_ID, "m2", now - timedelta(hours=30)),
        inbound(Platform.MESSENGER, PAGE_ID, "m3", now - timedelta(days=9)),
        inbound(Platform.INSTAGRAM, IG_ID, "i1", now - timedelta(hours=1)),
        inbound(Platform.INSTAGRAM, IG_ID, "i2", now - timedelta(hours=23)),
    ]
    items += [
        status_event(Platform.TELEGRAM, BOT_ID, "100", ContactStatus.OPTED_OUT, now),
        status_event(Platform.TELEGRAM, BOT_ID, "101", ContactStatus.BLOCKED_US, now),
    ]
    store.ingest(Batch(items=tuple(items)))


def test_dry_run_counts_and_exclusions(store: Store) -> None:
    seed_mixed(store)
    now = utc_now()
    created = create_broadcast(
        store.engine,
        draft(
            now,
            Target(kind="dm"),
            Target(kind="channel", platform=Platform.TELEGRAM, chat="@duyurular"),
            Target(kind="post", platform=Platform.X),
        ),
        now=now,
    )
    plan = plan_broadcast(store.engine, created, now=now)
    dm, channel, post = plan.targets

    assert dict(dm.reach()) == {"telegram": 3, "messenger": 1, "instagram": 2}
    assert dict(dm.excluded()) == {"opted_out": 1, "blocked_us": 1, "window_closed": 2}
    excluded_chats = {(item.recipient.chat_id, item.reason) for item in dm.exclusions}
    assert excluded_chats == {
        ("100", "opted_out"),
        ("101", "blocked_us"),
        ("m2", "window_closed"),
        ("m3", "window_closed"),
    }
    assert dict(channel.reach()) == {"telegram": 1}
    assert dict(post.reach()) == {"x": 1}
    assert plan.errors == []
    document = plan.as_dict()
    telegram = next(item for item in document["renderings"] if item["platform"] == "telegram")
    assert telegram["text"] == "<b>Planlı bakım</b> bu gece 02:00-04:00."
    # The dry run writes nothing.
    assert list_deliveries(store.engine, created.id) == []


def test_meta_tag_reaches_contacts_outside_window(store: Store) -> None:
    seed_mixed(store)
    now = utc_now()
    created = create_broadcast(
        store.engine,
        draft(now, Target(kind="dm", audience=Audience(platforms=(Platform.MESSENGER,))), meta_tag="ACCOUNT_UPDATE"),
        now=now,
    )
    (dm,) = plan_broadcast(store.engine, created, now=now).targets
    assert dict(dm.reach()) == {"messenger": 3}
    assert dm.exclusions == []


def test_audience_by_tag_and_segment(store: Store) -> None:
    seed_mixed(store)
    tag_contacts(store, Platform.TELEGRAM, ["102", "103"], ["vip"])
    now = utc_now()
    audience = Audience(platforms=(Platform.TELEGRAM,), tags=("vip",))
    created = create_broadcast(store.engine, draft(now, Target(kind="dm", audience=audience)), now=now)
    (dm,) = plan_broadcast(store.engine, created, now=now).targets
    assert sorted(recipient.chat_id for recipient in dm.recipients) == ["102", "103"]

    recent = Audience(segment="recent:1d")
    created = create_broadcast(store.engine, draft(now, Target(kind="dm", audience=recent)), now=now)
    (dm,) = plan_broadcast(store.engine, created, now=now).targets
    assert sorted(recipient.chat_id for recipient in dm.recipients) == ["i1", "i2", "m1"]


def test_same_contact_in_two_dm_targets_counted_once(store: Store) -> None:
    seed_mixed(store)
    now = utc_now()
    created = create_broadcast(
        store.engine,
        draft(now, Target(kind="dm", audience=Audience(platforms=(Platform.INSTAGRAM,))), Target(kind="dm")),
        now=now,
    )
    first, second = plan_broadcast(store.engine, created, now=now).targets
    assert dict(first.reach()) == {"instagram": 2}
    assert second.duplicates == 2
    assert "instagram" not in second.reach()


def test_two_person_approval(store: Store) -> None:
    now = utc_now()
    created = create_broadcast(store.engine, draft(now, approvals_required=1), now=now)
    assert created.status is BroadcastStatus.DRAFT

    with pytest.raises(BroadcastError, match="another person must approve"):
        approve_broadcast(store.engine, created.id, user="ayse", now=now)
    assert get_broadcast(store.engine, created.id).status is BroadcastStatus.DRAFT

    with pytest.raises(BroadcastError, match="needs approval"):
        asyncio.run(Sender(store, []).run(created.id))

    approved = approve_broadcast(store.engine, created.id, user="mehmet", now=now)
    assert approved.status is BroadcastStatus.APPROVED
    assert approved.approved_by == "mehmet"
    with pytest.raises(BroadcastError, match="only a draft"):
        approve_broadcast(store.engine, created.id, user="zeynep", now=now)


def test_without_two_person_approval_is_immediate(store: Store) -> None:
    now = utc_now()
    assert create_broadcast(store.engine, draft(now), now=now).status is BroadcastStatus.APPROVED


async def test_expired_announcement_is_never_sent(store: Store) -> None:
    with TelegramEmulator(limits=False) as emulator:
        emulator.add_chat(500)
        now = utc_now()
        store.ingest(Batch(items=(inbound(Platform.TELEGRAM, BOT_ID, "500", now - timedelta(hours=1)),)))
        scheduled = now - timedelta(hours=3)
        created = create_broadcast(
            store.engine,
            draft(scheduled, scheduled_at=scheduled, expires_at=now - timedelta(minutes=1)),
            now=scheduled,
        )
        account = telegram_account(emulator)
        report = await Sender(store, [account]).run(created.id)
        await account.adapter.close()

        assert report.status is BroadcastStatus.EXPIRED
        assert get_broadcast(store.engine, created.id).status is BroadcastStatus.EXPIRED
        assert emulator.sent == []
        assert list_deliveries(store.engine, created.id) == []


async def test_not_due_yet_is_refused(store: Store) -> None:
    now = utc_now()
    later = now + timedelta(hours=2)
    created = create_broadcast(store.engine, draft(now, scheduled_at=later, expires_at=later + timedelta(hours=1)), now=now)
    with pytest.raises(BroadcastError, match="scheduled for"):
        await Sender(store, []).run(created.id)


def test_cancel_skips_pending_rows(store: Store) -> None:
    now = utc_now()
    created = create_broadcast(store.engine, draft(now, approvals_required=1), now=now)
    assert cancel_broadcast(store.engine, created.id, user="mehmet", now=now) == 0
    cancelled = get_broadcast(store.engine, created.id)
    assert cancelled.status is BroadcastStatus.CANCELLED
    assert cancelled.cancelled_by == "mehmet"
    with pytest.raises(BroadcastError, match="cannot be cancelled"):
        cancel_broadcast(store.engine, created.id, user="mehmet", now=now)
    with pytest.raises(BroadcastError, match="only a draft"):
        approve_broadcast(store.engine, created.id, user="zeynep", now=now)
