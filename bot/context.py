"""What every handler receives: settings, store, tracker, clock and the connected platforms."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import Clock
from bot.core.model import MessageRef, UserRef
from bot.core.platform import Platform
from bot.core.router import Router
from bot.storage.repos import Store
from bot.tracker import StaffCheck, Tracker
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

    async def is_staff(self, user: UserRef) -> bool:
        """Staff according to the user's own platform."""
        return await staff_checker(self.platforms)(user)

    def parse_link(self, link: str) -> MessageRef | None:
        """A message link of any connected platform, parsed back to a ref."""
        for platform in self.platforms.values():
            ref = platform.parse_link(link)
            if ref is not None:
                return ref
        return None


def staff_checker(platforms: Mapping[str, Platform]) -> StaffCheck:
    """Ask the user's own platform whether they are staff; unknown platforms say no."""

    async def is_staff(user: UserRef) -> bool:
        platform = platforms.get(user.platform)
        return platform is not None and await platform.is_staff(user)

    return is_staff
