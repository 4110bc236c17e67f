"""The container's health check, run as Docker would run it, against a real /healthz."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sys
from pathlib import Path

from bot.ops_http import Ops, serve
from tests.bot.test_ops_http import Link
from tests.conftest import World

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"


def healthcheck_command() -> list[str]:
    """The exec-form CMD of the Dockerfile's HEALTHCHECK, with this interpreter as python."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    found = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])$", text, re.MULTILINE)
    assert found, "no exec-form HEALTHCHECK in the Dockerfile"
    command: list[str] = json.loads(found.group(1))
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


async def check(**env: str) -> int:
    """Run the health check with `env` added (as set in the image); its exit status."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("FRONTLINE_")}
    proc = await asyncio.create_subprocess_exec(*healthcheck_command(), env=base | env)
    return await asyncio.wait_for(proc.wait(), 15)


async def test_healthcheck_passes_on_200_and_fails_on_503_or_silence(world: World) -> None:
    """Healthy bot: exit 0 (on FRONTLINE_OPS_PORT); 503 or no server: non-zero."""
    link = Link("slack")
    async with serve(Ops(world.app, [link]), host="127.0.0.1", port=0) as url:
        assert url is not None
        port = url.rsplit(":", 1)[1]
        assert await check(FRONTLINE_OPS_PORT=port) == 0
        assert await check(FRONTLINE_HEALTH_URL=f"{url}/healthz", FRONTLINE_OPS_PORT="1") == 0
        link.up = False
        assert await check(FRONTLINE_OPS_PORT=port) != 0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = str(sock.getsockname()[1])
    assert await check(FRONTLINE_OPS_PORT=closed) != 0
