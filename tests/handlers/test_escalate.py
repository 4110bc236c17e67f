"""Escalations through the router with the local platform: in, out, and back to the member."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.adapters.local import LocalPlatform
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.events import ActionInvoked, ShortcutInvoked
from bot.core.model import MessageRef, QuestionState, Reply
from bot.storage.repos import Repo
from config.settings import load_settings
from tests.conftest import SPACE, T0, World, both_backends, community_config, open_world

pytestmark = both_backends

QUESTION = "How do I rotate my API key? <@U42> said to ask here @everyone"


def escalation_config(**overrides: Any) -> dict[str, Any]:
    config = community_config(
        destinations=[
            {"name": "support", "platform": "local", "channel": "support-team", "emoji": "sos"},
            {"name": "product", "platform": "discord", "channel": "roadmap", "emoji": "bulb"},
        ],
        **overrides,
    )
    config["channels"].append({"platform": "local", "id": "secret", "name": "secret"})
    return config


@pytest.fixture
async def esc(database: str) -> AsyncIterator[World]:
    """A bot with two destinations: support here, product on another platform."""
    settings = load_settings(data=escalation_config())
    clock = VirtualClock(T0)
    local = LocalPlatform(
        clock, staff=frozenset({"ana", "ben"}), private=frozenset({"secret"}), space=SPACE
    )
    other = LocalPlatform(clock, space="O1", name="discord")
    async with Frontline.open(
        settings, clock, {"local": local, "discord": other}, database=database
    ) as app:
        world = World(app, clock, local)
        world.other = other  # type: ignore[attr-defined]
        yield world


def posted(world: World, where: str) -> list[str]:
    return [s.text for s in world.platform.sent("post") if s.where == where]


async def test_staff_escalate_by_command(esc: World) -> None:
    """The post in the destination says who, where, why and the state; the member is told."""
    q = await esc.post("help", "maria", QUESTION)
    await esc.advance(minutes=20)
    reply = await esc.command(f"escalate {esc.link(q)} support billing looks wrong", user="ana")
    assert reply.text.startswith("Escalated to support: local://support-team/")
    [post] = esc.platform.sent("post")
    assert post.where == "support-team"
    assert post.post is not None
    fields = dict(post.post.fields)
    assert fields["From"] == "Maria" and fields["Why"] == "billing looks wrong"
    assert fields["Where"] == "#help on local" and fields["Escalated by"] == "Ana"
    assert fields["Response time"] == "no response for 20m"
    assert fields["Posted"] == "2026-11-24 09:00 UTC (20m ago)"
    assert [a.label for a in post.post.actions] == ["Acknowledge", "Resolve"]
    assert "<@U42>" not in post.text and "@everyone" not in post.text  # nobody is pinged
    assert f"local://help/{q.message}" in post.text
    [note] = esc.platform.sent("thread")
    assert note.where == f"help/{q.message}" and "passed this to the support team" in note.text
    question = await esc.question(q)
    assert question.state == QuestionState.ESCALATED and question.due_at is None


async def test_escalation_stops_nudges(esc: World) -> None:
    """An escalated question is not nudged when its target passes."""
    q = await esc.post("help", "maria", QUESTION)
    await esc.command(f"escalate {esc.link(q)} support", user="ana")
    await esc.advance(hours=3)
    assert posted(esc, "staff") == []


async def test_escalating_again_points_at_the_existing_one(esc: World) -> None:
    """A second command, another staff member's reaction: still one escalation."""
    q = await esc.post("help", "maria", QUESTION)
    await esc.command(f"escalate {esc.link(q)} support", user="ana")
    again = await esc.command(f"escalate {esc.link(q)} product", user="ben")
    assert again.text.startswith("Already escalated to support by ana (open)")
    await esc.react(q, "ben", "bulb")
    assert len(esc.platform.sent("post")) == 1
    assert esc.other.sent("post") == []  # type: ignore[attr-defined]


async def test_members_cannot_escalate(esc: World) -> None:
    """A member's command is refused privately with a reason; their :sos: is just a reaction."""
    q = await esc.post("help", "maria", QUESTION)
    refused = await esc.command(f"escalate {esc.link(q)} support", user="sven")
    assert "only staff can escalate" in refused.text and not refused.public
    await esc.react(q, "sven", "sos")
    assert esc.platform.sent("post") == []


async def test_reaction_by_staff_escalates(esc: World) -> None:
    """:sos: by staff escalates to support."""
    q = await esc.post("help", "maria", QUESTION)
    await esc.react(q, "ben", "sos")
    assert posted(esc, "support-team")
    escalation = await esc.store.read(Repo.escalation_by_original, q)
    assert escalation is not None and escalation.opened_by == "ben"


async def test_escalating_a_follow_up_escalates_the_members_question(esc: World) -> None:
    """Maria asked, then asked again: :sos: on the second post escalates her question."""
    q = await esc.post("help", "maria", QUESTION)
    await esc.advance(minutes=5)
    again = await esc.post("help", "maria", "Anyone? How do I change the billing address?")
    await esc.react(again, "ben", "sos")
    assert posted(esc, "support-team")
    question = await esc.question(q)
    assert question.state == QuestionState.ESCALATED and question.due_at is None
    escalation = await esc.store.read(Repo.escalation_by_original, again)
    assert escalation is not None and escalation.question_id == question.id


async def test_private_content_is_not_copied(esc: World) -> None:
    """From a private channel only a link and metadata go to the destination."""
    q = await esc.post("secret", "maria", "Our contract renewal number is 12345, why the change?")
    await esc.command(f"escalate {esc.link(q)} support", user="ana")
    [post] = posted(esc, "support-team")
    assert "12345" not in post
    assert "(from a private channel: open the link)" in post
    assert f"local://secret/{q.message}" in post


async def test_private_content_is_copied_where_allowed(database: str) -> None:
    """A destination with allow_private_content gets the text too."""
    config = escalation_config()
    config["destinations"][0]["allow_private_content"] = True
    settings = load_settings(data=config)
    clock = VirtualClock(T0)
    local = LocalPlatform(
        clock, staff=frozenset({"ana"}), private=frozenset({"secret"}), space=SPACE
    )
    async with open_world(settings, database, clock=clock, platform=local) as world:
        q = await world.post("secret", "maria", "Our renewal number is 12345, why the change?")
        await world.command(f"escalate {world.link(q)} support", user="ana")
    assert "12345" in local.sent("post")[0].text


async def test_unknown_destination_and_invisible_message(esc: World) -> None:
    """Bad destinations list the known ones; a message the bot can't see is said plainly."""
    q = await esc.post("help", "maria", QUESTION)
    unknown = await esc.command(f"escalate {esc.link(q)} legal", user="ana")
    assert "Unknown destination `legal`. Known: support, product." in unknown.text
    unseen = await esc.command("escalate local://elsewhere/m999 support", user="ana")
    assert "I can't see that message" in unseen.text
    usage = await esc.command("escalate", user="ana")
    assert "Usage: `/frontline escalate <message link> <destination> [reason]`" in usage.text


async def test_deleted_original(esc: World) -> None:
    """A deleted message can't be escalated; deleting after escalating updates the post."""
    gone = await esc.post("help", "maria", QUESTION)
    await esc.delete(gone)
    refused = await esc.command(f"escalate {esc.link(gone)} support", user="ana")
    assert "was deleted" in refused.text
    q = await esc.post("help", "sven", "Why does the CLI crash on start?")
    await esc.command(f"escalate {esc.link(q)} support", user="ana")
    await esc.delete(q)
    [update] = esc.platform.sent("update")
    assert "the original message was deleted" in update.text


async def press(world: World, action: str, value: str, user: str, note: str = "") -> Reply:
    event = ActionInvoked(None, action, value, world.user(user), world.clock.now(), note)
    [reply] = await world.app.handle(event)
    return reply


async def test_acknowledge_then_resolve_with_a_note(esc: World) -> None:
    """Buttons update the post in place; the resolution note goes back to the member."""
    q = await esc.post("help", "maria", QUESTION)
    await esc.command(f"escalate {esc.link(q)} support", user="ana")
    escalation = await esc.store.read(Repo.escalation_by_original, q)
    assert escalation is not None
    await esc.advance(minutes=12)
    assert (await press(esc, "escalation.ack", str(escalation.id), "ben")).text == "Acknowledged."
    ack = esc.platform.sent("update")[-1]
    assert ack.post is not None and [a.label for a in ack.post.actions] == ["Resolve"]
    assert "Acknowledged by: Ben" in ack.text
    await esc.advance(hours=2)
    done = await press(esc, "escalation.resolve", str(escalation.id), "ben", "Fixed in 2.3.1")
    assert done.text == "Resolved and the member was told."
    final = esc.platform.sent("update")[-1]
    assert final.post is not None and final.post.actions == ()
    assert "Resolution: Fixed in 2.3.1" in final.text
    follow_up = esc.platform.sent("thread")[-1]
    assert follow_up.where == f"help/{q.message}"
    assert follow_up.text == "Update from the support team: Fixed in 2.3.1"
    assert (await esc.question(q)).state == QuestionState.RESOLVED
    history = await esc.store.read(Repo.escalation_history, escalation.id)
    assert [(kind, who) for _, kind, who in history] == [
        ("opened", "ana"),
        ("acknowledged", "ben"),
        ("resolved", "ben"),
    ]


async def test_resolve_without_note_tells_nobody(esc: World) -> None:
    """Resolving without a note updates the post but adds nothing to the member's thread."""
    q = await esc.post("help", "maria", QUESTION)
    await esc.command(f"escalate {esc.link(q)} support", user="ana")
    escalation = await esc.store.read(Repo.escalation_by_original, q)
    assert escalation is not None
    threads = len(esc.platform.sent("thread"))
    assert (await press(esc, "escalation.resolve", str(escalation.id), "ana")).text == "Resolved."
    assert len(esc.platform.sent("thread")) == threads
    member = await press(esc, "escalation.resolve", str(escalation.id), "sven")
    assert "only staff" in member.text


async def test_cross_platform_destination(esc: World) -> None:
    """A message here can be escalated into a channel on another platform."""
    q = await esc.post("help", "maria", QUESTION)
    reply = await esc.command(f"escalate {esc.link(q)} product roadmap idea", user="ana")
    assert reply.text.startswith("Escalated to product:")
    [post] = esc.other.sent("post")  # type: ignore[attr-defined]
    assert post.where == "roadmap" and "roadmap idea" in post.text


async def test_shortcut_asks_for_a_destination_then_escalates(esc: World) -> None:
    """Without a destination the shortcut lists them; with one it escalates."""
    q = await esc.post("help", "maria", QUESTION)
    at = esc.clock.now()
    [ask] = await esc.app.handle(ShortcutInvoked(None, "escalate", q, esc.user("ana"), at))
    assert ask.text == "Choose a destination: support, product."
    [done] = await esc.app.handle(
        ShortcutInvoked(None, "escalate", q, esc.user("ana"), at, "support", "urgent")
    )
    assert done.text.startswith("Escalated to support")
    [member] = await esc.app.handle(
        ShortcutInvoked(
            None,
            "escalate",
            MessageRef("local", SPACE, "help", "x"),
            esc.user("sven"),
            at,
            "support",
        )
    )
    assert "only staff can escalate" in member.text


async def test_stats_count_escalations_with_times(esc: World) -> None:
    """`/frontline stats` counts opened, acknowledged, resolved and open escalations."""
    first = await esc.post("help", "maria", QUESTION)
    second = await esc.post("help", "sven", "Why does the CLI crash on start?")
    await esc.command(f"escalate {esc.link(first)} support", user="ana")
    await esc.command(f"escalate {esc.link(second)} support", user="ana")
    one = await esc.store.read(Repo.escalation_by_original, first)
    assert one is not None
    await esc.advance(minutes=30)
    await press(esc, "escalation.ack", str(one.id), "ben")
    await esc.advance(minutes=1)
    stats = await esc.command("stats 1d", user="ana")
    assert (
        "Escalations: 2 opened, 1 acknowledged (median 30m), 0 resolved (median –), "
        "2 still open" in stats.text
    )
    assert timedelta(minutes=31) == esc.clock.now() - T0


async def test_member_is_refused_before_choosing_a_destination(esc: World) -> None:
    """A member using the shortcut is refused at once, not after filling in the form."""
    q = await esc.post("help", "maria", QUESTION)
    [reply] = await esc.app.handle(
        ShortcutInvoked(None, "escalate", q, esc.user("sven"), esc.clock.now())
    )
    assert "only staff can escalate" in reply.text


async def test_refused_escalation_post_is_posted_again_a_minute_later(esc: World) -> None:
    """A destination that refuses the post gets it again a minute later, once."""
    q = await esc.post("help", "maria", QUESTION)
    esc.platform.fail_next = 1
    reply = await esc.command(f"escalate {esc.link(q)} support", user="ana")
    assert "I will post it again shortly" in reply.text
    assert posted(esc, "support-team") == []
    await esc.advance(seconds=50)
    assert posted(esc, "support-team") == []
    await esc.advance(seconds=40)
    await esc.app.run_job("escalation-repost")
    assert len(posted(esc, "support-team")) == 1
    escalation = await esc.store.read(Repo.escalation_by_original, q)
    assert escalation is not None and escalation.post is not None
