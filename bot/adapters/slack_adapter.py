"""The Slack adapter: slack-bolt's AsyncApp in, the Web API out, core types in between.

Inbound, Events API payloads (over Socket Mode or signed HTTP requests) are translated
by pure functions through lookup tables whose default is "skip", filtered to the
configured channels, and handed to `Frontline.handle`. `/frontline` and the "Escalate"
message shortcut are acked first and answered privately through `response_url`.

Interactivity: the shortcut opens a modal (destination and reason) whose submission
becomes `ShortcutInvoked`; buttons on the bot's posts become `ActionInvoked`, except
those in `NOTE_FORMS` (Resolve), which first open a modal for an optional note. Every
interaction is acked before the core runs; answers after a modal, which has no
`response_url`, go out as an ephemeral message in the channel, or a DM when that fails.
Images (`Post.image`) are uploaded under the message they belong to; a private command
answer cannot carry a file, so its image goes to the caller's DM with the bot.

Outbound, `SlackPlatform` implements the Platform port over an `AsyncWebClient` that
retries rate limits and dropped connections; every other API error is logged with its
method and channel and raised as `PlatformError`, never fatal to the process.

On start, a bounded backfill reads what watched channels received while the bot was
down (`conversations.history` since the newest stored message, plus the threads of
questions still waiting) and feeds it through the same path as live events.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.adapters.slack_blocks import (
    DESTINATION,
    MAX_ITEMS,
    NOTE,
    REASON,
    NoteForm,
    escalate_modal,
    fallback_text,
    note_modal,
    render,
)
from bot.adapters.slack_links import (
    PLATFORM,
    build_permalink,
    datetime_to_ts,
    parse_permalink,
    ts_to_datetime,
)
from bot.core.events import (
    ActionInvoked,
    CommandInvoked,
    Inbound,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    ShortcutInvoked,
)
from bot.core.model import ChannelRef, Message, MessageRef, Post, Reply, UserRef
from bot.core.platform import Platform, PlatformError
from bot.storage import inbox
from config.settings import ConfigError, Settings

if TYPE_CHECKING:
    from bot.adapters.slack_oauth import SlackOAuth
    from bot.app import Frontline
    from bot.telemetry import Telemetry

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
COMMAND = "/frontline"
ESCALATE_CALLBACK = "frontline_escalate"
EVENTS_PATH = "/slack/events"
# The metadata event type of posts the outbox sends (their key is its payload).
SEND_EVENT = "frontline_send"
NOT_CONFIGURED = (
    "Escalation destinations are not configured yet, so nothing was sent. "
    "Ask a community manager to follow up on this message."
)
FAILED = "Something went wrong on our side; the error has been logged."
FORM_FAILED = "Slack did not open the form in time; please try again."
NO_ACTION = "That button does nothing any more."
IMAGE_SENT = "I sent you the image in our direct messages (private answers can't carry files)."
IMAGE_FAILED = "I could not send you the image in a direct message; the error has been logged."
ESCALATE_VIEW = "frontline_escalate_form"
NOTE_VIEW = "frontline_note_form"
# Buttons that ask for a note before they act; the note arrives as `ActionInvoked.note`.
NOTE_FORMS = {
    "escalation.resolve": NoteForm(
        "Resolve",
        "Resolution note (optional)",
        "Posted in the member's thread. Leave it empty to resolve without telling them.",
    ),
}

Payload = Mapping[str, Any]
Translator = Callable[[Payload, str, "str | None"], "Inbound | None"]

# --- inbound: pure translation -----------------------------------------------

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def mentions_in(text: str) -> tuple[str, ...]:
    """User ids mentioned as `<@U123>` (or `<@U123|name>`), in order, without repeats."""
    return tuple(dict.fromkeys(_MENTION.findall(text)))


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _when(ts: object, fallback: datetime | None = None) -> datetime:
    try:
        return ts_to_datetime(_str(ts))
    except ValueError:
        if fallback is None:
            raise
        return fallback


def message_from(item: Payload, space: str, channel: str) -> Message | None:
    """A Slack message object (from an event or a history page) as a core Message.

    None for bot messages and anything without a human author or a valid `ts`.
    A thread parent (`thread_ts == ts`) is top-level; a reply hangs from `thread_ts`.
    """
    if item.get("bot_id") or item.get("subtype") == "bot_message":
        return None
    user, ts = _str(item.get("user")), _str(item.get("ts"))
    if not user or not ts:
        return None
    try:
        posted_at = ts_to_datetime(ts)
    except ValueError:
        return None
    profile = item.get("user_profile")
    name = ""
    if isinstance(profile, Mapping):
        name = _str(profile.get("display_name")) or _str(profile.get("real_name"))
    thread_ts = _str(item.get("thread_ts"))
    root = (
        MessageRef(PLATFORM, space, channel, thread_ts) if thread_ts and thread_ts != ts else None
    )
    text = _str(item.get("text"))
    return Message(
        MessageRef(PLATFORM, space, channel, ts),
        UserRef(PLATFORM, space, user, name),
        text,
        posted_at,
        thread_root=root,
        mentions=mentions_in(text),
    )


def _posted(event: Payload, space: str, event_id: str | None) -> Inbound | None:
    message = message_from(event, space, _str(event.get("channel")))
    return MessagePosted(event_id, message) if message else None


def _file_share(event: Payload, space: str, event_id: str | None) -> Inbound | None:
    # A file alone is not something anyone can answer; its comment (the text) is.
    return _posted(event, space, event_id) if _str(event.get("text")).strip() else None


def _changed(event: Payload, space: str, event_id: str | None) -> Inbound | None:
    new = event.get("message")
    old = event.get("previous_message")
    if not isinstance(new, Mapping):
        return None
    channel = _str(event.get("channel"))
    at = _when(event.get("event_ts") or event.get("ts"))
    if new.get("subtype") == "tombstone":
        # A thread parent deleted while it has replies stays as a placeholder.
        return MessageDeleted(event_id, MessageRef(PLATFORM, space, channel, _str(new["ts"])), at)
    if isinstance(old, Mapping) and _str(old.get("text")) == _str(new.get("text")):
        return None  # unfurls, reply counts, pins: not an edit of what was asked
    message = message_from(new, space, channel)
    if message is None:
        return None
    edited = new.get("edited")
    edited_at = _when(edited.get("ts"), at) if isinstance(edited, Mapping) else at
    return MessageEdited(event_id, message, edited_at)


def _deleted(event: Payload, space: str, event_id: str | None) -> Inbound | None:
    previous = event.get("previous_message")
    ts = _str(event.get("deleted_ts")) or (
        _str(previous.get("ts")) if isinstance(previous, Mapping) else ""
    )
    if not ts:
        return None
    ref = MessageRef(PLATFORM, space, _str(event.get("channel")), ts)
    return MessageDeleted(event_id, ref, _when(event.get("event_ts") or event.get("ts")))


# Message subtypes Frontline understands; every other subtype (joins, topic changes,
# bot messages, ...) is skipped.
MESSAGE_SUBTYPES: dict[str | None, Translator] = {
    None: _posted,
    "thread_broadcast": _posted,  # a thread reply also shown in the channel: still a reply
    "file_share": _file_share,
    "message_changed": _changed,
    "message_deleted": _deleted,
}


def _message(event: Payload, space: str, event_id: str | None) -> Inbound | None:
    translate = MESSAGE_SUBTYPES.get(event.get("subtype"))
    return translate(event, space, event_id) if translate else None


def _reaction(event: Payload, space: str, event_id: str | None) -> Inbound | None:
    item = event.get("item")
    user, emoji = _str(event.get("user")), _str(event.get("reaction"))
    if not isinstance(item, Mapping) or item.get("type") != "message" or not user or not emoji:
        return None
    ref = MessageRef(PLATFORM, space, _str(item.get("channel")), _str(item.get("ts")))
    kind = ReactionAdded if event.get("type") == "reaction_added" else ReactionRemoved
    # Skin tones ("+1::skin-tone-3") are the same acknowledgement.
    name = emoji.split("::", 1)[0]
    return kind(event_id, ref, UserRef(PLATFORM, space, user), name, _when(event.get("event_ts")))


EVENT_TYPES: dict[str, Translator] = {
    "message": _message,
    "reaction_added": _reaction,
    "reaction_removed": _reaction,
}


def translate_event(event: Payload, space: str, event_id: str | None = None) -> Inbound | None:
    """The core event for one Events API `event` object, or None when Frontline skips it."""
    translate = EVENT_TYPES.get(_str(event.get("type")))
    if translate is None:
        return None
    try:
        return translate(event, space, event_id)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("skipping a malformed Slack %s event %s: %r", event.get("type"), event_id, exc)
        return None


def channel_of(event: Inbound) -> str:
    """The channel an inbound event happened in (where the message lives)."""
    if isinstance(event, MessagePosted | MessageEdited):
        return event.message.ref.channel
    if isinstance(event, MessageDeleted | ReactionAdded | ReactionRemoved):
        return event.ref.channel
    return ""


def _mapping(value: object) -> Payload:
    return value if isinstance(value, Mapping) else {}


def view_values(view: Payload) -> dict[str, str]:
    """What a submitted modal's inputs hold, by block id: the typed text or chosen option."""
    state = _mapping(_mapping(view.get("state")).get("values"))
    values: dict[str, str] = {}
    for block_id, inputs in state.items():
        for element in _mapping(inputs).values():
            element = _mapping(element)
            option = element.get("selected_option")
            value = _mapping(option).get("value") if option is not None else element.get("value")
            values[str(block_id)] = _str(value).strip()
    return values


def view_metadata(view: Payload) -> dict[str, str]:
    """The string values a modal carries in `private_metadata` (set when it was opened)."""
    try:
        data = json.loads(_str(view.get("private_metadata")) or "{}")
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def interaction_channel(body: Payload) -> str:
    """The channel an interaction (a button, a shortcut) happened in."""
    return _str(_mapping(body.get("channel")).get("id")) or _str(
        _mapping(body.get("container")).get("channel_id")
    )


# --- outbound: the Platform port ----------------------------------------------


class _Recent:
    """A bounded set that forgets the oldest keys first (redelivery and permalink caches)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[object, object] = OrderedDict()

    def get(self, key: object) -> object | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: object, value: object = True) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def add(self, key: object) -> bool:
        """Remember `key`; False when it was already there."""
        if key in self._items:
            return False
        self.put(key)
        return True

    def discard(self, key: object) -> None:
        self._items.pop(key, None)


@dataclasses.dataclass(frozen=True, slots=True)
class SlackUser:
    """What `users.info` tells about a member."""

    id: str
    name: str
    is_bot: bool = False
    is_admin: bool = False


class SlackCallError(PlatformError):
    """Slack refused a call with an error the caller expects (`code`), such as not_in_channel."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


# What Slack says about a message the bot cannot read: it is not there for the bot.
_UNSEEN = frozenset(
    {"channel_not_found", "not_in_channel", "thread_not_found", "message_not_found"}
)
_RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
_HINTS = {
    "not_in_channel": "invite the bot to the channel (/invite @Frontline)",
    "channel_not_found": "check the channel id in the configuration and invite the bot",
    "missing_scope": "add the scope to the app (see config/slack-manifest.yml) and reinstall",
    "invalid_auth": "check the token (SLACK_BOT_TOKEN, or SLACK_APP_TOKEN for Socket Mode)",
    "not_authed": "check SLACK_BOT_TOKEN",
    "not_allowed_token_type": "SLACK_APP_TOKEN must be an app-level token (xapp-...)",
}


def make_client(token: str | None, api_url: str | None = None, timeout: int = 15) -> AsyncWebClient:
    """A Web API client that waits out rate limits and retries dropped connections."""
    base = api_url or DEFAULT_API_URL
    return AsyncWebClient(
        token=token,
        base_url=base if base.endswith("/") else base + "/",
        timeout=timeout,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


class SlackPlatform:
    """The Platform port for one Slack workspace, over the Web API."""

    name = PLATFORM

    def __init__(
        self,
        client: AsyncWebClient,
        settings: Settings,
        *,
        history_pages: int = 5,
        staff_refresh: float = 300.0,
        user_ttl: float = 3600.0,
    ) -> None:
        self.client = client
        self.settings = settings
        self.history_pages = max(1, history_pages)
        self.staff_refresh = staff_refresh
        self.user_ttl = user_ttl
        self.team_id = ""
        self.bot_user_id = ""
        self.bot_id = ""
        self.workspace_url = ""
        self._permalinks = _Recent(2000)
        self._users: dict[str, tuple[float, SlackUser | None]] = {}
        self._private: dict[str, tuple[float, bool]] = {}
        self._group_members: frozenset[str] = frozenset()
        self._groups_expire = 0.0
        self._groups_lock = asyncio.Lock()
        # Counts failed calls for /metrics once the adapter runs under an app.
        self.telemetry: Telemetry | None = None

    async def _call(
        self,
        method: str,
        where: str,
        call: Awaitable[AsyncSlackResponse],
        expected: frozenset[str] = frozenset(),
    ) -> AsyncSlackResponse:
        """Await one API call; failures are logged with method and channel, then raised.

        Errors in `expected` are outcomes the caller handles, raised without a warning.
        """
        try:
            return await call
        except SlackApiError as exc:
            error = _str(exc.response.get("error")) or f"HTTP {exc.response.status_code}"
            if error in expected:
                raise SlackCallError(f"Slack {method} in {where}: {error}", error) from None
            status = exc.response.status_code
            retryable = status == 429 or status >= 500 or error in _RETRYABLE_ERRORS
            hint = _HINTS.get(error, "")
            needed = _str(exc.response.get("needed"))
            detail = f"{error}" + (f" (needed: {needed})" if needed else "")
            detail += f"; {hint}" if hint else ""
            maybe_done = False
        except (aiohttp.ClientError, TimeoutError, SlackClientError) as exc:
            detail, retryable, maybe_done = f"{type(exc).__name__}: {exc}", True, True
        log.warning(
            "Slack %s in %s failed: %s",
            method,
            where or "-",
            detail,
            extra={"platform": PLATFORM, "method": method},
        )
        if self.telemetry is not None:
            self.telemetry.platform_error(PLATFORM, method, retryable)
        raise PlatformError(
            f"Slack {method} in {where or '-'} failed: {detail}",
            retryable=retryable,
            maybe_done=maybe_done,
        )

    async def connect(self) -> None:
        """Learn who we are (`auth.test`): the workspace id, the bot's ids and URL."""
        auth = await self._call("auth.test", "workspace", self.client.auth_test())
        self.team_id = _str(auth.get("team_id"))
        self.bot_user_id = _str(auth.get("user_id"))
        self.bot_id = _str(auth.get("bot_id"))
        self.workspace_url = _str(auth.get("url"))

    async def check_app_token(self, app_token: str) -> None:
        """Ask for a Socket Mode URL once, so a wrong SLACK_APP_TOKEN stops the start."""
        await self._call(
            "apps.connections.open",
            "workspace",
            self.client.apps_connections_open(app_token=app_token),
        )

    # -- sending ----------------------------------------------------------------

    async def links_for(self, post: Post) -> dict[MessageRef, str]:
        """Permalinks of the Slack messages the items a post can show point at."""
        shown = post.items[:MAX_ITEMS]
        refs = {i.link for i in shown if i.link is not None and i.link.platform == PLATFORM}
        limit = asyncio.Semaphore(8)

        async def one(ref: MessageRef) -> tuple[MessageRef, str | None]:
            async with limit:
                try:
                    return ref, await self.permalink(ref)
                except PlatformError:
                    # A list without one link beats no list.
                    url = self.workspace_url
                    return ref, build_permalink(url, ref.channel, ref.message) if url else None

        pairs = await asyncio.gather(*(one(ref) for ref in refs))
        return {ref: url for ref, url in pairs if url}

    async def _send(
        self, where: str, post: Post, *, thread_ts: str | None = None
    ) -> AsyncSlackResponse:
        text, blocks = render(post, await self.links_for(post))
        return await self._call(
            "chat.postMessage",
            where,
            self.client.chat_postMessage(
                channel=where,
                text=text,
                blocks=blocks or None,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                # The outbox key rides along as message metadata, so `find_sent` can
                # tell later whether a post interrupted by a crash or timeout arrived.
                metadata=(
                    {"event_type": SEND_EVENT, "event_payload": {"key": post.key}}
                    if post.key
                    else None
                ),
            ),
        )

    async def post(self, channel: ChannelRef, post: Post) -> MessageRef:
        """Post a message in a channel (its image, if any, goes in the message's thread)."""
        sent = await self._send(channel.channel, post)
        space = channel.space or self.team_id
        ref = MessageRef(PLATFORM, space, _str(sent.get("channel")), _str(sent.get("ts")))
        await self._attach(ref.channel, ref.message, post)
        return ref

    async def reply_in_thread(self, message: MessageRef, post: Post) -> MessageRef:
        """Reply in the thread of `message`."""
        sent = await self._send(message.channel, post, thread_ts=message.message)
        await self._attach(message.channel, message.message, post)
        return MessageRef(PLATFORM, message.space, message.channel, _str(sent.get("ts")))

    async def open_dm(self, user_id: str) -> str:
        """The id of the bot's direct-message channel with a member (`conversations.open`)."""
        opened = await self._call(
            "conversations.open", user_id, self.client.conversations_open(users=user_id)
        )
        channel_id = _str(_mapping(opened.get("channel")).get("id"))
        if not channel_id:
            raise PlatformError(f"Slack conversations.open for {user_id} gave no channel")
        return channel_id

    async def dm(self, user: UserRef, post: Post) -> MessageRef:
        """Message a member directly (opens the DM first)."""
        channel_id = await self.open_dm(user.user)
        return await self.post(ChannelRef(PLATFORM, user.space, channel_id), post)

    async def update(self, message: MessageRef, post: Post) -> None:
        """Replace a bot message's text and blocks in place (an image is left as it was)."""
        text, blocks = render(post, await self.links_for(post))
        await self._call(
            "chat.update",
            message.channel,
            self.client.chat_update(
                channel=message.channel, ts=message.message, text=text, blocks=blocks
            ),
        )

    async def upload(
        self, channel: str, image: bytes, name: str, title: str, *, thread_ts: str | None = None
    ) -> None:
        """Upload an image into a channel, or under `thread_ts` (slack_sdk's files_upload_v2)."""
        await self._call(
            "files.upload",
            channel,
            self.client.files_upload_v2(
                channel=channel,
                file=image,
                filename=name or "image.png",
                title=title or name or "image",
                thread_ts=thread_ts,
            ),
        )

    async def _attach(self, channel: str, thread_ts: str, post: Post) -> None:
        if post.image is None:
            return
        # Logged by _call. The message itself is out: failing now would make a caller post
        # it again, and a summary twice is worse than one without its chart.
        with contextlib.suppress(PlatformError):
            await self.upload(channel, post.image, post.image_name, post.title, thread_ts=thread_ts)

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        """Open a modal for the user whose click or shortcut gave `trigger_id` (valid 3 s)."""
        await self._call(
            "views.open", "workspace", self.client.views_open(trigger_id=trigger_id, view=view)
        )

    async def react(self, message: MessageRef, emoji: str) -> None:
        """Add the bot's reaction; reacting twice is not an error."""
        try:
            await self._call(
                "reactions.add",
                message.channel,
                self.client.reactions_add(
                    channel=message.channel, timestamp=message.message, name=emoji.strip(":")
                ),
                expected=frozenset({"already_reacted"}),
            )
        except PlatformError as exc:
            if "already_reacted" not in str(exc):
                raise

    async def post_ephemeral(self, channel: str, user: str, text: str, blocks: list[Any]) -> None:
        """A message only `user` sees (the fallback when a response_url cannot be used)."""
        await self._call(
            "chat.postEphemeral",
            channel,
            self.client.chat_postEphemeral(
                channel=channel, user=user, text=text, blocks=blocks or None
            ),
        )

    async def permalink(self, message: MessageRef) -> str:
        """The message's permalink from `chat.getPermalink`, cached."""
        cached = self._permalinks.get(message)
        if isinstance(cached, str):
            return cached
        answer = await self._call(
            "chat.getPermalink",
            message.channel,
            self.client.chat_getPermalink(channel=message.channel, message_ts=message.message),
        )
        link = _str(answer.get("permalink"))
        if not link:
            raise PlatformError(f"Slack chat.getPermalink in {message.channel} gave no link")
        self._permalinks.put(message, link)
        return link

    def parse_link(self, link: str) -> MessageRef | None:
        """The message a Slack permalink points at (thread replies too), or None."""
        return parse_permalink(link, self.team_id)

    async def fetch(self, message: MessageRef) -> Message | None:
        """One message by its ref, with its author's name; None when the bot cannot see it.

        A top-level message is the newest of the history up to its ts; a thread reply is
        only in its thread, which `conversations.replies` also finds from the reply's ts.
        """
        channel, ts = message.channel, message.message
        try:
            item = await self._find(
                "conversations.history",
                channel,
                ts,
                lambda: self.client.conversations_history(
                    channel=channel, latest=ts, inclusive=True, limit=1
                ),
            )
            if item is None:
                item = await self._find(
                    "conversations.replies",
                    channel,
                    ts,
                    # Slack puts the thread's parent first whatever the range: room for both.
                    lambda: self.client.conversations_replies(
                        channel=channel, ts=ts, oldest=ts, latest=ts, inclusive=True, limit=2
                    ),
                )
        except SlackCallError:
            return None
        if item is None or item.get("subtype") == "tombstone":
            return None
        found = message_from(item, message.space or self.team_id, channel)
        if found is None or found.author.name:
            return found
        info = await self.user(found.author.user)
        if info is None:
            return found
        author = dataclasses.replace(found.author, name=info.name, is_bot=info.is_bot)
        return dataclasses.replace(found, author=author)

    async def _find(
        self, method: str, channel: str, ts: str, call: Callable[[], Awaitable[AsyncSlackResponse]]
    ) -> Payload | None:
        page = await self._call(method, channel, call(), expected=_UNSEEN)
        for item in page.get("messages") or []:
            if isinstance(item, Mapping) and item.get("ts") == ts:
                return item
        return None

    async def is_private(self, channel: ChannelRef) -> bool:
        """Private channels, DMs and group DMs (`conversations.info`, cached for an hour)."""
        channel_id = channel.channel
        if channel_id.startswith("D"):
            return True  # a direct message, no need to ask
        now = time.monotonic()
        cached = self._private.get(channel_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            answer = await self._call(
                "conversations.info", channel_id, self.client.conversations_info(channel=channel_id)
            )
        except PlatformError:
            # When Slack cannot say, copy nothing out; the link still works for those allowed.
            return True
        info = answer.get("channel")
        private = not isinstance(info, Mapping) or any(
            bool(info.get(key)) for key in ("is_private", "is_im", "is_mpim")
        )
        self._private[channel_id] = (now + self.user_ttl, private)
        return private

    # -- people -----------------------------------------------------------------

    async def user(self, user_id: str) -> SlackUser | None:
        """`users.info`, cached; None when Slack cannot say (the miss is cached briefly)."""
        now = time.monotonic()
        cached = self._users.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            answer = await self._call("users.info", user_id, self.client.users_info(user=user_id))
        except PlatformError:
            self._users[user_id] = (now + 60.0, None)
            return None
        raw = answer.get("user")
        info: SlackUser | None = None
        if isinstance(raw, Mapping):
            profile = raw.get("profile")
            profile = profile if isinstance(profile, Mapping) else {}
            info = SlackUser(
                user_id,
                _str(profile.get("display_name"))
                or _str(profile.get("real_name"))
                or _str(raw.get("real_name"))
                or _str(raw.get("name")),
                is_bot=bool(raw.get("is_bot")) or user_id == "USLACKBOT",
                is_admin=bool(raw.get("is_admin")) or bool(raw.get("is_owner")),
            )
        self._users[user_id] = (now + self.user_ttl, info)
        return info

    async def _staff_groups(self) -> frozenset[str]:
        async with self._groups_lock:
            now = time.monotonic()
            if now < self._groups_expire:
                return self._group_members
            try:
                self._group_members = await self._load_groups()
                self._groups_expire = now + self.staff_refresh
            except PlatformError:
                # Keep the last known members; try again in a minute, not on every check.
                self._groups_expire = now + min(60.0, self.staff_refresh)
            return self._group_members

    async def _load_groups(self) -> frozenset[str]:
        wanted = [g.strip().lstrip("@") for g in self.settings.staff.slack_usergroups]
        listed = await self._call("usergroups.list", "workspace", self.client.usergroups_list())
        ids: dict[str, str] = {}
        for group in listed.get("usergroups") or []:
            if isinstance(group, Mapping):
                ids[_str(group.get("handle"))] = ids[_str(group.get("id"))] = _str(group.get("id"))
        members: set[str] = set()
        for handle in wanted:
            group_id = ids.get(handle)
            if not group_id:
                log.warning(
                    "staff user group %r is not in the workspace (staff.slack_usergroups)", handle
                )
                continue
            answer = await self._call(
                "usergroups.users.list",
                f"@{handle}",
                self.client.usergroups_users_list(usergroup=group_id),
            )
            members.update(u for u in answer.get("users") or [] if isinstance(u, str))
        return frozenset(members)

    async def is_staff(self, user: UserRef) -> bool:
        """Staff: listed user ids, members of listed user groups, optionally workspace admins."""
        if user.platform != PLATFORM:
            return False
        staff = self.settings.staff
        if user.user in staff.slack_users:
            return True
        if staff.slack_usergroups and user.user in await self._staff_groups():
            return True
        if staff.slack_admins:
            info = await self.user(user.user)
            return info is not None and info.is_admin
        return False

    # -- reading ----------------------------------------------------------------

    async def _pages(
        self,
        method: str,
        channel: str,
        fetch: Callable[[str | None], Awaitable[AsyncSlackResponse]],
    ) -> AsyncIterator[Payload]:
        cursor: str | None = None
        for _ in range(self.history_pages):
            page = await self._call(method, channel, fetch(cursor))
            for item in page.get("messages") or []:
                if isinstance(item, Mapping):
                    yield item
            meta = page.get("response_metadata")
            cursor = _str(meta.get("next_cursor")) if isinstance(meta, Mapping) else ""
            if not page.get("has_more") or not cursor:
                return
        log.warning(
            "Slack %s in %s: stopped after %d pages; older messages are not backfilled",
            method,
            channel,
            self.history_pages,
        )

    async def thread(
        self, channel: ChannelRef, thread_ts: str, after: datetime | None
    ) -> AsyncIterator[Message]:
        """Replies in one thread posted after `after` (the parent left out)."""
        oldest = datetime_to_ts(after) if after else None

        def fetch(cursor: str | None) -> Awaitable[AsyncSlackResponse]:
            return self.client.conversations_replies(
                channel=channel.channel, ts=thread_ts, oldest=oldest, cursor=cursor, limit=200
            )

        async for item in self._pages("conversations.replies", channel.channel, fetch):
            message = message_from(item, channel.space, channel.channel)
            if message is None or message.ref.message == thread_ts:
                continue
            if after is None or message.posted_at > after:
                yield message

    async def find_sent(
        self, where: ChannelRef | UserRef, post: Post, since: datetime
    ) -> MessageRef | None:
        """The bot's post carrying the post's outbox key in its metadata, after `since`."""
        channel = where.channel if isinstance(where, ChannelRef) else await self.open_dm(where.user)
        oldest = datetime_to_ts(since)

        def fetch(cursor: str | None) -> Awaitable[AsyncSlackResponse]:
            return self.client.conversations_history(
                channel=channel,
                oldest=oldest,
                cursor=cursor,
                limit=200,
                include_all_metadata=True,
            )

        async for item in self._pages("conversations.history", channel, fetch):
            metadata = _mapping(item.get("metadata"))
            payload = _mapping(metadata.get("event_payload"))
            mine = not self.bot_id or item.get("bot_id") == self.bot_id
            if mine and metadata.get("event_type") == SEND_EVENT and payload.get("key") == post.key:
                return MessageRef(PLATFORM, where.space, channel, _str(item.get("ts")))
        return None

    async def history(self, channel: ChannelRef, after: datetime | None) -> AsyncIterator[Message]:
        """Messages and thread replies posted after `after`, oldest first, page-bounded."""
        oldest = datetime_to_ts(after) if after else None

        def fetch(cursor: str | None) -> Awaitable[AsyncSlackResponse]:
            return self.client.conversations_history(
                channel=channel.channel, oldest=oldest, cursor=cursor, limit=200
            )

        found: list[Message] = []
        threads: list[str] = []
        async for item in self._pages("conversations.history", channel.channel, fetch):
            message = message_from(item, channel.space, channel.channel)
            if message is not None and (after is None or message.posted_at > after):
                found.append(message)
            if item.get("reply_count") and item.get("thread_ts") == item.get("ts"):
                threads.append(_str(item.get("ts")))
        for thread_ts in threads:
            found += [m async for m in self.thread(channel, thread_ts, after)]
        for message in sorted(found, key=lambda m: m.posted_at):
            yield message


# --- the adapter ----------------------------------------------------------------


class SlackAdapter:
    """Connects Slack: one workspace (Socket Mode, or HTTP), or several with `oauth`.

    HTTP requests are verified with the signing secret; several workspaces (OAuth) are
    served over HTTP only, each with its installation's bot token (see slack_oauth.py).
    """

    name = PLATFORM

    def __init__(
        self,
        settings: Settings,
        *,
        http: bool = False,
        host: str = "0.0.0.0",
        port: int = 3000,
        api_url: str | None = None,
        process_before_response: bool = False,
        backfill_pages: int = 5,
        backfill_threads: int = 50,
        name_timeout: float = 2.0,
        dedupe_size: int = 10_000,
        oauth: SlackOAuth | None = None,
    ) -> None:
        token = settings.slack_bot_token
        if token is None and oauth is None:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        if oauth is not None and not http:
            raise ValueError("several workspaces (OAuth) need HTTP mode")
        secret = settings.slack_signing_secret
        if http and secret is None:
            raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET")
        if not http and settings.slack_app_token is None:
            raise ValueError("Socket Mode needs SLACK_APP_TOKEN (or use HTTP mode)")
        self.settings = settings
        self.http = http
        self.host = host
        self.port = port
        self.backfill_threads = backfill_threads
        self.name_timeout = name_timeout
        self.oauth = oauth
        # With OAuth the app's own client has no token: each request gets its workspace's.
        self.client = make_client(token.get_secret_value() if token else None, api_url)
        self._slack = SlackPlatform(self.client, settings, history_pages=backfill_pages)
        self.platform: Platform = oauth.workspaces if oauth else self._slack
        self.bolt = AsyncApp(
            name="frontline",
            client=self.client,
            signing_secret=secret.get_secret_value() if secret else "",
            process_before_response=process_before_response,
            logger=logging.getLogger("frontline.slack.bolt"),
            oauth_settings=oauth.bolt_settings() if oauth else None,
        )
        self.ready = asyncio.Event()
        self.url = ""
        self.backfilled = 0
        self._seen = _Recent(dedupe_size)
        self._inflight: set[asyncio.Task[Any]] = set()
        self._frontline: Frontline | None = None
        # Served next to /slack/events in HTTP mode (the /healthz and /metrics endpoints).
        self.routes: list[web.AbstractRouteDef] = []
        self._serving = False
        self._socket: AsyncSocketModeHandler | None = None
        self._register()
        if oauth is not None:
            oauth.attach(self.bolt, self._slack)

    @property
    def slack(self) -> SlackPlatform:
        """The workspace being served: the one of the request at hand with OAuth."""
        current = self.oauth.workspaces.current() if self.oauth else None
        return current or self._slack

    # -- wiring -------------------------------------------------------------------

    def _register(self) -> None:
        async def keep_before_ack(
            body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
        ) -> BoltResponse:
            if not await self._keep(body):
                # Not kept means not safe to ack: Slack sends it again later.
                return BoltResponse(status=503, body="")
            return await next()

        async def on_event(body: dict[str, Any]) -> None:
            await self._tracked(self._handle_kept(body))

        self.bolt.use(keep_before_ack)

        async def on_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()  # within Slack's 3 s, before the core does anything
            await self._tracked(self.on_command(body, respond))

        async def on_shortcut(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            await self._tracked(self.on_shortcut(body, respond))

        async def on_button(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            await self._tracked(self.on_button(body, respond))

        async def on_form(ack: AsyncAck, body: dict[str, Any]) -> None:
            errors = self.form_errors(_mapping(body.get("view")))
            if errors:
                # Keeps the modal open with the problem shown next to the input.
                await ack(response_action="errors", errors=errors)
                return
            await ack()  # closes the modal; the answer follows as a private message
            await self._tracked(self.on_form(body))

        for event_type in EVENT_TYPES:
            self.bolt.event(event_type)(on_event)
        self.bolt.command(COMMAND)(on_command)
        self.bolt.message_shortcut(ESCALATE_CALLBACK)(on_shortcut)
        # Every button Frontline renders comes from a PostAction: the core decides.
        self.bolt.block_action(re.compile(".+"))(on_button)
        self.bolt.view_submission(ESCALATE_VIEW)(on_form)
        self.bolt.view_submission(NOTE_VIEW)(on_form)

    async def _tracked(self, work: Awaitable[None]) -> None:
        # Shutdown waits for listeners in flight: an event Slack saw acked is not lost.
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            await work
        finally:
            if task is not None:
                self._inflight.discard(task)

    @property
    def app(self) -> Frontline:
        """The running bot; set by `run`."""
        if self._frontline is None:
            raise RuntimeError("the Slack adapter is not running")
        return self._frontline

    # -- inbound ------------------------------------------------------------------

    def watched(self, event: Inbound) -> bool:
        """Whether the event happened in a configured Slack channel (of this workspace)."""
        config = self.settings.channel(PLATFORM, channel_of(event))
        return config is not None and config.space in ("", self.slack.team_id)

    async def person(self, user_id: str, fallback: str = "") -> UserRef:
        """A member as a core user, with their display name when Slack says it in time."""
        info: SlackUser | None = None
        if user_id:
            try:
                info = await asyncio.wait_for(self.slack.user(user_id), self.name_timeout)
            except TimeoutError:
                info = None
        name = info.name if info is not None and info.name else fallback
        is_bot = info is not None and info.is_bot
        return UserRef(PLATFORM, self.slack.team_id, user_id, name, is_bot)

    async def _payload_user(self, body: Payload) -> UserRef:
        user = _mapping(body.get("user"))
        fallback = _str(user.get("username")) or _str(user.get("name"))
        return await self.person(_str(user.get("id")), fallback)

    async def _named(self, event: Inbound) -> Inbound:
        """Fill the author's display name (and bot flag) from `users.info`, bounded in time.

        A reaction's user is named too: an escalation by emoji says who escalated.
        """
        if isinstance(event, ReactionAdded) and not event.user.name:
            user = await self.person(event.user.user)
            return dataclasses.replace(event, user=user) if user.name else event
        if not isinstance(event, MessagePosted | MessageEdited) or event.message.author.name:
            return event
        author = event.message.author
        try:
            info = await asyncio.wait_for(self.slack.user(author.user), self.name_timeout)
        except TimeoutError:
            info = None
        if info is None:
            return event
        named = dataclasses.replace(author, name=info.name, is_bot=info.is_bot)
        return dataclasses.replace(event, message=dataclasses.replace(event.message, author=named))

    def _kept_id(self, body: Payload) -> str | None:
        """The event id of a delivery worth keeping: a watched channel's tracked event."""
        event = _mapping(body.get("event"))
        if body.get("type") != "event_callback" or event.get("type") not in EVENT_TYPES:
            return None
        channel = _str(event.get("channel")) or _str(_mapping(event.get("item")).get("channel"))
        if not channel or self.settings.channel(PLATFORM, channel) is None:
            return None
        return _str(body.get("event_id")) or None

    async def _keep(self, body: Payload) -> bool:
        """Write a delivery to the inbox before bolt acks it; False if that failed."""
        event_id = self._kept_id(body)
        if event_id is None or self._frontline is None:
            return True
        ctx = self._frontline.ctx
        try:
            text = json.dumps(body, separators=(",", ":"))
            await ctx.store.write(inbox.keep, PLATFORM, event_id, text, ctx.now(), ctx.outbox.owner)
        except Exception:
            log.exception("Slack event %s could not be kept; asking Slack to resend it", event_id)
            return False
        return True

    async def _handle_kept(self, body: Payload) -> None:
        try:
            await self.on_event(body)
        finally:
            event_id = self._kept_id(body)
            if event_id is not None and self._frontline is not None:
                await self._frontline.ctx.store.write(inbox.done, PLATFORM, [event_id])

    async def recover_inbox(self, *, mine: bool = True) -> int:
        """Handle deliveries acked and never handled.

        Those of a run of this instance that died (`mine`, on start), and those anyone
        left for longer than a lease (a replica that died).
        """
        ctx = self.app.ctx
        now = ctx.now()
        stale_before = now - ctx.settings.bot.outbox_lease
        claimed = await ctx.store.write(
            inbox.take_over, PLATFORM, ctx.outbox.owner, now, stale_before, mine=mine
        )
        bodies: list[tuple[float, str, Payload]] = []
        for event_id, text in claimed:
            try:
                body = json.loads(text)
                bodies.append((float(body.get("event_time") or 0), event_id, body))
            except (ValueError, TypeError, AttributeError):
                log.error("Slack event %s kept in the inbox is unreadable; dropped", event_id)
                await ctx.store.write(inbox.done, PLATFORM, [event_id])
        handled = 0
        for _, event_id, body in sorted(bodies, key=lambda item: (item[0], item[1])):
            try:
                if self.oauth is not None:
                    team = _str(body.get("team_id"))
                    workspace = await self.oauth.workspaces.workspace(team)
                    with self.oauth.workspaces.serving(workspace):
                        await self.on_event(body)
                else:
                    await self.on_event(body)
                handled += 1
            except Exception:
                log.exception("Slack event %s taken from the inbox could not be handled", event_id)
            await ctx.store.write(inbox.done, PLATFORM, [event_id])
        if handled:
            log.info("Slack: handled %d event(s) acknowledged but left unhandled", handled)
        return handled

    async def _watch_inbox(self) -> None:
        """Take over, every sweep interval, what a replica that died left in the inbox."""
        every = max(self.settings.bot.sweep_interval.total_seconds(), 1.0)
        while True:
            await asyncio.sleep(every)
            try:
                await self.recover_inbox(mine=False)
            except Exception:
                log.exception("Slack: looking for events left in the inbox failed")

    async def on_event(self, body: Payload) -> None:
        """One Events API delivery: dedupe, translate, filter, hand to the core."""
        event_id = _str(body.get("event_id")) or None
        if event_id is not None and not self._seen.add(event_id):
            log.debug("dropping redelivered Slack event %s", event_id)
            return
        event = body.get("event")
        try:
            inbound = translate_event(
                event if isinstance(event, Mapping) else {}, self.slack.team_id, event_id
            )
            if inbound is None or not self.watched(inbound):
                return
            await self.app.handle(await self._named(inbound))
        except Exception:
            # Let Slack's retry try again rather than remember a delivery we dropped.
            if event_id is not None:
                self._seen.discard(event_id)
            log.exception("Slack event %s could not be handled", event_id)

    async def on_command(self, body: Payload, respond: AsyncRespond | None) -> None:
        """`/frontline <text>`: the router's reply, private unless it says public."""
        team = self.slack.team_id
        user = await self.person(_str(body.get("user_id")), _str(body.get("user_name")))
        channel = _str(body.get("channel_id"))
        try:
            event = CommandInvoked(
                _str(body.get("trigger_id")) or None,
                _str(body.get("text")).strip(),
                user,
                ChannelRef(PLATFORM, team, channel),
                self.app.ctx.now(),
            )
            replies = await self.app.handle(event)
        except Exception:
            log.exception("/frontline by %s in %s failed", user.user, channel)
            replies = [Reply(FAILED)]
        for reply in replies:
            await self.answer(reply, respond, channel=channel, user=user.user)

    async def on_shortcut(self, body: Payload, respond: AsyncRespond | None) -> None:
        """The "Escalate" message shortcut: open the form asking where to and why."""
        channel = interaction_channel(body)
        user_id = _str(_mapping(body.get("user")).get("id"))
        ts = _str(body.get("message_ts")) or _str(_mapping(body.get("message")).get("ts"))
        if not self.settings.destinations:
            await self.answer(Reply(NOT_CONFIGURED), respond, channel=channel, user=user_id)
            return
        choices = [
            (d.name, d.name if d.platform == PLATFORM else f"{d.name} ({d.platform})")
            for d in self.settings.destinations
        ]
        metadata = json.dumps({"channel": channel, "ts": ts})
        view = escalate_modal(choices, metadata, ESCALATE_VIEW)
        await self.open_form(_str(body.get("trigger_id")), view, respond, channel, user_id)

    async def on_button(self, body: Payload, respond: AsyncRespond | None) -> None:
        """A click on one of the bot's buttons: to the core, or first a form for a note."""
        actions = body.get("actions")
        action = _mapping(actions[0]) if isinstance(actions, list) and actions else {}
        action_id, value = _str(action.get("action_id")), _str(action.get("value"))
        channel = interaction_channel(body)
        trigger_id = _str(body.get("trigger_id"))
        form = NOTE_FORMS.get(action_id)
        if form is not None:
            # Opened before anything slower: the trigger is only valid for 3 seconds.
            user_id = _str(_mapping(body.get("user")).get("id"))
            metadata = json.dumps({"action": action_id, "value": value, "channel": channel})
            view = note_modal(form, metadata, NOTE_VIEW)
            await self.open_form(trigger_id, view, respond, channel, user_id)
            return
        user = await self._payload_user(body)
        try:
            event = ActionInvoked(trigger_id or None, action_id, value, user, self.app.ctx.now())
            replies = await self.app.handle(event) or [Reply(NO_ACTION)]
        except Exception:
            log.exception("button %s by %s in %s failed", action_id, user.user, channel)
            replies = [Reply(FAILED)]
        for reply in replies:
            # A new private message for the clicker; the post itself is updated by the core.
            await self.answer(
                reply, respond, channel=channel, user=user.user, replace_original=False
            )

    def form_errors(self, view: Payload) -> dict[str, str]:
        """Problems to show in a submitted modal before it closes (checked before the ack)."""
        if _str(view.get("callback_id")) != ESCALATE_VIEW:
            return {}
        if self.settings.destination(view_values(view).get(DESTINATION, "")) is None:
            return {DESTINATION: "Choose one of the configured destinations."}
        return {}

    async def on_form(self, body: Payload) -> None:
        """A submitted modal: the escalation (`ShortcutInvoked`) or a button with its note."""
        view = _mapping(body.get("view"))
        values, metadata = view_values(view), view_metadata(view)
        user = await self._payload_user(body)
        channel = metadata.get("channel", "")
        view_id = _str(view.get("id")) or None
        try:
            event: Inbound
            if _str(view.get("callback_id")) == ESCALATE_VIEW:
                event = ShortcutInvoked(
                    view_id,
                    "escalate",
                    MessageRef(PLATFORM, self.slack.team_id, channel, metadata.get("ts", "")),
                    user,
                    self.app.ctx.now(),
                    values.get(DESTINATION, ""),
                    values.get(REASON, ""),
                )
            else:
                event = ActionInvoked(
                    view_id,
                    metadata.get("action", ""),
                    metadata.get("value", ""),
                    user,
                    self.app.ctx.now(),
                    values.get(NOTE, ""),
                )
            replies = await self.app.handle(event) or [Reply(FAILED)]
        except Exception:
            log.exception("form %s by %s failed", view.get("callback_id"), user.user)
            replies = [Reply(FAILED)]
        for reply in replies:
            await self.tell(reply, channel=channel, user=user)

    async def open_form(
        self,
        trigger_id: str,
        view: dict[str, Any],
        respond: AsyncRespond | None,
        channel: str,
        user: str,
    ) -> None:
        """Open a modal; if Slack refuses (an expired trigger), say so privately."""
        try:
            await self.slack.open_view(trigger_id, view)
        except PlatformError:
            await self.answer(Reply(FORM_FAILED), respond, channel=channel, user=user)

    async def tell(self, reply: Reply, *, channel: str, user: UserRef) -> None:
        """Answer without a response_url (after a modal): ephemeral in `channel`, else a DM."""
        post = reply.post or Post(reply.text)
        if reply.public and channel:
            try:
                await self.slack.post(ChannelRef(PLATFORM, self.slack.team_id, channel), post)
                return
            except PlatformError:
                pass  # logged by the platform; the user still hears it privately
        if channel and post.image is None:
            blocks = render(post, await self.slack.links_for(post))[1] if reply.post else []
            try:
                await self.slack.post_ephemeral(
                    channel, user.user, fallback_text(reply.text), blocks
                )
                return
            except PlatformError:
                # Ephemeral messages need the bot in the channel; a DM does not.
                log.info("answering %s by direct message instead of in %s", user.user, channel)
        with contextlib.suppress(PlatformError):  # logged with method and channel
            await self.slack.dm(user, post)

    async def answer(
        self,
        reply: Reply,
        respond: AsyncRespond | None,
        *,
        channel: str,
        user: str,
        replace_original: bool | None = None,
    ) -> None:
        """Send a command's reply through `response_url`, else with the Web API.

        A reply with an image cannot go through `response_url`: a public one is posted
        with the Web API (the image in its thread), a private one sends the image to
        the caller's DM with the bot and says so.
        """
        if reply.post is not None and reply.post.image is not None:
            if reply.public:
                with contextlib.suppress(PlatformError):  # logged with method and channel
                    await self.slack.post(
                        ChannelRef(PLATFORM, self.slack.team_id, channel), reply.post
                    )
                return
            reply = await self._image_by_dm(reply, user)
        links = await self.slack.links_for(reply.post) if reply.post else {}
        blocks = render(reply.post, links)[1] if reply.post else []
        text = fallback_text(reply.text)
        kind = "in_channel" if reply.public else "ephemeral"
        if respond is not None and getattr(respond, "response_url", None):
            try:
                sent = await respond(
                    text=text,
                    blocks=blocks or None,
                    response_type=kind,
                    replace_original=replace_original,
                )
                if sent.status_code == 200:
                    return
                log.warning("response_url answered %s; replying with the Web API", sent.status_code)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("response_url failed (%r); replying with the Web API", exc)
        try:
            if reply.public:
                post = reply.post or Post(reply.text)
                await self.slack.post(ChannelRef(PLATFORM, self.slack.team_id, channel), post)
            else:
                await self.slack.post_ephemeral(channel, user, text, blocks)
        except PlatformError:
            pass  # logged with method and channel by the platform

    async def _image_by_dm(self, reply: Reply, user: str) -> Reply:
        """Send a private reply's image to the caller's DM; the reply says where it went."""
        post = reply.post
        if post is None or post.image is None:
            return reply
        try:
            channel = await self.slack.open_dm(user)
            await self.slack.upload(channel, post.image, post.image_name, post.title)
            note = IMAGE_SENT
        except PlatformError:
            note = IMAGE_FAILED  # the platform logged why
        return dataclasses.replace(
            reply,
            text=f"{reply.text}\n{note}",
            post=dataclasses.replace(post, text=f"{post.text}\n{note}", image=None),
        )

    # -- backfill -------------------------------------------------------------------

    async def backfill(self) -> int:
        """Feed what watched channels received since the newest stored message; returns count."""
        store = self.app.ctx.store
        team = self.slack.team_id
        total = 0
        for config in self.settings.channels:
            if config.platform != PLATFORM or config.space not in ("", team):
                continue
            channel = ChannelRef(PLATFORM, team, config.id)
            last = await store.last_seen(PLATFORM, team, config.id)
            if last is None:
                log.info("Slack %s: nothing stored yet, watching from now", config.label())
                continue
            found: dict[MessageRef, Message] = {}
            try:
                async for message in self.slack.history(channel, last):
                    found[message.ref] = message
                # Replies to questions asked before the downtime live in old threads.
                for question in await store.waiting(self.backfill_threads, config.id):
                    if question.ref.platform == PLATFORM and question.ref.space == team:
                        root = question.ref.channel_ref
                        async for message in self.slack.thread(root, question.ref.message, last):
                            found[message.ref] = message
            except PlatformError as exc:
                log.warning("Slack %s: backfill incomplete (%s)", config.label(), exc)
            for message in sorted(found.values(), key=lambda m: m.posted_at):
                await self.app.handle(await self._named(MessagePosted(None, message)))
            if found:
                log.info("Slack %s: backfilled %d message(s)", config.label(), len(found))
            total += len(found)
        return total

    # -- running --------------------------------------------------------------------

    async def _connect(self) -> None:
        for attempt in range(5):
            try:
                await self.slack.connect()
                return
            except PlatformError as exc:
                if not exc.retryable or attempt == 4:
                    raise
                await asyncio.sleep(2**attempt)

    async def _dispatch(self, request: web.Request) -> web.Response:
        response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def run(self, app: Frontline) -> None:
        """Connect, catch up, then deliver events to `app` until cancelled."""
        self._frontline = app
        self._slack.telemetry = app.ctx.telemetry
        if self.oauth is not None:
            installed = await self.oauth.start(app.ctx.store, app.ctx.clock)
            log.info("Slack: several workspaces (OAuth), installed in %d so far", installed)
        else:
            await self._connect()
            log.info(
                "Slack: connected to workspace %s as %s",
                self.slack.team_id,
                self.slack.bot_user_id,
            )
        runner: web.AppRunner | None = None
        socket: AsyncSocketModeHandler | None = None
        try:
            if self.http:
                web_app = web.Application()
                web_app.router.add_post(EVENTS_PATH, self._dispatch)
                if self.oauth is not None:
                    self.oauth.add_routes(web_app, self.bolt)
                web_app.add_routes(self.routes)
                runner = web.AppRunner(web_app, access_log=None)
                await runner.setup()
                await web.TCPSite(runner, self.host, self.port).start()
                self._serving = True
                host, port = runner.addresses[0][:2]
                self.url = f"http://{host}:{port}{EVENTS_PATH}"
                log.info("Slack: HTTP mode, Events API at %s", self.url)
            else:
                app_token = self.settings.slack_app_token
                assert app_token is not None  # checked in __init__
                # The SDK retries a refused app token forever; fail clearly instead.
                await self.slack.check_app_token(app_token.get_secret_value())
                socket = AsyncSocketModeHandler(self.bolt, app_token.get_secret_value())
                await socket.connect_async()  # type: ignore[no-untyped-call]
                self._socket = socket
                log.info("Slack: Socket Mode connected")
            await self.recover_inbox()
            if self.oauth is not None:
                self.backfilled = await self.oauth.workspaces.each(self.backfill)
            else:
                self.backfilled = await self.backfill()
            self.ready.set()
            await self._watch_inbox()  # until cancelled
        finally:
            self._serving, self._socket = False, None
            if runner is not None:
                await runner.cleanup()
            if socket is not None:
                await socket.close_async()  # type: ignore[no-untyped-call]
            if self._inflight:
                await asyncio.wait(self._inflight, timeout=10)

    async def connected(self) -> bool:
        """Whether Slack reaches us now (for /healthz).

        HTTP mode: auth.test passed and the server listens. Socket Mode: the connection
        is up (not closed, not stale, pings answered).
        """
        if self._socket is not None:
            return await self._socket.client.is_connected()
        return self._serving


def adapter_from_env(settings: Settings, *, http: bool = False, port: int = 3000) -> SlackAdapter:
    """The Slack adapter `frontline run` starts, or a ConfigError saying what is missing.

    Socket Mode needs SLACK_APP_TOKEN; `--http` needs SLACK_SIGNING_SECRET. SLACK_API_URL
    points the Web API client elsewhere (a proxy, or a test double). With `--http`,
    SLACK_CLIENT_ID and SLACK_CLIENT_SECRET select several workspaces (OAuth) instead of
    SLACK_BOT_TOKEN.
    """
    from bot.adapters.slack_oauth import OAUTH_NEEDS_HTTP, oauth_from_env, oauth_problems

    oauth_set = settings.slack_client_id is not None or settings.slack_client_secret is not None
    problems = oauth_problems(settings) if http and oauth_set else []
    if settings.slack_bot_token is None and not (http and oauth_set):
        problems.append(
            "SLACK_BOT_TOKEN: not set (the bot token, xoxb-...)"
            + (OAUTH_NEEDS_HTTP if oauth_set else "")
        )
    if http and settings.slack_signing_secret is None:
        problems.append(
            "SLACK_SIGNING_SECRET: HTTP mode (--http) verifies every request with the "
            "app's signing secret; set it (Basic Information > App Credentials)"
        )
    if not http and settings.slack_app_token is None:
        problems.append(
            "SLACK_APP_TOKEN: Socket Mode needs the app-level token (xapp-..., scope "
            "connections:write); or run with --http --port N and SLACK_SIGNING_SECRET"
        )
    if not 0 < port < 65536:
        problems.append(f"--port: {port} is not a TCP port (1..65535)")
    if problems:
        raise ConfigError(problems)
    api_url = os.environ.get("SLACK_API_URL")
    oauth = oauth_from_env(settings, api_url=api_url) if http else None
    return SlackAdapter(settings, http=http, port=port, api_url=api_url, oauth=oauth)
