"""One part of a replay, played in this process: some or all channels of an export.

A part reads its channels from the export, plays them through the live pipeline on a
virtual clock into a scratch database, and hands back its questions. Channels never
share a question (answers, mentions and nudge counts stay within a channel), so the
parts of one export can run side by side (bot/replay_workers.py) and their questions
simply add up. Only the end of the replay is common to all parts: every part sweeps
up to the same moment, the last message of the whole export, which `agree_end`
settles once the part has read all of its own messages.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.adapters.local import LocalPlatform, Sent
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.events import MessagePosted
from bot.core.model import Message, Question
from bot.detect import Mode, detect_question
from bot.hours import Calendar
from bot.imports import DiscordExportReader, SlackExportReader, open_export
from bot.imports.common import ImportProblem
from bot.storage.repos import Repo
from config.settings import ChannelConfig, Settings

# Messages per unit of work on the database thread.
BATCH = 2000


@dataclass
class PartOptions:
    """What to play: the export, its format and filters, and where the database goes."""

    path: Path
    fmt: str = "auto"
    channels: Collection[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    all_messages: bool = False
    # None: a temporary file, removed afterwards (memory stays flat however big the
    # export); ":memory:" or a path keep the database where asked.
    database: str | None = None

    def open(self) -> SlackExportReader | DiscordExportReader:
        """A reader of the export with these filters."""
        return open_export(
            self.path, self.fmt, channels=self.channels, since=self.since, until=self.until
        )


@dataclass
class Played:
    """What one part found: its questions and what it read."""

    questions: list[Question] = field(default_factory=list)
    messages: int = 0
    first: datetime | None = None
    last: datetime | None = None
    problems: list[ImportProblem] = field(default_factory=list)
    not_questions: list[dict[str, Any]] = field(default_factory=list)


# Told the part's first and last message (None when it had none), returns the moment
# every part sweeps up to.
AgreeEnd = Callable[[datetime | None, datetime | None], Awaitable[datetime | None]]
# Where the part's questions go, a page at a time (by default into `Played.questions`).
Sink = Callable[[list[Question]], None]
PAGE = 5000


class RecordingPlatform(LocalPlatform):
    """The local platform, counting what the bot says instead of keeping it.

    A replay of a big export "posts" hundreds of thousands of nudges: a transcript of
    them would be the largest thing in memory, and nobody reads it.
    """

    sent_count: int = 0

    def _record(self, sent: Sent) -> None:
        self.sent_count += 1


def staff_ids(settings: Settings, platform: str) -> frozenset[str]:
    """The configured staff of `platform`: who counts as staff in a replay."""
    staff = settings.staff
    ids = {"slack": staff.slack_users, "discord": staff.discord_users}.get(platform, [])
    return frozenset(ids)


async def play_part(
    options: PartOptions,
    settings: Settings,
    agree_end: AgreeEnd,
    tick: Callable[[int], None] = lambda n: None,
    sink: Sink | None = None,
    reader: SlackExportReader | DiscordExportReader | None = None,
) -> Played:
    """Play the export's selected channels; `tick(n)` counts messages as they are read.

    The questions go to `sink` page by page if one is given (a worker sends them on
    without holding them all), else into the result. `reader`: the export already
    opened with `options` (else it is opened here).
    """
    reader = reader or options.open()
    watched = {c.id: c for c in settings.channels if c.platform == reader.platform}
    played = Played()

    def timeline() -> Iterator[tuple[datetime, MessagePosted]]:
        for message in reader.messages():
            played.messages += 1
            if played.messages % 1000 == 0:
                tick(1000)
            played.first = played.first or message.posted_at
            played.last = message.posted_at
            if options.all_messages:
                _maybe_not_question(message, watched, played.not_questions)
            yield message.posted_at, MessagePosted(None, message)

    clock = VirtualClock(options.since or datetime(1970, 1, 1, tzinfo=UTC))
    platform = RecordingPlatform(
        clock, staff=staff_ids(settings, reader.platform), space=reader.space
    )
    platform.name = reader.platform
    with tempfile.TemporaryDirectory(prefix="frontline-replay-") as scratch:
        database = options.database or str(Path(scratch) / "replay.db")
        async with Frontline.open(
            settings, clock, {reader.platform: platform}, database=database, durable_sends=False
        ) as app:
            # Nobody scrapes a replay's metrics; timing every event would cost ~10%.
            app.ctx.router.telemetry = None
            # The reader yields in time order (a message out of order is skipped).
            app.ctx.tracker.in_order = True
            if options.database is None:
                # A scratch database: losing it in a crash loses nothing.
                await app.ctx.store.read(_no_sync)
            await app.play(timeline(), batch=BATCH)
            tick(played.messages % 1000)
            end = await agree_end(played.first, played.last)
            if end is not None:
                await app.advance_to(end)
            asked: set[tuple[str, str]] = set()
            if played.first is not None and end is not None:
                page: list[Question] = []
                while True:
                    page = await app.ctx.store.asked_between(
                        played.first,
                        end + timedelta(microseconds=1),
                        after=page[-1] if page else None,
                        limit=PAGE,
                    )
                    if options.all_messages:
                        asked.update((q.watched_channel, q.ref.message) for q in page)
                    if sink is None:
                        played.questions += page
                    elif page:
                        sink(page)
                    if len(page) < PAGE:
                        break
                if options.all_messages:
                    calendars = app.ctx.tracker.calendars
                    played.not_questions += [
                        _follow_up_line(later, earlier, calendars[later.calendar])
                        for later, earlier in await app.ctx.store.follow_ups(
                            played.first, end + timedelta(microseconds=1)
                        )
                    ]
    played.problems = list(reader.problems)
    if played.not_questions:
        played.not_questions = [
            n for n in played.not_questions if (n["channel"], n["ts"]) not in asked
        ]
    return played


def _no_sync(repo: Repo) -> None:
    repo.conn.execute("PRAGMA synchronous=OFF")


def _follow_up_line(later: Question, earlier: Question, calendar: Calendar) -> dict[str, Any]:
    """The results line of a post that carried on its asker's earlier question.

    It is no question of its own (state "follow_up"); the response is the earlier
    question's, timed from this post.
    """
    at = earlier.first_response_at
    waited = max(at - later.asked_at, timedelta()) if at else None
    business = calendar.business_elapsed(later.asked_at, at) if at and waited else waited
    role = earlier.responder_role
    return {
        "platform": later.ref.platform,
        "channel": later.watched_channel,
        "ts": later.ref.message,
        "user": later.asker,
        "text": later.text,
        "score": round(later.score, 4),
        "state": "follow_up",
        "first_response_ts": earlier.first_response_id,
        "first_responder": earlier.first_responder,
        "responder_role": role.value if role else None,
        "ttfr_seconds": waited.total_seconds() if waited is not None else None,
        "ttfr_business_seconds": business.total_seconds() if business is not None else None,
        "breached": earlier.breached,
        "nudges": 0,
    }


def _maybe_not_question(
    message: Message, watched: dict[str, ChannelConfig], out: list[dict[str, Any]]
) -> None:
    """Remember a top-level human message the detector would not track (--all-messages)."""
    config = watched.get(message.config_channel)
    if config is None or message.author.is_bot or message.thread_root or message.reply_to:
        return
    mode: Mode = "every-post" if message.is_thread_starter else config.mode
    verdict = detect_question(message.text, mode=mode)
    if verdict.is_question:
        return  # it may still be a reply by mention: filtered against the questions later
    out.append(
        {
            "platform": message.ref.platform,
            "channel": message.config_channel,
            "ts": message.ref.message,
            "user": message.author.user,
            "text": message.text,
            "score": round(verdict.score, 4),
            "state": "not_a_question",
            "first_response_ts": None,
            "first_responder": None,
            "responder_role": None,
            "ttfr_seconds": None,
            "ttfr_business_seconds": None,
            "breached": False,
            "nudges": 0,
        }
    )
