"""Watching channels: messages, edits, deletes and reactions go to the tracker.

The sweep job turns passing time into warnings and breaches.
"""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.core.events import (
    Inbound,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)
from bot.core.model import Reply
from bot.core.router import Router

SWEEP_EVERY = timedelta(seconds=30)


def setup(router: Router[Context]) -> None:
    """Register the watch handlers and the sweep job.

    Staff status may need the network, so it is looked up here, before the unit of
    work runs on the database thread.
    """

    @router.on(MessagePosted, MessageEdited, MessageDeleted, ReactionAdded, ReactionRemoved)
    async def track(event: Inbound, ctx: Context) -> Reply | None:
        subject = ctx.tracker.subject(event)
        if subject is False:
            return None
        staff = subject is not None and await ctx.is_staff(subject)
        await ctx.emit(await ctx.store.write(ctx.tracker.apply, event, staff))
        return None

    @router.job("sweep", SWEEP_EVERY)
    async def sweep(ctx: Context) -> None:
        now = ctx.now()
        await ctx.publish_sweep(now, await ctx.store.write_locked(ctx.sweep, now))
        # Sends refused earlier, or left by a process that died holding them.
        await ctx.outbox.deliver(ctx)
