"""What every handler receives: settings, store, tracker, clock and the connected platforms."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.clock import Clock
from bot.core.events import QuestionEvent, SweepFinished
from bot.core.model import MessageRef, UserRef
from bot.core.platform import Platform
from bot.core.router import Router
from bot.outbox import Outbox
from bot.storage.repos import Repo, Store
from bot.telemetry import Telemetry
from bot.tracker import Tracker
from config.settings import Settings


@dataclass
class Context:
    """The handlers' view of the running bot."""

    settings: Settings
    store: Store
    tracker: Tracker
    router: Router[Context]
    platforms: Mapping[str, Platform]
    clock: Clock
    outbox: Outbox = field(default_factory=lambda: Outbox("local"))
    telemetry: Telemetry = field(default_factory=Telemetry)

    def now(self) -> datetime:
        """The current time from the injected clock."""
        return self.clock.now()

    def platform(self, name: str) -> Platform:
        """The connected platform called `name`."""
        try:
            return self.platforms[name]
        except KeyError:
            raise LookupError(f"platform {name!r} is not connected") from None

    async def emit(self, events: Iterable[object]) -> None:
        """Hand domain events to whoever subscribed to them."""
        for event in events:
            await self.router.dispatch(event, self)

    def sweep(self, repo: Repo, at: datetime) -> list[QuestionEvent]:
        """One sweep as a unit of work: the tracker's decisions, then their records.

        What handlers record about the decisions (nudges into the outbox) is stored in
        the same transaction as the decisions themselves.
        """
        events = self.tracker.sweep(repo, at)
        if events:
            for plan in self.router.sweep_plans:
                plan(repo, self, at, events)
        return events

    async def publish_sweep(self, at: datetime, events: Sequence[QuestionEvent]) -> None:
        """Hand over one sweep's decisions, then the whole batch (for batched nudges)."""
        await self.emit(events)
        await self.outbox.deliver(self, claim=False)
        await self.emit([SweepFinished(at, tuple(events))])

    async def is_staff(self, user: UserRef) -> bool:
        """Staff according to the user's own platform; bots and unknown platforms are not."""
        if user.is_bot:
            return False
        platform = self.platforms.get(user.platform)
        return platform is not None and await platform.is_staff(user)

    def parse_link(self, link: str) -> MessageRef | None:
        """A message link of any connected platform, parsed back to a ref."""
        for platform in self.platforms.values():
            ref = platform.parse_link(link)
            if ref is not None:
                return ref
        return None
