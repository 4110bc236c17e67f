"""Summary benchmark: the daily summary over a store of 1,000,000 messages and 100,000 questions.

The real migrations create the schema; 100,000 questions (most answered, some still
waiting) and 1,000,000 messages (thread replies and chatter) spread over 100 days are
inserted with executemany. Timed on the real store through the app:

- `bot.metrics.figures` for one day (counted by the database; only the response
  times come back, a page at a time);
- the daily summary post (`handlers.summary.build_summary`): that day and the day
  before, escalations, recurring topics, the oldest waiting questions and their count;
- the weekly one for scale (seven days, and a PNG chart of the last fourteen).

Baselines, same tables, same run: `SELECT COUNT(*)` over the day's questions (the rows
the daily figures read), fetching those rows whole, and `SELECT COUNT(*)` over all the
messages. Goal: the daily summary under 500 ms.

    .venv/bin/python bench/summary.py [--questions 100000] [--messages 1000000] [--repeat 7]
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sweep import CHANNELS, INSERT, SPACE, answered_rows, bulk_insert, create_schema

from bot.adapters.local import LocalPlatform
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.metrics import figures
from config.settings import Settings, load_settings
from handlers.summary import build_summary

DAYS = 100
START = datetime(2026, 8, 17, tzinfo=UTC)  # a Monday; the store covers 100 days from here
DAY = START + timedelta(days=DAYS - 2)  # the day the daily summary reports on (a Monday)
MESSAGES = (
    "INSERT INTO messages (platform, space, channel, message_id, watched_channel, author, "
    "author_staff, posted_at, root_channel, root_id, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
    "?, ?, 0)"
)


def settings() -> Settings:
    """Three watched channels and a daily (and Monday weekly) summary to #staff."""
    return load_settings(
        data={
            "staff": {"local_users": ["ana"]},
            "channels": [
                {"platform": "local", "id": c, "name": c, "target": "1h", "nudge_channel": "staff"}
                for c in CHANNELS
            ],
            "summaries": [{"platform": "local", "channel": "staff", "weekly_on": "mon"}],
        }
    )


def message_rows(n: int, questions: int, seed: int = 3) -> Iterator[tuple[Any, ...]]:
    """`n` messages over the 100 days: a third are replies in question threads."""
    rng = random.Random(seed)
    start = START.timestamp()
    for i in range(n):
        channel = CHANNELS[i % 3]
        reply = rng.random() < 0.33
        root = f"a{rng.randrange(questions):07d}" if reply else None
        yield (
            "local", SPACE, channel, f"m{i:08d}", channel, f"u{i % 5000}", int(i % 9 == 0),
            start + rng.uniform(0, DAYS * 86400), channel if reply else None, root,
        )  # fmt: skip


def fill(db: Path, questions: int, messages: int) -> None:
    """The store: real schema, then the questions and messages, with statistics."""
    create_schema(db)
    bulk_insert(db, INSERT, answered_rows(questions, START.timestamp(), DAYS))
    bulk_insert(db, MESSAGES, message_rows(messages, questions))


async def timed(fn: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    """Timings of `repeat` calls after one warm-up call."""
    await fn()
    out = []
    for _ in range(repeat):
        began = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - began)
    return out


async def summaries(db: Path, repeat: int) -> dict[str, list[float]]:
    """Timings of the day's figures, the daily summary and the weekly summary."""
    config = settings()
    now = DAY + timedelta(days=1, hours=9)
    clock = VirtualClock(now)
    platform = LocalPlatform(clock, staff=frozenset({"ana"}), space=SPACE)
    summary = config.summaries[0]
    day_end = DAY + timedelta(days=1)
    async with Frontline.open(config, clock, {"local": platform}, database=str(db)) as app:
        ctx = app.ctx
        daily = await build_summary(ctx, summary, "daily", DAY, day_end)
        day = await figures(ctx.store, DAY, day_end, now)
        print(f"the daily summary reports {day.questions} questions; its first lines:")
        print("  " + "\n  ".join(daily.text.splitlines()[:4]))
        week_start = day_end - timedelta(days=7)
        return {
            "figures": await timed(lambda: figures(ctx.store, DAY, day_end, now), repeat),
            "daily": await timed(
                lambda: build_summary(ctx, summary, "daily", DAY, day_end), repeat
            ),
            "weekly": await timed(
                lambda: build_summary(ctx, summary, "weekly", week_start, day_end), repeat
            ),
        }


def baselines(db: Path, repeat: int) -> dict[str, list[float]]:
    """Bare SQL over the same rows: count and fetch the day's questions, count all messages."""
    conn = sqlite3.connect(db)
    day = (DAY.timestamp(), (DAY + timedelta(days=1)).timestamp())
    queries = {
        "count day": ("SELECT COUNT(*) FROM questions WHERE asked_at >= ? AND asked_at < ?", day),
        "fetch day": ("SELECT * FROM questions WHERE asked_at >= ? AND asked_at < ?", day),
        "count messages": ("SELECT COUNT(*) FROM messages", ()),
    }
    out: dict[str, list[float]] = {}
    for name, (sql, params) in queries.items():
        conn.execute(sql, params).fetchall()
        out[name] = []
        for _ in range(repeat):
            began = time.perf_counter()
            conn.execute(sql, params).fetchall()
            out[name].append(time.perf_counter() - began)
    conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "summary.db"
        fill(db, args.questions, args.messages)
        timings = asyncio.run(summaries(db, args.repeat))
        bare = baselines(db, args.repeat)
    count_day = statistics.median(bare["count day"])
    fetch_day = statistics.median(bare["fetch day"])
    print(f"\n{args.messages:,} messages, {args.questions:,} questions over {DAYS} days")
    print(f"{f'median of {args.repeat}, ms':<44}{'':>9} | x COUNT(*) day | x SELECT * day")
    rows = [
        ("daily summary (build_summary, daily)", timings["daily"]),
        ("day's figures (bot.metrics.figures)", timings["figures"]),
        ("weekly summary with its chart", timings["weekly"]),
        ("baseline: COUNT(*) of the day's questions", bare["count day"]),
        ("baseline: SELECT * of the day's questions", bare["fetch day"]),
        ("baseline: COUNT(*) of all messages", bare["count messages"]),
    ]
    for label, values in rows:
        median = statistics.median(values)
        print(
            f"{label:<44}{median * 1000:9.2f} | {median / count_day:13.0f}x | "
            f"{median / fetch_day:13.1f}x"
        )


if __name__ == "__main__":
    main()
