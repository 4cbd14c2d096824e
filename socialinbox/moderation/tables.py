"""Tables of the moderation features, created by migration ``0002``.

The migration creates them with ``op.create_table``; these Core definitions,
on a metadata of their own, serve the queries and must stay in step with it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from socialinbox.store.tables import JsonType, UtcDateTime

__all__ = [
    "auto_replies",
    "dialect_insert",
    "identity_links",
    "metadata",
    "notes",
    "rule_firings",
    "views",
]

metadata = sa.MetaData()

notes = sa.Table(
    "moderation_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("account_id", sa.String(128), nullable=False),
    sa.Column("chat_id", sa.String(128), nullable=False),
    sa.Column("author", sa.String(128), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_moderation_notes_conversation", "platform", "account_id", "chat_id"),
)
"""Internal notes moderators leave on a conversation; never sent to the contact."""

identity_links = sa.Table(
    "moderation_identity_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("a_platform", sa.String(16), nullable=False),
    sa.Column("a_account_id", sa.String(128), nullable=False),
    sa.Column("a_user_id", sa.String(128), nullable=False),
    sa.Column("b_platform", sa.String(16), nullable=False),
    sa.Column("b_account_id", sa.String(128), nullable=False),
    sa.Column("b_user_id", sa.String(128), nullable=False),
    sa.Column("linked_by", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("unlinked_by", sa.String(128)),
    sa.Column("unlink_reason", sa.Text),
    sa.Column("unlinked_at", UtcDateTime),
)
"""Links saying two contacts are the same person; unlinking keeps the row with who and why."""

rule_firings = sa.Table(
    "moderation_rule_firings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("rule", sa.String(128), nullable=False),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("account_id", sa.String(128), nullable=False),
    sa.Column("chat_id", sa.String(128), nullable=False),
    sa.Column("message_id", sa.String(255), nullable=False),
    sa.Column("actions", JsonType, nullable=False),
    sa.Column("fired_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint(
        "rule", "platform", "account_id", "chat_id", "message_id", name="uq_rule_firings_key"
    ),
)
"""One rule matching one message; the unique key makes re-applying rules idempotent."""

auto_replies = sa.Table(
    "moderation_auto_replies",
    metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("account_id", sa.String(128), primary_key=True),
    sa.Column("chat_id", sa.String(128), primary_key=True),
    sa.Column("rule", sa.String(128), nullable=False),
    sa.Column("client_ref", sa.String(128), nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=False),
)
"""The latest auto-reply per conversation, for the once-per-period limit."""

views = sa.Table(
    "moderation_views",
    metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("account_id", sa.String(128), primary_key=True),
    sa.Column("chat_id", sa.String(128), primary_key=True),
    sa.Column("moderator", sa.String(128), primary_key=True),
    sa.Column("last_seq", sa.Integer, nullable=False),
    sa.Column("viewed_at", UtcDateTime, nullable=False),
)
"""The highest message sequence number each moderator has seen in a conversation."""


def dialect_insert(connection: sa.Connection, table: sa.Table) -> Any:
    """Return an INSERT for ``table`` that supports ``on_conflict_do_*`` on this dialect."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)
