"""GET /healthz on a real aiohttp server: 200 when all is well, 503 saying what is not."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.adapters.discord_adapter import DiscordAdapter
from bot.adapters.slack_adapter import SlackAdapter
from bot.app import Frontline
from bot.cli import main
from bot.ops_http import Monitored, Ops, serve
from config.settings import load_settings
from tests.conftest import World


@dataclass
class Link:
    """An adapter whose connection state a test sets (a platform outage without a network)."""

    name: str
    up: bool = True
    broken: bool = False

    async def connected(self) -> bool:
        if self.broken:
            raise RuntimeError("socket state unreadable")
        return self.up


async def healthz(app: Frontline, adapters: list[Monitored]) -> tuple[int, dict[str, Any]]:
    async with (
        serve(Ops(app, adapters), host="127.0.0.1", port=0) as url,
        aiohttp.ClientSession() as session,
        session.get(f"{url}/healthz") as resp,
    ):
        return resp.status, await resp.json()


async def test_healthy_bot_answers_200_with_each_part(world: World) -> None:
    """Database reachable and every adapter connected: 200 and "ok" for each part."""
    status, body = await healthz(world.app, [Link("slack"), Link("discord")])
    assert status == 200
    assert body == {
        "status": "ok",
        "database": "ok",
        "adapters": {"slack": "connected", "discord": "connected"},
    }


async def test_disconnected_adapter_gives_503_naming_it(world: World) -> None:
    """One platform down: 503, that adapter "disconnected", the others still "connected"."""
    status, body = await healthz(world.app, [Link("slack"), Link("discord", up=False)])
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["adapters"] == {"slack": "connected", "discord": "disconnected"}


async def test_adapter_that_cannot_say_gives_503_with_the_error(world: World) -> None:
    """An adapter whose state check fails is reported with the error, not as a crash."""
    status, body = await healthz(world.app, [Link("slack", broken=True)])
    assert status == 503
    assert body["adapters"]["slack"] == "RuntimeError: socket state unreadable"


async def test_closed_database_gives_503(world: World) -> None:
    """A database that no longer answers: 503 with what went wrong reading it."""
    await world.store.close()
    status, body = await healthz(world.app, [Link("slack")])
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"] != "ok"
    assert body["database"]  # says what went wrong
    assert body["adapters"] == {"slack": "connected"}


async def test_adapters_not_yet_running_are_not_connected(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real Slack and Discord adapters that have not connected yet make /healthz 503."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-health")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("DISCORD_TOKEN", "discord-health-token")
    settings = load_settings(data={})
    adapters: list[Monitored] = [
        SlackAdapter(settings, http=True, host="127.0.0.1", port=0),
        DiscordAdapter(settings, env={}),
    ]
    status, body = await healthz(world.app, adapters)
    assert status == 503
    assert body["adapters"] == {"slack": "disconnected", "discord": "disconnected"}


async def test_a_taken_port_is_logged_and_the_bot_runs_on(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """When the ops port is in use, the error names it and the block still runs."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = False
        with caplog.at_level(logging.ERROR, logger="bot.ops_http"):
            async with serve(Ops(world.app, []), host="127.0.0.1", port=port) as url:
                ran = True
    assert ran and url is None
    assert f"cannot listen on 127.0.0.1:{port}" in caplog.text
    assert "FRONTLINE_OPS_PORT" in caplog.text


async def test_off_serves_nothing(world: World) -> None:
    """`--ops-port off` (None) serves no endpoint at all."""
    async with serve(Ops(world.app, []), host="127.0.0.1", port=None) as url:
        assert url is None


@pytest.mark.parametrize(
    ("variable", "bad", "said"),
    [
        (
            "FRONTLINE_OPS_PORT",
            "ninety",
            "'ninety' (--ops-port or FRONTLINE_OPS_PORT) is not a port",
        ),
        ("FRONTLINE_OPS_PORT", "70000", "'70000' (--ops-port or FRONTLINE_OPS_PORT) is not a port"),
        ("FRONTLINE_LOG_FORMAT", "xml", "'xml' (--log-format or FRONTLINE_LOG_FORMAT): use text"),
    ],
)
def test_bad_ops_settings_are_refused_before_anything_starts(
    variable: str,
    bad: str,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An ops port or log format that cannot be used exits 2 naming the variable."""
    monkeypatch.setenv(variable, bad)
    with pytest.raises(SystemExit) as stopped:
        main(["run"])
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err
