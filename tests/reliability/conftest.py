"""Fixtures of the reliability tests: the hooked fake Slack and the bot as a real process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.reliability.harness import MEMBERS, BotProcess, HookedSlack, live_config


@pytest.fixture
async def fake() -> AsyncIterator[HookedSlack]:
    """The fake Slack Web API with four members and Ana (staff)."""
    fake = await HookedSlack().start()
    for user, name in (*MEMBERS, ("UANA", "Ana")):
        fake.add_user(user, name)
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def bot(fake: HookedSlack, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """`frontline run --http` on one database file, not started yet; stopped after the test."""
    config = live_config(tmp_path / "frontline.toml")
    process = BotProcess(fake, config, tmp_path / "live.db", tmp_path / "bot.log")
    try:
        yield process
    finally:
        await process.stop()
