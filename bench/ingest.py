"""Ingest benchmark: messages per second through the full core path vs raw SQLite inserts.

The core path is what a live event costs: router dispatch, question detection, the
tracker's reads and writes in one transaction on the real SQLite file. The baseline is
the floor: the same rows inserted into a bare table with executemany in one run.

    .venv/bin/python bench/ingest.py [--days 30] [--seed 7] [--batch 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.adapters.local import LocalPlatform
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.events import MessagePosted
from bot.simulate import Community
from config.settings import demo_config, load_settings


async def core_path(events: list, db: Path, batch: int) -> float:
    # Ingest only: the demo's daily summaries (and their charts) are not message work.
    settings = load_settings(data={**demo_config(), "summaries": []})
    clock = VirtualClock(events[0].at)
    platform = LocalPlatform(clock, staff=frozenset(settings.staff.local_users), space="demo")
    async with Frontline.open(settings, clock, {"local": platform}, database=str(db)) as app:
        began = time.perf_counter()
        await app.play(((e.at, e.event) for e in events), batch=batch)
        return time.perf_counter() - began


def raw_inserts(events: list, db: Path) -> float:
    rows = [
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
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE m (channel TEXT, id TEXT, author TEXT, at REAL, text TEXT, "
        "PRIMARY KEY (channel, id))"
    )
    began = time.perf_counter()
    with conn:
        conn.executemany("INSERT INTO m VALUES (?, ?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - began
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    events = Community(seed=args.seed, days=args.days).events()
    with tempfile.TemporaryDirectory() as tmp:
        live = asyncio.run(core_path(events, Path(tmp) / "live.db", batch=1))
        batched = asyncio.run(core_path(events, Path(tmp) / "batch.db", batch=args.batch))
        raw = raw_inserts(events, Path(tmp) / "raw.db")
    n = len(events)
    print(f"events: {n} ({args.days} simulated days, seed {args.seed})")
    print(f"core path, one event per unit (live) : {n / live:10.0f} events/s")
    print(f"core path, {args.batch} events per unit (replay): {n / batched:10.0f} events/s")
    print(f"raw insert floor                      : {n / raw:10.0f} rows/s")
    print(f"replay path is 1/{batched / raw:.1f} of the floor; live path 1/{live / raw:.1f}")


if __name__ == "__main__":
    main()
