"""The store on both databases: claims, the sweep's reads, conflicts and lost connections.

Two `Store`s opened on one database stand for two replicas of the bot.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.model import MessageRef
from bot.storage.repos import NewQuestion, Repo, Store
from tests.conftest import T0, NewDatabase, both_backends, postgres_only

pytestmark = both_backends

DAY = T0.replace(hour=0)


@pytest.fixture
async def replicas(new_database: NewDatabase) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on one fresh database."""
    url = await new_database("replicas.db")
    first = await Store.open(url)
    second = await Store.open(url)
    yield first, second
    await first.close()
    await second.close()


def claim(repo: Repo, now_minutes: float = 0) -> bool:
    return repo.claim_summary(
        "slack:C1", "daily", DAY, T0 + timedelta(minutes=now_minutes), stale_after=600
    )


def question(n: int, due_minutes: float) -> NewQuestion:
    at = T0 - timedelta(hours=2)
    return NewQuestion(
        ref=MessageRef("local", "T1", "help", f"q{n}"),
        watched_channel="help",
        asker="maria",
        asker_name="Maria",
        text="How do I rotate my API key?",
        score=1.0,
        reasons=("question mark",),
        asked_at=at,
        target_seconds=3600,
        calendar="24/7",
        warn_at=T0 + timedelta(minutes=due_minutes),
        breach_at=T0 + timedelta(minutes=due_minutes + 15),
    )


async def test_a_summary_is_claimed_by_one_replica_only(replicas: tuple[Store, Store]) -> None:
    """Two replicas claiming the same summary at the same moment: exactly one wins."""
    first, second = replicas
    won = await asyncio.gather(*(store.write(claim) for store in (first, second, first, second)))
    assert sorted(won) == [False, False, False, True]


async def test_claims_are_taken_over_only_when_stale_and_unsent(
    replicas: tuple[Store, Store],
) -> None:
    """A claim whose process died is taken over after `stale_after`; a sent one never is."""
    first, second = replicas
    assert await first.write(claim, 0)
    assert not await second.write(claim, 5)  # still being sent by the first
    assert await second.write(claim, 11)  # the first died: taken over
    await second.write(Repo.finish_summary, "slack:C1", "daily", DAY, T0 + timedelta(minutes=12))
    assert not await first.write(claim, 60 * 24)


async def test_identical_inserts_from_two_replicas_store_one_question(
    replicas: tuple[Store, Store],
) -> None:
    """The same message seen by two replicas at once opens one question."""
    first, second = replicas
    made = await asyncio.gather(
        first.write(Repo.insert_question, question(1, 0)),
        second.write(Repo.insert_question, question(1, 0)),
    )
    assert sum(q is not None for q in made) == 1
    assert await first.count_waiting() == 1


async def test_times_survive_to_the_microsecond(replicas: tuple[Store, Store]) -> None:
    """Epoch seconds come back as stored (no single-precision rounding)."""
    first, _ = replicas
    new = question(1, 0.123456 / 60)
    stored = await first.write(Repo.insert_question, new)
    assert stored is not None
    read = await first.read(Repo.question, stored.id)
    assert read is not None
    assert (read.asked_at, read.warn_at, read.breach_at) == (
        new.asked_at,
        new.warn_at,
        new.breach_at,
    )


@postgres_only
async def test_sweeps_of_two_replicas_never_take_the_same_question(
    replicas: tuple[Store, Store],
) -> None:
    """While one replica's sweep holds due questions, the other's skips them."""
    first, second = replicas
    for n in range(10):
        await first.write(Repo.insert_question, question(n, n))
    now = T0 + timedelta(hours=1)
    holding = threading.Event()
    release = threading.Event()

    def slow_sweep(repo: Repo) -> list[int]:
        taken = [q.id for q in repo.due(now, 4)]
        holding.set()
        release.wait(10)  # keep the rows locked until the other sweep has read
        for question_id in taken:
            repo.update_question(question_id, due_at=None)
        return taken

    def sweep(repo: Repo) -> list[int]:
        taken = [q.id for q in repo.due(now, 100)]
        for question_id in taken:
            repo.update_question(question_id, due_at=None)
        return taken

    slow = asyncio.create_task(first.write(slow_sweep))
    assert await asyncio.to_thread(holding.wait, 10)
    other = await second.write(sweep)
    release.set()
    held = await slow
    assert len(held) == 4 and len(other) == 6
    assert set(held).isdisjoint(other)
    assert await first.read(Repo.due, now, 100) == []


@postgres_only
async def test_conflicting_units_run_as_if_one_after_the_other(
    replicas: tuple[Store, Store],
) -> None:
    """Two units that each insert only if nothing is there: one row, as on SQLite.

    Both read before either writes; PostgreSQL aborts one, and it runs again.
    """
    first, second = replicas
    both_read = threading.Barrier(2, timeout=10)
    runs: list[str] = []

    def insert_if_absent(repo: Repo, name: str) -> bool:
        runs.append(name)
        row = repo._one("SELECT COUNT(*) FROM summaries_sent WHERE summary = 'once'")
        if runs.count(name) == 1:
            both_read.wait()
        if row is not None and row[0]:
            return False
        repo._all(
            "INSERT INTO summaries_sent (summary, kind, period_start, claimed_at) "
            "VALUES ('once', 'daily', ?, 0)",
            (len(runs),),
        )
        return True

    inserted = await asyncio.gather(
        first.write(insert_if_absent, "first"), second.write(insert_if_absent, "second")
    )
    assert sorted(inserted) == [False, True]
    assert len(runs) == 3  # the loser ran again and found the winner's row
    count = await first.read(lambda repo: repo._one("SELECT COUNT(*) FROM summaries_sent"))
    assert count is not None and count[0] == 1


@postgres_only
async def test_a_cancelled_write_still_commits_before_its_connection_returns(
    replicas: tuple[Store, Store],
) -> None:
    """Cancelling the caller mid-unit (shutdown) neither loses nor tears the unit."""
    first, _ = replicas
    started = threading.Event()
    go_on = threading.Event()

    def unit(repo: Repo) -> None:
        repo.insert_question(question(1, 0))
        started.set()
        go_on.wait(10)
        repo.insert_question(question(2, 0))

    task = asyncio.create_task(first.write(unit))
    assert await asyncio.to_thread(started.wait, 10)
    task.cancel()
    await asyncio.sleep(0.05)
    go_on.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await first.count_waiting() == 2
    await first.close()  # the pool closes: no connection was left checked out


async def test_history_keeps_the_order_it_was_written_in(replicas: tuple[Store, Store]) -> None:
    """Entries of one moment come back in the order they were logged, on both databases."""
    first, _ = replicas
    kinds = ["opened", "warned", "breached", "nudge due", "nudged"]

    def log_all(repo: Repo) -> int:
        stored = repo.insert_question(question(1, 0))
        assert stored is not None
        for kind in kinds:
            repo.log(stored.id, T0, kind)
        return stored.id

    question_id = await first.write(log_all)
    assert [kind for _, kind, _, _ in await first.history(question_id)] == kinds


@postgres_only
async def test_a_read_that_times_out_is_abandoned_and_the_store_goes_on(
    replicas: tuple[Store, Store],
) -> None:
    """A read the server does not answer in time (a health check) gives up, not waits."""
    first, _ = replicas
    began = time.monotonic()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(first.read(lambda repo: repo._one("SELECT pg_sleep(30)")), 0.2)
    assert time.monotonic() - began < 10  # not the 30 s the statement would take
    assert await first.count_waiting() == 0
