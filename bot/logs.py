"""Log output for `frontline run`: human text or one JSON object per line, secrets masked.

Whatever the format, every line passes through `Redactor` last, so a token that slips
into a message, an exception or an extra field (an SDK echoing a request, say) never
reaches the log. While the router handles an event, `event_context()` tags every log
line with the event's platform, kind and channel; the JSON format shows them as fields.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FORMATS = ("text", "json")
MASK = "[redacted]"

# Slack tokens have well-known prefixes (bot, user, app-level, refresh, config); a password
# in a database URL (postgresql://user:secret@host/db) sits between ':' and '@'.
_TOKEN_PATTERNS = (
    re.compile(r"\bxox[abeoprs]-[A-Za-z0-9-]+"),
    re.compile(r"\bxapp-[A-Za-z0-9-]+"),
    re.compile(r"(?<=://)([^:/@\s]+):[^@\s/]+(?=@)"),
)
# Shorter values are not worth masking everywhere they happen to appear (a test "x").
_MIN_SECRET_LENGTH = 6

_context: ContextVar[dict[str, str] | None] = ContextVar("frontline_log_context", default=None)


class Redactor:
    """Masks Slack-style tokens, URL passwords and the exact secret values given."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted(
            {s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True
        )

    def __call__(self, text: str) -> str:
        """`text` with every secret replaced by a mask."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(_masked, text)
        return text


def _masked(match: re.Match[str]) -> str:
    # For a URL password, keep the user name: it says which account failed.
    if match.lastindex:
        return f"{match.group(1)}:{MASK}"
    return MASK


class RedactingFormatter(logging.Formatter):
    """Formats with `inner`, then masks secrets in the finished line."""

    def __init__(self, inner: logging.Formatter, redact: Redactor) -> None:
        super().__init__()
        self.inner = inner
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        """The inner formatter's line with secrets masked."""
        return self.redact(self.inner.format(record))


class JsonLines(JsonFormatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, then extras."""

    def __init__(self) -> None:
        super().__init__(
            ["asctime", "levelname", "name", "message"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """ISO 8601 in UTC with milliseconds, whatever the machine's time zone."""
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class ContextFilter(logging.Filter):
    """Adds the fields of the event being handled (platform, event, channel) to a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Copy the current event's fields onto the record, never overwriting its own."""
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


@contextmanager
def event_context(fields: dict[str, str]) -> Iterator[None]:
    """Tag log lines written inside the block (in this task) with `fields`."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def handler(fmt: str, secrets: Iterable[str] = (), stream: TextIO | None = None) -> logging.Handler:
    """A stream handler writing `fmt` ("text" or "json") with secrets masked."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format {fmt!r}: use one of {', '.join(LOG_FORMATS)}")
    inner = JsonLines() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    out = logging.StreamHandler(stream or sys.stderr)
    out.setFormatter(RedactingFormatter(inner, Redactor(secrets)))
    out.addFilter(ContextFilter())
    return out


def setup_logging(level: str, fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Log to stderr at `level` in `fmt`; does nothing if logging is already configured."""
    logging.basicConfig(level=level, handlers=[handler(fmt, secrets)])
