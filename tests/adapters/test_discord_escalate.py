"""Escalation on Discord end to end: the menu, the destination picker, buttons and forms.

The real app and the real discord.py client run against the local fake Discord; staff
and members act through gateway interactions (context menu, select menu, button
clicks, form submits) and reactions, and each test checks what they would see: the
escalation post with its buttons, its edits, the private answers and the member's note.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.adapters.discord_adapter import (
    DiscordAdapter,
    configured_emoji,
    emoji_name,
    reaction_name,
)
from bot.adapters.discord_ui import (
    action_custom_id,
    action_view,
    destination_by_key,
    form_values,
    reason_form,
)
from bot.adapters.slack_adapter import SlackAdapter
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.model import ChannelRef, Post, PostAction, QuestionState
from config.settings import Settings, load_settings
from tests.adapters.fake_discord import (
    JSON,
    DiscordWorld,
    FakeDiscord,
    FakeUser,
    discord_config,
    running_bot,
)
from tests.adapters.fake_slack import SECRET, TEAM, FakeSlack
from tests.conftest import T0

QUESTION = "How do I rotate my API key? <@42> said to ask here @everyone"
RESOLVE_LABEL = "Resolution note (sent to the member)"


def escalation_config(fake: FakeDiscord, *extra: JSON) -> JSON:
    """#help and friends, plus two destinations: support (🆘) and product (💡 as unicode)."""
    g = fake.g
    return discord_config(
        g,
        destinations=[
            {
                "name": "support",
                "platform": "discord",
                "channel": str(g.escalations),
                "space": str(g.id),
                "emoji": "sos",
            },
            {"name": "product", "platform": "discord", "channel": str(g.staff), "emoji": "💡"},
            *extra,
        ],
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    yield server
    await server.close()


@pytest.fixture
def settings(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    return load_settings(data=escalation_config(fake))


@pytest.fixture
async def world(
    fake: FakeDiscord, settings: Settings, tmp_path: Path
) -> AsyncIterator[DiscordWorld]:
    async with running_bot(fake, settings, tmp_path / "f.db", VirtualClock(T0)) as w:
        yield w


def staff(fake: FakeDiscord) -> FakeUser:
    return fake.user("ana", roles=[fake.g.staff_role])


def buttons(message: JSON) -> list[JSON]:
    return [c for row in message.get("components", []) for c in row["components"]]


async def escalate_with_menu(
    fake: FakeDiscord, user: FakeUser, target: JSON, destination: str, reason: str = ""
) -> JSON:
    """Escalate → pick `destination` → submit the reason form; returns the submit."""
    menu = await fake.context_menu(user, "Escalate", target)
    await fake.wait_for(lambda: fake.callbacks(menu))
    picker = fake.ephemeral(menu)
    [select] = buttons(picker)
    chose = await fake.choose(user, picker, select["custom_id"], destination)
    await fake.wait_for(lambda: fake.callbacks(chose))
    submitted = await fake.submit(user, chose, {"note": reason})
    await fake.wait_for(lambda: fake.original_edits(submitted) or fake.followups(submitted))
    return submitted


async def escalation_post(fake: FakeDiscord, channel: int) -> JSON:
    """The escalation post in `channel`, as it is now (after edits)."""
    await fake.wait_for(lambda: fake.sent(channel))
    [post] = [m for m in fake.history[channel] if m["embeds"]]
    return post


async def in_state(world: DiscordWorld, message: JSON, state: QuestionState) -> None:
    async def check() -> bool:
        q = await world.question(message)
        return q is not None and q.state == state

    await world.eventually(check)


# --- the menu and the picker --------------------------------------------------------------


async def test_menu_picker_and_form_escalate_to_the_chosen_destination(
    world: DiscordWorld,
) -> None:
    """Escalate → support → reason: an embed with fields and two buttons; the member is told."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), QUESTION, at=T0)
    await world.tracked(asked)
    world.clock.set(T0 + timedelta(minutes=20))

    menu = await fake.context_menu(staff(fake), "Escalate", asked)
    await fake.wait_for(lambda: fake.callbacks(menu))
    [answer] = fake.callbacks(menu)
    assert answer["type"] == 4 and answer["data"]["flags"] & 64
    assert "Maria" in answer["data"]["content"]
    [select] = buttons(fake.ephemeral(menu))
    assert select["type"] == 3
    assert [o["label"] for o in select["options"]] == ["support", "product"]
    assert "react with :sos:" in select["options"][0]["description"]

    chose = await fake.choose(staff(fake), fake.ephemeral(menu), select["custom_id"], "support")
    await fake.wait_for(lambda: fake.callbacks(chose))
    [form] = fake.callbacks(chose)
    assert form["type"] == 9 and form["data"]["title"] == "Escalate to support"
    submitted = await fake.submit(staff(fake), chose, {"note": "billing looks wrong"})
    await fake.wait_for(lambda: fake.original_edits(submitted))

    # The picker turns into the answer, so it cannot be used twice.
    assert fake.callbacks(submitted) == [{"type": 6}]
    [done] = fake.original_edits(submitted)
    link = f"https://discord.com/channels/{fake.g.id}/{fake.g.escalations}/"
    assert done["content"].startswith(f"Escalated to support: {link}")
    assert done["components"] == []

    post = await escalation_post(fake, fake.g.escalations)
    embed = post["embeds"][0]
    assert embed["title"] == "Escalated to support: open"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["From"] == "Maria" and fields["Why"] == "billing looks wrong"
    assert fields["Where"] == "#help on discord" and fields["Escalated by"] == "Ana"
    assert fields["Response time"] == "no response for 20m"
    assert "<@42>" not in embed["footer"]["text"] and "@everyone" not in embed["footer"]["text"]
    assert [(b["label"], b["style"]) for b in buttons(post)] == [
        ("Acknowledge", discord.ButtonStyle.primary.value),
        ("Resolve", discord.ButtonStyle.secondary.value),
    ]
    assert all(b["custom_id"].startswith("frontline:escalation.") for b in buttons(post))

    [note] = fake.sent(fake.g.help)
    assert str(note["message_reference"]["message_id"]) == asked["id"]
    assert "passed this to the support team" in note["content"]
    assert (await world.question(asked)).state == QuestionState.ESCALATED  # type: ignore[union-attr]


async def test_a_member_who_is_not_staff_is_refused_with_the_reason(world: DiscordWorld) -> None:
    """A member can open the picker, but the escalation is refused and nothing is posted."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), QUESTION, at=T0)
    await world.tracked(asked)
    submitted = await escalate_with_menu(fake, fake.user("sven"), asked, "product")
    [refused] = fake.original_edits(submitted)
    assert refused["content"] == (
        "Sorry, you can't do that: only staff can escalate; ask a community manager"
    )
    assert not fake.sent(fake.g.staff) and not fake.sent(fake.g.help)


async def test_escalating_twice_says_it_is_already_escalated(world: DiscordWorld) -> None:
    """A second escalation of the same message creates nothing and says who did the first."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), QUESTION, at=T0)
    await world.tracked(asked)
    await escalate_with_menu(fake, staff(fake), asked, "support")
    again = await escalate_with_menu(fake, staff(fake), asked, "product")
    [answer] = fake.original_edits(again)
    assert answer["content"].startswith("Already escalated to support")
    assert len(fake.sent(fake.g.escalations)) == 1 and not fake.sent(fake.g.staff)


# --- reactions ------------------------------------------------------------------------------


async def test_sos_reaction_by_staff_escalates_and_by_a_member_does_not(
    world: DiscordWorld,
) -> None:
    """🆘 from a member is just a reaction; 🆘 from staff escalates to support."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), QUESTION, at=T0)
    await world.tracked(asked)
    await fake.react(asked, fake.user("sven"), "🆘")
    await world.settled()
    assert not fake.sent(fake.g.escalations)
    await fake.react(asked, staff(fake), "🆘")
    post = await escalation_post(fake, fake.g.escalations)
    assert post["embeds"][0]["title"] == "Escalated to support: open"
    await in_state(world, asked, QuestionState.ESCALATED)


async def test_unicode_emoji_in_the_config_escalates_from_any_channel(world: DiscordWorld) -> None:
    """💡 (configured as the character) by staff on a message in an unwatched channel escalates."""
    fake = world.fake
    idea = await fake.post(fake.g.general, fake.user("leila"), "Dark mode would be great", at=T0)
    await fake.react(idea, staff(fake), "💡")
    post = await escalation_post(fake, fake.g.staff)
    fields = {f["name"]: f["value"] for f in post["embeds"][0]["fields"]}
    assert fields["From"] == "Leila" and fields["Response time"] == "not a tracked question"
    assert "Dark mode would be great" in post["embeds"][0]["footer"]["text"]
    # product names no server: links to its posts still carry the guild.
    sent = await world.adapter.platform.post(
        ChannelRef("discord", "", str(fake.g.staff)), Post("x", "A post")
    )
    assert sent.space == str(fake.g.id)


# --- buttons and forms ------------------------------------------------------------------------


async def test_acknowledge_click_edits_the_post_down_to_one_button(world: DiscordWorld) -> None:
    """Acknowledge defers privately, answers privately, and the post shows who took it."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), QUESTION, at=T0)
    await world.tracked(asked)
    await fake.react(asked, staff(fake), "🆘")
    post = await escalation_post(fake, fake.g.escalations)
    ack = next(b for b in buttons(post) if b["label"] == "Acknowledge")

    click = await fake.click(fake.user("ben", roles=[fake.g.staff_role]), post, ack["custom_id"])
    await fake.wait_for(lambda: fake.followups(click))
    assert fake.callbacks(click) == [{"type": 5, "data": {"flags": 64}}]
    [answer] = fake.followups(click)
    assert answer["content"] == "Acknowledged." and answer["flags"] & 64
    [edit] = fake.requests("PATCH", f"/channels/{fake.g.escalations}/messages/{post['id']}")
    assert edit.body["embeds"][0]["title"] == "Escalated to support: acknowledged"
    fields = {f["name"]: f["value"] for f in edit.body["embeds"][0]["fields"]}
    assert fields["Acknowledged by"] == "Ben"
    assert [b["label"] for b in buttons(edit.body)] == ["Resolve"]


async def test_resolve_opens_a_form_and_the_note_reaches_the_member(world: DiscordWorld) -> None:
    """Resolve asks for a note in a form; submitting it settles the post and tells the member."""
    fake = world.fake
    maria = fake.user("maria")
    asked = await fake.post(fake.g.help, maria, QUESTION, at=T0)
    await world.tracked(asked)
    await fake.react(asked, staff(fake), "🆘")
    post = await escalation_post(fake, fake.g.escalations)
    resolve = next(b for b in buttons(post) if b["label"] == "Resolve")

    click = await fake.click(staff(fake), post, resolve["custom_id"])
    await fake.wait_for(lambda: fake.callbacks(click))
    [form] = fake.callbacks(click)
    assert form["type"] == 9
    [field] = [c for row in form["data"]["components"] for c in row["components"]]
    assert field["label"] == RESOLVE_LABEL and field["style"] == 2 and not field["required"]
    assert not fake.requests("PATCH", f"/channels/{fake.g.escalations}/messages/")

    submitted = await fake.submit(staff(fake), click, {"note": "Fixed in 2.3.1, please update"})
    await fake.wait_for(lambda: fake.followups(submitted))
    assert fake.callbacks(submitted) == [{"type": 5, "data": {"flags": 64}}]
    [answer] = fake.followups(submitted)
    assert answer["content"] == "Resolved and the member was told." and answer["flags"] & 64
    [edit] = fake.requests("PATCH", f"/channels/{fake.g.escalations}/messages/{post['id']}")
    assert edit.body["embeds"][0]["title"] == "Escalated to support: resolved"
    assert buttons(edit.body) == []
    notes = [m["content"] for m in fake.sent(fake.g.help)]
    assert notes[-1] == "Update from the support team: Fixed in 2.3.1, please update"
    await in_state(world, asked, QuestionState.RESOLVED)


async def test_a_member_clicking_a_button_is_refused_and_the_post_stays(
    world: DiscordWorld,
) -> None:
    """Only staff acknowledge: a member's click gets the reason privately, nothing changes."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), QUESTION, at=T0)
    await world.tracked(asked)
    await fake.react(asked, staff(fake), "🆘")
    post = await escalation_post(fake, fake.g.escalations)
    click = await fake.click(fake.user("sven"), post, buttons(post)[0]["custom_id"])
    await fake.wait_for(lambda: fake.followups(click))
    [answer] = fake.followups(click)
    assert answer["content"].startswith("Sorry, you can't do that: only staff")
    assert not fake.requests("PATCH", f"/channels/{fake.g.escalations}/messages/")


async def test_a_button_the_core_no_longer_knows_says_so(world: DiscordWorld) -> None:
    """A click on a button whose action nothing handles gets a private "no longer" answer."""
    fake = world.fake
    post = Post("Old poll", "Old poll", actions=(PostAction("poll.vote", "Vote", "3"),))
    sent = await world.adapter.platform.post(
        ChannelRef("discord", str(fake.g.id), str(fake.g.general)), post
    )
    message = fake.stored(fake.g.general, sent.message)
    [button] = buttons(message)
    assert button["custom_id"] == "frontline:poll.vote:3" and button["label"] == "Vote"
    click = await fake.click(fake.user("sven"), message, button["custom_id"])
    await fake.wait_for(lambda: fake.followups(click))
    assert fake.followups(click)[0]["content"] == "This button no longer does anything."


async def test_buttons_and_forms_keep_working_after_a_restart(
    fake: FakeDiscord, settings: Settings, tmp_path: Path
) -> None:
    """A new process (same database) handles clicks on old posts and a form opened before."""
    db = tmp_path / "f.db"
    clock = VirtualClock(T0)
    async with running_bot(fake, settings, db, clock) as first:
        asked = await fake.post(fake.g.help, fake.user("maria"), QUESTION, at=T0)
        await first.tracked(asked)
        await fake.react(asked, staff(fake), "🆘")
        post = await escalation_post(fake, fake.g.escalations)
        resolve = next(b for b in buttons(post) if b["label"] == "Resolve")
        opened = await fake.click(staff(fake), post, resolve["custom_id"])
        await fake.wait_for(lambda: fake.callbacks(opened))
    assert first.adapter.client.is_closed()

    async with running_bot(fake, settings, db, clock) as second:
        assert second.adapter.client is not first.adapter.client
        ack = next(b for b in buttons(post) if b["label"] == "Acknowledge")
        click = await fake.click(staff(fake), post, ack["custom_id"])
        await fake.wait_for(lambda: fake.followups(click))
        assert fake.followups(click)[0]["content"] == "Acknowledged."
        path = f"/channels/{fake.g.escalations}/messages/{post['id']}"
        [edit] = fake.requests("PATCH", path)
        assert [b["label"] for b in buttons(edit.body)] == ["Resolve"]

        submitted = await fake.submit(staff(fake), opened, {"note": "Rotated it for you"})
        await fake.wait_for(lambda: fake.followups(submitted))
        assert fake.followups(submitted)[0]["content"] == "Resolved and the member was told."
        assert fake.sent(fake.g.help)[-1]["content"].endswith("Rotated it for you")
        await in_state(second, asked, QuestionState.RESOLVED)


# --- across platforms and without message content ------------------------------------------


async def test_discord_message_escalated_into_a_slack_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Discord question escalated to engineering lands in Slack; the member hears on Discord."""
    discord_fake = await FakeDiscord().start()
    slack_fake = await FakeSlack().start()
    for key, value in discord_fake.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    engineering = {"name": "engineering", "platform": "slack", "channel": "C0ENG", "space": TEAM}
    settings = load_settings(data=escalation_config(discord_fake, engineering))
    discord_adapter = DiscordAdapter(
        settings, sync_state=tmp_path / "cmds", guild_ready_timeout=0.05, identify_delay=0
    )
    slack_adapter = SlackAdapter(
        settings, http=True, host="127.0.0.1", port=0, api_url=slack_fake.api_url
    )
    platforms = {"discord": discord_adapter.platform, "slack": slack_adapter.platform}
    try:
        async with Frontline.open(
            settings, VirtualClock(T0), platforms, database=str(tmp_path / "f.db")
        ) as app:
            stop = asyncio.Event()
            live = asyncio.create_task(app.run_live([slack_adapter, discord_adapter], until=stop))
            await discord_fake.wait_for(
                lambda: (
                    (slack_adapter.ready.is_set() and discord_adapter.backfills >= 1) or live.done()
                )
            )
            assert not live.done()
            fake = discord_fake
            asked = await fake.post(fake.g.help, fake.user("maria"), "Why does sync crash?", at=T0)
            submitted = await escalate_with_menu(fake, staff(fake), asked, "engineering", "crash")
            [done] = fake.original_edits(submitted)
            assert done["content"].startswith(
                "Escalated to engineering: https://acme.slack.com/archives/C0ENG/"
            )
            [post] = slack_fake.posted("C0ENG")
            assert "Why does sync crash?" in post["text"]
            assert f"https://discord.com/channels/{fake.g.id}/{fake.g.help}/" in post["text"]
            [note] = fake.sent(fake.g.help)
            assert "passed this to the engineering team" in note["content"]
            stop.set()
            await asyncio.wait_for(live, 10)
    finally:
        await slack_fake.close()
        await discord_fake.close()


async def test_without_message_content_the_menu_still_quotes_the_member(
    settings: Settings, tmp_path: Path
) -> None:
    """No content intent: the menu's target text is quoted; a 🆘 escalation can only link."""
    fake = await FakeDiscord(allow_message_content=False).start()
    try:
        async with running_bot(fake, settings, tmp_path / "f.db", VirtualClock(T0)) as w:
            assert not fake.content_intent
            maria = fake.user("maria")
            asked = await fake.post(fake.g.help, maria, "How do I rotate my API key?", at=T0)
            await w.settled()
            # The text never arrives: the question is not even tracked.
            assert await w.question(asked) is None
            await escalate_with_menu(fake, staff(fake), asked, "support")
            post = await escalation_post(fake, fake.g.escalations)
            assert "How do I rotate my API key?" in post["embeds"][0]["footer"]["text"]

            other = await fake.post(fake.g.help, maria, "Login loops after upgrade", at=T0)
            await fake.react(other, staff(fake), "💡")
            await fake.wait_for(lambda: fake.sent(fake.g.staff))
            [linked] = fake.sent(fake.g.staff)
            footer = linked["embeds"][0]["footer"]["text"]
            assert (
                footer.startswith("“(text not available to the bot: open the link)”")
                and other["id"] in footer
            )
    finally:
        await fake.close()


# --- the pure parts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("emoji", "configured", "name"),
    [
        ("🆘", {"sos"}, "sos"),
        ("💡", {"bulb"}, "bulb"),
        ("💡", {"💡"}, "💡"),
        ("✅", {"white_check_mark", "✅"}, "white_check_mark"),
        ("🚨", set(), "rotating_light"),
        ("🦄", set(), "🦄"),
    ],
)
def test_reactions_are_named_as_the_configuration_names_them(
    emoji: str, configured: set[str], name: str
) -> None:
    """🆘 reads as `sos`; a configuration that lists the character itself gets the character."""
    assert reaction_name(discord.PartialEmoji(name=emoji), frozenset(configured)) == name
    assert emoji_name(discord.PartialEmoji(name="🆘")) == "sos"


def test_configured_emoji_cover_tracking_and_destinations(settings: Settings) -> None:
    """Acknowledge, resolve and every destination's emoji are known, without colons."""
    known = configured_emoji(settings)
    assert {"eyes", "white_check_mark", "sos", "💡"} <= known


def test_actions_become_buttons_with_stable_ids() -> None:
    """Each action is a button `frontline:<id>:<value>` in its style; odd ones are left out."""
    actions = [
        PostAction("escalation.ack", "Acknowledge", "7", "primary"),
        PostAction("escalation.resolve", "Resolve", "7"),
        PostAction("escalation.drop", "Drop", "7", "danger"),
        PostAction("x", "Too long", "9" * 120),
    ]
    view = action_view(actions)
    assert view is not None
    rendered = [c for row in view.to_components() for c in row["components"]]
    assert [(b["custom_id"], b["style"]) for b in rendered] == [
        ("frontline:escalation.ack:7", 1),
        ("frontline:escalation.resolve:7", 2),
        ("frontline:escalation.drop:7", 4),
    ]
    assert action_custom_id(actions[3]) is None
    assert action_view([]) is None


def test_forms_are_read_from_rows_and_labels(settings: Settings) -> None:
    """Typed text is found in classic rows and in the newer label components alike."""
    data: dict[str, Any] = {
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "note", "value": "hi"}]},
            {"type": 18, "component": {"type": 4, "custom_id": "other", "value": "there"}},
        ]
    }
    assert form_values(data) == {"note": "hi", "other": "there"}
    assert form_values(None) == {}
    long = settings.destinations[0].model_copy(update={"name": "s" * 60})
    form = reason_form(long, 0, "1" * 19, "2" * 19)
    assert form.custom_id.startswith("frontline-reason:#0:") and len(form.custom_id) <= 100
    assert destination_by_key(settings.destinations, "#1") == settings.destinations[1]
    assert destination_by_key(settings.destinations, "#9") is None
