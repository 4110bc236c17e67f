"""Socket Mode smoke test: the real bolt Socket Mode handler against a local websocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.model import QuestionState
from bot.core.platform import PlatformError
from tests.adapters.fake_slack import FakeSlack, event_body, message_event, slack_world, ts_at
from tests.conftest import T0


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    fake.add_user("UMARIA", "Maria")
    try:
        yield fake
    finally:
        await fake.close()


async def test_socket_mode_delivers_acks_and_dedupes_envelopes(
    fake: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An events_api envelope is acked and tracked; its retry envelope changes nothing."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    async with slack_world(fake, tmp_path / "f.db", http=False) as world:
        assert fake.calls_of("apps.connections.open")
        ts = ts_at(T0, 1)
        payload = json.loads(event_body(message_event("UMARIA", "How do I log in?", ts), "EvS1"))
        for attempt in (0, 1):
            await fake.push(
                {
                    "envelope_id": f"env-{attempt}",
                    "type": "events_api",
                    "accepts_response_payload": False,
                    "retry_attempt": attempt,
                    "retry_reason": "timeout" if attempt else "",
                    "payload": payload,
                }
            )
        for _ in range(500):  # acks and handling run concurrently: poll, briefly
            if len(fake.socket_acks) == 2 and await world.store.question_by_ref(world.ref(ts)):
                break
            await asyncio.sleep(0.01)
        assert sorted(a["envelope_id"] for a in fake.socket_acks) == ["env-0", "env-1"]
        question = await world.question(ts)
        assert question.state == QuestionState.OPEN
        assert question.asker_name == "Maria"
        assert await world.store.waiting(10) == [question]


async def test_a_refused_app_token_fails_the_start(
    fake: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong SLACK_APP_TOKEN stops the adapter with the reason instead of retrying forever."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-not-an-app-token")
    fake.fail("apps.connections.open", "not_allowed_token_type")
    with pytest.raises(PlatformError, match="must be an app-level token"):
        async with slack_world(fake, tmp_path / "f.db", http=False):
            pass
