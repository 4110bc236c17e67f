"""Nudges on the virtual clock: heads-up, breach, reminders, second tier, quiet hours, on-call."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import VirtualClock
from config.settings import load_settings
from tests.conftest import T0, World, community_config, open_world

QUESTION = "How do I rotate my API key?"


def posts(world: World, where: str = "staff") -> list[str]:
    return [s.text for s in world.platform.sent("post") if s.where == where]


async def test_heads_up_then_breach_nudge(world: World) -> None:
    """At 75% of the target staff get a heads-up; at 100% the breach nudge."""
    await world.post("help", "maria", QUESTION)
    await world.advance(minutes=46)
    assert posts(world) == [posts(world)[0]]
    assert posts(world)[0].startswith("1 question is close to the target")
    await world.advance(minutes=15)
    assert len(posts(world)) == 2
    assert posts(world)[1].startswith("1 question has passed the response target")
    assert "Maria" in posts(world)[1]


async def test_breaches_in_one_sweep_share_one_nudge(world: World) -> None:
    """Questions breaching together are listed in one post, oldest first."""
    await world.post("help", "maria", QUESTION)
    await world.post("help", "sven", "Why does the CLI crash on start?")
    await world.advance(minutes=61)
    breach = [p for p in posts(world) if "passed the response target" in p]
    assert len(breach) == 1
    assert breach[0].startswith("2 questions have passed the response target")
    assert breach[0].index("Maria") < breach[0].index("Sven")


async def test_answered_question_is_never_nudged_again(world: World) -> None:
    """Once answered, a question drops out of every later nudge."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=46)
    await world.reply(q, "sven")
    await world.advance(hours=3)
    assert len(posts(world)) == 1  # only the heads-up before the answer
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
    assert world.platform.sent("post") == []


async def test_platform_failure_is_logged_and_the_nudge_is_sent_on_a_later_try(
    world: World, caplog
) -> None:
    """A refused nudge is logged with its channel, sent once 30 s later; later nudges follow."""
    await world.post("help", "maria", QUESTION)
    world.platform.fail_next = 1
    await world.advance(minutes=45)
    assert "nudge to local channel staff failed" in caplog.text
    assert posts(world) == []
    await world.advance(minutes=16)
    heads_up, breach = world.platform.sent("post")
    assert "close to the target" in heads_up.text
    assert heads_up.at == T0 + timedelta(minutes=45, seconds=30)
    assert "passed the response target" in breach.text
    assert len(posts(world)) == 2


async def test_a_refused_nudge_is_dropped_once_the_question_is_answered(world: World) -> None:
    """A nudge waiting for its retry is not sent about a question answered meanwhile."""
    question = await world.post("help", "maria", QUESTION)
    world.platform.fail_next = 1
    await world.advance(minutes=45)
    await world.post("help", "ben", "Settings > Keys > Rotate", root=question)
    await world.advance(hours=2)
    assert posts(world) == []


# --- reminders, second tier, restarts ----------------------------------------------------


def escalating(**channel: Any) -> dict[str, Any]:
    config = community_config()
    config["channels"][0].update(
        {"repeat_every": "30m", "max_repeats": 2, "second_tier": "leads", **channel}
    )
    return config


def configured_world(
    db: Path, config: dict[str, Any], start: datetime = T0
) -> AbstractAsyncContextManager[World]:
    """A bot with `config` on the SQLite file `db`, its clock at `start`."""
    return open_world(load_settings(data=config), str(db), clock=VirtualClock(start))


async def test_reminders_then_second_tier_then_silence(db_path: Path) -> None:
    """Breach, two reminders 30 min apart, then one nudge to the leads, then nothing."""
    async with configured_world(db_path, escalating()) as world:
        q = await world.post("help", "maria", QUESTION)
        await world.advance(hours=6)
        staff, leads = posts(world), posts(world, "leads")
        question = await world.question(q)
    assert [p.split("\n")[0] for p in staff] == [
        "1 question is close to the target",
        "1 question has passed the response target without an answer",
        "1 question has passed the response target without an answer",
        "1 question has passed the response target without an answer",
    ]
    assert "reminder 1" in staff[2] and "reminder 2" in staff[3]
    assert leads == [leads[0]] and leads[0].startswith("1 question is still unanswered")
    assert question.nudge_round == 4 and question.nudges == 5


async def test_no_duplicate_nudge_across_a_restart(db_path: Path) -> None:
    """Stopping and starting the bot mid-way sends each reminder exactly once."""
    async with configured_world(db_path, escalating()) as world:
        await world.post("help", "maria", QUESTION)
        await world.advance(minutes=70)  # heads-up, breach (61) — reminder 1 due at 91
        before = posts(world)
    async with configured_world(db_path, escalating(), start=world.clock.now()) as again:
        await again.advance(minutes=1)
        assert posts(again) == []  # nothing new is due yet: nothing is repeated
        await again.advance(minutes=30)
        after = posts(again)
    assert len(before) == 2
    assert len(after) == 1 and "reminder 1" in after[0]


async def test_snooze_stops_nudges_at_once(db_path: Path) -> None:
    """Snoozed after the breach, no reminder goes out until the snooze ends."""
    async with configured_world(db_path, escalating()) as world:
        q = await world.post("help", "maria", QUESTION)
        await world.advance(minutes=62)
        reply = await world.command(f"snooze {world.link(q)} 2h")
        assert "Snoozed" in reply.text
        await world.advance(minutes=119)
        assert len(posts(world)) == 2
        await world.advance(minutes=2)
        assert len(posts(world)) == 3 and "reminder 1" in posts(world)[2]


# --- quiet hours, on-call, away notice ------------------------------------------------------


def office_reminders(**channel: Any) -> dict[str, Any]:
    config = community_config()
    config["channels"][2].update({"repeat_every": "30m", "max_repeats": 5, **channel})
    return config


async def test_quiet_hours_hold_reminders_until_the_team_is_in(db_path: Path) -> None:
    """Reminders due after 17:00 Berlin wait for 09:00 the next morning; none at night."""
    start = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # 15:00 Berlin
    async with configured_world(db_path, office_reminders(), start) as world:
        await world.post("office", "maria", QUESTION)
        await world.app.advance_to(datetime(2026, 11, 25, 7, 59, tzinfo=UTC))  # 08:59 Berlin
        evening = [(s.at, s.text.split("\n")[0]) for s in world.platform.sent("post")]
        await world.app.advance_to(datetime(2026, 11, 25, 8, 0, 30, tzinfo=UTC))  # 09:00
        morning = world.platform.sent("post")[len(evening) :]
    # 15:45 heads-up, 16:00 breach, 16:30 reminder 1; 17:00 is closing time: held.
    assert [at.astimezone(UTC).hour * 60 + at.minute for at, _ in evening] == [
        14 * 60 + 45,
        15 * 60,
        15 * 60 + 30,
    ]
    assert len(morning) == 1 and "reminder 2" in morning[0].text


async def test_channel_may_allow_nudges_outside_hours(db_path: Path) -> None:
    """With nudge_outside_hours, reminders keep coming in the evening."""
    start = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    async with configured_world(
        db_path, office_reminders(nudge_outside_hours=True), start
    ) as world:
        await world.post("office", "maria", QUESTION)
        await world.app.advance_to(datetime(2026, 11, 24, 20, 0, tzinfo=UTC))  # 21:00 Berlin
        late = [s for s in world.platform.sent("post") if s.at.hour >= 16]
    assert len(late) >= 2  # reminders at 17:00 and later Berlin time


@pytest.mark.parametrize(
    ("moment", "person"),
    [
        (datetime(2026, 11, 24, 9, 0, tzinfo=UTC), "ana"),
        (datetime(2026, 11, 30, 8, 59, tzinfo=UTC), "ana"),
        (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), "ben"),
        (datetime(2026, 12, 7, 9, 0, tzinfo=UTC), "ana"),
    ],
)
def test_on_call_rotation_boundaries(moment: datetime, person: str) -> None:
    """The weekly rotation hands over exactly at its start time each week."""
    config = community_config(
        on_call=[
            {
                "platform": "local",
                "people": ["ana", "ben"],
                "start": "2026-11-23T09:00:00+00:00",
                "every": "7d",
            }
        ]
    )
    assert load_settings(data=config).on_call[0].person_at(moment) == person


async def test_on_call_person_gets_the_nudge_by_dm(db_path: Path) -> None:
    """With dm_on_call, this week's on-call person is messaged directly too."""
    config = community_config(
        on_call=[
            {"platform": "local", "people": ["ben", "ana"], "start": "2026-11-23T09:00:00+00:00"}
        ]
    )
    config["channels"][0]["dm_on_call"] = True
    async with configured_world(db_path, config) as world:
        await world.post("help", "maria", QUESTION)
        await world.advance(minutes=61)
        dms = world.platform.sent("dm")
    assert {d.where for d in dms} == {"ben"}
    assert any("passed the response target" in d.text for d in dms)


async def test_away_notice_for_questions_outside_hours(db_path: Path) -> None:
    """With ack_outside_hours, an evening question gets a reply saying when the team is back."""
    config = community_config()
    config["channels"][2]["ack_outside_hours"] = True
    async with configured_world(
        db_path, config, datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
    ) as world:
        q = await world.post("office", "maria", QUESTION)
        notices = world.platform.sent("thread")
        await world.app.advance_to(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
        await world.post("office", "sven", "Why does the CLI crash on start?")  # in hours
        later = world.platform.sent("thread")
    assert len(notices) == 1 and notices[0].where == f"office/{q.message}"
    assert "back on Wednesday at 09:00 (Europe/Berlin)" in notices[0].text
    assert len(later) == 1


async def test_nudges_mention_the_on_call_group(db_path: Path) -> None:
    """With mention_on_call, the staff-channel nudge pings the on-call group and person."""
    config = community_config(
        on_call=[
            {"platform": "local", "group": "S0ONCALL"},
            {"platform": "local", "people": ["ben", "ana"], "start": "2026-11-23T09:00:00+00:00"},
        ]
    )
    config["channels"][0]["mention_on_call"] = True
    async with configured_world(db_path, config) as world:
        await world.post("help", "maria", QUESTION)
        await world.advance(minutes=61)
        nudges = world.platform.sent("post")
    assert nudges and all(n.text.startswith("@S0ONCALL @ben ") for n in nudges)
    assert nudges[-1].post is not None
    assert nudges[-1].post.notify == (("group", "S0ONCALL"), ("user", "ben"))


def test_on_call_needs_people_or_a_group() -> None:
    """A rotation with neither people nor a group is a configuration problem."""
    from config.settings import ConfigError

    with pytest.raises(ConfigError, match="on_call"):
        load_settings(data=community_config(on_call=[{"platform": "local"}]))


async def test_refused_breach_nudge_is_sent_again_later(world: World) -> None:
    """A breach nudge the platform refused is sent again by the outbox, once."""
    await world.post("help", "maria", QUESTION)
    await world.advance(minutes=46)  # the heads-up goes out
    world.platform.fail_next = 1
    await world.advance(minutes=14)  # the breach nudge is refused at 60 min
    assert len(posts(world)) == 1
    await world.advance(minutes=1)  # and sent on the try 30 s later
    late = [p for p in posts(world) if "passed the response target" in p]
    assert len(late) == 1
    await world.advance(hours=2)
    assert len([p for p in posts(world) if "passed the response target" in p]) == 1
