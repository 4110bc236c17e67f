"""Crash and restart: `frontline run --http` is SIGKILLed at exact points and started again.

Every kill is triggered by the fake Slack at a chosen call (the nudge reaching Slack, the
nudge's link being asked for, a member's profile being looked up), so each test always
crashes at the same step whatever the machine's speed. The bot runs on the wall clock
with a target of one or two seconds and a 1-second sweep, on a real SQLite file that the
test reads between runs. Slack's side is kept as Slack keeps it: a message exists in the
channel's history before its event is delivered, so a restarted bot can backfill it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.adapters.fake_slack import HELP, STAFF
from tests.reliability.crash_driver import SUMMARY_CHANNEL
from tests.reliability.harness import (
    MEMBERS,
    REPO,
    BotProcess,
    HookedSlack,
    asking,
    live_config,
    now_ts,
    question_row,
    require,
    stored,
    tracked,
    until,
)


async def test_sigkill_mid_stream_keeps_acked_questions_and_nudges_each_once(
    fake: HookedSlack, bot: BotProcess
) -> None:
    """Killed as a nudge lands mid-stream: after restart all is tracked and nudged exactly once."""
    killed = asyncio.Event()

    async def crash_when_the_nudge_lands(args: dict[str, Any]) -> None:
        # After the fake recorded the post, before its answer reaches the bot.
        if args.get("channel") == STAFF and not killed.is_set():
            bot.kill()
            killed.set()

    fake.after["chat.postMessage"] = crash_when_the_nudge_lands
    live_config(bot.config, target="1s")
    await bot.start()
    acked: dict[str, str] = {}
    refused: dict[str, str] = {}
    async with aiohttp.ClientSession() as session:
        for n in range(40):
            if len(refused) == 2:
                break  # two events sent after the kill: the stream was cut mid-way
            ts, token = now_ts(), f"case{n:02d}x"
            user = MEMBERS[n % len(MEMBERS)][0]
            if await bot.say(session, user, asking(token), ts) == 200:
                acked[ts] = token
                # Paced by the store, so the only event in flight at the kill is the newest;
                # the race with an older one is the next test.
                await until(lambda ts=ts: stored(bot.db, ts) or killed.is_set(), 5)
            else:
                refused[ts] = token
            await asyncio.sleep(0.25)
        assert killed.is_set(), bot.output()
    assert await bot.wait(5) == -9
    nudged_before = {token for token in acked.values() if fake.times_listed(token)}
    assert nudged_before, "the kill came with the first nudge"

    fake.after.clear()
    await bot.start()
    everything = {**acked, **refused}
    # Events refused while the bot was down are in the channel's history: backfill finds them.
    assert await until(lambda: all(fake.times_listed(t) for t in everything.values()), 15), (
        bot.output()
    )
    await asyncio.sleep(1.2)  # one sweep more: a duplicate nudge would show now
    bot.terminate()
    assert await bot.wait(10) == 0, bot.output()

    assert tracked(bot.db, acked) == set(acked)
    assert tracked(bot.db, refused) == set(refused)
    assert {t: fake.times_listed(t) for t in everything.values()} == {
        t: 1 for t in everything.values()
    }


async def test_an_acked_event_in_flight_at_the_crash_is_tracked_after_restart(
    fake: HookedSlack, bot: BotProcess
) -> None:
    """An event that got its 200 is tracked after a crash, even if later ones were stored first."""
    looked_up, release = asyncio.Event(), asyncio.Event()

    async def slow_profile(args: dict[str, Any]) -> None:
        if args.get("user") == "UNEW":  # a member the bot has not seen: it asks for the name
            looked_up.set()
            await release.wait()

    fake.add_user("UNEW", "Newton")
    fake.before["users.info"] = slow_profile
    await bot.start()
    async with aiohttp.ClientSession() as session:
        first = now_ts()
        require(await bot.say(session, "UMARIA", asking("first"), first) == 200, "acked")
        require(await until(lambda: stored(bot.db, first), 5), "the first event is stored")
        doomed = now_ts()
        require(await bot.say(session, "UNEW", asking("doomed"), doomed) == 200, "acked")
        require(await until(looked_up.is_set, 5), "the doomed event is being handled")
        later = [now_ts() for _ in range(3)]
        for n, ts in enumerate(later):
            status = await bot.say(session, MEMBERS[n][0], asking(f"later{n}"), ts)
            require(status == 200, "acked")
        stored_later = await until(lambda: tracked(bot.db, later) == set(later), 1.5)
        require(stored_later, "the later events are stored while the doomed one waits")
        require(not stored(bot.db, doomed), "the doomed event is not stored before the kill")
        bot.kill()
        release.set()
    require(await bot.wait(5) == -9, "killed")
    # Traffic while the bot is down; finding it stored tells that the backfill ran.
    chatter = now_ts()
    fake.add_message(HELP, "UCHIDI", "thanks all, that worked", chatter)
    fake.before.clear()
    await bot.start()
    require(await until(lambda: stored(bot.db, chatter), 10), "the restart backfill ran")
    await bot.stop()
    require(tracked(bot.db, [first, *later]) == {first, *later}, "stored events survive")
    assert tracked(bot.db, [doomed]) == {doomed}, "acked with 200, then lost"


async def test_a_nudge_decided_but_not_sent_before_a_crash_is_sent_after_restart(
    fake: HookedSlack, bot: BotProcess
) -> None:
    """Killed after the sweep decided a nudge but before Slack got it: it is sent after restart."""
    killed = asyncio.Event()

    async def crash_before_the_post(args: dict[str, Any]) -> None:
        # A nudge asks for the question's permalink just before it posts.
        if not killed.is_set():
            bot.kill()
            killed.set()

    fake.before["chat.getPermalink"] = crash_before_the_post
    live_config(bot.config, target="1s")
    await bot.start()
    async with aiohttp.ClientSession() as session:
        ts = now_ts()
        require(await bot.say(session, "UMARIA", asking("lostnudge"), ts) == 200, "acked")
        require(await until(killed.is_set, 10), "killed as the nudge began")
    require(await bot.wait(5) == -9, "killed")
    require(tracked(bot.db, [ts]) == {ts}, "the question is tracked")
    require(fake.times_listed("lostnudge") == 0, "the nudge did not reach Slack before the kill")
    fake.before.clear()
    await bot.start()  # the port opens after the catch-up sweep
    await asyncio.sleep(1.2)  # and one sweep more
    await bot.stop()
    assert fake.times_listed("lostnudge") == 1, "the breach nudge was never sent"


async def test_an_answer_given_while_the_bot_was_down_prevents_a_breach(
    fake: HookedSlack, bot: BotProcess
) -> None:
    """A question answered in time while the bot was down is neither breached nor nudged."""
    await bot.start()
    async with aiohttp.ClientSession() as session:
        ts = now_ts()
        require(await bot.say(session, "UMARIA", asking("downtime"), ts) == 200, "acked")
        require(await until(lambda: tracked(bot.db, [ts]) == {ts}, 5), "the question is tracked")
    bot.kill()
    require(await bot.wait(5) == -9, "killed")
    # Chidi answers in the thread one second later, while the bot is down.
    seconds, micros = ts.split(".")
    answer = f"{int(seconds) + 1}.{micros}"
    fake.add_message(HELP, "UCHIDI", "Settings > Keys > Rotate", answer, thread_ts=ts)
    await asyncio.sleep(max(0.0, float(ts) + 2.6 - time.time()))  # the target passes meanwhile
    await bot.start()
    answered = await until(
        lambda: (row := question_row(bot.db, ts)) is not None and bool(row["first_response_at"]),
        10,
    )
    require(answered, "the restart backfill found the answer")
    await asyncio.sleep(1.2)  # another sweep
    await bot.stop()
    row = question_row(bot.db, ts)
    require(row is not None and row["ttfr_seconds"] == pytest.approx(1.0), "answered after 1 s")
    assert row is not None
    assert fake.times_listed("downtime") == 0, "staff were nudged about an answered question"
    assert row["breached"] == 0, "answered within the target, yet counted as a breach"


# --- the daily summary, on a virtual clock (the live job polls only once a minute) -------


# The restarted bot polls the summary job once a minute, from 09:02 to 09:30.
RESTART = ("--at", "2026-11-24T09:02:00+00:00", "--until", "2026-11-24T09:30:00+00:00")


async def _driver(phase: str, tmp_path: Path, *extra: str) -> int:
    """Run the crash driver as a real process on the test's database; its exit status."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.reliability.crash_driver",
        phase,
        "--db",
        str(tmp_path / "summary.db"),
        "--log",
        str(tmp_path / "sent.jsonl"),
        *extra,
        cwd=REPO,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    if proc.returncode not in (0, -9):
        raise RuntimeError(f"the crash driver failed:\n{err.decode()}")
    assert proc.returncode is not None
    return proc.returncode


def summaries_sent(tmp_path: Path) -> list[dict[str, Any]]:
    """The daily summaries the platform received, from the driver's send log."""
    log = tmp_path / "sent.jsonl"
    if not log.exists():
        return []
    sent = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return [s for s in sent if s["where"] == SUMMARY_CHANNEL and s["kind"] == "post"]


async def test_a_summary_lost_in_a_crash_before_posting_is_sent_once_after_restart(
    tmp_path: Path,
) -> None:
    """Killed after claiming the daily summary but before posting it: sent once after restart."""
    assert await _driver("first", tmp_path, "--crash", "before-post") == -9
    assert summaries_sent(tmp_path) == []
    assert await _driver("restart", tmp_path, *RESTART) == 0
    [summary] = summaries_sent(tmp_path)
    assert summary["text"].startswith("Daily summary: Mon 23 Nov")
    # The summary waited in the outbox, leased to the dead run: the restart (same
    # instance id) takes it back at once and posts it on its first poll.
    assert summary["at"] == "2026-11-24T09:02:00+00:00"


async def test_a_summary_posted_just_before_a_crash_is_not_posted_again(tmp_path: Path) -> None:
    """Killed right after the daily summary reached the channel: it is never posted again."""
    require(await _driver("first", tmp_path, "--crash", "after-post") == -9, "killed")
    require(len(summaries_sent(tmp_path)) == 1, "the summary reached the channel before the kill")
    require(await _driver("restart", tmp_path, *RESTART) == 0, "the restart runs to the end")
    assert len(summaries_sent(tmp_path)) == 1, "the same daily summary was posted twice"
