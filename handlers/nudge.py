"""Nudges: the right staff hear about stale questions, in one post per destination.

The sweep decides *when* (at risk, past target, reminders, second tier, never at night
unless the channel wants it); this handler decides *where* and *how*: everything one
sweep found for a destination is batched into one message, oldest first, with links and
ages, instead of a ping per question. The posts are recorded in the outbox inside the
sweep's own transaction (`plan`), so a crash between deciding and posting loses none.
It also tells a member who asks outside the
channel's hours when the team will be back, where a channel asks for that.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.context import Context
from bot.core.events import NudgeDue, QuestionOpened
from bot.core.model import ChannelRef, MessageRef, Post, PostItem, Question, Reply, UserRef
from bot.core.platform import PlatformError
from bot.core.router import Router
from bot.outbox import Send, SendHooks
from bot.storage.repos import Repo
from handlers._format import question_item

log = logging.getLogger(__name__)

MAX_ITEMS = 20
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


def plan(repo: Repo, ctx: Context, at: datetime, events: Sequence[object]) -> None:
    """Inside the sweep's transaction: one outbox send per destination for its nudges.

    Recording them with the decision means a crash before the post cannot lose them;
    the key holds the questions and their rounds, so the same decision is one send.
    """
    nudges = [e for e in events if isinstance(e, NudgeDue)]
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
        where = destination.channel if isinstance(destination, ChannelRef) else destination.user
        decided = ",".join(f"{n.question.id}.{n.round}" for n in batch)
        digest = hashlib.sha256(decided.encode()).hexdigest()[:16]
        kind = "dm" if isinstance(destination, UserRef) else "channel"
        key = f"nudge:{destination.platform}:{kind}:{where}:{at.timestamp():.0f}:{digest}"
        meta = {"questions": [n.question.id for n in batch], "where": where}
        ctx.outbox.add(repo, Send("nudge", key, destination, post, meta), at)


def _still_waiting(repo: Repo, send: Send) -> bool:
    """A nudge sent again after a failure only while one of its questions still waits."""
    return any(
        (question := repo.question(question_id)) is not None and question.is_waiting
        for question_id in send.meta.get("questions", [])
    )


def _count(repo: Repo, send: Send, at: datetime, ref: MessageRef) -> None:
    repo.count_nudges(send.meta.get("questions", []), at, str(send.meta.get("where", "")))


def _wants_mention(ctx: Context, nudge: NudgeDue) -> bool:
    config = ctx.settings.channel(nudge.question.ref.platform, nudge.question.watched_channel)
    return config is not None and config.mention_on_call


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
    router.plan_sweep(plan)
    router.on_sent("nudge", SendHooks(after=_count, wanted=_still_waiting))

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
