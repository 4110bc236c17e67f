"""Escalations, buttons, modals and images through the real Slack adapter and a fake Web API."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from bot.adapters.slack_adapter import IMAGE_SENT, view_metadata, view_values
from bot.adapters.slack_blocks import MAX_BLOCKS, MAX_FIELD, render
from bot.core.model import ChannelRef, Post, PostAction, PostItem, QuestionState
from tests.adapters.fake_slack import (
    BOT_ID,
    HELP,
    RANDOM,
    SECRET,
    STAFF,
    TEAM,
    FakeSlack,
    SlackWorld,
    action_body,
    shortcut_body,
    slack_config,
    slack_world,
    ts_at,
    view_submission_body,
)
from tests.conftest import T0

SUPPORT = "C0SUPPORT"
PRIVATE = "G0PRIVATE"
QUESTION = "How do I rotate my API key? <!channel> <@UCHIDI> said to ask here"
CANT_SEE = "I can't see that message: it may have been deleted, or I am not in that channel."


def escalation_config(**overrides: Any) -> dict[str, Any]:
    destinations = [
        {"name": "support", "platform": "slack", "channel": SUPPORT, "emoji": "sos"},
        {"name": "product", "platform": "discord", "channel": "123456"},
    ]
    return slack_config(destinations=destinations, **overrides)


@pytest.fixture(autouse=True)
def slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP mode credentials in the environment, as an operator would set them."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """The fake Slack Web API: members, staff (Ana by id, Ben by user group)."""
    fake = await FakeSlack().start()
    for user, name in (("UMARIA", "Maria"), ("UCHIDI", "Chidi"), ("UANA", "Ana"), ("UBEN", "Ben")):
        fake.add_user(user, name)
    fake.add_user("UMAL", "Mallory")
    fake.add_usergroup("S0SUPPORT", "support-team", ["UBEN"])
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def world(fake: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackWorld]:
    """Frontline in HTTP mode with a Slack support destination (emoji :sos:)."""
    async with slack_world(fake, tmp_path / "f.db", config=escalation_config()) as world:
        yield world


async def ask(world: SlackWorld, user: str, text: str, **extra: Any) -> str:
    """A message delivered as an event and kept in the fake's history, as Slack would."""
    ts = await world.say(user, text, **extra)
    channel = extra.pop("channel", HELP)
    world.fake.add_message(channel, user, text, ts, **extra)
    return ts


def link(ts: str, channel: str = HELP) -> str:
    """A permalink as a slash command delivers it (should_escape wraps it in <>)."""
    return f"<https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}>"


def fields_of(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """The labelled facts of a post (bold label, newline, value), label to value."""
    facts = [f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    return dict(f.removeprefix("*").split("*\n", 1) for f in facts)


def buttons_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def bot_message(fake: FakeSlack, channel: str) -> dict[str, Any]:
    """The newest bot post in `channel` as a click payload carries it (ts, text, blocks)."""
    [*_, posted] = fake.posted(channel)
    ts = fake.history[channel][-1]["ts"]
    return {"type": "message", "ts": ts, "bot_id": BOT_ID, **posted}


async def click(world: SlackWorld, channel: str, action_id: str, user: str) -> str:
    """Click a button of the bot's newest post in `channel`; returns the response_url name."""
    message = bot_message(world.fake, channel)
    [button] = [b for b in buttons_of(message["blocks"]) if b["action_id"] == action_id]
    name = f"click-{action_id}-{len(world.fake.calls)}"
    body = action_body(
        user=user,
        message=message,
        button=button,
        channel=channel,
        response_url=world.fake.response_url(name),
    )
    assert await world.interact(body) == (200, "")
    return name


def responses(fake: FakeSlack, name: str) -> list[dict[str, Any]]:
    return [r for n, r in fake.responses if n == name]


async def submit(world: SlackWorld, values: dict[str, str], user: str) -> tuple[int, str]:
    """Submit the newest modal the bot opened with `values` (input block id -> value)."""
    return await world.interact(view_submission_body(world.fake.views[-1], values, user=user))


# --- escalating --------------------------------------------------------------------------


async def test_staff_escalate_by_command(world: SlackWorld) -> None:
    """The support post has fields and buttons; nobody is pinged; the member is told."""
    ts = await ask(world, "UMARIA", QUESTION)
    world.clock.advance(timedelta(minutes=20, seconds=1))
    answer = await world.command(f"escalate {link(ts)} support billing looks wrong", user="UANA")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith(
        f"Escalated to support: https://acme.slack.com/archives/{SUPPORT}/p"
    )
    [post] = world.fake.posted(SUPPORT)
    assert post["blocks"][0]["text"]["text"] == "Escalated to support: open"
    facts = fields_of(post["blocks"])
    assert facts["From"] == "Maria" and facts["Why"] == "billing looks wrong"
    assert facts["Where"] == "#help on slack" and facts["Escalated by"] == "Ana"
    assert facts["Response time"] == "no response for 20m"
    assert [
        (b["text"]["text"], b["action_id"], b.get("style")) for b in buttons_of(post["blocks"])
    ] == [
        ("Acknowledge", "escalation.ack", "primary"),
        ("Resolve", "escalation.resolve", None),
    ]
    shown = json.dumps(post)
    assert "<!channel>" not in shown and "<@UCHIDI>" not in shown  # the copy pings nobody
    assert "How do I rotate my API key?" in shown
    assert f"/archives/{HELP}/p{ts.replace('.', '')}" in shown
    [note] = [m for m in world.fake.posted(HELP) if m.get("thread_ts") == ts]
    assert "passed this to the support team" in note["text"]
    assert (await world.question(ts)).state == QuestionState.ESCALATED


async def test_members_cannot_escalate(world: SlackWorld) -> None:
    """A member's command is refused privately with a reason; their :sos: is just a reaction."""
    ts = await ask(world, "UMARIA", QUESTION)
    refused = await world.command(f"escalate {link(ts)} support", user="UMAL")
    assert refused["response_type"] == "ephemeral"
    assert refused["text"] == (
        "Sorry, you can't do that: only staff can escalate; ask a community manager"
    )
    assert await world.event(reaction("UMAL", "sos", ts)) == 200
    assert world.fake.posted(SUPPORT) == []


def reaction(user: str, emoji: str, ts: str, channel: str = HELP) -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": emoji,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": ts_at(T0, 700),
    }


async def test_sos_reaction_by_staff_escalates(world: SlackWorld) -> None:
    """Staff reacting :sos: (a user-group member here) escalates to support, once."""
    ts = await ask(world, "UMARIA", QUESTION)
    assert await world.event(reaction("UBEN", "sos", ts)) == 200
    [post] = world.fake.posted(SUPPORT)
    assert fields_of(post["blocks"])["Escalated by"] == "Ben"
    assert await world.event(reaction("UANA", "sos", ts)) == 200
    assert len(world.fake.posted(SUPPORT)) == 1


async def test_a_thread_reply_can_be_escalated(world: SlackWorld) -> None:
    """A reply is not in the channel history: it is found in its thread, author named."""
    ts = await ask(world, "UMARIA", QUESTION)
    reply = await ask(world, "UCHIDI", "Same here: the key page 500s for me", thread_ts=ts)
    answer = await world.command(f"escalate {link(reply)} support", user="UANA")
    assert answer["text"].startswith("Escalated to support")
    [post] = world.fake.posted(SUPPORT)
    assert fields_of(post["blocks"])["From"] == "Chidi"
    assert "the key page 500s for me" in json.dumps(post)
    [replies] = world.fake.calls_of("conversations.replies")
    assert (replies["ts"], replies["oldest"], replies["latest"]) == (reply, reply, reply)


async def test_a_message_the_bot_cannot_see_is_refused_clearly(world: SlackWorld) -> None:
    """When Slack says not_in_channel, the caller hears why and nothing is posted."""
    ts = ts_at(T0, 42)
    world.fake.add_message(RANDOM, "UMARIA", QUESTION, ts)
    world.fake.fail("conversations.history", "not_in_channel")
    answer = await world.command(f"escalate {link(ts, RANDOM)} support", user="UANA")
    assert answer["text"] == CANT_SEE
    assert world.fake.posted(SUPPORT) == []
    assert world.fake.calls_of("conversations.replies") == []


async def test_private_channel_text_is_not_copied(world: SlackWorld) -> None:
    """From a private channel only metadata and the link reach the destination."""
    world.fake.channels[PRIVATE] = {"is_private": True}
    first, second = ts_at(T0, 50), ts_at(T0, 51)
    world.fake.add_message(PRIVATE, "UMARIA", "Our contract number is 12345, why?", first)
    world.fake.add_message(PRIVATE, "UCHIDI", "Invoice 777 is wrong, who can help?", second)
    await world.command(f"escalate {link(first, PRIVATE)} support", user="UANA")
    await world.command(f"escalate {link(second, PRIVATE)} support", user="UANA")
    posts = world.fake.posted(SUPPORT)
    assert len(posts) == 2
    shown = json.dumps(posts)
    assert "12345" not in shown and "777" not in shown
    assert "(from a private channel: open the link)" in posts[0]["text"]
    assert f"/archives/{PRIVATE}/p{first.replace('.', '')}" in posts[0]["text"]
    assert fields_of(posts[0]["blocks"])["From"] == "Maria"
    assert len(world.fake.calls_of("conversations.info")) == 1  # cached per channel


# --- the shortcut and its modal --------------------------------------------------------


async def test_shortcut_opens_a_modal_and_its_submission_escalates(world: SlackWorld) -> None:
    """The modal lists the destinations; submitting it escalates and answers privately."""
    ts = await ask(world, "UMARIA", QUESTION)
    message = {"type": "message", "user": "UMARIA", "ts": ts, "text": QUESTION}
    body = shortcut_body(
        user="UANA", channel=HELP, message=message, response_url=world.fake.response_url("sc")
    )
    assert await world.interact(body) == (200, "")
    [opened] = world.fake.calls_of("views.open")
    assert opened["trigger_id"] == json.loads(parse_qs(body)["payload"][0])["trigger_id"]
    [view] = world.fake.views
    select = view["blocks"][0]["element"]
    assert [(o["value"], o["text"]["text"]) for o in select["options"]] == [
        ("support", "support"),
        ("product", "product (discord)"),
    ]
    assert world.fake.posted(SUPPORT) == [] and world.fake.responses == []
    assert await submit(world, {"destination": "support", "reason": "urgent"}, "UANA") == (
        200,
        "",
    )
    [post] = world.fake.posted(SUPPORT)
    assert fields_of(post["blocks"])["Why"] == "urgent"
    [private] = world.fake.calls_of("chat.postEphemeral")
    assert (private["channel"], private["user"]) == (HELP, "UANA")
    assert private["text"].startswith("Escalated to support: https://acme.slack.com/")


async def test_a_stale_destination_keeps_the_modal_open(world: SlackWorld) -> None:
    """A destination no longer configured is shown as an error in the modal; nothing runs."""
    ts = await ask(world, "UMARIA", QUESTION)
    message = {"type": "message", "user": "UMARIA", "ts": ts, "text": QUESTION}
    url = world.fake.response_url("sc")
    await world.interact(
        shortcut_body(user="UANA", channel=HELP, message=message, response_url=url)
    )
    stale = copy.deepcopy(world.fake.views[-1])
    options = stale["blocks"][0]["element"]["options"]
    options.append({"text": {"type": "plain_text", "text": "legal"}, "value": "legal"})
    world.fake.views.append(stale)
    status, answer = await submit(world, {"destination": "legal"}, "UANA")
    assert status == 200
    assert json.loads(answer) == {
        "response_action": "errors",
        "errors": {"destination": "Choose one of the configured destinations."},
    }
    assert world.fake.posted(SUPPORT) == []


async def test_a_members_form_is_refused_by_dm_when_the_channel_cannot_show_it(
    world: SlackWorld,
) -> None:
    """A member's submission is refused with the reason, by DM if ephemeral posting fails."""
    ts = await ask(world, "UMARIA", QUESTION)
    message = {"type": "message", "user": "UMARIA", "ts": ts, "text": QUESTION}
    url = world.fake.response_url("sc")
    await world.interact(
        shortcut_body(user="UMAL", channel=HELP, message=message, response_url=url)
    )
    world.fake.fail("chat.postEphemeral", "not_in_channel")
    assert await submit(world, {"destination": "support"}, "UMAL") == (200, "")
    assert world.fake.posted(SUPPORT) == []
    [dm] = world.fake.posted("DMAL")
    assert "only staff can escalate" in dm["text"]


# --- the buttons -----------------------------------------------------------------------


async def test_acknowledge_updates_the_post_in_place(world: SlackWorld) -> None:
    """Acknowledge: chat.update on the same message, the button gone, the clicker told."""
    ts = await ask(world, "UMARIA", QUESTION)
    await world.command(f"escalate {link(ts)} support", user="UANA")
    posted = bot_message(world.fake, SUPPORT)
    name = await click(world, SUPPORT, "escalation.ack", "UBEN")
    [update] = world.fake.calls_of("chat.update")
    assert (update["channel"], update["ts"]) == (SUPPORT, posted["ts"])
    assert update["blocks"][0]["text"]["text"] == "Escalated to support: acknowledged"
    assert [b["text"]["text"] for b in buttons_of(update["blocks"])] == ["Resolve"]
    assert fields_of(update["blocks"])["Acknowledged by"] == "Ben"
    assert responses(world.fake, name) == [
        {"text": "Acknowledged.", "response_type": "ephemeral", "replace_original": False}
    ]
    assert len(world.fake.posted(SUPPORT)) == 1  # updated, not posted again


async def test_a_member_clicking_acknowledge_is_refused(world: SlackWorld) -> None:
    """A non-staff click changes nothing and tells the clicker why."""
    ts = await ask(world, "UMARIA", QUESTION)
    await world.command(f"escalate {link(ts)} support", user="UANA")
    name = await click(world, SUPPORT, "escalation.ack", "UMAL")
    [answer] = responses(world.fake, name)
    assert "only staff can acknowledge or resolve" in answer["text"]
    assert world.fake.calls_of("chat.update") == []


async def test_resolve_asks_for_a_note_and_closes_the_loop(world: SlackWorld) -> None:
    """Resolve opens a modal; its note updates the post and goes to the member's thread."""
    ts = await ask(world, "UMARIA", QUESTION)
    await world.command(f"escalate {link(ts)} support", user="UANA")
    name = await click(world, SUPPORT, "escalation.resolve", "UBEN")
    [view] = world.fake.views
    assert view["title"]["text"] == "Resolve"
    assert view_metadata(view)["action"] == "escalation.resolve"
    assert world.fake.calls_of("chat.update") == [] and responses(world.fake, name) == []
    assert await submit(world, {"note": "Fixed in 2.3.1"}, "UBEN") == (200, "")
    [update] = world.fake.calls_of("chat.update")
    assert update["blocks"][0]["text"]["text"] == "Escalated to support: resolved"
    assert buttons_of(update["blocks"]) == []
    assert fields_of(update["blocks"])["Resolution"] == "Fixed in 2.3.1"
    thread = [m["text"] for m in world.fake.posted(HELP) if m.get("thread_ts") == ts]
    assert thread[-1] == "Update from the support team: Fixed in 2.3.1"
    [private] = world.fake.calls_of("chat.postEphemeral")
    assert (private["channel"], private["user"], private["text"]) == (
        SUPPORT,
        "UBEN",
        "Resolved and the member was told.",
    )
    assert (await world.question(ts)).state == QuestionState.RESOLVED


# --- images ------------------------------------------------------------------------------


async def test_chart_command_sends_the_png_by_dm(world: SlackWorld) -> None:
    """`/frontline chart` answers privately and uploads the PNG into the caller's DM."""
    await ask(world, "UMARIA", QUESTION)
    answer = await world.command("chart", user="UMAL")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Last 14 days: 1 question.")
    assert answer["text"].endswith(IMAGE_SENT)
    [shared] = world.fake.shared
    assert shared["channel"] == "DMAL" and shared["thread_ts"] is None
    assert shared["data"].startswith(b"\x89PNG")
    assert shared["title"] == "Last 14 days"
    [asked] = world.fake.calls_of("files.getUploadURLExternal")
    assert asked["filename"] == "frontline-chart.png"
    assert int(asked["length"]) == len(shared["data"])


async def test_weekly_summary_uploads_its_chart_in_the_thread(
    fake: FakeSlack, tmp_path: Path
) -> None:
    """The weekly summary is posted, then its PNG chart is uploaded under it."""
    config = escalation_config(
        summaries=[{"platform": "slack", "channel": STAFF, "time": "09:30", "weekly_on": "tue"}]
    )
    start = T0 - timedelta(days=1)
    async with slack_world(fake, tmp_path / "f.db", config=config, start=start) as world:
        await ask(world, "UMARIA", QUESTION)
        await world.app.advance_to(T0 + timedelta(minutes=31))
    weekly = [
        (m["ts"], m["text"])
        for m in fake.history[STAFF]
        if str(m["text"]).startswith("Weekly summary")
    ]
    [(weekly_ts, _)] = weekly
    [shared] = fake.shared
    assert (shared["channel"], shared["thread_ts"]) == (STAFF, weekly_ts)
    assert shared["data"].startswith(b"\x89PNG")


async def test_a_failed_upload_keeps_the_message(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """If the upload fails the post still stands, is not sent twice, and the log says why."""
    world.fake.fail("files.completeUploadExternal", "internal_error")
    post = Post("Weekly summary", "Weekly summary", image=b"\x89PNG fake", image_name="c.png")
    with caplog.at_level(logging.WARNING):
        ref = await world.adapter.platform.post(ChannelRef("slack", TEAM, STAFF), post)
    assert ref.channel == STAFF and ref.message
    assert len(world.fake.posted(STAFF)) == 1
    assert world.fake.shared == []
    assert f"Slack files.upload in {STAFF} failed: internal_error" in caplog.text


# --- pure rendering and payload reading ----------------------------------------------------


def test_fields_and_buttons_render_within_slack_limits() -> None:
    """Fields go 10 to a section under 2,000 chars, escaped; buttons keep ids and styles."""
    fields = tuple((f"Label {i}", f"<!here> {'x' * 2500}") for i in range(23))
    actions = (
        PostAction("a.ack", "Acknowledge", "7", "primary"),
        PostAction("a.drop", "Drop", "7", "danger"),
        PostAction("a.other", "Other", "7", "sparkly"),
        PostAction("a.ack", "Again", "8"),
    )
    items = tuple(PostItem(f"item {i} " + "z" * 3500) for i in range(80))
    post = Post("fallback", "Title", items, footer="f", fields=fields, actions=actions)
    text, blocks = render(post)
    assert text == "fallback" and len(blocks) == MAX_BLOCKS
    sections = [b for b in blocks if "fields" in b]
    assert [len(b["fields"]) for b in sections] == [10, 10, 3]
    assert all(len(f["text"]) <= MAX_FIELD for b in sections for f in b["fields"])
    assert sections[0]["fields"][0]["text"].startswith("*Label 0*\n&lt;!here&gt; xxx")
    assert blocks[1] is sections[0]  # the facts come right after the header
    assert blocks[-1] == {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "a.ack",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "value": "7",
                "style": "primary",
            },
            {
                "type": "button",
                "action_id": "a.drop",
                "text": {"type": "plain_text", "text": "Drop"},
                "value": "7",
                "style": "danger",
            },
            {
                "type": "button",
                "action_id": "a.other",
                "text": {"type": "plain_text", "text": "Other"},
                "value": "7",
            },
        ],
    }


def test_a_post_with_fields_does_not_repeat_its_text() -> None:
    """The fallback text repeats the facts, so blocks show the fields only once."""
    post = Post("Title\nFrom: Maria", "Title", fields=(("From", "Maria"),))
    _, blocks = render(post)
    assert [b["type"] for b in blocks] == ["header", "section"]
    assert blocks[1]["fields"] == [{"type": "mrkdwn", "text": "*From*\nMaria"}]


def test_modal_values_and_metadata_are_read_defensively() -> None:
    """Chosen options, typed text and metadata are read; junk gives nothing, not a crash."""
    view = {
        "private_metadata": json.dumps({"channel": "C1", "ts": "1.2", "n": 3}),
        "state": {
            "values": {
                "destination": {"value": {"selected_option": {"value": "support"}}},
                "reason": {"value": {"type": "plain_text_input", "value": None}},
                "note": {"value": {"type": "plain_text_input", "value": "  done  "}},
            }
        },
    }
    assert view_values(view) == {"destination": "support", "reason": "", "note": "done"}
    assert view_metadata(view) == {"channel": "C1", "ts": "1.2"}
    assert view_values({"state": "junk"}) == {} and view_metadata({"private_metadata": "{"}) == {}
