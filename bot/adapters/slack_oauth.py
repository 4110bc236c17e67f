"""Several Slack workspaces: the OAuth install flow, its stores, and a bot token per workspace.

With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set and HTTP mode on, the Slack adapter
runs slack-bolt's own OAuth support instead of one SLACK_BOT_TOKEN:

- `/slack/install` hands the installer's browser a state (kept in the database and in a
  cookie) and redirects to Slack's authorize page with the manifest's bot scopes;
  `/slack/oauth_redirect` exchanges the code (`oauth.v2.access`) and stores the
  installation. Both stores (`SqlInstallationStore`, `SqlOAuthStateStore`) live in
  Frontline's own database, so any replica behind a load balancer answers any request.
- For every request bolt's authorize finds the workspace's bot in the store; a bolt
  middleware then makes that workspace's `SlackPlatform` the one the adapter serves for
  the rest of the request (a context variable, inherited by bolt's listener tasks).
- Outbound, `Workspaces` is the Platform port the core sees: each call picks the
  `SlackPlatform` of the ref's `space` (the team id), with that workspace's bot token
  read from the store (re-read at most every `recheck` seconds; bot tokens that Slack
  rotates are refreshed here too). A workspace that is no longer installed gets nothing:
  the call raises `WorkspaceGone` (not retryable) and the log names the team id.
- `app_uninstalled` and `tokens_revoked` delete the workspace's rows through bolt's own
  revocation listeners; tracked questions stay in the database as history.

Bot tokens are secrets: they are stored in the database (that is what an installation
store is), never put in a record's repr, and redacted from slack_sdk's debug log, which
would otherwise print `oauth.v2.access` answers whole. With FRONTLINE_TOKEN_KEYS set they
are stored encrypted (`bot.storage.cipher`); without it they are stored as they are, and
the adapter says so once at start.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.listener.async_builtins import AsyncTokenRevocationListeners
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator

from bot.adapters.slack_adapter import SlackPlatform, make_client
from bot.adapters.slack_links import PLATFORM, parse_permalink
from bot.core.clock import Clock, SystemClock
from bot.core.model import ChannelRef, Message, MessageRef, Post, UserRef
from bot.core.platform import PlatformError
from bot.logs import Redactor
from bot.storage import installations as sql
from bot.storage.cipher import KEYS_VARIABLE, TokenCipher, TokenKeyError
from bot.storage.installations import BotRecord, InstallationRecord
from bot.storage.repos import Repo, Store
from config.settings import ConfigError, Settings

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
# The bot scopes of config/slack-manifest.yml (a test keeps the two equal).
SCOPES: Final = (
    "channels:history",
    "channels:read",
    "groups:history",
    "groups:read",
    "chat:write",
    "files:write",
    "commands",
    "im:write",
    "reactions:read",
    "reactions:write",
    "usergroups:read",
    "users:read",
)
STATE_SECONDS = 600
# Refresh a rotating bot token this long before it expires (bolt's default too).
ROTATE_MINUTES = 120

# --- tokens stay out of logs ------------------------------------------------------------


class RedactTokens(logging.Filter):
    """Masks tokens in a record's text before any handler sees it (`bot.logs.Redactor`).

    `frontline run` masks every line it writes anyway; this covers slack_sdk's client
    logger whatever handler takes its records (a test's, an embedding program's).
    """

    redact = Redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message in place; the record is always kept."""
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            return True
        masked = self.redact(text)
        if masked != text:
            record.msg, record.args = masked, None
        return True


def redact_sdk_logs(*loggers: logging.Logger) -> None:
    """Put `RedactTokens` on slack_sdk's client logger (at DEBUG it prints whole answers)."""
    for logger in (logging.getLogger("slack_sdk.web.async_base_client"), *loggers):
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


# --- slack_sdk models <-> stored records --------------------------------------------------


def _team_key(team_id: str | None, is_enterprise_install: bool | None) -> str:
    # An org-wide install answers for every workspace of the org: keyed on the org alone.
    return "" if is_enterprise_install or team_id is None else team_id


def record_of_bot(bot: Bot) -> BotRecord:
    """What is stored of a slack_sdk `Bot`."""
    return BotRecord(
        enterprise_id=bot.enterprise_id or "",
        team_id=_team_key(bot.team_id, bot.is_enterprise_install),
        app_id=bot.app_id,
        enterprise_name=bot.enterprise_name,
        team_name=bot.team_name,
        bot_token=bot.bot_token,
        bot_id=bot.bot_id,
        bot_user_id=bot.bot_user_id,
        bot_scopes=",".join(bot.bot_scopes or ()),
        bot_refresh_token=bot.bot_refresh_token,
        bot_token_expires_at=bot.bot_token_expires_at,
        is_enterprise_install=bool(bot.is_enterprise_install),
        installed_at=bot.installed_at,
    )


def bot_of_record(record: BotRecord) -> Bot:
    """A stored bot as slack_sdk's `Bot`."""
    return Bot(
        app_id=record.app_id,
        enterprise_id=record.enterprise_id or None,
        enterprise_name=record.enterprise_name,
        team_id=record.team_id or None,
        team_name=record.team_name,
        bot_token=record.bot_token,
        bot_id=record.bot_id,
        bot_user_id=record.bot_user_id,
        bot_scopes=record.bot_scopes,
        bot_refresh_token=record.bot_refresh_token,
        bot_token_expires_at=record.bot_token_expires_at,
        is_enterprise_install=record.is_enterprise_install,
        installed_at=record.installed_at,
    )


def record_of_installation(installation: Installation) -> InstallationRecord:
    """What is stored of a slack_sdk `Installation`."""
    i = installation
    return InstallationRecord(
        enterprise_id=i.enterprise_id or "",
        team_id=_team_key(i.team_id, i.is_enterprise_install),
        user_id=i.user_id,
        app_id=i.app_id,
        enterprise_name=i.enterprise_name,
        enterprise_url=i.enterprise_url,
        team_name=i.team_name,
        bot_token=i.bot_token,
        bot_id=i.bot_id,
        bot_user_id=i.bot_user_id,
        bot_scopes=",".join(i.bot_scopes or ()),
        bot_refresh_token=i.bot_refresh_token,
        bot_token_expires_at=i.bot_token_expires_at,
        user_token=i.user_token,
        user_scopes=",".join(i.user_scopes or ()),
        user_refresh_token=i.user_refresh_token,
        user_token_expires_at=i.user_token_expires_at,
        incoming_webhook_url=i.incoming_webhook_url,
        incoming_webhook_channel=i.incoming_webhook_channel,
        incoming_webhook_channel_id=i.incoming_webhook_channel_id,
        incoming_webhook_configuration_url=i.incoming_webhook_configuration_url,
        is_enterprise_install=bool(i.is_enterprise_install),
        token_type=i.token_type,
        installed_at=i.installed_at,
    )


def installation_of_record(record: InstallationRecord) -> Installation:
    """A stored installation as slack_sdk's `Installation`."""
    r = record
    return Installation(
        app_id=r.app_id,
        enterprise_id=r.enterprise_id or None,
        enterprise_name=r.enterprise_name,
        enterprise_url=r.enterprise_url,
        team_id=r.team_id or None,
        team_name=r.team_name,
        bot_token=r.bot_token,
        bot_id=r.bot_id,
        bot_user_id=r.bot_user_id,
        bot_scopes=r.bot_scopes,
        bot_refresh_token=r.bot_refresh_token,
        bot_token_expires_at=r.bot_token_expires_at,
        user_id=r.user_id,
        user_token=r.user_token,
        user_scopes=r.user_scopes,
        user_refresh_token=r.user_refresh_token,
        user_token_expires_at=r.user_token_expires_at,
        incoming_webhook_url=r.incoming_webhook_url,
        incoming_webhook_channel=r.incoming_webhook_channel,
        incoming_webhook_channel_id=r.incoming_webhook_channel_id,
        incoming_webhook_configuration_url=r.incoming_webhook_configuration_url,
        is_enterprise_install=r.is_enterprise_install,
        token_type=r.token_type,
        installed_at=r.installed_at,
    )


# --- the stores ------------------------------------------------------------------------


class _Bound:
    """Something that reaches the database through the running app's `Store`.

    The adapter is built before the app opens its store; `bind` hands it over when the
    adapter starts, before the HTTP server accepts a request.
    """

    def __init__(self) -> None:
        self._store: Store | None = None

    def bind(self, store: Store) -> None:
        """Use `store` from now on."""
        self._store = store

    @property
    def store(self) -> Store:
        """The bound store."""
        if self._store is None:
            raise RuntimeError("the Slack installation store is not bound to a database yet")
        return self._store


class SqlInstallationStore(_Bound, AsyncInstallationStore):
    """slack_sdk's installation store interface over Frontline's database.

    `changed` is told the team id after every write, so this process drops what it
    cached of that workspace at once (other replicas re-read within their recheck time).
    Tokens go through `cipher` both ways: encrypted in the database when it has keys.
    """

    def __init__(self, cipher: TokenCipher) -> None:
        super().__init__()
        self.cipher = cipher
        self.changed: Callable[[str], None] = lambda team: None

    @property
    def logger(self) -> logging.Logger:
        """The logger slack_sdk asks for."""
        return log

    async def async_save(self, installation: Installation) -> None:
        """Store an installation and its bot (a reinstall replaces both)."""
        record = record_of_installation(installation)
        bot = installation.to_bot() if installation.bot_token else None

        def save(repo: Repo) -> None:
            sql.save_installation(repo, record, cipher=self.cipher)
            if bot is not None:
                sql.save_bot(repo, record_of_bot(bot), cipher=self.cipher)

        await self.store.write(save)
        self.changed(record.team_id)
        where = record.team_id or f"org {record.enterprise_id}"
        log.info(
            "Slack: installed in workspace %s (%s) by %s",
            where,
            record.team_name or record.enterprise_name or "?",
            record.user_id,
        )

    async def async_save_bot(self, bot: Bot) -> None:
        """Store a workspace's bot (after a token refresh)."""
        record = record_of_bot(bot)
        await self.store.write(sql.save_bot, record, cipher=self.cipher)
        self.changed(record.team_id)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """The bot of a workspace (or org), or None when the app is not installed there."""
        found = await self.store.read(
            sql.find_bot,
            enterprise_id or "",
            _team_key(team_id, is_enterprise_install),
            cipher=self.cipher,
        )
        return None if found is None else bot_of_record(found)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The latest installation of a workspace (by `user_id` when given), or None."""
        found = await self.store.read(
            sql.find_installation,
            enterprise_id or "",
            _team_key(team_id, is_enterprise_install),
            user_id,
            cipher=self.cipher,
        )
        return None if found is None else installation_of_record(found)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget a workspace's bot (its token was revoked)."""
        await self.store.write(sql.delete_bot, enterprise_id or "", team_id or "")
        self.changed(team_id or "")

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Forget a workspace's installations, or one user's."""
        await self.store.write(
            sql.delete_installations, enterprise_id or "", team_id or "", user_id
        )
        self.changed(team_id or "")

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget everything about a workspace (the app was uninstalled), in one transaction."""

        def delete(repo: Repo) -> None:
            sql.delete_bot(repo, enterprise_id or "", team_id or "")
            sql.delete_installations(repo, enterprise_id or "", team_id or "")

        await self.store.write(delete)
        self.changed(team_id or "")

    async def installed(self) -> list[BotRecord]:
        """Every workspace's bot."""
        return await self.store.read(sql.bots, cipher=self.cipher)

    async def bot_for_team(self, team_id: str) -> BotRecord | None:
        """The bot answering for a workspace id, whatever its enterprise."""
        found = await self.store.read(sql.bots_of_team, team_id, cipher=self.cipher)
        return found[0] if found else None


class SqlOAuthStateStore(_Bound, AsyncOAuthStateStore):
    """One-time OAuth states in Frontline's database, so any replica can finish an install."""

    def __init__(
        self, expiration_seconds: int = STATE_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        self.expiration_seconds = expiration_seconds
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        """The logger slack_sdk asks for."""
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new unguessable state, valid for `expiration_seconds`."""
        state = secrets.token_urlsafe(24)
        now = self.clock()
        await self.store.write(sql.issue_state, state, now + self.expiration_seconds, now)
        return state

    async def async_consume(self, state: str) -> bool:
        """True once for a state issued here that has not expired; False otherwise."""
        if not state:
            return False
        return await self.store.write(sql.consume_state, state, self.clock())


# --- one SlackPlatform per workspace ---------------------------------------------------------


class WorkspaceGone(PlatformError):
    """The workspace a call is for has no installation (uninstalled, or never installed)."""

    def __init__(self, team: str, what: str) -> None:
        super().__init__(
            f"Slack workspace {team or '?'} is not installed (uninstalled, or never installed): "
            f"{what} dropped"
        )
        self.team = team


# The workspace whose request is being handled, with the `Workspaces` that set it: a
# process can run more than one adapter (tests do), each must only see its own.
_SERVING: contextvars.ContextVar[tuple[Workspaces, SlackPlatform] | None] = contextvars.ContextVar(
    "frontline_slack_workspace", default=None
)


@dataclass
class _Entry:
    platform: SlackPlatform
    checked: float = 0.0  # when the store last confirmed the workspace's token


class Workspaces:
    """The Platform port over every installed workspace: each call goes to its `space`.

    A ref without a space (a destination or summary configured without `space`) goes to
    the workspace of the request being handled, else to the workspace its channel is
    configured in, else to the only installed workspace; otherwise the call fails and
    says to set `space`.
    """

    name = PLATFORM

    def __init__(
        self,
        settings: Settings,
        installations: SqlInstallationStore,
        factory: Callable[[str], SlackPlatform],
        rotator: AsyncTokenRotator | None = None,
        *,
        recheck: float = 30.0,
    ) -> None:
        self.settings = settings
        self.installations = installations
        self.factory = factory
        self.rotator = rotator
        self.recheck = recheck
        self.template: SlackPlatform | None = None
        self._entries: dict[str, _Entry] = {}
        installations.changed = self.forget

    def _new(self, token: str, team: str, bot_user_id: str, bot_id: str) -> _Entry:
        platform = self.factory(token)
        platform.team_id, platform.bot_user_id, platform.bot_id = team, bot_user_id, bot_id
        if self.template is not None:
            platform.telemetry = self.template.telemetry
        entry = self._entries[team] = _Entry(platform)
        return entry

    # -- which workspace ------------------------------------------------------------

    def current(self) -> SlackPlatform | None:
        """The workspace of the request being handled, if any."""
        serving = _SERVING.get()
        return serving[1] if serving is not None and serving[0] is self else None

    @contextlib.contextmanager
    def serving(self, platform: SlackPlatform) -> Iterator[SlackPlatform]:
        """Handle what runs inside as work for `platform`'s workspace."""
        token = _SERVING.set((self, platform))
        try:
            yield platform
        finally:
            _SERVING.reset(token)

    def serve(self, platform: SlackPlatform) -> None:
        """Make `platform` the workspace of the rest of this request (and its listener tasks)."""
        _SERVING.set((self, platform))

    def for_request(
        self, team: str, token: str, *, bot_user_id: str, bot_id: str, url: str
    ) -> SlackPlatform:
        """The platform of a workspace whose request bolt just authorized with `token`."""
        entry = self._entries.get(team)
        if entry is None:
            entry = self._new(token, team, bot_user_id, bot_id)
        elif entry.platform.client.token != token:
            entry.platform.client.token = token  # reinstalled, or the token was refreshed
        platform = entry.platform
        platform.bot_user_id = bot_user_id or platform.bot_user_id
        platform.bot_id = bot_id or platform.bot_id
        platform.workspace_url = url or platform.workspace_url
        entry.checked = time.monotonic()
        return platform

    def forget(self, team: str) -> None:
        """Drop what is cached of a workspace (it was uninstalled or its token revoked)."""
        self._entries.pop(team, None)

    def _team_of(self, channel: str) -> str:
        config = self.settings.channel(PLATFORM, channel) if channel else None
        if config is not None and config.space:
            return config.space
        return ""

    async def workspace(self, space: str, *, channel: str = "", what: str = "") -> SlackPlatform:
        """The platform for workspace `space`, with its current bot token from the store.

        Raises `WorkspaceGone` (logged, not retryable) when the app is not installed there.
        """
        current = self.current()
        if current is not None and (not space or space == current.team_id):
            return current
        team = space or self._team_of(channel)
        what = what or (f"a call in {channel}" if channel else "a call")
        if not team:
            installed = await self.installations.installed()
            if len(installed) != 1:
                message = (
                    f"Slack {what}: Frontline is installed in {len(installed)} workspaces "
                    "and none is named for this channel; set `space` (the team id, T…) "
                    "where it is configured"
                )
                log.warning("%s", message)
                raise PlatformError(message)
            team = installed[0].team_id
        entry = self._entries.get(team)
        if entry is not None and time.monotonic() - entry.checked < self.recheck:
            return entry.platform
        record = await self.installations.bot_for_team(team)
        if record is None:
            self.forget(team)
            gone = WorkspaceGone(team, what)
            log.warning("%s", gone)
            raise gone
        record = await self._rotated(record)  # a refresh is stored, which drops the cache
        entry = self._entries.get(team)
        if entry is None:
            entry = self._new(record.bot_token, team, record.bot_user_id, record.bot_id)
            with contextlib.suppress(PlatformError):  # logged; the ids above still serve
                await entry.platform.connect()  # the workspace URL, for links
        entry.platform.client.token = record.bot_token
        entry.checked = time.monotonic()
        return entry.platform

    async def _rotated(self, record: BotRecord) -> BotRecord:
        """The record with a fresh token when Slack rotates tokens and this one is expiring."""
        if record.bot_refresh_token is None or self.rotator is None:
            return record
        try:
            fresh = await self.rotator.perform_bot_token_rotation(
                bot=bot_of_record(record), minutes_before_expiration=ROTATE_MINUTES
            )
        except SlackTokenRotationError as exc:
            log.warning(
                "Slack workspace %s: refreshing its bot token failed: %s", record.team_id, exc
            )
            return record
        if fresh is None:
            return record
        await self.installations.async_save_bot(fresh)
        return record_of_bot(fresh)

    async def each(self, work: Callable[[], Awaitable[int]]) -> int:
        """Run `work` once as each installed workspace (start-up backfill); sums what it returns."""
        total = 0
        for record in await self.installations.installed():
            try:
                platform = await self.workspace(record.team_id, what="backfill")
            except PlatformError:
                continue
            with self.serving(platform):
                total += await work()
        return total

    # -- the Platform port ------------------------------------------------------------

    async def post(self, channel: ChannelRef, post: Post) -> MessageRef:
        """Post in a channel of the channel's workspace."""
        where = await self.workspace(
            channel.space, channel=channel.channel, what=f"post in {channel.channel}"
        )
        return await where.post(channel, post)

    async def reply_in_thread(self, message: MessageRef, post: Post) -> MessageRef:
        """Reply in a thread of the message's workspace."""
        where = await self.workspace(
            message.space, channel=message.channel, what=f"reply in {message.channel}"
        )
        return await where.reply_in_thread(message, post)

    async def dm(self, user: UserRef, post: Post) -> MessageRef:
        """Message a member of the user's workspace."""
        where = await self.workspace(user.space, what=f"direct message to {user.user}")
        return await where.dm(user, post)

    async def update(self, message: MessageRef, post: Post) -> None:
        """Update a bot message in its workspace."""
        where = await self.workspace(
            message.space, channel=message.channel, what=f"update in {message.channel}"
        )
        await where.update(message, post)

    async def fetch(self, message: MessageRef) -> Message | None:
        """A message of its workspace."""
        where = await self.workspace(
            message.space, channel=message.channel, what=f"read in {message.channel}"
        )
        return await where.fetch(message)

    async def is_private(self, channel: ChannelRef) -> bool:
        """Whether a channel of its workspace is private."""
        where = await self.workspace(
            channel.space, channel=channel.channel, what=f"channel info of {channel.channel}"
        )
        return await where.is_private(channel)

    async def react(self, message: MessageRef, emoji: str) -> None:
        """React to a message in its workspace."""
        where = await self.workspace(
            message.space, channel=message.channel, what=f"reaction in {message.channel}"
        )
        await where.react(message, emoji)

    async def permalink(self, message: MessageRef) -> str:
        """A message's permalink, from its workspace."""
        where = await self.workspace(
            message.space, channel=message.channel, what=f"permalink in {message.channel}"
        )
        return await where.permalink(message)

    def parse_link(self, link: str) -> MessageRef | None:
        """A Slack permalink as a ref in the workspace its host names (or the request's)."""
        current = self.current()
        if current is not None:
            return current.parse_link(link)
        ref = parse_permalink(link, "")
        if ref is None:
            return None
        host = _host(link)
        known = [e.platform for e in self._entries.values()]
        for platform in known:
            if host and _host(platform.workspace_url) == host:
                return platform.parse_link(link)
        return known[0].parse_link(link) if len(known) == 1 else ref

    async def is_staff(self, user: UserRef) -> bool:
        """Staff by id, or by a user group of the user's workspace."""
        if user.platform != PLATFORM:
            return False
        try:
            where = await self.workspace(user.space, what=f"staff check of {user.user}")
        except PlatformError:
            return user.user in self.settings.staff.slack_users
        return await where.is_staff(user)

    async def find_sent(
        self, where: ChannelRef | UserRef, post: Post, since: datetime
    ) -> MessageRef | None:
        """The bot's message sent as `post`, asked of the workspace it was sent in."""
        target = where.channel if isinstance(where, ChannelRef) else where.user
        platform = await self.workspace(
            where.space,
            channel=where.channel if isinstance(where, ChannelRef) else "",
            what=f"lookup of a sent message in {target}",
        )
        return await platform.find_sent(where, post, since)

    async def history(self, channel: ChannelRef, after: datetime | None) -> AsyncIterator[Message]:
        """Messages of a channel of its workspace posted after `after`."""
        where = await self.workspace(
            channel.space, channel=channel.channel, what=f"history of {channel.channel}"
        )
        async for message in where.history(channel, after):
            yield message


def _host(url: str) -> str:
    text = url.strip().removeprefix("<").split("|", 1)[0].rstrip(">")
    try:
        return (urlsplit(text).hostname or "").lower()
    except ValueError:
        return ""


# --- wiring: settings for bolt, routes, events ------------------------------------------------


@dataclass(frozen=True, slots=True)
class OAuthCredentials:
    """What the install flow needs from the environment."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str | None = None
    authorize_url: str = AUTHORIZE_URL
    state_seconds: int = STATE_SECONDS


class SlackOAuth:
    """Several workspaces for one Slack adapter: stores, bolt's OAuth settings, platforms.

    `cipher` seals the tokens stored (`TokenCipher.from_env()`: FRONTLINE_TOKEN_KEYS).
    """

    def __init__(
        self,
        settings: Settings,
        credentials: OAuthCredentials,
        *,
        cipher: TokenCipher,
        api_url: str | None = None,
        history_pages: int = 5,
        recheck: float = 30.0,
    ) -> None:
        self.credentials = credentials
        self.installations = SqlInstallationStore(cipher)
        self.states = SqlOAuthStateStore(credentials.state_seconds)
        rotator = AsyncTokenRotator(
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            client=make_client(None, api_url),
        )
        self.workspaces = Workspaces(
            settings,
            self.installations,
            lambda token: SlackPlatform(
                make_client(token, api_url), settings, history_pages=history_pages
            ),
            rotator,
            recheck=recheck,
        )
        self.revocations = AsyncTokenRevocationListeners(self.installations)
        self.clock: Clock = SystemClock()
        redact_sdk_logs(log)

    def bind(self, store: Store) -> None:
        """Use the running app's database for installations and states."""
        self.installations.bind(store)
        self.states.bind(store)

    def bolt_settings(self) -> AsyncOAuthSettings:
        """The OAuth settings for bolt: our stores, the manifest's scopes, a redirect (no page)."""
        creds = self.credentials
        logger = logging.getLogger("frontline.slack.oauth")
        oauth = AsyncOAuthSettings(
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            scopes=list(SCOPES),
            user_scopes=[],
            redirect_uri=creds.redirect_uri,
            install_path=INSTALL_PATH,
            # Straight to Slack: an "Add to Slack" page of our own would add nothing.
            install_page_rendering_enabled=False,
            redirect_uri_path=REDIRECT_PATH,
            callback_options=AsyncCallbackOptions(success=self._installed, failure=_refused),
            authorization_url=creds.authorize_url,
            installation_store=self.installations,
            # Frontline acts only as its bot: bolt looks up the bot, never user tokens.
            installation_store_bot_only=True,
            state_store=self.states,
            state_expiration_seconds=creds.state_seconds,
            logger=logger,
        )
        # The store is read on every request; the cache only spares the auth.test call
        # per request for a token the store still holds (an uninstall removes it first).
        oauth.authorize = AsyncInstallationStoreAuthorize(
            logger=logger,
            installation_store=self.installations,
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            token_rotation_expiration_minutes=ROTATE_MINUTES,
            bot_only=True,
            cache_enabled=True,
        )
        return oauth

    def attach(self, bolt: AsyncApp, template: SlackPlatform) -> None:
        """Serve each request as its workspace, and clean up after uninstalls.

        New workspace platforms take what the adapter sets on `template` when it starts
        (the telemetry that counts failed calls).
        """
        workspaces = self.workspaces
        workspaces.template = template

        async def as_workspace(
            context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
        ) -> BoltResponse:
            token, team = context.bot_token, context.team_id
            if token and team:
                result = context.authorize_result
                workspaces.serve(
                    workspaces.for_request(
                        team,
                        token,
                        bot_user_id=context.bot_user_id or "",
                        bot_id=context.bot_id or "",
                        url=(result.get("url") or "") if result is not None else "",
                    )
                )
            return await next()

        async def uninstalled(context: AsyncBoltContext) -> None:
            await self.revocations.handle_app_uninstalled_events(context)
            team = context.team_id or ""
            # Nothing about its questions can be posted there any more: no more nudges.
            paused = (
                await self.installations.store.write(
                    Repo.pause_space, PLATFORM, team, self.clock.now(), "workspace uninstalled"
                )
                if team
                else 0
            )
            log.warning(
                "Slack workspace %s uninstalled Frontline: its installation is deleted; its "
                "questions stay as history (%d still waiting, no longer nudged) and nothing "
                "more is posted there",
                team or f"org {context.enterprise_id}",
                paused,
            )

        async def revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
            await self.revocations.handle_tokens_revoked_events(event, context)
            tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
            if tokens and tokens.get("bot"):
                team = context.team_id or ""
                log.warning(
                    "Slack workspace %s revoked Frontline's bot token: its bot is deleted; "
                    "nothing more is posted there until it is installed again",
                    team or f"org {context.enterprise_id}",
                )

        bolt.use(as_workspace)
        bolt.event("app_uninstalled")(uninstalled)
        bolt.event("tokens_revoked")(revoked)

    def add_routes(self, web_app: web.Application, bolt: AsyncApp) -> None:
        """GET /slack/install and /slack/oauth_redirect on the adapter's HTTP server."""
        flow = bolt.oauth_flow
        if flow is None:
            raise RuntimeError("the bolt app was built without OAuth settings")

        async def install(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await flow.handle_installation(await to_bolt_request(request))
            )

        async def redirect(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await flow.handle_callback(await to_bolt_request(request))
            )

        web_app.router.add_get(INSTALL_PATH, install)
        web_app.router.add_get(REDIRECT_PATH, redirect)

    async def _installed(self, args: AsyncSuccessArgs) -> BoltResponse:
        """Installed (again): questions paused when the workspace uninstalled are swept again."""
        team = args.installation.team_id
        if team:
            resumed = await self.installations.store.write(
                Repo.resume_space, PLATFORM, team, self.clock.now(), "workspace installed again"
            )
            if resumed:
                log.info(
                    "Slack workspace %s installed Frontline again: %d question(s) paused at "
                    "the uninstall are tracked again",
                    team,
                    resumed,
                )
        return await args.default.success(args)

    async def start(self, store: Store, clock: Clock | None = None) -> int:
        """Bind to the database; returns how many workspaces are installed.

        Says once, as a warning, when tokens are going to be stored unencrypted.
        """
        if clock is not None:
            self.clock = clock
        self.bind(store)
        cipher = self.installations.cipher
        if not cipher.encrypts:
            log.warning(
                "Slack tokens are stored unencrypted: set %s to encrypt them at rest "
                "(README: Deploy > Environment)",
                KEYS_VARIABLE,
            )
        resealed = await store.write(sql.reseal, cipher=cipher)
        if resealed:
            log.info(
                "Slack tokens: %d stored value(s) encrypted again with the first key", resealed
            )
        installed = await self.installations.installed()
        return len(installed)


async def _refused(args: AsyncFailureArgs) -> BoltResponse:
    # bolt answers the browser with its own page; the operator learns why from the log.
    log.warning("Slack install refused: %s", args.reason)
    return await args.default.failure(args)


OAUTH_NEEDS_HTTP = (
    "; SLACK_CLIENT_ID / SLACK_CLIENT_SECRET (several workspaces) need HTTP mode: "
    "run with --http --port N"
)


def oauth_problems(settings: Settings) -> list[str]:
    """What stops several-workspace mode when only part of its credentials is set."""
    if settings.slack_client_id is None:
        missing = "SLACK_CLIENT_ID"
    elif settings.slack_client_secret is None:
        missing = "SLACK_CLIENT_SECRET"
    else:
        return []
    return [
        f"{missing}: not set; several workspaces (OAuth) need both SLACK_CLIENT_ID and "
        "SLACK_CLIENT_SECRET (Basic Information > App Credentials)"
    ]


def oauth_from_env(
    settings: Settings, *, api_url: str | None = None, history_pages: int = 5
) -> SlackOAuth | None:
    """Several-workspace mode when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are both set.

    SLACK_REDIRECT_URI names the redirect URL when the app lists more than one;
    FRONTLINE_TOKEN_KEYS encrypts the tokens stored (a malformed key is a ConfigError
    naming the variable, never its value).
    """
    client_id, client_secret = settings.slack_client_id, settings.slack_client_secret
    if client_id is None or client_secret is None:
        return None
    try:
        cipher = TokenCipher.from_env()
    except TokenKeyError as exc:
        raise ConfigError([str(exc)]) from None
    credentials = OAuthCredentials(
        client_id.get_secret_value(),
        client_secret.get_secret_value(),
        redirect_uri=os.environ.get("SLACK_REDIRECT_URI") or None,
    )
    return SlackOAuth(
        settings, credentials, cipher=cipher, api_url=api_url, history_pages=history_pages
    )
