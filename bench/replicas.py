"""Replicas benchmark: how sweep throughput scales with 1, 2 and 3 processes on one PostgreSQL.

N questions past their target (20,000 by default) are loaded into a fresh schema with
COPY. Then 1, 2 or 3 replica processes, each a real Frontline (router, tracker, nudge
handler, outbox; the local platform, a virtual clock at the same moment) with its own
connection pool and its own instance id, run the sweep job back to back until nothing
is due. A decision is one question breached and listed in a batched nudge, recorded in
the outbox and posted. The clock starts when every replica is ready (imports, pool and
migrations are not timed) and stops when the last one finds nothing left.

Baselines, same run, same rows: one replica on a scratch SQLite file; and on the same
PostgreSQL the bare claim loop, `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
LOCKED LIMIT 500)` from one connection, one transaction per batch (the floor for
"claiming due rows", with none of the work a decision does).

    .venv/bin/python bench/replicas.py [--questions 20000] [--replicas 1,2,3]
        [--repeat 3] [--database postgresql://postgres@127.0.0.1:5432/test]
        [--isolation serializable] [--isolation read-committed]

Each replica is `python bench/replicas.py --worker`: it opens the app, prints "ready",
waits for "go" on stdin, sweeps, and prints what it did as one JSON line. Frontline runs
its PostgreSQL units of work SERIALIZABLE except the sweep, which changes only rows it
locked (FOR UPDATE SKIP LOCKED) and runs READ COMMITTED (`--isolation shipped`, the
default). `--isolation serializable` runs the sweep serializable too (as before this
benchmark showed concurrent serializable sweeps aborting one another);
`--isolation read-committed` runs every unit READ COMMITTED (an experiment).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.databases import SQLITE, check, scratch
from bench.sweep import COLUMNS, INSERT, NOW, open_rows, settings
from bot.adapters.local import LocalPlatform
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.events import QuestionBreached, QuestionEvent
from bot.storage.backends import PostgresBackend
from bot.storage.postgres import translate
from bot.storage.repos import Repo, Store

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
# Every question's deadlines lie 31 to 61 days before NOW: all are past their target.
PAST = (NOW - timedelta(days=61)).timestamp()
DUE_COUNT = "SELECT COUNT(*) FROM questions WHERE due_at IS NOT NULL AND due_at <= ?"
CLAIM = (
    "UPDATE questions SET stage = 'breached', breached = 1, due_at = NULL WHERE id IN "
    "(SELECT id FROM questions WHERE due_at IS NOT NULL AND due_at <= $1 ORDER BY due_at "
    "LIMIT 500 FOR UPDATE SKIP LOCKED)"
)


# --- one replica (the worker process) --------------------------------------------------


class _Reruns(logging.Handler):
    """Counts units PostgreSQL aborted for a conflict with another replica's, then reran."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("unit conflicted"):
            self.count += 1


def due_left(repo: Repo) -> int:
    """How many questions are still due at NOW (held by another replica or not)."""
    row = repo._one(DUE_COUNT, (NOW.timestamp(),))
    return int(row[0]) if row is not None else 0


async def worker(database: str, isolation: str) -> None:
    """Sweep until nothing is due, once the parent says go; report as one JSON line."""
    if isolation == "serializable":
        # How sweeps ran before they took READ COMMITTED: every unit serializable.
        PostgresBackend.begin_locked = "BEGIN ISOLATION LEVEL SERIALIZABLE"
    elif isolation == "read-committed":
        # An experiment, not what Frontline does: every unit READ COMMITTED.
        PostgresBackend.begin = "BEGIN ISOLATION LEVEL READ COMMITTED"
    reruns = _Reruns()
    backend_log = logging.getLogger("bot.storage.backends")
    backend_log.setLevel(logging.DEBUG)
    backend_log.addHandler(reruns)
    clock = VirtualClock(NOW)
    platform = LocalPlatform(clock, staff=frozenset({"ana"}), space="bench")
    async with Frontline.open(settings(), clock, {"local": platform}, database=database) as app:
        ctx = app.ctx
        decided = 0
        publish = ctx.publish_sweep

        async def counted(at: Any, events: Sequence[QuestionEvent]) -> None:
            # Called once per committed sweep: a unit rerun after a conflict counts once.
            nonlocal decided
            decided += sum(isinstance(e, QuestionBreached) for e in events)
            await publish(at, events)

        ctx.publish_sweep = counted  # type: ignore[method-assign]
        sweep = ctx.router.jobs["sweep"].handler
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        began = time.perf_counter()
        sweeps = failed = 0
        while True:
            sweeps += 1
            before = decided
            try:
                await sweep(ctx)
            except Exception:  # counted: a unit that conflicted more often than it reruns
                failed += 1
            left = await ctx.store.read(due_left)
            if not left:
                break
            if decided == before:
                await asyncio.sleep(0.005)  # what is due is held by another replica
        took = time.perf_counter() - began
        posted = len(platform.sent("post"))
    result = {"decided": decided, "sweeps": sweeps, "failed": failed, "seconds": took}
    print(json.dumps(result | {"reruns": reruns.count, "posts": posted}), flush=True)


# --- the parent ---------------------------------------------------------------------------


@dataclass
class Run:
    """One measurement: how many replicas, the wall time, and what each one did."""

    replicas: int
    seconds: float
    workers: list[dict[str, Any]]

    @property
    def decided(self) -> int:
        """Questions decided by all replicas together."""
        return sum(int(w["decided"]) for w in self.workers)


async def load_postgres(database: str, n: int) -> None:
    """`n` questions past their target, loaded with COPY into a migrated schema."""
    conn = await asyncpg.connect(database)
    try:
        await conn.copy_records_to_table(
            "questions",
            records=open_rows(n, PAST),
            columns=[c.strip() for c in COLUMNS.split(",")],
        )
        await conn.execute("ANALYZE questions")
    finally:
        await conn.close()


async def replicas(database: str, count: int, isolation: str = "shipped") -> Run:
    """Start `count` worker processes, release them together, wait for all to finish."""
    procs = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTLINE_")}
    for i in range(count):
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--worker",
                "--database",
                database,
                "--isolation",
                isolation,
                env=env | {"FRONTLINE_INSTANCE_ID": f"bench-{i + 1}"},
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        if line.strip() != b"ready":
            raise SystemExit(f"a replica did not start: {line!r}")
    began = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    outputs = [await proc.communicate() for proc in procs]
    took = time.perf_counter() - began
    if any(proc.returncode for proc in procs):
        raise SystemExit("a replica failed")
    return Run(count, took, [json.loads(out.splitlines()[-1]) for out, _ in outputs])


async def bare_claim_loop(database: str) -> float:
    """The floor: claim every due row in batches of 500 with SKIP LOCKED; seconds taken."""
    conn = await asyncpg.connect(database)
    try:
        began = time.perf_counter()
        while True:
            status = await conn.execute(CLAIM, NOW.timestamp())
            if status == "UPDATE 0":
                return time.perf_counter() - began
    finally:
        await conn.close()


async def measure(spec: str, n: int, counts: list[int], isolations: list[str], repeat: int) -> None:
    """Print the table: baselines first, then each isolation and replica count."""
    rate, shares = "decisions/s", "median run, per replica: decided/sweeps/reruns/failed"
    print(f"{n:,} due questions; sweep job back to back until nothing is due; median of {repeat}")
    print(f"{'setup':<46} | {'seconds':>8} | {'runs (s)':>13} | {rate:>11} | {shares}")
    sqlite_runs = [await sqlite_run(n) for _ in range(repeat)]
    print(f"{'1 replica, SQLite (baseline)':<46} | {row(sqlite_runs, n)}")
    floors = []
    for _ in range(repeat):
        async with scratch(spec, "claim") as database:
            await (await Store.open(database)).close()
            await load_postgres(database, n)
            floors.append(await bare_claim_loop(database))
    floor = sorted(floors)[len(floors) // 2]
    label = "bare UPDATE … SKIP LOCKED loop, PG (floor)"
    print(
        f"{label:<46} | {floor:8.2f} | {spread(floors):>13} | {n / floor:11,.0f} | "
        "1 connection, batches of 500"
    )
    for isolation in isolations:
        for count in counts:
            runs = []
            for _ in range(repeat):
                async with scratch(spec, f"replicas{count}") as database:
                    await (await Store.open(database)).close()
                    await load_postgres(database, n)
                    run = await replicas(database, count, isolation)
                    left = await _due_left(database)
                if run.decided != n or left:
                    raise SystemExit(f"{count} replicas decided {run.decided} of {n}, {left} left")
                runs.append(run)
            label = f"{count} replica{'s' if count > 1 else ''}, PostgreSQL, {isolation}"
            print(f"{label:<46} | {row(runs, n)}")


def spread(seconds: list[float]) -> str:
    """The fastest and slowest of the runs."""
    return f"{min(seconds):.1f}–{max(seconds):.1f}"


def row(runs: list[Run], n: int) -> str:
    """One line of the table: median wall time, decisions per second, each replica's share."""
    run = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
    shares = ", ".join(
        f"{w['decided']}/{w['sweeps']}/{w['reruns']}/{w['failed']}" for w in run.workers
    )
    seconds = spread([r.seconds for r in runs])
    return f"{run.seconds:8.2f} | {seconds:>13} | {n / run.seconds:11,.0f} | {shares}"


async def sqlite_run(n: int) -> Run:
    """The baseline: the same rows in a scratch SQLite file, swept by one replica."""
    async with scratch(SQLITE, "replicas") as db:
        await (await Store.open(db)).close()  # the real migrations
        conn = sqlite3.connect(db)
        with conn:
            conn.executemany(INSERT, open_rows(n, PAST))
        conn.execute("ANALYZE")
        conn.close()
        return await replicas(db, 1)


async def _due_left(database: str) -> int:
    conn = await asyncpg.connect(database)
    try:
        return int(await conn.fetchval(translate(DUE_COUNT)[0], NOW.timestamp()))
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=20_000)
    parser.add_argument("--replicas", default="1,2,3")
    parser.add_argument("--database", default=DEFAULT_PG, help="a postgresql:// URL")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each setup (median)")
    parser.add_argument(
        "--isolation",
        choices=("shipped", "serializable", "read-committed"),
        action="append",
        help="the PostgreSQL replicas' transactions: Frontline's (serializable, the default), "
        "or the read-committed experiment; give it twice for both",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker(args.database, (args.isolation or ["shipped"])[0]))
        return
    if check(args.database) == SQLITE:
        raise SystemExit("--database: replicas share a PostgreSQL database; give its URL")
    counts = [int(c) for c in args.replicas.split(",")]
    isolations = args.isolation or ["shipped"]
    asyncio.run(measure(args.database, args.questions, counts, isolations, args.repeat))


if __name__ == "__main__":
    main()
