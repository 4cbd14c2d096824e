"""Logging for the daemon: text or JSON lines on stderr, with secrets redacted.

The library itself only creates module loggers; this module is used by the
command line, which owns the process.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

__all__ = ["JsonFormatter", "RedactingFilter", "configure_logging"]

# Loggers of client libraries that write request URLs or bodies at INFO or
# DEBUG: httpx logs every URL (Telegram puts the token in the path), tweepy
# logs headers. They are kept at WARNING unless debug logging is asked for.
_NOISY = (
    "httpx",
    "httpcore",
    "telegram",
    "tweepy",
    "requests_oauthlib",
    "urllib3",
    "uvicorn.access",
)


class RedactingFilter(logging.Filter):
    """Replace every configured secret in a record's final message with ``***``.

    This is a second line of defence: no code path is meant to log a secret,
    and a test scans the daemon's logs to prove it.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so that a secret containing another is replaced whole.
        self._secrets = sorted(
            {secret for secret in secrets if len(secret) >= 4}, key=len, reverse=True
        )

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the exception type."""

    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            document["error"] = record.exc_info[0].__name__
        return json.dumps(document, ensure_ascii=False)


def configure_logging(
    *,
    verbosity: int = 1,
    log_format: Literal["text", "json"] = "text",
    secrets: Iterable[str] = (),
    stream: object = None,
) -> logging.Handler:
    """Install one stderr handler on the root logger and return it.

    ``verbosity`` 0 logs warnings, 1 information, 2 and more debug detail.
    """
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    if verbosity <= 0:
        root.setLevel(logging.WARNING)
    elif verbosity == 1:
        root.setLevel(logging.INFO)
    else:
        root.setLevel(logging.DEBUG)
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity >= 3 else logging.WARNING)
    return handler
