"""Read-only SQL behind the summaries: what a period's figures need, without its questions.

A summary over a busy week would otherwise hold every question of it as a Python object
(about 2 KB each: some 300 MB a week at 10,000 questions a day). Here the database
counts what it can (one grouped pass per period), and what must come back row by row
(response times for the percentiles, texts for the recurring topics, the chart's days)
comes as a few narrow columns, `CHUNK` rows at a time, in the order questions were
asked. Memory then follows the chunk, not the period.

Every function takes the unit of work's `Repo` (run it with `Store.read`); a generator
must be used up inside that unit. The SQL is portable to PostgreSQL: `?` placeholders,
CASE rather than boolean arithmetic, and paging by (asked_at, id) rather than a cursor,
which a pooled connection outside a transaction does not keep.

Stored times are UTC epoch seconds of microsecond-precise datetimes, so comparing them as
floats here decides exactly as comparing the model's datetimes does (`bot.metrics`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.model import Question
from bot.storage.backends import Row
from bot.storage.repos import QUESTION_COLUMNS, Repo

# Rows fetched at once by the streams below: small enough that a chunk of question texts
# (4,000 characters at most) stays a few MB, large enough that paging costs little.
CHUNK = 2000

# Counts of one channel's questions in a period. The CASEs are `bot.metrics.met_target`
# in SQL: known outcome = a business-time response, a breach, or (unless the asker
# resolved it in time) a target that has passed by `now`; tests/bot/test_aggregates.py
# checks them against the Python rules.
_COUNTS = (
    "SELECT watched_channel, COUNT(*), COUNT(first_response_at), "
    "SUM(CASE WHEN first_response_at IS NOT NULL AND responder_role = 'staff' "
    "THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN first_response_at IS NOT NULL AND responder_role = 'community' "
    "THEN 1 ELSE 0 END), "
    "COUNT(resolved_at), "
    "SUM(CASE WHEN ttfr_business_seconds <= target_seconds AND breached = 0 THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN ttfr_business_seconds IS NOT NULL OR breached <> 0 THEN 1 "
    "WHEN resolved_at IS NOT NULL AND resolved_at <= breach_at THEN 0 "
    "WHEN breach_at <= ? THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN breached <> 0 THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN first_response_at IS NULL AND state IN ('open', 'snoozed') "
    "THEN 1 ELSE 0 END), "
    "MIN(asked_at) "
)


@dataclass(frozen=True, slots=True)
class ChannelCounts:
    """How many of a channel's questions in a period ended which way."""

    channel: str
    questions: int
    answered: int
    by_staff: int
    by_community: int
    resolved: int
    met_target: int
    decided: int
    breaches: int
    waiting: int


@dataclass(frozen=True, slots=True)
class Period:
    """The questions asked in [start, end) in some channels (none given: all), not dismissed."""

    start: datetime
    end: datetime
    channels: tuple[str, ...] = ()

    @classmethod
    def of(cls, start: datetime, end: datetime, channels: Sequence[str] | None) -> Period:
        """A period; `channels` None or empty means every channel, as in `asked_between`."""
        return cls(start, end, tuple(channels or ()))

    def where(self, after: tuple[float, int] | None = None) -> tuple[str, list[Any]]:
        """The WHERE clause and its parameters; `after` (asked_at, id) starts past that row."""
        params: list[Any]
        if after is None:
            sql, params = "WHERE asked_at >= ?", [self.start.timestamp()]
        else:
            # The plain lower bound keeps this a range on the asked_at index.
            at, row_id = after
            sql, params = "WHERE asked_at >= ? AND (asked_at > ? OR id > ?)", [at, at, row_id]
        sql += " AND asked_at < ? AND state <> 'dismissed'"
        params.append(self.end.timestamp())
        if self.channels:
            sql += f" AND watched_channel IN ({', '.join('?' * len(self.channels))})"
            params += self.channels
        return sql, params


def channel_counts(repo: Repo, period: Period, now: datetime) -> list[ChannelCounts]:
    """Each channel's counts, channels in the order of their first question in the period."""
    where, params = period.where()
    rows = repo._all(
        _COUNTS + f"FROM questions {where} GROUP BY watched_channel",
        [now.timestamp(), *params],
    )
    firsts = {row[0]: (row[10], 0) for row in rows}
    # Two channels whose first questions were asked the same instant: the one stored
    # first comes first, as when the questions are read in order (asked_at, id).
    instants = [at for at, _ in firsts.values()]
    for at in {at for at in instants if instants.count(at) > 1}:
        for channel, first_id in repo._all(
            f"SELECT watched_channel, MIN(id) FROM questions {where} AND asked_at = ? "
            "GROUP BY watched_channel",
            [*params, at],
        ):
            if firsts[channel][0] == at:
                firsts[channel] = (at, first_id)
    rows.sort(key=lambda row: firsts[row[0]])
    return [ChannelCounts(row[0], *(int(v or 0) for v in row[1:10])) for row in rows]


def _stream(repo: Repo, columns: str, period: Period, extra: str = "") -> Iterator[Row]:
    """Rows of (asked_at, id, *columns) in asked order, fetched CHUNK at a time."""
    after: tuple[float, int] | None = None
    while True:
        # Each page starts where the last ended: a range on the asked_at index, never a
        # growing OFFSET, so reading a period costs one pass over it whatever its size.
        where, params = period.where(after)
        rows = repo._all(
            f"SELECT asked_at, id, {columns} FROM questions {where} {extra} "
            "ORDER BY asked_at, id LIMIT ?",
            [*params, CHUNK],
        )
        yield from rows
        if len(rows) < CHUNK:
            return
        after = (rows[-1][0], rows[-1][1])


def answers(repo: Repo, period: Period) -> Iterator[tuple[float | None, float | None, str, str]]:
    """Answered questions in asked order: wall and business time to first response, by whom.

    The responder is '' when unknown; the role is 'staff', 'community' or ''.
    """
    for row in _stream(
        repo,
        "ttfr_seconds, ttfr_business_seconds, first_responder, responder_role",
        period,
        "AND first_response_at IS NOT NULL",
    ):
        yield row[2], row[3], row[4] or "", row[5] or ""


def waits(repo: Repo, period: Period) -> Iterator[tuple[float, float | None]]:
    """Every question in asked order: when it was asked (epoch seconds), its wall-clock wait."""
    for row in _stream(repo, "ttfr_seconds", period):
        yield row[0], row[2]


def texts(repo: Repo, period: Period) -> Iterator[str]:
    """The text of every question, in asked order."""
    for row in _stream(repo, "text", period):
        yield row[2]


def oldest_waiting(repo: Repo, period: Period, limit: int) -> list[Question]:
    """Up to `limit` questions of the period still without a response, oldest first."""
    where, params = period.where()
    rows = repo._all(
        f"SELECT {QUESTION_COLUMNS} FROM questions {where} AND first_response_at IS NULL "
        "AND state IN ('open', 'snoozed') ORDER BY asked_at, id LIMIT ?",
        [*params, limit],
    )
    return [repo._question(row) for row in rows]
