"""Operations with Slack: health and metrics next to /slack/events, API errors, JSON logs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.core.model import ChannelRef, Post
from bot.core.platform import PlatformError
from bot.ops_http import Ops, serve
from tests.adapters.fake_slack import (
    HELP,
    SECRET,
    STAFF,
    TEAM,
    FakeSlack,
    event_body,
    message_event,
    signed_headers,
    slack_world,
)
from tests.bot.metrics_text import parse, value

REPO = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-ops-test-0123456789-abcdefghijklmnop"
CONFIG = f"""
[[channels]]
platform = "slack"
id = "{HELP}"
name = "help"
target = "1h"
"""


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    fake.add_user("UMARIA", "Maria")
    try:
        yield fake
    finally:
        await fake.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_http_mode_serves_health_and_metrics_on_the_events_port_with_json_logs(
    fake: FakeSlack, tmp_path: Path
) -> None:
    """`run --http --log-format json`: /healthz, /metrics beside /slack/events; JSON, no token."""
    config = tmp_path / "frontline.toml"
    config.write_text(CONFIG)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FRONTLINE_"))}
    env.pop("DISCORD_TOKEN", None)
    env |= {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "FRONTLINE_DATABASE_URL": str(tmp_path / "live.db"),
        "FRONTLINE_LOG_FORMAT": "json",
        "FRONTLINE_OPS_PORT": "1",  # not used in HTTP mode: nothing may try to bind it
    }
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "--config", str(config), "run", "--http"),
        *("--port", str(port)),
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    health: dict[str, object] = {}
    statuses: list[int] = []
    metrics, status = "", 0
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and proc.returncode is None:
                try:
                    async with session.get(f"{base}/healthz") as resp:
                        if resp.status == 200:
                            health = await resp.json()
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)
            body = event_body(
                message_event("UMARIA", "How do I rotate my API key?", f"{time.time():.6f}"),
                "EvOPS1",
            )
            headers = signed_headers(body, content_type="application/json")
            async with session.post(f"{base}/slack/events", data=body, headers=headers) as resp:
                statuses.append(resp.status)
            # The event is acked before it is handled: poll until it is counted (bounded).
            while time.monotonic() < deadline and "questions_opened_total{" not in metrics:
                async with session.get(f"{base}/metrics") as resp:
                    status, metrics = resp.status, await resp.text()
                await asyncio.sleep(0.02)
            statuses.append(status)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 15)
    log = err.decode()
    assert proc.returncode == 0, log
    assert health == {
        "status": "ok",
        "database": "ok",
        "adapters": {"slack": "connected"},
    }, log
    assert statuses == [200, 200], log
    samples = parse(metrics)
    assert value(samples, "frontline_events_total", platform="slack", kind="MessagePosted") == 1
    assert value(samples, "frontline_questions_opened_total", platform="slack") == 1
    # Every line on stderr is one JSON object; the token is nowhere.
    records = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert any("HTTP mode, Events API at" in r["message"] for r in records)
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert TOKEN not in log
    assert "cannot listen" not in log


async def test_failed_web_api_calls_are_counted_by_method_and_retryability(
    fake: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused post and a Slack 500 show in /metrics under chat.postMessage, with retryable."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    async with slack_world(fake, tmp_path / "f.db") as world:
        staff = ChannelRef("slack", TEAM, STAFF)
        fake.fail("chat.postMessage", "not_in_channel")
        with pytest.raises(PlatformError, match="not_in_channel"):
            await world.adapter.platform.post(staff, Post("1 question is waiting"))
        fake.fail("chat.postMessage", "500")
        with pytest.raises(PlatformError):
            await world.adapter.platform.post(staff, Post("1 question is waiting"))
        await world.adapter.platform.post(staff, Post("1 question is waiting"))  # works again
        ops = Ops(world.app, [world.adapter])
        async with (
            serve(ops, host="127.0.0.1", port=0) as url,
            aiohttp.ClientSession() as session,
        ):
            async with session.get(f"{url}/metrics") as resp:
                samples = parse(await resp.text())
            async with session.get(f"{url}/healthz") as resp:
                health = (resp.status, await resp.json())
    errors = "frontline_platform_api_errors_total"
    post = "chat.postMessage"
    assert value(samples, errors, platform="slack", method=post, retryable="false") == 1
    assert value(samples, errors, platform="slack", method=post, retryable="true") == 1
    assert health == (200, {"status": "ok", "database": "ok", "adapters": {"slack": "connected"}})


async def test_socket_mode_connection_is_reported_connected(
    fake: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In Socket Mode the adapter is connected while its websocket is up, and not after."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-ops-test")
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    async with slack_world(fake, tmp_path / "f.db", http=False) as world:
        assert await world.adapter.connected()
    assert not await world.adapter.connected()
