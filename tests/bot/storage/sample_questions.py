"""A seeded mix of stored questions in every state, to compare ways of counting them.

The store's figures are compared with what `bot.metrics.compute` makes of the same
questions read whole. The mix is meant to hit every rule and every tie: few helpers and
three channels (so counts tie and the first seen must win), questions asked at the very
same instant (also across channels), answers without a business time, breaches, snoozes,
dismissals, and questions their asker resolved before or after the target.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from bot.core.model import MessageRef, Question, QuestionState, ResponderRole
from bot.storage.repos import NewQuestion, Repo

CHANNELS = ("help", "support", "general")
HELPERS = ("dave", "erin", "femi", "gus", "hana", "ines", "")
TEXTS = (
    "How do I rotate the API key of my project?",
    "Why does the CLI fail with a timeout on start?",
    "Is there a way to export the project as CSV?",
    "The webhook retries fail again, any idea?",
    "Where can I find the API key docs?",
    "CLI login fails with a timeout after the upgrade",
)
TARGET = 3600


def add_questions(repo: Repo, start: datetime, n: int, seed: int) -> None:
    """`n` questions over the four days from `start`, in every state and shape."""
    rng = random.Random(seed)
    asked = start
    for i in range(n):
        # One in eight shares the previous question's instant (often in another channel).
        if i == 0 or rng.random() >= 0.125:
            asked = start + timedelta(seconds=rng.randrange(4 * 86400))
        channel = rng.choice(CHANNELS)
        question = repo.insert_question(
            NewQuestion(
                ref=MessageRef("local", "T1", channel, f"s{seed}-{i}"),
                watched_channel=channel,
                asker=f"member{rng.randrange(30)}",
                asker_name="",
                text=rng.choice(TEXTS),
                score=0.9,
                reasons=("question mark",),
                asked_at=asked,
                target_seconds=TARGET,
                calendar="24/7",
                warn_at=asked + timedelta(seconds=TARGET * 0.75),
                breach_at=asked + timedelta(seconds=TARGET),
            )
        )
        assert question is not None
        _shape(repo, question, rng)


def _shape(repo: Repo, question: Question, rng: random.Random) -> None:
    """Move a new question to one of the states the tracker leaves questions in."""
    asked = question.asked_at
    kind = rng.choice(
        ("open", "breached", "snoozed", "dismissed", "escalated", "answered", "answered",
         "answered", "resolved_early", "resolved_late", "answered_resolved")
    )  # fmt: skip
    if kind == "open":
        return
    if kind == "breached":
        repo.change(question, breached=True, due_at=None)
    elif kind == "snoozed":
        repo.change(question, state=QuestionState.SNOOZED, breached=rng.random() < 0.5)
    elif kind == "dismissed":
        repo.change(question, state=QuestionState.DISMISSED, due_at=None)
    elif kind == "escalated":
        repo.change(question, state=QuestionState.ESCALATED, breached=rng.random() < 0.5)
    elif kind in ("resolved_early", "resolved_late"):
        minutes = rng.randrange(1, 59) if kind == "resolved_early" else rng.randrange(61, 300)
        repo.change(
            question,
            state=QuestionState.RESOLVED,
            resolved_at=asked + timedelta(minutes=minutes),
            breached=kind == "resolved_late" and rng.random() < 0.7,
            due_at=None,
        )
    else:
        wait = rng.choice((rng.uniform(30, 3000), rng.uniform(3000, 9000), 600.0, 1200.0))
        business = rng.choice((wait, wait / 2, None))
        role = rng.choice((ResponderRole.STAFF, ResponderRole.COMMUNITY, ResponderRole.COMMUNITY))
        answered = repo.change(
            question,
            state=QuestionState.ANSWERED,
            first_response_at=asked + timedelta(seconds=wait),
            first_responder=rng.choice(HELPERS) or None,
            responder_role=role,
            response_kind="reply",
            ttfr_seconds=wait if rng.random() < 0.95 else None,
            ttfr_business_seconds=business,
            breached=wait > TARGET,
            due_at=None,
        )
        if kind == "answered_resolved":
            repo.change(
                answered,
                state=QuestionState.RESOLVED,
                resolved_at=asked + timedelta(seconds=wait + 60),
            )


def ask(
    repo: Repo,
    n: int,
    at: datetime,
    channel: str = "help",
    wait_minutes: float | None = None,
    state: QuestionState | None = None,
) -> None:
    """A question asked at `at`, answered after `wait_minutes` if given."""
    question = repo.insert_question(
        NewQuestion(
            ref=MessageRef("local", "T1", channel, f"m{n}"),
            watched_channel=channel,
            asker="maria",
            asker_name="",
            text="How do I rotate my API key?",
            score=1.0,
            reasons=(),
            asked_at=at,
            target_seconds=3600,
            calendar="24/7",
            warn_at=at + timedelta(minutes=45),
            breach_at=at + timedelta(hours=1),
        )
    )
    assert question is not None
    if wait_minutes is not None:
        repo.change(
            question,
            state=QuestionState.ANSWERED,
            first_response_at=at + timedelta(minutes=wait_minutes),
            first_responder="dave",
            responder_role=ResponderRole.COMMUNITY,
            ttfr_seconds=wait_minutes * 60,
            ttfr_business_seconds=wait_minutes * 60,
            due_at=None,
        )
    if state is not None:
        repo.change(question, state=state)
