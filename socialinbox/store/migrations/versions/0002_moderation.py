"""moderation: notes, identity links, rule firings, auto-replies, views

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-10

A branch of its own on 0001: other features add their tables on other
branches, and ``upgrade`` applies every head. The Core definitions in
``socialinbox.moderation.tables`` describe the same tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

from socialinbox.store.tables import UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("moderation",)
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "moderation_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_moderation_notes_conversation",
        "moderation_notes",
        ["platform", "account_id", "chat_id"],
    )
    op.create_table(
        "moderation_identity_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("a_platform", sa.String(length=16), nullable=False),
        sa.Column("a_account_id", sa.String(length=128), nullable=False),
        sa.Column("a_user_id", sa.String(length=128), nullable=False),
        sa.Column("b_platform", sa.String(length=16), nullable=False),
        sa.Column("b_account_id", sa.String(length=128), nullable=False),
        sa.Column("b_user_id", sa.String(length=128), nullable=False),
        sa.Column("linked_by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("unlinked_by", sa.String(length=128), nullable=True),
        sa.Column("unlink_reason", sa.Text(), nullable=True),
        sa.Column("unlinked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "moderation_rule_firings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("actions", _JSON, nullable=False),
        sa.Column("fired_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "rule", "platform", "account_id", "chat_id", "message_id", name="uq_rule_firings_key"
        ),
    )
    op.create_table(
        "moderation_auto_replies",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("client_ref", sa.String(length=128), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "account_id", "chat_id"),
    )
    op.create_table(
        "moderation_views",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("moderator", sa.String(length=128), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("viewed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "account_id", "chat_id", "moderator"),
    )


def downgrade() -> None:
    op.drop_table("moderation_views")
    op.drop_table("moderation_auto_replies")
    op.drop_table("moderation_rule_firings")
    op.drop_table("moderation_identity_links")
    op.drop_index("ix_moderation_notes_conversation", table_name="moderation_notes")
    op.drop_table("moderation_notes")
