"""What every export reader shares: problems, the reader shape, filters and time ordering.

A reader turns a platform export (a Slack workspace export, DiscordChatExporter JSON)
into core `Message`s in time order, so a replay makes the decisions the live bot
would have made. Readers stream: each channel is read lazily and the channels are
merged by time, so memory depends on the number of channels, not on the export's size.
Bad data never raises: it becomes an `ImportProblem` with the file and the position,
and the reader carries on with the rest.
"""

from __future__ import annotations

import heapq
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

from bot.core.model import Message


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """Something in an export that could not be read, and where it is.

    `source` is the file (relative to the export, or a zip member name), `position`
    says where inside it ("line 3, column 7", "message 12", "top level").
    """

    source: str
    position: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.position}: {self.message}"


class ConversationSize(NamedTuple):
    """How much of an export one conversation takes: what splits a replay into parts.

    `id` is what the channel filter selects (a channel, or a thread); `watched` is the
    channel its questions belong to (a thread's parent), which must stay in one part.
    """

    id: str
    watched: str
    bytes: int


@runtime_checkable
class ExportReader(Protocol):
    """The shape of every export reader (`SlackExportReader`, `DiscordExportReader`)."""

    @property
    def platform(self) -> str:
        """The platform the messages belong to: "slack" or "discord"."""
        ...

    @property
    def space(self) -> str:
        """The team or guild id, or "export" when the export does not say."""
        ...

    @property
    def channel_names(self) -> dict[str, str]:
        """Channel id -> name for every channel (and thread) in the export."""
        ...

    @property
    def problems(self) -> list[ImportProblem]:
        """What could not be read so far, with file and position."""
        ...

    def messages(self) -> Iterator[Message]:
        """Every kept message, in non-decreasing `posted_at` order across channels."""
        ...

    def user_is_bot(self, user_id: str) -> bool:
        """True when the export says this user is a bot or an integration."""
        ...

    def user_name(self, user_id: str) -> str:
        """The user's display name, or the id when the export does not say."""
        ...

    def is_private(self, channel_id: str) -> bool:
        """True for private channels, group DMs, DMs and private threads."""
        ...

    def sizes(self) -> list[ConversationSize]:
        """The bytes of each selected conversation's files, without reading them."""
        ...


def describe(value: object) -> str:
    """What kind of JSON value this is, for problem messages ("an object", "a number")."""
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return kinds.get(type(value), "null" if value is None else "a number")


class ReaderBase(ABC):
    """What every reader does with its arguments: check the path, normalise the filters.

    `channels` keeps conversations whose id or name is listed; `since` (inclusive) and
    `until` (exclusive) bound `posted_at` (naive datetimes are UTC).
    """

    def __init__(
        self,
        path: Path,
        *,
        channels: Collection[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> None:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no such export: {path}")
        self.path = path
        self.since = as_utc(since)
        self.until = as_utc(until)
        self._selected = channel_filter(channels)
        self.problems: list[ImportProblem] = []
        # Why each skipped message was skipped ("subtype channel_join", "hidden"...).
        self.skipped: Counter[str] = Counter()
        self._open()

    @abstractmethod
    def _open(self) -> None:
        """Read the export's index (channels, users, files); each reader has its own."""


def as_utc(moment: datetime | None) -> datetime | None:
    """A filter bound in UTC; a naive datetime is taken to be UTC already."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def channel_filter(channels: Collection[str] | None) -> frozenset[str] | None:
    """The wanted channel ids and names; a leading '#' on a name is ignored."""
    if channels is None:
        return None
    return frozenset(c.strip().removeprefix("#") for c in channels if c.strip())


def wanted(selected: frozenset[str] | None, *keys: str) -> bool:
    """True when no filter is set or any of `keys` (ids, names) is selected."""
    return selected is None or any(k in selected for k in keys if k)


def in_range(posted_at: datetime, since: datetime | None, until: datetime | None) -> bool:
    """`since` is inclusive, `until` exclusive, so consecutive ranges never overlap."""
    return (since is None or posted_at >= since) and (until is None or posted_at < until)


# A stream item: the message, the file it came from and where in that file.
Located = tuple[Message, str, str]


def ordered(items: Iterable[Located], problems: list[ImportProblem]) -> Iterator[Message]:
    """One channel's messages, checked to be in time order, holding nothing back.

    Exports are in time order (Slack day files are sorted as they are read; Discord
    ids grow with time), so a message earlier than the one before it is damage: it
    is reported and skipped, because yielding it would break the merge across
    channels and holding messages back to re-sort them would cost memory on every
    channel of every export.
    """
    last: datetime | None = None
    for message, source, position in items:
        if last is not None and message.posted_at < last:
            problems.append(
                ImportProblem(
                    source,
                    position,
                    f"message {message.ref.message} is earlier than the one before it "
                    "(the file is not in time order); skipped",
                )
            )
            continue
        last = message.posted_at
        yield message


def _posted_at(message: Message) -> datetime:
    return message.posted_at


def merge_by_time(streams: Iterable[Iterator[Message]]) -> Iterator[Message]:
    """Merge per-channel streams (each already in time order) into one, by `posted_at`.

    Ties keep the order of the streams, so the result is deterministic.
    """
    return heapq.merge(*streams, key=_posted_at)
