"""Log lines: JSON objects that parse, context fields while an event is handled, no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest

from bot.context import Context
from bot.core.events import MessagePosted
from bot.logs import MASK, handler
from tests.conftest import World

BOT_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
APP_TOKEN = "xapp-1-A0123456789-1234567890123-abcdef0123456789"
USER_TOKEN = "xoxp-9999-8888-7777-abcdef"
DISCORD_TOKEN = "MTE3NTQ0MjA1MTQ4MjM4MjQxNg.GhIjKl.mNoPqRsTuVwXyZ0123456789abcdefghij"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, io.StringIO]]:
    """A logger writing both formats to strings, with the environment's secrets to mask."""
    json_out, text_out = io.StringIO(), io.StringIO()
    logger = logging.getLogger("frontline.test.logs")
    secrets = [BOT_TOKEN, APP_TOKEN, DISCORD_TOKEN, SIGNING_SECRET]
    handlers = [handler("json", secrets, json_out), handler("text", secrets, text_out)]
    for h in handlers:
        logger.addHandler(h)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, json_out, text_out
    finally:
        for h in handlers:
            logger.removeHandler(h)


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_lines_carry_time_level_logger_message_and_extras(
    captured: tuple[logging.Logger, io.StringIO, io.StringIO],
) -> None:
    """Each record is one JSON object with the standard fields first, then its extras."""
    logger, json_out, text_out = captured
    logger.info("Slack: connected to workspace %s", "T0TEAM", extra={"platform": "slack"})
    try:
        raise ValueError("bad payload\nsecond line")
    except ValueError:
        logger.exception("event could not be handled")
    first, second = lines(json_out)
    assert list(first)[:4] == ["time", "level", "logger", "message"]
    assert first["level"] == "INFO"
    assert first["logger"] == "frontline.test.logs"
    assert first["message"] == "Slack: connected to workspace T0TEAM"
    assert first["platform"] == "slack"
    assert datetime.fromisoformat(str(first["time"])).utcoffset() is not None
    assert second["level"] == "ERROR"
    assert "ValueError: bad payload" in str(second["exc_info"])
    # The text format stays the human one.
    assert "INFO frontline.test.logs: Slack: connected to workspace T0TEAM" in text_out.getvalue()


def test_tokens_and_secrets_never_reach_either_format(
    captured: tuple[logging.Logger, io.StringIO, io.StringIO],
) -> None:
    """Tokens in messages, arguments, extras and tracebacks are masked; a URL keeps its user."""
    logger, json_out, text_out = captured
    logger.warning("calling with %s and %s", BOT_TOKEN, APP_TOKEN)
    logger.warning("user token %s seen", USER_TOKEN, extra={"token": DISCORD_TOKEN})
    logger.warning("signature check with %s", SIGNING_SECRET)
    logger.error("cannot reach postgresql://frontline:hunter2pass@db:5432/frontline")
    try:
        raise RuntimeError(f"login refused for {DISCORD_TOKEN}")
    except RuntimeError:
        logger.exception("Discord failed")
    for out in (json_out, text_out):
        text = out.getvalue()
        for secret in (BOT_TOKEN, APP_TOKEN, USER_TOKEN, DISCORD_TOKEN, SIGNING_SECRET, "hunter2"):
            assert secret not in text
        assert MASK in text
        assert "postgresql://frontline:[redacted]@db:5432/frontline" in text
    assert len(lines(json_out)) == 5  # masking kept every line valid JSON


async def test_lines_logged_while_handling_an_event_name_it(
    world: World, captured: tuple[logging.Logger, io.StringIO, io.StringIO]
) -> None:
    """A log line written by a handler carries the event's platform, kind and channel."""
    logger, json_out, _ = captured

    @world.app.ctx.router.on(MessagePosted)
    async def chatty(event: MessagePosted, ctx: Context) -> None:
        logger.warning("looking at a message")

    await world.post("help", "maria", "How do I rotate my API key?")
    logger.warning("outside any event")
    inside, outside = lines(json_out)
    assert inside["platform"] == "local"
    assert inside["event"] == "MessagePosted"
    assert inside["channel"] == "help"
    assert "event" not in outside and "platform" not in outside
