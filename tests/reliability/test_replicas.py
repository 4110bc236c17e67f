"""Replicas: three `frontline run --http` processes share one PostgreSQL database.

The processes sit behind a "load balancer" (the test hands each signed event to the
next replica in turn) and talk to one fake Slack, each through its own API URL, so the
fake knows which replica made each call. Every replica sweeps every second; a question
breaches after a target of a few seconds; the outbox lease is 3 s. The tests check what
members and staff would see: each breach nudge reaches Slack exactly once, whoever
decided it, even when the replica holding it is SIGKILLed before or just after posting.
The daily summary, polled by three replicas at once, is posted once; an event acked by a
replica that died before handling it is handled by another; a refused escalation is
reposted once however many replicas' repost jobs overlap.

Skipped (with the reason) when no PostgreSQL answers at 127.0.0.1:5432.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from bot.adapters.local import LocalPlatform
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.model import ChannelRef, MessageRef, Post
from config.settings import Settings, load_settings
from tests.adapters.fake_slack import STAFF
from tests.conftest import SPACE, T0, NewDatabase, World, community_config, postgres_only
from tests.reliability.harness import (
    MEMBERS,
    BotProcess,
    HookedSlack,
    asking,
    live_config,
    now_ts,
    require,
    until,
)

pytestmark = postgres_only

LEASE = 3.0  # seconds, `bot.outbox_lease` of every replica


def replica_config(path: Path, *, target: str) -> Path:
    """One watched channel nudging #staff; 1 s sweeps and a 3 s outbox lease."""
    return live_config(path, target=target, sweep="1s", outbox_lease=f"{LEASE:.0f}s")


Start = Callable[[str], Awaitable[list[BotProcess]]]


@pytest.fixture
async def database(new_database: NewDatabase) -> str:
    """A fresh PostgreSQL schema the replicas share (dropped after the test)."""
    return await new_database("replicas")


@pytest.fixture
async def db(database: str) -> AsyncIterator[asyncpg.Pool]:
    """The test's own connections to the shared schema, to look at what the replicas stored.

    A pool: the fake's hooks read the outbox while the test polls the questions.
    """
    pool = await asyncpg.create_pool(database, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def start_replicas(fake: HookedSlack, database: str, tmp_path: Path) -> AsyncIterator[Start]:
    """Starts three replicas r1, r2, r3 on the shared schema; stops them after the test."""
    started: list[BotProcess] = []

    async def start(target: str) -> list[BotProcess]:
        config = replica_config(tmp_path / "frontline.toml", target=target)
        replicas = [
            BotProcess(
                fake,
                config,
                database,
                tmp_path / f"{name}.log",
                env={"FRONTLINE_INSTANCE_ID": name, "SLACK_API_URL": fake.api_url_for(name)},
            )
            for name in ("r1", "r2", "r3")
        ]
        started.extend(replicas)
        # One after another: each migrates (or finds the schema migrated) and the
        # replicas' sweeps tick at different moments of the second, as on real hosts.
        for replica in replicas:
            await replica.start()
        return replicas

    try:
        yield start
    finally:
        await asyncio.gather(*(replica.stop() for replica in started))


def name_of(replica: BotProcess) -> str:
    """The replica's instance id (also the name the fake records its calls under)."""
    return replica.env["FRONTLINE_INSTANCE_ID"]


def staff_posts_by(fake: HookedSlack) -> list[tuple[str, str]]:
    """(replica, text) of every post to the staff channel that Slack accepted."""
    return [
        (call.via, str(call.args.get("text", "")))
        for call in fake.calls
        if call.method == "chat.postMessage" and call.args.get("channel") == STAFF
        if not call.fault
    ]


async def questions(db: asyncpg.Pool, stamps: list[str]) -> dict[str, asyncpg.Record]:
    """The tracked questions among the messages `stamps`, by message ts."""
    rows = await db.fetch(
        "SELECT message_id, breached, nudge_round, nudges, due_at FROM questions "
        "WHERE message_id = ANY($1::text[])",
        stamps,
    )
    return {row["message_id"]: row for row in rows}


async def outbox(db: asyncpg.Pool) -> list[asyncpg.Record]:
    """Every outbox row, oldest first."""
    return await db.fetch(
        "SELECT id, send_key, state, lease_owner, lease_until, created_at, sent_at, sent_ref, "
        "attempts FROM outbox ORDER BY id"
    )


async def ask(
    session: aiohttp.ClientSession, replica: BotProcess, n: int, prefix: str
) -> tuple[str, str]:
    """A member asks a question naming a unique token; the event goes to `replica`."""
    ts, token = now_ts(), f"{prefix}{n:02d}x"
    status = await replica.say(session, MEMBERS[n % len(MEMBERS)][0], asking(token), ts)
    assert status == 200, replica.output()
    return ts, token


def listed(fake: HookedSlack, tokens: dict[str, str]) -> dict[str, int]:
    """How many accepted staff posts list each question token."""
    return {token: fake.times_listed(token) for token in tokens.values()}


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    """Poll the coroutine `check` until it holds or `seconds` pass; whether it held."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        if await check():
            return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)


async def tracked_in(db: asyncpg.Pool, ts: str, seconds: float = 5) -> bool:
    """Whether the message `ts` becomes a tracked question within `seconds`."""

    async def check() -> bool:
        return bool(await questions(db, [ts]))

    return await eventually(check, seconds)


async def all_delivered(db: asyncpg.Pool, stamps: list[str]) -> bool:
    """Every question decided (nudge round 1) and no send left pending in the outbox."""
    stored = await questions(db, stamps)
    if len(stored) < len(stamps) or any(q["nudge_round"] < 1 for q in stored.values()):
        return False
    return not any(row["state"] == "pending" for row in await outbox(db))


async def test_a_burst_over_three_replicas_is_nudged_exactly_once_each(
    fake: HookedSlack, db: asyncpg.Pool, start_replicas: Start
) -> None:
    """36 questions spread over 3 replicas: each breach nudge reaches Slack exactly once."""
    replicas = await start_replicas("2s")
    asked: dict[str, str] = {}
    async with aiohttp.ClientSession() as session:
        # Over about three seconds, so their deadlines fall on many sweeps of all three.
        for n in range(36):
            ts, token = await ask(session, replicas[n % 3], n, "burst")
            asked[ts] = token
            await asyncio.sleep(0.08)
    everything_listed = await until(lambda: all(listed(fake, asked).values()), 20)
    assert everything_listed, "\n".join(r.output()[-3000:] for r in replicas)
    await asyncio.sleep(1.5)  # more sweeps of every replica: a duplicate would show now

    assert listed(fake, asked) == {token: 1 for token in asked.values()}
    stored = await questions(db, list(asked))
    assert set(stored) == set(asked), "an acknowledged question was not tracked"
    assert {ts: (q["breached"], q["nudge_round"], q["nudges"]) for ts, q in stored.items()} == {
        ts: (True, 1, 1) for ts in asked
    }
    rows = await outbox(db)
    assert [row["state"] for row in rows] == ["sent"] * len(rows)
    posts = staff_posts_by(fake)
    assert len(posts) == len(rows), "one staff post per recorded send"
    senders = {replica for replica, _ in posts}
    assert len(senders) > 1, f"only {senders} sent nudges: the work was not shared"
    for replica in replicas:
        assert "Traceback" not in replica.output(), replica.output()


async def test_sends_held_by_killed_replicas_are_delivered_once_by_the_others(
    fake: HookedSlack, db: asyncpg.Pool, start_replicas: Start
) -> None:
    """A replica killed before its nudge post, another just after: each nudge still lands once.

    The first replica to post a nudge is SIGKILLed as the post reaches Slack's door (the
    post never lands): the survivors post it after its lease ran out. The next replica
    to have a nudge accepted is SIGKILLed before the answer reaches it: the survivor finds
    the post by its metadata and does not post it again.
    """
    victims: dict[str, list[asyncpg.Record]] = {}  # replica -> its pending rows at the kill
    replicas = await start_replicas("3s")
    by_name = {name_of(replica): replica for replica in replicas}

    async def held_by(name: str) -> list[asyncpg.Record]:
        rows = await outbox(db)
        return [r for r in rows if r["state"] == "pending" and r["lease_owner"] == name]

    async def kill_before_the_post(args: dict[str, Any]) -> None:
        if args.get("channel") != STAFF or victims:
            return
        name = str(args["_via"])
        victims[name] = []  # chosen before the first await: another post may come meanwhile
        victims[name] = await held_by(name)
        by_name[name].kill()
        raise web.HTTPServiceUnavailable  # never recorded: Slack did not take it

    async def kill_after_the_post(args: dict[str, Any]) -> None:
        name = str(args["_via"])
        if args.get("channel") != STAFF or len(victims) != 1 or name in victims:
            return
        victims[name] = []
        victims[name] = await held_by(name)
        by_name[name].kill()

    fake.before["chat.postMessage"] = kill_before_the_post
    fake.after["chat.postMessage"] = kill_after_the_post

    asked: dict[str, str] = {}
    async with aiohttp.ClientSession() as session:
        for wave in range(6):
            if len(victims) == 2:
                break
            # A wave of questions to the live replicas, each stored before the next is
            # sent, all well before the first of them breaches (3 s): no kill ever meets
            # an event in flight. Should one come early all the same, the wave stops.
            killed = len(victims)
            for n in range(6):
                if len(victims) != killed:
                    break
                alive = [r for r in replicas if name_of(r) not in victims]
                ts, token = await ask(session, alive[n % len(alive)], wave * 10 + n, "lease")
                asked[ts] = token
                assert await tracked_in(db, ts), "an acknowledged question was not tracked"
            # Then every nudge so far is posted, or taken over and posted.
            wave_done = await eventually(lambda: all_delivered(db, list(asked)), 25)
            assert wave_done, "\n".join(r.output()[-3000:] for r in replicas)

    assert len(victims) == 2, "no second replica ever posted a nudge"
    first, second = victims
    assert victims[first], f"{first} was killed holding no leased send"
    assert victims[second], f"{second} was killed holding no leased send"
    await asyncio.sleep(1.5)  # more sweeps of the survivor: a duplicate would show now

    posts = staff_posts_by(fake)
    assert listed(fake, asked) == {token: 1 for token in asked.values()}, posts
    stored = await questions(db, list(asked))
    assert {ts: (q["breached"], q["nudge_round"], q["nudges"]) for ts, q in stored.items()} == {
        ts: (True, 1, 1) for ts in asked
    }
    rows = {row["id"]: row for row in await outbox(db)}
    assert {row["state"] for row in rows.values()} == {"sent"}
    assert first not in {replica for replica, _ in posts}, "the first victim's post landed"
    for held in (*victims[first], *victims[second]):
        row = rows[held["id"]]
        # Taken over only once the dead replica's lease had run out.
        assert row["sent_at"] >= held["lease_until"], row
        assert row["attempts"] >= 2, row
    # The second victim's post was found in the channel (by the key in its metadata),
    # not posted again: one message per send, and the outbox points at that message.
    in_channel: dict[str, list[str]] = {}
    for message in fake.history[STAFF]:
        key = message.get("metadata", {}).get("event_payload", {}).get("key", "")
        in_channel.setdefault(key, []).append(message["ts"])
    assert {r["send_key"]: [r["sent_ref"]] for r in rows.values()} == in_channel
    survivor = next(r for r in replicas if name_of(r) not in victims)
    assert survivor.proc is not None and survivor.proc.returncode is None, survivor.output()


async def test_an_event_acked_by_a_replica_that_died_is_handled_by_the_others(
    fake: HookedSlack, db: asyncpg.Pool, start_replicas: Start
) -> None:
    """An event acknowledged by a replica that died before handling it is tracked by another."""
    fake.add_user("UNEW", "Newton")
    replicas = await start_replicas("2s")
    doomed = replicas[0]
    looking_up, killed = asyncio.Event(), asyncio.Event()

    async def stall_the_profile(args: dict[str, Any]) -> None:
        # A member the replica has not seen: it asks for the name before storing anything.
        if args.get("user") == "UNEW" and args.get("_via") == name_of(doomed):
            looking_up.set()
            await killed.wait()
            raise web.HTTPServiceUnavailable

    fake.before["users.info"] = stall_the_profile
    ts = now_ts()
    async with aiohttp.ClientSession() as session:
        require(await doomed.say(session, "UNEW", asking("orphan"), ts) == 200, "acknowledged")
    require(await until(looking_up.is_set, 5), "the replica is handling the event")
    doomed.kill()
    killed.set()
    require(await doomed.wait(5) == -9, "killed")
    assert await tracked_in(db, ts, 2 * LEASE + 2), "acknowledged with 200, then lost"


# --- in-process replicas: a Frontline each, with its own pool, on the shared schema ----


SUMMARY_DUE = datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC)


@dataclass
class SlowPlatform(LocalPlatform):
    """The local platform, taking a moment to post, as a real API does."""

    async def post(self, channel: ChannelRef, post: Post) -> MessageRef:
        """Post after 50 ms."""
        await asyncio.sleep(0.05)
        return await super().post(channel, post)


@contextlib.asynccontextmanager
async def in_process(
    settings: Settings, database: str, monkeypatch: pytest.MonkeyPatch, start: datetime
) -> AsyncIterator[list[World]]:
    """Three replicas r1, r2, r3 in this process, each with its own clock and platform."""
    async with contextlib.AsyncExitStack() as stack:
        worlds = []
        for name in ("r1", "r2", "r3"):
            monkeypatch.setenv("FRONTLINE_INSTANCE_ID", name)
            clock = VirtualClock(start)
            platform = SlowPlatform(clock, staff=frozenset({"ana"}), space=SPACE)
            app = await stack.enter_async_context(
                Frontline.open(settings, clock, {"local": platform}, database=database)
            )
            worlds.append(World(app, clock, platform))
        yield worlds


async def all_at(worlds: list[World], moment: datetime, job: str) -> None:
    """Every replica's clock reads `moment`, and all three run `job` at once."""
    for world in worlds:
        world.clock.set(moment)
    await asyncio.gather(*(world.app.run_job(job) for world in worlds))


def posts_in(worlds: list[World], channel: str) -> list[str]:
    """What all replicas posted in `channel`."""
    return [s.text for w in worlds for s in w.platform.sent("post") if s.where == channel]


async def test_a_daily_summary_polled_by_three_replicas_is_posted_once(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three replicas poll the daily summary at the same moments: one summary is posted."""
    settings = load_settings(
        data=community_config(
            summaries=[
                {"platform": "local", "channel": "staff", "time": "09:00", "weekly_on": None}
            ]
        )
    )
    async with in_process(settings, database, monkeypatch, T0 - timedelta(days=1)) as worlds:
        await worlds[0].post("help", "maria", "How do I rotate my API key?")
        for minute in range(3):
            await all_at(worlds, SUMMARY_DUE + timedelta(minutes=minute), "summary")
        posts = posts_in(worlds, "staff")
    assert len(posts) == 1, posts
    assert posts[0].startswith("Daily summary: Mon 23 Nov")


async def test_a_refused_escalation_is_reposted_once_by_three_replicas(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An escalation the destination refused is posted again by one replica only."""
    settings = load_settings(
        data=community_config(
            destinations=[{"name": "support", "platform": "local", "channel": "support-team"}]
        )
    )
    async with in_process(settings, database, monkeypatch, T0) as worlds:
        first = worlds[0]
        question = await first.post("help", "maria", "How do I rotate my API key?")
        first.platform.fail_next = 1
        reply = await first.command(f"escalate {first.link(question)} support", user="ana")
        require("I will post it again shortly" in reply.text, "the first post was refused")
        for seconds in (90, 120):
            await all_at(worlds, T0 + timedelta(seconds=seconds), "escalation-repost")
        posts = posts_in(worlds, "support-team")
    assert len(posts) == 1, posts
