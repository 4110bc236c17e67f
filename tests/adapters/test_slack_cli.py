"""`frontline run` with Slack: mode selection, clear errors, and a real HTTP-mode process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.slack_adapter import SlackAdapter
from bot.cli import configured_adapters, main
from bot.core.model import MessageRef
from bot.storage.repos import Store
from config.settings import ConfigError, load_settings
from tests.adapters.fake_slack import (
    HELP,
    SECRET,
    TEAM,
    FakeSlack,
    event_body,
    message_event,
    signed_headers,
    slack_config,
)

REPO = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-very-secret-token"
CONFIG = f"""
[[channels]]
platform = "slack"
id = "{HELP}"
name = "help"
target = "1h"
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No Slack or Frontline variables unless a test sets them."""
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_API_URL",
        "DISCORD_TOKEN",
        "FRONTLINE_CONFIG",
        "FRONTLINE_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "frontline.toml"
    path.write_text(CONFIG)
    return path


def test_bot_token_without_a_mode_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bot token alone exits 2 and says to set SLACK_APP_TOKEN or use --http."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    assert main(["--config", str(config), "run"]) == 2
    err = capsys.readouterr().err
    assert "SLACK_APP_TOKEN: Socket Mode needs the app-level token" in err
    assert "--http" in err
    assert TOKEN not in err


def test_http_mode_needs_the_signing_secret(
    monkeypatch: pytest.MonkeyPatch, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run --http` without SLACK_SIGNING_SECRET exits 2 naming it."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    assert main(["--config", str(config), "run", "--http", "--port", "8080"]) == 2
    assert "SLACK_SIGNING_SECRET: HTTP mode (--http) verifies" in capsys.readouterr().err


def test_modes_are_chosen_from_flags_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """An app token means Socket Mode; --http means HTTP; SLACK_API_URL moves the Web API."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    (socket_mode,) = configured_adapters(load_settings(data=slack_config()))
    assert isinstance(socket_mode, SlackAdapter)
    assert not socket_mode.http
    assert socket_mode.client.base_url == "http://127.0.0.1:9/api/"
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    (http,) = configured_adapters(load_settings(data=slack_config()), http=True, port=8080)
    assert isinstance(http, SlackAdapter)
    assert (http.http, http.port) == (True, 8080)
    with pytest.raises(ConfigError, match="--port: 0 is not a TCP port"):
        configured_adapters(load_settings(data=slack_config()), http=True, port=0)


def test_no_slack_token_means_no_slack_adapter() -> None:
    """Without SLACK_BOT_TOKEN the Slack adapter is not started."""
    assert configured_adapters(load_settings(data=slack_config()), http=True) == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    fake.add_user("UMARIA", "Maria")
    try:
        yield fake
    finally:
        await fake.close()


async def _run_http(
    fake: FakeSlack, config: Path, db: Path, port: int
) -> asyncio.subprocess.Process:
    """`frontline run --http --port N` as a real process, talking to the fake Web API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FRONTLINE_"))}
    env |= {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "FRONTLINE_DATABASE_URL": str(db),
    }
    env.pop("DISCORD_TOKEN", None)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        "run",
        "--http",
        "--port",
        str(port),
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_frontline_run_http_serves_signed_events_and_stops_cleanly(
    fake: FakeSlack, config: Path, tmp_path: Path
) -> None:
    """`frontline run --http --port N` verifies, stores an event and exits 0 on SIGTERM."""
    port = _free_port()
    db = tmp_path / "live.db"
    proc = await _run_http(fake, config, db, port)
    ts = f"{time.time():.6f}"
    body = event_body(message_event("UMARIA", "How do I rotate my API key?", ts), "EvLIVE")
    status = 0
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and proc.returncode is None:
                try:
                    async with session.post(
                        f"http://127.0.0.1:{port}/slack/events",
                        data=body,
                        headers=signed_headers(body, content_type="application/json"),
                    ) as resp:
                        status = resp.status
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 15)
    log = err.decode()
    assert status == 200, log
    assert proc.returncode == 0, log
    assert "HTTP mode, Events API at" in log
    assert TOKEN not in log
    async with await Store.open(str(db)) as store:
        question = await store.question_by_ref(MessageRef("slack", TEAM, HELP, ts))
    assert question is not None and question.asker_name == "Maria"


async def test_a_refused_bot_token_stops_run_with_a_clear_message(
    fake: FakeSlack, config: Path, tmp_path: Path
) -> None:
    """When Slack refuses the token, `run` exits 1 saying why, without a traceback."""
    fake.fail("auth.test", "invalid_auth")
    proc = await _run_http(fake, config, tmp_path / "live.db", _free_port())
    _, err = await asyncio.wait_for(proc.communicate(), 15)
    log = err.decode()
    assert proc.returncode == 1, log
    assert "Could not connect: Slack auth.test in workspace failed: invalid_auth" in log
    assert "Traceback" not in log
    assert TOKEN not in log
