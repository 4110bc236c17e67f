"""Slack message links and timestamps: permalinks parsed back into message refs, and built.

A Slack permalink names the channel and the message's `ts` (without its dot, after a
`p`); a thread reply's link adds `?thread_ts=...&cid=...`, but the `p` part is still the
reply itself, so the ref points at the reply. Links typed into a slash command arrive
wrapped as `<https://...>` or `<https://...|label>` when Slack escapes them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from bot.core.model import MessageRef

PLATFORM = "slack"

# Enterprise Grid and GovSlack hosts end differently; every workspace host is a subdomain.
_HOSTS = (".slack.com", ".slack-gov.com")
_PATH = re.compile(r"^/archives/(?P<channel>[CDG][A-Z0-9]{2,})/p(?P<digits>\d{7,})/?$")
_TS = re.compile(r"^\d{1,12}\.\d{6}$")


def ts_to_datetime(ts: str) -> datetime:
    """A Slack `ts` ("1712345678.123456") as an exact timezone-aware UTC datetime."""
    if not _TS.match(ts):
        raise ValueError(f"{ts[:40]!r} is not a Slack timestamp")
    seconds, micros = ts.split(".")
    return datetime.fromtimestamp(int(seconds), UTC) + timedelta(microseconds=int(micros))


def datetime_to_ts(when: datetime) -> str:
    """The Slack `ts` form of a time, to the microsecond (for `oldest=` in history calls)."""
    delta = when.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    micros = delta // timedelta(microseconds=1)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def build_permalink(base_url: str, channel: str, ts: str) -> str:
    """A permalink made without an API call, from the workspace URL `auth.test` gives."""
    return f"{base_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def parse_permalink(link: str, space: str) -> MessageRef | None:
    """The message a Slack permalink points at, in workspace `space`; None if not one."""
    text = link.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].split("|", 1)[0]
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host.endswith(_HOSTS):
        return None
    match = _PATH.match(parts.path)
    if match is None:
        return None
    digits = match.group("digits")
    ts = f"{digits[:-6]}.{digits[-6:]}"
    return MessageRef(PLATFORM, space, match.group("channel"), ts)
