"""Figures counted by the store equal those computed from the same questions read whole.

`bot.metrics.figures` no longer loads a period's questions; `compute` over the questions
(in the order they were asked) is the reference, on both databases, with pages of a few
rows so that paging, and questions asked at the same instant across a page break, count.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

import pytest

from bot.metrics import Figures, compute, figures
from bot.storage import aggregates
from bot.storage.repos import Repo, Store
from tests.bot.storage.sample_questions import add_questions, ask
from tests.conftest import T0, NewDatabase, both_backends

pytestmark = both_backends

START = T0.replace(hour=0)


@pytest.fixture
async def store(new_database: NewDatabase) -> AsyncIterator[Store]:
    """A fresh store holding the seeded mix of 240 questions over four days."""
    opened = await Store.open(await new_database("aggregates.db"))
    await opened.write(add_questions, START, 240, 11)
    yield opened
    await opened.close()


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 7 rows: every period here spans many of them."""
    monkeypatch.setattr(aggregates, "CHUNK", 7)


async def reference(
    store: Store, start: datetime, end: datetime, now: datetime, channels: Sequence[str] | None
) -> Figures:
    """`compute` over the period's questions, read whole and put in asked order."""
    questions = await store.asked_between(start, end, channels)
    return compute(sorted(questions, key=lambda q: (q.asked_at, q.id)), start, end, now)


@pytest.mark.parametrize(
    ("first_hour", "hours", "now_hours", "channels"),
    [
        (0, 96, 100, None),  # everything, judged after the last target passed
        (0, 24, 12, None),  # a day judged half-way through it: many still pending
        (24, 24, 50, ["help", "support"]),  # a day of two channels
        (30, 6, 40, ["general"]),  # a few hours of one channel: small counts that tie
        (0, 96, 100, []),  # no channels named: all of them, as asked_between reads it
        (200, 24, 230, None),  # a day without questions
    ],
)
async def test_store_figures_equal_computed_figures(
    store: Store,
    first_hour: int,
    hours: int,
    now_hours: int,
    channels: list[str] | None,
) -> None:
    """Every figure, list and tie-break the store counts matches `compute`."""
    start = START + timedelta(hours=first_hour)
    end = start + timedelta(hours=hours)
    now = START + timedelta(hours=now_hours)
    counted = await figures(store, start, end, now, channels)
    expected = await reference(store, start, end, now, channels)
    assert counted == expected
    assert list(counted.channels.items()) == list(expected.channels.items())
    assert counted.questions == sum(counted.channels.values())


async def test_sample_covers_what_the_rules_tell_apart(store: Store) -> None:
    """The mix has ties, pending and decided questions, and waiting ones beyond the list."""
    f = await reference(store, START, START + timedelta(days=4), START + timedelta(hours=60), None)
    assert 0 < f.decided < f.questions
    assert 0 < f.met_target < f.answered < f.questions
    assert f.waiting > len(f.oldest_waiting) == 10
    assert f.by_staff and f.by_community and f.resolved and f.breaches
    day = await reference(store, START, START + timedelta(days=1), START, None)
    counts = [n for _, n in day.top_helpers]
    assert len(set(counts)) < len(counts)  # helpers tie: the first seen goes first
    questions = await store.asked_between(START, START + timedelta(days=4))
    assert len({q.asked_at for q in questions}) < len(questions)  # same-instant questions


def asked(repo: Repo, channel: str, n: int, at: datetime) -> None:
    ask(repo, n, at, channel)


async def test_channels_tied_on_count_and_first_instant_go_in_stored_order(
    new_database: NewDatabase,
) -> None:
    """Channels whose first questions share an instant go in stored order; earlier ones first."""
    store = await Store.open(await new_database("ties.db"))
    try:

        def fill(repo: Repo) -> None:
            asked(repo, "support", 1, T0)  # stored first of those asked at T0
            asked(repo, "help", 2, T0)
            asked(repo, "help", 3, T0 - timedelta(minutes=10))  # before the period
            asked(repo, "help", 4, T0 + timedelta(minutes=1))
            asked(repo, "support", 5, T0 + timedelta(minutes=2))
            asked(repo, "general", 6, T0)  # stored last, but...
            asked(repo, "general", 7, T0 - timedelta(minutes=5))  # ...first seen in the period

        await store.write(fill)
        start, end = T0 - timedelta(minutes=5), T0 + timedelta(hours=1)
        f = await figures(store, start, end, end)
    finally:
        await store.close()
    assert f.busiest_channels == (("general", 2), ("support", 2), ("help", 2))
    assert list(f.channels) == ["general", "support", "help"]
    assert [q.ref.message for q in f.oldest_waiting] == ["m7", "m1", "m2", "m6", "m4", "m5"]


async def test_streams_read_every_row_once_across_pages(store: Store) -> None:
    """Paged by (asked_at, id), a period's rows come each once, in asked order."""
    start, end = START + timedelta(hours=5), START + timedelta(hours=77)
    period = aggregates.Period.of(start, end, None)
    streamed = await store.read(lambda repo: list(aggregates.waits(repo, period)))
    questions = sorted(await store.asked_between(start, end), key=lambda q: (q.asked_at, q.id))
    assert len(streamed) == len(questions) > 7 * 10
    assert streamed == [(q.asked_at.timestamp(), q.ttfr_seconds) for q in questions]


async def test_unanswered_question_is_missed_from_the_instant_its_target_passes(
    new_database: NewDatabase,
) -> None:
    """Judged a microsecond before its target it is pending; at the target, missed."""
    store = await Store.open(await new_database("target.db"))
    try:
        await store.write(asked, "help", 1, T0)
        end = T0 + timedelta(minutes=1)
        before = await figures(store, T0, end, T0 + timedelta(hours=1, microseconds=-1))
        at = await figures(store, T0, end, T0 + timedelta(hours=1))
    finally:
        await store.close()
    assert (before.decided, before.met_target) == (0, 0)
    assert (at.decided, at.met_target, at.attainment) == (1, 0, 0.0)
