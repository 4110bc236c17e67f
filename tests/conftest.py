"""Shared fixtures: a Frontline on the local platform, a real SQLite file, a virtual clock."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.local import LocalPlatform
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.events import (
    CommandInvoked,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)
from bot.core.model import ChannelRef, Message, MessageRef, Question, Reply, UserRef
from config.settings import Settings, load_settings

# A Tuesday, 09:00 UTC (10:00 in Berlin).
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SPACE = "T1"


def community_config(**overrides: Any) -> dict[str, Any]:
    """The configuration most tests use; keyword arguments replace top-level tables."""
    data: dict[str, Any] = {
        "bot": {"sweep_interval": "30s"},
        "calendars": {
            "office": {"timezone": "Europe/Berlin", "hours": {"mon-fri": "09:00-17:00"}},
        },
        "staff": {"local_users": ["ana", "ben"]},
        "channels": [
            {
                "platform": "local",
                "id": "help",
                "name": "help",
                "target": "1h",
                "nudge_channel": "staff",
            },
            {
                "platform": "local",
                "id": "support",
                "name": "support",
                "mode": "every-post",
                "target": "30m",
                "nudge_channel": "staff",
            },
            {
                "platform": "local",
                "id": "office",
                "name": "office",
                "target": "1h",
                "calendar": "office",
                "nudge_channel": "staff",
            },
            {"platform": "local", "id": "forum", "name": "forum", "target": "2h"},
        ],
    }
    data.update(overrides)
    return data


class World:
    """A running bot and the people around it, driven step by step on virtual time."""

    def __init__(self, app: Frontline, clock: VirtualClock, platform: LocalPlatform) -> None:
        self.app = app
        self.clock = clock
        self.platform = platform
        self.store = app.ctx.store
        self._ids = itertools.count(1)

    def user(self, name: str, *, bot: bool = False) -> UserRef:
        return UserRef("local", SPACE, name, name.title(), is_bot=bot)

    async def post(
        self,
        channel: str,
        author: str,
        text: str,
        *,
        root: MessageRef | None = None,
        reply_to: MessageRef | None = None,
        mentions: tuple[str, ...] = (),
        watched: str = "",
        starter: bool = False,
        bot: bool = False,
        message_id: str | None = None,
        at: datetime | None = None,
        event_id: str | None = None,
    ) -> MessageRef:
        ref = MessageRef("local", SPACE, channel, message_id or f"m{next(self._ids)}")
        when = at or self.clock.now()
        message = Message(
            ref,
            self.user(author, bot=bot),
            text,
            when,
            thread_root=root,
            reply_to=reply_to,
            mentions=mentions,
            watched_channel=watched,
            is_thread_starter=starter,
        )
        self.platform.remember(message)  # what the platform can show the bot later
        await self.app.handle(MessagePosted(event_id, message))
        return ref

    async def reply(
        self, root: MessageRef, author: str, text: str = "try restarting it", **kw: Any
    ) -> MessageRef:
        return await self.post(root.channel, author, text, root=root, **kw)

    async def edit(
        self, ref: MessageRef, author: str, text: str, posted_at: datetime | None = None
    ) -> None:
        message = Message(ref, self.user(author), text, posted_at or self.clock.now())
        await self.app.handle(MessageEdited(None, message, self.clock.now()))

    async def delete(self, ref: MessageRef) -> None:
        await self.app.handle(MessageDeleted(None, ref, self.clock.now()))

    async def react(
        self, ref: MessageRef, user: str, emoji: str, *, remove: bool = False, bot: bool = False
    ) -> None:
        kind = ReactionRemoved if remove else ReactionAdded
        await self.app.handle(kind(None, ref, self.user(user, bot=bot), emoji, self.clock.now()))

    async def command(self, text: str, user: str = "ana", channel: str = "help") -> Reply:
        event = CommandInvoked(
            None, text, self.user(user), ChannelRef("local", SPACE, channel), self.clock.now()
        )
        replies = await self.app.handle(event)
        assert len(replies) == 1
        return replies[0]

    async def advance(self, **delta: float) -> None:
        await self.app.advance_to(self.clock.now() + timedelta(**delta))

    async def question(self, ref: MessageRef) -> Question:
        question = await self.store.question_by_ref(ref)
        assert question is not None, f"{ref} is not tracked"
        return question

    def link(self, ref: MessageRef) -> str:
        return f"local://{ref.channel}/{ref.message}"

    def nudges(self) -> list[str]:
        return [s.text for s in self.platform.sent("post") if s.where == "staff"]


@pytest.fixture
def settings() -> Settings:
    """The test community's settings."""
    return load_settings(data=community_config())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh SQLite file for one test."""
    return tmp_path / "frontline.db"


@pytest.fixture
async def world(settings: Settings, db_path: Path) -> AsyncIterator[World]:
    """A bot on the local platform at T0 with a real SQLite file."""
    clock = VirtualClock(T0)
    platform = LocalPlatform(clock, staff=frozenset(settings.staff.local_users), space=SPACE)
    async with Frontline.open(settings, clock, {"local": platform}, database=str(db_path)) as app:
        yield World(app, clock, platform)
