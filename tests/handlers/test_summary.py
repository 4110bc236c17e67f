"""Daily and weekly summaries on the virtual clock: figures, once per period, catch-up."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.clock import VirtualClock
from config.settings import load_settings
from handlers.summary import latest_periods, next_moment
from tests.conftest import T0, World, community_config, open_world

SUMMARY = {
    "platform": "local",
    "channel": "staff",
    "time": "09:00",
    "timezone": "UTC",
    "weekly_on": "mon",
}


def summary_world(
    db: Path, start: datetime = T0, **summary: object
) -> AbstractAsyncContextManager[World]:
    """A bot that sends SUMMARY (with `summary` changes) to #staff, its clock at `start`."""
    settings = load_settings(data=community_config(summaries=[{**SUMMARY, **summary}]))
    return open_world(settings, str(db), clock=VirtualClock(start))


def summaries(world: World, kind: str = "Daily") -> list[str]:
    return [s.text for s in world.platform.sent("post") if s.text.startswith(f"{kind} summary")]


async def test_daily_summary_counts_yesterday_by_hand(db_path: Path) -> None:
    """At 09:00 the team gets yesterday's figures, computed as a person would."""
    async with summary_world(db_path) as world:
        q1 = await world.post("help", "maria", "How do I rotate my API key?")
        await world.advance(minutes=10)
        await world.reply(q1, "sven")  # community, 10 min
        q2 = await world.post("help", "aiko", "Why does the API key page crash?")
        await world.advance(minutes=30)
        await world.reply(q2, "ana")  # staff, 30 min
        await world.post("help", "tomasz", "Where are the API key docs?")  # never answered
        await world.app.advance_to(datetime(2026, 11, 25, 9, 0, 30, tzinfo=UTC))
        [text] = summaries(world)
    assert text.startswith("Daily summary: Tue 24 Nov")
    assert "Questions: 3" in text
    assert "Answered: 2 (67%)" in text and "1 by the community, 1 by staff" in text
    assert "median 20m" in text  # the mean of 10 and 30 minutes
    assert "Within target: 2 of 3 (67%), breaches: 1" in text
    assert "Most helpful members: sven (1)" in text
    assert "“api key” (3)" in text
    assert "Still waiting, oldest first:" in text and "Tomasz" in text


async def test_quiet_day_gives_a_friendly_summary(db_path: Path) -> None:
    """A day without questions is said plainly, not an error or empty figures."""
    async with summary_world(db_path) as world:
        await world.app.advance_to(datetime(2026, 11, 25, 9, 1, tzinfo=UTC))
        [text] = summaries(world)
    assert "A quiet day: no questions were asked" in text


async def test_summary_is_sent_once_also_across_a_restart(db_path: Path) -> None:
    """Running past 09:00 twice, or restarting, never sends the same summary again."""
    async with summary_world(db_path) as world:
        await world.app.advance_to(datetime(2026, 11, 25, 9, 5, tzinfo=UTC))
        await world.app.run_job("summary")
        await world.app.run_job("summary")
        assert len(summaries(world)) == 1
    async with summary_world(db_path, start=datetime(2026, 11, 25, 10, 0, tzinfo=UTC)) as again:
        await again.app.run_job("summary")
        assert summaries(again) == []


async def test_missed_summary_is_sent_once_on_start(db_path: Path) -> None:
    """Down at 09:00, the bot sends the day's summary when it comes back, and only once."""
    async with summary_world(db_path, start=datetime(2026, 11, 25, 13, 0, tzinfo=UTC)) as world:
        await world.app.run_job("summary")  # what run_live does first on start
        await world.app.run_job("summary")
        texts = summaries(world)
    assert len(texts) == 1 and texts[0].startswith("Daily summary: Tue 24 Nov")


async def test_weekly_summary_on_its_day_with_a_chart(db_path: Path) -> None:
    """On Monday the week's summary comes with a PNG chart of the last 14 days."""
    async with summary_world(db_path) as world:
        await world.post("help", "maria", "How do I rotate my API key?")
        await world.app.advance_to(datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC))  # Monday
        weekly = [s for s in world.platform.sent("post") if s.text.startswith("Weekly summary")]
    assert len(weekly) == 1
    assert weekly[0].text.startswith("Weekly summary: 23 Nov to 29 Nov")
    assert "Questions: 1" in weekly[0].text
    assert weekly[0].post is not None and weekly[0].post.image is not None
    assert weekly[0].post.image.startswith(b"\x89PNG")


async def test_change_against_the_day_before_is_shown(db_path: Path) -> None:
    """Each figure says how it moved against the previous period."""
    async with summary_world(db_path) as world:
        await world.post("help", "maria", "How do I rotate my API key?")
        await world.app.advance_to(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
        for who in ("sven", "aiko", "tomasz"):
            await world.post("help", who, "Why does the build fail on main?")
        await world.app.advance_to(datetime(2026, 11, 26, 9, 1, tzinfo=UTC))
        texts = summaries(world)
    assert texts[-1].startswith("Daily summary: Wed 25 Nov")
    assert "Questions: 3 (+2)" in texts[-1]


async def test_a_refused_post_is_sent_on_a_later_try_and_only_once(db_path: Path) -> None:
    """A platform error keeps the summary in the outbox: sent 30 s later, never again."""
    start = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    async with summary_world(db_path, start=start) as world:
        world.platform.fail_next = 1
        await world.app.run_job("summary")
        await world.app.run_job("summary")  # the next poll does not build it again
        assert summaries(world) == []
        await world.app.advance_to(start + timedelta(minutes=5))
        [sent] = [s for s in world.platform.sent("post") if s.where == "staff"]
        assert sent.at == start + timedelta(seconds=30)
        await world.app.run_job("summary")
        assert len(summaries(world)) == 1


async def test_chart_command_answers_with_a_png(world: World) -> None:
    """`/frontline chart` answers privately with the chart image."""
    await world.post("help", "maria", "How do I rotate my API key?")
    reply = await world.command("chart 7d")
    assert reply.text.startswith("Last 7 days: 1 question.")
    assert reply.post is not None and reply.post.image is not None
    assert reply.post.image.startswith(b"\x89PNG")


def test_periods_follow_the_local_clock() -> None:
    """In Berlin, 08:30 UTC on Wednesday is past 09:00 local: Tuesday is the latest day."""
    config = load_settings(
        data=community_config(summaries=[{**SUMMARY, "timezone": "Europe/Berlin"}])
    ).summaries[0]
    now = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
    daily = latest_periods(config, now)[0]
    assert daily[1] == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert daily[2] - daily[1] == timedelta(days=1)
    assert next_moment(config, now) == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
