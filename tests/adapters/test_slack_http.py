"""The Slack adapter end to end: signed HTTP requests into bolt, a fake Web API out."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.slack_adapter import NOT_CONFIGURED
from bot.core.model import Post, QuestionState, ResponderRole, UserRef
from tests.adapters.fake_slack import (
    HELP,
    RANDOM,
    SECRET,
    STAFF,
    FakeSlack,
    SlackWorld,
    event_body,
    message_event,
    shortcut_body,
    signed_headers,
    slack_config,
    slack_world,
    ts_at,
)
from tests.conftest import T0

QUESTION = "How do I rotate my API key? The docs don't say."


@pytest.fixture(autouse=True)
def slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP mode credentials in the environment, as an operator would set them."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """The fake Slack Web API with a few members and a staff user group."""
    fake = await FakeSlack().start()
    for user, name in (
        ("UMARIA", "Maria"),
        ("UCHIDI", "Chidi"),
        ("UANA", "Ana"),
        ("UBEN", "Ben"),
        ("UMAL", "Mallory"),
    ):
        fake.add_user(user, name)
    fake.add_usergroup("S0SUPPORT", "support-team", ["UBEN"])
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def world(fake: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackWorld]:
    """Frontline with the Slack adapter in HTTP mode, on a virtual clock at T0."""
    async with slack_world(fake, tmp_path / "frontline.db") as world:
        yield world


async def test_question_is_opened_and_a_thread_reply_answers_it(world: SlackWorld) -> None:
    """A question in #help is tracked with the asker's name; a reply in its thread answers it."""
    ts = await world.say("UMARIA", QUESTION)
    question = await world.question(ts)
    assert question.state == QuestionState.OPEN
    assert question.asker == "UMARIA"
    assert question.asker_name == "Maria"
    world.clock.advance(timedelta(minutes=5))
    await world.say("UCHIDI", "Settings → API → rotate", thread_ts=ts)
    question = await world.question(ts)
    assert question.state == QuestionState.ANSWERED
    assert question.first_responder == "UCHIDI"
    assert question.responder_role == ResponderRole.COMMUNITY
    assert question.ttfr_seconds == pytest.approx(300, abs=1)


async def test_thread_broadcast_is_a_reply_not_a_new_question(world: SlackWorld) -> None:
    """A reply also sent to the channel answers the question and opens nothing new."""
    ts = await world.say("UMARIA", QUESTION)
    reply = await world.say(
        "UCHIDI", "Can you try the new CLI? Does it work?", thread_ts=ts, subtype="thread_broadcast"
    )
    assert (await world.question(ts)).first_responder == "UCHIDI"
    assert await world.store.question_by_ref(world.ref(reply)) is None


async def test_redelivered_event_changes_nothing(world: SlackWorld) -> None:
    """A retried delivery of an event already handled has no second effect."""
    ts = await world.say("UMARIA", QUESTION)
    added = {
        "type": "reaction_added",
        "user": "UMARIA",
        "reaction": "white_check_mark",
        "item": {"type": "message", "channel": HELP, "ts": ts},
        "item_user": "UMARIA",
        "event_ts": ts_at(T0, 900),
    }
    removed = dict(added, type="reaction_removed", event_ts=ts_at(T0, 901))
    assert await world.event(added, event_id="EvRESOLVE") == 200
    assert (await world.question(ts)).state == QuestionState.RESOLVED
    assert await world.event(removed, event_id="EvREOPEN") == 200
    reopened = await world.question(ts)
    assert reopened.state == QuestionState.OPEN
    # Slack did not see our first ack in time and sends the ✅ again.
    assert await world.event(added, event_id="EvRESOLVE", retry=1) == 200
    assert await world.question(ts) == reopened
    # The same message delivered twice under two ids is still one question.
    event = message_event("UMARIA", QUESTION, ts)
    assert await world.event(event, event_id="EvOTHER", retry=2) == 200
    assert await world.store.waiting(10) == [reopened]


async def test_bad_signature_and_stale_timestamp_are_refused(world: SlackWorld) -> None:
    """Requests not signed with the secret, or signed over five minutes ago, get 401."""
    ts = ts_at(T0, 1)
    body = event_body(message_event("UMARIA", QUESTION, ts), "EvFORGED")
    forged = signed_headers(body, secret="not-the-secret", content_type="application/json")
    assert (await world.post_raw(body, forged))[0] == 401
    stale = signed_headers(body, at=time.time() - 360, content_type="application/json")
    assert (await world.post_raw(body, stale))[0] == 401
    tampered = signed_headers(body, content_type="application/json")
    assert (await world.post_raw(body.replace("rotate", "delete"), tampered))[0] == 401
    assert await world.store.question_by_ref(world.ref(ts)) is None
    # The real delivery of the same event still works afterwards.
    assert (await world.post_raw(body, signed_headers(body)))[0] == 200
    assert await world.store.question_by_ref(world.ref(ts)) is not None


async def test_nudge_waits_out_a_rate_limit_and_links_the_question(world: SlackWorld) -> None:
    """A 429 with Retry-After on a nudge post is retried; the breach nudge links the question."""
    ts = await world.say("UMARIA", QUESTION)
    world.fake.fail("chat.postMessage", "429", retry_after=0)
    await world.app.advance_to(T0 + timedelta(minutes=61))
    calls = [c for c in world.fake.calls if c.method == "chat.postMessage"]
    assert calls[0].fault == "429"
    assert calls[1].args == calls[0].args and not calls[1].fault  # the same post, sent
    breach = [p for p in world.fake.posted(STAFF) if "passed the response target" in p["text"]]
    assert len(breach) == 1
    assert breach[0]["text"].startswith("1 question has passed the response target")
    assert breach[0]["blocks"][0]["type"] == "header"
    link = f"https://acme.slack.com/archives/{HELP}/p{ts.replace('.', '')}"
    assert f"<{link}|open>" in breach[0]["blocks"][1]["text"]["text"]
    assert "Maria" in breach[0]["blocks"][1]["text"]["text"]
    # Every nudge that reached Slack is recorded once, the refused attempt is not.
    assert (await world.question(ts)).nudges == len(world.fake.posted(STAFF))


async def test_api_errors_are_logged_with_context_and_not_fatal(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """A 500 on a nudge is logged with method and channel; a dropped connection is retried."""
    first = await world.say("UMARIA", QUESTION)
    world.fake.fail("chat.postMessage", "500")
    with caplog.at_level(logging.WARNING):
        await world.app.advance_to(T0 + timedelta(minutes=61))
    assert "chat.postMessage in C0STAFF failed: internal_error" in caplog.text
    failed = [c for c in world.fake.calls if c.fault == "500"]
    assert len(failed) == 1  # a 500 may have posted: it is not blindly repeated
    assert (await world.question(first)).nudges == len(world.fake.posted(STAFF))
    # The bot keeps going: the next question is tracked and its nudges survive a drop.
    second = await world.say("UCHIDI", "Why does the CLI crash on start?")
    before = len(world.fake.posted(STAFF))
    world.fake.fail("chat.postMessage", "drop")
    await world.app.advance_to(T0 + timedelta(minutes=125))
    assert [c.fault for c in world.fake.calls if c.fault] == ["500", "drop"]
    assert len(world.fake.posted(STAFF)) > before
    assert any("Chidi" in p["text"] for p in world.fake.posted(STAFF)[before:])
    assert (await world.question(second)).nudges >= 1


async def test_unwatched_channel_is_ignored(world: SlackWorld) -> None:
    """A question in a channel that is not configured is not tracked at all."""
    ts = await world.say("UMARIA", QUESTION, channel=RANDOM)
    assert await world.store.question_by_ref(world.ref(ts, RANDOM)) is None
    assert await world.store.last_seen("slack", "T0TEAM", RANDOM) is None


async def test_bot_messages_and_the_bots_own_are_ignored(world: SlackWorld) -> None:
    """Integrations, bot_message posts and Frontline's own messages never open questions."""
    other = await world.say("UOTHERBOT", QUESTION, bot_id="BOTHER")
    legacy = await world.say("", QUESTION, subtype="bot_message", bot_id="BLEGACY")
    own = await world.say("UBOT", QUESTION, bot_id="BBOT")
    for ts in (other, legacy, own):
        assert await world.store.question_by_ref(world.ref(ts)) is None
    assert await world.store.last_seen("slack", "T0TEAM", HELP) is None


async def test_unanswered_answers_privately_with_links(world: SlackWorld) -> None:
    """`/frontline unanswered` lists waiting questions only to the caller, linked."""
    ts = await world.say("UMARIA", QUESTION)
    world.clock.advance(timedelta(minutes=20, seconds=1))
    answer = await world.command("unanswered #help", user="UMAL")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("1 question waiting in #help")
    assert "waiting 20m" in answer["text"]
    blocks = answer["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "1 question waiting in #help"},
    }
    assert f"/archives/{HELP}/p{ts.replace('.', '')}|open>" in blocks[1]["text"]["text"]


async def test_malformed_commands_get_usage_not_a_trace(world: SlackWorld) -> None:
    """Unknown subcommands, missing arguments and broken quoting all get usage text."""
    unknown = await world.command("frobnicate now")
    assert "Unknown command `frobnicate`" in unknown["text"]
    assert "/frontline unanswered" in unknown["text"]
    missing = await world.command("snooze")
    # Slack shows the escaped brackets as < and >.
    assert "Usage: `/frontline snooze &lt;message link&gt; &lt;duration&gt;`" in missing["text"]
    broken = await world.command('resolve "unclosed')
    assert broken["text"].startswith("Sorry, I could not read that command")
    empty = await world.command("")
    assert empty["text"].startswith("Frontline commands:")
    assert all(r["response_type"] == "ephemeral" for r in (unknown, missing, broken, empty))


async def test_resolve_is_staff_only_with_usergroup_members_as_staff(world: SlackWorld) -> None:
    """A member outside staff is refused with a reason; a support-team member may resolve."""
    ts = await world.say("UMARIA", QUESTION)
    link = f"<https://acme.slack.com/archives/{HELP}/p{ts.replace('.', '')}>"
    refused = await world.command(f"resolve {link}", user="UMAL")
    assert refused["text"] == (
        "Sorry, you can't do that: only staff can resolve questions; "
        "ask a community manager to do it"
    )
    assert (await world.question(ts)).state == QuestionState.OPEN
    done = await world.command(f"resolve {link}", user="UBEN")
    assert done["text"] == "Resolved. It will not be nudged again."
    question = await world.question(ts)
    assert question.state == QuestionState.RESOLVED
    assert question.resolved_by == "UBEN"
    # The group was looked up once and cached for the second check.
    assert len(world.fake.calls_of("usergroups.users.list")) == 1


async def test_edits_and_deletes(world: SlackWorld) -> None:
    """An edit that turns a post into a question opens it; deleting it dismisses it."""
    ts = await world.say("UMARIA", "hello everyone")
    assert await world.store.question_by_ref(world.ref(ts)) is None
    world.clock.advance(timedelta(minutes=3))
    edit_ts = ts_at(world.clock.now(), 77)
    changed = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": HELP,
        "ts": edit_ts,
        "event_ts": edit_ts,
        "message": {
            "type": "message",
            "user": "UMARIA",
            "text": QUESTION,
            "ts": ts,
            "edited": {"user": "UMARIA", "ts": edit_ts},
        },
        "previous_message": {
            "type": "message",
            "user": "UMARIA",
            "text": "hello everyone",
            "ts": ts,
        },
    }
    assert await world.event(changed) == 200
    question = await world.question(ts)
    assert question.text == QUESTION
    assert question.asked_at == T0 + timedelta(minutes=3, microseconds=77)
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": HELP,
        "ts": ts_at(world.clock.now(), 78),
        "deleted_ts": ts,
        "event_ts": ts_at(world.clock.now(), 78),
        "previous_message": {"type": "message", "user": "UMARIA", "text": QUESTION, "ts": ts},
    }
    assert await world.event(deleted) == 200
    assert (await world.question(ts)).state == QuestionState.DISMISSED


async def test_check_mark_reaction_resolves(world: SlackWorld) -> None:
    """The asker's ✅ (with a skin tone or not) resolves their question."""
    ts = await world.say("UMARIA", QUESTION)
    reaction = {
        "type": "reaction_added",
        "user": "UMARIA",
        "reaction": "white_check_mark",
        "item": {"type": "message", "channel": HELP, "ts": ts},
        "event_ts": ts_at(T0, 500),
    }
    assert await world.event(reaction) == 200
    question = await world.question(ts)
    assert question.state == QuestionState.RESOLVED
    assert question.resolved_by == "UMARIA"


async def test_escalate_shortcut_is_acked_and_answered_privately(world: SlackWorld) -> None:
    """Without destinations the shortcut is acked, says so privately, and opens no modal."""
    ts = await world.say("UMARIA", QUESTION)
    message = {"type": "message", "user": "UMARIA", "ts": ts, "text": QUESTION}
    body = shortcut_body(
        user="UANA", channel=HELP, message=message, response_url=world.fake.response_url("sc")
    )
    status, ack = await world.post_raw(
        body, signed_headers(body, content_type="application/x-www-form-urlencoded")
    )
    assert (status, ack) == (200, "")
    assert world.fake.responses == [("sc", {"text": NOT_CONFIGURED, "response_type": "ephemeral"})]
    assert world.fake.views == []


async def test_backfill_after_restart_ingests_the_gap_once(fake: FakeSlack, tmp_path: Path) -> None:
    """Messages sent while the bot was down are ingested on start, and only once."""
    db = tmp_path / "frontline.db"
    async with slack_world(fake, db) as world:
        asked = await world.say("UMARIA", QUESTION)
        assert world.adapter.backfilled == 0
    # While down: a new question, a reply in the old question's thread, a bot post,
    # and a message in a channel nobody watches.
    new = ts_at(T0 + timedelta(minutes=10))
    fake.add_message(HELP, "UCHIDI", "Why does the CLI crash on start?", new)
    fake.add_message(HELP, "UANA", "Try the key page under Settings", ts_at(T0, 999), asked)
    fake.add_message(HELP, "", "Deploy finished", ts_at(T0 + timedelta(minutes=11)), bot_id="BX")
    fake.add_message(RANDOM, "UMAL", "How do I join?", ts_at(T0 + timedelta(minutes=12)))
    async with slack_world(fake, db, start=T0 + timedelta(minutes=30)) as world:
        assert world.adapter.backfilled == 2
        answered = await world.question(asked)
        assert answered.first_responder == "UANA"
        assert answered.responder_role == ResponderRole.STAFF
        assert (await world.question(new)).asker_name == "Chidi"
    async with slack_world(fake, db, start=T0 + timedelta(minutes=40)) as world:
        assert world.adapter.backfilled == 0
        assert len(await world.store.waiting(10)) == 1
    assert [c["channel"] for c in fake.calls_of("conversations.history")] == [HELP, HELP]


async def test_backfill_is_bounded_by_pages(fake: FakeSlack, tmp_path: Path) -> None:
    """A long outage is read at most N pages deep per channel (newest first, like Slack)."""
    db = tmp_path / "frontline.db"
    async with slack_world(fake, db) as world:
        await world.say("UMARIA", "good morning")
    fake.page_size = 2
    for i in range(1, 12):
        fake.add_message(
            HELP, "UCHIDI", f"Why does step {i} fail?", ts_at(T0 + timedelta(minutes=i))
        )
    async with slack_world(fake, db) as world:
        assert world.adapter.backfilled == 10  # 5 pages of 2
    assert len(fake.calls_of("conversations.history")) == 5


async def test_slacks_url_check_is_answered(world: SlackWorld) -> None:
    """The signed url_verification request Slack sends when setting the URL gets its challenge."""
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json.dumps({"token": "t", "challenge": challenge, "type": "url_verification"})
    status, answer = await world.post_raw(
        body, signed_headers(body, content_type="application/json")
    )
    assert status == 200
    assert challenge in answer


async def test_platform_port_replies_dms_and_reacts(world: SlackWorld) -> None:
    """Thread replies, DMs and reactions reach the Web API with Slack's argument names."""
    platform = world.adapter.platform
    root = world.ref(ts_at(T0, 5))
    sent = await platform.reply_in_thread(root, Post("On it"))
    assert sent.channel == HELP and sent.message
    maria = UserRef("slack", "T0TEAM", "UMARIA", "Maria")
    dm = await platform.dm(maria, Post("Your question got an answer"))
    assert dm.channel == "DMARIA"
    await platform.react(root, ":eyes:")
    await platform.react(root, "eyes")  # Slack says already_reacted: not an error
    posts = world.fake.calls_of("chat.postMessage")
    assert (posts[0]["channel"], posts[0]["thread_ts"], posts[0]["text"]) == (
        HELP,
        root.message,
        "On it",
    )
    assert posts[1]["channel"] == "DMARIA"
    assert (
        world.fake.calls_of("reactions.add")
        == [{"channel": HELP, "timestamp": root.message, "name": "eyes"}] * 2
    )
    assert world.fake.reactions == {(HELP, root.message, "eyes")}
    assert world.fake.calls_of("conversations.open") == [{"users": "UMARIA"}]
    link = await platform.permalink(root)
    assert platform.parse_link(link) == root
    assert await platform.permalink(root) == link
    assert len(world.fake.calls_of("chat.getPermalink")) == 1  # cached


async def test_workspace_admins_are_staff_when_configured(fake: FakeSlack, tmp_path: Path) -> None:
    """With staff.slack_admins, an admin may resolve; a regular member still may not."""
    fake.add_user("UBOSS", "Boss", is_admin=True)
    config = slack_config(staff={"slack_admins": True})
    async with slack_world(fake, tmp_path / "f.db", config=config) as world:
        ts = await world.say("UMARIA", QUESTION)
        link = f"https://acme.slack.com/archives/{HELP}/p{ts.replace('.', '')}"
        assert (await world.command(f"resolve {link}", user="UMAL"))["text"].startswith("Sorry")
        assert (await world.command(f"resolve {link}", user="UBOSS"))["text"] == (
            "Resolved. It will not be nudged again."
        )
