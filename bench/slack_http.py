"""Slack HTTP benchmark: signed Events API deliveries through the real bolt endpoint.

`frontline run --http` runs as its own process on 127.0.0.1, its Web API pointed at the
project's fake Slack (tests/adapters/fake_slack.py) in this process. The load is correctly
signed `event_callback` message events in the watched channel (questions and chatter
from 50 members), built and signed before the clock starts:

- paced: `--events` deliveries at `--rate` per second (open loop: each is sent at its
  moment whether or not earlier ones were answered), timing each until its HTTP 200,
  then how long the bot takes to store them all;
- saturated: the same number as fast as 32 concurrent connections allow.

Baseline, same machine, same run, same load generator: a trivial aiohttp handler (read
the body, answer 200) in its own process. Loopback only, bounded in count and time.
Goal: p99 time to ack well under Slack's 3 s at 500 events/s.

    .venv/bin/python bench/slack_http.py [--events 5000] [--rate 500]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.adapters.fake_slack import (
    HELP,
    SECRET,
    FakeSlack,
    event_body,
    message_event,
    signed_headers,
)

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "xoxb-bench-token"
TEXTS = (
    "How do I rotate the API key of project {n}? The docs don't say.",
    "thanks, that fixed it",
    "Why does the CLI fail with error {n} on start?",
    "good morning everyone",
)
CONFIG = f"""
[bot]
log_level = "INFO"

[[channels]]
platform = "slack"
id = "{HELP}"
name = "help"
target = "1h"
"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def deliveries(count: int, run: str) -> list[tuple[str, dict[str, str]]]:
    """`count` signed message events, ready to POST: body and headers."""
    base = int(time.time())
    out = []
    for n in range(count):
        ts = f"{base}.{n:06d}"
        text = TEXTS[n % len(TEXTS)].format(n=n)
        body = event_body(message_event(f"U{n % 50:04d}", text, ts), f"Ev{run}{n:07d}")
        out.append((body, signed_headers(body, content_type="application/json")))
    return out


@dataclass
class Run:
    """What one load run measured."""

    latencies: list[float]
    errors: int
    seconds: float

    def line(self, label: str, count: int) -> str:
        """One row of the table: rate, p50, p99 and max time to the answer, errors."""
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        rate = count / self.seconds
        return (
            f"{label:<34}{rate:9.0f} | {p50:8.2f} | {p99:8.2f} | {ordered[-1] * 1000:8.1f} | "
            f"{self.errors:6d}"
        )


async def post(
    session: aiohttp.ClientSession, url: str, body: str, headers: dict[str, str]
) -> tuple[float, bool]:
    began = time.perf_counter()
    try:
        async with session.post(url, data=body, headers=headers) as resp:
            await resp.read()
            ok = resp.status == 200
    except aiohttp.ClientError:
        ok = False
    return time.perf_counter() - began, ok


async def paced(url: str, load: list[tuple[str, dict[str, str]]], rate: float) -> Run:
    """Send each delivery at its moment (open loop); time each until its answer."""
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = []
        start = time.perf_counter()
        for n, (body, headers) in enumerate(load):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(session, url, body, headers)))
        results = await asyncio.wait_for(asyncio.gather(*tasks), 60)
        took = time.perf_counter() - start
    return Run([r[0] for r in results], sum(not r[1] for r in results), took)


async def saturated(url: str, load: list[tuple[str, dict[str, str]]], workers: int) -> Run:
    """Send as fast as `workers` concurrent connections allow."""
    queue: Iterator[tuple[str, dict[str, str]]] = iter(load)
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=workers)) as session:

        async def worker() -> None:
            nonlocal errors
            for body, headers in queue:
                took, ok = await post(session, url, body, headers)
                latencies.append(took)
                errors += not ok

        start = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(workers))), 120)
        took = time.perf_counter() - start
    return Run(latencies, errors, took)


def read(log: Path) -> str:
    """What a server process logged."""
    return log.read_text(encoding="utf-8", errors="replace")


async def wait_port(port: int, proc: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"the server exited:\n{read(log)}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise RuntimeError(f"nothing listens on {port}:\n{read(log)}")


@contextlib.asynccontextmanager
async def server(args: list[str], env: dict[str, str], log: Path) -> AsyncIterator[int]:
    """A server process on a free loopback port, stopped with SIGTERM afterwards."""
    port = free_port()
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, "--port", str(port), cwd=ROOT, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        await wait_port(port, proc, log)
        yield port
    finally:
        if proc.returncode is None:
            proc.terminate()
        await asyncio.wait_for(proc.wait(), 15)


def stored(db: Path) -> int:
    try:
        conn = sqlite3.connect(db, timeout=5)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


async def drained(db: Path, total: int) -> tuple[int, float]:
    """Wait (up to a minute) until `total` events are stored; how many, and how long it took."""
    began = time.perf_counter()
    while time.perf_counter() - began < 60:
        if stored(db) >= total:
            break
        await asyncio.sleep(0.01)
    return stored(db), time.perf_counter() - began


async def bench(events: int, rate: float, workers: int) -> None:
    fake = await FakeSlack().start()
    for n in range(50):
        fake.add_user(f"U{n:04d}", f"Member {n}")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "frontline.toml"
        config.write_text(CONFIG)
        db = Path(tmp) / "bench.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FRONTLINE_"))}
        env.pop("DISCORD_TOKEN", None)
        env |= {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "FRONTLINE_DATABASE_URL": str(db),
        }
        bot_args = ["-m", "bot", "--config", str(config), "run", "--http"]
        baseline_args = [__file__, "--serve-baseline"]
        rows: list[str] = []
        drains: list[tuple[int, float]] = []
        async with server(bot_args, env, Path(tmp) / "bot.log") as port:
            url = f"http://127.0.0.1:{port}/slack/events"
            run = await paced(url, deliveries(events, "P"), rate)
            drains.append(await drained(db, events))
            rows.append(run.line(f"bolt endpoint, paced at {rate:.0f}/s", events))
            run = await saturated(url, deliveries(events, "S"), workers)
            drains.append(await drained(db, 2 * events))
            rows.append(run.line(f"bolt endpoint, {workers} connections", events))
        async with server(baseline_args, env, Path(tmp) / "baseline.log") as port:
            url = f"http://127.0.0.1:{port}/slack/events"
            run = await paced(url, deliveries(events, "B"), rate)
            rows.append(run.line(f"baseline handler, paced at {rate:.0f}/s", events))
            run = await saturated(url, deliveries(events, "C"), workers)
            rows.append(run.line(f"baseline handler, {workers} connections", events))
    await fake.close()
    print(f"{events:,} signed message events per run, loopback, one bot process")
    print(f"{'':<34}{'events/s':>9} | {'p50 ms':>8} | {'p99 ms':>8} | {'max ms':>8} | errors")
    print("\n".join(rows))
    for (kept, drain), label, total in zip(
        drains, ("paced", "saturated"), (events, 2 * events), strict=True
    ):
        print(
            f"after the {label} run: {kept:,} of {total:,} events stored in all, the last "
            f"{drain * 1000:.0f} ms after the last ack"
        )


async def serve_baseline(port: int) -> None:
    """The trivial handler: read the body, answer 200, until terminated."""

    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/slack/events", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_baseline(args.port))
        return
    asyncio.run(bench(args.events, args.rate, args.workers))


if __name__ == "__main__":
    main()
