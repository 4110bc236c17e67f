"""Read a standard Slack workspace export (a folder or a .zip) as core messages.

The layout Slack's "Export data" produces: `channels.json` (public channels),
optionally `groups.json` (private channels), `mpims.json` (group DMs) and `dms.json`,
`users.json`, and one folder per conversation holding `YYYY-MM-DD.json` day files,
each a JSON array of message objects. Folders are named after the channel (the id
for DMs). A zip is read member by member without extracting it.

Messages map to the core exactly as the live Slack adapter maps events: platform
"slack", space = team id, channel id, message = the `ts` string, `posted_at` from
`ts` in UTC, thread replies (`thread_ts` != `ts`, including `thread_broadcast`) hang
from `MessageRef(slack, team, channel, thread_ts)`, mentions from `<@U…>`, and
authors with a `bot_id`, the `bot_message` subtype or a bot entry in users.json are
bots. Subtypes go through a lookup table whose default is "skip" (joins, topics,
pins, edits as separate events…).

Only one day file per channel is in memory at a time.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from bot.core.model import Message, MessageRef, UserRef
from bot.imports.common import (
    ConversationSize,
    ImportProblem,
    Located,
    ReaderBase,
    describe,
    in_range,
    merge_by_time,
    ordered,
    wanted,
)

PLATFORM = "slack"
DEFAULT_SPACE = "export"

# Subtypes that are posts by a person or an integration; everything else (joins,
# leaves, topic and purpose changes, pins, tombstones, edit and delete events…) is
# channel housekeeping and is skipped, as the live adapter does.
KEEP_SUBTYPES: dict[str | None, bool] = {
    None: True,
    "file_share": True,
    "thread_broadcast": True,
    "me_message": True,
    "bot_message": True,
}

# (file, is_private) in the order Slack documents them.
CONVERSATION_FILES = (
    ("channels.json", False),
    ("groups.json", True),
    ("mpims.json", True),
    ("dms.json", True),
)

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_SAFE_NAME = re.compile(r"^[^/\\.][^/\\]*$")
_DAY_FILE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)\.json$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Read errors of a damaged file or zip member (truncated, bad CRC, bad compression).
_READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, UnicodeDecodeError)


def ts_to_datetime(ts: str) -> datetime | None:
    """A Slack `ts` ("1712345678.123456") as a UTC datetime, exact to the microsecond."""
    seconds, _, fraction = ts.partition(".")
    # str.isdigit accepts other digits too ("²"), so check for ASCII as well.
    if not (seconds.isdigit() and seconds.isascii() and len(seconds) <= 12):
        return None
    if fraction and not (fraction.isdigit() and fraction.isascii() and len(fraction) <= 6):
        return None
    micros = int(fraction.ljust(6, "0")) if fraction else 0
    return _EPOCH + timedelta(seconds=int(seconds), microseconds=micros)


def mentions_in(text: str) -> tuple[str, ...]:
    """User ids mentioned as `<@U…>` in Slack markup, in order, without repeats."""
    return tuple(dict.fromkeys(_MENTION.findall(text)))


@dataclass(frozen=True, slots=True)
class SlackUser:
    """What users.json says about one member."""

    id: str
    name: str
    is_bot: bool
    deleted: bool
    team: str


@dataclass(frozen=True, slots=True)
class SlackChannel:
    """One conversation of the export and the folder holding its day files."""

    id: str
    name: str
    folder: str
    is_private: bool


class _Files:
    """The export's files, from a folder or from a zip (read in place, never extracted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        self.prefix = ""
        self._folders: dict[str, list[str]] = {}
        if path.is_dir():
            if not (path / "channels.json").exists():
                # An export unzipped into a folder of its own.
                inner = [p for p in path.iterdir() if (p / "channels.json").is_file()]
                if len(inner) == 1:
                    self.path = inner[0]
            return
        self.zip = zipfile.ZipFile(path)
        names = [n for n in self.zip.namelist() if not n.endswith("/")]
        tops = sorted(
            (n for n in names if PurePosixPath(n).name == "channels.json"),
            key=lambda n: n.count("/"),
        )
        if tops:
            self.prefix = tops[0][: -len("channels.json")]
        for name in names:
            if not name.startswith(self.prefix):
                continue
            rel = PurePosixPath(name[len(self.prefix) :])
            if len(rel.parts) == 2:
                self._folders.setdefault(rel.parts[0], []).append(rel.parts[1])

    def exists(self, name: str) -> bool:
        if self.zip is None:
            return (self.path / name).is_file()
        try:
            self.zip.getinfo(self.prefix + name)
        except KeyError:
            return False
        return True

    def read(self, name: str) -> bytes:
        if self.zip is None:
            return (self.path / name).read_bytes()
        return self.zip.read(self.prefix + name)

    def size(self, name: str) -> int:
        if self.zip is None:
            return (self.path / name).stat().st_size
        return self.zip.getinfo(self.prefix + name).file_size

    def has_folder(self, folder: str) -> bool:
        if self.zip is None:
            return (self.path / folder).is_dir()
        return folder in self._folders

    def listdir(self, folder: str) -> list[str]:
        if self.zip is None:
            where = self.path / folder
            return [p.name for p in where.iterdir() if p.is_file()] if where.is_dir() else []
        return list(self._folders.get(folder, []))

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"line {exc.lineno}, column {exc.colno}"


class SlackExportReader(ReaderBase):
    """Messages of a Slack workspace export in time order across all channels.

    `channels` keeps only conversations whose id or name is listed; `since`
    (inclusive) and `until` (exclusive) bound `posted_at` (naive datetimes are UTC).
    Construction reads the small index files (channels, users); `messages()` streams
    the day files. Use it as a context manager (or call `close()`) to release a zip.
    """

    platform = PLATFORM

    def _open(self) -> None:
        """Read channels.json and users.json; day files are streamed later by messages()."""
        path = self.path
        self.users: dict[str, SlackUser] = {}
        self.channels: dict[str, SlackChannel] = {}
        self._user_refs: dict[tuple[str, str, bool], UserRef] = {}
        self._bots_seen: dict[str, str] = {}
        try:
            self._files = _Files(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ValueError(f"{path} is not a readable zip file: {exc}") from exc
        self._read_users()
        self._read_channels()
        self.space = self._find_team() or DEFAULT_SPACE
        self._index_problems = len(self.problems)

    # --- index files -------------------------------------------------------------

    def _load_index(self, name: str) -> list[Any] | None:
        """A top-level JSON array file, or None (with a problem) when it is unreadable."""
        if not self._files.exists(name):
            return None
        try:
            data = json.loads(self._files.read(name))
        except json.JSONDecodeError as exc:
            self.problems.append(ImportProblem(name, _json_error(exc), f"bad JSON: {exc.msg}"))
            return None
        except _READ_ERRORS as exc:
            self.problems.append(ImportProblem(name, "file", f"cannot read: {exc}"))
            return None
        if not isinstance(data, list):
            self.problems.append(
                ImportProblem(name, "top level", f"expected a JSON array, got {describe(data)}")
            )
            return None
        return data

    def _read_users(self) -> None:
        for index, raw in enumerate(self._load_index("users.json") or []):
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                self.problems.append(
                    ImportProblem("users.json", f"entry {index}", "a user needs a string 'id'")
                )
                continue
            profile = raw.get("profile")
            if not isinstance(profile, dict):
                profile = {}
            name = next(
                (
                    v
                    for v in (
                        profile.get("display_name"),
                        profile.get("real_name"),
                        raw.get("real_name"),
                        raw.get("name"),
                    )
                    if isinstance(v, str) and v
                ),
                raw["id"],
            )
            self.users[raw["id"]] = SlackUser(
                id=raw["id"],
                name=name,
                is_bot=bool(raw.get("is_bot")) or raw["id"] == "USLACKBOT",
                deleted=bool(raw.get("deleted")),
                team=str(raw.get("team_id") or raw.get("team") or ""),
            )

    def _read_channels(self) -> None:
        for filename, private in CONVERSATION_FILES:
            for index, raw in enumerate(self._load_index(filename) or []):
                if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                    self.problems.append(
                        ImportProblem(filename, f"entry {index}", "a channel needs a string 'id'")
                    )
                    continue
                cid = raw["id"]
                name = raw.get("name")
                if not isinstance(name, str) or not _SAFE_NAME.match(name):
                    name = ""  # none, or not a safe folder name ("../x", "a/b")
                # DMs have no name: their folder is named after the id.
                folder = name if name and self._has_folder(name) else cid
                self.channels[cid] = SlackChannel(
                    id=cid,
                    name=name or cid,
                    folder=folder,
                    is_private=private or bool(raw.get("is_private")),
                )

    def _has_folder(self, name: str) -> bool:
        return self._files.has_folder(name)

    def _find_team(self) -> str:
        teams = Counter(u.team for u in self.users.values() if u.team)
        if teams:
            return teams.most_common(1)[0][0]
        # No team in users.json: the messages carry it. A few day files settle it.
        for channel in list(self.channels.values())[:5]:
            for day in self._day_files(channel)[:1]:
                try:
                    data = json.loads(self._files.read(f"{channel.folder}/{day}"))
                except (json.JSONDecodeError, *_READ_ERRORS):
                    continue
                for raw in data if isinstance(data, list) else []:
                    if isinstance(raw, dict):
                        team = raw.get("team") or raw.get("user_team") or raw.get("source_team")
                        if isinstance(team, str) and team:
                            return team
        return ""

    # --- public API ----------------------------------------------------------------

    @property
    def channel_names(self) -> dict[str, str]:
        """Channel id -> name for every conversation in the export."""
        return {c.id: c.name for c in self.channels.values()}

    def is_private(self, channel_id: str) -> bool:
        """True for private channels (groups.json or `is_private`), group DMs and DMs."""
        channel = self.channels.get(channel_id)
        return channel.is_private if channel else False

    def user_is_bot(self, user_id: str) -> bool:
        """True for users.json bots, Slackbot and any author seen posting with a bot_id."""
        user = self.users.get(user_id)
        return (user is not None and user.is_bot) or user_id in self._bots_seen

    def user_name(self, user_id: str) -> str:
        """The display name from users.json (or the bot's username), else the id."""
        user = self.users.get(user_id)
        if user is not None:
            return user.name
        return self._bots_seen.get(user_id) or user_id

    def selected_channels(self) -> list[SlackChannel]:
        """The conversations the channel filter keeps, in export order."""
        return [c for c in self.channels.values() if wanted(self._selected, c.id, c.name)]

    def sizes(self) -> list[ConversationSize]:
        """The bytes of each selected channel's day files in the time range."""
        out = []
        for channel in self.selected_channels():
            days = [d for d in self._day_files(channel) if self._day_in_range(d)]
            size = sum(self._files.size(f"{channel.folder}/{day}") for day in days)
            out.append(ConversationSize(channel.id, channel.id, size))
        return out

    def messages(self) -> Iterator[Message]:
        """Every kept message in non-decreasing `posted_at` order across channels.

        Problems found while reading are appended to `problems` as the stream goes;
        each call starts a fresh pass (and a fresh list of message problems).
        """
        del self.problems[self._index_problems :]
        self.skipped.clear()
        streams = [
            ordered(self._channel_stream(channel), self.problems)
            for channel in self.selected_channels()
        ]
        return merge_by_time(streams)

    def close(self) -> None:
        """Release the zip file, if any."""
        self._files.close()

    def __enter__(self) -> SlackExportReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- day files -------------------------------------------------------------------

    def _day_files(self, channel: SlackChannel) -> list[str]:
        return sorted(n for n in self._files.listdir(channel.folder) if _DAY_FILE.match(n))

    def _day_in_range(self, name: str) -> bool:
        m = _DAY_FILE.match(name)
        if m is None:
            return False
        try:
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return True  # let the per-message times decide
        # Day files may follow the exporter's time zone: allow a day either side.
        if self.since is not None and day < (self.since - timedelta(days=1)).date():
            return False
        return not (self.until is not None and day > (self.until + timedelta(days=1)).date())

    def _channel_stream(self, channel: SlackChannel) -> Iterator[Located]:
        for day in self._day_files(channel):
            if not self._day_in_range(day):
                continue
            source = f"{channel.folder}/{day}"
            try:
                data = json.loads(self._files.read(source))
            except json.JSONDecodeError as exc:
                self.problems.append(
                    ImportProblem(source, _json_error(exc), f"bad JSON: {exc.msg}; file skipped")
                )
                continue
            except _READ_ERRORS as exc:
                self.problems.append(
                    ImportProblem(source, "file", f"cannot read: {exc}; file skipped")
                )
                continue
            if not isinstance(data, list):
                self.problems.append(
                    ImportProblem(
                        source,
                        "top level",
                        f"expected a JSON array of messages, got {describe(data)}; file skipped",
                    )
                )
                continue
            day_messages: list[tuple[datetime, int, Message]] = []
            for index, raw in enumerate(data):
                message = self._convert(raw, channel, source, index)
                if message is not None:
                    day_messages.append((message.posted_at, index, message))
            del data
            # Exports are sorted, but a hand-edited or merged file may not be.
            day_messages.sort(key=lambda item: (item[0], item[1]))
            for _, index, message in day_messages:
                yield message, source, f"message {index}"

    def _convert(
        self, raw: object, channel: SlackChannel, source: str, index: int
    ) -> Message | None:
        """One export message as a core `Message`, or None (reported) when it is skipped."""
        try:
            return self._translate(raw, channel, source, index)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            # Shapes nobody foresaw: one message lost, never the replay.
            self.problems.append(
                ImportProblem(source, f"message {index}", f"unreadable message: {exc!r}")
            )
            return None

    def _translate(
        self, raw: object, channel: SlackChannel, source: str, index: int
    ) -> Message | None:
        position = f"message {index}"
        if not isinstance(raw, dict):
            self.problems.append(
                ImportProblem(source, position, f"expected a message object, got {describe(raw)}")
            )
            return None
        subtype = raw.get("subtype")
        if not KEEP_SUBTYPES.get(subtype, False):
            self.skipped[f"subtype {subtype}"] += 1
            return None
        if raw.get("hidden"):
            self.skipped["hidden"] += 1
            return None
        ts = raw.get("ts")
        posted_at = ts_to_datetime(ts) if isinstance(ts, str) else None
        if posted_at is None or not isinstance(ts, str):
            self.problems.append(
                ImportProblem(source, position, f"bad or missing 'ts': {ts!r}; message skipped")
            )
            return None
        if (self.since or self.until) and not in_range(posted_at, self.since, self.until):
            return None
        bot_id = raw.get("bot_id")
        user_id = raw.get("user") or bot_id
        if not isinstance(user_id, str) or not user_id:
            self.problems.append(
                ImportProblem(source, position, "message has neither 'user' nor 'bot_id'; skipped")
            )
            return None
        text = raw.get("text")
        if not isinstance(text, str):
            text = ""
        author = self._author(user_id, raw, bool(bot_id) or subtype == "bot_message")
        thread_ts = raw.get("thread_ts")
        root = None
        if isinstance(thread_ts, str) and thread_ts != ts:
            root = MessageRef(PLATFORM, self.space, channel.id, thread_ts)
        return Message(
            ref=MessageRef(PLATFORM, self.space, channel.id, ts),
            author=author,
            text=text,
            posted_at=posted_at,
            thread_root=root,
            mentions=mentions_in(text) if "<@" in text else (),
        )

    def _author(self, user_id: str, raw: dict[str, Any], posted_as_bot: bool) -> UserRef:
        user = self.users.get(user_id)
        is_bot = posted_as_bot or (user is not None and user.is_bot)
        if user is not None:
            name = user.name
        else:
            profile = raw.get("bot_profile") or raw.get("user_profile")
            if not isinstance(profile, dict):
                profile = {}
            candidates = (raw.get("username"), profile.get("display_name"), profile.get("name"))
            name = next((v for v in candidates if isinstance(v, str) and v), "")
        if posted_as_bot and user_id not in self._bots_seen:
            self._bots_seen[user_id] = name
        key = (user_id, name, is_bot)
        ref = self._user_refs.get(key)
        if ref is None:
            ref = self._user_refs[key] = UserRef(PLATFORM, self.space, user_id, name, is_bot)
        return ref


def is_slack_export(path: Path) -> bool:
    """True for a folder or zip with `channels.json` (at the top, or one folder down)."""
    if path.is_dir():
        return (path / "channels.json").is_file() or any(
            (p / "channels.json").is_file() for p in path.iterdir() if p.is_dir()
        )
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return any(
                PurePosixPath(n).name == "channels.json" and n.count("/") <= 1
                for n in zf.namelist()
            )
    return False
