"""Clean shutdown: `frontline run --http` gets SIGTERM while events are still being handled."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from tests.reliability.harness import (
    MEMBERS,
    TOKEN,
    BotProcess,
    HookedSlack,
    asking,
    now_ts,
    stored,
    tracked,
    until,
)


async def test_sigterm_finishes_in_flight_events_and_exits_0(
    fake: HookedSlack, bot: BotProcess
) -> None:
    """SIGTERM mid-traffic: exit 0 within 10 s, and every event acked before it is stored."""
    looked_up = asyncio.Event()

    async def slow_profile(args: dict[str, Any]) -> None:
        if args.get("user") == "USLOW":
            looked_up.set()
            await asyncio.sleep(0.8)  # Slack is slow to answer: the event is acked, in flight

    fake.add_user("USLOW", "Sam")
    fake.before["users.info"] = slow_profile
    await bot.start()
    acked: list[str] = []
    async with aiohttp.ClientSession() as session:
        for n in range(8):
            ts = now_ts()
            assert await bot.say(session, MEMBERS[n % 4][0], asking(f"calm{n}"), ts) == 200
            acked.append(ts)
        slow = now_ts()
        assert await bot.say(session, "USLOW", asking("slow"), slow) == 200
        acked.append(slow)
        assert await until(looked_up.is_set, 5)
        burst = [now_ts() for _ in range(6)]
        statuses = await asyncio.gather(
            *(
                bot.say(session, MEMBERS[n % 4][0], asking(f"burst{n}"), ts)
                for n, ts in enumerate(burst)
            )
        )
        assert statuses == [200] * len(burst)
        acked += burst
        assert not stored(bot.db, slow), "the slow event should still be in flight"
        began = time.monotonic()
        bot.terminate()
        status = await bot.wait(10)
        took = time.monotonic() - began
        # Once stopping, the bot takes no new event: nothing is acked that it cannot keep.
        assert await bot.send(session, {"type": "message"}) is None
    log = bot.output()
    assert status == 0, log
    assert took < 10
    assert tracked(bot.db, acked) == set(acked), log
    assert "Traceback" not in log
    assert TOKEN not in log
