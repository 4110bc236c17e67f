"""The Discord adapter: discord.py gateway events in, core events out; posts out as embeds.

A post's actions are buttons; the "Escalate" menu opens a destination picker; forms
ask for a reason or a resolution note (the parts are in `discord_ui`).

Mapping: platform "discord", space = guild id, channel = channel or thread id,
message = message id, all as strings. Threads and forum posts hang from a question:

* a thread T started from message T in channel P belongs to that message, so its
  messages get `thread_root = (P, T)` and `watched_channel = P`;
* a forum post is thread T whose starter message also has id T and lives in T: it is
  `Message(ref=(T, T), watched_channel=forum, is_thread_starter=True)` with the post's
  title in front of its text, and replies in it get `thread_root = (T, T)`.

Everything that depends on the gateway is written to survive it: edits, deletes and
reactions use the raw events (they arrive for messages discord.py never cached); after
every IDENTIFY (start, or a reconnect whose RESUME failed) each watched channel and
active thread is backfilled from REST since the last message seen; a handler that
fails is logged with the event that broke it and the client keeps running.

`DISCORD_API_URL` and `DISCORD_GATEWAY_URL` point the client at another Discord
(a proxy, or the local fake in the tests).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import os
import re
import shlex
import time
import unicodedata
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
import yarl
from discord import app_commands

from bot.adapters.discord_embeds import (
    CONTENT_LIMIT,
    cut,
    image_name,
    render_content,
    render_embed,
)
from bot.adapters.discord_links import (
    PLATFORM,
    message_link,
    parse_channel_link,
    parse_message_link,
)
from bot.adapters.discord_ui import (
    NOTE_FORM,
    NOTE_INPUT,
    REASON_FORM,
    ActionButton,
    DestinationSelect,
    action_view,
    destination_by_key,
    form_values,
    note_form,
    picker_view,
    reason_form,
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
from config.settings import ConfigError, Settings

if TYPE_CHECKING:
    from bot.app import Frontline
    from bot.telemetry import Telemetry

log = logging.getLogger(__name__)

# How far back a backfill may reach, and how many messages per channel it replays:
# an outage of days is caught up, a year-old history is not dumped on the staff.
BACKFILL_WINDOW = timedelta(days=7)
BACKFILL_LIMIT = 500
# Messages sent just before a drop may never have been delivered.
DISCONNECT_MARGIN = timedelta(minutes=1)
STAFF_CACHE_SECONDS = 300.0
WHERE_CACHE_SIZE = 10_000
SHUTDOWN_GRACE_SECONDS = 10.0
LOGIN_RETRY_MAX_SECONDS = 60.0
SUBCOMMAND_LIMIT = 25
ESCALATE = "escalate"
NO_ESCALATION = (
    "Escalation destinations are not configured yet, so nothing was sent. "
    "Ask a community manager to set them up."
)
NO_ANSWER = "Sorry, that did not work; the error has been logged. Please try again."
STALE_BUTTON = "This button no longer does anything."
PICKER_TEXT = "Escalate this message from **{author}**: choose where it goes."
# Context-menu targets carry their text even without the message content intent.
TARGET_CACHE_SIZE = 1000

# Discord names unicode emoji by the character; Slack and the configuration by name.
EMOJI_NAMES: Mapping[str, str] = {
    "✅": "white_check_mark",
    "✔": "heavy_check_mark",
    "☑": "ballot_box_with_check",
    "👀": "eyes",
    "👍": "+1",
    "👎": "-1",
    "🙏": "pray",
    "🎉": "tada",
    "❤": "heart",
    "❓": "question",
    "🙋": "raising_hand",
    "🔥": "fire",
    "💯": "100",
    "🚀": "rocket",
    "🤔": "thinking_face",
    "👋": "wave",
    "🙂": "slightly_smiling_face",
    "😄": "smile",
    "🐛": "bug",
    "📌": "pushpin",
    # Escalation shortcuts (a destination's `emoji`).
    "🆘": "sos",
    "💡": "bulb",
    "🚨": "rotating_light",
    "⚠": "warning",
    "❗": "exclamation",
    "🎫": "ticket",
    "📣": "mega",
    "🔔": "bell",
}
EMOJI_BY_NAME: Mapping[str, str] = {
    **{name: char for char, name in EMOJI_NAMES.items()},
    # These three are text symbols unless asked to show as emoji.
    "heavy_check_mark": "✔\ufe0f",
    "ballot_box_with_check": "☑\ufe0f",
    "heart": "❤\ufe0f",
    "warning": "⚠\ufe0f",
    "thumbsup": "👍",
    "thumbsdown": "👎",
}
# Skin tones and the emoji-presentation selector do not change what a reaction means.
_MODIFIERS = {chr(c) for c in range(0x1F3FB, 0x1F400)} | {"\ufe0f", "\ufe0e"}

# Posts and replies by people; joins, pins, thread notices and the like are not messages.
_MEMBER_MESSAGES = (discord.MessageType.default, discord.MessageType.reply)


# Exactly what the adapter uses: README.md, "Connect a Discord server", says why each is needed.
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    read_message_history=True,
)
INVITE_SCOPES = ("bot", "applications.commands")


def invite_url(application_id: int) -> str:
    """The link that adds the bot to a server with exactly the permissions it needs."""
    return discord.utils.oauth_url(
        application_id, permissions=INVITE_PERMISSIONS, scopes=INVITE_SCOPES
    )


def intents(*, message_content: bool = True) -> discord.Intents:
    """The gateway intents Frontline needs; message content is privileged."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.guild_reactions = True
    wanted.message_content = message_content
    return wanted


def is_forum(channel: object) -> bool:
    """Whether `channel` is a forum (or media) channel, whose posts are threads."""
    return getattr(channel, "type", None) in (discord.ChannelType.forum, discord.ChannelType.media)


def emoji_name(emoji: discord.PartialEmoji | str) -> str:
    """The configuration-style name of a reaction: `white_check_mark`, `eyes`, `party_parrot`."""
    if isinstance(emoji, discord.PartialEmoji):
        if emoji.id is not None:
            return emoji.name or str(emoji.id)
        emoji = emoji.name or ""
    bare = "".join(ch for ch in emoji if ch not in _MODIFIERS)
    return EMOJI_NAMES.get(bare, emoji)


def reaction_name(emoji: discord.PartialEmoji | str, configured: frozenset[str]) -> str:
    """A reaction named the way the configuration names it.

    Usually that is the name (`sos` for 🆘); a configuration that lists only the
    character itself (`emoji = "🆘"`) gets the character, so either spelling works.
    """
    name = emoji_name(emoji)
    if name in configured:
        return name
    raw = (emoji.name or "") if isinstance(emoji, discord.PartialEmoji) else emoji
    bare = "".join(ch for ch in raw if ch not in _MODIFIERS)
    for spelling in (raw, bare):
        if spelling and spelling in configured:
            return spelling
    return name


def configured_emoji(settings: Settings) -> frozenset[str]:
    """Every reaction the configuration gives a meaning to, without colons."""
    tracking = settings.tracking
    names = [*tracking.ack_reactions, *tracking.resolve_reactions]
    names += [d.emoji for d in settings.destinations if d.emoji]
    return frozenset(n.strip(":") for n in names)


def emoji_symbol(name: str) -> str | None:
    """The unicode character of a named emoji, or None when the name is not known."""
    name = name.strip(":")
    if name in EMOJI_BY_NAME:
        return EMOJI_BY_NAME[name]
    if name and not name.isascii() and all(unicodedata.category(ch)[0] == "S" for ch in name[:1]):
        return name
    return None


@dataclass(frozen=True, slots=True)
class Where:
    """Where a message lives: its guild and channel, and the parent when that is a thread."""

    guild: str
    channel: str
    parent: str | None = None
    forum: bool = False
    title: str = ""

    @property
    def watched(self) -> str:
        """The configured channel this place belongs to."""
        return self.parent or self.channel


def place(where: Where, message_id: str) -> tuple[MessageRef | None, str, bool]:
    """`(thread_root, watched_channel, is_thread_starter)` of message `message_id` in `where`."""
    if where.parent is None:
        return None, where.channel, False
    if where.forum:
        if message_id == where.channel:
            return None, where.parent, True
        return MessageRef(PLATFORM, where.guild, where.channel, where.channel), where.parent, False
    # A thread started from a message has that message's id and hangs from it.
    return MessageRef(PLATFORM, where.guild, where.parent, where.channel), where.parent, False


def user_ref(guild: str, user: discord.abc.User, *, bot: bool = False) -> UserRef:
    """A core user; webhooks, system users and bots all count as bots."""
    is_bot = bot or user.bot or user.system
    return UserRef(PLATFORM, guild, str(user.id), user.display_name, is_bot)


def to_message(message: discord.Message, where: Where) -> Message | None:
    """The core message for a Discord message in `where`; None for system messages."""
    if message.type not in _MEMBER_MESSAGES:
        return None
    mid = str(message.id)
    root, watched, starter = place(where, mid)
    text = message.content
    if starter and where.title:
        # The title is what a forum post asks, and it is readable without message content.
        text = f"{where.title}\n{text}".strip()
    reply_to = None
    ref = message.reference
    if (
        ref is not None
        and ref.message_id is not None
        and ref.type is discord.MessageReferenceType.default
    ):
        reply_to = MessageRef(PLATFORM, where.guild, str(ref.channel_id), str(ref.message_id))
    return Message(
        ref=MessageRef(PLATFORM, where.guild, where.channel, mid),
        author=user_ref(where.guild, message.author, bot=message.webhook_id is not None),
        text=text,
        posted_at=message.created_at,
        thread_root=root,
        reply_to=reply_to,
        mentions=tuple(str(u.id) for u in message.mentions),
        watched_channel=watched,
        is_thread_starter=starter,
    )


def command_text(subcommand: str, *args: str | None) -> str:
    """The text after `/frontline` for the core's parser, each option one word."""
    return " ".join([subcommand, *(shlex.quote(a) for a in args if a)])


def tree_digest(application_id: int | None, payload: Sequence[Mapping[str, Any]]) -> str:
    """A stable hash of the command tree as it would be synced."""
    ordered = sorted(payload, key=lambda c: (int(c.get("type", 1)), str(c.get("name"))))
    blob = json.dumps({"application": application_id, "commands": ordered}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def sync_state_path(database: str) -> Path | None:
    """The file next to the database that remembers the last synced command tree."""
    path = database.removeprefix("sqlite:///").removeprefix("sqlite://")
    if not path or path == ":memory:" or "://" in path:
        return None
    return Path(path).with_name(Path(path).name + ".discord-commands")


def _platform_error(exc: Exception, what: str) -> PlatformError:
    if isinstance(exc, discord.HTTPException):
        if isinstance(exc, discord.Forbidden):
            reason = "the bot lacks a permission there"
        elif isinstance(exc, discord.NotFound):
            reason = "it does not exist (or the bot cannot see it)"
        else:
            reason = f"HTTP {exc.status}"
        detail = f" ({exc.text})" if exc.text else ""
        retry = exc.status >= 500 or exc.status == 429
        return PlatformError(f"Discord: {what} failed: {reason}{detail}", retryable=retry)
    return PlatformError(f"Discord: {what} failed: {exc!r}", retryable=True, maybe_done=True)


_IDS = re.compile(r"\s*\b\d+\b")
_NETWORK_ERRORS = (discord.HTTPException, aiohttp.ClientError, OSError, asyncio.TimeoutError)


class DiscordPlatform:
    """The Platform port over a discord.py client."""

    name = PLATFORM

    def __init__(self, settings: Settings, client: discord.Client) -> None:
        self.settings = settings
        self.client = client
        self._where: dict[int, Where] = {}
        self._lookups: dict[int, asyncio.Lock] = {}
        self._roles: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}
        self._targets: dict[int, str] = {}
        staff = settings.staff
        self._staff_users = frozenset(staff.discord_users)
        self._staff_roles = frozenset(r.casefold() for r in staff.discord_roles)
        # Counts failed calls for /metrics once the adapter runs under an app.
        self.telemetry: Telemetry | None = None

    def _error(self, exc: Exception, what: str) -> PlatformError:
        """The PlatformError for a failed call, counted by what was done (ids left out)."""
        error = _platform_error(exc, what)
        if self.telemetry is not None:
            method = _IDS.sub("", what).strip() or "call"
            self.telemetry.platform_error(PLATFORM, method, error.retryable)
        return error

    # --- places -------------------------------------------------------------------

    def watches(self, where: Where) -> bool:
        """Whether `where` is a configured channel or a thread/post inside one."""
        return self.settings.channel(PLATFORM, where.watched) is not None

    async def locate(self, guild_id: int, channel: object) -> Where | None:
        """Where a channel or thread is (REST only for channels the cache does not know)."""
        cid = channel if isinstance(channel, int) else getattr(channel, "id", None)
        if not isinstance(cid, int):
            return None
        if cid in self._where:
            return self._where[cid]
        # Messages of an unknown thread arrive together: one REST lookup serves them all.
        lock = self._lookups.setdefault(cid, asyncio.Lock())
        try:
            async with lock:
                if cid in self._where:
                    return self._where[cid]
                return await self._locate(guild_id, cid, channel)
        finally:
            if not lock.locked():
                self._lookups.pop(cid, None)

    async def _locate(self, guild_id: int, cid: int, channel: object) -> Where | None:
        obj: object = channel
        if not isinstance(obj, discord.Thread | discord.abc.GuildChannel):
            obj = self.client.get_channel(cid) or await self._fetch_channel(cid)
        if obj is None:
            return None
        where = Where(str(guild_id), str(cid))
        if isinstance(obj, discord.Thread):
            parent: object = obj.parent or self.client.get_channel(obj.parent_id)
            if parent is None:
                parent = await self._fetch_channel(obj.parent_id)
            where = Where(str(guild_id), str(cid), str(obj.parent_id), is_forum(parent), obj.name)
        if len(self._where) >= WHERE_CACHE_SIZE:
            self._where.clear()
        self._where[cid] = where
        return where

    async def _fetch_channel(self, cid: int) -> object | None:
        try:
            return await self.client.fetch_channel(cid)
        except (discord.NotFound, discord.Forbidden):
            return None
        except _NETWORK_ERRORS as exc:
            raise self._error(exc, f"looking up channel {cid}") from exc

    def remember_target(self, message: discord.Message) -> None:
        """Keep the text of a context-menu target: REST may hand it back empty later."""
        if not message.content:
            return
        if len(self._targets) >= TARGET_CACHE_SIZE:
            self._targets.pop(next(iter(self._targets)))
        self._targets[message.id] = message.content

    def forget(self, channel_id: int) -> None:
        """Drop a deleted channel or thread from the cache."""
        self._where.pop(channel_id, None)

    # --- staff ----------------------------------------------------------------------

    def remember_member(self, guild: str, member: discord.abc.User | None) -> None:
        """Note a member's roles as seen on an event, so staff checks need no REST call."""
        if isinstance(member, discord.Member):
            self._roles[(guild, str(member.id))] = (time.monotonic(), self._role_keys(member))

    @staticmethod
    def _role_keys(member: discord.Member) -> frozenset[str]:
        return frozenset(
            key for role in member.roles for key in (str(role.id), role.name.casefold())
        )

    async def is_staff(self, user: UserRef) -> bool:
        """Staff are configured user ids, or members holding a configured role (id or name)."""
        if user.platform != PLATFORM or user.is_bot:
            return False
        if user.user in self._staff_users:
            return True
        if not self._staff_roles:
            return False
        key = (user.space, user.user)
        cached = self._roles.get(key)
        if cached is None or time.monotonic() - cached[0] > STAFF_CACHE_SECONDS:
            roles = await self._fetch_roles(user)
            if roles is None:
                return False
            cached = (time.monotonic(), roles)
            self._roles[key] = cached
        return bool(cached[1] & self._staff_roles)

    async def _fetch_roles(self, user: UserRef) -> frozenset[str] | None:
        if not (user.space.isdigit() and user.user.isdigit()):
            return None
        guild = self.client.get_guild(int(user.space))
        if guild is None:
            return None
        member = guild.get_member(int(user.user))
        if member is None:
            try:
                member = await guild.fetch_member(int(user.user))
            except discord.NotFound:
                return frozenset()  # no longer in the guild: holds no role
            except _NETWORK_ERRORS as exc:
                log.warning("staff check for %s in guild %s failed: %s", user.user, guild.id, exc)
                return None
        return self._role_keys(member)

    # --- sending ----------------------------------------------------------------------

    def _ready(self) -> None:
        if self.client.user is None or self.client.is_closed():
            raise PlatformError("Discord is not connected", retryable=True)

    async def _send(
        self,
        channel_id: int,
        guild: str,
        post: Post,
        reference: discord.MessageReference | None = None,
    ) -> MessageRef:
        self._ready()
        target = self.client.get_partial_messageable(
            channel_id, guild_id=int(guild) if guild.isdigit() else None
        )
        body = _message_body(post)
        if reference is not None:
            body["reference"] = reference
        try:
            sent = await target.send(**body)
        except _NETWORK_ERRORS as exc:
            raise self._error(exc, f"posting in channel {channel_id}") from exc
        if not guild.isdigit():
            # A destination configured without its server: the link needs the guild id.
            known = self.client.get_channel(channel_id)
            where = getattr(known, "guild", None) or sent.guild
            guild = str(where.id) if where is not None else guild
        return MessageRef(PLATFORM, guild, str(channel_id), str(sent.id))

    async def post(self, channel: ChannelRef, post: Post) -> MessageRef:
        """Post an embed in a channel."""
        return await self._send(_snowflake(channel.channel), channel.space, post)

    async def reply_in_thread(self, message: MessageRef, post: Post) -> MessageRef:
        """Answer in the message's thread or forum post, else as a Discord reply to it."""
        cid, mid = _snowflake(message.channel), _snowflake(message.message)
        guild = self.client.get_guild(int(message.space)) if message.space.isdigit() else None
        if guild is not None and guild.get_thread(mid) is not None:
            return await self._send(mid, message.space, post)
        reference = discord.MessageReference(
            message_id=mid,
            channel_id=cid,
            guild_id=guild.id if guild else None,
            fail_if_not_exists=False,
        )
        return await self._send(cid, message.space, post, reference)

    async def dm(self, user: UserRef, post: Post) -> MessageRef:
        """Send a member a direct message."""
        self._ready()
        uid = _snowflake(user.user)
        try:
            member = self.client.get_user(uid) or await self.client.fetch_user(uid)
            channel = member.dm_channel or await member.create_dm()
            sent = await channel.send(**_message_body(post))
        except _NETWORK_ERRORS as exc:
            raise self._error(exc, f"messaging user {uid}") from exc
        return MessageRef(PLATFORM, "@me", str(channel.id), str(sent.id))

    async def update(self, message: MessageRef, post: Post) -> None:
        """Replace the content of a message the bot posted."""
        self._ready()
        # No view means no buttons: a settled escalation loses them.
        body: dict[str, Any] = {
            "content": None,
            "embed": None,
            "view": None,
            **_message_body(post),
        }
        if "file" in body:
            # An edit replaces attachments instead of adding files.
            body["attachments"] = [body.pop("file")]
        target = self.client.get_partial_messageable(_snowflake(message.channel))
        try:
            await target.get_partial_message(_snowflake(message.message)).edit(**body)
        except _NETWORK_ERRORS as exc:
            raise self._error(exc, f"editing message {message.message}") from exc

    async def fetch(self, message: MessageRef) -> Message | None:
        """A message by its ref, or None when it is gone or the bot cannot read it."""
        self._ready()
        cid = _snowflake(message.channel)
        target = self.client.get_partial_messageable(cid)
        try:
            item = await target.fetch_message(_snowflake(message.message))
        except (discord.NotFound, discord.Forbidden):
            return None
        except _NETWORK_ERRORS as exc:
            raise self._error(exc, f"reading message {message.message}") from exc
        where = await self.locate(int(message.space), cid) if message.space.isdigit() else None
        if where is None:
            return None
        if not item.content and item.id in self._targets:
            # Without the message content intent REST returns no text; the "Escalate"
            # menu was given it, so the escalation still quotes the member.
            item.content = self._targets[item.id]
        return to_message(item, where)

    async def is_private(self, channel: ChannelRef) -> bool:
        """Private threads, DMs and channels @everyone cannot see; unknown ones count too."""
        self._ready()
        cid = _snowflake(channel.channel)
        found = self.client.get_channel(cid) or await self._fetch_channel(cid)
        if isinstance(found, discord.Thread):
            if found.type is discord.ChannelType.private_thread:
                return True
            found = found.parent or await self._fetch_channel(found.parent_id)
        if isinstance(found, discord.abc.GuildChannel):
            return not found.permissions_for(found.guild.default_role).view_channel
        # A DM, or a channel the bot cannot see: nothing from it may be copied elsewhere.
        return True

    async def react(self, message: MessageRef, emoji: str) -> None:
        """React with a named emoji (`white_check_mark`) or a custom emoji of the guild."""
        self._ready()
        symbol: str | discord.Emoji | None = emoji_symbol(emoji)
        if symbol is None:
            guild = self.client.get_guild(int(message.space)) if message.space.isdigit() else None
            symbol = discord.utils.get(guild.emojis, name=emoji.strip(":")) if guild else None
        if symbol is None:
            raise PlatformError(f"Discord: no emoji called {emoji!r}")
        target = self.client.get_partial_messageable(_snowflake(message.channel))
        try:
            await target.get_partial_message(_snowflake(message.message)).add_reaction(symbol)
        except _NETWORK_ERRORS as exc:
            raise self._error(exc, f"reacting to {message.message}") from exc

    async def permalink(self, message: MessageRef) -> str:
        """The message's jump URL."""
        return message_link(message)

    def parse_link(self, link: str) -> MessageRef | None:
        """A message link; a thread or forum post link stands for the message it hangs from."""
        ref = parse_message_link(link)
        if ref is not None:
            return ref
        channel_link = parse_channel_link(link)
        if channel_link is None:
            return None
        guild, channel = channel_link
        thread = self.client.get_channel(int(channel))
        if not isinstance(thread, discord.Thread):
            return None
        if is_forum(thread.parent):
            return MessageRef(PLATFORM, guild, channel, channel)
        return MessageRef(PLATFORM, guild, str(thread.parent_id), channel)

    async def find_sent(
        self, where: ChannelRef | UserRef, post: Post, since: datetime
    ) -> MessageRef | None:
        """The bot's own message after `since` that shows `post` (same text or embed).

        Discord keeps no metadata on messages and does not return nonces in history,
        so the bot's recent messages are compared with how `post` renders.
        """
        self._ready()
        me = self.client.user
        try:
            if isinstance(where, UserRef):
                uid = _snowflake(where.user)
                member = self.client.get_user(uid) or await self.client.fetch_user(uid)
                target: discord.abc.Messageable = member.dm_channel or await member.create_dm()
            else:
                target = self.client.get_partial_messageable(_snowflake(where.channel))
            body = _message_body(post)
            embed: discord.Embed | None = body.get("embed")
            async for item in target.history(limit=50, after=since, oldest_first=False):
                if me is None or item.author.id != me.id:
                    continue
                shown = item.embeds[0] if item.embeds else None
                same_embed = (
                    embed is not None
                    and shown is not None
                    and (shown.title, shown.description) == (embed.title, embed.description)
                )
                if same_embed or (embed is None and item.content == body.get("content")):
                    space = where.space if isinstance(where, ChannelRef) else "@me"
                    return MessageRef(PLATFORM, space, str(item.channel.id), str(item.id))
        except _NETWORK_ERRORS as exc:
            raise self._error(exc, "looking for an earlier send") from exc
        return None

    async def history(self, channel: ChannelRef, after: datetime | None) -> AsyncIterator[Message]:
        """Messages of a channel or thread after `after`, oldest first (bounded backfill)."""
        self._ready()
        cid = _snowflake(channel.channel)
        try:
            source = self.client.get_channel(cid) or await self.client.fetch_channel(cid)
        except _NETWORK_ERRORS as exc:
            raise self._error(exc, f"reading channel {cid}") from exc
        where = await self.locate(int(channel.space), source)
        if where is None or not isinstance(source, discord.abc.Messageable):
            return
        # One millisecond earlier: the last message seen comes again (and is ignored)
        # rather than a message of the same millisecond being skipped.
        start = after - timedelta(milliseconds=1) if after is not None else None
        try:
            async for item in source.history(limit=BACKFILL_LIMIT, after=start, oldest_first=True):
                core = to_message(item, where)
                if core is not None:
                    self.remember_member(where.guild, item.author)
                    yield core
        except _NETWORK_ERRORS as exc:
            raise self._error(exc, f"reading the history of {cid}") from exc


def _message_body(post: Post) -> dict[str, Any]:
    """Lists and titled posts as an embed; a short sentence (a notice) as a plain message.

    The post's actions become buttons under either.
    """
    body: dict[str, Any]
    if not (post.title or post.items or post.footer or post.fields or post.image) and (
        len(post.text) <= CONTENT_LIMIT
    ):
        body = {"content": post.text}
    else:
        body = {"embed": render_embed(post, message_link)}
    if post.image is not None:
        body["file"] = discord.File(io.BytesIO(post.image), filename=image_name(post))
    view = action_view(post.actions)
    if view is not None:
        body["view"] = view
    if post.notify:
        users = [discord.Object(int(who)) for kind, who in post.notify if kind == "user"]
        roles = [discord.Object(int(who)) for kind, who in post.notify if kind == "group"]
        pings = " ".join(
            f"<@&{who}>" if kind == "group" else f"<@{who}>" for kind, who in post.notify
        )
        body["content"] = f"{pings} {body.get('content', '')}".strip()
        # Ping exactly the on-call people or role, never anyone named in member text.
        body["allowed_mentions"] = discord.AllowedMentions(everyone=False, users=users, roles=roles)
    return body


def _snowflake(value: str) -> int:
    if not value.isdigit():
        raise PlatformError(f"Discord: {value!r} is not a Discord id")
    return int(value)


class _Client(discord.Client):
    """discord.Client whose gateway events go to the adapter."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(**options)
        self.adapter = adapter
        self.group: app_commands.Group | None = None
        self.tree: app_commands.CommandTree[_Client] = adapter.build_tree(self)
        # Buttons and menus are recognised by their custom id on any message, so clicks
        # on posts made before this process started still arrive.
        self.add_dynamic_items(ActionButton, DestinationSelect)

    async def setup_hook(self) -> None:
        if self.application_id is not None:
            log.info(
                "Discord: logged in as %s; invite link: %s",
                self.user,
                invite_url(self.application_id),
            )
        await self.adapter.sync_commands(self)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # Discord allows one IDENTIFY per 5 s; a local Discord (tests) needs no pause.
        if not initial:
            await asyncio.sleep(self.adapter.identify_delay)

    async def on_ready(self) -> None:
        self.adapter.connection_ready()

    async def on_resumed(self) -> None:
        self.adapter.connection_resumed()

    async def on_disconnect(self) -> None:
        self.adapter.connection_lost()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.guard(
            f"message {message.id} in {message.channel.id}", self.adapter.on_message(message)
        )

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.adapter.guard(
            f"edit of {payload.message_id} in {payload.channel_id}", self.adapter.on_edit(payload)
        )

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.adapter.guard(
            f"delete of {payload.message_id} in {payload.channel_id}",
            self.adapter.on_delete(payload.guild_id, payload.channel_id, [payload.message_id]),
        )

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        await self.adapter.guard(
            f"bulk delete in {payload.channel_id}",
            self.adapter.on_delete(
                payload.guild_id, payload.channel_id, sorted(payload.message_ids)
            ),
        )

    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self.adapter.guard(
            f"deleted thread {payload.thread_id}", self.adapter.on_thread_delete(payload)
        )

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.adapter.guard(
            f"reaction on {payload.message_id} in {payload.channel_id}",
            self.adapter.on_reaction(payload, added=True),
        )

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.adapter.guard(
            f"reaction removed on {payload.message_id} in {payload.channel_id}",
            self.adapter.on_reaction(payload, added=False),
        )

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.modal_submit:
            await self.adapter.guard(
                f"form {interaction.id} from {interaction.user.id}",
                self.adapter.on_form(interaction),
            )

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        # The default prints to stderr; ours logs with the event and keeps the client alive.
        log.exception("Discord event %s failed; the client carries on", event_method)


class DiscordAdapter:
    """Connects one Discord bot and feeds its guilds' events to the app until cancelled."""

    name = PLATFORM

    def __init__(
        self,
        settings: Settings,
        *,
        env: Mapping[str, str] | None = None,
        sync_state: Path | None = None,
        guild_ready_timeout: float = 2.0,
        identify_delay: float = 5.0,
    ) -> None:
        if settings.discord_token is None:
            raise ConfigError(["DISCORD_TOKEN: not set in the environment; Discord cannot log in"])
        env = os.environ if env is None else env
        self.settings = settings
        self.api_url = _url(env.get("DISCORD_API_URL"), ("http", "https"), "DISCORD_API_URL")
        self.gateway_url = _url(
            env.get("DISCORD_GATEWAY_URL"), ("ws", "wss"), "DISCORD_GATEWAY_URL"
        )
        self.sync_state = sync_state or sync_state_path(settings.bot.database)
        self.guild_ready_timeout = guild_ready_timeout
        self.identify_delay = identify_delay
        self.message_content = True
        self._emoji = configured_emoji(settings)
        self._escalation_emoji = frozenset(
            d.emoji.strip(":") for d in settings.destinations if d.emoji
        )
        self.discord = DiscordPlatform(settings, self._new_client())
        self.platform: Platform = self.discord
        self.backfills = 0
        self.ready = asyncio.Event()
        self.syncs = 0
        self._app: Frontline | None = None
        self._wanted = asyncio.Event()
        self._connected = False
        self._gap_start: datetime | None = None
        self._inflight: set[asyncio.Task[Any]] = set()

    @property
    def client(self) -> _Client:
        """The current discord.py client."""
        client = self.discord.client
        assert isinstance(client, _Client)
        return client

    def _new_client(self) -> _Client:
        return _Client(
            self,
            intents=intents(message_content=self.message_content),
            guild_ready_timeout=self.guild_ready_timeout,
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
            allowed_mentions=discord.AllowedMentions.none(),
        )

    # --- running ----------------------------------------------------------------------

    async def run(self, app: Frontline) -> None:
        """Log in and stay connected until cancelled; then close cleanly."""
        self._app = app
        self.discord.telemetry = app.ctx.telemetry
        self._gap_start = app.ctx.now()
        saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        if self.api_url:
            discord.http.Route.BASE = self.api_url
        if self.gateway_url:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        worker = asyncio.create_task(self._backfill_worker(), name="discord:backfill")
        try:
            await self._connect()
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
            await self._close()
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved

    async def _connect(self) -> None:
        assert self.settings.discord_token is not None
        failures = 0
        while True:
            try:
                await self.client.start(self.settings.discord_token.get_secret_value())
                return
            except discord.LoginFailure:
                raise PlatformError(
                    "Discord refused DISCORD_TOKEN (401 Unauthorized): copy the token again "
                    "from the developer portal (Bot > Reset Token)"
                ) from None
            except (TimeoutError, aiohttp.ClientError, OSError, discord.DiscordServerError) as exc:
                # discord.py reconnects the gateway itself, but not a failed login.
                failures += 1
                delay = min(2.0**failures, LOGIN_RETRY_MAX_SECONDS)
                log.warning("Discord: cannot log in (%r); retrying in %.0fs", exc, delay)
                await self.client.close()
                self.discord.client = self._new_client()
                await asyncio.sleep(delay)
            except discord.PrivilegedIntentsRequired:
                if not self.message_content:
                    raise
                log.error(
                    "Discord refused the MESSAGE CONTENT intent: enable it under Bot > "
                    "Privileged Gateway Intents in the developer portal. Carrying on without "
                    "it: message text is empty, so only forum posts (by title), replies, "
                    "threads and reactions are tracked."
                )
                await self.client.close()
                self.message_content = False
                self.discord.client = self._new_client()

    async def _close(self) -> None:
        if not self.client.is_closed():
            await self.client.close()
        # Events already accepted finish before the store closes behind us.
        pending = {t for t in self._inflight if t is not asyncio.current_task()}
        if pending:
            await asyncio.wait(pending, timeout=SHUTDOWN_GRACE_SECONDS)

    async def guard(self, what: str, work: Awaitable[None]) -> None:
        """Run one event's work; a failure is logged with the event and goes no further."""
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            await work
        except Exception:
            log.exception("Discord %s could not be handled", what)
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def _deliver(self, event: Inbound) -> list[Reply]:
        if self._app is None:
            return []
        return await self._app.handle(event)

    def _now(self) -> datetime:
        assert self._app is not None
        return self._app.ctx.now()

    # --- connection state and backfill -----------------------------------------------

    async def connected(self) -> bool:
        """Whether the gateway session is up now: logged in, ready, not closed (/healthz)."""
        client = self.client
        return self._connected and client.is_ready() and not client.is_closed()

    def connection_ready(self) -> None:
        """A fresh session (first start, or a RESUME that failed): catch up on the gap."""
        self._connected = True
        log.info("Discord session ready; backfilling watched channels")
        self._wanted.set()

    def connection_resumed(self) -> None:
        """The session was resumed: Discord replays what we missed, no backfill needed."""
        self._connected = True

    def connection_lost(self) -> None:
        """The gateway dropped; what follows may be lost unless the RESUME works."""
        if self._connected and self._app is not None:
            self._gap_start = self._now() - DISCONNECT_MARGIN
        self._connected = False

    async def _backfill_worker(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            try:
                await self.backfill()
            except Exception:
                log.exception("Discord backfill failed; live events still flow")
            self.backfills += 1
            self.ready.set()  # the first catch-up is over: overdue work may be swept

    async def backfill(self) -> int:
        """Replay every watched channel and active thread since the last message seen."""
        if self._app is None:
            return 0
        store = self._app.ctx.store
        now = self._now()
        cutoff = self._gap_start or now
        replayed = 0
        for guild in list(self.client.guilds):
            space = str(guild.id)
            parents: list[discord.abc.GuildChannel | discord.Thread] = [
                ch for ch in guild.channels if self.settings.channel(PLATFORM, str(ch.id))
            ]
            if not parents:
                continue
            watched = {ch.id for ch in parents}
            try:
                threads = [t for t in await guild.active_threads() if t.parent_id in watched]
            except _NETWORK_ERRORS as exc:
                log.warning("Discord: listing active threads of guild %s failed: %s", space, exc)
                threads = []
            places = [ch for ch in [*parents, *threads] if not isinstance(ch, discord.ForumChannel)]
            seen = {ch.id: await store.last_seen(PLATFORM, space, str(ch.id)) for ch in places}
            known = [t for t in seen.values() if t is not None]
            # A channel or thread never seen: from when we last saw anything, at the latest
            # from the moment the connection was lost.
            unseen = min(max(known), cutoff) if known else cutoff
            for ch in places:
                after = min(seen[ch.id] or unseen, cutoff)
                replayed += await self._replay(space, ch, max(after, now - BACKFILL_WINDOW))
        log.info("Discord backfill replayed %d message(s)", replayed)
        return replayed

    async def _replay(self, space: str, channel: object, after: datetime) -> int:
        cid = getattr(channel, "id", "?")
        count = 0
        try:
            async for message in self.discord.history(ChannelRef(PLATFORM, space, str(cid)), after):
                if not message.author.is_bot:
                    await self._deliver(MessagePosted(None, message))
                    count += 1
        except PlatformError as exc:
            log.warning("Discord backfill of channel %s stopped: %s", cid, exc)
        if count >= BACKFILL_LIMIT:
            log.warning("Discord backfill of channel %s hit the limit of %d", cid, BACKFILL_LIMIT)
        return count

    # --- inbound gateway events ---------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """A new message in a watched channel, thread or forum post."""
        if message.guild is None or message.author.bot or message.webhook_id is not None:
            return
        where = await self.discord.locate(message.guild.id, message.channel)
        if where is None or not self.discord.watches(where):
            return
        core = to_message(message, where)
        if core is None:
            return
        self.discord.remember_member(where.guild, message.author)
        await self._deliver(MessagePosted(None, core))

    async def on_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """A user edited a message (raw event: works for messages never cached)."""
        message = payload.message
        # Without message content an edit would blank the text; embeds unfurling is no edit.
        if payload.guild_id is None or not self.message_content or message.edited_at is None:
            return
        if message.author.bot or message.webhook_id is not None:
            return
        where = await self.discord.locate(payload.guild_id, payload.channel_id)
        if where is None or not self.discord.watches(where):
            return
        core = to_message(message, where)
        if core is not None:
            await self._deliver(MessageEdited(None, core, message.edited_at))

    async def on_delete(
        self, guild_id: int | None, channel_id: int, message_ids: Sequence[int]
    ) -> None:
        """Messages were deleted (raw event: works for messages never cached)."""
        if guild_id is None:
            return
        where = await self.discord.locate(guild_id, channel_id)
        if where is None or not self.discord.watches(where):
            return
        for mid in message_ids:
            ref = MessageRef(PLATFORM, where.guild, where.channel, str(mid))
            await self._deliver(MessageDeleted(None, ref, self._now()))

    async def on_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        """A deleted forum post takes its question with it."""
        self.discord.forget(payload.thread_id)
        parent = self.client.get_channel(payload.parent_id)
        if not is_forum(parent):
            return
        if self.settings.channel(PLATFORM, str(payload.parent_id)) is None:
            return
        tid = str(payload.thread_id)
        ref = MessageRef(PLATFORM, str(payload.guild_id), tid, tid)
        await self._deliver(MessageDeleted(None, ref, self._now()))

    async def on_reaction(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        """A reaction added or taken back (raw event: works for messages never cached)."""
        if payload.guild_id is None:
            return
        emoji = reaction_name(payload.emoji, self._emoji)
        where = await self.discord.locate(payload.guild_id, payload.channel_id)
        if where is None:
            return
        # A destination's emoji escalates a message wherever it is, like the menu does.
        if not self.discord.watches(where) and emoji not in self._escalation_emoji:
            return
        who: discord.abc.User | None = payload.member or self.client.get_user(payload.user_id)
        me = self.client.user
        if who is not None:
            self.discord.remember_member(where.guild, who)
            user = user_ref(where.guild, who, bot=me is not None and who.id == me.id)
        else:
            user = UserRef(PLATFORM, where.guild, str(payload.user_id))
        ref = MessageRef(PLATFORM, where.guild, where.channel, str(payload.message_id))
        kind = ReactionAdded if added else ReactionRemoved
        await self._deliver(kind(None, ref, user, emoji, self._now()))

    # --- application commands ---------------------------------------------------------

    def build_tree(self, client: _Client) -> app_commands.CommandTree[_Client]:
        """`/frontline ...` and the "Escalate" message command."""
        tree: app_commands.CommandTree[_Client] = app_commands.CommandTree(client)
        group = app_commands.Group(
            name="frontline",
            description="No question left behind: what is waiting, the figures, resolve, snooze",
            guild_only=True,
        )
        adapter = self

        @group.command(name="help", description="What Frontline can do")
        async def help_command(interaction: discord.Interaction) -> None:
            await adapter.command(interaction, command_text("help"))

        @group.command(name="unanswered", description="Questions still waiting, oldest first")
        @app_commands.describe(channel="Only this watched channel")
        async def unanswered(
            interaction: discord.Interaction,
            channel: app_commands.AppCommandChannel | None = None,
        ) -> None:
            where = f"<#{channel.id}>" if channel is not None else None
            await adapter.command(interaction, command_text("unanswered", where))

        @group.command(name="stats", description="Questions, answered share and response times")
        @app_commands.describe(period="How far back, e.g. 24h or 7d (default: one day)")
        async def stats(interaction: discord.Interaction, period: str | None = None) -> None:
            await adapter.command(interaction, command_text("stats", period))

        @group.command(name="resolve", description="Mark a question resolved (staff)")
        @app_commands.describe(link="The question's message link (Copy Message Link)")
        async def resolve(interaction: discord.Interaction, link: str) -> None:
            await adapter.command(interaction, command_text("resolve", link))

        @group.command(name="snooze", description="Pause warnings about a question (staff)")
        @app_commands.describe(
            link="The question's message link (Copy Message Link)",
            duration="How long, e.g. 2h or 1d",
        )
        async def snooze(interaction: discord.Interaction, link: str, duration: str) -> None:
            await adapter.command(interaction, command_text("snooze", link, duration))

        async def escalate(interaction: discord.Interaction, message: discord.Message) -> None:
            await adapter.escalate(interaction, message)

        client.group = group
        tree.add_command(group)
        tree.add_command(
            app_commands.ContextMenu(
                name="Escalate",
                callback=escalate,
                allowed_contexts=app_commands.AppCommandContext(guild=True),
            )
        )
        tree.error(self._command_error)
        return tree

    async def command(self, interaction: discord.Interaction, text: str) -> None:
        """Defer at once (Discord allows 3 s), let the core answer, reply privately."""
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            if not await self._defer(interaction, text):
                return
            guild = str(interaction.guild_id or "@me")
            self.discord.remember_member(guild, interaction.user)
            event = CommandInvoked(
                str(interaction.id),
                text,
                user_ref(guild, interaction.user),
                ChannelRef(PLATFORM, guild, str(interaction.channel_id)),
                self._now(),
            )
            replies = await self._deliver(event)
            await self._answer(interaction, replies[0] if replies else Reply(NO_ANSWER))
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def escalate(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """The "Escalate" message command: a private menu of the configured destinations."""
        with self._tracking():
            self.discord.remember_target(message)
            destinations = self.settings.destinations
            try:
                if not destinations:
                    await interaction.response.send_message(NO_ESCALATION, ephemeral=True)
                    return
                author = discord.utils.escape_markdown(message.author.display_name)
                # The channel the message lives in: for a forum post, its thread, as the
                # core keys it.
                view = picker_view(str(message.channel.id), str(message.id), destinations)
                await interaction.response.send_message(
                    PICKER_TEXT.format(author=author), view=view, ephemeral=True
                )
            except _NETWORK_ERRORS as exc:
                log.warning(
                    "Discord: could not answer Escalate for %s: %s", interaction.user.id, exc
                )

    async def on_destination(
        self, interaction: discord.Interaction, channel: str, message: str, destination: str
    ) -> None:
        """A destination was picked: ask for an optional reason (a form answers at once)."""
        await self.guard(
            f"choice of {destination[:40]!r} for message {message}",
            self._destination(interaction, channel, message, destination),
        )

    async def _destination(
        self, interaction: discord.Interaction, channel: str, message: str, destination: str
    ) -> None:
        destinations = self.settings.destinations
        index = next((i for i, d in enumerate(destinations) if d.name == destination), None)
        try:
            if index is None:
                await interaction.response.send_message(
                    f"`{destination[:40]}` is no longer a destination; use Escalate again.",
                    ephemeral=True,
                )
                return
            form = reason_form(destinations[index], index, channel, message)
            await interaction.response.send_modal(form)
        except _NETWORK_ERRORS as exc:
            log.warning("Discord: could not open the reason form for %s: %s", message, exc)

    async def on_button(self, interaction: discord.Interaction, action: str, value: str) -> None:
        """A post's button: ask for a note first when the action takes one, else act now."""
        await self.guard(
            f"click on {action}:{value[:40]}", self._button(interaction, action, value)
        )

    async def _button(self, interaction: discord.Interaction, action: str, value: str) -> None:
        form = note_form(action, value)
        if form is None:
            await self._act(interaction, action, value, "")
            return
        try:
            await interaction.response.send_modal(form)
        except _NETWORK_ERRORS as exc:
            log.warning("Discord: could not open the %s form: %s", action, exc)

    async def on_form(self, interaction: discord.Interaction) -> None:
        """A submitted form: a resolution note, or the reason of an escalation."""
        data: Mapping[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        text = form_values(data).get(NOTE_INPUT, "").strip()
        if match := NOTE_FORM.fullmatch(custom_id):
            await self._act(interaction, match["action"], match["value"], text)
        elif match := REASON_FORM.fullmatch(custom_id):
            await self._escalate_to(
                interaction, match["destination"], match["channel"], match["message"], text
            )

    async def _act(
        self, interaction: discord.Interaction, action: str, value: str, note: str
    ) -> None:
        with self._tracking():
            if not await self._defer(interaction, action):
                return
            guild = str(interaction.guild_id or "@me")
            self.discord.remember_member(guild, interaction.user)
            event = ActionInvoked(
                str(interaction.id),
                action,
                value,
                user_ref(guild, interaction.user),
                self._now(),
                note,
            )
            replies = await self._deliver(event)
            await self._answer(interaction, replies[0] if replies else Reply(STALE_BUTTON))

    async def _escalate_to(
        self,
        interaction: discord.Interaction,
        key: str,
        channel: str,
        message: str,
        reason: str,
    ) -> None:
        with self._tracking():
            # The form came from the picker: its answer replaces the picker, so the menu
            # cannot be used twice.
            in_place = interaction.message is not None
            try:
                if in_place:
                    await interaction.response.defer()
                else:
                    await interaction.response.defer(ephemeral=True, thinking=True)
            except discord.HTTPException as exc:
                log.warning("Discord: could not defer escalation of %s: %s", message, exc)
                return
            guild = str(interaction.guild_id or "@me")
            self.discord.remember_member(guild, interaction.user)
            destination = destination_by_key(self.settings.destinations, key)
            event = ShortcutInvoked(
                str(interaction.id),
                ESCALATE,
                MessageRef(PLATFORM, guild, channel, message),
                user_ref(guild, interaction.user),
                self._now(),
                destination.name if destination is not None else key,
                reason,
            )
            replies = await self._deliver(event)
            reply = replies[0] if replies else Reply(NO_ANSWER)
            if in_place and reply.post is None and not reply.public:
                await self._replace(interaction, reply)
            else:
                await self._answer(interaction, reply)

    async def _replace(self, interaction: discord.Interaction, reply: Reply) -> None:
        try:
            await interaction.edit_original_response(
                content=render_content(reply.text),
                embed=None,
                view=None,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except _NETWORK_ERRORS as exc:
            log.warning("Discord: answering interaction %s failed: %s", interaction.id, exc)

    @contextmanager
    def _tracking(self) -> Iterator[None]:
        """Count the current task as accepted work, so shutdown waits for it."""
        task = asyncio.current_task()
        if task is None or task in self._inflight:
            yield
            return
        self._inflight.add(task)
        try:
            yield
        finally:
            self._inflight.discard(task)

    async def _defer(self, interaction: discord.Interaction, what: str) -> bool:
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException as exc:
            # Too late (the 3 s passed) or already answered: nothing more can be sent.
            log.warning("Discord: could not defer %s for %s: %s", what, interaction.user.id, exc)
            return False
        return True

    async def _answer(self, interaction: discord.Interaction, reply: Reply) -> None:
        content = (
            _message_body(reply.post)
            if reply.post is not None
            else {"content": render_content(reply.text)}
        )
        try:
            if reply.public:
                # The deferred answer is private; a public reply follows it in the channel.
                await interaction.followup.send("Posted in the channel.", ephemeral=True)
                await interaction.followup.send(
                    **content, allowed_mentions=discord.AllowedMentions.none()
                )
            else:
                await interaction.followup.send(
                    **content, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
                )
        except _NETWORK_ERRORS as exc:
            log.warning("Discord: answering interaction %s failed: %s", interaction.id, exc)

    async def _command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            text = "This command is out of date; it will be refreshed when Frontline restarts."
            log.warning("Discord: stale application command %s", error)
        else:
            text = NO_ANSWER
            log.error("Discord: application command failed", exc_info=error)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except _NETWORK_ERRORS as exc:
            log.warning("Discord: could not report a command error: %s", exc)

    def add_core_commands(self, client: _Client) -> None:
        """Every other `/frontline` subcommand the core knows, with its words as one option.

        The five subcommands of this adapter have typed options; anything the core adds
        later (`chart`, `escalate`, ...) is still reachable as `/frontline <name> options:`.
        """
        group = client.group
        if group is None or self._app is None:
            return
        known = {command.name for command in group.commands}
        for name, spec in self._app.ctx.router.commands.items():
            if name in known or not re.fullmatch(r"[a-z0-9_-]{1,32}", name):
                continue
            if len(known) >= SUBCOMMAND_LIMIT:
                log.warning("Discord: no room for /frontline %s (25 subcommands at most)", name)
                break
            command: app_commands.Command[Any, ..., None] = app_commands.Command(
                name=name,
                description=cut(spec.summary, 100) or name,
                callback=self._free_text_command(name),
            )
            app_commands.describe(options=cut(f"Usage: {spec.usage}", 100))(command)
            group.add_command(command)
            known.add(name)

    def _free_text_command(
        self, name: str
    ) -> Callable[[discord.Interaction, str | None], Coroutine[Any, Any, None]]:
        adapter = self

        async def run(interaction: discord.Interaction, options: str | None = None) -> None:
            await adapter.command(interaction, f"{name} {options or ''}".strip())

        return run

    async def sync_commands(self, client: _Client) -> bool:
        """Upload the command tree only when it changed since the last sync (daily quota)."""
        self.add_core_commands(client)
        payload = [command.to_dict(client.tree) for command in client.tree.get_commands()]
        digest = tree_digest(client.application_id, payload)
        state = self.sync_state
        try:
            previous = state.read_text(encoding="utf-8").strip() if state else None
        except FileNotFoundError:
            previous = None
        except OSError as exc:
            log.warning("Discord: cannot read %s (%s); syncing commands", state, exc)
            previous = None
        if previous == digest:
            log.info("Discord commands unchanged; not syncing")
            return False
        try:
            await client.tree.sync()
        except Exception:
            # Stale commands are better than no bot: the next start tries again.
            log.exception("Discord: syncing application commands failed")
            return False
        self.syncs += 1
        log.info("Discord application commands synced (%d)", len(payload))
        if state is not None:
            try:
                partial = state.with_name(state.name + ".tmp")
                partial.write_text(digest + "\n", encoding="utf-8")
                partial.replace(state)
            except OSError as exc:
                log.warning("Discord: cannot write %s (%s); will sync again", state, exc)
        return True


def _url(value: str | None, schemes: tuple[str, ...], key: str) -> str | None:
    if not value:
        return None
    try:
        url = yarl.URL(value.strip())
    except ValueError:
        url = yarl.URL()
    if url.scheme not in schemes or not url.host:
        raise ConfigError([f"{key}: must be a {' or '.join(schemes)} URL, got {value[:60]!r}"])
    return str(url).rstrip("/")
