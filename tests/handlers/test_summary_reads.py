"""The summary's chart and recurring topics, read from the store a page at a time.

By hand across a clock change, and against the same computation over the questions read
whole, on both databases, with pages of a few rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.chart import DayPoint
from bot.core.model import QuestionState
from bot.metrics import percentile
from bot.storage import aggregates
from bot.storage.repos import Repo, Store
from bot.topics import key_phrases
from handlers.summary import day_points, recurring_topics
from tests.bot.storage.sample_questions import add_questions, ask
from tests.conftest import T0, NewDatabase, both_backends

pytestmark = both_backends

BERLIN = ZoneInfo("Europe/Berlin")
START = T0.replace(hour=0)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 5 rows: every period here spans many of them."""
    monkeypatch.setattr(aggregates, "CHUNK", 5)


@pytest.fixture
async def store(new_database: NewDatabase) -> AsyncIterator[Store]:
    """A fresh, empty store."""
    opened = await Store.open(await new_database("summary.db"))
    yield opened
    await opened.close()


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=BERLIN)


async def test_chart_days_are_local_calendar_days_across_a_clock_change(store: Store) -> None:
    """Sunday 25 October has 25 hours in Berlin: 23:30 that night still counts on Sunday."""

    def fill(repo: Repo) -> None:
        ask(repo, 1, berlin(24, 12), wait_minutes=10)
        ask(repo, 2, berlin(25, 10), wait_minutes=40)
        ask(repo, 3, berlin(25, 23, 30), wait_minutes=20)  # 22:30 UTC, after the clocks went back
        ask(repo, 4, berlin(26, 8))  # never answered
        ask(repo, 5, berlin(26, 9), wait_minutes=5, state=QuestionState.DISMISSED)
        ask(repo, 6, berlin(26, 10), channel="general", wait_minutes=50)  # not on the chart
        ask(repo, 7, berlin(27, 0), wait_minutes=1)  # the end is not included

    await store.write(fill)
    points = await store.read(day_points, ["help"], berlin(27, 0), 3)
    assert points == [
        DayPoint(berlin(24, 0).date(), 1, 10.0),
        DayPoint(berlin(25, 0).date(), 2, 30.0),  # median of 40 and 20 minutes
        DayPoint(berlin(26, 0).date(), 1, None),
    ]


async def test_chart_matches_the_questions_read_whole(store: Store) -> None:
    """Over the seeded mix, each day's count and median are those of its questions."""
    await store.write(add_questions, START, 300, 5)
    end = START + timedelta(days=4)
    for channels in (["help", "general"], []):
        points = await store.read(day_points, channels, end, 6)
        questions = await store.asked_between(end - timedelta(days=6), end, channels)
        expected = []
        for i in range(6):
            day = end - timedelta(days=6 - i)
            asked = [q for q in questions if day <= q.asked_at < day + timedelta(days=1)]
            waits = [q.ttfr_seconds for q in asked if q.ttfr_seconds is not None]
            median = percentile(waits, 0.5)
            minutes = None if median is None else median / 60
            expected.append(DayPoint(day.date(), len(asked), minutes))
        assert points == expected
        assert sum(p.questions for p in points) == len(questions) > 5 * 10


async def test_recurring_topics_read_in_pages_match_all_texts(store: Store) -> None:
    """The key phrases of texts read five at a time are those of all the texts at once."""
    await store.write(add_questions, START, 160, 3)
    start, end = START + timedelta(hours=6), START + timedelta(days=3)
    topics = await store.read(recurring_topics, start, end, ["help", "support"])
    questions = await store.asked_between(start, end, ["help", "support"])
    ordered = sorted(questions, key=lambda q: (q.asked_at, q.id))
    assert topics == key_phrases(q.text for q in ordered)
    assert topics and len(ordered) > 5 * 10


async def test_a_chart_of_an_empty_store_has_empty_days(store: Store) -> None:
    """Without questions every day shows zero and no median, rather than failing."""
    end = datetime(2026, 11, 30, tzinfo=UTC)
    points = await store.read(day_points, ["help"], end, 2)
    assert points == [
        DayPoint(date(2026, 11, 28), 0, None),
        DayPoint(date(2026, 11, 29), 0, None),
    ]
