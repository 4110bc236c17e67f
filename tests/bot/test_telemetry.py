"""Prometheus metrics of a running bot, scraped from a real /metrics endpoint on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from bot.app import Frontline
from bot.ops_http import Ops, serve
from config.settings import Settings
from tests.bot.metrics_text import Samples, parse, value
from tests.conftest import World, open_world

QUESTION = "How do I rotate my API key? The docs don't say."


@asynccontextmanager
async def metrics_endpoint(app: Frontline) -> AsyncIterator[str]:
    """The bot's /metrics URL, served by the ops server on a free port."""
    async with serve(Ops(app, []), host="127.0.0.1", port=0) as url:
        assert url is not None
        yield f"{url}/metrics"


async def scrape(url: str) -> Samples:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        return parse(await resp.text())


async def test_metrics_count_events_questions_and_waiting(world: World) -> None:
    """After a few messages, /metrics shows events, questions opened/answered/breached, waiting."""
    answered = await world.post("help", "maria", QUESTION)
    await world.reply(answered, "chidi", "Settings → API → rotate")
    await world.post("help", "omar", "Can someone help me with a custom domain? It fails.")
    await world.post("help", "pablo", "good morning all")
    await world.command("help")
    await world.advance(hours=2)  # the second question passes its 1h target

    async with metrics_endpoint(world.app) as url:
        samples = await scrape(url)

    events = "frontline_events_total"
    assert value(samples, events, platform="local", kind="MessagePosted") == 4
    assert value(samples, events, platform="local", kind="CommandInvoked") == 1
    assert value(samples, "frontline_questions_opened_total", platform="local") == 2
    answered_total = "frontline_questions_answered_total"
    assert value(samples, answered_total, platform="local", by="community") == 1
    assert value(samples, answered_total, platform="local", by="staff") is None
    assert value(samples, "frontline_questions_breached_total", platform="local") == 1
    assert value(samples, "frontline_questions_waiting") == 1
    # Each handled message was timed once, and its handlers took some time.
    latency = "frontline_event_handling_seconds"
    assert value(samples, f"{latency}_count", kind="MessagePosted") == 4
    assert value(samples, f"{latency}_bucket", kind="MessagePosted", le="+Inf") == 4
    assert (value(samples, f"{latency}_sum", kind="MessagePosted") or 0) > 0
    assert value(samples, f"{latency}_count", kind="QuestionOpened") == 2


async def test_waiting_count_is_cached_between_close_scrapes(world: World) -> None:
    """Two scrapes in quick succession count the waiting questions once; later ones recount."""
    await world.post("help", "maria", QUESTION)
    async with metrics_endpoint(world.app) as url:
        assert value(await scrape(url), "frontline_questions_waiting") == 1
        await world.post("help", "omar", "Can someone help me with a custom domain? It fails.")
        assert value(await scrape(url), "frontline_questions_waiting") == 1
        world.app.ctx.telemetry.waiting_ttl = 0  # as if the cache had run out
        assert value(await scrape(url), "frontline_questions_waiting") == 2


async def test_sent_and_failed_posts_are_counted_by_kind_and_platform(world: World) -> None:
    """What senders report through `sent` / `send_failed` is exposed with its labels."""
    telemetry = world.app.ctx.telemetry
    telemetry.sent("nudge", "slack")
    telemetry.sent("nudge", "slack")
    telemetry.sent("escalation", "discord")
    telemetry.send_failed("summary", "slack")
    async with metrics_endpoint(world.app) as url:
        samples = await scrape(url)
    sent = "frontline_posts_sent_total"
    assert value(samples, sent, kind="nudge", platform="slack") == 2
    assert value(samples, sent, kind="escalation", platform="discord") == 1
    assert value(samples, "frontline_posts_failed_total", kind="summary", platform="slack") == 1


async def test_two_bots_in_one_process_keep_their_own_counts(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    """A second bot in the same process starts from zero and never sees the first one's counts."""
    await world.post("help", "maria", QUESTION)
    async with open_world(settings, str(tmp_path / "other.db")) as other:
        async with metrics_endpoint(other.app) as url:
            samples = await scrape(url)
        assert value(samples, "frontline_questions_opened_total", platform="local") is None
        assert value(samples, "frontline_questions_waiting") == 0
    async with metrics_endpoint(world.app) as url:
        samples = await scrape(url)
    assert value(samples, "frontline_questions_opened_total", platform="local") == 1


async def test_waiting_gauge_is_left_out_when_the_database_cannot_say(world: World) -> None:
    """With the database gone, /metrics still answers, without a stale waiting count."""
    await world.post("help", "maria", QUESTION)
    await world.store.close()
    async with metrics_endpoint(world.app) as url:
        samples = await scrape(url)
    assert value(samples, "frontline_questions_waiting") is None
    assert value(samples, "frontline_events_total", platform="local", kind="MessagePosted") == 1
