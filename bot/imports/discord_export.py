"""Read DiscordChatExporter JSON (one file per channel, or a folder of them) as core messages.

Each file is one channel or thread: a header (`guild{id,name}`, `channel{id,type,
categoryId,category,name}`) and a `messages` array of `{id, type, timestamp, content,
author{id,name,nickname,isBot}, mentions[{id}], reference{messageId,channelId}}`.
For threads the exporter writes the *parent channel* into `categoryId`/`category`.

Messages map to the core as the live Discord adapter maps gateway events: platform
"discord", space = guild id, channel = channel or thread id, message = message id.
A `Reply` points at its `reference` (`Message.reply_to`). In a thread T of channel P,
messages hang from the message that started it (`thread_root = (guild, P, T)`,
`watched_channel = P`). A forum post is a thread whose first message has the
thread's own id: that starter is `(guild, T, T)` with `is_thread_starter=True`, and
the other messages hang from it. System messages (joins, pins, "thread created"…)
go through a lookup table whose default is "skip".

The `messages` array is parsed incrementally (ijson), so a channel file of any size
reads in flat memory. A file exported newest-first is sorted through a temporary
SQLite file on disk, again without holding it in memory.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ijson

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

PLATFORM = "discord"
DEFAULT_SPACE = "export"

# Message kinds people write; the exporter names known kinds and writes others as
# numbers. Everything else (member joins, pins, "thread created", boosts, thread
# starter stubs, command invocations…) is skipped.
KEEP_TYPES: dict[str, bool] = {"Default": True, "Reply": True, "0": True, "19": True}
REPLY_TYPES = frozenset({"Reply", "19"})
THREAD_KINDS = frozenset(
    {"GuildNewsThread", "GuildPublicThread", "GuildPrivateThread", "10", "11", "12"}
)
PRIVATE_KINDS = frozenset(
    {"GuildPrivateThread", "DirectTextChat", "DirectGroupTextChat", "12", "1", "3"}
)
_READ_ERRORS = (OSError, UnicodeDecodeError)


def parse_timestamp(value: object) -> datetime | None:
    """An exporter timestamp (ISO 8601, any offset) in UTC; None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(slots=True)
class ChannelFile:
    """One exported channel or thread file and what its header says."""

    path: Path
    source: str
    space: str
    channel_id: str
    name: str
    kind: str
    parent_id: str
    parent_name: str
    newest_first: bool = False

    @property
    def is_thread(self) -> bool:
        """Threads and forum posts; their parent is the exporter's `categoryId`."""
        return self.kind in THREAD_KINDS and bool(self.parent_id)


def read_header(path: Path) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """The `guild` and `channel` objects of an exporter file and whether it has `messages`.

    Stops at the `messages` array once the header is known (the exporter writes the
    header first), so this costs next to nothing on a huge file. Raises ijson's
    errors and OSError for the caller to report.
    """
    guild: dict[str, Any] = {}
    channel: dict[str, Any] = {}
    has_messages = False
    with path.open("rb") as fh:
        for prefix, event, value in ijson.parse(fh, use_float=True):
            if event in ("string", "number", "boolean", "null") and prefix.count(".") == 1:
                head, _, key = prefix.partition(".")
                if head == "guild":
                    guild[key] = value
                elif head == "channel":
                    channel[key] = value
            elif prefix == "messages" and event == "start_array":
                has_messages = True
                if "id" in channel:
                    break
    return guild, channel, has_messages


def looks_like_discord_export(path: Path) -> bool:
    """True for a JSON file whose top level has `messages` and a `channel` or `guild`."""
    try:
        guild, channel, has_messages = read_header(path)
    except (ijson.JSONError, *_READ_ERRORS):
        return False
    return has_messages and bool(guild or channel)


class _Spill:
    """One temporary SQLite file that sorts every newest-first channel file of a pass.

    Rows are read back a page at a time (keyset pagination), so no cursor stays open
    between pages and one connection serves every stream.
    """

    PAGE = 512

    def __init__(self) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._db: sqlite3.Connection | None = None
        self._files = 0

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="frontline-import-")
            self._db = sqlite3.connect(Path(self._tmp.name) / "sort.db")
            self._db.execute("CREATE TABLE m (file INTEGER, at TEXT, idx INTEGER, raw TEXT)")
            self._db.execute("CREATE INDEX m_order ON m (file, at, idx)")
        return self._db

    def add(self, rows: Iterable[tuple[str, int, str]]) -> int:
        """Store one file's (timestamp, index, raw JSON) rows; returns its file number."""
        db = self._connect()
        self._files += 1
        file_id = self._files
        db.executemany("INSERT INTO m VALUES (?, ?, ?, ?)", ((file_id, *row) for row in rows))
        return file_id

    def rows(self, file_id: int) -> Iterator[tuple[int, str]]:
        """(index, raw JSON) of one file, oldest first; ties in reverse file order."""
        db = self._connect()
        at, idx = "", -1
        first = True
        while True:
            page = db.execute(
                "SELECT at, idx, raw FROM m WHERE file = ? AND "
                "(? OR at > ? OR (at = ? AND idx < ?)) ORDER BY at, idx DESC LIMIT ?",
                (file_id, first, at, at, idx, self.PAGE),
            ).fetchall()
            if not page:
                return
            for _, index, raw in page:
                yield index, raw
            at, idx, _ = page[-1]
            first = False

    def close(self) -> None:
        """Drop the temporary file."""
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


class DiscordExportReader(ReaderBase):
    """Messages of DiscordChatExporter JSON files in time order across all channels.

    `path` is one exported file or a folder searched recursively for `*.json`.
    `channels` keeps channels (and threads) whose id or name is listed; a thread is
    also kept when its parent channel is listed. `since` (inclusive) and `until`
    (exclusive) bound `posted_at`; naive datetimes are UTC.
    """

    platform = PLATFORM

    def _open(self) -> None:
        """Index the exported files; their messages are streamed later by messages()."""
        path = self.path
        self.files: list[ChannelFile] = []
        self.channel_names: dict[str, str] = {}
        self._private: set[str] = set()
        self._forum_threads: set[str] = set()
        self._users: dict[str, tuple[str, bool]] = {}
        self._user_refs: dict[tuple[str, str, str, bool], UserRef] = {}
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*.json") if p.is_file())
            root = path
        else:
            candidates, root = [path], path.parent
        for candidate in candidates:
            self._index(candidate, candidate.relative_to(root).as_posix())
        spaces = Counter(f.space for f in self.files)
        self.space = spaces.most_common(1)[0][0] if spaces else DEFAULT_SPACE
        self._index_problems = len(self.problems)

    # --- index -----------------------------------------------------------------------

    def _index(self, path: Path, source: str) -> None:
        try:
            guild, channel, has_messages = read_header(path)
        except ijson.JSONError as exc:
            self.problems.append(ImportProblem(source, "header", f"bad JSON: {exc}; skipped"))
            return
        except _READ_ERRORS as exc:
            self.problems.append(ImportProblem(source, "file", f"cannot read: {exc}; skipped"))
            return
        if not has_messages or not (guild or channel):
            self.problems.append(
                ImportProblem(
                    source,
                    "top level",
                    "not a DiscordChatExporter channel file (no 'channel' and 'messages'); skipped",
                )
            )
            return
        if not isinstance(channel.get("id"), str) or not channel["id"]:
            self.problems.append(
                ImportProblem(source, "channel", "the header has no channel 'id'; skipped")
            )
            return
        info = ChannelFile(
            path=path,
            source=source,
            space=str(guild.get("id") or DEFAULT_SPACE),
            channel_id=channel["id"],
            name=str(channel.get("name") or channel["id"]),
            kind=str(channel.get("type") or ""),
            parent_id=str(channel.get("categoryId") or ""),
            parent_name=str(channel.get("category") or ""),
        )
        self.channel_names[info.channel_id] = info.name
        if info.is_thread and info.parent_name:
            self.channel_names.setdefault(info.parent_id, info.parent_name)
        if info.kind in PRIVATE_KINDS:
            self._private.add(info.channel_id)
        self._peek(info)
        self.files.append(info)

    def _peek(self, info: ChannelFile) -> None:
        """Look at the first two messages: is it a forum post, was it exported newest-first."""
        try:
            with info.path.open("rb") as fh:
                first = list(itertools.islice(ijson.items(fh, "messages.item", use_float=True), 2))
        except (ijson.JSONError, *_READ_ERRORS):
            return  # the read itself reports it, with the position
        heads = [m for m in first if isinstance(m, dict)]
        if len(heads) == 2:
            a, b = (parse_timestamp(m.get("timestamp")) for m in heads)
            info.newest_first = a is not None and b is not None and b < a
        if (
            info.is_thread
            and heads
            and not info.newest_first
            and heads[0].get("id") == info.channel_id
            # A thread started from a message opens with a "ThreadStarterMessage" stub
            # that may carry the thread's id too; a forum starter is an ordinary post.
            and KEEP_TYPES.get(str(heads[0].get("type", "Default")), False)
        ):
            self._forum_threads.add(info.channel_id)

    # --- public API ----------------------------------------------------------------

    def is_private(self, channel_id: str) -> bool:
        """True for private threads and DMs."""
        return channel_id in self._private

    def user_is_bot(self, user_id: str) -> bool:
        """True when the exporter marked this author `isBot` (known once read)."""
        return self._users.get(user_id, ("", False))[1]

    def user_name(self, user_id: str) -> str:
        """The member's nickname (or name) as exported, else the id."""
        return self._users.get(user_id, ("", False))[0] or user_id

    def selected_files(self) -> list[ChannelFile]:
        """The channel files the channel filter keeps."""
        out = []
        for info in self.files:
            keys = [info.channel_id, info.name]
            if info.is_thread:
                keys += [info.parent_id, info.parent_name]
            if wanted(self._selected, *keys):
                out.append(info)
        return out

    def sizes(self) -> list[ConversationSize]:
        """The bytes of each selected channel or thread file; a thread's belong to its parent."""
        out = []
        for info in self.selected_files():
            try:
                size = info.path.stat().st_size
            except OSError:
                size = 0  # reported when it is read
            watched = info.parent_id if info.is_thread else info.channel_id
            out.append(ConversationSize(info.channel_id, watched, size))
        return out

    def messages(self) -> Iterator[Message]:
        """Every kept message in non-decreasing `posted_at` order across channels.

        Problems found while reading are appended to `problems` as the stream goes;
        each call starts a fresh pass.
        """
        del self.problems[self._index_problems :]
        self.skipped.clear()
        return self._merged(self.selected_files())

    # --- reading -------------------------------------------------------------------

    def _merged(self, files: list[ChannelFile]) -> Iterator[Message]:
        spill = _Spill()
        try:
            streams = [ordered(self._file_stream(info, spill), self.problems) for info in files]
            yield from merge_by_time(streams)
        finally:
            spill.close()

    def _file_stream(self, info: ChannelFile, spill: _Spill) -> Iterator[Located]:
        if info.newest_first:
            yield from self._from_spill(info, spill)
            return
        # The merge asks every stream for its first message up front. Reading that one
        # with the file closed again means a file stays open only while its channel is
        # being read, not for the whole replay: thousands of thread files would
        # otherwise need thousands of open descriptors at once.
        first = self._read(info)
        head = next(first, None)
        first.close()
        if head is None:
            return
        yield head[1], info.source, f"message {head[0]}"
        for index, message in self._read(info, start=head[0] + 1):
            yield message, info.source, f"message {index}"

    def _read(
        self, info: ChannelFile, start: int = 0
    ) -> Generator[tuple[int, Message], None, None]:
        """Kept messages with their index, from message `start` on (earlier ones unparsed)."""
        index = -1
        try:
            with info.path.open("rb") as fh:
                for index, raw in enumerate(ijson.items(fh, "messages.item", use_float=True)):
                    if index < start:
                        continue
                    message = self._convert(raw, info, index)
                    if message is not None:
                        yield index, message
        except ijson.JSONError as exc:
            self.problems.append(
                ImportProblem(
                    info.source,
                    f"message {index + 1}",
                    f"bad JSON: {exc}; the rest of the file is skipped",
                )
            )
        except _READ_ERRORS as exc:
            self.problems.append(
                ImportProblem(
                    info.source, f"message {index + 1}", f"cannot read: {exc}; rest skipped"
                )
            )

    def _from_spill(self, info: ChannelFile, spill: _Spill) -> Iterator[Located]:
        """A newest-first file in time order, sorted by SQLite on disk."""
        file_id = spill.add(self._spill_rows(info))
        for index, raw in spill.rows(file_id):
            message = self._convert(json.loads(raw), info, index)
            if message is not None:
                yield message, info.source, f"message {index}"

    def _spill_rows(self, info: ChannelFile) -> Iterator[tuple[str, int, str]]:
        index = -1
        try:
            with info.path.open("rb") as fh:
                for index, raw in enumerate(ijson.items(fh, "messages.item", use_float=True)):
                    at = parse_timestamp(raw.get("timestamp")) if isinstance(raw, dict) else None
                    if (
                        info.is_thread
                        and isinstance(raw, dict)
                        and raw.get("id") == info.channel_id
                        and KEEP_TYPES.get(str(raw.get("type", "Default")), False)
                    ):
                        self._forum_threads.add(info.channel_id)
                    yield (at.isoformat() if at else ""), index, json.dumps(raw)
        except (ijson.JSONError, *_READ_ERRORS) as exc:
            self.problems.append(
                ImportProblem(
                    info.source, f"message {index + 1}", f"bad JSON: {exc}; rest of file skipped"
                )
            )

    def _convert(self, raw: object, info: ChannelFile, index: int) -> Message | None:
        """One exported message as a core `Message`, or None (reported) when it is skipped."""
        try:
            return self._translate(raw, info, index)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            # Shapes nobody foresaw (a number where a list belongs...): one message lost,
            # never the replay.
            self.problems.append(
                ImportProblem(info.source, f"message {index}", f"unreadable message: {exc!r}")
            )
            return None

    def _translate(self, raw: object, info: ChannelFile, index: int) -> Message | None:
        position = f"message {index}"
        if not isinstance(raw, dict):
            self.problems.append(
                ImportProblem(
                    info.source, position, f"expected a message object, got {describe(raw)}"
                )
            )
            return None
        kind = str(raw.get("type", "Default"))
        if not KEEP_TYPES.get(kind, False):
            self.skipped[f"type {kind}"] += 1
            return None
        message_id = raw.get("id")
        if not isinstance(message_id, str) or not message_id:
            self.problems.append(
                ImportProblem(info.source, position, "message has no string 'id'; skipped")
            )
            return None
        posted_at = parse_timestamp(raw.get("timestamp"))
        if posted_at is None:
            self.problems.append(
                ImportProblem(
                    info.source,
                    position,
                    f"bad or missing 'timestamp': {raw.get('timestamp')!r}; message skipped",
                )
            )
            return None
        if not in_range(posted_at, self.since, self.until):
            return None
        author = raw.get("author")
        if not isinstance(author, dict) or not isinstance(author.get("id"), str):
            self.problems.append(
                ImportProblem(info.source, position, "message has no author 'id'; skipped")
            )
            return None
        content = raw.get("content")
        text = content if isinstance(content, str) else ""
        listed = raw.get("mentions")
        mentions = tuple(
            dict.fromkeys(
                m["id"]
                for m in (listed if isinstance(listed, list) else ())
                if isinstance(m, dict) and isinstance(m.get("id"), str)
            )
        )
        reply_to = None
        reference = raw.get("reference")
        if kind in REPLY_TYPES and isinstance(reference, dict):
            target = reference.get("messageId")
            if isinstance(target, str) and target:
                where = reference.get("channelId")
                reply_to = MessageRef(
                    PLATFORM,
                    info.space,
                    where if isinstance(where, str) and where else info.channel_id,
                    target,
                )
        ref = MessageRef(PLATFORM, info.space, info.channel_id, message_id)
        root = None
        watched = ""
        starter = False
        if info.is_thread:
            watched = info.parent_id
            thread = info.channel_id
            if thread in self._forum_threads:
                starter = message_id == thread
                root = None if starter else MessageRef(PLATFORM, info.space, thread, thread)
            else:
                root = MessageRef(PLATFORM, info.space, info.parent_id, thread)
        return Message(
            ref=ref,
            author=self._author(info.space, author),
            text=text,
            posted_at=posted_at,
            thread_root=root,
            reply_to=reply_to,
            mentions=mentions,
            watched_channel=watched,
            is_thread_starter=starter,
        )

    def _author(self, space: str, raw: dict[str, Any]) -> UserRef:
        user_id: str = raw["id"]
        name = next(
            (v for v in (raw.get("nickname"), raw.get("name")) if isinstance(v, str) and v), ""
        )
        is_bot = bool(raw.get("isBot"))
        key = (space, user_id, name, is_bot)
        ref = self._user_refs.get(key)
        if ref is None:
            ref = self._user_refs[key] = UserRef(PLATFORM, space, user_id, name, is_bot)
            self._users[user_id] = (name, is_bot)
        return ref
