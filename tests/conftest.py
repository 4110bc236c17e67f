"""Shared fixtures: a Frontline on the local platform, a real database, a virtual clock.

The database is a SQLite file; modules marked `both_backends` run each test a second
time on a fresh schema of the real PostgreSQL at 127.0.0.1:5432 (database `test`, or
FRONTLINE_TEST_POSTGRES_URL), skipped with a clear message only where none answers.
"""

from __future__ import annotations

import functools
import itertools
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
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


POSTGRES_URL = os.environ.get(
    "FRONTLINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")
# `pytestmark = both_backends` (or on one test): each test that opens a database runs
# on SQLite and on PostgreSQL; tests of the module that open none run once.
both_backends = pytest.mark.backends(*BACKENDS)
postgres_only = pytest.mark.backends("postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends(*names): run the test on each named database")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is not None and "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", marker.args, indirect=True)


@functools.cache
def postgres_reachable() -> bool:
    """Whether something accepts connections where the test PostgreSQL should be."""
    parts = urlsplit(POSTGRES_URL)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 5432), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database kind under test: SQLite unless a module asks for both.

    FRONTLINE_TEST_BACKEND=postgresql runs every test that opens a database on PostgreSQL.
    """
    name: str = getattr(request, "param", os.environ.get("FRONTLINE_TEST_BACKEND", "sqlite"))
    if name == "postgresql" and not postgres_reachable():
        parts = urlsplit(POSTGRES_URL)
        pytest.skip(
            f"no PostgreSQL server at {parts.hostname}:{parts.port or 5432} "
            "(.ci/run starts one): the PostgreSQL run of this test is skipped"
        )
    return name


NewDatabase = Callable[[str], Awaitable[str]]


@pytest.fixture
async def new_database(backend: str, tmp_path: Path) -> AsyncIterator[NewDatabase]:
    """Makes empty databases of the backend under test: a file, or a PostgreSQL schema.

    Each PostgreSQL schema is unique to the test (parallel runs never meet) and is
    dropped afterwards; the URL selects it through `search_path`.
    """
    schemas: list[str] = []

    async def make(name: str) -> str:
        if backend == "sqlite":
            return str(tmp_path / name)
        schema = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(f'CREATE SCHEMA "{schema}"')
        finally:
            await conn.close()
        schemas.append(schema)
        joiner = "&" if "?" in POSTGRES_URL else "?"
        return f"{POSTGRES_URL}{joiner}search_path={schema}"

    yield make
    if schemas:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            for schema in schemas:
                await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await conn.close()


@pytest.fixture
async def database(new_database: NewDatabase, db_path: Path) -> str:
    """The test's database: the SQLite file `db_path`, or a fresh PostgreSQL schema."""
    return await new_database(db_path.name)


@asynccontextmanager
async def open_world(
    settings: Settings,
    database: str,
    *,
    clock: VirtualClock | None = None,
    platform: LocalPlatform | None = None,
) -> AsyncIterator[World]:
    """A bot on the local platform until the block ends: what the `world` fixture opens.

    For tests that need their own settings, a clock not at T0, or a restart: opening
    again on the same `database` with `clock=w.clock, platform=w.platform` keeps the
    stored questions, the time and the platform's transcript. By default the clock
    starts at T0 and the platform's staff are the settings' local users; a `platform`
    given must run on `clock`.
    """
    clock = VirtualClock(T0) if clock is None else clock
    if platform is None:
        platform = LocalPlatform(clock, staff=frozenset(settings.staff.local_users), space=SPACE)
    assert platform.clock is clock, "the platform must run on the world's clock"
    async with Frontline.open(settings, clock, {"local": platform}, database=database) as app:
        yield World(app, clock, platform)


@pytest.fixture
async def world(settings: Settings, database: str) -> AsyncIterator[World]:
    """A bot on the local platform at T0 with a real database (SQLite unless asked)."""
    async with open_world(settings, database) as opened:
        yield opened
