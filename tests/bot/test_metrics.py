"""Figures: percentiles by hand, compute() on hand-built questions, and one run through a bot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.model import MessageRef, Question, QuestionState, ResponderRole, Stage
from bot.metrics import compute, figures, percentile
from tests.conftest import T0, World, both_backends

pytestmark = both_backends

HOUR = 3600


def question(n: int, asked_min: float, **fields: Any) -> Question:
    """A question asked `asked_min` minutes after T0 in #help with a 1h target."""
    asked = T0 + timedelta(minutes=asked_min)
    base: dict[str, Any] = {
        "id": n,
        "ref": MessageRef("local", "T1", "help", f"m{n}"),
        "watched_channel": "help",
        "asker": f"asker{n}",
        "asker_name": "",
        "text": f"question {n}?",
        "score": 0.9,
        "reasons": ("ends with '?'",),
        "asked_at": asked,
        "state": QuestionState.OPEN,
        "stage": Stage.WAITING,
        "breached": False,
        "target_seconds": HOUR,
        "calendar": "24/7",
        "warn_at": asked + timedelta(minutes=45),
        "breach_at": asked + timedelta(hours=1),
        "due_at": asked + timedelta(minutes=45),
    }
    base.update(fields)
    return Question(**base)


def answered(
    n: int, asked_min: float, after: float, by: str, role: ResponderRole, **fields: Any
) -> Question:
    """A question first answered `after` seconds after it was asked (24/7: business = wall)."""
    asked = T0 + timedelta(minutes=asked_min)
    return question(
        n,
        asked_min,
        state=QuestionState.ANSWERED,
        due_at=None,
        first_response_at=asked + timedelta(seconds=after),
        first_responder=by,
        responder_role=role,
        response_kind="reply",
        ttfr_seconds=after,
        ttfr_business_seconds=after,
        breached=after > HOUR,
        **fields,
    )


# --- percentile ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([3, 1, 2], 0.5, 2),  # odd count: the middle value
        ([4, 1, 3, 2], 0.5, 2.5),  # even count: mean of the two middle values
        ([10, 20], 0.5, 15),
        (list(range(1, 11)), 0.9, 9.1),  # position 8.1 between 9 and 10
        ([100, 200, 300, 400, 500], 0.9, 460),  # position 3.6 between 400 and 500
        ([600, 1200, 1800, 5400], 0.9, 4320),  # position 2.7 between 1800 and 5400
        ([7], 0.5, 7),
        ([7], 0.9, 7),
        ([5, 1, 9], 0.0, 1),
        ([5, 1, 9], 1.0, 9),
    ],
)
def test_percentile_by_hand(values: list[float], share: float, expected: float) -> None:
    """Percentiles interpolate linearly between closest ranks, whatever the input order."""
    assert percentile(values, share) == pytest.approx(expected)


def test_percentile_of_nothing_is_none() -> None:
    """With no values there is no percentile (shown as a dash), not zero."""
    assert percentile([], 0.5) is None
    assert percentile((), 0.9) is None


def test_percentile_leaves_input_alone() -> None:
    """Computing a percentile does not reorder the caller's list."""
    values = [3.0, 1.0, 2.0]
    percentile(values, 0.5)
    assert values == [3.0, 1.0, 2.0]


# --- compute on hand-built questions ---------------------------------------------------------

NOW = T0 + timedelta(hours=3)


def period() -> list[Question]:
    return [
        answered(1, 0, 600, "dave", ResponderRole.COMMUNITY),
        answered(2, 5, 1800, "ben", ResponderRole.STAFF),
        answered(3, 10, 5400, "dave", ResponderRole.COMMUNITY),  # late: a breach
        # Pending: asked 30 minutes before NOW, so its target has not passed yet.
        question(6, 150),
        answered(4, 20, 1200, "erin", ResponderRole.COMMUNITY),
        # Never answered, past its target and flagged by the sweep.
        question(5, 15, stage=Stage.BREACHED, breached=True, due_at=None),
    ]


def test_compute_counts() -> None:
    """Questions, answered share and who answered are counted per question."""
    f = compute(period(), T0, NOW, NOW)
    assert f.questions == 6
    assert f.answered == 4
    assert f.answered_share == pytest.approx(4 / 6)
    assert (f.by_staff, f.by_community) == (1, 3)
    assert f.channels == {"help": 6}
    assert f.busiest_channels == (("help", 6),)


def test_compute_response_times() -> None:
    """Median and p90 time to first response are over answered questions only."""
    f = compute(period(), T0, NOW, NOW)
    # Sorted: 600, 1200, 1800, 5400.
    assert f.ttfr_median == pytest.approx(1500)
    assert f.ttfr_p90 == pytest.approx(4320)
    assert f.business_median == pytest.approx(1500)
    assert f.business_p90 == pytest.approx(4320)


def test_compute_attainment_counts_only_decided_questions() -> None:
    """Within-target share leaves out questions whose target has not passed yet."""
    f = compute(period(), T0, NOW, NOW)
    assert f.decided == 5  # four answered, one breached; question 6 is still pending
    assert f.met_target == 3
    assert f.attainment == pytest.approx(3 / 5)
    assert f.breaches == 2


def test_pending_question_becomes_decided_once_its_target_passes() -> None:
    """An unanswered question counts as missed once its target time is reached."""
    waiting = [question(1, 0)]
    assert compute(waiting, T0, NOW, T0 + timedelta(minutes=59)).decided == 0
    at_target = compute(waiting, T0, NOW, T0 + timedelta(hours=1))
    assert (at_target.decided, at_target.met_target, at_target.attainment) == (1, 0, 0.0)


def test_compute_waiting_oldest_first() -> None:
    """Still-waiting questions are counted and listed oldest first."""
    f = compute(period(), T0, NOW, NOW)
    assert f.waiting == 2
    assert [q.id for q in f.oldest_waiting] == [5, 6]


def test_resolved_or_dismissed_questions_are_not_waiting() -> None:
    """A question closed without a response no longer waits."""
    qs = [
        question(1, 0, state=QuestionState.RESOLVED, resolved_at=T0 + timedelta(minutes=5)),
        question(2, 1, state=QuestionState.SNOOZED),
        question(3, 2),
    ]
    f = compute(qs, T0, NOW, T0 + timedelta(minutes=10))
    assert f.waiting == 2
    assert [q.id for q in f.oldest_waiting] == [2, 3]
    assert f.resolved == 1


def test_waiting_list_is_capped_but_count_is_not() -> None:
    """The list shows the ten oldest; the count covers all of them."""
    qs = [question(n, 60 - n) for n in range(1, 13)]  # question 12 is the oldest
    f = compute(qs, T0, NOW, T0)
    assert f.waiting == 12
    assert [q.id for q in f.oldest_waiting] == list(range(12, 2, -1))


def test_top_helpers_are_community_members_only() -> None:
    """Most helpful members ranks community responders; staff are left out."""
    qs = [
        answered(1, 0, 60, "ben", ResponderRole.STAFF),
        answered(2, 1, 60, "ben", ResponderRole.STAFF),
        answered(3, 2, 60, "ben", ResponderRole.STAFF),
        answered(4, 3, 60, "dave", ResponderRole.COMMUNITY),
        answered(5, 4, 60, "erin", ResponderRole.COMMUNITY),
        answered(6, 5, 60, "erin", ResponderRole.COMMUNITY),
    ]
    f = compute(qs, T0, NOW, NOW)
    assert f.top_helpers == (("erin", 2), ("dave", 1))


def test_top_helpers_limit() -> None:
    """Only the `top` most helpful members are listed."""
    qs = [answered(n, n, 60, f"helper{n}", ResponderRole.COMMUNITY) for n in range(1, 9)]
    assert len(compute(qs, T0, NOW, NOW).top_helpers) == 5
    assert len(compute(qs, T0, NOW, NOW, top=3).top_helpers) == 3


def test_attainment_judges_business_time() -> None:
    """An answer after a closed night is within target when the open time used is short."""
    overnight = question(
        1,
        0,
        calendar="office",
        state=QuestionState.ANSWERED,
        first_response_at=T0 + timedelta(hours=16),
        first_responder="ben",
        responder_role=ResponderRole.STAFF,
        ttfr_seconds=16 * HOUR,
        ttfr_business_seconds=1800,
        due_at=None,
    )
    f = compute([overnight], T0, NOW, T0 + timedelta(days=1))
    assert f.ttfr_median == 16 * HOUR
    assert f.business_median == 1800
    assert (f.met_target, f.decided, f.breaches) == (1, 1, 0)


def test_compute_nothing() -> None:
    """An empty period has zero counts and no shares or percentiles."""
    f = compute([], T0, NOW, NOW)
    assert (f.questions, f.answered, f.waiting, f.decided, f.breaches) == (0, 0, 0, 0, 0)
    assert f.answered_share is None
    assert f.attainment is None
    assert f.ttfr_median is None
    assert f.ttfr_p90 is None
    assert f.top_helpers == ()


# --- end to end through the bot --------------------------------------------------------------


async def test_figures_from_a_running_bot(world: World) -> None:
    """Questions posted and answered through the bot give the expected figures from the store."""
    start = world.clock.now()
    q1 = await world.post("help", "carol", "How do I reset my API key?")
    await world.advance(minutes=10)
    await world.reply(q1, "dave", "Settings > API keys > rotate")  # community, 10m
    q2 = await world.post("help", "erin", "Why does the export fail with a TimeoutError?")
    await world.advance(minutes=20)
    await world.reply(q2, "ben", "We are looking into it")  # staff, 20m
    q3 = await world.post("help", "frank", "Is there a way to disable webhooks?")
    q4 = await world.post("help", "gina", "How do I delete my account?")
    await world.advance(minutes=1)
    await world.delete(q4)  # dismissed: never counted
    await world.advance(hours=2)  # q3 passes its 1h target unanswered
    q5 = await world.post("help", "hana", "Where can I find the docs on SSO?")
    await world.advance(minutes=5)
    now = world.clock.now()

    assert (await world.question(q4)).state == QuestionState.DISMISSED
    assert (await world.question(q3)).breached

    f = await figures(world.store, start, now, now)
    assert f.questions == 4
    assert (f.answered, f.by_community, f.by_staff) == (2, 1, 1)
    assert f.answered_share == pytest.approx(0.5)
    assert f.ttfr_median == pytest.approx(15 * 60)
    assert f.ttfr_p90 == pytest.approx(19 * 60)  # 10m + 0.9 * (20m - 10m)
    assert f.business_median == pytest.approx(15 * 60)  # #help is open 24/7
    assert (f.met_target, f.decided, f.breaches) == (2, 3, 1)
    assert f.waiting == 2
    assert [q.ref for q in f.oldest_waiting] == [q3, q5]
    assert f.top_helpers == (("dave", 1),)

    # The window is half-open and by time asked: only q5 was asked in the last 5 minutes.
    recent = await figures(world.store, now - timedelta(minutes=5), now, now)
    assert recent.questions == 1
    assert recent.waiting == 1


async def test_figures_per_channel(world: World) -> None:
    """Figures can be limited to some channels."""
    start = world.clock.now()
    await world.post("help", "carol", "How do I reset my API key?")
    await world.post("support", "erin", "my export is broken")  # every post is a request
    await world.advance(minutes=1)
    now = world.clock.now()
    both = await figures(world.store, start, now, now)
    assert both.channels == {"help": 1, "support": 1}
    only_support = await figures(world.store, start, now, now, channels=["support"])
    assert only_support.questions == 1
    assert only_support.channels == {"support": 1}


async def test_business_time_in_an_office_channel(world: World) -> None:
    """In an office-hours channel, an answer the next morning is measured in open time."""
    # T0 is Tuesday 10:00 in Berlin; the office closes at 17:00.
    await world.app.advance_to(datetime(2026, 11, 24, 15, 50, tzinfo=UTC))  # 16:50 Berlin
    start = world.clock.now()
    q = await world.post("office", "carol", "How do I rotate the signing secret?")
    await world.app.advance_to(datetime(2026, 11, 25, 8, 20, tzinfo=UTC))  # Wed 09:20 Berlin
    await world.reply(q, "ana", "Settings > Security")
    now = world.clock.now()
    f = await figures(world.store, start, now, now)
    assert f.ttfr_median == pytest.approx((16 * 60 + 30) * 60)
    assert f.business_median == pytest.approx(30 * 60)  # 10 minutes Tuesday + 20 Wednesday
    assert (f.met_target, f.decided, f.breaches) == (1, 1, 0)
