"""Parse JSON bytes into a value or a quarantine reason."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["parse_json_bytes"]


def parse_json_bytes(data: bytes, *, allow_bom: bool = False) -> tuple[Any, str | None]:
    """Return ``(value, None)``, or ``(None, reason)`` when ``data`` is not UTF-8 JSON.

    ``allow_bom`` accepts a leading UTF-8 byte order mark, which some exports write.
    """
    try:
        text = data.decode("utf-8-sig" if allow_bom else "utf-8")
    except UnicodeDecodeError as error:
        return None, f"invalid UTF-8 at byte {error.start}"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        return None, f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
