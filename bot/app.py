"""The composition root: settings -> store -> tracker -> router -> scheduler -> adapters.

`Frontline.open()` wires the parts; `handle()` takes one inbound event; `advance_to()`
drives the sweep on a virtual clock (demo, replay, tests); `run_live()` runs the
scheduler and the adapters under one TaskGroup until cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.context import Context, staff_checker
from bot.core.clock import Clock, VirtualClock
from bot.core.events import (
    Inbound,
)
from bot.core.model import Reply
from bot.core.platform import Platform
from bot.core.router import Router
from bot.storage.repos import Store
from bot.tracker import Tracker
from config.settings import Settings

log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"


class Adapter(Protocol):
    """A connection to one platform that feeds inbound events to the app until cancelled."""

    name: str
    platform: Platform

    async def run(self, app: Frontline) -> None:
        """Connect and deliver events with `app.handle()`; return or raise when done."""
        ...


def build_router() -> Router[Context]:
    """A router with every feature handler registered."""
    from handlers import commands, nudge, watch

    router: Router[Context] = Router()
    for feature in (watch, nudge, commands):
        feature.setup(router)
    return router


class Frontline:
    """One running bot."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        settings: Settings,
        clock: Clock,
        platforms: Mapping[str, Platform],
        router: Router[Context] | None = None,
        database: str | None = None,
    ) -> AsyncIterator[Frontline]:
        """Open the store (applying migrations) and wire the handlers."""
        store = await Store.open(database or settings.bot.database)
        try:
            router = router or build_router()
            tracker = Tracker(store, settings, staff_checker(platforms))
            ctx = Context(settings, store, tracker, router, platforms, clock)
            yield cls(ctx)
        finally:
            await store.close()

    async def handle(self, event: Inbound) -> list[Reply]:
        """Take one inbound event.

        Redeliveries change nothing because every write is keyed on platform ids
        (a message's ids, a question's message), so no delivery-id table is needed.
        """
        return await self.ctx.router.dispatch(event, self.ctx)

    async def run_job(self, job_id: str) -> None:
        """Run one registered job now; a failure is logged and the next run still happens."""
        job = self.ctx.router.jobs[job_id]
        try:
            await job.handler(self.ctx)
        except Exception:
            log.exception("job %s failed", job_id)

    async def advance_to(self, when: datetime) -> None:
        """Virtual time: run the sweep as the live scheduler would, up to `when`.

        The live sweep wakes every `bot.sweep_interval`; here it wakes only on the ticks
        where something is due, so a quiet week costs nothing but the decisions and
        their timing are the live bot's.
        """
        clock = self.ctx.clock
        if not isinstance(clock, VirtualClock):
            raise TypeError("advance_to() needs a VirtualClock")
        interval = max(self.ctx.settings.bot.sweep_interval.total_seconds(), 1.0)
        while (due := await self.ctx.store.next_due_at()) is not None:
            tick = datetime.fromtimestamp(math.ceil(due.timestamp() / interval) * interval, UTC)
            if tick > when:
                break
            clock.set(tick)
            await self.run_job(SWEEP_JOB)
        clock.set(when)

    async def play(self, events: Sequence[Inbound], at: Sequence[datetime]) -> None:
        """Feed events at their times on a virtual clock, sweeping in between."""
        for event, when in zip(events, at, strict=True):
            await self.advance_to(when)
            await self.handle(event)

    def scheduler(self) -> AsyncIOScheduler:
        """An APScheduler with every registered job; the database stays the source of truth."""
        scheduler = AsyncIOScheduler(timezone=UTC)
        interval = self.ctx.settings.bot.sweep_interval
        for job in self.ctx.router.jobs.values():
            every = interval if job.id == SWEEP_JOB else job.every
            scheduler.add_job(
                self.run_job,
                IntervalTrigger(seconds=max(every.total_seconds(), 0.05), timezone=UTC),
                args=[job.id],
                id=job.id,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(max(every.total_seconds(), 1)),
                replace_existing=True,
            )
        return scheduler

    async def run_live(
        self, adapters: Sequence[Adapter], *, until: asyncio.Event | None = None
    ) -> None:
        """Catch up on overdue work, then run the scheduler and adapters until stopped."""
        # Overdue first: whatever came due while we were down is acted on before new work.
        await self.run_job(SWEEP_JOB)
        scheduler = self.scheduler()
        scheduler.start()
        try:
            async with asyncio.TaskGroup() as group:
                for adapter in adapters:
                    group.create_task(adapter.run(self), name=f"adapter:{adapter.name}")
                if until is not None:
                    await until.wait()
                    raise _Stop
        except* _Stop:
            pass
        finally:
            scheduler.shutdown(wait=False)


class _Stop(Exception):
    """Raised inside the task group to stop the adapters when `until` is set."""
