"""The composition root: settings -> store -> tracker -> router -> scheduler -> adapters.

`Frontline.open()` wires the parts; `handle()` takes one inbound event; `advance_to()`
drives the sweep on a virtual clock (demo, replay, tests); `run_live()` runs the
scheduler and the adapters under one TaskGroup until cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.context import Context
from bot.core.clock import Clock, VirtualClock
from bot.core.events import Inbound, QuestionEvent
from bot.core.model import Reply, UserRef
from bot.core.platform import Platform
from bot.core.router import Router
from bot.outbox import Outbox
from bot.storage import outbox as outbox_sql
from bot.storage.repos import Repo, Store
from bot.tracker import Tracker
from config.settings import Settings

log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"
# How long overdue work waits on start for the adapters to backfill the downtime.
CATCH_UP_WAIT = timedelta(seconds=60)


class Adapter(Protocol):
    """A connection to one platform that feeds inbound events to the app until cancelled."""

    name: str
    platform: Platform

    async def run(self, app: Frontline) -> None:
        """Connect and deliver events with `app.handle()`; return or raise when done."""
        ...

    async def connected(self) -> bool:
        """Whether the platform connection is up now (for /healthz)."""
        ...


def instance_id() -> str:
    """Who holds outbox leases: FRONTLINE_INSTANCE_ID, else the host name.

    A restarted process takes back at once what its previous run held, so replicas on
    one host need distinct ids (containers get distinct host names anyway).
    """
    return os.environ.get("FRONTLINE_INSTANCE_ID") or socket.gethostname() or "frontline"


def build_router() -> Router[Context]:
    """A router with every feature handler registered."""
    from bot import telemetry
    from handlers import commands, escalate, housekeeping, nudge, summary, watch

    router: Router[Context] = Router()
    for feature in (watch, nudge, commands, summary, escalate, housekeeping):
        feature.setup(router)
    telemetry.setup(router)
    return router


@dataclass(frozen=True, slots=True)
class Decided:
    """What one event or one sweep decided, kept until it is handed to the handlers."""

    at: datetime
    events: list[QuestionEvent]
    swept: bool = False


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
        *,
        durable_sends: bool = True,
    ) -> AsyncIterator[Frontline]:
        """Open the store (applying migrations) and wire the handlers.

        `durable_sends=False` (replay, where nothing reaches a platform) sends without
        outbox rows.
        """
        store = await Store.open(database or settings.bot.database)
        try:
            router = router or build_router()
            tracker = Tracker(settings)
            outbox = Outbox(instance_id(), settings.bot.outbox_lease, durable=durable_sends)
            ctx = Context(settings, store, tracker, router, platforms, clock, outbox)
            router.telemetry = ctx.telemetry
            await outbox.recover(ctx)
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

    def _virtual_clock(self) -> VirtualClock:
        clock = self.ctx.clock
        if not isinstance(clock, VirtualClock):
            raise TypeError("virtual-time driving needs a VirtualClock")
        return clock

    def _sweeps_until(
        self,
        repo: Repo,
        start: datetime,
        when: datetime,
        out: list[Decided],
        due: datetime | None,
    ) -> datetime | None:
        """Sweep on every tick of the live grid up to `when` on which something is due.

        The live sweep wakes every `bot.sweep_interval`; skipping the ticks where
        nothing is due changes nothing, so a quiet week costs nothing while the
        decisions and their timing stay the live bot's. No sweep runs before `start`
        (time never goes back: after downtime, what is overdue is swept at once).
        `due` is the earliest deadline as far as the caller knows (early is harmless:
        the sweep then finds nothing); the next one is returned for the following call.
        """
        if due is None or due > when:
            return due  # the common case in a replay: nothing is due before this event
        while due is not None:
            tick = max(self._tick(due), start)
            if tick > when:
                return due
            events = self.ctx.sweep(repo, tick)
            if events:
                out.append(Decided(tick, events, swept=True))
            due = repo.next_due_at()
        return None

    async def _publish(self, decided: list[Decided]) -> None:
        clock = self._virtual_clock()
        async with self.ctx.store.batched():
            for item in decided:
                clock.set(item.at)
                if item.swept:
                    await self.ctx.publish_sweep(item.at, item.events)
                else:
                    await self.ctx.emit(item.events)

    def _next_scheduled(self, after: datetime) -> tuple[datetime, str] | None:
        """The next calendar job (a summary) due after `after`, if any."""
        moments = [
            (moment, job.id)
            for job in self.ctx.router.jobs.values()
            if job.next_at is not None and (moment := job.next_at(self.ctx, after)) is not None
        ]
        return min(moments) if moments else None

    async def advance_to(self, when: datetime) -> None:
        """Virtual time: run what the live scheduler would have run up to `when`.

        Sweeps run on the live tick grid; calendar jobs (summaries) run at their moments,
        in time order with the sweeps. Work that waits for a later try (a post a platform
        refused) wakes the sweep job on the first tick after it is due, as live.
        """
        clock = self._virtual_clock()
        while True:
            start = clock.now()
            scheduled = self._next_scheduled(start)

            stop = min(when, scheduled[0]) if scheduled is not None else when

            def unit(
                repo: Repo, start: datetime = start, stop: datetime = stop
            ) -> tuple[list[Decided], tuple[datetime, str] | None]:
                decided: list[Decided] = []
                # Sweeps stop at the first tick where retried work is due, so it runs
                # in time order with them.
                wake = self._wake_at(repo)
                tick = self._wake_tick(wake, start)
                if tick is not None:
                    stop = min(stop, tick[0])
                self._sweeps_until(repo, start, stop, decided, repo.next_due_at())
                return decided, wake

            decided, wake = await self.ctx.store.write(unit)
            await self._publish(decided)
            if decided:  # delivering what the sweeps decided may have left retries
                wake = await self.ctx.store.read(self._wake_at)
            moments = [m for m in (scheduled, self._wake_tick(wake, start)) if m is not None]
            if not moments or min(moments)[0] > when:
                break
            moment, job_id = min(moments)
            clock.set(moment)
            await self.run_job(job_id)
        clock.set(when)

    def _wake_at(self, repo: Repo) -> tuple[datetime, str] | None:
        """The earliest moment a job has work waiting for a later try, and that job."""
        moments = [(outbox_sql.next_attempt(repo), SWEEP_JOB)]
        moments += [(wake(repo, self.ctx), job_id) for job_id, wake in self.ctx.router.wakes]
        found = [(moment, job_id) for moment, job_id in moments if moment is not None]
        return min(found) if found else None

    def _wake_tick(
        self, wake: tuple[datetime, str] | None, start: datetime
    ) -> tuple[datetime, str] | None:
        """The first tick of the live grid after `start` at which `wake` has come."""
        if wake is None:
            return None
        return max(self._tick(start, strictly_after=True), self._tick(wake[0])), wake[1]

    def _tick(self, moment: datetime, *, strictly_after: bool = False) -> datetime:
        """The first tick of the live sweep grid at `moment` or later (or strictly after)."""
        interval = max(self.ctx.settings.bot.sweep_interval.total_seconds(), 1.0)
        at = moment.timestamp() / interval
        ticks = math.floor(at) + 1 if strictly_after else math.ceil(at)
        return datetime.fromtimestamp(ticks * interval, UTC)

    async def play(self, timed: Iterable[tuple[datetime, Inbound]], *, batch: int = 1) -> None:
        """Feed events in time order on the virtual clock, sweeping in between.

        With `batch` 1 each event goes through the router like a live one. A larger
        batch (replay) runs that many events and the sweeps between them as one unit of
        work on the database thread, then hands the resulting domain events to the
        handlers in order: the same decisions, taken far faster, with side effects
        (nudge posts) made at the end of each batch.
        """
        if batch <= 1:
            for at, event in timed:
                await self.advance_to(at)
                await self.handle(event)
            return
        chunk: list[tuple[datetime, Inbound]] = []
        scheduled = self._next_scheduled(self._virtual_clock().now())
        for item in timed:
            if scheduled is not None and item[0] >= scheduled[0]:
                # A summary falls inside this stretch: run it at its moment, in order.
                if chunk:
                    await self._play_batch(chunk)
                    chunk = []
                await self.advance_to(item[0])
                scheduled = self._next_scheduled(self._virtual_clock().now())
            chunk.append(item)
            if len(chunk) >= batch:
                await self._play_batch(chunk)
                chunk = []
        if chunk:
            await self._play_batch(chunk)

    async def _play_batch(self, chunk: list[tuple[datetime, Inbound]]) -> None:
        tracker = self.ctx.tracker
        staff: dict[UserRef, bool] = {}
        subjects = [tracker.subject(event) for _, event in chunk]
        for subject in subjects:
            if subject and subject not in staff:
                staff[subject] = await self.ctx.is_staff(subject)

        start = self._virtual_clock().now()

        def unit(repo: Repo) -> list[Decided]:
            decided: list[Decided] = []
            now = start
            # Asking the store for the next deadline after every event would be one more
            # query per message: the deadlines an event sets are in the events it returns.
            due = repo.next_due_at()
            for index, (at, event) in enumerate(chunk):
                due = self._sweeps_until(repo, now, at, decided, due)
                now = max(now, at)
                subject = subjects[index]
                if subject is not False:
                    is_staff = subject is not None and staff[subject]
                    events = tracker.apply(repo, event, is_staff)
                    if events:
                        decided.append(Decided(at, events))
                    for changed in events:
                        set_at = changed.question.due_at
                        if set_at is not None and (due is None or set_at < due):
                            due = set_at
            return decided

        await self._publish(await self.ctx.store.write(unit))
        self._virtual_clock().set(chunk[-1][0])

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
        """Start the adapters, catch up on overdue work, then run the scheduler until stopped.

        Overdue work waits for the adapters' backfill (bounded by `CATCH_UP_WAIT`): a
        question answered while the bot was down must be seen answered before the
        catch-up sweep would call it breached and nudge staff about it.
        """
        scheduler = self.scheduler()
        try:
            async with asyncio.TaskGroup() as group:
                for adapter in adapters:
                    group.create_task(adapter.run(self), name=f"adapter:{adapter.name}")
                await self._caught_up(adapters)
                await self.run_job(SWEEP_JOB)
                scheduler.start()
                if until is not None:
                    await until.wait()
                    raise _Stop
        except* _Stop:
            pass
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)

    async def _caught_up(self, adapters: Sequence[Adapter]) -> None:
        """Wait until every adapter has backfilled what happened while the bot was down."""
        waits = [
            asyncio.ensure_future(ready.wait())
            for adapter in adapters
            if (ready := getattr(adapter, "ready", None)) is not None
        ]
        if not waits:
            return
        try:
            _, late = await asyncio.wait(waits, timeout=CATCH_UP_WAIT.total_seconds())
        finally:
            for wait in waits:
                wait.cancel()
        if late:
            log.warning(
                "backfill still running after %ds; sweeping overdue questions anyway",
                CATCH_UP_WAIT.total_seconds(),
            )


class _Stop(Exception):
    """Raised inside the task group to stop the adapters when `until` is set."""
