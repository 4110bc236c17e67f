"""Build Slack-format exports for replay, and the ground truth to score a replay against.

Three sources, one format (the standard Slack workspace export, which
`bot.imports.SlackExportReader` reads):

* synthetic: `bot.simulate.Community` traffic, written by a streaming writer
  (`write_slack_export`), any size, flat memory;
* the annotated Ubuntu IRC logs (`irc_to_slack`, truth from `irc_truth`): IRC has
  no threads, so every answer is in the channel; this is where in-channel answer
  detection (by mention) is measured;
* the Clojurians Slack events (`clojurians_to_slack`, truth from `clojurians_truth`):
  real threads with real reply times.

Nothing from the shared data is ever written into this repository: the converters
read it at run time from ``$FRONTLINE_SHARED_DATA`` or ``../shared/data`` next to the
project root, and write exports wherever they are told (a temporary folder).

Usage::

    .venv/bin/python bench/export_tools.py synth --messages 1000000 --out /tmp/synth
    .venv/bin/python bench/export_tools.py irc --out /tmp/irc-export
    .venv/bin/python bench/export_tools.py clojurians --out /tmp/clj-export
    .venv/bin/python bench/export_tools.py truth irc --out /tmp/irc-truth.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import itertools
import json
import os
import re
import resource
import sys
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bot.core.events import MessagePosted  # noqa: E402
from bot.core.model import Message, MessageRef  # noqa: E402
from bot.simulate import Community, SimEvent  # noqa: E402

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SLACK_ID = re.compile(r"^[A-Z][A-Z0-9]{6,}$")

# --------------------------------------------------------------------------- paths


def shared_data_dir() -> Path | None:
    """The shared evaluation data folder, or None when it is not there."""
    env = os.environ.get("FRONTLINE_SHARED_DATA")
    candidate = Path(env) if env else PROJECT_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def irc_source() -> Path | None:
    """The annotated Ubuntu IRC folder (with dev/ and test/), or None."""
    base = shared_data_dir()
    path = base / "irc-disentanglement-ubuntu" if base else None
    return path if path is not None and (path / "test").is_dir() else None


def clojurians_source() -> Path | None:
    """The Clojurians Slack demo folder (with logs/ and channels.edn), or None."""
    base = shared_data_dir()
    path = base / "clojurians-slack-demo" if base else None
    return path if path is not None and (path / "logs").is_dir() else None


# ------------------------------------------------------------------ ids and times


@functools.lru_cache(maxsize=65_536)
def stable_id(prefix: str, name: str) -> str:
    """A Slack-looking id derived from a name, the same on every run ("U3F2A9C01B")."""
    return prefix + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10].upper()


def ts_of(moment: datetime) -> str:
    """A Slack `ts` string for a UTC datetime, exact to the microsecond."""
    delta = moment - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    return f"{seconds}.{delta.microseconds:06d}"


def ts_day(ts: str) -> date:
    """The UTC day a `ts` falls on: the day file it belongs in."""
    return _day_number(int(ts.partition(".")[0]) // 86_400)


@functools.lru_cache(maxsize=4_096)
def _day_number(days: int) -> date:
    return _EPOCH.date() + timedelta(days=days)


def _ts_plus(ts: str, micros: int) -> str:
    sec, _, frac = ts.partition(".")
    total = int(sec) * 1_000_000 + int(frac.ljust(6, "0")) + micros
    return f"{total // 1_000_000}.{total % 1_000_000:06d}"


# ------------------------------------------------------------------ the writer


class SlackExportWriter:
    """Writes a Slack workspace export one message at a time, in flat memory.

    Each channel has at most one day file open; a JSON array is written
    incrementally and closed when the channel moves to another day. A message for a
    day already closed (input not in time order) is appended to that file in place.
    `close()` writes `channels.json`, `groups.json` (private channels) and
    `users.json`. Day files follow the UTC date of `ts`.
    """

    MAX_OPEN = 128

    def __init__(self, folder: Path, team: str = "TSYNTHETIC") -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.team = team
        self.channels: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.messages = 0
        self.day_files = 0
        self._open: OrderedDict[str, tuple[date, IO[str]]] = OrderedDict()

    def add_channel(self, channel_id: str, name: str, *, private: bool = False) -> None:
        """Declare a channel (idempotent); its folder is named after it."""
        if channel_id not in self.channels:
            self.channels[channel_id] = {
                "id": channel_id,
                "name": name,
                "created": 0,
                "is_private": private,
                "is_archived": False,
                "members": [],
            }

    def add_user(self, user_id: str, name: str, *, is_bot: bool = False) -> None:
        """Declare a member for users.json (idempotent)."""
        if user_id not in self.users:
            self.users[user_id] = {
                "id": user_id,
                "team_id": self.team,
                "name": name,
                "deleted": False,
                "is_bot": is_bot,
                "profile": {"display_name": name, "real_name": name},
            }

    def write(self, channel_id: str, message: dict[str, Any]) -> None:
        """Append one export message (which must carry `ts`) to its channel's day file."""
        day = ts_day(message["ts"])
        current = self._open.get(channel_id)
        text = json.dumps(message, ensure_ascii=False)
        if current is not None and current[0] == day:
            current[1].write(",\n" + text)
            self._open.move_to_end(channel_id)
        else:
            if current is not None:
                self._finish(channel_id)
            self._begin(channel_id, day, text)
        self.messages += 1

    def _path(self, channel_id: str, day: date) -> Path:
        return self.folder / self.channels[channel_id]["name"] / f"{day.isoformat()}.json"

    def _begin(self, channel_id: str, day: date, text: str) -> None:
        path = self._path(channel_id, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            # The day was closed earlier: reopen the array by dropping its "\n]\n".
            fh = path.open("r+", encoding="utf-8")
            fh.seek(0, os.SEEK_END)
            fh.seek(fh.tell() - 3)
            fh.truncate()
            fh.write(",\n" + text)
        else:
            fh = path.open("w", encoding="utf-8")
            fh.write("[\n" + text)
            self.day_files += 1
        self._open[channel_id] = (day, fh)
        if len(self._open) > self.MAX_OPEN:
            self._finish(next(iter(self._open)))

    def _finish(self, channel_id: str) -> None:
        _, fh = self._open.pop(channel_id)
        fh.write("\n]\n")
        fh.close()

    def close(self) -> None:
        """Close every day file and write the index files."""
        for channel_id in list(self._open):
            self._finish(channel_id)
        public = [c for c in self.channels.values() if not c["is_private"]]
        private = [c for c in self.channels.values() if c["is_private"]]
        _dump(self.folder / "channels.json", public)
        if private:
            _dump(self.folder / "groups.json", private)
        _dump(self.folder / "users.json", list(self.users.values()))

    def __enter__(self) -> SlackExportWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


@dataclass
class WriteSummary:
    """What a writer produced."""

    messages: int = 0
    channels: int = 0
    users: int = 0
    day_files: int = 0
    # Replies whose root was not found (too old for the id map, or never written).
    orphans: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def _slack_channel(name: str) -> str:
    return (
        name
        if _SLACK_ID.match(name) and name.startswith(("C", "G", "D"))
        else (stable_id("C", name))
    )


def _slack_user(user: str) -> str:
    return user if _SLACK_ID.match(user) and user.startswith(("U", "W")) else stable_id("U", user)


def write_slack_export(
    folder: Path,
    events: Iterable[MessagePosted | SimEvent | Any],
    *,
    team: str = "TSYNTHETIC",
    horizon: timedelta = timedelta(days=3),
) -> WriteSummary:
    """Write the `MessagePosted` events (or `SimEvent`s wrapping them) as a Slack export.

    Other events (edits, deletions, reactions) are ignored: a writer that applied them
    would have to hold messages back. Channel and user names that are not Slack ids
    become stable ids (`stable_id`); mentions (`Message.mentions`, written as
    `@name` in the text) become `<@U…>`; a thread reply gets its root's `thread_ts`,
    a Discord-style `reply_to` becomes a thread reply to its target's thread. `ts`
    comes from `posted_at` and is made unique within its channel by adding
    microseconds. Roots are remembered for `horizon` of message time, so memory stays
    flat; a reply to an older root is written as a top-level post (counted in
    `orphans`). Events should come in time order; a late event is still written.
    """
    began = time.perf_counter()
    summary = WriteSummary()
    # core message id -> (channel id, ts, thread ts of its root or None, posted_at)
    known: OrderedDict[tuple[str, str], tuple[str, str, str | None, datetime]] = OrderedDict()
    # ts already used per (channel, day), for days within the horizon of the newest.
    day_ts: dict[tuple[str, date], set[str]] = {}
    newest_day = date.min
    with SlackExportWriter(folder, team=team) as writer:
        for item in events:
            event = getattr(item, "event", item)
            if not isinstance(event, MessagePosted):
                continue
            message = event.message
            channel = _slack_channel(message.ref.channel)
            writer.add_channel(channel, message.ref.channel)
            author = _slack_user(message.author.user)
            writer.add_user(
                author, message.author.name or message.author.user, is_bot=message.author.is_bot
            )
            ts = ts_of(message.posted_at)
            day = ts_day(ts)
            seen = day_ts.get((channel, day))
            if seen is None:
                seen = day_ts[(channel, day)] = set()
                if day > newest_day:
                    newest_day = day
                    oldest = newest_day - horizon
                    for stale in [k for k in day_ts if k[1] < oldest]:
                        del day_ts[stale]
            while ts in seen:
                ts = _ts_plus(ts, 1)
            seen.add(ts)
            thread_ts = None
            parent = message.thread_root or message.reply_to
            if parent is not None:
                target = known.get((parent.channel, parent.message))
                if target is None:
                    summary.orphans += 1
                else:
                    thread_ts = target[2] or target[1]
            raw: dict[str, Any] = {"type": "message", "user": author, "ts": ts}
            raw["text"] = _mention_markup(message)
            if thread_ts is not None:
                raw["thread_ts"] = thread_ts
            if message.author.is_bot:
                raw["bot_id"] = stable_id("B", message.author.user)
            raw["team"] = team
            writer.write(channel, raw)
            known[(message.ref.channel, message.ref.message)] = (
                channel,
                ts,
                thread_ts,
                message.posted_at,
            )
            # Forget roots older than the horizon: replies come within hours.
            cutoff = message.posted_at - horizon
            while known:
                oldest = next(iter(known.values()))
                if oldest[3] >= cutoff:
                    break
                known.popitem(last=False)
        summary.messages = writer.messages
        summary.channels = len(writer.channels)
        summary.users = len(writer.users)
    summary.day_files = writer.day_files
    summary.seconds = time.perf_counter() - began
    return summary


def _mention_markup(message: Message) -> str:
    text = message.text
    for user in message.mentions:
        uid = _slack_user(user)
        if f"@{user}" in text:
            text = text.replace(f"@{user}", f"<@{uid}>")
        elif f"<@{uid}>" not in text:
            text = f"<@{uid}> {text}"
    return text


# ------------------------------------------------------------------ synthetic


def synthetic_events(
    messages: int,
    *,
    seed: int = 7,
    groups: int = 10,
    start: date = date(2026, 1, 5),
    chunk_days: int = 7,
) -> Iterator[SimEvent]:
    """About `messages` posted messages of `groups` simulated communities, in time order.

    Each group is a `Community` (help, support, general) renamed `help-<g>` etc.; the
    days are generated a week at a time with a fresh seed per (group, week), so
    memory stays flat however many messages are asked for. Message ids are made
    unique across weeks and groups. Stops after exactly `messages` posts.
    """
    written = 0
    carry: list[SimEvent] = []
    for chunk in itertools.count():
        first = start + timedelta(days=chunk * chunk_days)
        boundary = datetime.combine(first + timedelta(days=chunk_days), datetime.min.time(), UTC)
        batch = list(carry)
        for group in range(groups):
            community = Community(
                seed=seed * 1_000_003 + chunk * 1_009 + group, start=first, days=chunk_days
            )
            batch += (_renamed(e, group, chunk) for e in community.events())
        batch.sort(key=lambda e: e.at)
        # Answers late in a week may fall after the next week's first posts: hold them.
        cut = next((i for i, e in enumerate(batch) if e.at >= boundary), len(batch))
        carry = batch[cut:]
        for event in batch[:cut]:
            yield event
            if isinstance(event.event, MessagePosted):
                written += 1
                if written >= messages:
                    return


def _renamed(event: SimEvent, group: int, chunk: int) -> SimEvent:
    inbound = event.event
    if not isinstance(inbound, MessagePosted):
        return event
    message = inbound.message

    def rename(ref: MessageRef) -> MessageRef:
        # Direct construction: dataclasses.replace costs more than the whole write.
        return MessageRef(
            ref.platform, ref.space, f"{ref.channel}-{group}", f"g{group}w{chunk}{ref.message}"
        )

    root = message.thread_root
    renamed = Message(
        rename(message.ref),
        message.author,
        message.text,
        message.posted_at,
        thread_root=rename(root) if root is not None else None,
        mentions=message.mentions,
    )
    return SimEvent(event.at, MessagePosted(inbound.event_id, renamed))


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def _folder_mb(folder: Path) -> float:
    total = 0
    for where, _, files in os.walk(folder):
        total += sum(os.stat(os.path.join(where, name)).st_size for name in files)
    return total / 1e6


# ------------------------------------------------------------------ IRC


IRC_CHANNEL_ID = "CIRCUBUNTU"
IRC_CHANNEL_NAME = "ubuntu"
IRC_TEAM = "TIRCUBUNTU"
IRC_SPLITS = ("dev", "test")
# The #ubuntu factoid bots: they answer "!topic" requests and never count as a person.
IRC_BOTS = frozenset({"ubottu", "ubotu"})
# An unanswered start this close to the end of its annotated window may have been
# answered just after it (replies past the window are not annotated). The longest
# gap to a first response in the annotated data is 32 lines; 50 leaves a margin.
IRC_CENSOR_LINES = 50

_IRC_SAY = re.compile(r"^\[(\d\d):(\d\d)\] <([^>]+)> ?(.*)$")
_IRC_ACT = re.compile(r"^\[(\d\d):(\d\d)\]  \* (\S+) ?(.*)$")
_IRC_JOIN = re.compile(r"^=== (\S+) ")
_IRC_RENAME = re.compile(r"is now known as (\S+)")


@dataclass(frozen=True, slots=True)
class IrcLine:
    """One message line of an IRC log as it goes into the export."""

    index: int
    nick: str
    user: str
    text: str
    ts: str
    action: bool


def irc_user_id(nick: str) -> str:
    """The Slack user id for an IRC nick (nicks are case-insensitive on IRC)."""
    return stable_id("U", "irc:" + nick.lower())


def irc_files(src_dir: Path) -> list[Path]:
    """The `*.ascii.txt` logs of the dev and test folders, in a fixed order."""
    return [p for split in IRC_SPLITS for p in sorted((Path(src_dir) / split).glob("*.ascii.txt"))]


def read_irc_log(path: Path) -> list[IrcLine | None]:
    """Every line of one log, by line index; None for system lines and empty messages.

    The date comes from the file name (`YYYY-MM-DD_HH`), the time from `[HH:MM]`.
    Some logs use a 12-hour clock: a step back of about twelve hours is a wrap, any
    other step back is midnight. Within a minute, lines are spread 1 ms apart by line
    index, so every `ts` is unique and in log order. A leading `nick:` or `nick,`
    naming someone present in the log becomes a `<@U…>` mention.
    """
    raw_lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    if raw_lines and raw_lines[-1] == "":
        raw_lines.pop()
    nicks: dict[str, str] = {}
    for raw in raw_lines:
        if m := _IRC_SAY.match(raw) or _IRC_ACT.match(raw):
            nicks.setdefault(m.group(3).lower(), m.group(3))
        elif m := _IRC_JOIN.match(raw):
            nicks.setdefault(m.group(1).lower(), m.group(1))
            if r := _IRC_RENAME.search(raw):
                nicks.setdefault(r.group(1).lower(), r.group(1))
    day = date.fromisoformat(path.name[:10])
    base = datetime.combine(day, datetime.min.time(), UTC)
    offset = 0
    previous: int | None = None
    out: list[IrcLine | None] = []
    for index, raw in enumerate(raw_lines):
        m = _IRC_SAY.match(raw)
        action = m is None
        m = m or _IRC_ACT.match(raw)
        if m is None or not m.group(4).strip():
            out.append(None)
            continue
        minute = int(m.group(1)) * 60 + int(m.group(2))
        if previous is not None and minute < previous:
            offset += 720 if 0 <= minute - previous + 720 <= 60 else 1440
        previous = minute
        at = base + timedelta(minutes=minute + offset, milliseconds=index)
        nick, text = m.group(3), m.group(4)
        address = re.match(r"^([^\s:,]+)([:,])\s*(.*)$", text, re.DOTALL)
        if address and address.group(1).lower() in nicks:
            target = irc_user_id(address.group(1))
            text = f"<@{target}>{address.group(2)} {address.group(3)}".rstrip()
        out.append(IrcLine(index, nick, irc_user_id(nick), text, ts_of(at), action))
    return out


def irc_to_slack(src_dir: Path, out_dir: Path) -> WriteSummary:
    """The Ubuntu IRC logs (dev and test) as a Slack export with one channel, `ubuntu`.

    Users get stable U-ids from their nicks (`irc_user_id`); `/me` actions become
    `me_message`s; joins, parts and renames are dropped. See `read_irc_log` for times
    and mentions.
    """
    began = time.perf_counter()
    summary = WriteSummary()
    lines: list[IrcLine] = []
    names: dict[str, str] = {}
    for path in irc_files(src_dir):
        for line in read_irc_log(path):
            if line is not None:
                lines.append(line)
                names.setdefault(line.user, line.nick)
    lines.sort(key=lambda line: _ts_key(line.ts))
    if len({line.ts for line in lines}) != len(lines):
        raise ValueError(f"two logs in {src_dir} overlap in time: their ts would collide")
    with SlackExportWriter(out_dir, team=IRC_TEAM) as writer:
        writer.add_channel(IRC_CHANNEL_ID, IRC_CHANNEL_NAME)
        for user, nick in sorted(names.items()):
            writer.add_user(user, nick, is_bot=nick.lower() in IRC_BOTS)
        for line in lines:
            raw: dict[str, Any] = {"type": "message", "user": line.user, "text": line.text}
            if line.action:
                raw["subtype"] = "me_message"
            raw["ts"] = line.ts
            raw["team"] = IRC_TEAM
            writer.write(IRC_CHANNEL_ID, raw)
        summary.messages = writer.messages
        summary.users = len(writer.users)
    summary.channels = 1
    summary.day_files = writer.day_files
    summary.seconds = time.perf_counter() - began
    return summary


@dataclass(frozen=True, slots=True)
class Truth:
    """What really happened to one message, keyed as the export keys it.

    `answered` is True/False for conversation starts whose fate the data tells, and
    None where it does not (not a start, or no annotation of in-channel answers).
    `censored` marks an unanswered start whose answer may lie past the annotated data.
    """

    channel: str
    ts: str
    user: str
    is_conversation_start: bool
    answered: bool | None
    first_responder: str | None = None
    first_response_ts: str | None = None
    censored: bool = False

    def to_json(self) -> str:
        """One JSON line."""
        return json.dumps(dataclasses.asdict(self))


def irc_truth(src_dir: Path, *, follow_ups: bool = False) -> list[Truth]:
    """Ground truth from the reply-to annotation of the Ubuntu IRC logs.

    One row per annotated `<nick>` line with text (lines 1000 to the end of each log;
    `/me` actions are in the export but get no row: an emote is not a request).
    `PARENT CHILD` means CHILD replies to PARENT; a self-link `i i` makes line i a
    conversation start. A start is answered when one of its children (direct replies)
    comes from another nick, not a bot (`IRC_BOTS`): the earliest such child gives
    the responder and the time. An unanswered start within `IRC_CENSOR_LINES` of the
    end of the annotated window is `censored`. Non-starts have `answered=None`.

    With `follow_ups`, replies to the asker's own follow-ups count too: the annotators
    often link an answer to the asker's latest line ("phill: ... (link)") rather than
    to the start, so "no direct reply from another nick" marks answered conversations
    unanswered. The follow-ups are the asker's lines reachable from the start through
    links between the asker's own lines; the earliest reply by another nick (not a
    bot) to any of them is the first response.
    """
    rows: list[Truth] = []
    for path in irc_files(src_dir):
        lines = read_irc_log(path)
        annotation = path.with_name(path.name.replace(".ascii.txt", ".annotation.txt"))
        links = [
            tuple(int(x) for x in row.split()[:2])
            for row in annotation.read_text(encoding="utf-8").splitlines()
            if row.strip()
        ]
        children: dict[int, list[int]] = defaultdict(list)
        starts: set[int] = set()
        annotated: set[int] = set()
        for parent, child in links:
            annotated.add(child)
            if parent == child:
                starts.add(child)
            else:
                children[parent].append(child)
        last = max(annotated)
        for index in sorted(annotated):
            line = lines[index] if index < len(lines) else None
            if line is None or line.action:
                continue
            if index not in starts:
                rows.append(Truth(IRC_CHANNEL_ID, line.ts, line.user, False, None))
                continue
            first = None
            asked = {index}
            if follow_ups:
                pending = [index]
                while pending:
                    for child in children[pending.pop()]:
                        own = lines[child] if child < len(lines) else None
                        if (
                            own is not None
                            and own.nick.lower() == line.nick.lower()
                            and child not in asked
                        ):
                            asked.add(child)
                            pending.append(child)
            for child in sorted(c for parent in asked for c in children[parent]):
                reply = lines[child] if child < len(lines) else None
                if (
                    reply is not None
                    and reply.nick.lower() != line.nick.lower()
                    and reply.nick.lower() not in IRC_BOTS
                ):
                    first = reply
                    break
            rows.append(
                Truth(
                    IRC_CHANNEL_ID,
                    line.ts,
                    line.user,
                    True,
                    first is not None,
                    first.user if first else None,
                    first.ts if first else None,
                    censored=first is None and index > last - IRC_CENSOR_LINES,
                )
            )
    return rows


# ------------------------------------------------------------------ Clojurians


CLOJURIANS_TEAM = "T03RZGPFR"
# Message kinds a workspace export keeps as posts; the reader skips the others.
_CLJ_POSTS = frozenset({None, "file_share", "me_message", "bot_message", "thread_broadcast"})
# Fields of a live event that an export message does not have.
_EVENT_ONLY = ("event_ts", "channel", "hidden", "previous_message")


def clojurians_channels(src_dir: Path) -> dict[str, str]:
    """Channel id -> name from `channels.edn` (EDN, read with two regular expressions)."""
    text = (Path(src_dir) / "channels.edn").read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for block in text.split("#:channel{")[1:]:
        sid = re.search(r':slack-id\s+"([^"]+)"', block)
        name = re.search(r':name\s+"([^"]+)"', block)
        if sid and name:
            out[sid.group(1)] = name.group(1)
    return out


def clojurians_events(src_dir: Path) -> Iterator[dict[str, Any]]:
    """The raw events of the logs, file by file, line by line."""
    for path in sorted((Path(src_dir) / "logs").glob("*.txt")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


def _is_reply(event: dict[str, Any]) -> bool:
    thread_ts = event.get("thread_ts")
    return isinstance(thread_ts, str) and thread_ts != event.get("ts")


def clojurians_messages(src_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The messages a workspace export of these days would hold, keyed (channel, ts).

    As an export shows them: the final text of an edited message (the last
    `message_changed` wins, with its `edited` mark and subtype, e.g. a reply later
    broadcast), deleted messages gone, `message_replied` folded into the parent
    (`thread_ts`, `reply_count`, `replies`), housekeeping messages (joins, topics)
    kept with their subtype. Edits of messages posted before the logs begin are lost,
    as the original is not in the data.
    """
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for event in clojurians_events(src_dir):
        channel = event.get("channel")
        subtype = event.get("subtype")
        if event.get("type") != "message" or not isinstance(channel, str):
            continue
        if subtype == "message_changed":
            new = event.get("message") or {}
            key = (channel, str(new.get("ts")))
            if key in out:
                kept = {k: v for k, v in out[key].items() if k not in ("text", "subtype")}
                out[key] = {**kept, **{k: v for k, v in new.items() if k != "replies"}}
            continue
        if subtype == "message_deleted":
            out.pop((channel, str(event.get("deleted_ts"))), None)
            continue
        if subtype == "message_replied":
            parent = event.get("message") or {}
            key = (channel, str(parent.get("ts")))
            if key in out:
                for name in ("thread_ts", "reply_count", "replies"):
                    if name in parent:
                        out[key][name] = parent[name]
            continue
        message = {k: v for k, v in event.items() if k not in _EVENT_ONLY}
        if event.get("reply_broadcast") and _is_reply(event) and not subtype:
            message["subtype"] = "thread_broadcast"
        out[(channel, str(event.get("ts")))] = message
    return out


def clojurians_to_slack(src_dir: Path, out_dir: Path) -> WriteSummary:
    """The Clojurians events (1-9 Feb 2018) as a Slack workspace export.

    Channel names come from `channels.edn`; `users.json` is synthesised from the
    user ids seen, named by their ids (the data's real names stay out of it), bots
    being users seen posting with a `bot_id`. See
    `clojurians_messages` for how events become export messages.
    """
    began = time.perf_counter()
    summary = WriteSummary()
    names = clojurians_channels(src_dir)
    messages = clojurians_messages(src_dir)
    users: dict[str, bool] = {}
    for message in messages.values():
        user = message.get("user")
        if isinstance(user, str):
            users[user] = users.get(user, False) or bool(message.get("bot_id"))
    ordered = sorted(messages.items(), key=lambda kv: (kv[0][0], _ts_key(kv[0][1])))
    with SlackExportWriter(out_dir, team=CLOJURIANS_TEAM) as writer:
        for user, is_bot in sorted(users.items()):
            writer.add_user(user, user, is_bot=is_bot)
        for (channel, _), message in ordered:
            writer.add_channel(channel, names.get(channel, channel))
            writer.write(channel, message)
        summary.messages = writer.messages
        summary.channels = len(writer.channels)
        summary.users = len(writer.users)
    summary.day_files = writer.day_files
    summary.seconds = time.perf_counter() - began
    return summary


def _ts_key(ts: str) -> tuple[int, int]:
    sec, _, frac = ts.partition(".")
    return int(sec), int(frac.ljust(6, "0"))


def clojurians_truth(src_dir: Path) -> list[Truth]:
    """Ground truth from the native thread structure of the Clojurians events.

    A thread parent is a top-level message whose `ts` equals the `thread_ts` of some
    reply (as posted: a reply deleted later still answered the thread at the time).
    Its earliest reply from another user gives the responder and the exact time to
    first response; a parent whose replies are all the asker's own is unanswered.
    Rows: every top-level message by a person that the export still holds (a parent
    deleted afterwards is left out: the live bot would have dismissed it); thread
    parents are the conversation starts with `answered` True/False. Other top-level messages
    have `answered=None`: answers given in the channel rather than in a thread are
    not marked in the data, so "no thread" does not mean "unanswered".
    """
    replies, top = _clojurians_threads(src_dir)
    exported = clojurians_messages(src_dir)
    rows: list[Truth] = []
    for key in sorted(top, key=lambda k: (_ts_key(k[1]), k[0])):
        event = top[key]
        user = event.get("user")
        final = exported.get(key)
        if not isinstance(user, str) or event.get("bot_id") or final is None:
            continue
        if final.get("subtype") not in _CLJ_POSTS:
            continue  # deleted afterwards: the export holds only a tombstone
        if key not in replies:
            rows.append(Truth(key[0], key[1], user, False, None))
            continue
        first = next(
            (
                r
                for r in sorted(replies[key], key=lambda r: _ts_key(r["ts"]))
                if r.get("user") != user and not r.get("bot_id")
            ),
            None,
        )
        rows.append(
            Truth(
                key[0],
                key[1],
                user,
                True,
                first is not None,
                first.get("user") if first else None,
                first["ts"] if first else None,
            )
        )
    return rows


def clojurians_thread_counts(src_dir: Path) -> dict[str, int]:
    """Threads as posted (SOURCES.md's counts): all, parent in the logs, answered.

    Counted on the events as they arrived, before deletions: a parent deleted later
    (a spam message, tombstoned) still counts here, while `clojurians_truth` leaves
    it out because the export no longer holds it.
    """
    replies, top = _clojurians_threads(src_dir)
    parents = [key for key in replies if key in top]
    answered = sum(
        1
        for key in parents
        if any(r.get("user") != top[key].get("user") and not r.get("bot_id") for r in replies[key])
    )
    return {
        "threads": len(replies),
        "parents_in_logs": len(parents),
        "answered_in_thread": answered,
    }


def _clojurians_threads(
    src_dir: Path,
) -> tuple[dict[tuple[str, str], list[dict[str, Any]]], dict[tuple[str, str], dict[str, Any]]]:
    """Replies by (channel, thread_ts) and top-level posts by (channel, ts), as posted."""
    replies: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    top: dict[tuple[str, str], dict[str, Any]] = {}
    for event in clojurians_events(src_dir):
        if event.get("type") != "message" or event.get("subtype") not in _CLJ_POSTS:
            continue
        if _is_reply(event):
            replies[(event["channel"], event["thread_ts"])].append(event)
        else:
            top[(event["channel"], str(event.get("ts")))] = event
    return replies, top


# ------------------------------------------------------------------ CLI


def _print_summary(what: str, summary: WriteSummary, out: Path) -> None:
    peak = _peak_rss_mb()  # before sizing the folder, which has its own cost
    print(
        f"{what}: {summary.messages} messages, {summary.channels} channels, "
        f"{summary.users} users, {summary.day_files} day files, "
        f"{_folder_mb(out):.1f} MB on disk, in {summary.seconds:.2f} s "
        f"({summary.messages / max(summary.seconds, 1e-9):,.0f} messages/s); "
        f"peak RSS {peak:.0f} MB"
        + (f"; {summary.orphans} replies to forgotten roots" if summary.orphans else "")
    )


def _need(source: Path | None, what: str) -> Path:
    if source is None:
        print(f"{what} not found: set FRONTLINE_SHARED_DATA or provide ../shared/data")
        raise SystemExit(0)
    return source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    synth = sub.add_parser("synth", help="write a synthetic Slack export")
    synth.add_argument("--messages", type=int, default=100_000)
    synth.add_argument("--out", type=Path, required=True)
    synth.add_argument("--seed", type=int, default=7)
    synth.add_argument("--groups", type=int, default=10, help="communities (3 channels each)")
    for name in ("irc", "clojurians"):
        conv = sub.add_parser(name, help=f"convert the shared {name} data to a Slack export")
        conv.add_argument("--out", type=Path, required=True)
    truth = sub.add_parser("truth", help="write the ground truth as JSON lines")
    truth.add_argument("source", choices=("irc", "clojurians"))
    truth.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    out = getattr(args, "out", None)
    if args.command != "truth" and out is not None and out.exists() and any(out.iterdir()):
        # The writer appends to day files it finds: a second run would double the export.
        print(f"{out} is not empty: choose a new folder or remove it first", file=sys.stderr)
        return 2
    if args.command == "synth":
        events = synthetic_events(args.messages, seed=args.seed, groups=args.groups)
        summary = write_slack_export(args.out, events)
        _print_summary("synthetic export", summary, args.out)
    elif args.command == "irc":
        summary = irc_to_slack(_need(irc_source(), "IRC data"), args.out)
        _print_summary("IRC export", summary, args.out)
    elif args.command == "clojurians":
        summary = clojurians_to_slack(_need(clojurians_source(), "Clojurians data"), args.out)
        _print_summary("Clojurians export", summary, args.out)
    else:
        if args.source == "irc":
            rows = irc_truth(_need(irc_source(), "IRC data"))
        else:
            rows = clojurians_truth(_need(clojurians_source(), "Clojurians data"))
        starts = [r for r in rows if r.is_conversation_start]
        counts = Counter(str(r.answered) for r in starts)
        censored = sum(1 for r in starts if r.censored)
        sink = args.out.open("w", encoding="utf-8") if args.out else None
        try:
            for row in rows:
                if sink is not None:
                    sink.write(row.to_json() + "\n")
        finally:
            if sink is not None:
                sink.close()
        print(
            f"{args.source}: {len(rows)} rows, {len(starts)} conversation starts, "
            f"answered {counts['True']}, unanswered {counts['False']} "
            f"({censored} censored)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
