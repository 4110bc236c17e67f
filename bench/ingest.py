"""Ingest benchmark: messages per second through the full core path vs raw inserts.

The core path is what a live event costs: router dispatch, question detection, the
tracker's reads and writes in one transaction on the real database. The baseline is
the floor: the same rows inserted into a bare table with executemany in one run, on the
same database.

    .venv/bin/python bench/ingest.py [--days 30] [--seed 7] [--batch 1000]
        [--database sqlite] [--database postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.databases import SQLITE, add_option, label, scratch
from bot.adapters.local import LocalPlatform
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.events import MessagePosted
from bot.simulate import Community
from config.settings import demo_config, load_settings


async def core_path(events: list, database: str, batch: int) -> float:
    # Ingest only: the demo's daily summaries (and their charts) are not message work.
    settings = load_settings(data={**demo_config(), "summaries": []})
    clock = VirtualClock(events[0].at)
    platform = LocalPlatform(clock, staff=frozenset(settings.staff.local_users), space="demo")
    async with Frontline.open(settings, clock, {"local": platform}, database=database) as app:
        began = time.perf_counter()
        await app.play(((e.at, e.event) for e in events), batch=batch)
        return time.perf_counter() - began


def message_rows(events: list) -> list[tuple]:
    return [
        (
            e.event.message.ref.channel,
            e.event.message.ref.message,
            e.event.message.author.user,
            e.event.message.posted_at.timestamp(),
            e.event.message.text,
        )
        for e in events
        if isinstance(e.event, MessagePosted)
    ]


BARE_TABLE = (
    "CREATE TABLE m (channel TEXT, id TEXT, author TEXT, at DOUBLE PRECISION, text TEXT, "
    "PRIMARY KEY (channel, id))"
)


def raw_inserts(events: list, db: str) -> float:
    rows = message_rows(events)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(BARE_TABLE)
    began = time.perf_counter()
    with conn:
        conn.executemany("INSERT INTO m VALUES (?, ?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - began
    conn.close()
    return elapsed


async def raw_inserts_postgres(events: list, url: str) -> float:
    rows = message_rows(events)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(BARE_TABLE)
        began = time.perf_counter()
        async with conn.transaction():
            await conn.executemany("INSERT INTO m VALUES ($1, $2, $3, $4, $5)", rows)
        return time.perf_counter() - began
    finally:
        await conn.close()


async def measure(spec: str, events: list, batch: int) -> tuple[float, float, float]:
    """Seconds for the live path, the batched path and the raw inserts on one database."""
    async with scratch(spec, "live") as database:
        live = await core_path(events, database, batch=1)
    async with scratch(spec, "batch") as database:
        batched = await core_path(events, database, batch=batch)
    async with scratch(spec, "raw") as database:
        if spec == SQLITE:
            raw = raw_inserts(events, database)
        else:
            raw = await raw_inserts_postgres(events, database)
    return live, batched, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=1000)
    add_option(parser)
    args = parser.parse_args()
    events = Community(seed=args.seed, days=args.days).events()
    n = len(events)
    print(f"events: {n} ({args.days} simulated days, seed {args.seed})")
    for spec in args.database or [SQLITE]:
        live, batched, raw = asyncio.run(measure(spec, events, args.batch))
        print(f"{label(spec)}:")
        print(f"  core path, one event per unit (live) : {n / live:10.0f} events/s")
        print(f"  core path, {args.batch} events per unit (replay): {n / batched:10.0f} events/s")
        print(f"  raw insert floor                      : {n / raw:10.0f} rows/s")
        print(f"  replay path is 1/{batched / raw:.1f} of the floor; live path 1/{live / raw:.1f}")


if __name__ == "__main__":
    main()
