"""Operations with Discord: gateway health, failed REST calls in /metrics, the ops server."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from bot.core.clock import VirtualClock
from bot.core.model import ChannelRef, Post
from bot.core.platform import PlatformError
from bot.ops_http import Ops, serve
from config.settings import Settings, load_settings
from tests.adapters.fake_discord import FakeDiscord, discord_config, running_bot
from tests.bot.metrics_text import parse, value

ROOT = Path(__file__).parents[2]
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    yield server
    await server.close()


@pytest.fixture
def discord_settings(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value_ in fake.env().items():
        monkeypatch.setenv(key, value_)
    return load_settings(data=discord_config(fake.g))


async def test_gateway_health_and_refused_rest_calls_in_metrics(
    fake: FakeDiscord, discord_settings: Settings, tmp_path: Path
) -> None:
    """Logged in: /healthz 200. A refused post is counted by what was done, without ids."""
    async with running_bot(fake, discord_settings, tmp_path / "f.db", VirtualClock(T0)) as world:
        assert await world.adapter.connected()
        staff = ChannelRef("discord", str(fake.g.id), str(fake.g.staff))
        fake.fail_next("POST", f"/channels/{fake.g.staff}/messages", 403)
        with pytest.raises(PlatformError, match="lacks a permission"):
            await world.adapter.platform.post(staff, Post("1 question is waiting"))
        async with (
            serve(Ops(world.app, [world.adapter]), host="127.0.0.1", port=0) as url,
            aiohttp.ClientSession() as session,
        ):
            async with session.get(f"{url}/healthz") as resp:
                health = (resp.status, await resp.json())
            async with session.get(f"{url}/metrics") as resp:
                samples = parse(await resp.text())
        adapter = world.adapter
    assert health == (200, {"status": "ok", "database": "ok", "adapters": {"discord": "connected"}})
    errors = "frontline_platform_api_errors_total"
    labels = {"platform": "discord", "method": "posting in channel", "retryable": "false"}
    assert value(samples, errors, **labels) == 1
    assert not await adapter.connected()  # closed with the block


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_frontline_run_serves_health_on_the_ops_port(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    """Without Slack HTTP mode, `run --ops-port N` serves /healthz and /metrics on N."""
    config = tmp_path / "frontline.toml"
    config.write_text(
        f'[bot]\ndatabase = "{tmp_path / "f.db"}"\n\n[[channels]]\nplatform = "discord"\n'
        f'id = "{fake.g.help}"\nname = "help"\ntarget = "1h"\n',
        encoding="utf-8",
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env = {k: v for k, v in env.items() if not k.startswith("FRONTLINE_")}
    env |= fake.env() | {"PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "--config", str(config), "run"),
        *("--ops-port", str(port), "--ops-host", "127.0.0.1"),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    health: tuple[int, object] = (0, None)
    metrics = ""
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and proc.returncode is None:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        health = (resp.status, await resp.json())
                    if health[0] == 200:
                        break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)
            async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
                metrics = await resp.text()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 15)
    log = err.decode()
    assert proc.returncode == 0, log
    assert health == (200, {"status": "ok", "database": "ok", "adapters": {"discord": "connected"}})
    assert value(parse(metrics), "frontline_questions_waiting") == 0
    assert f"health at http://127.0.0.1:{port}/healthz" in log
    assert fake.env()["DISCORD_TOKEN"] not in log
