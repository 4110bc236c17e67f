"""Breach nudges: batched per staff channel, oldest first, never twice, failures survive."""

from __future__ import annotations

from tests.conftest import World


async def test_breaches_in_one_sweep_share_one_nudge(world: World) -> None:
    """Questions breaching together are listed in one post, oldest first."""
    await world.post("help", "maria", "How do I rotate my API key?")
    await world.post("help", "sven", "Why does the CLI crash on start?")
    await world.advance(minutes=61)
    nudges = world.nudges()
    assert len(nudges) == 1
    assert nudges[0].startswith("2 questions have passed the response target")
    assert nudges[0].index("Maria") < nudges[0].index("Sven")


async def test_nudge_counts_are_recorded_and_not_repeated(world: World) -> None:
    """A nudged question records the nudge and is not nudged again for the same breach."""
    q = await world.post("help", "maria", "How do I rotate my API key?")
    await world.advance(minutes=61)
    await world.advance(hours=6)
    assert len(world.nudges()) == 1
    assert (await world.question(q)).nudges == 1


async def test_channel_without_nudge_channel_is_not_nudged(world: World) -> None:
    """A channel with no nudge_channel breaches silently (still counted as a breach)."""
    q = await world.post(
        "post-9",
        "maria",
        "Login loops after upgrade",
        message_id="post-9",
        watched="forum",
        starter=True,
    )
    await world.advance(hours=3)
    assert (await world.question(q)).breached
    assert world.nudges() == []


async def test_platform_failure_is_logged_and_bot_keeps_going(world: World, caplog) -> None:  # type: ignore[no-untyped-def]
    """A failed nudge post is logged with its channel; later events are still handled."""
    await world.post("help", "maria", "How do I rotate my API key?")
    world.platform.fail_next = 1
    await world.advance(minutes=61)
    assert "nudge to" in caplog.text and "staff" in caplog.text
    q2 = await world.post("help", "sven", "Why does the CLI crash on start?")
    await world.advance(minutes=61)
    assert (await world.question(q2)).breached
    assert len(world.nudges()) == 1
