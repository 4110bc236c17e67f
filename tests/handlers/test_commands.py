"""`/frontline` subcommands through the router: private answers, usage on bad input."""

from __future__ import annotations

from tests.conftest import World, both_backends

pytestmark = both_backends

QUESTION = "How do I rotate my API key?"


async def test_help_and_empty_command_list_subcommands(world: World) -> None:
    """`/frontline` alone or `help` lists every subcommand, privately."""
    for text in ("", "help"):
        reply = await world.command(text, user="sven")
        assert not reply.public
        for name in ("unanswered", "stats", "resolve", "snooze"):
            assert f"/frontline {name}" in reply.text


async def test_unknown_and_malformed_commands_get_usage(world: World) -> None:
    """Unknown subcommands and broken quoting get usage text, never a stack trace."""
    unknown = await world.command("frobnicate now")
    assert "Unknown command `frobnicate`" in unknown.text and "/frontline stats" in unknown.text
    broken = await world.command('snooze "unterminated')
    assert "could not read that command" in broken.text
    bad_period = await world.command("stats forever")
    assert "Usage: `/frontline stats [7d]`" in bad_period.text
    assert "Traceback" not in bad_period.text


async def test_unanswered_lists_waiting_oldest_first(world: World) -> None:
    """`unanswered` lists questions without a response, oldest first, with their age."""
    first = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=10)
    await world.post("help", "sven", "Why does the CLI crash on start?")
    answered = await world.post("help", "aiko", "Where are the webhook docs?")
    await world.reply(answered, "tomasz")
    await world.advance(minutes=5)
    reply = await world.command("unanswered")
    lines = reply.text.splitlines()
    assert lines[0] == "2 questions waiting"
    assert "Maria" in lines[1] and "waiting 15m" in lines[1]
    assert "Sven" in lines[2]
    assert "Aiko" not in reply.text
    assert reply.post is not None and reply.post.items[0].link == first


async def test_unanswered_filters_by_channel(world: World) -> None:
    """`unanswered #support` shows only that channel; unknown channels get a usage message."""
    await world.post("help", "maria", QUESTION)
    await world.post("support", "sven", "Our export is stuck since this morning")
    reply = await world.command("unanswered #support")
    assert reply.text.startswith("1 question waiting in #support")
    assert "Sven" in reply.text and "Maria" not in reply.text
    nope = await world.command("unanswered #nowhere")
    assert "not a watched channel" in nope.text


async def test_unanswered_when_nothing_waits(world: World) -> None:
    """With nothing waiting, the answer says so."""
    reply = await world.command("unanswered")
    assert "Nothing is waiting" in reply.text


async def test_stats_reports_the_period(world: World) -> None:
    """`stats 7d` counts questions, answered share and response times."""
    q1 = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=10)
    await world.reply(q1, "tomasz")
    await world.post("help", "sven", "Why does the CLI crash on start?")
    await world.advance(minutes=1)
    reply = await world.command("stats 7d")
    assert "Last 7d" in reply.text
    assert "Questions: 2" in reply.text
    assert "Answered: 1 (50%)" in reply.text
    assert "median 10m" in reply.text


async def test_resolve_is_staff_only_and_says_why(world: World) -> None:
    """A member may not resolve; staff can; a second resolve says it is already resolved."""
    q = await world.post("help", "maria", QUESTION)
    refused = await world.command(f"resolve {world.link(q)}", user="sven")
    assert "only staff can resolve" in refused.text
    done = await world.command(f"resolve {world.link(q)}", user="ana")
    assert done.text.startswith("Resolved")
    again = await world.command(f"resolve {world.link(q)}", user="ana")
    assert "already resolved" in again.text
    assert (await world.question(q)).state.value == "resolved"


async def test_resolve_and_snooze_reject_bad_links_and_durations(world: World) -> None:
    """Links that are not messages and bad durations get a clear message."""
    q = await world.post("help", "maria", QUESTION)
    assert "not a message link" in (await world.command("resolve https://nope")).text
    assert "not a tracked question" in (await world.command("resolve local://help/unknown")).text
    bad = await world.command(f"snooze {world.link(q)} someday")
    assert "not a duration" in bad.text and "Usage:" in bad.text
    too_long = await world.command(f"snooze {world.link(q)} 90d")
    assert "between 1m and 30d" in too_long.text
    missing = await world.command("snooze")
    assert "Usage: `/frontline snooze" in missing.text
