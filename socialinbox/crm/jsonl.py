"""The ``jsonl`` sink: one JSON document per line, appended to a file or written to stdout.

Each line is :meth:`OutboxEvent.document`, the same body the webhook sink
sends. A crash between writing a line and recording the delivery writes the
line again on the next run, so readers deduplicate on ``data.event_key``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from socialinbox.crm.base import DeliveryResult, OutboxEvent, Sink, encode_document
from socialinbox.errors import ConfigError

__all__ = ["JsonlSink", "create_jsonl_sink"]

STDOUT = "-"


class JsonlSink(Sink):
    """Append outbox events as JSON lines.

    Args:
        target: a file path, ``"-"`` for standard output, or an open text stream.
        name: the sink name used in the deliveries table.
        fsync: call ``fsync`` after each batch, so a power loss cannot lose
            lines that were recorded as delivered.
    """

    max_batch_size = 500

    def __init__(
        self, target: str | Path | TextIO = STDOUT, *, name: str = "jsonl", fsync: bool = False
    ) -> None:
        super().__init__(name)
        self._stream: TextIO | None = None
        self._path: Path | None = None
        if isinstance(target, str | Path):
            if str(target) == STDOUT:
                self._stream = None
            else:
                self._path = Path(target).expanduser()
        else:
            self._stream = target
        self._fsync = fsync

    def describe(self) -> str:
        return f"jsonl {self.name} -> {self._path or 'stdout'}"

    async def deliver(self, events: Sequence[OutboxEvent]) -> list[DeliveryResult]:
        if not events:
            return []
        text = "".join(encode_document(event).decode() + "\n" for event in events)
        try:
            await asyncio.to_thread(self._write, text)
        except OSError as error:
            reason = f"cannot write {self._path or 'stdout'}: {error.strerror or error}"
            return [DeliveryResult.retry(reason) for _ in events]
        return [DeliveryResult.delivered() for _ in events]

    def _write(self, text: str) -> None:
        if self._path is None:
            stream = self._stream or sys.stdout
            stream.write(text)
            stream.flush()
            return
        with self._path.open("a", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            if self._fsync:
                os.fsync(file.fileno())


def create_jsonl_sink(url: str, *, name: str, **options: Any) -> JsonlSink:
    """Build a :class:`JsonlSink` from ``jsonl:PATH``, ``jsonl:///ABSOLUTE/PATH`` or ``jsonl:-``.

    Options: ``fsync``.
    """
    scheme, _, rest = url.partition(":")
    if scheme.lower() != "jsonl":
        raise ConfigError(f"invalid jsonl sink URL {url!r}: expected jsonl:PATH or jsonl:-")
    if rest.startswith("//"):
        rest = rest[2:]
    return JsonlSink(rest or STDOUT, name=name, **options)
