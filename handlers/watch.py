"""Watching channels: messages, edits, deletes and reactions go to the tracker.

The sweep job turns passing time into warnings and breaches.
"""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.core.events import (
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    SweepFinished,
)
from bot.core.model import Reply
from bot.core.router import Router

SWEEP_EVERY = timedelta(seconds=30)


def setup(router: Router[Context]) -> None:
    """Register the watch handlers and the sweep job."""

    @router.on(MessagePosted)
    async def posted(event: MessagePosted, ctx: Context) -> Reply | None:
        await ctx.emit(await ctx.tracker.message_posted(event.message))
        return None

    @router.on(MessageEdited)
    async def edited(event: MessageEdited, ctx: Context) -> Reply | None:
        await ctx.emit(await ctx.tracker.message_edited(event.message, event.edited_at))
        return None

    @router.on(MessageDeleted)
    async def deleted(event: MessageDeleted, ctx: Context) -> Reply | None:
        await ctx.emit(await ctx.tracker.message_deleted(event.ref, event.deleted_at))
        return None

    @router.on(ReactionAdded)
    async def reacted(event: ReactionAdded, ctx: Context) -> Reply | None:
        await ctx.emit(
            await ctx.tracker.reaction(event.ref, event.user, event.emoji, event.at, added=True)
        )
        return None

    @router.on(ReactionRemoved)
    async def unreacted(event: ReactionRemoved, ctx: Context) -> Reply | None:
        await ctx.emit(
            await ctx.tracker.reaction(event.ref, event.user, event.emoji, event.at, added=False)
        )
        return None

    @router.job("sweep", SWEEP_EVERY)
    async def sweep(ctx: Context) -> None:
        now = ctx.now()
        events = await ctx.tracker.sweep(now)
        await ctx.emit(events)
        await ctx.emit([SweepFinished(now, tuple(events))])
