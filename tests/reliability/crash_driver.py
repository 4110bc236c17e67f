"""A Frontline process on the local platform and a virtual clock, for the summary crash tests.

The daily summary job only wakes once a minute in live mode, so the summary crash tests
drive time themselves: this script runs the real app (router, handlers, SQLite file)
in its own process, and kills itself with SIGKILL at the chosen step of posting the
summary. Every post the platform received is appended (and fsynced) to a JSON-lines
file, so the test sees what members would have seen even after the kill; like Slack's
channel history, that file also answers the outbox's "did this post arrive?".

    python -m tests.reliability.crash_driver first   --db F --log L --crash after-post
    python -m tests.reliability.crash_driver restart --db F --log L --at ISO --until ISO

`first` plays a Monday of questions and runs up to Tuesday 09:00:30 UTC, when the daily
summary is due; `restart` is what a restarted live bot does: poll the summary job once
a minute from `--at` to `--until`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.adapters.local import LocalPlatform
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.events import MessagePosted
from bot.core.model import ChannelRef, Message, MessageRef, Post, UserRef
from config.settings import load_settings

SUMMARY_CHANNEL = "staff"
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC)


def config() -> dict[str, Any]:
    """One watched channel; the daily summary goes to #staff at 09:00 UTC."""
    return {
        "bot": {"sweep_interval": "30s", "log_level": "WARNING"},
        "staff": {"local_users": ["ana"]},
        "channels": [
            {"platform": "local", "id": "help", "name": "help", "nudge_channel": "nudges"}
        ],
        "summaries": [
            {"platform": "local", "channel": SUMMARY_CHANNEL, "time": "09:00", "weekly_on": None}
        ],
    }


@dataclass
class CrashingPlatform(LocalPlatform):
    """The local platform that logs every post to a file and can die around a summary post."""

    log_path: Path | None = None
    crash: str = "none"

    async def post(self, channel: ChannelRef, post: Post) -> MessageRef:
        """Post, logging it durably first; SIGKILL just before or after a summary post."""
        summary = channel.channel == SUMMARY_CHANNEL
        if summary and self.crash == "before-post":
            os.kill(os.getpid(), signal.SIGKILL)
        ref = await super().post(channel, post)
        if self.log_path is not None:
            line = {"at": self.clock.now().isoformat(), "kind": "post", "where": channel.channel}
            line |= {"key": post.key, "ref": ref.message}
            with self.log_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(line | {"text": post.text}) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        if summary and self.crash == "after-post":
            # The post reached the platform; the bot dies before it can mark it sent.
            os.kill(os.getpid(), signal.SIGKILL)
        return ref

    async def find_sent(
        self, where: ChannelRef | UserRef, post: Post, since: datetime
    ) -> MessageRef | None:
        """What the platform kept survives the bot: look the key up in the send log."""
        if self.log_path is None or not self.log_path.exists():
            return None
        for text in self.log_path.read_text(encoding="utf-8").splitlines():
            line = json.loads(text)
            if post.key and line.get("key") == post.key and isinstance(where, ChannelRef):
                return MessageRef("local", where.space, where.channel, line["ref"])
        return None


def _question(n: int, at: datetime, author: str, text: str, root: str | None = None) -> Any:
    ref = MessageRef("local", "T1", "help", f"m{n}")
    thread = MessageRef("local", "T1", "help", root) if root else None
    message = Message(ref, UserRef("local", "T1", author, author.title()), text, at, thread)
    return MessagePosted(f"ev{n}", message)


async def main(args: argparse.Namespace) -> None:
    settings = load_settings(data=config())
    start = MONDAY if args.phase == "first" else args.at
    clock = VirtualClock(start)
    platform = CrashingPlatform(clock, staff=frozenset({"ana"}), space="T1")
    platform.log_path, platform.crash = args.log, args.crash
    async with Frontline.open(settings, clock, {"local": platform}, database=args.db) as app:
        if args.phase == "first":
            for n, at, author, text, root in (
                (1, MONDAY, "maria", "How do I rotate my API key?", None),
                (2, MONDAY + timedelta(minutes=5), "ana", "Settings > Keys > Rotate", "m1"),
                (
                    3,
                    MONDAY + timedelta(hours=1),
                    "tomasz",
                    "Why does the CLI crash on start?",
                    None,
                ),
            ):
                await app.advance_to(at)
                await app.handle(_question(n, at, author, text, root))
            await app.advance_to(DUE)
            return
        moment = args.at
        while moment <= args.until:
            clock.set(moment)
            await app.run_job("summary")
            moment += timedelta(minutes=1)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("phase", choices=("first", "restart"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--crash", choices=("none", "before-post", "after-post"), default="none")
    parser.add_argument("--at", type=_moment, default=DUE)
    parser.add_argument("--until", type=_moment, default=DUE)
    asyncio.run(main(parser.parse_args()))
