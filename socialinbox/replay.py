"""Normalize recorded platform payloads, and replay files of them into a store.

Readable inputs:

* ``.json``: one payload (a webhook body, an API response, or a list of
  recorded exchanges);
* ``.jsonl``: one payload per line;
* ``.yaml`` / ``.yml``: a vcrpy cassette; each recorded response body is a
  payload (gzip and base64 bodies are decoded).

Bytes that are not valid UTF-8 JSON are quarantined here, before any codec
sees them.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from socialinbox.adapters import get_codec, sniff_platform
from socialinbox.adapters.base import DecodeContext
from socialinbox.errors import UsageError
from socialinbox.ingest import IngestResult
from socialinbox.jsonbytes import parse_json_bytes
from socialinbox.model import Batch, Platform, Quarantined, utc_now
from socialinbox.store import Store

__all__ = ["FileReport", "RawPayload", "normalize", "read_payloads", "replay_file"]

logger = logging.getLogger(__name__)

_FOLDER_HINTS = {
    "telegram": Platform.TELEGRAM,
    "twitter": Platform.X,
    "x": Platform.X,
    "messenger": Platform.MESSENGER,
    "facebook": Platform.MESSENGER,
    "instagram": Platform.INSTAGRAM,
}

# Codecs that group related updates (Telegram albums) want every line of a
# file in one decode call.
_DECODES_SEQUENCES = {Platform.TELEGRAM}


@dataclass(frozen=True)
class RawPayload:
    """One payload read from a file, before parsing."""

    data: bytes
    location: str


@dataclass
class FileReport:
    """What replaying one file did."""

    path: str
    platform: str | None
    result: IngestResult = field(default_factory=IngestResult)

    def as_dict(self) -> dict[str, Any]:
        counts = self.result.as_dict()
        return {
            "path": self.path,
            "platform": self.platform,
            "messages_stored": counts["messages_stored"],
            "duplicates": counts["duplicates"],
            "events": counts["events"],
            "ignored": counts["ignored"],
            "quarantined": counts["quarantined"],
            "reasons": counts["reasons"],
        }


def normalize(
    payload: Any,
    platform: Platform | str | None = None,
    *,
    account_id: str | None = None,
    own_user_ids: frozenset[str] = frozenset(),
    location: str | None = None,
) -> Batch:
    """Normalize one platform payload into model objects without storing anything.

    Args:
        payload: parsed JSON (a dict or list), or the raw bytes or text of it.
        platform: the platform that produced it; guessed from its shape when omitted.
        account_id: our account id, for payloads that do not name it.
        own_user_ids: user ids of our own account, so their messages count as outbound.
        location: a note copied into quarantine records, such as a file name.

    Returns:
        The normalized items; malformed parts are in ``Batch.quarantined``.

    Raises:
        UsageError: ``platform`` is unknown or its codec is not installed.
    """
    chosen = Platform(platform) if platform is not None else None
    if isinstance(payload, bytes | str):
        data = payload.encode() if isinstance(payload, str) else payload
        parsed, problem = parse_json_bytes(data)
        if problem is not None:
            return Batch(
                quarantined=(
                    Quarantined(
                        platform=chosen,
                        account_id=account_id,
                        reason=problem,
                        raw=data,
                        location=location,
                    ),
                )
            )
        payload = parsed
    if chosen is None:
        chosen = sniff_platform(payload)
    if chosen is None:
        raw = json.dumps(payload, ensure_ascii=False).encode()
        return Batch(
            quarantined=(
                Quarantined(
                    platform=None,
                    account_id=account_id,
                    reason="unknown payload shape: no platform codec recognised it",
                    raw=raw,
                    location=location,
                ),
            )
        )
    context = DecodeContext(
        account_id=account_id,
        received_at=utc_now(),
        location=location,
        own_user_ids=own_user_ids,
    )
    return get_codec(chosen).decode(payload, context)


def read_payloads(path: Path) -> Iterator[RawPayload]:
    """Yield the payloads stored in ``path`` (see the module docstring for formats)."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield RawPayload(line.rstrip(b"\r\n"), f"{path}:{number}")
    elif suffix in {".yaml", ".yml"}:
        yield from _read_cassette(path)
    else:
        yield RawPayload(path.read_bytes(), str(path))


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_bytes())
    except yaml.YAMLError as error:
        raise UsageError(f"{path} is not a readable YAML cassette: {error}") from error


def _read_cassette(path: Path) -> Iterator[RawPayload]:
    document = _load_yaml(path)
    interactions = document.get("interactions", []) if isinstance(document, dict) else []
    for number, interaction in enumerate(interactions, start=1):
        response = interaction.get("response", {}) if isinstance(interaction, dict) else {}
        body = response.get("body", {})
        data = body.get("string", b"") if isinstance(body, dict) else body
        if isinstance(data, str):
            data = data.encode()
        if not isinstance(data, bytes) or not data:
            continue
        headers = {
            str(name).lower(): value for name, value in (response.get("headers") or {}).items()
        }
        encoding = headers.get("content-encoding", [])
        if (
            "gzip" in (encoding if isinstance(encoding, list) else [encoding])
            or data[:2] == b"\x1f\x8b"
        ):
            try:
                data = gzip.decompress(data)
            except OSError:
                pass  # not gzip after all: the codec or the JSON parser reports it
        yield RawPayload(data, f"{path}:interaction {number}")


def _platform_hint(path: Path) -> Platform | None:
    for part in reversed(path.resolve().parts[:-1]):
        hint = _FOLDER_HINTS.get(part.lower())
        if hint is not None:
            return hint
    return None


def decode_file(
    path: Path,
    *,
    platform: Platform | None = None,
    account_id: str | None = None,
    own_user_ids: frozenset[str] = frozenset(),
) -> tuple[Platform | None, Batch]:
    """Read and normalize every payload of one file; return the platform used and the batch."""
    chosen = platform or _platform_hint(path)
    if chosen is Platform.X and path.suffix.lower() in {".yaml", ".yml"}:
        # The X codec reads a whole cassette: request URIs carry the conversation
        # ids and the send responses mark our own events.
        document = _load_yaml(path)
        return chosen, normalize(
            document, chosen, account_id=account_id, own_user_ids=own_user_ids, location=str(path)
        )
    batch = Batch()
    parsed: list[tuple[Any, RawPayload]] = []
    for raw in read_payloads(path):
        value, problem = parse_json_bytes(raw.data)
        if problem is not None:
            batch += Batch(
                quarantined=(
                    Quarantined(
                        platform=chosen,
                        account_id=account_id,
                        reason=problem,
                        raw=raw.data,
                        location=raw.location,
                    ),
                )
            )
            continue
        parsed.append((value, raw))
    if not parsed:
        return chosen, batch
    if chosen is None:
        sniffed = {sniff_platform(value) for value, _ in parsed} - {None}
        if len(sniffed) == 1:
            chosen = sniffed.pop()
    if chosen in _DECODES_SEQUENCES and path.suffix.lower() == ".jsonl":
        values = [value for value, _ in parsed]
        batch += normalize(
            values,
            chosen,
            account_id=account_id,
            own_user_ids=own_user_ids,
            location=str(path),
        )
        return chosen, batch
    for value, raw in parsed:
        batch += normalize(
            value,
            chosen,
            account_id=account_id,
            own_user_ids=own_user_ids,
            location=raw.location,
        )
    return chosen, batch


def replay_file(
    store: Store,
    path: Path,
    *,
    platform: Platform | None = None,
    account_id: str | None = None,
    own_user_ids: frozenset[str] = frozenset(),
) -> FileReport:
    """Normalize every payload in ``path`` and ingest them in one transaction."""
    chosen, batch = decode_file(
        path, platform=platform, account_id=account_id, own_user_ids=own_user_ids
    )
    result = store.ingest(batch)
    logger.info(
        "replayed %s as %s: %d stored, %d duplicates, %d quarantined",
        path,
        chosen.value if chosen else "unknown",
        result.messages_stored,
        result.duplicates,
        result.quarantined,
    )
    return FileReport(path=str(path), platform=chosen.value if chosen else None, result=result)


def encode_base64(data: bytes) -> str:
    """Return ``data`` as base64 text, for showing quarantined bytes in JSON output."""
    return base64.b64encode(data).decode("ascii")
