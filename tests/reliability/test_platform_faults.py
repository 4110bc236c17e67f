"""Platform faults: the fake Slack answers 500, 429 with Retry-After, drops or stalls a call.

Faults hit the two side effects staff rely on, the nudge post and the escalation post,
through the real Slack adapter (bolt over HTTP on 127.0.0.1) on a virtual clock. The
bot must stay up and lose and double nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.storage.repos import Repo
from tests.adapters.fake_slack import HELP, SECRET, STAFF, SlackWorld, slack_config, slack_world
from tests.conftest import T0
from tests.reliability.harness import (
    BotProcess,
    HookedSlack,
    asking,
    live_config,
    now_ts,
    require,
    tracked,
    until,
)

SUPPORT = "C0SUPPORT"


@pytest.fixture(autouse=True)
def slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP mode credentials in the environment, as an operator would set them."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)


@pytest.fixture
async def world(fake: HookedSlack, tmp_path: Path) -> AsyncIterator[SlackWorld]:
    """The Slack adapter in HTTP mode on a virtual clock, with a support destination."""
    fake.add_usergroup("S0SUPPORT", "support-team", ["UBEN"])
    destinations = [{"name": "support", "platform": "slack", "channel": SUPPORT}]
    # One nudge per question (at the target, no heads-up before), so each can be counted.
    channel = {"platform": "slack", "id": HELP, "name": "help", "nudge_channel": STAFF}
    config = slack_config(destinations=destinations, channels=[channel | {"nudge_at_risk": False}])
    async with slack_world(fake, tmp_path / "f.db", config=config) as world:
        yield world


async def ask(world: SlackWorld, token: str, user: str = "UMARIA") -> str:
    """A question delivered as an event and kept in the channel's history, as Slack does."""
    ts = await world.say(user, asking(token))
    world.fake.add_message(HELP, user, asking(token), ts)
    return ts


def nudges_listing(world: SlackWorld, token: str) -> int:
    """How many accepted staff posts list the question named `token`."""
    return sum(token in str(p.get("text", "")) for p in world.fake.posted(STAFF))


async def past_target(world: SlackWorld, minutes: float = 61) -> None:
    """Let virtual time run past the 1h target: the sweep breaches and nudges."""
    await world.app.advance_to(T0 + timedelta(minutes=minutes))


async def escalate(world: SlackWorld, ts: str) -> str:
    """Staff escalate the question to support with the slash command; the private answer."""
    link = f"<https://acme.slack.com/archives/{HELP}/p{ts.replace('.', '')}>"
    answer = await world.command(f"escalate {link} support customer is blocked", user="UANA")
    return str(answer["text"])


# --- nudges ----------------------------------------------------------------------


async def test_a_rate_limited_nudge_waits_out_retry_after_and_is_sent_once(
    world: SlackWorld,
) -> None:
    """A 429 with Retry-After: 1 on the nudge: the post waits a second, then goes out once."""
    ts = await ask(world, "ratelimit")
    world.fake.fail("chat.postMessage", "429", retry_after=1)
    began = time.monotonic()
    await past_target(world)
    assert time.monotonic() - began >= 1.0
    assert [c.fault for c in world.fake.calls if c.method == "chat.postMessage"] == ["429", ""]
    assert nudges_listing(world, "ratelimit") == 1
    assert (await world.question(ts)).nudges == 1


async def test_a_dropped_connection_during_a_nudge_is_retried_and_sent_once(
    world: SlackWorld,
) -> None:
    """The connection drops on the nudge post: it is retried at once and sent once."""
    ts = await ask(world, "dropped")
    world.fake.fail("chat.postMessage", "drop")
    await past_target(world)
    assert [c.fault for c in world.fake.calls if c.method == "chat.postMessage"] == ["drop", ""]
    assert nudges_listing(world, "dropped") == 1
    assert (await world.question(ts)).nudges == 1


async def test_a_nudge_refused_with_500_is_logged_and_the_bot_keeps_going(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """A 500 on the nudge is logged with method and channel; the next question is still nudged."""
    await ask(world, "refused")
    world.fake.fail("chat.postMessage", "500")
    with caplog.at_level(logging.WARNING):
        await past_target(world)
    assert f"Slack chat.postMessage in {STAFF} failed: internal_error" in caplog.text
    assert f"nudge to slack channel {STAFF} failed (attempt 1)" in caplog.text
    later = await ask(world, "afterwards", user="UCHIDI")
    await past_target(world, minutes=125)
    assert nudges_listing(world, "afterwards") == 1
    assert (await world.question(later)).nudges == 1


async def test_a_nudge_refused_with_500_is_sent_on_a_later_sweep(world: SlackWorld) -> None:
    """A nudge Slack refused with a 500 goes out on a later sweep, once."""
    await ask(world, "retrylater")
    world.fake.fail("chat.postMessage", "500")
    await past_target(world, minutes=60.6)  # the breach nudge is decided on the 60:30 tick
    faults = [c.fault for c in world.fake.calls if c.method == "chat.postMessage"]
    require(faults == ["500"], f"the one nudge post was refused: {faults}")
    await past_target(world, minutes=70)  # many sweeps later
    assert nudges_listing(world, "retrylater") == 1


async def test_a_nudge_that_times_out_is_logged_and_not_posted_twice(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack answers the nudge after the client gave up: logged as failed, never posted twice."""
    await ask(world, "stalled")
    world.adapter.client.timeout = 1  # the same client, with a short fuse for the test
    world.fake.fail("chat.postMessage", "slow", retry_after=2)
    with caplog.at_level(logging.WARNING):
        await past_target(world)
    assert "chat.postMessage in C0STAFF failed: TimeoutError" in caplog.text
    # Slack acted on the request anyway (as it may): one post, and no second attempt.
    assert await until(lambda: nudges_listing(world, "stalled") == 1, 3)
    await past_target(world, minutes=70)
    assert nudges_listing(world, "stalled") == 1
    assert len(world.fake.calls_of("chat.postMessage")) == 1


# --- escalations -----------------------------------------------------------------


@pytest.mark.parametrize(("fault", "retry_after"), [("429", 1), ("drop", 0)])
async def test_an_escalation_post_survives_a_429_or_a_drop(
    world: SlackWorld, fault: str, retry_after: int
) -> None:
    """A 429 (after Retry-After) or a dropped connection on the escalation post: posted once."""
    ts = await ask(world, "escalated")
    world.fake.fail("chat.postMessage", fault, retry_after=retry_after)
    answer = await escalate(world, ts)
    assert answer.startswith(f"Escalated to support: https://acme.slack.com/archives/{SUPPORT}/p")
    [post] = world.fake.posted(SUPPORT)
    assert "escalated" in post["text"]
    faults = [c.fault for c in world.fake.calls if c.method == "chat.postMessage"]
    assert faults[:2] == [fault, ""]


async def test_an_escalation_refused_with_500_is_kept_open_and_staff_are_told(
    world: SlackWorld,
) -> None:
    """A 500 on the escalation post: staff hear it was recorded but not posted; the bot goes on."""
    ts = await ask(world, "notposted")
    world.fake.fail("chat.postMessage", "500")
    answer = await escalate(world, ts)
    assert answer.startswith("Recorded, but I could not post to the support channel")
    assert world.fake.posted(SUPPORT) == []
    escalation = await world.store.read(Repo.escalation_by_original, world.ref(ts))
    assert escalation is not None and escalation.post is None
    assert escalation.state.value == "open"
    again = await escalate(world, ts)  # asking again points at the existing one
    assert again.startswith("Already escalated to support")
    later = await ask(world, "stillworks", user="UCHIDI")
    assert (await world.question(later)).asker_name == "Chidi"


async def test_an_escalation_refused_with_500_is_posted_later(world: SlackWorld) -> None:
    """An escalation Slack refused with a 500 reaches the support channel later, once."""
    ts = await ask(world, "postlater")
    world.fake.fail("chat.postMessage", "500")
    require((await escalate(world, ts)).startswith("Recorded, but"), "the post was refused")
    await past_target(world, minutes=30)  # sweeps and jobs run for half an hour
    assert len(world.fake.posted(SUPPORT)) == 1


# --- the real process ------------------------------------------------------------


async def test_the_process_stays_up_while_slack_fails_every_call(
    fake: HookedSlack, bot: BotProcess
) -> None:
    """`frontline run` keeps acking and storing events while Slack answers 500, 429 and drops."""
    fake.fail("users.info", "500")  # the member's name: the question is stored without it
    fake.fail("chat.getPermalink", "drop")  # retried...
    fake.fail("chat.getPermalink", "500")  # ...then the nudge links to a permalink it builds
    for kind in ("429", "drop", "500"):  # the nudge post: retried, retried, given up
        fake.fail("chat.postMessage", kind)
    fake.add_user("UNEW", "Newton")
    live_config(bot.config, target="1s")
    await bot.start()
    async with aiohttp.ClientSession() as session:
        first = now_ts()
        assert await bot.say(session, "UNEW", asking("faulty"), first) == 200
        assert await until(lambda: not any(fake.faults.values()), 10), fake.faults
        second = now_ts()
        assert await bot.say(session, "UMARIA", asking("healthy"), second) == 200
        assert await until(lambda: fake.times_listed("healthy") == 1, 10), bot.output()
        assert bot.proc is not None and bot.proc.returncode is None
    bot.terminate()
    assert await bot.wait(10) == 0, bot.output()
    assert tracked(bot.db, [first, second]) == {first, second}
    log = bot.output()
    assert "Slack chat.postMessage in C0STAFF failed: internal_error" in log
    assert "Traceback" not in log
