"""Durable storage: SQLAlchemy 2 tables, queries and Alembic migrations."""

from socialinbox.store.engine import DEFAULT_DATABASE_URL
from socialinbox.store.results import CursorUpdate, IngestResult
from socialinbox.store.sends import SendRecord
from socialinbox.store.store import AsyncStore, QuarantineEntry, Store, StoredMessage, open_store

__all__ = [
    "DEFAULT_DATABASE_URL",
    "AsyncStore",
    "CursorUpdate",
    "IngestResult",
    "QuarantineEntry",
    "SendRecord",
    "Store",
    "StoredMessage",
    "open_store",
]
