"""Find export files in folders and zip archives and tell their formats apart.

A zip file is read member by member with :mod:`zipfile`; nothing is unpacked
to disk. Only members whose name or first bytes match a known export file are
read, so the photos and videos of an export are never loaded.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import IO

from socialinbox.errors import UsageError
from socialinbox.model import Platform

__all__ = ["ExportFormat", "ExportSource", "find_sources"]

_HEAD_BYTES = 4096


class ExportFormat(StrEnum):
    """A file type of a platform data export."""

    X_ACCOUNT = "x-account"
    """``account.js`` of an X archive: names the archive owner and contains no messages."""
    X_DIRECT_MESSAGES = "x-direct-messages"
    """``direct-messages.js`` (one-to-one) or ``direct-messages-group.js`` of an X archive."""
    META_PROFILE = "meta-profile"
    """The owner's profile file of a Facebook or Instagram export."""
    META_THREAD = "meta-thread"
    """A ``message_N.json`` thread file of a Facebook or Instagram export."""
    TELEGRAM_DESKTOP = "telegram-desktop"
    """``result.json`` of a Telegram Desktop export (one chat or the whole account)."""

    @property
    def platforms(self) -> frozenset[Platform]:
        if self in (ExportFormat.X_ACCOUNT, ExportFormat.X_DIRECT_MESSAGES):
            return frozenset({Platform.X})
        if self is ExportFormat.TELEGRAM_DESKTOP:
            return frozenset({Platform.TELEGRAM})
        return frozenset({Platform.MESSENGER, Platform.INSTAGRAM})


# Read order inside one run: files that name the owner come first, and the
# one-to-one X file before the group file, because it reveals the owner too.
_ORDER = {
    ExportFormat.X_ACCOUNT: 0,
    ExportFormat.META_PROFILE: 0,
    ExportFormat.X_DIRECT_MESSAGES: 1,
    ExportFormat.META_THREAD: 2,
    ExportFormat.TELEGRAM_DESKTOP: 2,
}

_X_DM_NAME = re.compile(r"direct[-_]messages(?P<group>[-_]group)?(?:[-_]part\d+)?\.js(?:on)?$")
_X_ACCOUNT_NAME = re.compile(r"(?:^|/)account\.js$")
_META_THREAD_NAME = re.compile(r"(?:^|/)message_\d+\.json$")
_META_PROFILE_NAME = re.compile(r"(?:^|/)(?:profile_information|personal_information)\.json$")


@dataclass(frozen=True)
class ExportSource:
    """One export file, on disk or inside a zip archive."""

    location: str
    """Display name in reports and quarantine records: ``path`` or ``archive.zip!member``."""
    name: str
    """The path inside the export (zip member name, or the path below the given folder)."""
    format: ExportFormat
    archive: Path | None
    path: Path | None

    @property
    def is_group_file(self) -> bool:
        match = _X_DM_NAME.search(self.name.lower())
        return bool(match and match.group("group"))

    def read(self) -> bytes:
        if self.archive is not None:
            with zipfile.ZipFile(self.archive) as archive:
                return archive.read(self.name)
        assert self.path is not None
        return self.path.read_bytes()

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """Open the file for reading as a binary stream (a zip member is decompressed as read)."""
        if self.archive is not None:
            with zipfile.ZipFile(self.archive) as archive, archive.open(self.name) as member:
                yield member
            return
        assert self.path is not None
        with self.path.open("rb") as handle:
            yield handle


def detect_format(name: str, head: bytes) -> ExportFormat | None:
    """Return the export format of a file from its name and first bytes, or ``None``."""
    lowered = name.lower()
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"window.YTD.direct_messages") or _X_DM_NAME.search(lowered):
        return ExportFormat.X_DIRECT_MESSAGES
    if start.startswith(b"window.YTD.account.") or (
        _X_ACCOUNT_NAME.search(lowered) and start.startswith(b"window.YTD")
    ):
        return ExportFormat.X_ACCOUNT
    if _META_THREAD_NAME.search(lowered):
        return ExportFormat.META_THREAD
    if _META_PROFILE_NAME.search(lowered):
        return ExportFormat.META_PROFILE
    if not lowered.endswith(".json"):
        return None
    if b'"sender_name"' in head or (b'"participants"' in head and b'"messages"' in head):
        return ExportFormat.META_THREAD
    if (
        PurePosixPath(lowered).name == "result.json"
        or b'"date_unixtime"' in head
        or b'"personal_information"' in head
        or (b'"messages"' in head and b'"type"' in head and b'"id"' in head)
    ):
        return ExportFormat.TELEGRAM_DESKTOP
    return None


def _zip_sources(path: Path, display: str) -> Iterator[ExportSource]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise UsageError(f"{display} is not a readable zip file: {error}") from error
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            lowered = info.filename.lower()
            if not lowered.endswith((".js", ".json")):
                continue
            with archive.open(info) as handle:
                head = handle.read(_HEAD_BYTES)
            found = detect_format(info.filename, head)
            if found is not None:
                yield ExportSource(
                    location=f"{display}!{info.filename}",
                    name=info.filename,
                    format=found,
                    archive=path,
                    path=None,
                )


def _file_source(path: Path, name: str) -> ExportSource | None:
    if path.suffix.lower() not in {".js", ".json"}:
        return None
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    found = detect_format(name, head)
    if found is None:
        return None
    return ExportSource(location=str(path), name=name, format=found, archive=None, path=path)


def find_sources(paths: Sequence[Path]) -> list[ExportSource]:
    """Return the export files in ``paths`` (files, folders or zip files), in read order.

    Files met while walking a folder or a zip that are no export file (media,
    other JSON) are passed over.

    Raises:
        UsageError: a path does not exist, or a file named directly is neither
            a zip archive nor an export file.
    """
    found: list[ExportSource] = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path} does not exist")
        if path.is_dir():
            for item in sorted(candidate for candidate in path.rglob("*") if candidate.is_file()):
                if zipfile.is_zipfile(item):
                    found.extend(_zip_sources(item, str(item)))
                    continue
                source = _file_source(item, item.relative_to(path).as_posix())
                if source is not None:
                    found.append(source)
        elif zipfile.is_zipfile(path):
            found.extend(_zip_sources(path, str(path)))
        else:
            source = _file_source(path, path.name)
            if source is None:
                raise UsageError(
                    f"{path} is not a known export file; expected an X archive "
                    "direct-messages.js, a Messenger or Instagram message_N.json, a Telegram "
                    "Desktop result.json, or a zip or folder containing them"
                )
            found.append(source)
    return sorted(found, key=lambda source: (_ORDER[source.format], source.is_group_file))
