"""Discord and Slack in one process: both adapters under one `run_live`, each on its fake."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.discord_adapter import DiscordAdapter
from bot.adapters.slack_adapter import SlackAdapter
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.model import MessageRef
from config.settings import load_settings
from tests.adapters.fake_discord import FakeDiscord, discord_config
from tests.adapters.fake_slack import (
    HELP,
    SECRET,
    STAFF,
    TEAM,
    FakeSlack,
    event_body,
    message_event,
    signed_headers,
    slack_config,
    ts_at,
)
from tests.conftest import T0


async def test_slack_and_discord_run_side_by_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One run_live drives both: each platform's question is tracked and nudged on its own side."""
    discord_fake = await FakeDiscord().start()
    slack_fake = await FakeSlack().start()
    slack_fake.add_user("UMARIA", "Maria")
    for key, value in discord_fake.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    data = discord_config(discord_fake.g)
    data["channels"] += slack_config()["channels"]
    settings = load_settings(data=data)
    clock = VirtualClock(T0)
    discord_adapter = DiscordAdapter(
        settings, sync_state=tmp_path / "cmds", guild_ready_timeout=0.05, identify_delay=0
    )
    slack_adapter = SlackAdapter(
        settings,
        http=True,
        host="127.0.0.1",
        port=0,
        api_url=slack_fake.api_url,
        process_before_response=True,
    )
    platforms = {"discord": discord_adapter.platform, "slack": slack_adapter.platform}
    try:
        async with (
            Frontline.open(settings, clock, platforms, database=str(tmp_path / "f.db")) as app,
            aiohttp.ClientSession() as session,
        ):
            stop = asyncio.Event()
            live = asyncio.create_task(app.run_live([slack_adapter, discord_adapter], until=stop))
            await discord_fake.wait_for(
                lambda: (
                    (slack_adapter.ready.is_set() and discord_adapter.backfills >= 1) or live.done()
                )
            )
            assert not live.done()

            asked = await discord_fake.post(
                discord_fake.g.help, discord_fake.user("maria"), "How do I rotate my key?", at=T0
            )
            ts = ts_at(T0, 1)
            body = event_body(message_event("UMARIA", "How do I log in?", ts), "EvBoth1")
            headers = signed_headers(body, content_type="application/json")
            async with session.post(slack_adapter.url, data=body, headers=headers) as resp:
                assert resp.status == 200
            discord_ref = MessageRef(
                "discord", str(discord_fake.g.id), asked["channel_id"], asked["id"]
            )
            slack_ref = MessageRef("slack", TEAM, HELP, ts)

            async def both_tracked() -> bool:
                store = app.ctx.store
                return (
                    await store.question_by_ref(discord_ref) is not None
                    and await store.question_by_ref(slack_ref) is not None
                )

            for _ in range(500):
                if await both_tracked():
                    break
                await asyncio.sleep(0.01)
            assert await both_tracked()

            await app.advance_to(T0 + timedelta(minutes=61))
            titles = [m["embeds"][0]["title"] for m in discord_fake.sent(discord_fake.g.staff)]
            assert "1 question has passed the response target without an answer" in titles
            assert [c for c in slack_fake.calls_of("chat.postMessage") if c["channel"] == STAFF]

            stop.set()
            await asyncio.wait_for(live, 10)
            assert discord_adapter.client.is_closed()
    finally:
        await slack_fake.close()
        await discord_fake.close()
