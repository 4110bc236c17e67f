"""Memory benchmark: peak RSS of a process holding a store of 1,000,000 tracked questions.

The parent builds the store once (real migrations, then executemany): 1,000,000
questions asked over 100 days, 85% answered and 15% still waiting, with 20 of the
waiting ones due for their breach nudge. Each measurement is a fresh child process
that reports its own peak resident set size (`ru_maxrss`):

- baseline: an idle interpreter with the same imports as the measured process;
- the bot: the same imports, the store opened (migrations checked), one sweep job
  (breaching and nudging the 20 due questions) and the daily summary of the last day;
- the same, plus the weekly summary with its 14-day chart (two weeks of questions);
- the store opened and `/frontline chart 90d` answered: the longest chart a member can
  ask for, over 900,000 of the questions;
- for scale, an idle interpreter that also imports the Slack and Discord SDKs, as
  `frontline run` does.

The summaries and the chart count in SQL and read only narrow columns a page at a time
(`bot.storage.aggregates`), so their peak follows the page size, not the period.

Goal: under 200 MB with 1,000,000 tracked questions.

    .venv/bin/python bench/memory.py [--questions 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from summary import DAY, DAYS, START, settings
from sweep import INSERT, SPACE, answered_rows, arm, bulk_insert, create_schema

from bot.adapters.local import LocalPlatform
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.events import CommandInvoked
from bot.core.model import ChannelRef, UserRef
from handlers.summary import build_summary

NOW = DAY + timedelta(days=1, hours=9)


def peak_mb() -> float:
    """The peak resident set size of the running process in MB (Linux counts kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def work(db: str, weekly: bool) -> None:
    """What the bot does with the store: a sweep job, the daily (and weekly) summary."""
    config = settings()
    clock = VirtualClock(NOW)
    platform = LocalPlatform(clock, staff=frozenset({"ana"}), space=SPACE)
    summary = config.summaries[0]
    end = DAY + timedelta(days=1)
    async with Frontline.open(config, clock, {"local": platform}, database=db) as app:
        await app.run_job("sweep")
        if len(platform.transcript) != 1:
            raise RuntimeError("the sweep did not nudge the due questions")
        await build_summary(app.ctx, summary, "daily", DAY, end)
        if weekly:
            await build_summary(app.ctx, summary, "weekly", end - timedelta(days=7), end)


async def chart(db: str) -> None:
    """A staff member asks for the longest chart: `/frontline chart 90d`."""
    clock = VirtualClock(NOW)
    platform = LocalPlatform(clock, staff=frozenset({"ana"}), space=SPACE)
    async with Frontline.open(settings(), clock, {"local": platform}, database=db) as app:
        ana = UserRef("local", SPACE, "ana", "Ana")
        event = CommandInvoked(None, "chart 90d", ana, ChannelRef("local", SPACE, "help"), NOW)
        [reply] = await app.handle(event)
        if reply.post is None or not reply.post.image:
            raise RuntimeError(f"the chart command answered without a chart: {reply.text}")


def child(mode: str, db: str) -> None:
    if mode == "sdks":
        import discord  # noqa: F401
        import slack_bolt  # noqa: F401
    elif mode == "chart":
        asyncio.run(chart(db))
    elif mode != "idle":
        asyncio.run(work(db, weekly=mode == "weekly"))
    print(f"{peak_mb():.1f}")


def measure(mode: str, db: Path) -> float:
    """Peak RSS in MB of a fresh child process doing `mode`."""
    arm(db, 20, NOW)  # the previous child swept the due questions
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--db", str(db)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the {mode} child failed:\n{out.stderr}")
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=1_000_000)
    parser.add_argument("--child", choices=("idle", "daily", "weekly", "chart", "sdks"))
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db)
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "memory.db"
        create_schema(db)
        bulk_insert(db, INSERT, answered_rows(args.questions, START.timestamp(), DAYS))
        size = db.stat().st_size / 2**20
        idle = measure("idle", db)
        results = [
            ("baseline: idle interpreter, same imports", idle),
            ("sweep (20 due) + daily summary", measure("daily", db)),
            ("sweep + daily + weekly summary with chart", measure("weekly", db)),
            ("/frontline chart 90d", measure("chart", db)),
            ("for scale: idle, plus slack_bolt and discord.py", measure("sdks", db)),
        ]
    print(f"{args.questions:,} tracked questions; database file {size:.0f} MB")
    print(f"{'peak RSS, MB':<50}{'':>8} | above the idle baseline")
    for label, mb in results:
        print(f"{label:<50}{mb:8.1f} | {mb - idle:+8.1f}")


if __name__ == "__main__":
    main()
