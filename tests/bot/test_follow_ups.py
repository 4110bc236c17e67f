"""A member who asks again, or asks on, while their question waits: one question, not two.

`tracking.follow_up_window` (15 minutes by default): a question-like post by someone whose
earlier question in the same channel still waits for its first response carries that
question on. It is never counted, listed or nudged on its own; a response to it (a reply
in its thread, a mention, a name) is the first response of the earlier question.
"""

from __future__ import annotations

import json
from pathlib import Path

from bot.core.model import MessageRef, QuestionState
from bot.replay import ReplayOptions, replay, write_results
from config.settings import load_settings
from tests.bot.test_replay import KEYS, msg, ts, write_export
from tests.conftest import SPACE, T0, World, community_config, open_world

QUESTION = "How do I rotate my API key?"
AGAIN = "Anyone? How do I rotate the API key, the settings page has no button for it?"


async def asks_twice(world: World, *, minutes: float) -> tuple[MessageRef, MessageRef]:
    """Maria asks in #help, then asks again `minutes` later; both posts' refs."""
    first = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=minutes)
    return first, await world.post("help", "maria", AGAIN)


async def test_asking_again_is_the_same_question_and_its_answer_answers_it(
    world: World,
) -> None:
    """Maria asks, asks again 10 minutes later, Ben answers the second post: one answered."""
    first, again = await asks_twice(world, minutes=10)
    await world.advance(minutes=2)
    await world.reply(again, "ben", "Settings > Keys > Rotate, top right")
    question = await world.question(first)
    assert question.state == QuestionState.ANSWERED
    assert (question.first_responder, question.ttfr_seconds) == ("ben", 12 * 60)
    assert (await world.question(again)).state == QuestionState.DISMISSED
    # Counted once: the period's questions hold only the first.
    asked = await world.store.asked_between(T0, world.clock.now())
    assert [q.ref for q in asked] == [first]
    kinds = [kind for _, kind, _, _ in await world.store.history(question.id)]
    assert kinds == ["opened", "asked again", "answered"]


async def test_a_mention_after_the_follow_up_answers_the_first_question(world: World) -> None:
    """The mention window runs from the follow-up too: 20 minutes after the first post."""
    first, _ = await asks_twice(world, minutes=12)
    await world.advance(minutes=8)
    await world.post("help", "sven", "@maria it moved to Admin > Keys", mentions=("maria",))
    question = await world.question(first)
    assert (question.first_responder, question.ttfr_seconds) == ("sven", 20 * 60)
    assert question.response_kind == "mention"


async def test_a_waiting_member_is_nudged_about_once(world: World) -> None:
    """Two posts of one waiting member: the staff hear about the first one only."""
    first, again = await asks_twice(world, minutes=5)
    await world.advance(minutes=70)
    nudges = world.nudges()
    assert nudges[0].startswith("1 question is close to the target")
    assert nudges[1].startswith("1 question has passed the response target")
    assert all(QUESTION in text and "Anyone?" not in text for text in nudges)
    assert (await world.question(first)).breached
    assert not (await world.question(again)).breached


async def test_separate_questions_stay_separate(world: World) -> None:
    """Later than the window, after an answer, by someone else, or in a forum: two questions."""
    first, late = await asks_twice(world, minutes=16)
    assert (await world.question(late)).state == QuestionState.OPEN

    other = await world.post("help", "tomasz", "Where do I find the invoices?")
    assert (await world.question(other)).state == QuestionState.OPEN

    await world.reply(first, "ben", "Settings > Keys")
    await world.reply(late, "ben", "same place")
    after = await world.post("help", "maria", "And how do I revoke the old key?")
    assert (await world.question(after)).state == QuestionState.OPEN

    for n in (1, 2):
        post = f"post-{n}"
        await world.post(
            post,
            "maria",
            "SSO loops after the upgrade",
            message_id=post,
            watched="forum",
            starter=True,
        )
        forum = MessageRef("local", SPACE, post, post)
        assert (await world.question(forum)).state == QuestionState.OPEN


async def test_the_window_can_be_switched_off(database) -> None:  # type: ignore[no-untyped-def]
    """With tracking.follow_up_window 0, every question-like post is a question of its own."""
    settings = load_settings(data=community_config(tracking={"follow_up_window": "0s"}))
    async with open_world(settings, database) as world:
        await world.post("help", "maria", QUESTION)
        again = await world.post("help", "maria", AGAIN)
        assert (await world.question(again)).state == QuestionState.OPEN


async def test_replay_lists_a_follow_up_with_the_answer_it_got(tmp_path: Path) -> None:
    """results.jsonl (--all-messages): the follow-up's line says so and carries the answer."""
    export = write_export(
        tmp_path / "export",
        {
            "help/2024-03-05.json": [
                msg("U1", 0, QUESTION),
                msg("U1", 5, AGAIN),
                msg("U2", 6, "Settings > Keys > Rotate", thread=5),
            ]
        },
    )
    result = await replay(ReplayOptions(export, all_messages=True, progress=False))
    out = tmp_path / "results.jsonl"
    with out.open("w") as fh:
        write_results(result, fh)
    lines = {line["ts"]: line for line in map(json.loads, out.read_text().splitlines())}
    first, again = lines[ts(0)], lines[ts(5)]
    assert (first["state"], first["first_responder"], first["ttfr_seconds"]) == (
        "answered",
        "U2",
        360.0,
    )
    assert (again["state"], again["first_responder"], again["ttfr_seconds"]) == (
        "follow_up",
        "U2",
        60.0,
    )
    assert list(again) == KEYS
    assert len(result.questions) == 1


async def test_reactions_on_the_follow_up_act_on_the_question(world: World) -> None:
    """Staff :eyes: on the follow-up is the first response; the asker's ✅ there resolves."""
    first, again = await asks_twice(world, minutes=3)
    await world.advance(minutes=1)
    await world.react(again, "ben", "eyes")
    question = await world.question(first)
    assert (question.first_responder, question.ttfr_seconds) == ("ben", 4 * 60)
    await world.react(again, "maria", "white_check_mark")
    assert (await world.question(first)).state == QuestionState.RESOLVED
