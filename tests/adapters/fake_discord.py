"""A local Discord for tests: REST under /api/v10/ and a gateway websocket on 127.0.0.1.

The real discord.py client logs in to it unchanged. The gateway says HELLO, acks
heartbeats, answers IDENTIFY with READY then GUILD_CREATE (text channels, a forum and a
thread), and can fail a RESUME with INVALID_SESSION. Tests push gateway events with
the helpers; REST keeps channel histories and records every call the bot makes, so a
test asserts on what a member or staff would have seen.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
from aiohttp import WSMsgType, web

from bot.adapters.discord_adapter import DiscordAdapter
from bot.app import Frontline
from bot.context import Context
from bot.core.clock import VirtualClock
from bot.core.model import MessageRef, Question
from bot.core.router import Router
from config.settings import Settings

JSON = dict[str, Any]

# When every fake member joined the guild.
JOINED = datetime(2026, 1, 1, tzinfo=UTC)
MESSAGE_CONTENT = 1 << 15
VIEW_CHANNEL = 1 << 10


def snowflake(at: datetime, n: int = 0) -> int:
    """A snowflake created at `at` (ms precision); `n` keeps ids of one moment unique."""
    return discord.utils.time_snowflake(at) + n


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _id_time(value: int | str) -> datetime:
    return discord.utils.snowflake_time(int(value))


@dataclass
class Call:
    """One REST request the bot made."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class FakeUser:
    """A member of the fake guild."""

    id: int
    name: str
    bot: bool = False
    roles: tuple[int, ...] = ()

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name.title(),
            "avatar": None,
            "bot": self.bot,
        }

    def member(self, *, with_user: bool = True) -> JSON:
        data: JSON = {
            "roles": [str(r) for r in self.roles],
            "joined_at": iso(JOINED),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "permissions": "0",
        }
        if with_user:
            data["user"] = self.payload()
        return data


@dataclass
class FakeGuild:
    """Ids of the fake community: one guild with help, support, staff, general and a forum."""

    id: int = 1000
    app_id: int = 900
    bot: FakeUser = field(default_factory=lambda: FakeUser(901, "frontline", bot=True))
    help: int = 2001
    support: int = 2002
    staff: int = 2003
    general: int = 2004
    forum: int = 2005
    thread: int = 2006  # an existing thread in #general, present in GUILD_CREATE
    escalations: int = 2007  # where the support team takes escalated messages
    staff_role: int = 3001
    mod_role: int = 3002


class FakeDiscord:
    """Discord on 127.0.0.1: start(), then point the adapter at `env()`."""

    def __init__(self, *, allow_message_content: bool = True) -> None:
        self.g = FakeGuild()
        self.allow_message_content = allow_message_content
        self.calls: list[Call] = []
        self.users: dict[int, FakeUser] = {self.g.bot.id: self.g.bot}
        self.channels: dict[int, JSON] = {}
        self.threads: dict[int, JSON] = {}
        self.history: dict[int, list[JSON]] = {}
        self.commands: list[JSON] = []
        self.identifies: list[JSON] = []
        self.resumes = 0
        self.content_intent = False
        self.fail: list[tuple[str, str, int, JSON]] = []
        self._ws: web.WebSocketResponse | None = None
        self._connected = asyncio.Event()
        self._seq = 0
        self._sessions = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._setup_guild()

    # --- lifecycle ------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def close(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def env(self) -> dict[str, str]:
        """The environment that points the adapter here."""
        return {
            "DISCORD_TOKEN": "fake-token-not-secret",
            "DISCORD_API_URL": f"http://127.0.0.1:{self.port}/api/v10",
            "DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{self.port}/gateway",
        }

    async def connected(self, within: float = 5.0) -> None:
        """Wait until a gateway session is identified."""
        await asyncio.wait_for(self._connected.wait(), within)

    # --- the community ----------------------------------------------------------

    def _setup_guild(self) -> None:
        g = self.g
        for i, (cid, name) in enumerate(
            [
                (g.help, "help"),
                (g.support, "support"),
                (g.staff, "staff"),
                (g.general, "general"),
                (g.escalations, "escalations"),
            ]
        ):
            self.channels[cid] = self._text_channel(cid, name, i)
        # Only the Staff role sees #staff.
        self.channels[g.staff]["permission_overwrites"] = [
            {"id": str(g.id), "type": 0, "allow": "0", "deny": str(VIEW_CHANNEL)},
            {"id": str(g.staff_role), "type": 0, "allow": str(VIEW_CHANNEL), "deny": "0"},
        ]
        self.channels[g.forum] = {
            **self._text_channel(g.forum, "forum", 9),
            "type": 15,
            "available_tags": [],
            "default_reaction_emoji": None,
            "default_sort_order": None,
            "default_forum_layout": 0,
            "default_thread_rate_limit_per_user": 0,
            "flags": 0,
        }
        self.threads[g.thread] = self._thread(g.thread, g.general, "an older thread", g.bot.id)

    def _text_channel(self, cid: int, name: str, position: int) -> JSON:
        return {
            "id": str(cid),
            "type": 0,
            "guild_id": str(self.g.id),
            "name": name,
            "position": position,
            "permission_overwrites": [],
            "parent_id": None,
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }

    def _thread(self, tid: int, parent: int, name: str, owner: int) -> JSON:
        return {
            "id": str(tid),
            "type": 11,
            "guild_id": str(self.g.id),
            "parent_id": str(parent),
            "owner_id": str(owner),
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "total_message_sent": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": iso(_id_time(tid)),
                "locked": False,
            },
        }

    def user(self, name: str, *, bot: bool = False, roles: Iterable[int] = ()) -> FakeUser:
        """A member called `name` (created on first use)."""
        for u in self.users.values():
            if u.name == name:
                return u
        u = FakeUser(5000 + len(self.users), name, bot=bot, roles=tuple(roles))
        self.users[u.id] = u
        return u

    def _role(self, rid: int, name: str, position: int) -> JSON:
        return {
            "id": str(rid),
            "name": name,
            "color": 0,
            "hoist": False,
            "position": position,
            "permissions": "0",
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def guild_payload(self) -> JSON:
        g = self.g
        return {
            "id": str(g.id),
            "name": "Fake Community",
            "unavailable": False,
            "owner_id": "1",
            "member_count": len(self.users),
            "large": False,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [
                {**self._role(g.id, "@everyone", 0), "permissions": str(VIEW_CHANNEL)},
                self._role(g.staff_role, "Staff", 2),
                self._role(g.mod_role, "Moderators", 1),
            ],
            "channels": list(self.channels.values()),
            "threads": list(self.threads.values()),
            "members": [g.bot.member()],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": iso(JOINED),
        }

    # --- messages -----------------------------------------------------------------

    def message(
        self,
        channel: int,
        author: FakeUser,
        content: str,
        *,
        at: datetime,
        message_id: int | None = None,
        reply_to: tuple[int, int] | None = None,
        mentions: Iterable[FakeUser] = (),
        kind: int | None = None,
        webhook: bool = False,
    ) -> JSON:
        """A message payload as the gateway and REST send it."""
        mid = message_id or snowflake(at, next(self._ids))
        data: JSON = {
            "id": str(mid),
            "channel_id": str(channel),
            "guild_id": str(self.g.id),
            "author": author.payload(),
            "member": author.member(with_user=False),
            "content": content,
            "timestamp": iso(_id_time(mid)),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [u.payload() for u in mentions],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "flags": 0,
            "type": kind if kind is not None else (19 if reply_to else 0),
        }
        if reply_to is not None:
            data["message_reference"] = {
                "type": 0,
                "channel_id": str(reply_to[0]),
                "message_id": str(reply_to[1]),
                "guild_id": str(self.g.id),
            }
        if webhook:
            data["webhook_id"] = "777"
        return data

    def store(self, data: JSON) -> None:
        """Keep a message in its channel's history (what REST returns)."""
        self.history.setdefault(int(data["channel_id"]), []).append(data)

    async def post(self, channel: int, author: FakeUser, content: str, **kw: Any) -> JSON:
        """A member posts: stored in history and sent as MESSAGE_CREATE."""
        data = self.message(channel, author, content, **kw)
        self.store(data)
        await self.dispatch("MESSAGE_CREATE", data)
        return data

    def missed(self, channel: int, author: FakeUser, content: str, **kw: Any) -> JSON:
        """A message posted while the bot was away: in history, never sent on the gateway."""
        data = self.message(channel, author, content, **kw)
        self.store(data)
        return data

    async def edit(self, data: JSON, content: str, *, at: datetime) -> JSON:
        data["content"] = content
        data["edited_timestamp"] = iso(at)
        await self.dispatch("MESSAGE_UPDATE", data)
        return data

    async def delete(self, data: JSON) -> None:
        channel = int(data["channel_id"])
        self.history[channel] = [m for m in self.history.get(channel, []) if m is not data]
        await self.dispatch(
            "MESSAGE_DELETE",
            {"id": data["id"], "channel_id": data["channel_id"], "guild_id": str(self.g.id)},
        )

    async def start_thread(
        self,
        parent: int,
        name: str,
        owner: FakeUser,
        *,
        thread_id: int,
        silent: bool = False,
        private: bool = False,
    ) -> JSON:
        """A thread (forum post or a thread from a message); `thread_id` = the message id."""
        data = self._thread(thread_id, parent, name, owner.id)
        if private:
            data["type"] = 12
        self.threads[thread_id] = data
        if not silent:
            await self.dispatch("THREAD_CREATE", {**data, "newly_created": True})
        return data

    async def forum_post(self, author: FakeUser, title: str, content: str, *, at: datetime) -> JSON:
        """A forum post: THREAD_CREATE, then its starter message whose id is the thread id."""
        tid = snowflake(at, next(self._ids))
        await self.start_thread(self.g.forum, title, author, thread_id=tid)
        return await self.post(tid, author, content, at=at, message_id=tid)

    async def react(
        self, data: JSON, user: FakeUser, emoji: str, *, remove: bool = False, custom_id: int = 0
    ) -> None:
        payload: JSON = {
            "user_id": str(user.id),
            "channel_id": data["channel_id"],
            "message_id": data["id"],
            "guild_id": str(self.g.id),
            "emoji": {"id": str(custom_id) if custom_id else None, "name": emoji},
            "type": 0,
            "burst": False,
        }
        if not remove:
            payload["member"] = user.member()
        await self.dispatch(
            "MESSAGE_REACTION_REMOVE" if remove else "MESSAGE_REACTION_ADD", payload
        )

    # --- interactions -----------------------------------------------------------------

    def _interaction(
        self,
        user: FakeUser,
        channel: int,
        data: JSON,
        *,
        kind: int = 2,
        message: JSON | None = None,
    ) -> JSON:
        iid = snowflake(datetime.now(UTC), next(self._ids))
        source = self.channels.get(channel) or self.threads[channel]
        payload: JSON = {
            "id": str(iid),
            "application_id": str(self.g.app_id),
            "type": kind,
            "token": f"token-{iid}",
            "version": 1,
            "guild_id": str(self.g.id),
            "channel_id": str(channel),
            "channel": source,
            "member": user.member(),
            "data": data,
            "locale": "en-US",
            "guild_locale": "en-US",
            "app_permissions": "0",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.g.id)},
            "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message
        return payload

    async def slash(
        self, user: FakeUser, sub: str, options: JSON | None = None, *, channel: int | None = None
    ) -> JSON:
        """`/frontline <sub> ...` typed by `user`; returns the interaction payload."""
        opts: list[JSON] = []
        resolved: JSON = {}
        for name, value in (options or {}).items():
            if name == "channel":
                target = self.channels[int(value)]
                opts.append({"name": name, "type": 7, "value": str(value)})
                resolved = {"channels": {str(value): {**target, "permissions": "0"}}}
            else:
                opts.append({"name": name, "type": 3, "value": value})
        data: JSON = {
            "id": "4242",
            "name": "frontline",
            "type": 1,
            "options": [{"name": sub, "type": 1, "options": opts}],
        }
        if resolved:
            data["resolved"] = resolved
        payload = self._interaction(user, channel or self.g.help, data)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def context_menu(self, user: FakeUser, name: str, message: JSON) -> JSON:
        """A message context-menu command used on `message`."""
        data = {
            "id": "4343",
            "name": name,
            "type": 3,
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: message}},
        }
        payload = self._interaction(user, int(message["channel_id"]), data)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def click(self, user: FakeUser, message: JSON, custom_id: str) -> JSON:
        """`user` clicks the button `custom_id` on `message` (a component interaction)."""
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self._interaction(user, int(message["channel_id"]), data, kind=3, message=message)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def choose(self, user: FakeUser, message: JSON, custom_id: str, value: str) -> JSON:
        """`user` picks `value` in the select menu `custom_id` on `message`."""
        data = {"custom_id": custom_id, "component_type": 3, "values": [value]}
        payload = self._interaction(user, int(message["channel_id"]), data, kind=3, message=message)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def submit(
        self, user: FakeUser, opened_by: JSON, fields: dict[str, str] | None = None
    ) -> JSON:
        """`user` submits the form the bot opened in answer to `opened_by` (MODAL_SUBMIT)."""
        [modal] = [c["data"] for c in self.callbacks(opened_by) if c["type"] == 9]
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
            for key, value in (fields or {}).items()
        ]
        data = {"custom_id": modal["custom_id"], "components": rows}
        payload = self._interaction(
            user,
            int(opened_by["channel_id"]),
            data,
            kind=5,
            message=opened_by.get("message"),
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    def ephemeral(self, interaction: JSON) -> JSON:
        """The private message the bot answered `interaction` with, as a client shows it."""
        [answer] = [c["data"] for c in self.callbacks(interaction) if c["type"] == 4]
        data = self.message(
            int(interaction["channel_id"]),
            self.g.bot,
            answer.get("content") or "",
            at=datetime.now(UTC),
        )
        data["components"] = answer.get("components") or []
        data["flags"] = answer.get("flags", 0)
        data.pop("member")
        return data

    def stored(self, channel: int, message_id: str) -> JSON:
        """A message as Discord has it now (after the bot's edits)."""
        [found] = [m for m in self.history.get(channel, []) if m["id"] == message_id]
        return found

    # --- what the bot did ------------------------------------------------------------

    def requests(self, method: str, prefix: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(prefix)]

    def sent(self, channel: int) -> list[JSON]:
        """Messages the bot posted in `channel`."""
        return [c.body for c in self.requests("POST", f"/channels/{channel}/messages")]

    def callbacks(self, interaction: JSON) -> list[JSON]:
        return [c.body for c in self.requests("POST", f"/interactions/{interaction['id']}/")]

    def followups(self, interaction: JSON) -> list[JSON]:
        return [
            c.body
            for c in self.requests("POST", f"/webhooks/{self.g.app_id}/{interaction['token']}")
        ]

    def original_edits(self, interaction: JSON) -> list[JSON]:
        """Edits of the message `interaction` came from (or answered with)."""
        path = f"/webhooks/{self.g.app_id}/{interaction['token']}/messages/@original"
        return [c.body for c in self.requests("PATCH", path)]

    async def wait_for(self, predicate: Any, within: float = 5.0) -> None:
        """Poll until `predicate()` is true (short sleeps, bounded)."""
        deadline = asyncio.get_running_loop().time() + within
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("timed out waiting for the bot")
            await asyncio.sleep(0.01)

    def fail_next(self, method: str, prefix: str, status: int, body: JSON | None = None) -> None:
        """Answer the next matching request with `status` (e.g. 429 with retry_after)."""
        self.fail.append((method, prefix, status, body or {}))

    # --- gateway ----------------------------------------------------------------------

    def _readable(self, data: JSON, content: bool) -> JSON:
        """A message as the bot may read it: without the content intent, text is blanked.

        As on Discord: the bot's own messages and those mentioning it keep their text.
        """
        mentioned = any(u["id"] == str(self.g.bot.id) for u in data.get("mentions", []))
        if content or data["author"]["id"] == str(self.g.bot.id) or mentioned:
            return data
        return {**data, "content": "", "embeds": [], "attachments": [], "components": []}

    async def dispatch(self, event: str, data: JSON) -> None:
        """Send one DISPATCH to the connected bot."""
        await self.connected()
        assert self._ws is not None
        if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
            data = self._readable(data, self.content_intent)
        self._seq += 1
        await self._ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    async def drop(self) -> None:
        """Cut the websocket; the bot's RESUME will be refused (INVALID_SESSION)."""
        self._connected.clear()
        if self._ws is not None:
            await self._ws.close(code=4000)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            op = frame.get("op")
            if op == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:
                await self._identify(ws, frame["d"])
            elif op == 6:
                # Sessions never survive here: the bot must IDENTIFY again and backfill.
                self.resumes += 1
                await ws.send_str(json.dumps({"op": 9, "d": False}))
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: JSON) -> None:
        self.identifies.append({k: v for k, v in data.items() if k != "token"})
        if data.get("intents", 0) & MESSAGE_CONTENT and not self.allow_message_content:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        self._ws = ws
        self.content_intent = bool(data.get("intents", 0) & MESSAGE_CONTENT)
        self._seq = 1
        ready = {
            "v": 10,
            "user": self.g.bot.payload(),
            "guilds": [{"id": str(self.g.id), "unavailable": True}],
            "session_id": f"session-{next(self._sessions)}",
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
            "application": {"id": str(self.g.app_id), "flags": 0},
        }
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": 1, "d": ready}))
        self._seq = 2
        guild = {"op": 0, "t": "GUILD_CREATE", "s": 2, "d": self.guild_payload()}
        await ws.send_str(json.dumps(guild))
        self._connected.set()

    # --- REST -------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.content_type.startswith("multipart/"):
            # Attachments: the JSON travels in `payload_json`, files beside it.
            form = await request.post()
            body = json.loads(str(form["payload_json"]))
            body["_files"] = {
                part.filename: part.file.read()
                for key, part in form.items()
                if key != "payload_json" and isinstance(part, web.FileField)
            }
        elif request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
        self.calls.append(Call(request.method, path, dict(request.query), body))
        for i, (method, prefix, status, payload) in enumerate(self.fail):
            if method == request.method and path.startswith(prefix):
                del self.fail[i]
                # Without `Via` discord.py takes a 429 for a Cloudflare ban and gives up.
                headers = {"Retry-After": "0.01", "Via": "1.1 google"} if status == 429 else {}
                if status == 429:
                    payload = {
                        "message": "You are being rate limited.",
                        "retry_after": 0.01,
                        "global": False,
                        **payload,
                    }
                return _json(payload, status, headers)
        try:
            return await self._route(request.method, path, request.query, body)
        except KeyError:
            return _json({"message": "Unknown", "code": 10003}, 404)

    async def _route(self, method: str, path: str, query: Any, body: Any) -> web.Response:
        g = self.g
        parts = path.strip("/").split("/")
        if path == "/users/@me":
            return _json(g.bot.payload())
        if path == "/oauth2/applications/@me":
            return _json(
                {
                    "id": str(g.app_id),
                    "name": "Frontline",
                    "description": "",
                    "icon": None,
                    "bot_public": False,
                    "bot_require_code_grant": False,
                    "owner": FakeUser(1, "owner").payload(),
                    "verify_key": "0" * 64,
                    "flags": 0,
                }
            )
        if path in ("/gateway", "/gateway/bot"):
            return _json({"url": f"ws://127.0.0.1:{self.port}/gateway", "shards": 1})
        if parts[:1] == ["applications"] and parts[2:3] == ["commands"]:
            if method == "PUT":
                self.commands = [
                    {
                        "description": "",
                        **c,
                        "id": str(7000 + i),
                        "application_id": str(g.app_id),
                        "version": "1",
                    }
                    for i, c in enumerate(body)
                ]
            return _json(self.commands)
        if parts[:1] == ["channels"] and len(parts) == 2:
            cid = int(parts[1])
            return _json(self.channels.get(cid) or self.threads[cid])
        if parts[:1] == ["channels"] and parts[2:3] == ["messages"] and len(parts) == 3:
            cid = int(parts[1])
            if method == "POST":
                data = self.message(cid, g.bot, body.get("content") or "", at=datetime.now(UTC))
                data["embeds"] = body.get("embeds") or []
                data["components"] = body.get("components") or []
                if body.get("message_reference"):
                    data["message_reference"] = body["message_reference"]
                self.store(data)
                return _json(data)
            return _json(
                [self._readable(m, self.allow_message_content) for m in self._history(cid, query)]
            )
        if parts[:1] == ["channels"] and parts[2:3] == ["messages"] and len(parts) == 4:
            found = [m for m in self.history.get(int(parts[1]), []) if m["id"] == parts[3]]
            if not found:
                return _json({"message": "Unknown Message", "code": 10008}, 404)
            if method == "PATCH":
                found[0]["content"] = body.get("content") or ""
                found[0]["embeds"] = body.get("embeds") or []
                if "components" in body:
                    found[0]["components"] = body["components"]
                found[0]["edited_timestamp"] = iso(datetime.now(UTC))
            return _json(self._readable(found[0], self.allow_message_content))
        if parts[:1] == ["channels"] and "reactions" in parts:
            return web.Response(status=204)
        if parts[:2] == ["users", "@me"] and parts[2:3] == ["channels"]:
            recipient = self.users[int(body["recipient_id"])]
            return _json(
                {"id": str(8000 + recipient.id), "type": 1, "recipients": [recipient.payload()]}
            )
        if parts[:1] == ["users"] and len(parts) == 2:
            return _json(self.users[int(parts[1])].payload())
        if parts[:1] == ["guilds"] and parts[2:] == ["threads", "active"]:
            return _json({"threads": list(self.threads.values()), "members": []})
        if parts[:1] == ["guilds"] and parts[2:3] == ["members"]:
            user = self.users.get(int(parts[3]))
            if user is None:
                return _json({"message": "Unknown Member", "code": 10007}, 404)
            return _json(user.member())
        if parts[:1] == ["interactions"]:
            kind = (body or {}).get("type", 0)
            return _json(
                {
                    "interaction": {
                        "id": parts[1],
                        "type": 2,
                        "response_message_loading": kind == 5,
                        "response_message_ephemeral": bool(
                            ((body or {}).get("data") or {}).get("flags", 0) & 64
                        ),
                    },
                    "resource": {"type": kind},
                }
            )
        if parts[:1] == ["webhooks"]:
            data = self.message(
                int(g.help), g.bot, (body or {}).get("content") or "", at=datetime.now(UTC)
            )
            data["embeds"] = (body or {}).get("embeds") or []
            data["flags"] = (body or {}).get("flags", 0)
            return _json(data)
        raise KeyError(path)

    def _history(self, channel: int, query: Any) -> list[JSON]:
        limit = int(query.get("limit", 50))
        messages = sorted(self.history.get(channel, []), key=lambda m: int(m["id"]))
        if "after" in query:
            after = int(query["after"])
            chosen = [m for m in messages if int(m["id"]) > after][:limit]
        else:
            before = int(query.get("before", 1 << 63))
            chosen = [m for m in messages if int(m["id"]) < before][-limit:]
        return list(reversed(chosen))


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py only parses bodies whose Content-Type is exactly application/json.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


# --- a running bot against the fake ------------------------------------------------------


def discord_config(g: FakeGuild | None = None, **overrides: Any) -> JSON:
    """Settings data watching #help, #support (every post) and the forum; Staff is a role."""
    g = g or FakeGuild()
    data: JSON = {
        "bot": {"sweep_interval": "30s"},
        "staff": {"discord_roles": ["Staff"], "discord_users": []},
        "channels": [
            {
                "platform": "discord",
                "id": str(g.help),
                "name": "help",
                "target": "1h",
                "nudge_channel": str(g.staff),
            },
            {
                "platform": "discord",
                "id": str(g.support),
                "name": "support",
                "mode": "every-post",
                "target": "30m",
                "nudge_channel": str(g.staff),
            },
            {
                "platform": "discord",
                "id": str(g.forum),
                "name": "forum",
                "target": "2h",
                "nudge_channel": str(g.staff),
            },
        ],
    }
    data.update(overrides)
    return data


@dataclass
class DiscordWorld:
    """The app, the adapter and the fake, with helpers to wait for the bot's effects."""

    fake: FakeDiscord
    app: Frontline
    adapter: DiscordAdapter
    clock: VirtualClock
    task: asyncio.Task[None]

    def ref(self, message: JSON) -> MessageRef:
        return MessageRef(
            "discord", str(self.fake.g.id), str(message["channel_id"]), str(message["id"])
        )

    async def question(self, message: JSON | MessageRef) -> Question | None:
        ref = message if isinstance(message, MessageRef) else self.ref(message)
        return await self.app.ctx.store.question_by_ref(ref)

    async def eventually(self, check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
        """Poll an async condition on the bot's state until it holds (bounded)."""
        deadline = asyncio.get_running_loop().time() + within
        while not await check():
            if self.task.done():
                self.task.result()
                raise AssertionError("the adapter stopped")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("timed out waiting for the bot")
            await asyncio.sleep(0.01)

    async def tracked(self, message: JSON) -> Question:
        """The question of `message`, once the bot has tracked it."""

        async def seen() -> bool:
            return await self.question(message) is not None

        await self.eventually(seen)
        found = await self.question(message)
        assert found is not None
        return found

    async def settled(self) -> None:
        """Every event pushed so far has been handled: a sentinel post went through."""
        sentinel = await self.fake.post(
            self.fake.g.help, self.fake.user("sentinel"), "hello all", at=self.clock.now()
        )

        async def seen() -> bool:
            return await self.app.ctx.store.last_seen(
                "discord", str(self.fake.g.id), str(self.fake.g.help)
            ) == discord.utils.snowflake_time(int(sentinel["id"]))

        await self.eventually(seen)


@asynccontextmanager
async def running_bot(
    fake: FakeDiscord,
    settings: Settings,
    database: Path,
    clock: VirtualClock,
    *,
    sync_state: Path | None = None,
    env: Mapping[str, str] | None = None,
    router: Router[Context] | None = None,
) -> AsyncIterator[DiscordWorld]:
    """The real adapter and app, logged in to the fake, until the block ends."""
    adapter = DiscordAdapter(
        settings,
        env=env or fake.env(),
        sync_state=sync_state or database.with_name("commands.sha256"),
        guild_ready_timeout=0.05,
        identify_delay=0,
    )
    async with Frontline.open(
        settings, clock, {"discord": adapter.platform}, router=router, database=str(database)
    ) as app:
        task = asyncio.create_task(adapter.run(app))
        world = DiscordWorld(fake, app, adapter, clock, task)
        try:
            await fake.wait_for(lambda: adapter.backfills >= 1 or task.done())
            if task.done():
                task.result()
            yield world
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
