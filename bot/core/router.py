"""The router: handlers register here through `setup(router)`; events are dispatched here.

Handlers are looked up by the event's exact type; an event nobody handles is skipped.
A failing handler is logged with the event that broke it and never stops the others,
so one bad event cannot take the process down.
"""

from __future__ import annotations

import logging
import shlex
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot.core.events import CommandInvoked
from bot.core.model import Reply

if TYPE_CHECKING:
    from bot.telemetry import Telemetry

log = logging.getLogger(__name__)

Ctx = TypeVar("Ctx")
E = TypeVar("E")

EventHandler = Callable[[Any, Ctx], Awaitable[Reply | None]]
CommandHandler = Callable[[list[str], CommandInvoked, Ctx], Awaitable[Reply]]
JobHandler = Callable[[Ctx], Awaitable[None]]
NextAt = Callable[[Ctx, datetime], datetime | None]
# Synchronous, on the database thread, inside the sweep's transaction: (repo, ctx, at,
# decided events). How a handler records what it will send about a sweep's decisions.
SweepPlan = Callable[[Any, Ctx, datetime, Sequence[Any]], None]
# (repo, ctx) -> the earliest moment a job has work waiting (a post to try again); the
# virtual-clock driver runs that job then, as the live scheduler would on its next tick.
WakeAt = Callable[[Any, Ctx], datetime | None]


class UsageError(Exception):
    """A command was malformed; the message is shown to its author only, with the usage."""


class PermissionDenied(Exception):
    """The caller may not do this; the message says why."""


@dataclass(frozen=True, slots=True)
class Command(Generic[Ctx]):
    """A `/frontline` subcommand."""

    name: str
    usage: str
    summary: str
    handler: CommandHandler[Ctx]


@dataclass(frozen=True, slots=True)
class Job(Generic[Ctx]):
    """Periodic work the scheduler (or the virtual-clock driver) wakes.

    A job with `next_at` runs at moments of a calendar (a daily summary at 09:00); the
    live scheduler still polls it every `every` (the job itself knows what is due and
    never repeats work), while the virtual-clock driver jumps straight to `next_at`.
    """

    id: str
    every: timedelta
    handler: JobHandler[Ctx]
    next_at: NextAt[Ctx] | None = None


class Router(Generic[Ctx]):
    """Maps event types to handlers, subcommand names to commands, and job ids to jobs."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[EventHandler[Ctx]]] = defaultdict(list)
        self.commands: dict[str, Command[Ctx]] = {}
        self.jobs: dict[str, Job[Ctx]] = {}
        self.sweep_plans: list[SweepPlan[Ctx]] = []
        self.wakes: list[tuple[str, WakeAt[Ctx]]] = []
        # Outbox hooks by kind of send (`bot.outbox.SendHooks`).
        self.send_hooks: dict[str, Any] = {}
        # Counts and times every dispatched event when set (`Frontline.open` sets it).
        self.telemetry: Telemetry | None = None

    def plan_sweep(self, fn: SweepPlan[Ctx]) -> SweepPlan[Ctx]:
        """Register a synchronous step run inside every sweep's transaction."""
        self.sweep_plans.append(fn)
        return fn

    def wake(self, job_id: str) -> Callable[[WakeAt[Ctx]], WakeAt[Ctx]]:
        """Register a reader of when job `job_id` next has work waiting."""

        def register(fn: WakeAt[Ctx]) -> WakeAt[Ctx]:
            self.wakes.append((job_id, fn))
            return fn

        return register

    def on_sent(self, kind: str, hooks: Any) -> None:
        """Register the outbox hooks (`SendHooks`) of one kind of send."""
        self.send_hooks[kind] = hooks

    def on(self, *event_types: type) -> Callable[[EventHandler[Ctx]], EventHandler[Ctx]]:
        """Register the decorated coroutine for each of `event_types`."""

        def register(fn: EventHandler[Ctx]) -> EventHandler[Ctx]:
            for event_type in event_types:
                self._handlers[event_type].append(fn)
            return fn

        return register

    def command(
        self, name: str, usage: str, summary: str
    ) -> Callable[[CommandHandler[Ctx]], CommandHandler[Ctx]]:
        """Register the decorated coroutine as `/frontline <name>`."""

        def register(fn: CommandHandler[Ctx]) -> CommandHandler[Ctx]:
            if name in self.commands:
                raise ValueError(f"command {name!r} registered twice")
            self.commands[name] = Command(name, usage, summary, fn)
            return fn

        return register

    def job(
        self, job_id: str, every: timedelta, next_at: NextAt[Ctx] | None = None
    ) -> Callable[[JobHandler[Ctx]], JobHandler[Ctx]]:
        """Register the decorated coroutine as a periodic job with a fixed id."""

        def register(fn: JobHandler[Ctx]) -> JobHandler[Ctx]:
            if job_id in self.jobs:
                raise ValueError(f"job {job_id!r} registered twice")
            self.jobs[job_id] = Job(job_id, every, fn, next_at)
            return fn

        return register

    def handles(self, event_type: type) -> bool:
        """Whether anything is registered for `event_type`."""
        return bool(self._handlers.get(event_type))

    async def dispatch(self, event: object, ctx: Ctx) -> list[Reply]:
        """Run every handler for `event`; return their replies. Never raises."""
        if self.telemetry is None:
            return await self._dispatch(event, ctx)
        with self.telemetry.dispatching(event):
            return await self._dispatch(event, ctx)

    async def _dispatch(self, event: object, ctx: Ctx) -> list[Reply]:
        if isinstance(event, CommandInvoked):
            return [await self.run_command(event, ctx)]
        replies: list[Reply] = []
        for handler in self._handlers.get(type(event), ()):
            try:
                reply = await handler(event, ctx)
            except Exception:
                log.exception(
                    "handler %s failed on %s", getattr(handler, "__qualname__", handler), event
                )
                continue
            if reply is not None:
                replies.append(reply)
        return replies

    async def run_command(self, event: CommandInvoked, ctx: Ctx) -> Reply:
        """Parse and run `/frontline ...`; malformed input gets usage text, never a trace."""
        try:
            words = shlex.split(event.text)
        except ValueError as exc:
            return Reply(f"Sorry, I could not read that command ({exc}).\n{self.help_text()}")
        if not words or words[0] in ("help", "-h", "--help"):
            return Reply(self.help_text())
        command = self.commands.get(words[0].lower())
        if command is None:
            return Reply(f"Unknown command `{words[0][:40]}`.\n{self.help_text()}")
        try:
            return await command.handler(words[1:], event, ctx)
        except UsageError as exc:
            return Reply(f"{exc}\nUsage: `{command.usage}`")
        except PermissionDenied as exc:
            return Reply(f"Sorry, you can't do that: {exc}")
        except Exception:
            log.exception("command %s failed for %s", command.name, event.user)
            return Reply("Something went wrong on our side; the error has been logged.")

    def help_text(self) -> str:
        """Usage of every registered subcommand."""
        lines = ["Frontline commands:", "• `/frontline help` — this list"]
        lines += [f"• `{c.usage}` — {c.summary}" for c in self.commands.values()]
        return "\n".join(lines)
