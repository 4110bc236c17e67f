"""`frontline run` as a real process, pointed at the local fake Discord by environment only."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.adapters.fake_discord import FakeDiscord

ROOT = Path(__file__).parents[2]


def _config(fake: FakeDiscord, db: Path) -> str:
    g = fake.g
    return f"""
[bot]
database = "{db}"
log_level = "INFO"

[staff]
discord_roles = ["Staff"]

[[channels]]
platform = "discord"
id = "{g.help}"
name = "help"
target = "1h"
nudge_channel = "{g.staff}"
"""


async def test_frontline_run_connects_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    """The CLI logs in with DISCORD_* from the environment, answers a command, exits 0 on TERM."""
    fake = await FakeDiscord().start()
    config = tmp_path / "frontline.toml"
    config.write_text(_config(fake, tmp_path / "f.db"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env |= fake.env() | {"PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake.wait_for(lambda: bool(fake.identifies) or proc.returncode is not None, 20)
        assert proc.returncode is None
        asked = await fake.post(
            fake.g.help, fake.user("maria"), "How do I rotate my API key?", at=datetime.now(UTC)
        )
        call = await fake.slash(fake.user("sven"), "unanswered")
        await fake.wait_for(lambda: bool(fake.followups(call)), 10)
        embed = fake.followups(call)[0]["embeds"][0]
        assert embed["title"] == "1 question waiting"
        assert asked["id"] in embed["description"]
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 15)
        assert proc.returncode == 0, err.decode()
        log = err.decode()
        assert "invite link: https://discord.com/oauth2/authorize" in log
        assert fake.env()["DISCORD_TOKEN"] not in log
        assert (tmp_path / "f.db.discord-commands").exists()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await fake.close()
