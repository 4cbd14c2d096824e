"""State and helpers shared by the export decoders."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from socialinbox.model import Account, Batch, Ignored, Item, Platform, Quarantined, utc_now

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "BatchBuilder",
    "ExportContext",
    "InvalidPart",
    "JsonReader",
    "UnexpectedShape",
    "raw_bytes",
]

logger = logging.getLogger(__name__)

DEFAULT_ACCOUNT_ID = "default"


class InvalidPart(Exception):
    """A part of an export that cannot be normalized; the message names the field."""


@dataclass
class ExportContext:
    """Options of one import run, plus what earlier files of the run revealed."""

    account_id: str | None = None
    """Our account id; ``None`` lets each format pick (X: the archive owner, else ``default``)."""
    platform: Platform | None = None
    """Platform the user chose; decides Messenger or Instagram for Meta thread files."""
    own_user_ids: frozenset[str] = frozenset()
    """Platform user ids of our own account, so their messages are outbound."""
    owner_name: str | None = None
    """Our display name in Messenger and Instagram exports, which carry names only."""
    received_at: datetime = field(default_factory=utc_now)
    chunk_size: int = 1000
    """Items per ingest transaction."""
    x_owner_id: str | None = None
    """X user id of the archive owner, learned from ``account.js`` or the one-to-one file."""
    x_owner_username: str | None = None
    meta_owner_name: str | None = None
    """Owner name learned from the profile file of a Facebook or Instagram export."""


def raw_bytes(part: Any) -> bytes:
    return json.dumps(part, ensure_ascii=False, default=str).encode()


def unix_time(value: Any, field_name: str, *, milliseconds: bool = False) -> datetime:
    """Parse a Unix time given as a number or a string of digits."""
    if isinstance(value, bool):
        raise InvalidPart(f"{field_name} is not a Unix time: {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise InvalidPart(f"{field_name} is not a Unix time: {value!r}") from error
    try:
        return datetime.fromtimestamp(number / 1000 if milliseconds else number, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise InvalidPart(f"{field_name} is out of range: {value!r}") from error


class BatchBuilder:
    """Collects the items of one export file and hands them out in chunks."""

    def __init__(self, platform: Platform | None, account_id: str | None, size: int) -> None:
        self.platform = platform
        self.account_id = account_id
        self.size = max(1, size)
        self.items: list[Item] = []
        self.quarantined: list[Quarantined] = []
        self.ignored: list[Ignored] = []
        self.accounts: list[Account] = []

    def add(self, *items: Item) -> None:
        self.items.extend(items)

    def quarantine(self, reason: str, part: Any, location: str) -> None:
        logger.warning("quarantined an export part: %s (at %s)", reason, location)
        data = part if isinstance(part, bytes) else raw_bytes(part)
        self.quarantined.append(
            Quarantined(
                platform=self.platform,
                account_id=self.account_id,
                reason=reason,
                raw=data,
                location=location,
            )
        )

    def ignore(self, part: Any, *, kind: str, reason: str) -> None:
        assert self.platform is not None
        self.ignored.append(
            Ignored.of(self.platform, part, kind=kind, reason=reason, account_id=self.account_id)
        )

    def full(self) -> bool:
        return len(self.items) + len(self.quarantined) + len(self.ignored) >= self.size

    def take(self) -> Batch:
        batch = Batch.model_construct(
            items=tuple(self.items),
            quarantined=tuple(self.quarantined),
            ignored=tuple(self.ignored),
            accounts=tuple(self.accounts),
        )
        self.items, self.quarantined, self.ignored, self.accounts = [], [], [], []
        return batch

    def drain_if_full(self) -> Iterator[Batch]:
        if self.full():
            yield self.take()

    def rest(self) -> Iterator[Batch]:
        if self.items or self.quarantined or self.ignored or self.accounts:
            yield self.take()


class UnexpectedShape(ValueError):
    """The JSON text does not have the shape a streaming reader expects at this point."""


class JsonReader:
    """Reads one JSON text from a binary file piece by piece, one value at a time.

    The export readers use it to walk a large file's outer arrays and objects
    and to decode their elements one by one with
    :meth:`json.JSONDecoder.raw_decode`, so no more than one element and one
    read of ``chunk_chars`` characters are in memory at once.

    Errors are ``ValueError`` subclasses: :class:`UnicodeDecodeError`,
    :class:`json.JSONDecodeError` (positions relative to the buffer, not
    the file) and :class:`UnexpectedShape`.
    """

    _WHITESPACE = " \t\n\r"

    def __init__(self, handle: IO[bytes], chunk_chars: int = 1 << 20) -> None:
        # newline="" turns off line-end translation, so the decoder parses the text json.loads would.
        self._text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
        self._chunk_chars = chunk_chars
        self._buffer = ""
        self._position = 0
        self._eof = False
        self._decoder = json.JSONDecoder()

    def _read_more(self, minimum: int) -> bool:
        """Append at least ``minimum`` characters unless the file ends. Return whether any came."""
        if self._eof:
            return False
        piece = self._text.read(max(minimum, self._chunk_chars))
        if not piece:
            self._eof = True
            return False
        self._buffer = self._buffer[self._position :] + piece
        self._position = 0
        return True

    def peek(self) -> str:
        """Skip whitespace and return the next character without taking it, or ``""`` at the end."""
        while True:
            buffer = self._buffer
            position = self._position
            while position < len(buffer) and buffer[position] in self._WHITESPACE:
                position += 1
            self._position = position
            if position < len(buffer):
                return buffer[position]
            if not self._read_more(0):
                return ""

    def looking_at(self, text: str) -> bool:
        """Return whether the text after any whitespace starts with ``text``."""
        self.peek()
        while len(self._buffer) - self._position < len(text) and self._read_more(0):
            pass
        return self._buffer.startswith(text, self._position)

    def expect(self, character: str) -> None:
        found = self.peek()
        if found != character:
            raise UnexpectedShape(f"expected {character!r}, found {found or 'the end'!r}")
        self._position += 1

    def skip_past(self, character: str) -> bool:
        """Move past the next ``character``. Return ``False`` if the rest of the text has none."""
        while True:
            found = self._buffer.find(character, self._position)
            if found >= 0:
                self._position = found + 1
                return True
            self._position = len(self._buffer)
            if not self._read_more(0):
                return False

    def value(self) -> Any:
        """Decode the next whole JSON value."""
        self.peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._position)
            except json.JSONDecodeError:
                # The buffer may end inside the value, so read as much again
                # and retry. At the end of the file the error is real.
                if self._read_more(len(self._buffer) - self._position):
                    continue
                raise
            # A number at the buffer's end may go on in the next read.
            if end == len(self._buffer) and self._read_more(len(self._buffer) - self._position):
                continue
            self._position = end
            return value

    def items(self) -> Iterator[None]:
        """Walk an array: yield once per element, which the caller must take with a read method."""
        self.expect("[")
        if self.peek() == "]":
            self._position += 1
            return
        while True:
            yield None
            if self.peek() == ",":
                self._position += 1
                continue
            self.expect("]")
            return

    def members(self) -> Iterator[str]:
        """Walk an object: yield each key, whose value the caller must take before the next."""
        self.expect("{")
        if self.peek() == "}":
            self._position += 1
            return
        while True:
            if self.peek() != '"':
                raise UnexpectedShape("expected an object key")
            key = self.value()
            self.expect(":")
            yield key
            if self.peek() == ",":
                self._position += 1
                continue
            self.expect("}")
            return

    def skip(self) -> None:
        """Pass over the next value, holding no more than one scalar of it in memory."""
        following = self.peek()
        if following == "[":
            for _ in self.items():
                self.skip()
        elif following == "{":
            for _ in self.members():
                self.skip()
        else:
            self.value()

    def elements(self) -> Iterator[Any]:
        """Decode the elements of an array one at a time."""
        for _ in self.items():
            yield self.value()

    def end(self) -> None:
        """Check that only whitespace follows, as :func:`json.loads` requires."""
        if self.peek():
            raise UnexpectedShape("extra data after the JSON value")
