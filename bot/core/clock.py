"""Time, injected: the wall clock in live mode, a virtual clock for demo, replay and tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where every decision gets `now` from."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)


class VirtualClock:
    """A clock that only moves when told to; it never goes backwards."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The current virtual time."""
        return self._now

    def set(self, when: datetime) -> None:
        """Move to `when`; moving backwards is ignored so decisions stay ordered."""
        when = when.astimezone(UTC)
        if when > self._now:
            self._now = when

    def advance(self, delta: timedelta) -> None:
        """Move forward by `delta`."""
        self.set(self._now + delta)
