"""The outbox: sends recorded with their decision, delivered once, retried, taken over."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.adapters.local import LocalPlatform
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.model import ChannelRef, MessageRef, Post, PostAction, PostItem, UserRef
from bot.core.platform import PlatformError
from bot.outbox import Outbox, Send, backoff, decode, encode
from bot.storage import outbox as sql
from bot.storage.repos import Repo
from config.settings import Settings
from tests.conftest import SPACE, T0, World, both_backends

pytestmark = both_backends

STAFF = ChannelRef("local", SPACE, "staff")


def a_send(key: str = "test:1", to: ChannelRef | UserRef = STAFF) -> Send:
    return Send("test", key, to, Post(f"hello {key}"), {"n": 1})


async def record(world: World, send: Send) -> bool:
    outbox = world.app.ctx.outbox
    return await world.store.write(lambda repo: outbox.add(repo, send, world.clock.now()))


def states(repo: Repo) -> dict[str, int]:
    return sql.counts(repo)


def test_a_send_survives_its_payload_round_trip() -> None:
    """Everything a post carries (items with links, buttons, pings, an image) comes back."""
    post = Post(
        "text",
        "title",
        items=(PostItem("one", MessageRef("slack", "T1", "C1", "1.2")), PostItem("two")),
        footer="foot",
        more=3,
        image=b"\x89PNG\x00\xff",
        image_name="chart.png",
        fields=(("Asked by", "Maria"),),
        actions=(PostAction("ack", "Acknowledge", "7", "primary"),),
        notify=(("group", "S1"), ("user", "U1")),
    )
    for to in (STAFF, UserRef("slack", "T1", "U9", "Ana"), MessageRef("slack", "T1", "C1", "9")):
        send = Send("nudge", "k", to, post, {"questions": [1, 2]})
        assert decode(encode(send)) == send


def test_a_payload_that_is_not_one_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="not an outbox payload"):
        decode('{"kind": "nudge"}')


def test_backoff_doubles_from_30_seconds_up_to_30_minutes() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 6, 7, 50)] == [
        30,
        60,
        120,
        960,
        1800,
        1800,
    ]


async def test_recorded_once_per_key_and_sent_once(world: World) -> None:
    """The same decision recorded twice is one row and one post."""
    assert await record(world, a_send())
    assert not await record(world, a_send())
    assert await world.app.ctx.outbox.deliver(world.app.ctx) == 1
    assert await world.app.ctx.outbox.deliver(world.app.ctx) == 0
    assert [s.text for s in world.platform.sent("post")] == ["hello test:1"]
    assert await world.store.read(states) == {"sent": 1}


async def test_a_dead_processs_lease_is_taken_over_after_it_runs_out(world: World) -> None:
    """Another replica sends what a dead one held, once its lease has run out; not before."""
    app = world.app
    dead = Outbox("replica-1", timedelta(minutes=2))
    send = a_send()
    await app.ctx.store.write(lambda repo: dead.add(repo, send, T0))
    # replica-1 dies here, before sending; replica-2 (this app) polls.
    app.ctx.outbox = Outbox("replica-2", timedelta(minutes=2))
    world.clock.set(T0 + timedelta(minutes=1))
    assert await app.ctx.outbox.deliver(app.ctx) == 0
    world.clock.set(T0 + timedelta(minutes=2, seconds=1))
    assert await app.ctx.outbox.deliver(app.ctx) == 1
    assert len(world.platform.sent("post")) == 1


async def test_a_restart_takes_back_its_own_leases_at_once(world: World) -> None:
    """The same instance id after a crash: no waiting for the lease."""
    app = world.app
    before = Outbox("host-a")
    await app.ctx.store.write(lambda repo: before.add(repo, a_send(), T0))
    after = Outbox("host-a")
    app.ctx.outbox = after
    assert await after.recover(app.ctx) == 1
    assert await after.deliver(app.ctx) == 1


async def test_a_send_that_may_have_arrived_is_checked_before_sending_again(
    world: World,
) -> None:
    """A timeout after the platform acted: the retry finds the post and does not repeat it."""
    platform = world.platform
    real_post = platform.post

    async def post_then_time_out(channel: ChannelRef, post: Post) -> MessageRef:
        await real_post(channel, post)
        raise PlatformError("timed out", retryable=True, maybe_done=True)

    platform.post = post_then_time_out  # type: ignore[method-assign]
    await record(world, a_send())
    assert await world.app.ctx.outbox.deliver(world.app.ctx) == 0
    platform.post = real_post  # type: ignore[method-assign]
    world.clock.set(T0 + timedelta(seconds=31))
    assert await world.app.ctx.outbox.deliver(world.app.ctx) == 1
    assert len(platform.sent("post")) == 1
    assert await world.store.read(states) == {"sent": 1}


async def test_a_refusal_for_good_is_logged_and_not_retried(world: World, caplog) -> None:
    """No access to the channel: one error line with the destination, no retries."""

    async def refuse(channel: ChannelRef, post: Post) -> MessageRef:
        raise PlatformError("not_in_channel")

    world.platform.post = refuse  # type: ignore[method-assign]
    await record(world, a_send())
    with caplog.at_level(logging.ERROR):
        await world.app.ctx.outbox.deliver(world.app.ctx)
    assert "test to local channel staff failed for good after 1 attempt(s): not_in_channel" in (
        caplog.text
    )
    world.clock.set(T0 + timedelta(hours=1))
    assert await world.app.ctx.outbox.deliver(world.app.ctx) == 0
    assert await world.store.read(states) == {"failed": 1}


async def test_refusals_are_retried_with_backoff_and_given_up_after_a_day(world: World) -> None:
    """A platform that keeps refusing: tries at growing intervals, then stops after a day."""
    tries: list[float] = []

    async def busy(channel: ChannelRef, post: Post) -> MessageRef:
        tries.append((world.clock.now() - T0).total_seconds())
        raise PlatformError("503", retryable=True)

    world.platform.post = busy  # type: ignore[method-assign]
    await record(world, a_send())
    await world.app.ctx.outbox.deliver(world.app.ctx)
    await world.app.advance_to(T0 + timedelta(days=2))
    assert tries[:4] == [0, 30, 90, 210]
    assert tries[-1] >= 86400 - 1800 and len(tries) < 70
    assert await world.store.read(states) == {"failed": 1}


async def test_a_replay_sends_without_rows(settings: Settings, database: str) -> None:
    """Nothing a replay says reaches a platform: no outbox rows, the hooks still run."""
    clock = VirtualClock(T0)
    platform = LocalPlatform(clock, space=SPACE)
    async with Frontline.open(
        settings, clock, {"local": platform}, database=database, durable_sends=False
    ) as app:
        send = replace(a_send(), kind="nudge", meta={"questions": [], "where": "staff"})
        await app.ctx.store.write(lambda repo: app.ctx.outbox.add(repo, send, T0))
        assert await app.ctx.outbox.deliver(app.ctx, claim=False) == 1
        assert await app.ctx.store.read(states) == {}
        assert len(platform.sent("post")) == 1


async def test_housekeeping_removes_old_sent_posts_and_keeps_what_waits(world: World) -> None:
    """After `outbox_keep` a sent or given-up post's row goes; one still to send stays."""
    post = world.platform.post

    async def refusing(channel: ChannelRef, sent: Post) -> MessageRef:
        if "busy" in sent.text:
            raise PlatformError("503", retryable=True)
        if "gone" in sent.text:
            raise PlatformError("not_in_channel")
        return await post(channel, sent)

    world.platform.post = refusing  # type: ignore[method-assign]
    for key in ("old:sent", "old:gone", "old:busy"):
        assert await record(world, a_send(key))
    await world.app.ctx.outbox.deliver(world.app.ctx)
    assert await world.store.read(states) == {"sent": 1, "failed": 1, "pending": 1}
    world.clock.advance(world.app.ctx.settings.bot.outbox_keep + timedelta(hours=1))
    assert await record(world, a_send("new:sent"))
    assert await world.app.ctx.outbox.deliver(world.app.ctx, claim=False) == 1

    await world.app.run_job("housekeeping")

    keys = await world.store.read(
        lambda repo: [row[0] for row in repo._all("SELECT send_key FROM outbox ORDER BY id")]
    )
    assert keys == ["old:busy", "new:sent"]
