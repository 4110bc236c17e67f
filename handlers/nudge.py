"""Nudges: the right staff hear about stale questions, in one post per destination.

The sweep decides *when* (at risk, past target, reminders, second tier, never at night
unless the channel wants it); this handler decides *where* and *how*: everything one
sweep found for a destination is batched into one message, oldest first, with links and
ages, instead of a ping per question. It also tells a member who asks outside the
channel's hours when the team will be back, where a channel asks for that.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from bot.context import Context
from bot.core.events import NudgeDue, QuestionOpened, SweepFinished
from bot.core.model import ChannelRef, Post, PostItem, Question, Reply, UserRef
from bot.core.platform import PlatformError
from bot.core.router import Router
from bot.storage.repos import Repo
from config.settings import format_duration
from handlers._format import question_item

log = logging.getLogger(__name__)

MAX_ITEMS = 20
# How long a nudge the platform refused waits before the sweep decides it again.
RETRY = timedelta(minutes=5)
Destination = ChannelRef | UserRef


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def render(nudges: list[NudgeDue], now: datetime, ctx: Context) -> Post:
    """One batched nudge: past target first, then at risk; oldest first in each."""
    late = [n for n in nudges if n.kind in ("breach", "reminder", "second_tier")]
    risky = [n for n in nudges if n.kind == "at_risk"]
    if any(n.kind == "second_tier" for n in late):
        title = (
            f"{_plural(len(late), 'question is', 'questions are')} still unanswered after reminders"
        )
    elif late:
        title = (
            f"{_plural(len(late), 'question has', 'questions have')} passed the response "
            "target without an answer"
        )
    else:
        title = f"{_plural(len(risky), 'question is', 'questions are')} close to the target"
    lines, items = [title], []
    for group, header in ((late, ""), (risky, "At risk of missing the target:" if late else "")):
        if header and group:
            lines.append(header)
        for nudge in sorted(group, key=lambda n: n.question.asked_at):
            item = question_item(nudge.question, now, ctx.settings)
            if nudge.kind == "reminder":
                item = PostItem(f"{item.text} · reminder {nudge.round - 1}", item.link)
            items.append(item)
            if len(items) <= MAX_ITEMS:
                lines.append(f"• {item.text}")
    more = max(0, len(items) - MAX_ITEMS)
    if more:
        lines.append(f"…and {more} more")
    return Post("\n".join(lines), title, tuple(items[:MAX_ITEMS]), more=more)


def destinations(nudge: NudgeDue, ctx: Context) -> list[Destination]:
    """Where one nudge goes: the staff channel (or the second tier), and on-call by DM."""
    question = nudge.question
    config = ctx.settings.channel(question.ref.platform, question.watched_channel)
    if config is None:
        return []
    platform, space = question.ref.platform, question.ref.space
    channel = config.second_tier if nudge.kind == "second_tier" else config.nudge_channel
    out: list[Destination] = [ChannelRef(platform, space, channel)] if channel else []
    if config.dm_on_call:
        for rotation in ctx.settings.on_call:
            person = rotation.person_at(nudge.at)
            if rotation.platform == platform and person:
                out.append(UserRef(platform, space, person))
    return out


def on_call_pings(ctx: Context, platform: str, at: datetime) -> tuple[tuple[str, str], ...]:
    """The on-call person of each rotation, or the on-call group, to mention in a nudge."""
    pings: list[tuple[str, str]] = []
    for rotation in ctx.settings.on_call:
        if rotation.platform != platform:
            continue
        if rotation.group:
            pings.append(("group", rotation.group))
        if (person := rotation.person_at(at)) is not None:
            pings.append(("user", person))
    return tuple(pings)


async def deliver(ctx: Context, at: datetime, nudges: list[NudgeDue]) -> None:
    """Batch the nudges of one sweep per destination and send each batch once."""
    batches: dict[Destination, list[NudgeDue]] = defaultdict(list)
    for nudge in nudges:
        for destination in destinations(nudge, ctx):
            batches[destination].append(nudge)
    for destination, batch in batches.items():
        post = render(batch, at, ctx)
        if isinstance(destination, ChannelRef) and any(
            _wants_mention(ctx, n) and n.kind != "second_tier" for n in batch
        ):
            post = replace(post, notify=on_call_pings(ctx, destination.platform, at))
        try:
            platform = ctx.platform(destination.platform)
            if isinstance(destination, UserRef):
                await platform.dm(destination, post)
            else:
                await platform.post(destination, post)
        except (PlatformError, LookupError) as exc:
            again = isinstance(exc, PlatformError) and exc.safe_to_resend
            log.warning(
                "nudge to %s failed (%s); %d questions%s",
                destination,
                exc,
                len(batch),
                f", trying again in {format_duration(RETRY)}" if again else "",
            )
            if again:
                late = [n.question for n in batch if n.kind != "at_risk"]
                await ctx.store.record(_retry_later, late, at + RETRY)
            continue
        where = destination.channel if isinstance(destination, ChannelRef) else destination.user
        await ctx.store.record(_record, [n.question for n in batch], at, where)


def _retry_later(repo: Repo, questions: list[Question], when: datetime) -> None:
    """Undo the round a refused nudge used, so the sweep decides the same nudge again."""
    for question in questions:
        current = repo.question(question.id)
        if current is None or not current.is_waiting or current.nudge_round < 1:
            continue
        repo.update_question(current.id, nudge_round=current.nudge_round - 1, due_at=when)
        repo.log(current.id, when, "nudge retry", None, None)


def _wants_mention(ctx: Context, nudge: NudgeDue) -> bool:
    config = ctx.settings.channel(nudge.question.ref.platform, nudge.question.watched_channel)
    return config is not None and config.mention_on_call


def _record(repo: Repo, questions: list[Question], at: datetime, where: str) -> None:
    repo.count_nudges([q.id for q in questions], at, where)


def away_notice(ctx: Context, question: Question) -> str | None:
    """What to tell a member who asked outside the channel's hours, if the channel wants it."""
    config = ctx.settings.channel(question.ref.platform, question.watched_channel)
    if config is None or not config.ack_outside_hours:
        return None
    calendar = ctx.tracker.calendars.get(config.calendar)
    if calendar is None or calendar.is_open(question.asked_at):
        return None
    back = calendar.next_open(question.asked_at).astimezone(calendar.tz)
    when = f"on {back:%A} at {back:%H:%M} ({calendar.tz})"
    return ctx.settings.tracking.away_text.format(when=when)


def setup(router: Router[Context]) -> None:
    """Register the nudge and away-notice handlers."""

    @router.on(SweepFinished)
    async def nudge(event: SweepFinished, ctx: Context) -> Reply | None:
        due = [e for e in event.events if isinstance(e, NudgeDue)]
        if due:
            await deliver(ctx, event.at, due)
        return None

    @router.on(QuestionOpened)
    async def away(event: QuestionOpened, ctx: Context) -> Reply | None:
        text = away_notice(ctx, event.question)
        if text is None:
            return None
        try:
            await ctx.platform(event.question.ref.platform).reply_in_thread(
                event.question.ref, Post(text)
            )
        except (PlatformError, LookupError) as exc:
            log.warning("away notice for %s failed: %s", event.question.ref, exc)
        return None
