"""The store and the ingest pipeline against real SQLite and PostgreSQL databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from socialinbox.errors import ConfigError
from socialinbox.ingest import CursorUpdate
from socialinbox.model import (
    Attachment,
    AttachmentStatus,
    AttachmentType,
    Batch,
    Contact,
    ContactStatus,
    ContactStatusEvent,
    DeleteEvent,
    Direction,
    EditEvent,
    Ignored,
    Platform,
    PostbackEvent,
    Quarantined,
    ReactionEvent,
    ReadEvent,
)
from socialinbox.store import Store, open_store
from socialinbox.store.engine import current_revision, head_revision
from socialinbox.store.tables import OutboxRow, table_of
from tests.storehelpers import T0, key, message, snapshot


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store.open(database_url)
    yield opened
    opened.close()


def outbox_payloads(store: Store) -> dict[str, dict[str, Any]]:
    outbox = table_of(OutboxRow)
    with store.engine.connect() as connection:
        rows = connection.execute(sa.select(outbox.c.kind, outbox.c.payload)).all()
    return {f"{row.kind}#{index}": row.payload for index, row in enumerate(rows)}


class TestDeduplication:
    def test_same_batch_twice_changes_nothing(self, store: Store) -> None:
        batch = Batch(items=(message("1"), message("2", minutes=1)))

        first = store.ingest(batch)
        before = snapshot(store)
        second = store.ingest(batch)

        assert first.messages_stored == 2
        assert second.messages_stored == 0
        assert second.duplicates == 2
        assert second.outbox == 0
        assert snapshot(store) == before

    def test_duplicate_inside_one_batch_is_counted(self, store: Store) -> None:
        result = store.ingest(Batch(items=(message("1"), message("1"))))

        assert result.messages_stored == 1
        assert result.duplicates == 1
        assert store.counts()["outbox"] == 1

    def test_same_message_id_in_two_chats_is_two_messages(self, store: Store) -> None:
        result = store.ingest(
            Batch(items=(message("273", chat_id="a"), message("273", chat_id="b")))
        )

        assert result.messages_stored == 2
        assert store.get_message(key("273", "a")) is not None
        assert store.get_message(key("273", "b")) is not None


class TestMessagesAndConversations:
    def test_stored_message_reads_back_unchanged(self, store: Store) -> None:
        original = message("1", text="Para çekme talebim onaylanmadı İĞÜŞÖÇ ığüşöç 👍🏽 𝒜")

        store.ingest(Batch(items=(original,)))
        stored = store.get_message(original.key)

        assert stored is not None
        assert stored.text == original.text
        assert stored.sent_at == original.sent_at
        assert stored.sent_at.tzinfo is not None
        assert stored.sender == original.sender

    def test_conversation_tracks_first_and_last_times(self, store: Store) -> None:
        store.ingest(Batch(items=(message("2", minutes=5), message("1", minutes=1))))
        store.ingest(Batch(items=(message("3", minutes=3, direction=Direction.OUTBOUND),)))

        conversation = store.get_conversation(key("1").conversation)

        assert conversation is not None
        assert conversation.first_message_at == T0 + timedelta(minutes=1)
        assert conversation.last_message_at == T0 + timedelta(minutes=5)
        assert conversation.last_inbound_at == T0 + timedelta(minutes=5)
        assert conversation.contact_user_id == "u-c1"

    def test_postback_opens_the_messaging_window(self, store: Store) -> None:
        postback = PostbackEvent(
            conversation=key("x", "c9", Platform.MESSENGER).conversation,
            sender=Contact(platform=Platform.MESSENGER, user_id="c9"),
            payload="GET_STARTED",
            occurred_at=T0,
            received_at=T0,
        )

        store.ingest(Batch(items=(postback,)))
        conversation = store.get_conversation(postback.conversation)

        assert conversation is not None
        assert conversation.last_inbound_at == T0

    def test_read_event_sets_last_read(self, store: Store) -> None:
        store.ingest(Batch(items=(message("1"),)))
        read = ReadEvent(
            conversation=key("1").conversation,
            reader_id="u-c1",
            watermark=T0 + timedelta(minutes=2),
            occurred_at=T0 + timedelta(minutes=3),
            received_at=T0,
        )

        store.ingest(Batch(items=(read,)))
        conversation = store.get_conversation(key("1").conversation)

        assert conversation is not None
        assert conversation.last_read_at == T0 + timedelta(minutes=2)

    def test_messages_after_watermark(self, store: Store) -> None:
        store.ingest(Batch(items=(message("1"), message("2", minutes=1))))
        first_page = store.messages_after(0, limit=1)
        store.ingest(Batch(items=(message("3", minutes=2),)))

        rest = store.messages_after(first_page[-1].seq)

        assert [stored.message.key.message_id for stored in first_page] == ["1"]
        assert [stored.message.key.message_id for stored in rest] == ["2", "3"]

    def test_list_messages_filters_by_direction(self, store: Store) -> None:
        store.ingest(
            Batch(items=(message("1"), message("2", minutes=1, direction=Direction.OUTBOUND)))
        )

        outbound = store.list_messages(direction=Direction.OUTBOUND)

        assert [item.key.message_id for item in outbound] == ["2"]


class TestEvents:
    def test_edit_replaces_text_and_keeps_revision(self, store: Store) -> None:
        store.ingest(Batch(items=(message("1", text="ilk"),)))
        edit = EditEvent(
            target=key("1"),
            text="düzeltilmiş",
            occurred_at=T0 + timedelta(minutes=1),
            received_at=T0,
        )

        store.ingest(Batch(items=(edit,)))
        stored = store.get_message(key("1"))

        assert stored is not None
        assert stored.text == "düzeltilmiş"
        assert stored.edit_count == 1
        assert [text for _, text in store.revisions(key("1"))] == ["düzeltilmiş"]

    def test_edit_before_message_is_linked_later(self, store: Store) -> None:
        edit = EditEvent(
            target=key("1"), text="sonra", occurred_at=T0 + timedelta(minutes=1), received_at=T0
        )

        early = store.ingest(Batch(items=(edit,)))
        store.ingest(Batch(items=(message("1", text="önce"),)))
        stored = store.get_message(key("1"))

        assert early.events == 1
        assert stored is not None
        assert stored.text == "sonra"
        assert stored.edit_count == 1

    def test_edits_apply_in_platform_order_not_arrival_order(self, store: Store) -> None:
        second = EditEvent(
            target=key("1"), text="iki", edit_number=2, occurred_at=T0, received_at=T0
        )
        first = EditEvent(
            target=key("1"), text="bir", edit_number=1, occurred_at=T0, received_at=T0
        )

        store.ingest(Batch(items=(message("1"), second)))
        store.ingest(Batch(items=(first,)))
        stored = store.get_message(key("1"))

        assert stored is not None
        assert stored.text == "iki"
        assert stored.edit_count == 2

    def test_delete_keeps_tombstone_and_erases_content(self, store: Store) -> None:
        photo = Attachment(
            type=AttachmentType.IMAGE, media_id="file-1", url="https://example.com/a.jpg"
        )
        original = message("1", text="kimlik fotoğrafım").model_copy(
            update={"attachments": (photo,)}
        )
        edit = EditEvent(
            target=key("1"),
            text="kimlik fotoğrafım ekte",
            occurred_at=T0 + timedelta(minutes=1),
            received_at=T0,
        )
        delete = DeleteEvent(target=key("1"), occurred_at=T0 + timedelta(minutes=2), received_at=T0)

        store.ingest(Batch(items=(original, edit)))
        store.ingest(Batch(items=(delete,)))
        stored = store.get_message(key("1"))

        assert stored is not None
        assert stored.deleted is True
        assert stored.text is None
        assert stored.raw is None
        assert [item.status for item in stored.attachments] == [AttachmentStatus.ERASED]
        assert stored.attachments[0].media_id is None
        assert [text for _, text in store.revisions(key("1"))] == [None]
        payload_text = repr(outbox_payloads(store))
        assert "kimlik" not in payload_text
        assert "example.com" not in payload_text

    def test_delete_before_message_still_erases(self, store: Store) -> None:
        delete = DeleteEvent(target=key("1"), occurred_at=T0, received_at=T0)

        store.ingest(Batch(items=(delete,)))
        store.ingest(Batch(items=(message("1", text="gizli"),)))
        stored = store.get_message(key("1"))

        assert stored is not None
        assert stored.deleted is True
        assert stored.text is None
        assert "gizli" not in repr(outbox_payloads(store))

    def test_reaction_latest_state_wins(self, store: Store) -> None:
        added = ReactionEvent(
            target=key("1"), actor_id="u1", emojis=("👍",), occurred_at=T0, received_at=T0
        )
        changed = ReactionEvent(
            target=key("1"),
            actor_id="u1",
            emojis=("❤️",),
            occurred_at=T0 + timedelta(seconds=5),
            received_at=T0,
        )
        other = ReactionEvent(
            target=key("1"), actor_id="u2", emojis=("🔥",), occurred_at=T0, received_at=T0
        )

        store.ingest(Batch(items=(message("1"), changed, other)))
        store.ingest(Batch(items=(added,)))

        assert store.reactions(key("1")) == {"u1": ("❤️",), "u2": ("🔥",)}

    def test_reaction_removal_clears_actor(self, store: Store) -> None:
        added = ReactionEvent(
            target=key("1"), actor_id="u1", emojis=("👍",), occurred_at=T0, received_at=T0
        )
        removed = ReactionEvent(
            target=key("1"),
            actor_id="u1",
            emojis=(),
            occurred_at=T0 + timedelta(seconds=1),
            received_at=T0,
        )

        store.ingest(Batch(items=(message("1"), added, removed)))

        assert store.reactions(key("1")) == {}

    def test_contact_status_event_blocks_contact(self, store: Store) -> None:
        contact = Contact(platform=Platform.TELEGRAM, user_id="u-c1")
        blocked = ContactStatusEvent(
            account_id="acct",
            contact=contact,
            status=ContactStatus.BLOCKED_US,
            occurred_at=T0 + timedelta(hours=1),
            received_at=T0,
        )
        older = ContactStatusEvent(
            account_id="acct",
            contact=contact,
            status=ContactStatus.ACTIVE,
            occurred_at=T0,
            received_at=T0,
        )

        store.ingest(Batch(items=(message("1"), blocked)))
        store.ingest(Batch(items=(older,)))

        assert store.contact_status(Platform.TELEGRAM, "acct", "u-c1") is ContactStatus.BLOCKED_US

    def test_redelivered_event_counts_once(self, store: Store) -> None:
        edit = EditEvent(target=key("1"), text="x", occurred_at=T0, received_at=T0)
        redelivered = edit.model_copy(update={"received_at": T0 + timedelta(hours=1)})

        store.ingest(Batch(items=(message("1"), edit)))
        result = store.ingest(Batch(items=(redelivered,)))

        assert result.events == 0
        assert result.event_duplicates == 1


class TestQuarantineAndCursor:
    def test_quarantine_keeps_reason_and_bytes(self, store: Store) -> None:
        bad = Quarantined(
            platform=Platform.TELEGRAM,
            reason="message is not an object",
            raw=b'{"message": "x"}\x80',
            location="f.json:3",
        )
        good = message("1")

        result = store.ingest(Batch(items=(good,), quarantined=(bad, bad)))
        entries = store.list_quarantine()

        assert result.messages_stored == 1
        assert result.reasons == {"message is not an object": 2}
        assert len(entries) == 1
        assert entries[0].raw == b'{"message": "x"}\x80'
        assert entries[0].reason == "message is not an object"
        assert entries[0].location == "f.json:3"

    def test_ignored_is_recorded_once(self, store: Store) -> None:
        typing = Ignored.of(Platform.X, {"typing": 1}, kind="typing", reason="typing indicator")

        store.ingest(Batch(ignored=(typing,)))
        store.ingest(Batch(ignored=(typing,)))

        assert store.counts()["ignored"] == 1

    def test_cursor_is_stored_with_batch(self, store: Store) -> None:
        cursor = CursorUpdate(Platform.TELEGRAM, "acct", "updates", "101")

        store.ingest(Batch(items=(message("1"),)), cursor)

        assert store.get_cursor(Platform.TELEGRAM, "acct", "updates") == "101"

    def test_failed_batch_leaves_cursor_and_messages_untouched(self, store: Store) -> None:
        store.ingest(
            Batch(items=(message("1"),)), CursorUpdate(Platform.TELEGRAM, "acct", "updates", "100")
        )

        def fail_on_cursor(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if "INSERT INTO cursors" in statement:
                raise RuntimeError("simulated crash while writing the cursor")

        sa.event.listen(store.engine, "before_cursor_execute", fail_on_cursor)
        with pytest.raises(RuntimeError, match="simulated crash"):
            store.ingest(
                Batch(items=(message("2"),)),
                CursorUpdate(Platform.TELEGRAM, "acct", "updates", "101"),
            )
        sa.event.remove(store.engine, "before_cursor_execute", fail_on_cursor)

        assert store.get_cursor(Platform.TELEGRAM, "acct", "updates") == "100"
        assert store.get_message(key("2")) is None
        assert store.counts()["outbox"] == 1


def test_open_migrates_to_head(database_url: str) -> None:
    with Store.open(database_url) as store:
        assert current_revision(store.engine) == head_revision()


def test_unsupported_database_url_is_rejected() -> None:
    with pytest.raises(ConfigError, match="unsupported database"):
        Store.open("mysql://user@127.0.0.1/db")


async def test_async_store_ingests_and_reads(sqlite_url: str) -> None:
    async with await open_store(sqlite_url) as store:
        result = await store.ingest(Batch(items=(message("1"),)))
        stored = await store.get_message(key("1"))
        page = await store.messages_after(0)

    assert result.messages_stored == 1
    assert stored is not None
    assert [item.message.key for item in page] == [key("1")]


def test_ingest_without_outbox_stores_but_emits_nothing(sqlite_url: str) -> None:
    with Store.open(sqlite_url) as store:
        edit = EditEvent(target=key("1"), text="x", occurred_at=T0, received_at=T0)

        result = store.ingest(Batch(items=(message("1"), edit)), emit_outbox=False)

        assert result.messages_stored == 1
        assert result.events == 1
        assert result.outbox == 0
        assert store.counts()["outbox"] == 0


def test_opt_out_keyword_marks_contact(sqlite_url: str) -> None:
    with Store.open(sqlite_url) as store:
        store.ingest(Batch(items=(message("1", text="DURDUR", minutes=1),)))
        opted_out = store.contact_status(Platform.TELEGRAM, "acct", "u-c1")
        store.ingest(Batch(items=(message("2", text="Başla!", minutes=2),)))
        restarted = store.contact_status(Platform.TELEGRAM, "acct", "u-c1")
        store.ingest(Batch(items=(message("3", text="stop sending me the invoice twice", minutes=3),)))
        unchanged = store.contact_status(Platform.TELEGRAM, "acct", "u-c1")

    assert opted_out is ContactStatus.OPTED_OUT
    assert restarted is ContactStatus.ACTIVE
    assert unchanged is ContactStatus.ACTIVE
