"""The composition root: live scheduling on the wall clock, and the router's safety net."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.adapters.local import LocalPlatform
from bot.app import Frontline, build_router
from bot.context import Context
from bot.core.clock import SystemClock, VirtualClock
from bot.core.events import MessagePosted, QuestionOpened
from bot.core.model import Message, MessageRef, Reply, UserRef
from bot.core.router import Router
from config.settings import load_settings
from tests.conftest import T0, NewDatabase, both_backends, community_config, open_world

pytestmark = both_backends


def _question(now: datetime, message_id: str = "q1") -> MessagePosted:
    ref = MessageRef("local", "T1", "help", message_id)
    return MessagePosted(
        None,
        Message(ref, UserRef("local", "T1", "maria", "Maria"), "How do I rotate my API key?", now),
    )


async def test_live_scheduler_breaches_and_nudges_on_the_wall_clock(
    new_database: NewDatabase,
) -> None:
    """With APScheduler and the real clock, an unanswered question is nudged after its target."""
    config = community_config(bot={"sweep_interval": 0.1})
    config["channels"][0]["target"] = "1s"
    settings = load_settings(data=config)
    clock = SystemClock()
    platform = LocalPlatform(clock, space="T1")
    stop = asyncio.Event()
    async with Frontline.open(
        settings, clock, {"local": platform}, database=await new_database("live.db")
    ) as app:
        runner = asyncio.create_task(app.run_live([], until=stop))
        await app.handle(_question(clock.now()))

        def breach_nudges() -> list[str]:
            return [s.text for s in platform.sent("post") if "passed the response" in s.text]

        for _ in range(100):
            if breach_nudges():
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(runner, 5)
    assert all(s.where == "staff" for s in platform.sent("post"))
    # The heads-up at 75% may or may not have had its own sweep; the breach nudge comes once.
    [breach] = breach_nudges()
    assert "Maria" in breach


async def test_start_sends_what_became_overdue_while_down(new_database: NewDatabase) -> None:
    """On start, a question that breached while the bot was down is nudged at once."""
    settings = load_settings(data=community_config(bot={"sweep_interval": "1h"}))
    clock = SystemClock()
    platform = LocalPlatform(clock, space="T1")
    db = await new_database("down.db")
    async with Frontline.open(settings, clock, {"local": platform}, database=db) as app:
        await app.handle(_question(clock.now() - timedelta(hours=3)))
    stop = asyncio.Event()
    async with Frontline.open(settings, clock, {"local": platform}, database=db) as app:
        runner = asyncio.create_task(app.run_live([], until=stop))
        for _ in range(100):
            if platform.sent("post"):
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(runner, 5)
    assert len(platform.sent("post")) == 1


async def test_failing_handler_does_not_stop_others(
    new_database: NewDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    """One handler raising is logged with the event; the question is still tracked."""
    router: Router[Context] = build_router()
    seen: list[str] = []

    @router.on(MessagePosted)
    async def broken(event: MessagePosted, ctx: Context) -> Reply | None:
        raise RuntimeError("boom")

    @router.on(QuestionOpened)
    async def witness(event: QuestionOpened, ctx: Context) -> Reply | None:
        seen.append(event.question.ref.message)
        return None

    settings = load_settings(data=community_config())
    clock = VirtualClock(T0)
    platform = LocalPlatform(clock, space="T1")
    async with Frontline.open(
        settings, clock, {"local": platform}, router, database=await new_database("r.db")
    ) as app:
        with caplog.at_level(logging.ERROR):
            await app.handle(_question(T0))
        assert await app.ctx.store.question_by_ref(MessageRef("local", "T1", "help", "q1"))
    assert seen == ["q1"]
    assert "boom" in caplog.text and "q1" in caplog.text


async def test_events_of_unknown_kinds_are_skipped(new_database: NewDatabase) -> None:
    """An event type nobody handles is skipped without error."""
    settings = load_settings(data=community_config())
    clock = VirtualClock(T0)
    async with Frontline.open(settings, clock, {}, database=await new_database("s.db")) as app:
        assert await app.ctx.router.dispatch(object(), app.ctx) == []


async def test_virtual_sweep_follows_the_live_tick_grid(new_database: NewDatabase) -> None:
    """On virtual time the sweep acts on the same 30 s ticks the live scheduler would."""
    settings = load_settings(data=community_config())
    start = datetime(2026, 11, 24, 9, 0, 10, tzinfo=UTC)
    async with open_world(settings, await new_database("g.db"), clock=VirtualClock(start)) as world:
        await world.app.handle(_question(start))
        await world.app.advance_to(start + timedelta(hours=2))
    heads_up, breach = world.platform.sent("post")
    assert heads_up.at == datetime(2026, 11, 24, 9, 45, 30, tzinfo=UTC)
    assert breach.at == datetime(2026, 11, 24, 10, 0, 30, tzinfo=UTC)


async def _play_community(
    new_database: NewDatabase, name: str, batch: int
) -> tuple[list[tuple], int]:
    from bot.simulate import Community
    from config.settings import demo_config

    settings = load_settings(data=demo_config())
    events = Community(seed=11, days=4).events()
    clock = VirtualClock(events[0].at)
    platform = LocalPlatform(clock, staff=frozenset(settings.staff.local_users), space="demo")
    async with Frontline.open(
        settings, clock, {"local": platform}, database=await new_database(name)
    ) as app:
        await app.play(((e.at, e.event) for e in events), batch=batch)
        await app.advance_to(events[-1].at + timedelta(days=2))
        rows = await app.ctx.store.read(
            lambda repo: [
                tuple(r)
                for r in repo.conn.execute(
                    "SELECT message_id, state, stage, breached, first_responder, responder_role, "
                    "ttfr_seconds, ttfr_business_seconds, nudges FROM questions ORDER BY id"
                )
            ]
        )
    return rows, len(platform.sent("post"))


async def test_batched_replay_decides_exactly_like_event_by_event(
    new_database: NewDatabase,
) -> None:
    """Replaying in batches gives the same questions, responses, breaches and nudges."""
    one_by_one = await _play_community(new_database, "single.db", batch=1)
    batched = await _play_community(new_database, "batched.db", batch=250)
    assert one_by_one == batched
    assert len(one_by_one[0]) > 40 and one_by_one[1] > 0


def _in_channel_talk() -> list[tuple[datetime, MessagePosted]]:
    """A channel without threads: answers by mention, acknowledged answers, thanks."""
    start = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    lines = [
        (0, "maria", "How do I rotate my API key?", ()),
        (1, "sven", "How do I export the audit log?", ()),
        (2, "tomasz", "settings > keys > rotate", ()),
        (3, "maria", "@sven Admin > Audit > Export", ("sven",)),
        (4, "sven", "@maria thanks!", ("maria",)),
        (5, "maria", "@tomasz that worked", ("tomasz",)),
        (6, "leila", "Why does the dashboard show 0 users?", ()),
        (8, "ana", "@leila looking into it", ("leila",)),
        (9, "yusuf", "Is there a way to pause the sync?", ()),
        (70, "chidi", "Where are the invoices?", ()),
        (72, "ben", "billing tab", ()),
        (73, "chidi", "@ben found them", ("ben",)),
    ]
    out = []
    for i, (minute, author, text, mentions) in enumerate(lines):
        at = start + timedelta(minutes=minute)
        ref = MessageRef("local", "T1", "help", f"t{i}")
        user = UserRef("local", "T1", author, author.title())
        out.append((at, MessagePosted(None, Message(ref, user, text, at, mentions=mentions))))
    return out


async def test_batched_replay_reads_in_channel_answers_like_event_by_event(
    new_database: NewDatabase,
) -> None:
    """Mentions and acknowledged answers decide the same one by one and in batches."""
    results = []
    for batch in (1, 3):
        settings = load_settings(data=community_config())
        events = _in_channel_talk()
        async with open_world(
            settings, await new_database(f"talk{batch}.db"), clock=VirtualClock(events[0][0])
        ) as world:
            await world.app.play(events, batch=batch)
            await world.app.advance_to(events[-1][0] + timedelta(hours=3))
            rows = await world.app.ctx.store.read(
                lambda repo: [
                    tuple(r)
                    for r in repo.conn.execute(
                        "SELECT message_id, state, first_responder, response_kind, ttfr_seconds, "
                        "breached FROM questions ORDER BY id"
                    )
                ]
            )
        results.append((rows, len(world.platform.sent("post"))))
    assert results[0] == results[1]
    answered = {row[0]: row[2:4] for row in results[0][0]}
    assert answered["t0"] == ("tomasz", "acknowledged")
    assert answered["t1"] == ("maria", "mention")
    assert answered["t6"] == ("ana", "mention")
    assert answered["t8"] == (None, None)
    assert answered["t9"] == ("ben", "acknowledged")
