"""What the reliability tests share: a fake Slack with hooks, and `frontline run` as a process.

`HookedSlack` is the project's fake Web API (`tests/adapters/fake_slack.py`) with two
additions: hooks that run when a method is called, before it answers or after the call
is recorded (so a test can SIGKILL the bot at an exact point, such as "the nudge reached
Slack but its answer did not reach the bot"), and a `slow` fault that answers late (a
timeout on the client side, while Slack still acts on the request).

`BotProcess` starts the real command line (`python -m bot run --http --port N`) with
secrets in its environment, as an operator would, and logs to a file (a pipe nobody
reads could fill up and stall the bot).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.adapters.fake_slack import (
    HELP,
    SECRET,
    STAFF,
    FakeSlack,
    event_body,
    message_event,
    signed_headers,
)

REPO = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-reliability-secret-token"
MEMBERS = (("UMARIA", "Maria"), ("UCHIDI", "Chidi"), ("UBEN", "Ben"), ("ULEILA", "Leila"))
Hook = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class HookedSlack(FakeSlack):
    """The fake Slack Web API, plus hooks on methods and a `slow` fault."""

    before: dict[str, Hook] = field(default_factory=dict)
    after: dict[str, Hook] = field(default_factory=dict)

    async def _args(self, request: web.Request) -> dict[str, Any]:
        # A body can be read once; the hooks and the fake both need the arguments.
        if "hooked_args" not in request:
            request["hooked_args"] = await super()._args(request)
        return dict(request["hooked_args"])

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await self._args(request)
        if via := request.match_info.get("via"):
            args["_via"] = via  # hooks see which caller it is (`api_url_for`)
        if (hook := self.before.get(method)) is not None:
            await hook(args)
        queued = self.faults.get(method)
        if queued and queued[0][0] == "slow":
            _, seconds = queued.pop(0)
            await asyncio.sleep(seconds)  # then answers, and acts, as if nothing happened
        response = await super()._api(request)
        if (hook := self.after.get(method)) is not None:
            await hook(args)
        return response

    def staff_posts(self) -> list[str]:
        """The text of every post to the staff channel that Slack accepted."""
        return [str(p.get("text", "")) for p in self.posted(STAFF)]

    def times_listed(self, token: str) -> int:
        """In how many accepted staff posts a question containing `token` is listed."""
        return sum(token in text for text in self.staff_posts())


def asking(token: str) -> str:
    """A question that names `token` early, so a nudge listing it can be found by it."""
    return f"How do I rotate the API key of {token}? The docs don't say."


def require(condition: object, why: str) -> None:
    """A precondition of a strict-xfail test: failing it is an error, never the expected failure."""
    if not condition:
        raise RuntimeError(f"precondition: {why}")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def live_config(
    path: Path, *, target: str = "2s", sweep: str = "1s", outbox_lease: str | None = None
) -> Path:
    """One watched Slack channel with a short target and a fast sweep, nudging the staff.

    `outbox_lease`: how long a replica holds a send (`bot.outbox_lease`), when set.
    """
    lease = f'outbox_lease = "{outbox_lease}"\n' if outbox_lease else ""
    path.write_text(
        f"""
[bot]
sweep_interval = "{sweep}"
{lease}log_level = "INFO"

[staff]
slack_users = ["UANA"]

# Each question of these streams and bursts is a case of its own, though a few members
# ask them seconds apart: none carries another on (tracking.follow_up_window).
[tracking]
follow_up_window = "0s"

[[channels]]
platform = "slack"
id = "{HELP}"
name = "help"
target = "{target}"
nudge_channel = "{STAFF}"
nudge_at_risk = false
""",
        encoding="utf-8",
    )
    return path


_last_micros = [0]


def now_ts() -> str:
    """A Slack ts for "now", strictly increasing within this test process."""
    micros = max(time.time_ns() // 1000, _last_micros[0] + 1)
    _last_micros[0] = micros
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


async def until(check: Callable[[], bool], seconds: float, every: float = 0.02) -> bool:
    """Poll `check` until it holds or `seconds` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(every)


def _rows(db: Path, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=5)
    try:
        return conn.execute(sql, tuple(params)).fetchall()
    except sqlite3.OperationalError:
        return []  # the schema is not there yet: the process is still migrating
    finally:
        conn.close()


def tracked(db: Path, stamps: Iterable[str]) -> set[str]:
    """Which of the messages `stamps` are tracked questions in the database file."""
    wanted = list(stamps)
    if not wanted:
        return set()
    marks = ", ".join("?" * len(wanted))
    found = _rows(db, f"SELECT message_id FROM questions WHERE message_id IN ({marks})", wanted)
    return {row[0] for row in found}


def stored(db: Path, stamp: str) -> bool:
    """Whether the message `stamp` is stored at all (questions or not)."""
    return bool(_rows(db, "SELECT 1 FROM messages WHERE message_id = ?", [stamp]))


def question_row(db: Path, stamp: str) -> dict[str, Any] | None:
    """One tracked question as a dict of its columns, read from the file."""
    if not db.exists():
        return None
    conn = sqlite3.connect(db, timeout=5)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM questions WHERE message_id = ?", (stamp,)).fetchone()
    finally:
        conn.close()
    return dict(row) if row is not None else None


class BotProcess:
    """`frontline run --http --port N` as a real process, talking to the fake Web API.

    `db` is a SQLite file or a database URL; `env` adds to or overrides the process's
    environment (FRONTLINE_INSTANCE_ID, a per-replica SLACK_API_URL).
    """

    def __init__(
        self,
        fake: FakeSlack,
        config: Path,
        db: Path | str,
        log: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.fake = fake
        self.config = config
        self.db = db
        self.log = log
        self.env = dict(env or {})
        self.port = 0
        self.proc: asyncio.subprocess.Process | None = None
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> BotProcess:
        """Start the process and wait until its Events API endpoint accepts connections."""
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FRONTLINE_"))}
        env.pop("DISCORD_TOKEN", None)
        env |= {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.fake.api_url,
            "FRONTLINE_DATABASE_URL": str(self.db),
        }
        env |= self.env
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "--config",
                str(self.config),
                "run",
                "--http",
                "--port",
                str(self.port),
                cwd=REPO,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                raise RuntimeError(f"frontline run exited early:\n{self.output()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return self
        raise RuntimeError(f"frontline run did not open port {self.port}:\n{self.output()}")

    def output(self) -> str:
        """Everything the process (and its earlier runs) logged."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    async def send(
        self, session: aiohttp.ClientSession, event: dict[str, Any], event_id: str | None = None
    ) -> int | None:
        """Deliver one signed event; the HTTP status, or None when the connection failed."""
        body = event_body(event, event_id or f"EvR{self.port}x{next(self._ids):05d}")
        headers = signed_headers(body, content_type="application/json")
        try:
            async with session.post(self.url, data=body, headers=headers) as resp:
                await resp.read()
                return resp.status
        except (aiohttp.ClientError, OSError):
            return None

    async def say(
        self, session: aiohttp.ClientSession, user: str, text: str, ts: str, **extra: Any
    ) -> int | None:
        """Post a message in #help as Slack does: first it exists, then its event comes."""
        self.fake.add_message(HELP, user, text, ts, **extra)
        return await self.send(session, message_event(user, text, ts, **extra))

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, exactly like a crashed host or an OOM kill."""
        if self.proc is not None and self.proc.returncode is None:
            os.kill(self.proc.pid, signal.SIGKILL)

    def terminate(self) -> None:
        """SIGTERM, as a process manager stops a service."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)

    async def wait(self, seconds: float = 15) -> int:
        """Wait up to `seconds` for the process to end; its exit status."""
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), seconds)

    async def stop(self) -> None:
        """End the process however it is doing (used on the way out of a test)."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.terminate()
        try:
            await self.wait(10)
        except TimeoutError:
            self.kill()
            await self.wait(5)
