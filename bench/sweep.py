"""Sweep benchmark: time to find and act on what is due, with up to 1,000,000 open questions.

For each store size N the real migrations create the schema, N open questions are
inserted with executemany (deadlines spread over the next 30 days), and a handful of
them are made due (past their target, not yet breached). One sweep is then the real
job (`app.run_job("sweep")`): the tracker's unit of work on the database thread,
breaching each due question, and the nudge handler posting one batched nudge on the
local platform. Each figure is the median of `--repeat` sweeps, the due questions
re-armed (outside the timing) before each.

Baseline, same table, same run: the bare indexed query the sweep starts from,
`SELECT * FROM questions WHERE due_at <= ? ORDER BY due_at LIMIT 500`. Goal: a sweep
under 20 ms, its cost growing with what is due, not with what is open.

On PostgreSQL (`--database postgresql://...`: a scratch schema in that database) the
questions are loaded with COPY instead, and the baseline is the same SELECT sent by
asyncpg from the event loop, without the sweep's hop to a database thread.

    .venv/bin/python bench/sweep.py [--sizes 10000,100000,1000000] [--due 20] [--repeat 9]
        [--database sqlite] [--database postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.databases import SQLITE, add_option, label, scratch
from bot.adapters.local import LocalPlatform
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.storage.postgres import translate
from bot.storage.repos import Store
from config.settings import Settings, load_settings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SPACE = "bench"
CHANNELS = ("help", "support", "general")
COLUMNS = (
    "platform, space, channel, message_id, watched_channel, asker, asker_name, text, score, "
    "reasons, asked_at, state, stage, breached, target_seconds, calendar, warn_at, breach_at, "
    "due_at, first_response_at, first_responder, responder_role, response_kind, ttfr_seconds, "
    "ttfr_business_seconds, resolved_at, nudges, nudge_round"
)
INSERT = f"INSERT INTO questions ({COLUMNS}) VALUES ({', '.join('?' * 28)})"
DUE_SELECT = (
    "SELECT * FROM questions WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT 500"
)


def settings() -> Settings:
    """Three watched local channels with a 1h target, nudging #staff."""
    return load_settings(
        data={
            "staff": {"local_users": ["ana"]},
            "channels": [
                {"platform": "local", "id": c, "name": c, "target": "1h", "nudge_channel": "staff"}
                for c in CHANNELS
            ],
        }
    )


def open_rows(n: int, now: float, seed: int = 1) -> Iterator[tuple[Any, ...]]:
    """`n` open, unanswered questions whose next deadline lies 1 minute to 30 days ahead."""
    rng = random.Random(seed)
    for i in range(n):
        due = now + rng.uniform(60, 30 * 86400)
        yield (
            "local", SPACE, CHANNELS[i % 3], f"q{i:07d}", CHANNELS[i % 3], f"u{i % 5000}",
            f"Member {i % 5000}", f"How do I rotate the API key of project {i}?", 0.9,
            "help phrase 'how do i'", due - 3600, "open", "waiting", 0, 3600, "24/7",
            due, due + 900, due, None, None, None, None, None, None, None, 0, 0,
        )  # fmt: skip


def answered_rows(n: int, start: float, days: int, seed: int = 2) -> Iterator[tuple[Any, ...]]:
    """`n` questions asked over `days` days from `start`: most answered, some still waiting."""
    rng = random.Random(seed)
    for i in range(n):
        asked = start + rng.uniform(0, days * 86400)
        channel = CHANNELS[i % 3]
        if rng.random() < 0.85:
            wait = rng.lognormvariate(7, 1)
            role = "staff" if rng.random() < 0.35 else "community"
            yield (
                "local", SPACE, channel, f"a{i:07d}", channel, f"u{i % 5000}", f"Member {i % 5000}",
                f"Why does the CLI fail with error {i % 97} on start?", 0.9, "failure report",
                asked, "answered", "waiting", int(wait > 3600), 3600, "24/7", asked + 2700,
                asked + 3600, None, asked + wait, f"u{(i + 7) % 5000}", role, "reply", wait,
                wait, None, 0, 0,
            )  # fmt: skip
        else:
            yield (
                "local", SPACE, channel, f"a{i:07d}", channel, f"u{i % 5000}", f"Member {i % 5000}",
                f"Is there a way to export project {i % 211} as CSV?", 0.8, "question mark",
                asked, "open", "breached", 1, 3600, "24/7", asked + 2700, asked + 3600, None,
                None, None, None, None, None, None, None, 1, 1,
            )  # fmt: skip


def create_schema(db: Path) -> None:
    """Apply the real migrations to a new database file."""

    async def migrate() -> None:
        store = await Store.open(str(db))
        await store.close()

    asyncio.run(migrate())


def bulk_insert(db: Path, sql: str, rows: Iterator[tuple[Any, ...]]) -> float:
    """Insert rows with executemany in one transaction; seconds taken."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # a benchmark fixture, rebuilt on every run
    began = time.perf_counter()
    with conn:
        conn.executemany(sql, rows)
    took = time.perf_counter() - began
    conn.execute("ANALYZE")
    conn.close()
    return took


def fill_questions(db: Path, n: int) -> float:
    """A store with `n` open questions, none due at NOW; seconds the inserts took."""
    create_schema(db)
    return bulk_insert(db, INSERT, open_rows(n, NOW.timestamp()))


def arm_statements(due: int, now: datetime = NOW) -> list[tuple[str, tuple[Any, ...]]]:
    """What makes the first `due` open questions past their target at `now`, not breached.

    The outbox is emptied too: it keeps one send per decision, and re-armed questions
    make the same decisions again.
    """
    at = now.timestamp()
    return [
        ("DELETE FROM outbox", ()),
        ("UPDATE questions SET due_at = NULL WHERE due_at <= ?", (at,)),
        (
            "UPDATE questions SET stage = 'warned', breached = 0, nudge_round = 0, "
            "warn_at = ? - 1200, breach_at = ? - 60, due_at = ? - 60 WHERE id IN "
            "(SELECT id FROM questions WHERE state = 'open' ORDER BY id LIMIT ?)",
            (at, at, at, due),
        ),
    ]


def arm(db: Path, due: int, now: datetime = NOW) -> None:
    """Make the first `due` open questions past their target at `now`, not yet breached."""
    conn = sqlite3.connect(db, timeout=30)
    with conn:
        for sql, params in arm_statements(due, now):
            conn.execute(sql, params)
    conn.close()


def bare_select(db: Path, repeat: int) -> list[float]:
    """The baseline: the indexed query for what is due, on the same table."""
    conn = sqlite3.connect(db)
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        conn.execute(DUE_SELECT, (NOW.timestamp(),)).fetchall()
        timings.append(time.perf_counter() - began)
    conn.close()
    return timings


async def fill_postgres(conn: asyncpg.Connection, n: int) -> None:
    """`n` open questions, none due at NOW, loaded with COPY into a migrated schema."""
    columns = [c.strip() for c in COLUMNS.split(",")]
    await conn.copy_records_to_table(
        "questions", records=open_rows(n, NOW.timestamp()), columns=columns
    )
    await conn.execute("ANALYZE questions")


async def arm_postgres(conn: asyncpg.Connection, due: int) -> None:
    """`arm` on PostgreSQL."""
    async with conn.transaction():
        for sql, params in arm_statements(due):
            await conn.execute(translate(sql)[0], *params)


async def bare_select_postgres(conn: asyncpg.Connection, repeat: int) -> list[float]:
    """The baseline on PostgreSQL: the same query, sent from the event loop."""
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        await conn.fetch(translate(DUE_SELECT)[0], NOW.timestamp())
        timings.append(time.perf_counter() - began)
    return timings


async def sweeps(
    database: str, due_counts: list[int], repeat: int, rearm: Callable[[int], Awaitable[None]]
) -> dict[int, list[float]]:
    """Median-ready timings of one sweep job for each number of due questions."""
    config = settings()
    clock = VirtualClock(NOW)
    platform = LocalPlatform(clock, staff=frozenset({"ana"}), space=SPACE)
    timings: dict[int, list[float]] = {}
    async with Frontline.open(config, clock, {"local": platform}, database=database) as app:
        for due in due_counts:
            timings[due] = []
            for _ in range(repeat):
                await rearm(due)
                sent = len(platform.transcript)
                began = time.perf_counter()
                await app.run_job("sweep")
                timings[due].append(time.perf_counter() - began)
                if due and len(platform.transcript) != sent + 1:
                    raise RuntimeError("the sweep did not post its one batched nudge")
    return timings


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.2f}"


def measure_sqlite(n: int, due_counts: list[int], repeat: int) -> tuple[dict, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "sweep.db"
        fill_questions(db, n)

        async def rearm(due: int) -> None:
            arm(db, due)

        timings = asyncio.run(sweeps(str(db), due_counts, repeat, rearm))
        arm(db, due_counts[1])
        return timings, bare_select(db, repeat)


async def measure_postgres(
    spec: str, n: int, due_counts: list[int], repeat: int
) -> tuple[dict, list[float]]:
    async with scratch(spec, "sweep") as database:
        await (await Store.open(database)).close()  # the real migrations
        conn = await asyncpg.connect(database)
        try:
            await fill_postgres(conn, n)
            timings = await sweeps(
                database, due_counts, repeat, lambda due: arm_postgres(conn, due)
            )
            await arm_postgres(conn, due_counts[1])
            return timings, await bare_select_postgres(conn, repeat)
        finally:
            await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--due", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=9)
    add_option(parser)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    due_counts = [0, args.due, args.due * 10]
    print(f"one sweep job, median of {args.repeat}, ms (baseline: bare indexed SELECT of due)")
    print(
        f"{'database':>10} | {'open':>9} | {'nothing due':>11} | {f'{args.due} due':>8} | "
        f"{f'{args.due * 10} due':>8} | {'bare SELECT':>11} | sweep / SELECT ({args.due} due)"
    )
    for spec in args.database or [SQLITE]:
        for n in sizes:
            if spec == SQLITE:
                timings, baseline = measure_sqlite(n, due_counts, args.repeat)
            else:
                timings, baseline = asyncio.run(measure_postgres(spec, n, due_counts, args.repeat))
            ratio = statistics.median(timings[args.due]) / statistics.median(baseline)
            print(
                f"{label(spec):>10} | {n:>9,} | {ms(timings[0]):>11} | {ms(timings[args.due])} | "
                f"{ms(timings[args.due * 10])} | {ms(baseline):>11} | {ratio:8.1f}x"
            )


if __name__ == "__main__":
    main()
