"""Nudges: when questions pass their target unanswered, staff hear about it in one post.

Breaches found by one sweep are batched per nudge channel, oldest first, so a busy
morning produces one message listing every stale question instead of a ping each.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from bot.context import Context
from bot.core.events import QuestionBreached, SweepFinished
from bot.core.model import ChannelRef, Post, Question, Reply
from bot.core.platform import PlatformError
from bot.core.router import Router
from bot.storage.repos import Repo
from handlers._format import waiting_items

log = logging.getLogger(__name__)

MAX_ITEMS = 20


def setup(router: Router[Context]) -> None:
    """Register the nudge handler."""

    @router.on(SweepFinished)
    async def nudge(event: SweepFinished, ctx: Context) -> Reply | None:
        batches: dict[ChannelRef, list[Question]] = defaultdict(list)
        for item in event.events:
            if not isinstance(item, QuestionBreached):
                continue
            question = item.question
            config = ctx.settings.channel(question.ref.platform, question.watched_channel)
            if config is None or not config.nudge_channel:
                continue
            target = ChannelRef(question.ref.platform, question.ref.space, config.nudge_channel)
            batches[target].append(question)
        for channel, questions in batches.items():
            await _send(ctx, channel, sorted(questions, key=lambda q: q.asked_at), event)
        return None


async def _send(
    ctx: Context, channel: ChannelRef, questions: list[Question], event: SweepFinished
) -> None:
    items, more = waiting_items(questions, event.at, ctx.settings, MAX_ITEMS)
    noun = "question has" if len(questions) == 1 else "questions have"
    title = f"{len(questions)} {noun} passed the response target without an answer"
    text = "\n".join(
        [title, *(f"• {i.text}" for i in items)] + ([f"…and {more} more"] if more else [])
    )
    try:
        await ctx.platform(channel.platform).post(channel, Post(text, title, items, more=more))
    except (PlatformError, LookupError) as exc:
        log.warning("nudge to %s failed (%s); %d questions", channel, exc, len(questions))
        return
    await ctx.store.write(_record_nudges, questions, event.at, channel.channel)


def _record_nudges(repo: Repo, questions: list[Question], at: datetime, channel: str) -> None:
    for question in questions:
        repo.update_question(question.id, nudges=question.nudges + 1)
        repo.log(question.id, at, "nudged", None, channel)
