"""The settings tree: non-secret settings from TOML, secrets only from the environment.

`load_settings()` builds it (never at import time) and raises `ConfigError` listing
every problem with its key path; `frontline check-config` prints the same list.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.hours import Calendar, CalendarError

_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$")
ALWAYS_OPEN = "24/7"


def parse_duration(value: object) -> timedelta:
    """Accept 90s, 15m, 1h30m, 2d, a number of seconds, or a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like 90s, 15m, 1h30m or 2d")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        try:
            return timedelta(seconds=value)
        except OverflowError:
            raise ValueError(f"{value} seconds is longer than any duration allowed") from None
    if isinstance(value, str):
        match = _DURATION.match(value.lower())
        if match and any(match.groups()):
            d, h, m, s = (int(g or 0) for g in match.groups())
            try:
                return timedelta(days=d, hours=h, minutes=m, seconds=s)
            except OverflowError:
                raise ValueError(f"{value[:40]!r} is longer than any duration allowed") from None
    raise ValueError(f"{str(value)[:40]!r} is not a duration: use e.g. 90s, 15m, 1h30m or 2d")


def format_duration(delta: timedelta | float) -> str:
    """A short human form: 45s, 12m, 1h05m, 2d3h."""
    seconds = int(delta.total_seconds() if isinstance(delta, timedelta) else delta)
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if hours else f"{days}d"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Platform = Literal["slack", "discord", "local"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CalendarConfig(_Strict):
    """A named business-hours calendar."""

    timezone: str = "UTC"
    hours: dict[str, str] | None = Field(
        default=None, description='weekday ranges to hours, e.g. {"mon-fri" = "09:00-17:00"}'
    )
    holidays: list[date] = Field(default_factory=list)

    def build(self, name: str) -> Calendar:
        """The usable calendar."""
        return Calendar.from_spec(name, self.timezone, self.hours, self.holidays)


class ChannelConfig(_Strict):
    """A watched community channel and its response-time target."""

    platform: Platform
    id: str = Field(min_length=1)
    # Slack: the workspace (team id, T…) the channel is in. Needed only when several
    # workspaces are installed (OAuth); when set, events from other workspaces never match.
    space: str = ""
    name: str = ""
    mode: Literal["questions", "every-post"] = "questions"
    target: Duration = timedelta(hours=1)
    calendar: str = ALWAYS_OPEN
    warn_at: float = Field(default=0.75, gt=0, le=1)
    nudge_channel: str | None = None
    mention_window: Duration | None = None
    # Nudges: an "at risk" heads-up at warn_at, the breach nudge at the target, then
    # reminders every repeat_every (none when unset) up to max_repeats times, then one
    # nudge to second_tier (a lead's channel). Outside the calendar's hours nudges wait
    # for the next opening unless nudge_outside_hours.
    nudge_at_risk: bool = True
    repeat_every: Duration | None = None
    max_repeats: int = Field(default=2, ge=0, le=20)
    second_tier: str | None = None
    nudge_outside_hours: bool = False
    dm_on_call: bool = False
    # Mention the on-call person or group in the nudge channel (pings them there).
    mention_on_call: bool = False
    # Tell a member who asks outside hours when the team is back (tracking.away_text).
    ack_outside_hours: bool = False

    @field_validator("target")
    @classmethod
    def _positive_target(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("the target must be longer than zero")
        return value

    @field_validator("repeat_every")
    @classmethod
    def _sensible_repeat(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(minutes=1):
            raise ValueError("repeat_every must be at least 1m (or left out for no repeats)")
        return value

    def label(self) -> str:
        """`#name` when named, else the id."""
        return f"#{self.name}" if self.name else self.id


class DestinationConfig(_Strict):
    """A support or product channel that staff escalate members' messages to."""

    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    platform: Platform
    channel: str = Field(min_length=1)
    space: str = ""
    # A reaction with this emoji (by staff) escalates here, e.g. "sos".
    emoji: str | None = None
    # Copy text from private channels and DMs here too (otherwise only a link).
    allow_private_content: bool = False


class EscalationConfig(_Strict):
    """How escalations close the loop with the member."""

    # Tell the member, in their thread, that the team has their message.
    note_in_thread: bool = True
    note_text: str = "Thanks! I've passed this to the {destination} team; we'll follow up here."
    resolved_text: str = "Update from the {destination} team: {note}"


class TrackingConfig(_Strict):
    """How questions and responses are recognised."""

    detection_threshold: float = Field(default=0.5, ge=0, le=1)
    away_text: str = (
        "Thanks for your question! The team is away right now and back {when}; "
        "someone will get to it then."
    )
    mention_window: Duration = timedelta(minutes=15)
    # A question by someone whose earlier question in the channel still waits, asked
    # within this long of it, is part of that one (asked again, or asked on): it is
    # not counted or nudged on its own, and a response to it answers the first. 0: off.
    # Longer windows fold more (30 minutes: 26% of the Clojurians questions instead of
    # 23%) but start to merge separate questions: bench/README.md, Replay.
    follow_up_window: Duration = timedelta(minutes=15)
    # The asker addressing someone who spoke since their question means that was an
    # answer (channels without threads): see bot/tracker.py `_acknowledged`.
    asker_acknowledges: bool = True
    ack_reactions: list[str] = Field(default_factory=lambda: ["eyes"])
    resolve_reactions: list[str] = Field(
        default_factory=lambda: ["white_check_mark", "heavy_check_mark", "✅"]
    )


class StaffConfig(_Strict):
    """Who counts as staff, per platform."""

    local_users: list[str] = Field(default_factory=list)
    slack_users: list[str] = Field(default_factory=list)
    slack_usergroups: list[str] = Field(default_factory=list)
    # Workspace admins and owners (users.info is_admin / is_owner) count as staff too.
    slack_admins: bool = False
    discord_users: list[str] = Field(default_factory=list)
    discord_roles: list[str] = Field(default_factory=list)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class SummaryConfig(_Strict):
    """A daily (and optionally weekly) summary posted to a channel at a local time."""

    platform: Platform
    channel: str = Field(min_length=1)
    space: str = ""
    name: str = ""
    time: str = "09:00"
    timezone: str = "UTC"
    weekly_on: Weekday | None = "mon"
    channels: list[str] = Field(default_factory=list)

    @field_validator("time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _CLOCK_TIME.match(value):
            raise ValueError(f"{value!r} is not a time of day like 09:00")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like Europe/Berlin"
            ) from None
        return value

    @property
    def key(self) -> str:
        """A stable identity, so a summary is never sent twice across restarts."""
        return self.name or f"{self.platform}:{self.space}:{self.channel}"


class OnCallConfig(_Strict):
    """Who is on call: `people` taking turns every `every` from `start`, or a `group`.

    `group` is a Slack user group id (S…) or a Discord role id whose members are on
    call (kept up to date by your paging tool); nudges mention it.
    """

    platform: Platform
    people: list[str] = Field(default_factory=list)
    group: str | None = None
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC)
    every: Duration = timedelta(days=7)

    @model_validator(mode="after")
    def _someone(self) -> OnCallConfig:
        if not self.people and not self.group:
            raise ValueError("give the rotation's people, or the group that is on call")
        return self

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the start with its UTC offset, like 2026-11-23T09:00:00+01:00")
        return value

    def person_at(self, moment: datetime) -> str | None:
        """Who is on call at `moment` (the first person before the rotation starts)."""
        if not self.people:
            return None
        turns = max(0, int((moment - self.start) / self.every))
        return self.people[turns % len(self.people)]


class BotConfig(_Strict):
    """The process itself."""

    database: str = "frontline.db"
    sweep_interval: Duration = timedelta(seconds=30)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # How long a process holds a message it is sending (the outbox) before another
    # replica may take it over, should the first have died.
    outbox_lease: Duration = timedelta(minutes=2)
    # How long sent (and given-up) posts stay in the outbox as history before the hourly
    # housekeeping removes them; the ones still to be sent always stay.
    outbox_keep: Duration = timedelta(days=30)


class Settings(BaseSettings):
    """Everything Frontline is configured with."""

    model_config = SettingsConfigDict(
        extra="forbid", frozen=True, env_prefix="FRONTLINE_", env_ignore_empty=True
    )

    bot: BotConfig = Field(default_factory=BotConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    staff: StaffConfig = Field(default_factory=StaffConfig)
    calendars: dict[str, CalendarConfig] = Field(default_factory=dict)
    channels: list[ChannelConfig] = Field(default_factory=list)
    summaries: list[SummaryConfig] = Field(default_factory=list)
    destinations: list[DestinationConfig] = Field(default_factory=list)
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    on_call: list[OnCallConfig] = Field(default_factory=list)

    # Secrets: environment only (load_settings refuses them in a file).
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret"),
    )
    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "discord_token")
    )
    # Several Slack workspaces (OAuth install flow, HTTP mode): the app's credentials.
    slack_client_id: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_CLIENT_ID", "slack_client_id")
    )
    slack_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_CLIENT_SECRET", "slack_client_secret"),
    )

    _index: dict[tuple[str, str], ChannelConfig] = PrivateAttr(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The TOML data (passed in by load_settings) first, then the environment."""
        return (init_settings, env_settings)

    def model_post_init(self, context: Any, /) -> None:
        """Index channels once; lookups happen on every event."""
        self._index = {(c.platform, c.id): c for c in self.channels}

    def channel(self, platform: str, channel_id: str) -> ChannelConfig | None:
        """The configuration of a watched channel, or None when it is not watched."""
        # Asked several times per event and per nudge: reading the private attribute
        # through pydantic's __getattr__ would cost more than the lookup itself.
        index: dict[tuple[str, str], ChannelConfig] = self.__pydantic_private__["_index"]  # type: ignore[index]
        return index.get((platform, channel_id))

    def destination(self, name: str) -> DestinationConfig | None:
        """The escalation destination called `name`."""
        return next((d for d in self.destinations if d.name == name.lower()), None)

    def build_calendars(self) -> dict[str, Calendar]:
        """Every named calendar, plus the built-in always-open one."""
        built = {ALWAYS_OPEN: Calendar.always(ALWAYS_OPEN)}
        built.update({name: cal.build(name) for name, cal in self.calendars.items()})
        return built


SECRET_KEYS = (
    "slack_bot_token",
    "slack_app_token",
    "slack_signing_secret",
    "discord_token",
    "slack_client_id",
    "slack_client_secret",
)


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists each as `key.path: what is wrong`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _loc(parts: tuple[int | str, ...], data: Mapping[str, Any]) -> str:
    """A key path a person can find in the TOML: channels[2].target, calendars.eu.hours."""
    out = ""
    node: Any = data
    for part in parts:
        if isinstance(part, int):
            label = ""
            if isinstance(node, list) and 0 <= part < len(node) and isinstance(node[part], dict):
                label = str(node[part].get("name") or node[part].get("id") or "")
            out += f"[{part}]" + (f" ({label})" if label else "")
        else:
            out += f".{part}" if out else part
        node = node[part] if isinstance(node, dict | list) and _has(node, part) else None
    return out or "(top level)"


def _has(node: dict[str, Any] | list[Any], part: int | str) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(part, int) and 0 <= part < len(node)


def _cross_checks(settings: Settings) -> list[str]:
    problems: list[str] = []
    known = {ALWAYS_OPEN, *settings.calendars}
    seen: set[tuple[str, str]] = set()
    for i, channel in enumerate(settings.channels):
        where = f"channels[{i}]" + (f" ({channel.name or channel.id})")
        if channel.calendar not in known:
            problems.append(
                f"{where}.calendar: unknown calendar {channel.calendar!r}; "
                f"defined: {', '.join(sorted(known))}"
            )
        key = (channel.platform, channel.id)
        if key in seen:
            problems.append(f"{where}.id: channel {channel.platform}:{channel.id} is listed twice")
        seen.add(key)
    names: set[str] = set()
    for i, destination in enumerate(settings.destinations):
        if destination.name in names:
            problems.append(f"destinations[{i}].name: {destination.name!r} is used twice")
        names.add(destination.name)
    for name, cal in settings.calendars.items():
        try:
            cal.build(name)
        except CalendarError as exc:
            problems.append(f"calendars.{name}: {exc}")
    return problems


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning syntax errors into a ConfigError with the position."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None


def demo_config() -> dict[str, Any]:
    """The built-in configuration of the demo community."""
    text = resources.files("config").joinpath("demo.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def load_settings(
    path: Path | str | None = None,
    *,
    data: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings from a TOML file (or `data`) plus secrets from the environment.

    FRONTLINE_CONFIG names the file when `path` is not given; FRONTLINE_DATABASE_URL
    overrides `bot.database`.
    """
    env = os.environ
    if data is None:
        chosen = path or env.get("FRONTLINE_CONFIG")
        data = read_toml(Path(chosen)) if chosen else {}
    data = dict(data)
    problems = [
        f"{name}: secrets are read from the environment ({key.upper()}), never from a file"
        for key in SECRET_KEYS
        for name in (key, key.upper())
        if name in data
    ]
    for key in SECRET_KEYS:
        data.pop(key, None)
        data.pop(key.upper(), None)
    if env.get("FRONTLINE_DATABASE_URL") and isinstance(data.get("bot", {}), dict):
        data["bot"] = {**data.get("bot", {}), "database": env["FRONTLINE_DATABASE_URL"]}
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = _loc(error["loc"], data)
            problems.append(f"{loc}: {_describe(error)}")
        raise ConfigError(problems) from None
    problems += _cross_checks(settings)
    if problems:
        raise ConfigError(problems)
    return settings


def _describe(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see config/frontline.example.toml)"
    if kind == "literal_error":
        return str(error.get("msg", "")).replace("Input should be", "allowed:")
    return str(error.get("msg", "invalid value")).removeprefix("Value error, ")
