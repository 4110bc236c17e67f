"""`frontline demo`: a synthetic community played through the real pipeline on a virtual clock.

Prints a timeline of what the bot noticed and did, then the period's figures.
"""

from __future__ import annotations

import time as wallclock
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.adapters.local import LocalPlatform, Sent
from bot.app import Frontline, build_router
from bot.context import Context
from bot.core.clock import VirtualClock
from bot.core.events import (
    MessagePosted,
    QuestionAnswered,
    QuestionBreached,
    QuestionDismissed,
    QuestionEvent,
    QuestionOpened,
    QuestionReopened,
    QuestionResolved,
    QuestionWarned,
)
from bot.core.model import Reply
from bot.metrics import figures
from bot.simulate import Community
from config.settings import Settings, format_duration
from handlers._format import channel_label, excerpt, figure_lines, waiting_items

Printer = Callable[[str], None]


class Timeline:
    """Turns domain events and bot posts into readable lines."""

    def __init__(self, settings: Settings, tz: ZoneInfo, out: Printer) -> None:
        self.settings = settings
        self.tz = tz
        self.out = out

    def _line(self, at: datetime, where: str, mark: str, text: str) -> None:
        stamp = at.astimezone(self.tz).strftime("%a %H:%M")
        self.out(f"{stamp}  {where:<9} {mark:<12} {text}")

    def question(self, event: QuestionEvent) -> None:
        """One lifecycle change."""
        q = event.question
        where = channel_label(self.settings, q.ref.platform, q.watched_channel)
        who = q.asker_name or q.asker
        target = format_duration(q.target_seconds)
        match event:
            case QuestionOpened():
                reasons = ", ".join(q.reasons[:2])
                due = q.breach_at.astimezone(self.tz).strftime("%a %H:%M")
                self._line(
                    event.at,
                    where,
                    "? question",
                    f"{who}: “{excerpt(q.text, 60)}” ({q.score:.2f}: {reasons}; answer due {due})",
                )
            case QuestionAnswered():
                self._line(
                    event.at,
                    where,
                    "✓ answered",
                    f"{who}'s question, by {q.first_responder} ({q.responder_role}, "
                    f"{q.response_kind}) after {format_duration(q.ttfr_seconds or 0)}"
                    + (" — late" if q.breached else ""),
                )
            case QuestionWarned():
                config = self.settings.channel(q.ref.platform, q.watched_channel)
                share = config.warn_at if config else 0.75
                self._line(
                    event.at,
                    where,
                    "! at risk",
                    f"{who}'s question: {share:.0%} of the {target} target used, no response yet",
                )
            case QuestionBreached():
                self._line(
                    event.at,
                    where,
                    "✗ breached",
                    f"{who}'s question: no response within {target} (business time)",
                )
            case QuestionResolved():
                self._line(event.at, where, "✔ resolved", f"{who}'s question")
            case QuestionDismissed():
                self._line(event.at, where, "– dismissed", f"{who}'s question was deleted")
            case QuestionReopened():
                self._line(event.at, where, "↺ reopened", f"{who}'s question")

    def sent(self, sent: Sent) -> None:
        """Something the bot posted, in full, as staff would read it."""
        first, *rest = sent.text.splitlines() or [""]
        self._line(sent.at, f"#{sent.where}", "→ bot post", first)
        for line in rest:
            self.out(f"{'':34}{line}")


def prepare_database(path: Path, replace: bool) -> None:
    """Start from an empty demo database; never delete a file that may not be a demo's."""
    if path.exists() and not (replace or path.name.endswith("demo.db")):
        raise FileExistsError(
            f"{path} exists and does not look like a demo database; "
            "choose another --db or pass --replace"
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def run_demo(
    settings: Settings,
    *,
    seed: int,
    days: int,
    db: Path,
    start: date,
    out: Printer = print,
    replace: bool = False,
) -> Reply:
    """Play the synthetic community; returns the closing figures as a Reply for tests."""
    began = wallclock.perf_counter()
    prepare_database(db, replace)
    calendar_tz = next(iter(settings.calendars.values())).timezone if settings.calendars else "UTC"
    tz = ZoneInfo(calendar_tz)
    community = Community(seed=seed, start=start, days=days, timezone=calendar_tz)
    sim = community.events()
    first_local = datetime.combine(start, datetime.min.time(), tz)
    clock = VirtualClock(first_local)
    platform = LocalPlatform(clock, staff=frozenset(settings.staff.local_users), space="demo")
    timeline = Timeline(settings, tz, out)
    platform.on_send = timeline.sent
    router = build_router()

    @router.on(
        QuestionOpened,
        QuestionAnswered,
        QuestionWarned,
        QuestionBreached,
        QuestionResolved,
        QuestionDismissed,
        QuestionReopened,
    )
    async def show(event: QuestionEvent, ctx: Context) -> Reply | None:
        timeline.question(event)
        return None

    out(
        f"Frontline demo — seed {seed}, {days} day(s) from {start:%a %Y-%m-%d}, "
        f"times in {calendar_tz}"
    )
    out(f"Database: {db}")
    out(
        f"{len(sim)} events in {len(community.channels)} channels from "
        f"{len({e.event.message.author.user for e in sim if isinstance(e.event, MessagePosted)})} "
        "people\n"
    )
    async with Frontline.open(
        settings, clock, {platform.name: platform}, router, database=str(db)
    ) as app:
        await app.play((e.at, e.event) for e in sim)
        end = first_local + timedelta(days=days)
        await app.advance_to(end)
        f = await figures(app.ctx.store, first_local, end, end)
        waiting = await app.ctx.store.waiting(limit=10)
    lines = [
        f"\nThe {'day' if days == 1 else f'{days} days'} in figures:",
        *(f"  {line}" for line in figure_lines(f, settings, platform.name)),
    ]
    items, more = waiting_items(list(waiting), end, settings)
    if items:
        lines.append("  Still waiting, oldest first:")
        lines += [f"    • {i.text}" for i in items]
        if more:
            lines.append(f"    …and {more} more")
    lines.append(
        f"\nBot posts: {len(platform.transcript)}; "
        f"done in {wallclock.perf_counter() - began:.1f}s (virtual time "
        f"{days * 24}h). Database left at {db}."
    )
    for line in lines:
        out(line)
    return Reply("\n".join(lines))
