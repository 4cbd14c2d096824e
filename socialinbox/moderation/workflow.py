"""Store operations behind the moderator commands, in SQLAlchemy Core on the store's tables.

Conversation workflow state (status, assignee, priority, tags) lives on the
``conversations`` row; notes, identity links and views live in the
moderation tables (see :mod:`socialinbox.moderation.tables`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from socialinbox.errors import UsageError
from socialinbox.model import ConversationKey, Direction, Platform, utc_now
from socialinbox.moderation import tables as mod
from socialinbox.moderation.tables import dialect_insert
from socialinbox.moderation.text import Language, contains_phrase, fold, is_turkish, stem, tokens
from socialinbox.store.tables import (
    ContactRow,
    ConversationRow,
    EventRow,
    MessageRow,
    ReactionRow,
    RevisionRow,
    SendRow,
    table_of,
)

__all__ = [
    "ContactRef",
    "FaqGroup",
    "Stats",
    "ViewChange",
    "changes_since_view",
    "compute_stats",
    "erase_contact",
    "faq_groups",
    "find_conversation",
    "key_of",
    "link_contacts",
    "list_conversation_rows",
    "linked_contacts",
    "list_notes",
    "original_texts",
    "add_note",
    "record_view",
    "search_conversations",
    "unlink_contacts",
    "update_conversation",
]

messages = table_of(MessageRow)
conversations = table_of(ConversationRow)
contacts = table_of(ContactRow)
revisions = table_of(RevisionRow)
reactions = table_of(ReactionRow)
events = table_of(EventRow)
sends = table_of(SendRow)


def _where(table: sa.Table, key: ConversationKey) -> Any:
    return sa.and_(
        table.c.platform == key.platform.value,
        table.c.account_id == key.account_id,
        table.c.chat_id == key.chat_id,
    )


def find_conversation(engine: sa.Engine, reference: str) -> Any | None:
    """Return the ``conversations`` row named by its number or by ``platform:account:chat``."""
    query = sa.select(conversations)
    if reference.isdigit():
        query = query.where(conversations.c.id == int(reference))
    else:
        parts = reference.split(":", 2)
        if len(parts) != 3 or parts[0] not in {platform.value for platform in Platform}:
            return None
        query = query.where(
            conversations.c.platform == parts[0],
            conversations.c.account_id == parts[1],
            conversations.c.chat_id == parts[2],
        )
    with engine.connect() as connection:
        return connection.execute(query).one_or_none()


def list_conversation_rows(
    engine: sa.Engine,
    *,
    platform: str | None = None,
    status: str | None = None,
    assignee: str | None = None,
    tag: str | None = None,
    since: datetime | None = None,
) -> list[Any]:
    """Return ``conversations`` rows, highest priority first, then most recent activity.

    Conversations known only from events (a reaction or read receipt on a
    message never stored) have no message to show and are left out.
    """
    query = sa.select(conversations).where(conversations.c.last_message_at.is_not(None))
    if platform is not None:
        query = query.where(conversations.c.platform == platform)
    if status is not None:
        query = query.where(conversations.c.status == status)
    if assignee is not None:
        query = query.where(conversations.c.assignee == assignee)
    if since is not None:
        query = query.where(conversations.c.last_message_at >= since)
    query = query.order_by(
        conversations.c.priority.desc(),
        conversations.c.last_message_at.desc().nulls_last(),
        conversations.c.id,
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    # Tags are a JSON list, filtered here so the query stays portable.
    return [row for row in rows if tag is None or tag in (row.tags or ())]


def key_of(row: Any) -> ConversationKey:
    return ConversationKey(
        platform=Platform(row.platform), account_id=row.account_id, chat_id=row.chat_id
    )


def update_conversation(engine: sa.Engine, conversation_id: int, **values: Any) -> None:
    with engine.begin() as connection:
        connection.execute(
            conversations.update().where(conversations.c.id == conversation_id).values(**values)
        )


def original_texts(engine: sa.Engine, row: Any) -> dict[str, str | None]:
    """Return the text each edited message of the conversation had before its first edit."""
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(messages.c.message_id, messages.c.original_text).where(
                messages.c.conversation_id == row.id, messages.c.edit_count > 0
            )
        ).all()
    return {message_id: text for message_id, text in found}


def search_conversations(engine: sa.Engine, query: str, conversation_ids: list[int]) -> set[int]:
    """Return the ids among ``conversation_ids`` with a message or title that contains ``query``.

    Both sides are folded with diacritics removed, and with the Turkish I
    rules when the query or the message is Turkish, so ``cekim`` finds
    ``ÇEKİM`` and ``ISTANBUL`` finds ``ıstanbul``.
    """
    if not conversation_ids:
        return set()
    query_turkish = is_turkish(query)
    found: set[int] = set()
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(messages.c.conversation_id, messages.c.text).where(
                messages.c.conversation_id.in_(conversation_ids), messages.c.text.is_not(None)
            )
        ).all()
        titles = connection.execute(
            sa.select(conversations.c.id, conversations.c.title).where(
                conversations.c.id.in_(conversation_ids), conversations.c.title.is_not(None)
            )
        ).all()
    for conversation_id, text in [*rows, *titles]:
        if conversation_id in found:
            continue
        language: Language = "tr" if query_turkish or is_turkish(text) else "en"
        haystack = fold(text, language=language, diacritics=True)
        needle = fold(query, language=language, diacritics=True)
        if contains_phrase(haystack, needle):
            found.add(conversation_id)
    return found


# -- views ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ViewChange:
    """Changes to a conversation since a moderator last viewed it."""

    viewed_at: datetime | None
    new_inbound: int = 0
    new_replies: int = 0
    """Outbound messages and ledger sends by anyone else since the view."""


def _max_seq(connection: sa.Connection, conversation_id: int) -> int:
    value = connection.execute(
        sa.select(sa.func.max(messages.c.id)).where(messages.c.conversation_id == conversation_id)
    ).scalar_one()
    return int(value or 0)


def record_view(engine: sa.Engine, row: Any, moderator: str) -> None:
    """Record that ``moderator`` has seen every message of the conversation stored so far."""
    key = key_of(row)
    with engine.begin() as connection:
        values = {"last_seq": _max_seq(connection, row.id), "viewed_at": utc_now()}
        connection.execute(
            dialect_insert(connection, mod.views)
            .values(
                platform=key.platform.value,
                account_id=key.account_id,
                chat_id=key.chat_id,
                moderator=moderator,
                **values,
            )
            .on_conflict_do_update(
                index_elements=["platform", "account_id", "chat_id", "moderator"], set_=values
            )
        )


def changes_since_view(engine: sa.Engine, row: Any, moderator: str) -> ViewChange:
    key = key_of(row)
    with engine.connect() as connection:
        view = connection.execute(
            sa.select(mod.views).where(_where(mod.views, key), mod.views.c.moderator == moderator)
        ).one_or_none()
        if view is None:
            return ViewChange(viewed_at=None)
        counts: dict[str, int] = dict(
            connection.execute(
                sa.select(messages.c.direction, sa.func.count())
                .where(messages.c.conversation_id == row.id, messages.c.id > view.last_seq)
                .group_by(messages.c.direction)
            ).all()
        )
        # Sends recorded but not yet stored as messages (pending, or by another CLI).
        other_sends = connection.execute(
            sa.select(sa.func.count())
            .select_from(sends)
            .where(
                _where(sends, key),
                sends.c.created_at > view.viewed_at,
                sends.c.status.in_(["pending", "unknown"]),
                sa.or_(sends.c.author.is_(None), sends.c.author != moderator),
            )
        ).scalar_one()
    return ViewChange(
        viewed_at=view.viewed_at,
        new_inbound=int(counts.get(Direction.INBOUND.value, 0)),
        new_replies=int(counts.get(Direction.OUTBOUND.value, 0)) + int(other_sends),
    )


# -- notes ----------------------------------------------------------------------------


def add_note(engine: sa.Engine, row: Any, author: str, text: str) -> None:
    key = key_of(row)
    with engine.begin() as connection:
        connection.execute(
            mod.notes.insert().values(
                platform=key.platform.value,
                account_id=key.account_id,
                chat_id=key.chat_id,
                author=author,
                text=text,
                created_at=utc_now(),
            )
        )


def list_notes(engine: sa.Engine, row: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(mod.notes).where(_where(mod.notes, key_of(row))).order_by(mod.notes.c.id)
            ).all()
        )


# -- identity links -------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class ContactRef:
    """A contact as ``platform:account:user``."""

    platform: str
    account_id: str
    user_id: str

    @classmethod
    def parse(cls, value: str) -> ContactRef:
        parts = value.split(":", 2)
        if (
            len(parts) != 3
            or parts[0] not in {platform.value for platform in Platform}
            or not all(parts)
        ):
            raise UsageError(
                f"invalid contact {value!r}: expected PLATFORM:ACCOUNT:USER, "
                "as `socialinbox show CONV` prints it"
            )
        return cls(*parts)

    def __str__(self) -> str:
        return f"{self.platform}:{self.account_id}:{self.user_id}"


def contact_exists(engine: sa.Engine, ref: ContactRef) -> bool:
    with engine.connect() as connection:
        return (
            connection.execute(
                sa.select(contacts.c.id).where(
                    contacts.c.platform == ref.platform,
                    contacts.c.account_id == ref.account_id,
                    contacts.c.user_id == ref.user_id,
                )
            ).first()
            is not None
        )


def _pair_where(first: ContactRef, second: ContactRef) -> Any:
    links = mod.identity_links

    def side(prefix: str, ref: ContactRef) -> Any:
        return sa.and_(
            links.c[f"{prefix}_platform"] == ref.platform,
            links.c[f"{prefix}_account_id"] == ref.account_id,
            links.c[f"{prefix}_user_id"] == ref.user_id,
        )

    return sa.or_(
        sa.and_(side("a", first), side("b", second)), sa.and_(side("a", second), side("b", first))
    )


def link_contacts(
    engine: sa.Engine, first: ContactRef, second: ContactRef, *, by: str, reason: str
) -> bool:
    """Link two contacts as one person; return False when an active link already exists."""
    if first == second:
        raise UsageError(f"cannot link contact {first} to itself")
    links = mod.identity_links
    with engine.begin() as connection:
        existing = connection.execute(
            sa.select(links.c.id).where(_pair_where(first, second), links.c.unlinked_at.is_(None))
        ).first()
        if existing is not None:
            return False
        connection.execute(
            links.insert().values(
                a_platform=first.platform,
                a_account_id=first.account_id,
                a_user_id=first.user_id,
                b_platform=second.platform,
                b_account_id=second.account_id,
                b_user_id=second.user_id,
                linked_by=by,
                reason=reason,
                created_at=utc_now(),
            )
        )
    return True


def unlink_contacts(
    engine: sa.Engine, first: ContactRef, second: ContactRef, *, by: str, reason: str
) -> bool:
    """End the active link between two contacts, keeping it with who and why; False if none."""
    links = mod.identity_links
    with engine.begin() as connection:
        result = connection.execute(
            links.update()
            .where(_pair_where(first, second), links.c.unlinked_at.is_(None))
            .values(unlinked_by=by, unlink_reason=reason, unlinked_at=utc_now())
        )
    return bool(result.rowcount)


def linked_contacts(engine: sa.Engine, ref: ContactRef) -> list[tuple[ContactRef, Any]]:
    """Return every contact linked to ``ref``, directly or through others, with the link row."""
    links = mod.identity_links
    with engine.connect() as connection:
        rows = connection.execute(sa.select(links).where(links.c.unlinked_at.is_(None))).all()
    found: list[tuple[ContactRef, Any]] = []
    seen = {ref}
    frontier = [ref]
    while frontier:
        current = frontier.pop()
        for row in rows:
            a = ContactRef(row.a_platform, row.a_account_id, row.a_user_id)
            b = ContactRef(row.b_platform, row.b_account_id, row.b_user_id)
            other = b if a == current else a if b == current else None
            if other is not None and other not in seen:
                seen.add(other)
                frontier.append(other)
                found.append((other, row))
    return found


# -- statistics -----------------------------------------------------------------------


@dataclass
class Stats:
    """Volume, response times and backlog over a period."""

    volume: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    """(platform, day) -> {"inbound": n, "outbound": n}."""
    response_times: list[timedelta] = field(default_factory=list)
    """First-response time of each conversation whose first inbound message is in the period."""
    open_backlog: int = 0
    """Open conversations whose latest message is from the contact."""
    oldest_waiting: tuple[Any, datetime] | None = None
    """The conversation row waiting longest, and since when."""

    def percentile(self, fraction: float) -> timedelta | None:
        """Return a nearest-rank percentile of the response times, or None without data."""
        if not self.response_times:
            return None
        ordered = sorted(self.response_times)
        rank = max(1, -(-int(fraction * 100) * len(ordered) // 100))
        return ordered[min(rank, len(ordered)) - 1]

    def median(self) -> timedelta | None:
        if not self.response_times:
            return None
        seconds = statistics.median(delta.total_seconds() for delta in self.response_times)
        return timedelta(seconds=seconds)


def compute_stats(engine: sa.Engine, since: datetime) -> Stats:
    """Compute :class:`Stats` for messages sent at or after ``since``.

    NOTE: response times and the backlog are computed in Python from every
    message of the period, which is fine for a support team's volume but not
    for millions of messages.
    """
    stats = Stats()
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                messages.c.conversation_id,
                messages.c.platform,
                messages.c.direction,
                messages.c.sent_at,
            )
            .where(messages.c.sent_at >= since)
            .order_by(messages.c.conversation_id, messages.c.sent_at, messages.c.id)
        ).all()
        open_rows = connection.execute(
            sa.select(conversations).where(conversations.c.status == "open")
        ).all()
        last_rows = connection.execute(
            sa.select(
                messages.c.conversation_id, messages.c.direction, messages.c.sent_at
            ).order_by(messages.c.conversation_id, messages.c.sent_at, messages.c.id)
        ).all()
    by_conversation: dict[int, list[Any]] = {}
    for row in rows:
        day = row.sent_at.date().isoformat()
        counts = stats.volume.setdefault((row.platform, day), {"inbound": 0, "outbound": 0})
        counts[row.direction] += 1
        by_conversation.setdefault(row.conversation_id, []).append(row)
    for items in by_conversation.values():
        first_inbound = next(
            (item for item in items if item.direction == Direction.INBOUND.value), None
        )
        if first_inbound is None:
            continue
        answer = next(
            (
                item
                for item in items
                if item.direction == Direction.OUTBOUND.value
                and item.sent_at >= first_inbound.sent_at
            ),
            None,
        )
        if answer is not None:
            stats.response_times.append(answer.sent_at - first_inbound.sent_at)

    history: dict[int, list[Any]] = {}
    for item in last_rows:
        history.setdefault(item.conversation_id, []).append(item)
    for conversation in open_rows:
        items = history.get(conversation.id, [])
        if not items or items[-1].direction != Direction.INBOUND.value:
            continue
        stats.open_backlog += 1
        # Waiting since the first inbound message after our latest reply.
        waiting_since = items[-1].sent_at
        for item in reversed(items):
            if item.direction != Direction.INBOUND.value:
                break
            waiting_since = item.sent_at
        if stats.oldest_waiting is None or waiting_since < stats.oldest_waiting[1]:
            stats.oldest_waiting = (conversation, waiting_since)
    return stats


# -- frequent questions ---------------------------------------------------------------

_STOPWORDS = frozenset(
    {
        "merhaba",
        "selam",
        "iyi",
        "gunler",
        "tesekkurler",
        "tesekkur",
        "ederim",
        "lutfen",
        "bir",
        "ve",
        "ama",
        "icin",
        "bu",
        "su",
        "o",
        "ben",
        "benim",
        "siz",
        "mi",
        "mu",
        "ne",
        "da",
        "de",
        "ki",
        "hala",
        "cok",
        "daha",
        "var",
        "yok",
        "hello",
        "hi",
        "the",
        "a",
        "an",
        "is",
        "my",
        "i",
        "to",
        "and",
        "of",
        "it",
        "for",
        "please",
        "thanks",
    }
)


@dataclass
class FaqGroup:
    """Similar inbound messages: how many, a few examples and the answering template."""

    signature: set[str]
    texts: list[str] = field(default_factory=list)
    conversations: set[int] = field(default_factory=set)
    template: str | None = None


def _signature(text: str) -> set[str]:
    return {stem(word) for word in tokens(text) if word not in _STOPWORDS and len(word) > 2}


def faq_groups(
    engine: sa.Engine,
    since: datetime,
    *,
    templates: list[Any] | None = None,
    threshold: float = 0.25,
) -> list[FaqGroup]:
    """Group inbound texts since ``since`` by word overlap, most repeated first.

    Two texts join a group when the Jaccard similarity of their stemmed word
    sets (see :func:`~socialinbox.moderation.text.stem`) reaches ``threshold``.
    A group's template is the one whose ``answers`` phrases occur most often
    in the group's texts.
    """
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(messages.c.conversation_id, messages.c.text)
            .where(
                messages.c.direction == Direction.INBOUND.value,
                messages.c.sent_at >= since,
                messages.c.text.is_not(None),
                messages.c.deleted.is_(False),
            )
            .order_by(messages.c.id)
        ).all()
    groups: list[FaqGroup] = []
    for conversation_id, text in rows:
        signature = _signature(text)
        if not signature:
            continue
        best: FaqGroup | None = None
        best_score = 0.0
        for group in groups:
            score = len(signature & group.signature) / len(signature | group.signature)
            if score > best_score:
                best, best_score = group, score
        if best is None or best_score < threshold:
            best = FaqGroup(signature=set(signature))
            groups.append(best)
        else:
            best.signature |= signature
        best.texts.append(text)
        best.conversations.add(conversation_id)
    for group in groups:
        group.template = _answering_template(group.texts, templates or [])
    groups.sort(key=lambda group: (-len(group.texts), group.texts[0]))
    return groups


def _answering_template(texts: list[str], templates: list[Any]) -> str | None:
    folded = [fold(text, language="tr", diacritics=True) for text in texts]
    best_name: str | None = None
    best_hits = 0
    for template in templates:
        phrases = [fold(answer, language="tr", diacritics=True) for answer in template.answers]
        hits = sum(1 for text in folded for phrase in phrases if contains_phrase(text, phrase))
        if hits > best_hits:
            best_name, best_hits = template.name, hits
    return best_name


# -- erasure --------------------------------------------------------------------------


def erase_contact(engine: sa.Engine, ref: ContactRef) -> dict[str, int]:
    """Erase what the store holds about one contact; return counts per kind.

    In one transaction: the contact's profile fields and tags; in one-to-one
    conversations with them, every message's text, attachments and raw
    payload (both directions), edit history, event payloads, notes and
    ledger texts; in groups, the messages they wrote; their reactions and
    identity links. Keys, directions and times stay so counts and statistics
    still add up.

    NOTE: copies already queued in the ``outbox`` for CRM sinks, and data
    already delivered to sinks, are not erased here.
    """
    erased = {"messages": 0, "revisions": 0, "events": 0, "reactions": 0, "notes": 0, "links": 0}
    platform, account = ref.platform, ref.account_id
    with engine.begin() as connection:
        direct = connection.execute(
            sa.select(conversations.c.id, conversations.c.chat_id).where(
                conversations.c.platform == platform,
                conversations.c.account_id == account,
                conversations.c.contact_user_id == ref.user_id,
                conversations.c.is_group.is_(False),
            )
        ).all()
        direct_ids = [row.id for row in direct]
        direct_chats = [row.chat_id for row in direct]
        target = sa.or_(
            messages.c.conversation_id.in_(direct_ids),
            sa.and_(
                messages.c.platform == platform,
                messages.c.account_id == account,
                messages.c.sender_id == ref.user_id,
            ),
        )
        keys = connection.execute(
            sa.select(messages.c.chat_id, messages.c.message_id).where(target)
        ).all()
        erased["messages"] = connection.execute(
            messages.update()
            .where(target)
            .values(
                text=None,
                original_text=None,
                attachments=[],
                original_attachments=[],
                raw=None,
                sender=None,
                chat_title=None,
                forwarded_from=None,
            )
        ).rowcount
        for chat_id, message_id in keys:
            erased["revisions"] += connection.execute(
                revisions.delete().where(
                    revisions.c.platform == platform,
                    revisions.c.account_id == account,
                    revisions.c.chat_id == chat_id,
                    revisions.c.message_id == message_id,
                )
            ).rowcount
        erased["events"] = connection.execute(
            events.update()
            .where(
                events.c.platform == platform,
                events.c.account_id == account,
                sa.or_(events.c.chat_id.in_(direct_chats), events.c.actor_id == ref.user_id),
            )
            .values(payload={})
        ).rowcount
        erased["reactions"] = connection.execute(
            reactions.delete().where(
                reactions.c.platform == platform,
                reactions.c.account_id == account,
                reactions.c.actor_id == ref.user_id,
            )
        ).rowcount
        erased["notes"] = connection.execute(
            mod.notes.delete().where(
                mod.notes.c.platform == platform,
                mod.notes.c.account_id == account,
                mod.notes.c.chat_id.in_(direct_chats),
            )
        ).rowcount
        links = mod.identity_links
        erased["links"] = connection.execute(
            links.delete().where(
                sa.or_(
                    sa.and_(
                        links.c.a_platform == platform,
                        links.c.a_account_id == account,
                        links.c.a_user_id == ref.user_id,
                    ),
                    sa.and_(
                        links.c.b_platform == platform,
                        links.c.b_account_id == account,
                        links.c.b_user_id == ref.user_id,
                    ),
                )
            )
        ).rowcount
        connection.execute(
            sends.update()
            .where(
                sends.c.platform == platform,
                sends.c.account_id == account,
                sends.c.chat_id.in_(direct_chats),
            )
            .values(text=None)
        )
        connection.execute(
            conversations.update().where(conversations.c.id.in_(direct_ids)).values(title=None)
        )
        connection.execute(
            contacts.update()
            .where(
                contacts.c.platform == platform,
                contacts.c.account_id == account,
                contacts.c.user_id == ref.user_id,
            )
            .values(
                username=None, display_name=None, language_code=None, tags=[], status_reason=None
            )
        )
    return erased
