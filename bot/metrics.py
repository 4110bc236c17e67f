"""Summary figures: how many questions, how fast they were answered, what still waits.

Percentiles use linear interpolation between closest ranks (numpy's default), so a
median of two values is their mean. Target attainment counts only questions whose
outcome is known: answered, or past their target without a response. A question its
asker resolved before the target without anyone responding is left out of it.

Two ways to the same figures: `compute` over questions already in memory (a replay's),
and `figures` / `period_figures` from the store, where the database counts and only the
response times come back (`bot.storage.aggregates`), so a week of a busy community costs
a few MB rather than a copy of every question. Ties among helpers and channels go to the
one seen first in asked order, both ways.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.model import Escalation, EscalationState, Question, ResponderRole
from bot.storage import aggregates
from bot.storage.repos import Repo, Store


def percentile(values: Sequence[float], share: float) -> float | None:
    """The `share` (0..1) percentile of `values`, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class Figures:
    """The numbers of one period."""

    start: datetime
    end: datetime
    questions: int
    answered: int
    by_staff: int
    by_community: int
    resolved: int
    ttfr_median: float | None
    ttfr_p90: float | None
    business_median: float | None
    business_p90: float | None
    met_target: int
    decided: int
    breaches: int
    waiting: int
    oldest_waiting: tuple[Question, ...] = ()
    top_helpers: tuple[tuple[str, int], ...] = ()
    busiest_channels: tuple[tuple[str, int], ...] = ()
    channels: dict[str, int] = field(default_factory=dict)

    @property
    def answered_share(self) -> float | None:
        """Answered questions over all questions."""
        return self.answered / self.questions if self.questions else None

    @property
    def attainment(self) -> float | None:
        """Questions answered within target over those whose outcome is known."""
        return self.met_target / self.decided if self.decided else None


def met_target(question: Question, now: datetime) -> bool | None:
    """True/False once the outcome against the target is known, None while pending."""
    if question.ttfr_business_seconds is not None:
        return question.ttfr_business_seconds <= question.target_seconds and not question.breached
    if question.breached:
        return False
    if question.resolved_at is not None and question.resolved_at <= question.breach_at:
        return None  # the asker sorted it out in time: nobody owed a response any more
    return False if now >= question.breach_at else None


def compute(
    questions: Sequence[Question],
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    waiting_limit: int = 10,
    top: int = 5,
) -> Figures:
    """Figures over `questions` (those asked in [start, end))."""
    answered = [q for q in questions if q.first_response_at is not None]
    wall = [q.ttfr_seconds for q in answered if q.ttfr_seconds is not None]
    business = [q.ttfr_business_seconds for q in answered if q.ttfr_business_seconds is not None]
    outcomes = [met_target(q, now) for q in questions]
    waiting = sorted((q for q in questions if q.is_waiting), key=lambda q: q.asked_at)
    helpers = Counter(
        q.first_responder
        for q in answered
        if q.responder_role == ResponderRole.COMMUNITY and q.first_responder
    )
    channels = Counter(q.watched_channel for q in questions)
    return Figures(
        start=start,
        end=end,
        questions=len(questions),
        answered=len(answered),
        by_staff=sum(q.responder_role == ResponderRole.STAFF for q in answered),
        by_community=sum(q.responder_role == ResponderRole.COMMUNITY for q in answered),
        resolved=sum(q.resolved_at is not None for q in questions),
        ttfr_median=percentile(wall, 0.5),
        ttfr_p90=percentile(wall, 0.9),
        business_median=percentile(business, 0.5),
        business_p90=percentile(business, 0.9),
        met_target=sum(o is True for o in outcomes),
        decided=sum(o is not None for o in outcomes),
        breaches=sum(q.breached for q in questions),
        waiting=len(waiting),
        oldest_waiting=tuple(waiting[:waiting_limit]),
        top_helpers=tuple(helpers.most_common(top)),
        busiest_channels=tuple(channels.most_common(top)),
        channels=dict(channels),
    )


@dataclass(frozen=True, slots=True)
class EscalationFigures:
    """Escalations opened in a period and where they stand now."""

    opened: int
    acknowledged: int
    resolved: int
    still_open: int
    ack_median: float | None
    resolve_median: float | None


def escalation_figures(escalations: Sequence[Escalation]) -> EscalationFigures:
    """Counts and median times to acknowledge and to resolve."""
    acked = [
        (e.acknowledged_at - e.opened_at).total_seconds()
        for e in escalations
        if e.acknowledged_at is not None
    ]
    resolved = [
        (e.resolved_at - e.opened_at).total_seconds()
        for e in escalations
        if e.resolved_at is not None
    ]
    return EscalationFigures(
        opened=len(escalations),
        acknowledged=len(acked),
        resolved=len(resolved),
        still_open=sum(e.state != EscalationState.RESOLVED for e in escalations),
        ack_median=percentile(acked, 0.5),
        resolve_median=percentile(resolved, 0.5),
    )


def period_figures(
    repo: Repo,
    start: datetime,
    end: datetime,
    now: datetime,
    channels: Sequence[str] | None = None,
    *,
    waiting_limit: int = 10,
    top: int = 5,
) -> Figures:
    """What `compute` gives for the questions asked in [start, end), without loading them."""
    period = aggregates.Period.of(start, end, channels)
    counts = aggregates.channel_counts(repo, period, now)
    wall, business = array("d"), array("d")
    helpers: Counter[str] = Counter()
    for ttfr, ttfr_business, responder, role in aggregates.answers(repo, period):
        if ttfr is not None:
            wall.append(ttfr)
        if ttfr_business is not None:
            business.append(ttfr_business)
        if role == ResponderRole.COMMUNITY and responder:
            helpers[responder] += 1
    # Already in first-seen order: most_common keeps that order among equal counts.
    channel_sizes = Counter({c.channel: c.questions for c in counts})
    return Figures(
        start=start,
        end=end,
        questions=sum(c.questions for c in counts),
        answered=sum(c.answered for c in counts),
        by_staff=sum(c.by_staff for c in counts),
        by_community=sum(c.by_community for c in counts),
        resolved=sum(c.resolved for c in counts),
        ttfr_median=percentile(wall, 0.5),
        ttfr_p90=percentile(wall, 0.9),
        business_median=percentile(business, 0.5),
        business_p90=percentile(business, 0.9),
        met_target=sum(c.met_target for c in counts),
        decided=sum(c.decided for c in counts),
        breaches=sum(c.breaches for c in counts),
        waiting=sum(c.waiting for c in counts),
        oldest_waiting=tuple(aggregates.oldest_waiting(repo, period, waiting_limit)),
        top_helpers=tuple(helpers.most_common(top)),
        busiest_channels=tuple(channel_sizes.most_common(top)),
        channels=dict(channel_sizes),
    )


async def figures(
    store: Store,
    start: datetime,
    end: datetime,
    now: datetime,
    channels: Sequence[str] | None = None,
) -> Figures:
    """Figures of the questions asked in [start, end), counted by the store."""
    return await store.read(period_figures, start, end, now, channels)
