"""Replay a Slack or Discord export through the live pipeline on a virtual clock.

Nothing is posted anywhere: the platform is a recorder, so the nudges the bot would
have sent are counted, not sent. The result is what a community manager wants to know
before installing Frontline: the numbers, the questions left behind, and what a
response-time target would have meant.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import IO, Any

from bot.core.model import Question
from bot.hours import Calendar
from bot.imports.common import ExportReader, ImportProblem
from bot.metrics import Figures, compute
from bot.replay_part import PartOptions, Played, play_part
from bot.replay_workers import default_workers, play_in_workers, split
from config.settings import (
    ALWAYS_OPEN,
    Settings,
    format_duration,
    load_settings,
)

NUDGE_CHANNEL = "frontline-replay-nudges"
WHAT_IF = (
    ("15 min", timedelta(minutes=15)),
    ("30 min", timedelta(minutes=30)),
    ("1 h", timedelta(hours=1)),
    ("4 h", timedelta(hours=4)),
    ("1 business day", None),
)


@dataclass
class ReplayOptions:
    """What `frontline replay` was asked to do."""

    path: Path
    fmt: str = "auto"
    config: Path | None = None
    channels: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    out: Path | None = None
    report: Path | None = None
    all_messages: bool = False
    # None: a temporary file, removed afterwards (memory stays flat however big the
    # export); ":memory:" or a path keep the database where asked.
    database: str | None = None
    progress: bool | None = None  # None: only when stderr is a terminal
    workers: int | None = None  # processes for a big export; None: one per processor, up to 8


@dataclass(repr=False)
class ReplayResult:
    """Everything the report is made of."""

    platform: str
    questions: list[Question]
    figures: Figures
    start: datetime
    end: datetime
    messages: int
    problems: list[ImportProblem]
    nudges: int
    calendars: dict[str, Calendar]
    channel_names: dict[str, str]
    elapsed: float
    not_questions: list[dict[str, Any]] = field(default_factory=list)
    workers: int = 1

    def __repr__(self) -> str:
        # asyncio.run() formats the repr of its main task, result included, when it
        # restores the SIGINT handler: a full repr of every question would cost
        # seconds and a string the size of the export.
        return (
            f"ReplayResult({self.platform}, {self.messages} messages, "
            f"{len(self.questions)} questions, {self.start:%Y-%m-%d}..{self.end:%Y-%m-%d})"
        )


def replay_settings(reader: ExportReader, config: Path | None) -> Settings:
    """The configuration to replay with: the given file, or every channel with defaults.

    Without a file every channel in the export is watched with a 1 h target around
    the clock, and breaches are "nudged" into a recorder so they can be counted.
    """
    if config is not None:
        settings = load_settings(config)
        if not any(c.platform == reader.platform for c in settings.channels):
            raise ValueError(
                f"{config} watches no {reader.platform} channel; add [[channels]] with "
                f'platform = "{reader.platform}" and the ids from the export'
            )
        return settings
    channels = [
        {
            "platform": reader.platform,
            "id": channel_id,
            "name": name,
            "target": "1h",
            "nudge_channel": NUDGE_CHANNEL,
        }
        for channel_id, name in sorted(reader.channel_names.items())
    ]
    return load_settings(data={"bot": {"database": ":memory:"}, "channels": channels})


class Progress:
    """A one-line progress counter on a terminal; silent in pipes and CI."""

    def __init__(self, enabled: bool, stream: IO[str] = sys.stderr) -> None:
        self.enabled = enabled
        self.stream = stream
        self.count = 0
        self.began = time.perf_counter()
        self._shown = 0.0

    def tick(self, n: int = 1) -> None:
        """Count `n` more messages; redraw at most a few times a second."""
        self.count += n
        now = time.perf_counter()
        if self.enabled and now - self._shown > 0.25:
            self._shown = now
            rate = self.count / max(now - self.began, 1e-9)
            self.stream.write(f"\rreplaying: {self.count:,} messages ({rate:,.0f}/s)")
            self.stream.flush()

    def done(self) -> None:
        """Clear the line."""
        if self.enabled:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


async def replay(options: ReplayOptions) -> ReplayResult:
    """Read the export, play it through the pipeline, and gather the results.

    A big export is split by channel over `options.workers` processes
    (bot/replay_workers.py); the result is the same as from one.
    """
    began = time.perf_counter()
    part = PartOptions(
        path=options.path,
        fmt=options.fmt,
        channels=options.channels,
        since=options.since,
        until=options.until,
        all_messages=options.all_messages,
        database=options.database,
    )
    reader = part.open()
    settings = replay_settings(reader, options.config)
    show = sys.stderr.isatty() if options.progress is None else options.progress
    progress = Progress(show and not os.environ.get("CI"))
    workers = options.workers or default_workers()
    # A database the caller wants to keep is one file: one process writes it.
    parts = split(reader.sizes(), workers) if options.database is None else []
    if len(parts) > 1:
        played = await play_in_workers(part, settings, parts, progress.tick)
    else:

        async def own_end(first: datetime | None, last: datetime | None) -> datetime | None:
            return None if last is None else max(last, options.until or last)

        played = [await play_part(part, settings, own_end, progress.tick, reader=reader)]
    progress.done()
    firsts = [p.first for p in played if p.first is not None]
    lasts = [p.last for p in played if p.last is not None]
    if not firsts or not lasts:
        raise ValueError(f"{options.path}: no messages to replay")
    start, end = min(firsts), max(lasts)
    if options.until:
        end = max(end, options.until)
    questions = [q for p in played for q in p.questions]
    if len(played) > 1:
        questions.sort(key=lambda q: q.asked_at)  # as one store would list them
    return ReplayResult(
        platform=reader.platform,
        questions=questions,
        figures=compute(questions, start, end + timedelta(microseconds=1), end),
        start=start,
        end=end,
        messages=sum(p.messages for p in played),
        problems=_problems(reader.problems, played),
        nudges=sum(q.nudges for q in questions),
        calendars=settings.build_calendars(),
        channel_names=dict(reader.channel_names),
        elapsed=time.perf_counter() - began,
        not_questions=[line for p in played for line in p.not_questions],
        workers=len(played),
    )


def _problems(opening: list[ImportProblem], played: list[Played]) -> list[ImportProblem]:
    """Every problem once (each part also met those of the export's index files), by file.

    Ordered by file and position within it, so the list reads the same however many
    processes the replay was split over.
    """
    found = dict.fromkeys([*opening, *(problem for p in played for problem in p.problems)])
    return sorted(found, key=_where)


def _where(problem: ImportProblem) -> tuple[str, list[int], str]:
    """A problem's file, then the numbers of its position ("line 12" after "line 9")."""
    numbers = [int(n) for n in re.findall(r"\d+", problem.position)]
    return problem.source, numbers, problem.position


def result_line(question: Question) -> dict[str, Any]:
    """One line of results.jsonl, with exactly the documented keys."""
    return {
        "platform": question.ref.platform,
        "channel": question.watched_channel,
        "ts": question.ref.message,
        "user": question.asker,
        "text": question.text,
        "score": round(question.score, 4),
        "state": question.state.value,
        "first_response_ts": question.first_response_id,
        "first_responder": question.first_responder,
        "responder_role": question.responder_role.value if question.responder_role else None,
        "ttfr_seconds": question.ttfr_seconds,
        "ttfr_business_seconds": question.ttfr_business_seconds,
        "breached": question.breached,
        "nudges": question.nudges,
    }


def write_results(result: ReplayResult, out: IO[str]) -> None:
    """results.jsonl: one line per question (and per other message with --all-messages)."""
    lines = [result_line(q) for q in result.questions] + result.not_questions
    lines.sort(key=lambda line: (line["channel"], _sort_key(line["ts"])))
    for line in lines:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")


def _sort_key(ts: str) -> tuple[int, str]:
    return (len(ts), ts)


# --- the report ------------------------------------------------------------------


def business_day(calendar: Calendar) -> timedelta:
    """One working day of `calendar`: its open hours on an average open weekday."""
    if calendar.always_open:
        return timedelta(days=1)
    spans = [
        sum((_span(a, b) for a, b in intervals), timedelta())
        for intervals in calendar.weekly.values()
        if intervals
    ]
    return sum(spans, timedelta()) / len(spans) if spans else timedelta(days=1)


def _span(start: clock_time, end: clock_time) -> timedelta:
    """Length of a wall-clock interval; an end at or before the start is the next day's."""
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return timedelta(minutes=minutes if minutes > 0 else minutes + 24 * 60)


def what_if(result: ReplayResult) -> list[tuple[str, int, int]]:
    """Questions answered within each alternative target, of those whose outcome is known."""
    rows: list[tuple[str, int, int]] = []
    for label, target in WHAT_IF:
        met = decided = 0
        for q in result.questions:
            calendar = result.calendars.get(q.calendar) or result.calendars[ALWAYS_OPEN]
            limit = (target or business_day(calendar)).total_seconds()
            if q.ttfr_business_seconds is not None:
                decided += 1
                met += q.ttfr_business_seconds <= limit
            elif q.resolved_at is None and q.is_waiting:
                waited = calendar.business_elapsed(q.asked_at, result.end).total_seconds()
                decided += waited >= limit
        rows.append((label, met, decided))
    return rows


def per_day(result: ReplayResult) -> list[tuple[date, Figures]]:
    """The figures of each day (UTC) with questions."""
    days: dict[date, list[Question]] = defaultdict(list)
    for q in result.questions:
        days[q.asked_at.date()].append(q)
    out = []
    for day in sorted(days):
        start = datetime.combine(day, datetime.min.time(), UTC)
        out.append((day, compute(days[day], start, start + timedelta(days=1), result.end)))
    return out


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "–"


def _dur(seconds: float | None) -> str:
    return "–" if seconds is None else format_duration(seconds)


def render_report(result: ReplayResult, title: str, link: Callable[[Question], str]) -> str:
    """The Markdown report."""
    f = result.figures
    span_days = max(1, (result.end - result.start).days + 1)
    out = [
        f"# Frontline replay: {title}",
        "",
        f"{result.messages:,} messages from {result.start:%Y-%m-%d} to {result.end:%Y-%m-%d} "
        f"({span_days} days), {len(result.channel_names)} channels, "
        f"replayed in {result.elapsed:.1f} s"
        f"{f' by {result.workers} processes' if result.workers > 1 else ''}.",
        "",
        "## Figures",
        "",
        "| | |",
        "|---|---|",
        f"| Questions | {f.questions} |",
        f"| Answered | {f.answered} ({_pct(f.answered, f.questions)}) |",
        f"| … by the community / by staff | {f.by_community} / {f.by_staff} |",
        f"| Time to first response, median / p90 | {_dur(f.ttfr_median)} / {_dur(f.ttfr_p90)} |",
        f"| Business time, median / p90 | {_dur(f.business_median)} / {_dur(f.business_p90)} |",
        f"| Within target | {f.met_target} of {f.decided} ({_pct(f.met_target, f.decided)}) |",
        f"| Breaches | {f.breaches} |",
        f"| Nudges the bot would have sent | {result.nudges} |",
        f"| Still waiting at the end | {f.waiting} |",
        "",
        "## What if the target had been…",
        "",
        "| Target | Answered within it | Share |",
        "|---|---|---|",
    ]
    out += [
        f"| {label} | {met} of {decided} | {_pct(met, decided)} |"
        for label, met, decided in what_if(result)
    ]
    out += [
        "",
        "## Per day",
        "",
        "| Day | Questions | Answered | Median | p90 | Within target | Breaches |",
        "|---|---|---|---|---|---|---|",
    ]
    for day, d in per_day(result):
        out.append(
            f"| {day} | {d.questions} | {_pct(d.answered, d.questions)} | {_dur(d.ttfr_median)} "
            f"| {_dur(d.ttfr_p90)} | {_pct(d.met_target, d.decided)} | {d.breaches} |"
        )
    waiting = sorted((q for q in result.questions if q.is_waiting), key=lambda q: q.asked_at)
    out += ["", "## Longest-waiting unanswered questions", ""]
    if not waiting:
        out.append("None: every question got a response.")
    for q in waiting[:20]:
        channel = result.channel_names.get(q.watched_channel, q.watched_channel)
        waited = format_duration(result.end - q.asked_at)
        text = " ".join(q.text.split())[:100].replace("|", "\\|")
        out.append(
            f"1. #{channel} · {q.asker_name or q.asker} · {q.asked_at:%Y-%m-%d %H:%M} UTC · "
            f"waited {waited} · “{text}” · {link(q)}"
        )
    if len(waiting) > 20:
        out.append(f"\n…and {len(waiting) - 20} more.")
    if result.problems:
        out += ["", "## Problems in the export", ""]
        out += [f"- {p}" for p in result.problems[:50]]
        if len(result.problems) > 50:
            out.append(f"- …and {len(result.problems) - 50} more")
    return "\n".join(out) + "\n"


def message_link(question: Question, slack_base: str = "https://slack.com") -> str:
    """A link to the original message (Slack exports do not name the workspace's domain)."""
    ref = question.ref
    if ref.platform == "discord":
        return f"https://discord.com/channels/{ref.space}/{ref.channel}/{ref.message}"
    if ref.platform == "slack":
        return f"{slack_base.rstrip('/')}/archives/{ref.channel}/p{ref.message.replace('.', '')}"
    return f"{ref.channel}/{ref.message}"
