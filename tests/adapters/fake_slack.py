"""A fake Slack Web API on 127.0.0.1 (port 0) that records every call, plus request signing.

It answers the methods the Slack adapter uses with Slack-shaped JSON, merges query,
form and JSON arguments the way slack_sdk sends them, keeps channel histories and
threads for backfill, and serves `response_url` endpoints. It can be told to answer
429 with Retry-After, 500, or drop the connection for the next N calls of a method.
Files go through the three steps of `files_upload_v2` (an upload URL on this server,
the bytes, then `files.completeUploadExternal`), recorded in `shared`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.adapters.slack_adapter import SlackAdapter
from bot.adapters.slack_links import datetime_to_ts
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.model import MessageRef, Question
from config.settings import load_settings
from tests.conftest import T0

TEAM = "T0TEAM"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
DOMAIN = "acme"
SECRET = "test-signing-secret"


@dataclass
class Call:
    """One request the fake received."""

    method: str
    args: dict[str, Any]
    token: str = ""
    fault: str = ""  # what the fake answered instead of success, if told to fail
    via: str = ""  # the caller's name when it was given `api_url_for(name)`


@dataclass
class FakeSlack:
    """The Slack Web API, as far as Frontline uses it."""

    team: str = TEAM
    bot_user: str = BOT_USER
    bot_id: str = BOT_ID
    calls: list[Call] = field(default_factory=list)
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    replies: dict[tuple[str, str], list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    usergroups: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 100
    faults: dict[str, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    base: str = ""
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    reactions: set[tuple[Any, Any, Any]] = field(default_factory=set)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    shared: list[dict[str, Any]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    # Several workspaces (OAuth): what oauth.v2.access answers per code, who each bot
    # token is (auth.test), and the tokens Slack no longer accepts.
    client_id: str = "1234.5678"
    client_secret: str = "test-client-secret"
    grants: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    refreshes: dict[str, str] = field(default_factory=dict)
    _caller: str = ""
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        # The same API under a per-caller prefix, so several processes can be told apart.
        app.router.add_route("*", "/{via}/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def api_url_for(self, via: str) -> str:
        """The Web API for one caller: its calls are recorded with `via` set to this name."""
        return f"{self.base}/{via}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.base}/respond/{name}"

    # -- test controls -------------------------------------------------------------

    def fail(self, method: str, kind: str, times: int = 1, retry_after: int = 0) -> None:
        """Make the next `times` calls of `method` fail: 429, 500, drop, or a Slack error code."""
        self.faults[method].extend([(kind, retry_after)] * times)

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method]

    def posted(self, channel: str) -> list[dict[str, Any]]:
        """The chat.postMessage calls to `channel` that succeeded."""
        return [
            c.args
            for c in self.calls
            if c.method == "chat.postMessage" and c.args.get("channel") == channel and not c.fault
        ]

    def add_user(self, user: str, name: str, **flags: Any) -> None:
        self.users[user] = {
            "id": user,
            "name": name.lower(),
            "real_name": name,
            "profile": {"display_name": name, "real_name": name},
            **flags,
        }

    def add_usergroup(self, group_id: str, handle: str, members: list[str]) -> None:
        self.usergroups.append({"id": group_id, "handle": handle, "users": members})

    def add_message(
        self,
        channel: str,
        user: str,
        text: str,
        ts: str,
        thread_ts: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Put a message in a channel's history (or a thread), as conversations.* return it."""
        message: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts}
        message.update(extra)
        if thread_ts and thread_ts != ts:
            message["thread_ts"] = thread_ts
            self.replies[(channel, thread_ts)].append(message)
            parent = next((m for m in self.history[channel] if m["ts"] == thread_ts), None)
            if parent is not None:
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
        else:
            self.history[channel].append(message)
        return message

    # -- the API ---------------------------------------------------------------------

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(dict(await request.post()))
        return args

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await self._args(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        call = Call(method, args, token, via=request.match_info.get("via", ""))
        self.calls.append(call)
        if self.faults.get(method):
            kind, retry_after = self.faults[method].pop(0)
            call.fault = kind
            if kind == "429":
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(retry_after)},
                )
            if kind == "500":
                return web.json_response({"ok": False, "error": "internal_error"}, status=500)
            if kind != "drop":
                return web.json_response({"ok": False, "error": kind})
            assert request.transport is not None
            request.transport.close()
            raise web.HTTPInternalServerError  # never reaches the client: the socket is gone
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        if token in self.revoked:
            call.fault = "token_revoked"
            return web.json_response({"ok": False, "error": "token_revoked"})
        self._caller = request.headers.get("Authorization", "")
        answer = handler(args)
        return web.json_response({"ok": "error" not in answer, **answer})

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then record every envelope acknowledgement."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        async for frame in ws:
            if frame.type == aiohttp.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(frame.data))
        return ws

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to the connected app."""
        assert self._sockets, "no Socket Mode connection"
        await self._sockets[-1].send_str(json.dumps(envelope))

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append((request.match_info["name"], await request.json()))
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        """Step two of files_upload_v2: the bytes, POSTed to the URL step one gave."""
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404, text="unknown upload")
        self.uploads[file_id] = await request.read()
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def install(
        self,
        code: str,
        team: str,
        name: str,
        token: str,
        bot_user: str,
        bot_id: str,
        refresh_token: str | None = None,
    ) -> None:
        """Let `code` be exchanged (once) for an installation of the app in `team`.

        With `refresh_token`, the app rotates tokens and this one expires in a minute.
        """
        rotating = {"refresh_token": refresh_token, "expires_in": 60} if refresh_token else {}
        self.grants[code] = rotating | {
            "app_id": "A0FRONTLINE",
            "authed_user": {"id": "UINSTALLER"},
            "scope": "channels:history,chat:write,commands",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": bot_user,
            "team": {"id": team, "name": name},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        self.tokens[token] = {
            "url": f"https://{name.lower()}.slack.com/",
            "team": name,
            "team_id": team,
            "user": "frontline",
            "user_id": bot_user,
            "bot_id": bot_id,
        }

    def rotation(self, old_token: str, refresh_token: str, new_token: str) -> None:
        """Let `refresh_token` be exchanged (once) for `new_token`, the same bot as before."""
        self.refreshes[refresh_token] = new_token
        self.tokens[new_token] = self.tokens[old_token]

    def _oauth_v2_access(self, args: dict[str, Any]) -> dict[str, Any]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if self._caller != f"Basic {expected}":
            return {"error": "invalid_client_id"}
        if args.get("grant_type") == "refresh_token":
            new = self.refreshes.pop(str(args.get("refresh_token", "")), None)
            if new is None:
                return {"error": "invalid_refresh_token"}
            return {
                "access_token": new,
                "refresh_token": f"xoxe-1-next-{new}",
                "expires_in": 43200,
                "token_type": "bot",
            }
        grant = self.grants.pop(str(args.get("code", "")), None)
        return grant if grant is not None else {"error": "invalid_code"}

    def _auth_revoke(self, args: dict[str, Any]) -> dict[str, Any]:
        self.revoked.add(self._caller.removeprefix("Bearer "))
        return {"revoked": True}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        known = self.tokens.get(self._caller.removeprefix("Bearer "))
        if known is not None:
            return known
        return {
            "url": f"https://{DOMAIN}.slack.com/",
            "team": "Acme",
            "team_id": self.team,
            "user": "frontline",
            "user_id": self.bot_user,
            "bot_id": self.bot_id,
        }

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"{self.base.replace('http', 'ws')}/socket"}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if not channel:
            return {"error": "channel_not_found"}
        ts = self._next_ts()
        message = {"type": "message", "bot_id": self.bot_id, "text": args.get("text"), "ts": ts}
        metadata = args.get("metadata")
        if isinstance(metadata, str):  # form-encoded calls send it as JSON text
            metadata = json.loads(metadata)
        if isinstance(metadata, dict):
            message["metadata"] = metadata
        if args.get("thread_ts"):
            self.replies[(channel, str(args["thread_ts"]))].append(message)
        else:
            self.history[channel].append(message)
        return {"channel": channel, "ts": ts, "message": message}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self._next_ts()}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text")}

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not int(args.get("length") or 0):
            return {"error": "invalid_arguments"}
        file_id = f"F{next(self._ts):08d}"
        self.uploads[file_id] = b""
        return {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = json.loads(args.get("files") or "[]")
        if not files or any(not self.uploads.get(f.get("id")) for f in files):
            return {"error": "file_not_found"}
        for f in files:
            self.shared.append(
                {
                    "id": f["id"],
                    "title": f.get("title"),
                    "channel": args.get("channel_id"),
                    "thread_ts": args.get("thread_ts"),
                    "data": self.uploads[f["id"]],
                }
            )
        return {"files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        info = {"id": channel, "is_private": False, "is_im": channel.startswith("D")}
        return {"channel": info | self.channels.get(channel, {})}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        if not args.get("trigger_id") or not isinstance(view, dict):
            return {"error": "invalid_arguments"}
        self.views.append(view)
        return {"view": {"id": f"V{next(self._ts):08d}", **view}}

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args.get("channel", "")), str(args.get("message_ts", ""))
        link = f"https://{DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"channel": channel, "permalink": link}

    def _page(self, items: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
        start = int(args.get("cursor") or 0)
        limit = min(int(args.get("limit") or self.page_size), self.page_size)
        page = items[start : start + limit]
        more = start + limit < len(items)
        meta = {"next_cursor": str(start + limit) if more else ""}
        return {"messages": page, "has_more": more, "response_metadata": meta}

    @staticmethod
    def _in_range(message: dict[str, Any], args: dict[str, Any]) -> bool:
        """Slack's oldest/latest bounds, exclusive unless `inclusive` is set."""
        ts = float(message["ts"])
        inclusive = str(args.get("inclusive", "")).lower() in ("1", "true")
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        items = [m for m in self.history[str(args.get("channel"))] if self._in_range(m, args)]
        return self._page(sorted(items, key=lambda m: float(m["ts"]), reverse=True), args)

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args.get("channel")), str(args.get("ts"))
        if not any(m["ts"] == ts for m in self.history[channel]):
            # A reply's ts names its thread too (Slack answers with the whole thread).
            ts = next(
                (
                    root
                    for (where, root), replies in self.replies.items()
                    if where == channel and any(m["ts"] == ts for m in replies)
                ),
                ts,
            )
        parent = [m for m in self.history[channel] if m["ts"] == ts]
        replies = [m for m in self.replies.get((channel, ts), []) if self._in_range(m, args)]
        return self._page(parent + sorted(replies, key=lambda m: float(m["ts"])), args)

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": {"id": "D" + str(args.get("users", "")).lstrip("U")}}

    def _reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (args.get("channel"), args.get("timestamp"), args.get("name"))
        if key in self.reactions:
            return {"error": "already_reacted"}
        self.reactions.add(key)
        return {}

    def _usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"usergroups": [{"id": g["id"], "handle": g["handle"]} for g in self.usergroups]}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        for group in self.usergroups:
            if group["id"] == args.get("usergroup"):
                return {"users": group["users"]}
        return {"error": "no_such_subteam"}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        return {"user": user} if user else {"error": "user_not_found"}


# --- signed requests, as Slack sends them -------------------------------------------


def signed_headers(
    body: str, *, secret: str = SECRET, at: float | None = None, content_type: str = ""
) -> dict[str, str]:
    """The headers Slack adds: a timestamp and the v0 HMAC signature of `body`."""
    stamp = str(int(at if at is not None else time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}
    if content_type:
        headers["Content-Type"] = content_type
    return headers


def event_body(event: dict[str, Any], event_id: str, team: str = TEAM) -> str:
    """An Events API `event_callback` envelope, JSON-encoded."""
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": team,
            "api_app_id": "A0FRONTLINE",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": team, "user_id": BOT_USER, "is_bot": True, "enterprise_id": None}
            ],
        }
    )


def command_body(text: str, *, user: str, channel: str, response_url: str, team: str = TEAM) -> str:
    """A `/frontline` slash command request, form-encoded."""
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": team,
            "team_domain": DOMAIN,
            "channel_id": channel,
            "channel_name": "help",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/frontline",
            "text": text,
            "api_app_id": "A0FRONTLINE",
            "response_url": response_url,
            "trigger_id": f"trigger-{time.monotonic_ns()}",
        }
    )


def shortcut_body(
    *, user: str, channel: str, message: dict[str, Any], response_url: str, team: str = TEAM
) -> str:
    """A message shortcut (`message_action`) request: form-encoded JSON in `payload`."""
    payload = {
        "type": "message_action",
        "token": "legacy-verification-token",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team, "domain": DOMAIN},
        "user": {"id": user, "username": user.lower(), "team_id": team, "name": user.lower()},
        "channel": {"id": channel, "name": "help"},
        "is_enterprise_install": False,
        "callback_id": "frontline_escalate",
        "trigger_id": f"trigger-{time.monotonic_ns()}",
        "response_url": response_url,
        "message_ts": message["ts"],
        "message": message,
    }
    return urlencode({"payload": json.dumps(payload)})


def _user(user: str, team: str) -> dict[str, str]:
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team}


def action_body(
    *,
    user: str,
    message: dict[str, Any],
    button: dict[str, Any],
    channel: str,
    response_url: str,
    team: str = TEAM,
) -> str:
    """A click on `button` (a button element as posted) of `message`: `block_actions`."""
    payload = {
        "type": "block_actions",
        "token": "legacy-verification-token",
        "api_app_id": "A0FRONTLINE",
        "team": {"id": team, "domain": DOMAIN},
        "user": _user(user, team),
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"trigger-{time.monotonic_ns()}",
        "channel": {"id": channel, "name": "support"},
        "message": message,
        "response_url": response_url,
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": "b1",
                "text": button["text"],
                "value": button.get("value", ""),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def view_submission_body(
    view: dict[str, Any], values: dict[str, str], *, user: str, team: str = TEAM
) -> str:
    """Submitting modal `view` (as opened) with `values` typed or chosen, by input block id."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input" or block["block_id"] not in values:
            continue
        element = block["element"]
        value = values[block["block_id"]]
        if element["type"] == "static_select":
            [option] = [o for o in element["options"] if o["value"] == value]
            typed: dict[str, Any] = {"type": "static_select", "selected_option": option}
        else:
            typed = {"type": element["type"], "value": value}
        state[block["block_id"]] = {element["action_id"]: typed}
    payload = {
        "type": "view_submission",
        "token": "legacy-verification-token",
        "api_app_id": "A0FRONTLINE",
        "team": {"id": team, "domain": DOMAIN},
        "user": _user(user, team),
        "trigger_id": f"trigger-{time.monotonic_ns()}",
        "view": {
            "id": f"V{time.monotonic_ns()}",
            "team_id": team,
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "blocks": view["blocks"],
            "state": {"values": state},
            "hash": "1712345678.abcd",
            "app_id": "A0FRONTLINE",
            "bot_id": BOT_ID,
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }
    return urlencode({"payload": json.dumps(payload)})


# --- a running bot wired to the fake ----------------------------------------------------

HELP = "C0HELP"
STAFF = "C0STAFF"
RANDOM = "C0RANDOM"


def slack_config(**overrides: Any) -> dict[str, Any]:
    """One watched Slack channel with a 1h target, nudging a staff channel."""
    data: dict[str, Any] = {
        "bot": {"sweep_interval": "30s"},
        "staff": {"slack_users": ["UANA"], "slack_usergroups": ["support-team"]},
        "channels": [
            {
                "platform": "slack",
                "id": HELP,
                "name": "help",
                "target": "1h",
                "nudge_channel": STAFF,
            }
        ],
    }
    data.update(overrides)
    return data


def ts_at(when: datetime, n: int = 0) -> str:
    """The Slack ts of a message posted at `when` (`n` separates messages of one second)."""
    return datetime_to_ts(when + timedelta(microseconds=n))


def message_event(user: str, text: str, ts: str, channel: str = HELP, **extra: Any) -> dict:
    """A `message` event as the Events API delivers it."""
    event = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
        "team": TEAM,
    }
    event.update(extra)
    return event


class SlackWorld:
    """A real Frontline with the Slack adapter serving HTTP on 127.0.0.1, and the fake API."""

    def __init__(
        self,
        fake: FakeSlack,
        adapter: SlackAdapter,
        app: Frontline,
        clock: VirtualClock,
        session: aiohttp.ClientSession,
    ) -> None:
        self.fake = fake
        self.adapter = adapter
        self.app = app
        self.clock = clock
        self.session = session
        self.store = app.ctx.store
        self._ids = itertools.count(1)

    def ref(self, ts: str, channel: str = HELP) -> MessageRef:
        return MessageRef("slack", TEAM, channel, ts)

    async def post_raw(self, body: str, headers: dict[str, str]) -> tuple[int, str]:
        async with self.session.post(self.adapter.url, data=body, headers=headers) as resp:
            return resp.status, await resp.text()

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int = 0
    ) -> int:
        body = event_body(event, event_id or f"Ev{next(self._ids):06d}")
        headers = signed_headers(body, content_type="application/json")
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        status, _ = await self.post_raw(body, headers)
        return status

    async def say(self, user: str, text: str, at: datetime | None = None, **extra: Any) -> str:
        """Deliver a message event; returns its ts."""
        ts = ts_at(at or self.clock.now(), next(self._ids))
        assert await self.event(message_event(user, text, ts, **extra)) == 200
        return ts

    async def command(self, text: str, user: str = "UANA", channel: str = HELP) -> dict:
        """Run `/frontline text`; returns what was sent to the response_url."""
        before = len(self.fake.responses)
        name = f"cmd{next(self._ids)}"
        body = command_body(
            text, user=user, channel=channel, response_url=self.fake.response_url(name)
        )
        headers = signed_headers(body, content_type="application/x-www-form-urlencoded")
        status, ack = await self.post_raw(body, headers)
        assert status == 200
        assert ack == ""  # acked with an empty body: the answer goes to the response_url
        sent = [r for n, r in self.fake.responses[before:] if n == name]
        assert len(sent) == 1, self.fake.responses
        return sent[0]

    async def interact(self, body: str) -> tuple[int, str]:
        """POST a signed interactivity payload (form-encoded) as Slack does."""
        headers = signed_headers(body, content_type="application/x-www-form-urlencoded")
        return await self.post_raw(body, headers)

    async def question(self, ts: str) -> Question:
        question = await self.store.question_by_ref(self.ref(ts))
        assert question is not None, f"{ts} is not tracked"
        return question


@asynccontextmanager
async def slack_world(
    fake: FakeSlack,
    db: Path,
    *,
    config: dict[str, Any] | None = None,
    start: datetime = T0,
    http: bool = True,
) -> AsyncIterator[SlackWorld]:
    """Start Frontline + the Slack adapter (HTTP or Socket Mode) against `fake`; stop it after."""
    settings = load_settings(data=config or slack_config())
    clock = VirtualClock(start)
    adapter = SlackAdapter(
        settings,
        http=http,
        host="127.0.0.1",
        port=0,
        api_url=fake.api_url,
        process_before_response=True,
    )
    async with (
        Frontline.open(settings, clock, {"slack": adapter.platform}, database=str(db)) as app,
        aiohttp.ClientSession() as session,
    ):
        task = asyncio.create_task(adapter.run(app))
        ready = asyncio.create_task(adapter.ready.wait())
        await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            ready.cancel()
            task.result()  # raises what stopped it
        assert adapter.ready.is_set(), "the Slack adapter did not start"
        try:
            yield SlackWorld(fake, adapter, app, clock, session)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
