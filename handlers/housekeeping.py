"""Housekeeping: history nobody needs any more leaves the database.

Posts stay in the outbox after they are sent, as a record of what went out and so that
the same decision is never posted twice (its key). After `bot.outbox_keep` (30 days by
default) no decision can come back with the same key, so the row only takes space: the
hourly job removes those rows, a bounded batch at a time. Posts still to be sent stay.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.context import Context
from bot.core.router import Router
from bot.storage import outbox as outbox_sql

log = logging.getLogger(__name__)

JOB = "housekeeping"
EVERY = timedelta(hours=1)
BATCH = 5000


async def prune_outbox(ctx: Context) -> int:
    """Remove sent and given-up posts older than `bot.outbox_keep`; how many went."""
    before = ctx.now() - ctx.settings.bot.outbox_keep
    removed = 0
    while True:
        # Small transactions: a long delete would hold up the sweep on SQLite.
        batch = await ctx.store.write(outbox_sql.prune, before, BATCH)
        removed += batch
        if batch < BATCH:
            break
    if removed:
        log.info("housekeeping: removed %d outbox rows sent before %s", removed, before)
    return removed


def setup(router: Router[Context]) -> None:
    """Register the hourly housekeeping job."""

    @router.job(JOB, EVERY)
    async def housekeeping(ctx: Context) -> None:
        await prune_outbox(ctx)
