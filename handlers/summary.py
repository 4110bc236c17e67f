"""Daily and weekly summaries, and the chart of the last days.

Each configured summary goes to its channel at a local time: the previous day every day,
the previous week on its weekday. A summary is claimed in the database before it is
posted and marked after, so it goes out once per period, also across restarts; one
missed while the bot was down is sent when it comes back.
"""

from __future__ import annotations

import logging
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.chart import DayPoint, render_chart
from bot.context import Context
from bot.core.events import CommandInvoked
from bot.core.model import ChannelRef, Post, Reply
from bot.core.router import Router, UsageError
from bot.metrics import escalation_figures, figures, percentile
from bot.outbox import Send
from bot.storage import aggregates
from bot.storage.repos import Repo
from bot.topics import key_phrases
from config.settings import WEEKDAYS, Settings, SummaryConfig, parse_duration
from handlers._format import escalation_line, figure_lines, waiting_items

log = logging.getLogger(__name__)

POLL = timedelta(minutes=1)
STALE_CLAIM = timedelta(minutes=10)
# A summary missed while the bot was down is sent when it comes back, if it is less than
# this late; older ones are left out rather than posting a pile of stale summaries (and a
# freshly installed bot does not post last week's summary of nothing).
CATCH_UP = timedelta(hours=24)
CHART_DAYS = 14


# --- when -------------------------------------------------------------------------


def _at(day: date, config: SummaryConfig) -> datetime:
    hour, minute = (int(x) for x in config.time.split(":"))
    return datetime.combine(day, time(hour, minute), ZoneInfo(config.timezone))


def _midnight(day: date, config: SummaryConfig) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(config.timezone))


def latest_periods(config: SummaryConfig, now: datetime) -> list[tuple[str, datetime, datetime]]:
    """The daily (and weekly) periods whose summary moment passed less than CATCH_UP ago."""
    today = now.astimezone(ZoneInfo(config.timezone)).date()
    day = today if _at(today, config) <= now else today - timedelta(days=1)
    periods = [("daily", _midnight(day - timedelta(days=1), config), _midnight(day, config))]
    if config.weekly_on is not None:
        weekday = WEEKDAYS.index(config.weekly_on)
        week_day = day - timedelta(days=(day.weekday() - weekday) % 7)
        if now - _at(week_day, config) < CATCH_UP:
            periods.append(
                (
                    "weekly",
                    _midnight(week_day - timedelta(days=7), config),
                    _midnight(week_day, config),
                )
            )
    return periods


def next_moment(config: SummaryConfig, after: datetime) -> datetime:
    """The first summary moment strictly after `after` (weekly ones fall on daily ones)."""
    day = after.astimezone(ZoneInfo(config.timezone)).date()
    while _at(day, config) <= after:
        day += timedelta(days=1)
    return _at(day, config)


def next_summary_at(ctx: Context, after: datetime) -> datetime | None:
    """When the next configured summary is due (for the virtual-clock driver)."""
    moments = [next_moment(c, after) for c in ctx.settings.summaries]
    return min(moments) if moments else None


# --- what ---------------------------------------------------------------------------


def covered_channels(settings: Settings, config: SummaryConfig) -> list[str]:
    """The watched channels a summary reports on."""
    if config.channels:
        return list(config.channels)
    return [c.id for c in settings.channels if c.platform == config.platform]


async def build_summary(
    ctx: Context, config: SummaryConfig, kind: str, start: datetime, end: datetime
) -> Post:
    """The summary post of one period, compared with the period before it."""
    now = ctx.now()
    channels = covered_channels(ctx.settings, config)
    current = await figures(ctx.store, start, end, now, channels)
    previous = await figures(ctx.store, start - (end - start), start, now, channels)
    zone = ZoneInfo(config.timezone)
    first, last = start.astimezone(zone), (end - timedelta(days=1)).astimezone(zone)
    title = (
        f"Daily summary: {first:%a %d %b}"
        if kind == "daily"
        else f"Weekly summary: {first:%d %b} to {last:%d %b}"
    )
    if current.questions == 0:
        text = (
            f"{title}\nA quiet {'day' if kind == 'daily' else 'week'}: no questions were asked "
            "in the watched channels."
        )
        return Post(text, title)
    lines = figure_lines(current, ctx.settings, config.platform, previous)
    escalations = await ctx.store.read(Repo.escalations_between, start, end)
    if line := escalation_line(escalation_figures(escalations)):
        lines.append(line)
    topics = await ctx.store.read(recurring_topics, start, end, channels)
    if topics:
        lines.append("Recurring topics: " + ", ".join(f"“{p}” ({n})" for p, n in topics))
    waiting = await ctx.store.waiting(10, channels=channels)
    items, _ = waiting_items(waiting, now, ctx.settings, limit=10)
    more = await ctx.store.count_waiting(channels=channels) - len(items)
    text_lines = [title, *lines]
    if items:
        text_lines.append("Still waiting, oldest first:")
        text_lines += [f"• {i.text}" for i in items]
        if more:
            text_lines.append(f"…and {more} more")
    image = None
    if kind == "weekly":
        image = await chart_png(ctx, channels, end, f"Last {CHART_DAYS} days")
    return Post(
        "\n".join(text_lines),
        title,
        items,
        footer="\n".join(lines),
        more=more,
        image=image,
        image_name="frontline-last-14-days.png" if image else "",
    )


def recurring_topics(
    repo: Repo, start: datetime, end: datetime, channels: Sequence[str]
) -> list[tuple[str, int]]:
    """The key phrases of the questions asked in [start, end), texts read a chunk at a time."""
    return key_phrases(aggregates.texts(repo, aggregates.Period.of(start, end, channels)))


def day_points(repo: Repo, channels: Sequence[str], end: datetime, days: int) -> list[DayPoint]:
    """Questions per day and median time to first response for the `days` before `end`.

    Days are calendar days of `end`'s time zone (23 or 25 hours across a clock change).
    Only the response times are kept, one array per day, never the questions.
    """
    start = end - timedelta(days=days)
    starts = [start + timedelta(days=i) for i in range(days + 1)]
    bounds = [day.timestamp() for day in starts]
    counts = [0] * days
    waits = [array("d") for _ in range(days)]
    for asked_at, wait in aggregates.waits(repo, aggregates.Period.of(start, end, channels)):
        i = bisect_right(bounds, asked_at) - 1
        if 0 <= i < days:
            counts[i] += 1
            if wait is not None:
                waits[i].append(wait)
    points = []
    for i in range(days):
        median = percentile(waits[i], 0.5)
        points.append(
            DayPoint(starts[i].date(), counts[i], None if median is None else median / 60)
        )
    return points


async def chart_points(
    ctx: Context, channels: list[str], end: datetime, days: int
) -> list[DayPoint]:
    """Questions per day and median time to first response for the `days` before `end`."""
    return await ctx.store.read(day_points, channels, end, days)


async def chart_png(ctx: Context, channels: list[str], end: datetime, title: str) -> bytes:
    """The chart of the days before `end` as PNG bytes."""
    return render_chart(await chart_points(ctx, channels, end, CHART_DAYS), title)


# --- sending --------------------------------------------------------------------------


async def send_due_summaries(ctx: Context) -> None:
    """Post every summary whose moment has passed and that was not sent yet.

    The claim guards the (slow) building; the finished summary goes into the outbox in
    the same transaction that marks the period done, so it is posted exactly once even
    if the process dies while posting it.
    """
    now = ctx.now()
    for config in ctx.settings.summaries:
        for kind, start, end in latest_periods(config, now):
            claimed = await ctx.store.write(
                Repo.claim_summary, config.key, kind, start, now, STALE_CLAIM.total_seconds()
            )
            if not claimed:
                continue
            try:
                post = await build_summary(ctx, config, kind, start, end)
            except Exception:
                await ctx.store.write(Repo.finish_summary, config.key, kind, start, None)
                raise
            channel = ChannelRef(config.platform, config.space, config.channel)
            key = f"summary:{config.key}:{kind}:{start.timestamp():.0f}"
            send = Send("summary", key, channel, post, {"summary": config.key, "kind": kind})
            await ctx.store.write(_hand_over, ctx, send, start, ctx.now())
    # Also whatever a run that died while posting left behind.
    await ctx.outbox.deliver(ctx)


def _hand_over(repo: Repo, ctx: Context, send: Send, start: datetime, at: datetime) -> None:
    ctx.outbox.add(repo, send, at)
    repo.finish_summary(send.meta["summary"], send.meta["kind"], start, at)


def setup(router: Router[Context]) -> None:
    """Register the summary job and the chart command."""

    @router.job("summary", POLL, next_at=next_summary_at)
    async def summaries(ctx: Context) -> None:
        await send_due_summaries(ctx)

    @router.command(
        "chart", "/frontline chart [14d]", "questions per day and median response time, as a PNG"
    )
    async def chart(words: list[str], event: CommandInvoked, ctx: Context) -> Reply:
        days = CHART_DAYS
        if words:
            try:
                days = max(1, min(90, round(parse_duration(words[0]).total_seconds() / 86400)))
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        channels = [c.id for c in ctx.settings.channels if c.platform == event.channel.platform]
        # The last bucket ends just after now, so a question asked this instant counts.
        end = ctx.now() + timedelta(seconds=1)
        points = await chart_points(ctx, channels, end, days)
        title = f"Last {days} days"
        image = render_chart(points, title)
        total = sum(p.questions for p in points)
        text = f"{title}: {total} question{'s' if total != 1 else ''}. Chart attached."
        return Reply(text, post=Post(text, title, image=image, image_name="frontline-chart.png"))
