"""Import message history from the data exports the platforms give account owners.

Supported exports (see each module for the file layout and the keys):

* X archive ``direct-messages.js``, ``direct-messages-group.js`` and
  ``account.js`` (:mod:`socialinbox.exports.twitter`);
* Messenger and Instagram "Download your information" ``message_N.json``
  thread files and the owner's profile file (:mod:`socialinbox.exports.facebook`);
* Telegram Desktop ``result.json``, one chat or the whole account
  (:mod:`socialinbox.exports.telegram`).

Paths may be single files, folders or zip files; a zip is read in place.
Every part goes through :meth:`Store.ingest`, so deduplication works as for
live data: importing the same export twice stores nothing new. Unless
``push`` is set, the import writes no outbox rows, so the CRM sinks never
receive history as if it were new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialinbox.errors import UsageError
from socialinbox.exports import facebook, telegram, twitter
from socialinbox.exports.common import ExportContext
from socialinbox.exports.sources import ExportFormat, ExportSource, detect_format, find_sources
from socialinbox.model import Batch, Platform
from socialinbox.store import IngestResult, Store

if TYPE_CHECKING:
    from socialinbox.moderation.rules import RuleSet

__all__ = [
    "ExportFormat",
    "ExportSource",
    "FileImport",
    "ImportProgress",
    "ImportReport",
    "decode_source",
    "detect_format",
    "find_sources",
    "import_paths",
]

logger = logging.getLogger(__name__)

_DECODERS: dict[ExportFormat, Callable[[ExportSource, ExportContext], Iterator[Batch]]] = {
    ExportFormat.X_ACCOUNT: twitter.decode,
    ExportFormat.X_DIRECT_MESSAGES: twitter.decode,
    ExportFormat.META_PROFILE: facebook.decode,
    ExportFormat.META_THREAD: facebook.decode,
    ExportFormat.TELEGRAM_DESKTOP: telegram.decode,
}


@dataclass
class FileImport:
    """Result of importing one export file."""

    location: str
    format: ExportFormat
    platform: Platform | None
    result: IngestResult = field(default_factory=IngestResult)

    def as_dict(self) -> dict[str, Any]:
        counts = self.result.as_dict()
        return {
            "path": self.location,
            "format": self.format.value,
            "platform": self.platform.value if self.platform is not None else None,
            "messages_stored": counts["messages_stored"],
            "duplicates": counts["duplicates"],
            "events": counts["events"],
            "ignored": counts["ignored"],
            "quarantined": counts["quarantined"],
            "outbox": counts["outbox"],
            "reasons": counts["reasons"],
        }


@dataclass
class ImportReport:
    """Result of one import run, per file and in total."""

    files: list[FileImport] = field(default_factory=list)
    push: bool = False

    @property
    def total(self) -> IngestResult:
        total = IngestResult()
        for item in self.files:
            total += item.result
        return total

    def as_dict(self) -> dict[str, Any]:
        total = self.total.as_dict()
        return {
            "files": [item.as_dict() for item in self.files],
            "total": {name: value for name, value in total.items() if name != "event_duplicates"},
            "push": self.push,
        }


@dataclass(frozen=True)
class ImportProgress:
    """A progress step: sent after every ingest transaction and at each file's end."""

    location: str
    files_done: int
    files_total: int
    total: IngestResult


def _platform_of(source: ExportSource, context: ExportContext) -> Platform | None:
    if source.format in (ExportFormat.META_THREAD, ExportFormat.META_PROFILE):
        return facebook.platform_of(source, context)
    (platform,) = source.format.platforms
    return platform


def decode_source(source: ExportSource, context: ExportContext) -> Iterator[Batch]:
    """Yield the normalized batches of one export file; malformed parts are quarantined."""
    return _DECODERS[source.format](source, context)


def import_paths(
    store: Store,
    paths: Sequence[Path],
    *,
    account_id: str | None = None,
    platform: Platform | None = None,
    owner_name: str | None = None,
    own_user_ids: frozenset[str] = frozenset(),
    push: bool = False,
    chunk_size: int = 1000,
    progress: Callable[[ImportProgress], None] | None = None,
    rules: RuleSet | None = None,
) -> ImportReport:
    """Import every export file found in ``paths`` into ``store``.

    Args:
        store: where the history is written.
        paths: export files, folders or zip files.
        account_id: our account id for the keys; by default the X archive
            owner's user id, else ``"default"``.
        platform: import only files of this platform. It also decides whether
            Meta thread files are Messenger or Instagram when their paths do not show it.
        owner_name: our display name in Messenger and Instagram exports, which
            name senders only by name.
        own_user_ids: user ids of our own account, so their messages are outbound.
        push: write outbox rows, so the CRM sinks receive the history as new events.
        chunk_size: parts per ingest transaction.
        progress: called after each transaction.
        rules: moderation rules to apply to the imported messages (tags,
            priority, assignment); history never gets an auto-reply.

    Raises:
        UsageError: a path is missing, a named file is no export, or no export
            file of the requested platform was found.
    """
    sources = find_sources(paths)
    context = ExportContext(
        account_id=account_id,
        platform=platform,
        own_user_ids=own_user_ids,
        owner_name=owner_name,
        chunk_size=chunk_size,
    )
    if platform is not None:
        sources = [source for source in sources if platform in source.format.platforms]
    if not any(source.format not in _OWNER_FILES for source in sources):
        requested = f"{platform.value} " if platform is not None else ""
        raise UsageError(
            f"no {requested}export files found in {', '.join(str(path) for path in paths)}"
        )

    report = ImportReport(push=push)
    running = IngestResult()
    for done, source in enumerate(sources):
        item = FileImport(
            location=source.location, format=source.format, platform=_platform_of(source, context)
        )
        for batch in decode_source(source, context):
            result = store.ingest(batch, emit_outbox=push)
            if rules is not None and result.stored:
                from socialinbox.moderation.rules import apply_rules

                apply_rules(store, result.stored, rules, auto_reply=False)
            # The keys of every stored message would grow with the export
            # (about 400 MB per million messages); the report keeps counts only.
            result.stored.clear()
            item.result += result
            running += result
            if progress is not None:
                progress(ImportProgress(source.location, done, len(sources), running))
        logger.info(
            "imported %s (%s): %d stored, %d duplicates, %d events, %d quarantined",
            source.location,
            source.format.value,
            item.result.messages_stored,
            item.result.duplicates,
            item.result.events,
            item.result.quarantined,
        )
        if source.format not in _OWNER_FILES:
            report.files.append(item)
        if progress is not None:
            progress(ImportProgress(source.location, done + 1, len(sources), running))
    return report


_OWNER_FILES = frozenset({ExportFormat.X_ACCOUNT, ExportFormat.META_PROFILE})
"""Files that only name the export's owner; they are read but not listed in reports."""
