"""Every SQL statement Frontline runs: a synchronous `Repo` and the async `Store` around it.

The tracker's rules run as one synchronous unit of work per event (or per batch of
replayed events) on a database thread, inside one transaction: one hop between the
event loop and the database per unit instead of one per statement, which is what
makes replaying a million messages a matter of seconds. On SQLite aiosqlite's single
worker thread runs units one after another; on PostgreSQL they run side by side,
serializable and retried on conflict (backends.py), so they never interleave either.
The SQL is written once for both: `?` placeholders, ON CONFLICT, RETURNING.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Concatenate, ParamSpec, TypeVar

from bot.core.model import (
    ChannelRef,
    Escalation,
    EscalationState,
    Message,
    MessageRef,
    Question,
    QuestionState,
    ResponderRole,
    Stage,
)
from bot.storage.backends import Backend, Db, Row, open_backend


def to_ts(when: datetime | None) -> float | None:
    """A datetime as UTC epoch seconds for storage."""
    return None if when is None else when.timestamp()


def from_ts(value: float | None) -> datetime | None:
    """Stored epoch seconds back to an aware UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _must(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """What we keep of a message: who, when, where, and which thread it hangs from."""

    ref: MessageRef
    watched_channel: str
    author: str
    author_staff: bool
    posted_at: datetime
    root: MessageRef | None
    deleted: bool


class Added(Enum):
    """What `Repo.add_message` did with a message."""

    KNOWN = "known"  # stored before: a redelivery, nothing changed
    NEW = "new"
    # New, and reactions or deletes about it came before it (bot/storage/early.py).
    AWAITED = "awaited"


@dataclass(frozen=True, slots=True)
class NewQuestion:
    """The fields of a question at the moment it opens."""

    ref: MessageRef
    watched_channel: str
    asker: str
    asker_name: str
    text: str
    score: float
    reasons: tuple[str, ...]
    asked_at: datetime
    target_seconds: int
    calendar: str
    warn_at: datetime
    breach_at: datetime
    # The asker's earlier question this one carries on (then it opens dismissed).
    follows: int | None = None


# Columns a tracker may change with `update_question`; anything else is a programming error.
_UPDATABLE = frozenset(
    {
        "state",
        "stage",
        "breached",
        "due_at",
        "first_response_at",
        "first_responder",
        "first_response_id",
        "responder_role",
        "response_kind",
        "ttfr_seconds",
        "ttfr_business_seconds",
        "resolved_at",
        "resolved_by",
        "snoozed_until",
        "nudges",
        "nudge_round",
        "text",
        "score",
        "reasons",
    }
)

MAX_QUESTION_TEXT = 4000


# Questions are read with an explicit column list so a later migration that adds a
# column cannot silently shift what the positional unpacking below reads.
QUESTION_COLUMNS = (
    "id, platform, space, channel, message_id, watched_channel, asker, asker_name, text, "
    "score, reasons, asked_at, state, stage, breached, target_seconds, calendar, warn_at, "
    "breach_at, due_at, first_response_at, first_responder, first_response_id, "
    "responder_role, response_kind, "
    "ttfr_seconds, ttfr_business_seconds, resolved_at, resolved_by, snoozed_until, nudges, "
    "nudge_round"
)
_STATES = {s.value: s for s in QuestionState}
_STAGES = {s.value: s for s in Stage}
_ROLES = {r.value: r for r in ResponderRole}
# Positions in QUESTION_COLUMNS of what a query filters on before converting a row.
_COLUMN = {name.strip(): i for i, name in enumerate(QUESTION_COLUMNS.split(","))}
_ASKED_AT, _STATE, _FIRST_RESPONSE_AT = (
    _COLUMN["asked_at"],
    _COLUMN["state"],
    _COLUMN["first_response_at"],
)


def _prefixed(alias: str) -> str:
    """QUESTION_COLUMNS of the table named `alias` in a join."""
    return ", ".join(f"{alias}.{name}" for name in _COLUMN)


def _row_to_question(row: Sequence[Any]) -> Question:
    # Positional unpacking and dict lookups: this runs for every question read.
    (
        qid,
        platform,
        space,
        channel,
        message_id,
        watched_channel,
        asker,
        asker_name,
        text,
        score,
        reasons,
        asked_at,
        state,
        stage,
        breached,
        target_seconds,
        calendar,
        warn_at,
        breach_at,
        due_at,
        first_response_at,
        first_responder,
        first_response_id,
        responder_role,
        response_kind,
        ttfr_seconds,
        ttfr_business_seconds,
        resolved_at,
        resolved_by,
        snoozed_until,
        nudges,
        nudge_round,
    ) = row
    at = datetime.fromtimestamp
    return Question(
        id=qid,
        ref=MessageRef(platform, space, channel, message_id),
        watched_channel=watched_channel,
        asker=asker,
        asker_name=asker_name,
        text=text,
        score=score,
        reasons=_reasons_back(reasons),
        asked_at=at(asked_at, UTC),
        state=_STATES[state],
        stage=_STAGES[stage],
        breached=bool(breached),
        target_seconds=target_seconds,
        calendar=calendar,
        warn_at=at(warn_at, UTC),
        breach_at=at(breach_at, UTC),
        due_at=None if due_at is None else at(due_at, UTC),
        first_response_at=None if first_response_at is None else at(first_response_at, UTC),
        first_responder=first_responder,
        first_response_id=first_response_id,
        responder_role=_ROLES[responder_role] if responder_role else None,
        response_kind=response_kind,
        ttfr_seconds=ttfr_seconds,
        ttfr_business_seconds=ttfr_business_seconds,
        resolved_at=None if resolved_at is None else at(resolved_at, UTC),
        resolved_by=resolved_by,
        snoozed_until=None if snoozed_until is None else at(snoozed_until, UTC),
        nudges=nudges,
        nudge_round=nudge_round,
    )


# Columns whose values repeat across questions: ids, names, kinds.
_REPEATED = tuple(
    _COLUMN[name]
    for name in (
        "platform",
        "space",
        "channel",
        "watched_channel",
        "asker",
        "asker_name",
        "calendar",
        "first_responder",
        "response_kind",
        "resolved_by",
    )
)


def _shared_strings(row: Sequence[Any], shared: dict[str, str]) -> list[Any]:
    """`row` with its repeating strings replaced by one shared copy each."""
    values = list(row)
    for i in _REPEATED:
        value = values[i]
        if value is not None:
            values[i] = shared.setdefault(value, value)
    return values


def _same(value: Any) -> Any:
    return value


def _optional_role(value: Any) -> ResponderRole | None:
    return ResponderRole(value) if value else None


def _moment(value: Any) -> Any:
    return from_ts(value) if isinstance(value, float | int) else value


def _reason_list(value: Any) -> Any:
    return _reasons_back(value) if isinstance(value, str) else value


# Stored forms of the columns `update_question` accepts, turned into the model's types.
# A question's values in field order (`change` builds the next version from them).
_QUESTION_FIELDS = tuple(f.name for f in dataclass_fields(Question))
_QUESTION_FIELD = {name: index for index, name in enumerate(_QUESTION_FIELDS)}
_question_values = operator.attrgetter(*_QUESTION_FIELDS)


@functools.cache
def _update_sql(names: tuple[str, ...]) -> str:
    """The UPDATE of these columns of one question; only whitelisted names get in."""
    unknown = set(names) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    return f"UPDATE questions SET {', '.join(f'{name} = ?' for name in names)} WHERE id = ?"


_MODEL_VALUE: dict[str, Callable[[Any], Any]] = {
    "state": QuestionState,
    "stage": Stage,
    "breached": bool,
    "responder_role": _optional_role,
    "reasons": _reason_list,
    "due_at": _moment,
    "first_response_at": _moment,
    "resolved_at": _moment,
    "snoozed_until": _moment,
}


def _reasons(reasons: tuple[str, ...]) -> str:
    """Reasons are short phrases without line breaks: one per line is enough."""
    return "\n".join(r.replace("\n", " ") for r in reasons)


def _utc(when: datetime) -> datetime:
    """A datetime as it reads back from the store: in UTC."""
    return when if when.tzinfo is UTC else when.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def _reasons_back(text: str) -> tuple[str, ...]:
    # Reasons come from a small vocabulary of detector phrases: split each text once.
    return tuple(text.split("\n")) if text else ()


ESCALATION_COLUMNS = (
    "id, platform, space, channel, message_id, question_id, destination, dest_platform, "
    "dest_space, dest_channel, dest_message, author, author_name, excerpt, private_source, "
    "reason, state, opened_at, opened_by, opened_by_name, posted_at, acknowledged_at, "
    "acknowledged_by, resolved_at, resolved_by, resolution, original_deleted"
)
_ESCALATION_UPDATABLE = frozenset(
    {
        "dest_message",
        "state",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
        "resolved_by",
        "resolution",
        "original_deleted",
    }
)


def _row_to_escalation(row: Row) -> Escalation:
    (
        eid, platform, space, channel, message_id, question_id, destination, dest_platform,
        dest_space, dest_channel, dest_message, author, author_name, excerpt, private_source,
        reason, state, opened_at, opened_by, opened_by_name, posted_at, acknowledged_at,
        acknowledged_by, resolved_at, resolved_by, resolution, original_deleted,
    ) = row  # fmt: skip
    target = ChannelRef(dest_platform, dest_space, dest_channel)
    return Escalation(
        id=eid,
        original=MessageRef(platform, space, channel, message_id),
        question_id=question_id,
        destination=destination,
        target=target,
        post=MessageRef(dest_platform, dest_space, dest_channel, dest_message)
        if dest_message
        else None,
        author=author,
        author_name=author_name,
        excerpt=excerpt,
        private_source=bool(private_source),
        reason=reason,
        state=EscalationState(state),
        opened_at=_must(opened_at),
        opened_by=opened_by,
        opened_by_name=opened_by_name,
        posted_at=from_ts(posted_at),
        acknowledged_at=from_ts(acknowledged_at),
        acknowledged_by=acknowledged_by,
        resolved_at=from_ts(resolved_at),
        resolved_by=resolved_by,
        resolution=resolution,
        original_deleted=bool(original_deleted),
    )


_ROWID_OF = (
    "SELECT rowid FROM messages WHERE platform = ? AND space = ? AND channel = ? AND message_id = ?"
)
_ADD_MESSAGE = (
    "INSERT INTO messages (platform, space, channel, message_id, watched_channel, author, "
    "author_staff, posted_at, root_channel, root_id, mentions) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
# Reactions or deletes of a message kept until it arrives (bot/storage/early.py).
_AWAITED = (
    "SELECT 1 FROM early_events WHERE platform = ? AND space = ? AND channel = ? "
    "AND message_id = ? LIMIT 1"
)
_ADD_MESSAGE_RETURNING_AWAITED = f"{_ADD_MESSAGE} RETURNING EXISTS ({_AWAITED})"

P = ParamSpec("P")
T = TypeVar("T")


class Repo:
    """Typed SQL over one database connection; used only on the database thread.

    `conn` is sqlite3's connection or its PostgreSQL stand-in; `postgres` says which,
    for the few statements whose best form differs (locking, planner hints).
    """

    def __init__(self, conn: Db, *, postgres: bool = False) -> None:
        self.conn = conn
        self.postgres = postgres
        # History rows wait here and go in with one executemany at the end of the
        # unit of work (`flush`): nothing reads them back while the unit runs.
        self._log_rows: list[tuple[int, float, str, str | None, str | None]] = []
        # Every question read or written in this unit of work, by id, as it now is:
        # all changes go through this Repo, so a row read again is not converted again.
        self._questions: dict[int, Question] = {}
        # Run by `Store.write` once the unit's transaction has committed (never after a
        # rollback): in-memory follow-ups of what the unit stored, such as the outbox
        # rows this process just leased and will send next.
        self.on_commit: list[Callable[[], None]] = []
        # Whether any fact waits for its message (bot/storage/early.py), asked once per
        # unit of work: almost never true, and asking for each message would be one more
        # statement per message.
        self.facts_waiting: bool | None = None

    def _question(self, row: Sequence[Any]) -> Question:
        """The question of a row, converted once per unit of work."""
        question = self._questions.get(row[0])
        if question is None:
            question = self._questions[row[0]] = _row_to_question(row)
        return question

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self.conn.execute(sql, params).fetchone()
        return row

    # --- messages -------------------------------------------------------------

    def add_message(self, message: Message, root: MessageRef | None, author_staff: bool) -> Added:
        """Remember a message; KNOWN when it was already known (nothing changes then)."""
        ref = message.ref
        key = (ref.platform, ref.space, ref.channel, ref.message)
        values = (
            *key,
            message.config_channel,
            message.author.user,
            int(author_staff),
            message.posted_at.timestamp(),
            root.channel if root else None,
            root.message if root else None,
            # One id per line, read by bot/storage/early.py; NULL keeps most rows
            # out of the index of mentioning messages.
            "\n".join(message.mentions) if message.mentions else None,
        )
        if self.postgres:
            # Whether facts came early is asked in the same statement: one round trip.
            row = self._one(_ADD_MESSAGE_RETURNING_AWAITED, (*values, *key))
            if row is None:
                return Added.KNOWN
            return Added.AWAITED if row[0] else Added.NEW
        # SQLite has no round trips, and a second statement costs it less than RETURNING.
        if self.conn.execute(_ADD_MESSAGE, values).rowcount != 1:
            return Added.KNOWN
        if self.facts_waiting is None:
            self.facts_waiting = self._one("SELECT 1 FROM early_events LIMIT 1") is not None
        return Added.AWAITED if self.facts_waiting and self._one(_AWAITED, key) else Added.NEW

    def get_message(self, ref: MessageRef) -> StoredMessage | None:
        """A message we saw, or None."""
        row = self._one(
            "SELECT * FROM messages WHERE platform = ? AND space = ? AND channel = ? "
            "AND message_id = ?",
            (ref.platform, ref.space, ref.channel, ref.message),
        )
        if row is None:
            return None
        root = (
            MessageRef(ref.platform, ref.space, row["root_channel"], row["root_id"])
            if row["root_id"] is not None
            else None
        )
        return StoredMessage(
            ref,
            row["watched_channel"],
            row["author"],
            bool(row["author_staff"]),
            _must(row["posted_at"]),
            root,
            bool(row["deleted"]),
        )

    def mark_message_deleted(self, ref: MessageRef) -> bool:
        """Flag a message as deleted (kept, so a redelivered post cannot revive it).

        False when the message is not stored (yet).
        """
        cursor = self.conn.execute(
            "UPDATE messages SET deleted = 1 WHERE platform = ? AND space = ? AND channel = ? "
            "AND message_id = ?",
            (ref.platform, ref.space, ref.channel, ref.message),
        )
        return cursor.rowcount == 1

    def first_post_between(
        self,
        after: MessageRef,
        before: MessageRef,
        watched_channel: str,
        authors: Sequence[str],
        since: datetime,
        until: datetime,
    ) -> StoredMessage | None:
        """The first post by one of `authors` between two messages that asked nothing.

        Only top-level posts of `watched_channel` stored after `after` and before
        `before` and posted in [since, until] count, and none that opened a question
        or mentions anyone (it was addressed to them).
        Messages are stored as they arrive, so the rows between two messages are what was
        said in between: the scan covers that stretch of the table, never its whole.
        """
        if not authors:
            return None
        keys = (after.platform, after.space, after.channel, after.message)
        ends = (before.platform, before.space, before.channel, before.message)
        row = self._one(
            # NOT INDEXED keeps SQLite's planner on the rowid range (the stretch between
            # the two messages) instead of every message of the workspace. PostgreSQL
            # has no such hint and an index on its explicit rowid column.
            "SELECT m.channel, m.message_id, m.author, m.author_staff, m.posted_at "
            f"FROM messages AS m {'' if self.postgres else 'NOT INDEXED '}"
            f"WHERE m.rowid > ({_ROWID_OF}) AND m.rowid < ({_ROWID_OF}) "
            "AND m.platform = ? AND m.space = ? AND m.watched_channel = ? "
            f"AND m.author IN ({', '.join('?' * len(authors))}) "
            "AND m.root_id IS NULL AND m.mentions IS NULL AND m.deleted = 0 "
            "AND m.posted_at >= ? AND m.posted_at <= ? "
            "AND NOT EXISTS (SELECT 1 FROM questions q WHERE q.platform = m.platform "
            "AND q.space = m.space AND q.channel = m.channel AND q.message_id = m.message_id) "
            "ORDER BY m.posted_at LIMIT 1",
            (
                *keys,
                *ends,
                after.platform,
                after.space,
                watched_channel,
                *authors,
                since.timestamp(),
                until.timestamp(),
            ),
        )
        if row is None:
            return None
        channel, message_id, author, author_staff, posted_at = row
        return StoredMessage(
            MessageRef(after.platform, after.space, channel, message_id),
            watched_channel,
            author,
            bool(author_staff),
            _must(posted_at),
            None,
            False,
        )

    def last_seen(self, platform: str, space: str, channel: str) -> datetime | None:
        """When the newest stored message of a channel (or thread) was posted: backfill start."""
        row = self._one(
            "SELECT MAX(posted_at) FROM messages WHERE platform = ? AND space = ? AND channel = ?",
            (platform, space, channel),
        )
        return from_ts(row[0]) if row else None

    # --- questions ------------------------------------------------------------

    def insert_question(self, new: NewQuestion) -> Question | None:
        """Start tracking a question; None if that message is already tracked."""
        ref = new.ref
        text = new.text[:MAX_QUESTION_TEXT]
        reasons = _reasons(new.reasons)
        asked_at, warn_at, breach_at = _utc(new.asked_at), _utc(new.warn_at), _utc(new.breach_at)
        # A follow-up is never due: the question it carries on is the one swept.
        state = QuestionState.OPEN if new.follows is None else QuestionState.DISMISSED
        due_at = min(warn_at, breach_at) if new.follows is None else None
        inserted = self._one(
            "INSERT INTO questions (platform, space, channel, message_id, "
            "watched_channel, asker, asker_name, text, score, reasons, asked_at, state, "
            "target_seconds, calendar, warn_at, breach_at, due_at, follows) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING id",
            (
                ref.platform,
                ref.space,
                ref.channel,
                ref.message,
                new.watched_channel,
                new.asker,
                new.asker_name,
                text,
                new.score,
                reasons,
                new.asked_at.timestamp(),
                state.value,
                new.target_seconds,
                new.calendar,
                new.warn_at.timestamp(),
                new.breach_at.timestamp(),
                due_at.timestamp() if due_at else None,
                new.follows,
            ),
        )
        if inserted is None:
            return None
        # Built from what was written rather than read back: the same values, one
        # round trip fewer for every question.
        question_id: int = inserted[0]
        question = self._questions[question_id] = Question(
            id=question_id,
            ref=ref,
            watched_channel=new.watched_channel,
            asker=new.asker,
            asker_name=new.asker_name,
            text=text,
            score=new.score,
            reasons=_reasons_back(reasons),
            asked_at=asked_at,
            state=state,
            stage=Stage.WAITING,
            breached=False,
            target_seconds=new.target_seconds,
            calendar=new.calendar,
            warn_at=warn_at,
            breach_at=breach_at,
            due_at=due_at,
        )
        return question

    def question_by_ref(self, ref: MessageRef) -> Question | None:
        """The question asked by message `ref`, if tracked."""
        row = self._one(
            f"SELECT {QUESTION_COLUMNS} FROM questions "
            "WHERE platform = ? AND space = ? AND channel = ? AND message_id = ?",
            (ref.platform, ref.space, ref.channel, ref.message),
        )
        return self._question(row) if row else None

    def unanswered_question(self, ref: MessageRef) -> Question | None:
        """The question asked by `ref` while it can still get a first response.

        A follow-up counts (dismissed, but a response to it answers the question it
        carries on: `follows`).
        """
        row = self._one(
            f"SELECT {QUESTION_COLUMNS} FROM questions "
            "WHERE platform = ? AND space = ? AND channel = ? AND message_id = ? "
            "AND first_response_at IS NULL AND (state <> 'dismissed' OR follows IS NOT NULL)",
            (ref.platform, ref.space, ref.channel, ref.message),
        )
        return self._question(row) if row else None

    def carried_on(self, question: Question) -> Question | None:
        """The earlier question that `question` carries on, if it is a follow-up.

        Only a dismissed question can be one: the row is not read for any other.
        """
        if question.state != QuestionState.DISMISSED:
            return None
        row = self._one(
            f"SELECT {QUESTION_COLUMNS} FROM questions "
            "WHERE id = (SELECT follows FROM questions WHERE id = ?)",
            (question.id,),
        )
        return self._question(row) if row else None

    def question_asked_by(self, ref: MessageRef) -> Question | None:
        """The question message `ref` asked: for a follow-up, the one it carries on."""
        question = self.question_by_ref(ref)
        return (self.carried_on(question) or question) if question else None

    def follow_ups(self, start: datetime, end: datetime) -> list[tuple[Question, Question]]:
        """(follow-up, the question it carries on) for follow-ups asked in [start, end)."""
        rows = self._all(
            f"SELECT {_prefixed('f')}, {_prefixed('o')} FROM questions AS f "
            "JOIN questions AS o ON o.id = f.follows "
            "WHERE f.follows IS NOT NULL AND f.asked_at >= ? AND f.asked_at < ? "
            "ORDER BY f.asked_at, f.id",
            (start.timestamp(), end.timestamp()),
        )
        width = len(_COLUMN)
        return [(_row_to_question(r[:width]), _row_to_question(r[width:])) for r in rows]

    def question(self, question_id: int) -> Question | None:
        """A question by its id."""
        row = self._one(f"SELECT {QUESTION_COLUMNS} FROM questions WHERE id = ?", (question_id,))
        return self._question(row) if row else None

    def update_question(self, question_id: int, **fields: object) -> Question:
        """Change some columns of a question and return its new version.

        Values may be stored forms (a state's text, 1 for true) or the model's types.
        """
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        known = self._questions.get(question_id)
        if known is not None:
            # Read earlier in this unit: no need to read the row back.
            return self.change(
                known, **{name: _MODEL_VALUE.get(name, _same)(v) for name, v in fields.items()}
            )
        values = [
            v.timestamp() if isinstance(v, datetime) else _reasons(v) if isinstance(v, tuple) else v
            for v in fields.values()
        ]
        # Column names come from the whitelist above, never from input.
        assignments = ", ".join(f"{name} = ?" for name in fields)
        row = self._one(
            f"UPDATE questions SET {assignments} WHERE id = ? RETURNING " + QUESTION_COLUMNS,
            (*values, question_id),
        )
        if row is None:
            raise LookupError(f"question {question_id} vanished")
        question = self._questions[question_id] = _row_to_question(row)
        return question

    def change(self, question: Question, **fields: Any) -> Question:
        """Change some columns of `question` and return its new version.

        `question` was read or returned earlier in the same unit of work: the new version
        is derived from the one this unit holds instead of being read back. Values are
        the model's types (datetimes, enums, bools).
        """
        columns: list[object] = []
        # The version this unit last saw is the base, whichever copy the caller holds.
        base = self._questions.get(question.id, question)
        model = list(_question_values(base))
        for name, value in fields.items():
            columns.append(value)
            if isinstance(value, datetime):
                columns[-1], value = value.timestamp(), _utc(value)
            elif isinstance(value, tuple):
                columns[-1] = text = _reasons(value)
                value = _reasons_back(text)
            model[_QUESTION_FIELD[name]] = value
        cursor = self.conn.execute(_update_sql(tuple(fields)), (*columns, question.id))
        if cursor.rowcount != 1:
            raise LookupError(f"question {question.id} vanished")
        new = self._questions[question.id] = Question(*model)
        return new

    def asked_by(
        self,
        platform: str,
        space: str,
        watched_channel: str,
        asker: str,
        since: datetime,
        until: datetime,
    ) -> list[Question]:
        """Questions `asker` asked in a channel within a time window, oldest first."""
        rows = self._all(
            f"SELECT {QUESTION_COLUMNS} FROM questions "
            "WHERE platform = ? AND space = ? AND watched_channel = ? "
            "AND asker = ? AND asked_at >= ? AND asked_at <= ? ORDER BY asked_at",
            (platform, space, watched_channel, asker, since.timestamp(), until.timestamp()),
        )
        return [self._question(r) for r in rows]

    def mention_targets(
        self,
        platform: str,
        space: str,
        watched_channel: str,
        asker: str,
        since: datetime,
        window_start: datetime,
        until: datetime,
    ) -> tuple[bool, list[Question]]:
        """Whether `asker` asked here since `since`, and what of it can still be answered.

        The questions are those asked since `window_start` that still wait for a first
        response, oldest first.
        """
        rows = self._all(
            f"SELECT {QUESTION_COLUMNS}, follows FROM questions "
            "WHERE platform = ? AND space = ? AND watched_channel = ? "
            "AND asker = ? AND asked_at >= ? AND asked_at <= ? ORDER BY asked_at",
            (platform, space, watched_channel, asker, since.timestamp(), until.timestamp()),
        )
        start = window_start.timestamp()
        # Only the rows that can still be answered are turned into questions; a
        # follow-up can (a response to it answers the question it carries on).
        return bool(rows), [
            self._question(r[:-1])
            for r in rows
            if r[_ASKED_AT] >= start
            and r[_FIRST_RESPONSE_AT] is None
            and (r[_STATE] != QuestionState.DISMISSED or r[-1] is not None)
        ]

    def due(self, now: datetime, limit: int) -> list[Question]:
        """Questions whose next deadline has come, oldest deadline first.

        On PostgreSQL the rows stay locked until the unit commits, and rows another
        replica's sweep holds are skipped: no question is decided twice.
        """
        rows = self._all(
            f"SELECT {QUESTION_COLUMNS} FROM questions WHERE due_at IS NOT NULL AND due_at <= ? "
            f"ORDER BY due_at LIMIT ?{' FOR UPDATE SKIP LOCKED' if self.postgres else ''}",
            (now.timestamp(), limit),
        )
        return [self._question(r) for r in rows]

    def pause_space(self, platform: str, space: str, at: datetime, reason: str) -> int:
        """Stop the sweep for a workspace's waiting questions; how many there were.

        For a workspace that uninstalled the bot: its warnings and nudges could not be
        posted anywhere. The questions stay as they are, as history, with `reason` in it.
        """
        rows = self._all(
            "UPDATE questions SET due_at = NULL "
            "WHERE platform = ? AND space = ? AND due_at IS NOT NULL RETURNING id",
            (platform, space),
        )
        for (question_id,) in rows:
            self._questions.pop(question_id, None)  # the copy this unit holds is stale now
            self.log(question_id, at, "paused", None, reason)
        return len(rows)

    def resume_space(self, platform: str, space: str, at: datetime, reason: str) -> int:
        """Sweep again the questions `pause_space` stopped; how many.

        For a workspace that installed the bot again: its questions still waiting, whose
        history ends with "paused", are due at their next deadline (a deadline passed
        meanwhile is caught up by the next sweep, once).
        """
        self.flush()  # the history below must hold what this unit logged
        rows = self._all(
            f"SELECT {QUESTION_COLUMNS} FROM questions AS q "
            "WHERE platform = ? AND space = ? AND due_at IS NULL "
            "AND first_response_at IS NULL AND state IN ('open', 'snoozed') "
            # The entry logged last (by the order stored: the clocks of an uninstall
            # event and of a message may disagree by a little).
            "AND (SELECT l.kind FROM question_log AS l WHERE l.question_id = q.id "
            "ORDER BY l.rowid DESC LIMIT 1) = 'paused'",
            (platform, space),
        )
        resumed = 0
        for row in rows:
            question = self._question(row)
            due = question.next_due()
            if due is not None:
                self.change(question, due_at=due)
                self.log(question.id, at, "resumed", None, reason)
                resumed += 1
        return resumed

    def next_due_at(self) -> datetime | None:
        """When the sweep next has something to do."""
        row = self._one("SELECT MIN(due_at) FROM questions WHERE due_at IS NOT NULL")
        return from_ts(row[0]) if row else None

    def log(
        self,
        question_id: int,
        at: datetime,
        kind: str,
        actor: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Append to a question's history (stored by `flush`, at the latest when the unit ends)."""
        self._log_rows.append((question_id, at.timestamp(), kind, actor, detail))

    def count_nudges(self, question_ids: Sequence[int], at: datetime, where: str) -> None:
        """One more nudge sent for each question, to `where`: counted in SQL, not read first."""
        self.conn.executemany(
            "UPDATE questions SET nudges = nudges + 1 WHERE id = ?", [(i,) for i in question_ids]
        )
        for question_id in question_ids:
            self._questions.pop(question_id, None)  # the copy this unit holds is stale now
            self.log(question_id, at, "nudged", None, where)

    def flush(self) -> None:
        """Store the history rows appended so far."""
        if self._log_rows:
            self.conn.executemany(
                "INSERT INTO question_log (question_id, at, kind, actor, detail) "
                "VALUES (?, ?, ?, ?, ?)",
                self._log_rows,
            )
            self._log_rows.clear()

    def history(self, question_id: int) -> list[tuple[datetime, str, str | None, str | None]]:
        """A question's history, oldest first."""
        self.flush()
        rows = self._all(
            "SELECT at, kind, actor, detail FROM question_log WHERE question_id = ? "
            "ORDER BY at, rowid",
            (question_id,),
        )
        return [(_must(r[0]), r[1], r[2], r[3]) for r in rows]

    def asked_between(
        self,
        start: datetime,
        end: datetime,
        channels: Iterable[str] | None = None,
        *,
        after: Question | None = None,
        limit: int | None = None,
    ) -> list[Question]:
        """Questions asked in [start, end), dismissed ones left out, oldest first.

        `limit` reads a page at a time: the next page starts `after` the last question
        of the one before.
        """
        sql = (
            f"SELECT {QUESTION_COLUMNS} FROM questions "
            "WHERE asked_at >= ? AND asked_at < ? AND state <> 'dismissed'"
        )
        params: list[Any] = [start.timestamp(), end.timestamp()]
        wanted = list(channels or ())
        if wanted:
            sql += f" AND watched_channel IN ({', '.join('?' * len(wanted))})"
            params += wanted
        if after is not None:
            sql += " AND (asked_at > ? OR (asked_at = ? AND id > ?))"
            params += [after.asked_at.timestamp(), after.asked_at.timestamp(), after.id]
        sql += " ORDER BY asked_at, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        # Row by row, sharing the strings that repeat from row to row (channel, asker,
        # calendar...): a replay reads every question at the end, and this list is then
        # the largest thing it holds.
        shared: dict[str, str] = {}
        return [
            _row_to_question(_shared_strings(r, shared)) for r in self.conn.execute(sql, params)
        ]

    @staticmethod
    def _waiting_where(
        channel: str | None, channels: Sequence[str] | None
    ) -> tuple[str, list[Any]]:
        sql = "WHERE first_response_at IS NULL AND state IN ('open', 'snoozed')"
        wanted = [channel] if channel else list(channels or ())
        if channel is None and channels is not None and not wanted:
            return sql + " AND 1 = 0", []
        if wanted:
            sql += f" AND watched_channel IN ({', '.join('?' * len(wanted))})"
        return sql, wanted

    def waiting(
        self, limit: int, channel: str | None = None, *, channels: Sequence[str] | None = None
    ) -> list[Question]:
        """Questions still without any response, longest waiting first."""
        where, params = self._waiting_where(channel, channels)
        rows = self._all(
            f"SELECT {QUESTION_COLUMNS} FROM questions {where} ORDER BY asked_at LIMIT ?",
            [*params, limit],
        )
        return [_row_to_question(r) for r in rows]

    def count_waiting(
        self, channel: str | None = None, *, channels: Sequence[str] | None = None
    ) -> int:
        """How many questions still wait for a response."""
        where, params = self._waiting_where(channel, channels)
        row = self._one(f"SELECT COUNT(*) FROM questions {where}", params)
        return int(row[0]) if row else 0

    # --- summaries --------------------------------------------------------------

    def claim_summary(
        self, summary: str, kind: str, period_start: datetime, now: datetime, stale_after: float
    ) -> bool:
        """Take the right to send one summary; False if it was sent or is being sent.

        A claim older than `stale_after` seconds without a send is taken over: the
        process that made it died between claiming and posting.
        """
        # One statement, so two replicas claiming at once cannot both win: the second
        # insert meets the first's row (waiting for its commit on PostgreSQL) and takes
        # it over only if that claim is stale and unsent.
        row = self._one(
            "INSERT INTO summaries_sent (summary, kind, period_start, claimed_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (summary, kind, period_start) DO UPDATE "
            "SET claimed_at = excluded.claimed_at WHERE summaries_sent.sent_at IS NULL "
            "AND excluded.claimed_at - summaries_sent.claimed_at >= ? RETURNING claimed_at",
            (summary, kind, period_start.timestamp(), now.timestamp(), stale_after),
        )
        return row is not None

    def finish_summary(
        self, summary: str, kind: str, period_start: datetime, sent_at: datetime | None
    ) -> None:
        """Mark a claimed summary sent, or (sent_at None) give the claim back for a retry."""
        if sent_at is None:
            self._all(
                "DELETE FROM summaries_sent WHERE summary = ? AND kind = ? AND period_start = ? "
                "AND sent_at IS NULL",
                (summary, kind, period_start.timestamp()),
            )
            return
        self._all(
            "UPDATE summaries_sent SET sent_at = ? "
            "WHERE summary = ? AND kind = ? AND period_start = ?",
            (sent_at.timestamp(), summary, kind, period_start.timestamp()),
        )

    # --- escalations -------------------------------------------------------------

    def insert_escalation(self, new: Escalation) -> Escalation | None:
        """Record a new escalation; None if that message was escalated already."""
        o, t = new.original, new.target
        row = self._one(
            "INSERT INTO escalations (platform, space, channel, message_id, "
            "question_id, destination, dest_platform, dest_space, dest_channel, author, "
            "author_name, excerpt, private_source, reason, state, opened_at, opened_by, "
            "opened_by_name, posted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?) "
            f"ON CONFLICT DO NOTHING RETURNING {ESCALATION_COLUMNS}",
            (
                o.platform, o.space, o.channel, o.message, new.question_id, new.destination,
                t.platform, t.space, t.channel, new.author, new.author_name, new.excerpt,
                int(new.private_source), new.reason, new.opened_at.timestamp(), new.opened_by,
                new.opened_by_name, to_ts(new.posted_at),
            ),
        )  # fmt: skip
        if row is None:
            return None
        escalation = _row_to_escalation(row)
        self.log_escalation(escalation.id, new.opened_at, "opened", new.opened_by, new.reason)
        return escalation

    def escalation_by_original(self, ref: MessageRef) -> Escalation | None:
        """The escalation of a message, if it was escalated."""
        row = self._one(
            f"SELECT {ESCALATION_COLUMNS} FROM escalations "
            "WHERE platform = ? AND space = ? AND channel = ? AND message_id = ?",
            (ref.platform, ref.space, ref.channel, ref.message),
        )
        return _row_to_escalation(row) if row else None

    def escalation(self, escalation_id: int) -> Escalation | None:
        """An escalation by id."""
        row = self._one(
            f"SELECT {ESCALATION_COLUMNS} FROM escalations WHERE id = ?", (escalation_id,)
        )
        return _row_to_escalation(row) if row else None

    def update_escalation(self, escalation_id: int, **fields: object) -> Escalation:
        """Change some columns of an escalation and return its new version."""
        unknown = set(fields) - _ESCALATION_UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        values = [v.timestamp() if isinstance(v, datetime) else v for v in fields.values()]
        # Column names come from the whitelist above, never from input.
        assignments = ", ".join(f"{name} = ?" for name in fields)
        row = self._one(
            f"UPDATE escalations SET {assignments} WHERE id = ? RETURNING {ESCALATION_COLUMNS}",
            (*values, escalation_id),
        )
        if row is None:
            raise LookupError(f"escalation {escalation_id} vanished")
        return _row_to_escalation(row)

    def log_escalation(
        self, escalation_id: int, at: datetime, kind: str, actor: str | None, detail: str | None
    ) -> None:
        """Append to an escalation's history."""
        self._all(
            "INSERT INTO escalation_log (escalation_id, at, kind, actor, detail) "
            "VALUES (?, ?, ?, ?, ?)",
            (escalation_id, at.timestamp(), kind, actor, detail),
        )

    def escalation_history(self, escalation_id: int) -> list[tuple[datetime, str, str | None]]:
        """An escalation's history: when, what, who."""
        rows = self._all(
            "SELECT at, kind, actor FROM escalation_log WHERE escalation_id = ? ORDER BY at, rowid",
            (escalation_id,),
        )
        return [(_must(r[0]), r[1], r[2]) for r in rows]

    def unposted_escalations(
        self, before: datetime, queued_as: str, limit: int = 20
    ) -> list[Escalation]:
        """Open escalations whose post was refused, oldest first.

        Those already in the outbox (under the key `queued_as` + id) are left out.
        """
        rows = self._all(
            f"SELECT {ESCALATION_COLUMNS} FROM escalations WHERE dest_message IS NULL "
            "AND state <> 'resolved' AND opened_at < ? AND NOT EXISTS (SELECT 1 FROM outbox "
            "WHERE send_key = CAST(? AS TEXT) || escalations.id) ORDER BY opened_at LIMIT ?",
            (before.timestamp(), queued_as, limit),
        )
        return [_row_to_escalation(r) for r in rows]

    def escalations_between(self, start: datetime, end: datetime) -> list[Escalation]:
        """Escalations opened in [start, end), oldest first."""
        rows = self._all(
            f"SELECT {ESCALATION_COLUMNS} FROM escalations WHERE opened_at >= ? AND opened_at < ? "
            "ORDER BY opened_at",
            (start.timestamp(), end.timestamp()),
        )
        return [_row_to_escalation(r) for r in rows]


class Store:
    """The async face of the database: units of work and reads run on a database thread."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._postgres = backend.dialect == "postgresql"
        self._deferred: list[Callable[[Repo], object]] | None = None

    @classmethod
    async def open(cls, database: str) -> Store:
        """Connect, apply pending migrations and return a ready store.

        `database` is a file path, `sqlite:///path`, or `postgresql://...`.
        """
        return cls(await open_backend(database))

    @property
    def migrations_applied(self) -> list[int]:
        """The migration versions `open` applied."""
        return self.backend.applied

    @property
    def schema_version(self) -> int:
        """The schema version of the database."""
        return self.backend.version

    async def close(self) -> None:
        """Close the connection after the units already queued."""
        await self.backend.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def write(
        self, fn: Callable[Concatenate[Repo, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(repo, ...)` as one transaction: all of it is stored, or none of it.

        On PostgreSQL `fn` runs again when the transaction conflicted with a concurrent
        one, so it acts on nothing but `repo` (what must follow the commit goes in
        `repo.on_commit`, which runs once, after the commit that counted).
        """
        return await self._transaction(self.backend.begin, fn, *args, **kwargs)

    async def write_locked(
        self, fn: Callable[Concatenate[Repo, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`write` for a unit that changes only rows it locks itself, and keyed inserts.

        That is the sweep (`Repo.due` reads with FOR UPDATE SKIP LOCKED): it runs READ
        COMMITTED on PostgreSQL, so the sweeps of several replicas run side by side
        instead of aborting each other.
        """
        return await self._transaction(self.backend.begin_locked, fn, *args, **kwargs)

    async def _transaction(
        self, begin: str, fn: Callable[Concatenate[Repo, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        def unit(raw: Db) -> T:
            raw.execute(begin)
            try:
                repo = Repo(raw, postgres=self._postgres)
                result = fn(repo, *args, **kwargs)
                repo.flush()
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")
            for follow_up in repo.on_commit:
                follow_up()
            return result

        # On PostgreSQL a unit that conflicted with a concurrent one runs again.
        return await self.backend.run(unit, write=True)

    async def record(
        self, fn: Callable[Concatenate[Repo, P], object], *args: P.args, **kwargs: P.kwargs
    ) -> None:
        """Write something nobody waits to read back (a count, a log line).

        Inside `batched()` it joins the batch's single transaction at the end; otherwise
        it is written at once. Replay hands thousands of nudges to the handlers, and one
        hop to the database thread per nudge would cost more than the replay itself.
        """
        if self._deferred is not None:
            self._deferred.append(lambda repo: fn(repo, *args, **kwargs))
            return
        await self.write(fn, *args, **kwargs)

    @asynccontextmanager
    async def batched(self) -> AsyncIterator[None]:
        """Collect `record()` writes made inside and store them in one transaction."""
        if self._deferred is not None:  # already batching: the outer block flushes
            yield
            return
        self._deferred = []
        try:
            yield
        finally:
            pending, self._deferred = self._deferred, None
            if pending:

                def flush(repo: Repo) -> None:
                    for write in pending:
                        write(repo)

                await self.write(flush)

    async def read(
        self, fn: Callable[Concatenate[Repo, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run the read-only `fn(repo, ...)` on the database thread."""

        def unit(raw: Db) -> T:
            repo = Repo(raw, postgres=self._postgres)
            result = fn(repo, *args, **kwargs)
            repo.flush()  # a history row written here anyway is not lost
            return result

        return await self.backend.run(unit)

    # Reads that handlers and adapters use often.

    async def follow_ups(self, start: datetime, end: datetime) -> list[tuple[Question, Question]]:
        """(follow-up, the question it carries on) for follow-ups asked in [start, end)."""
        return await self.read(Repo.follow_ups, start, end)

    async def question_by_ref(self, ref: MessageRef) -> Question | None:
        """The question asked by message `ref`, if tracked."""
        return await self.read(Repo.question_by_ref, ref)

    async def question_asked_by(self, ref: MessageRef) -> Question | None:
        """The question message `ref` asked: for a follow-up, the one it carries on."""
        return await self.read(Repo.question_asked_by, ref)

    async def get_message(self, ref: MessageRef) -> StoredMessage | None:
        """A message we saw, or None."""
        return await self.read(Repo.get_message, ref)

    async def last_seen(self, platform: str, space: str, channel: str) -> datetime | None:
        """When the newest stored message of a channel was posted: where backfill starts."""
        return await self.read(Repo.last_seen, platform, space, channel)

    async def waiting(
        self, limit: int, channel: str | None = None, *, channels: Sequence[str] | None = None
    ) -> list[Question]:
        """Questions still without any response, longest waiting first."""
        return await self.read(Repo.waiting, limit, channel, channels=channels)

    async def count_waiting(
        self, channel: str | None = None, *, channels: Sequence[str] | None = None
    ) -> int:
        """How many questions still wait for a response."""
        return await self.read(Repo.count_waiting, channel, channels=channels)

    async def asked_between(
        self,
        start: datetime,
        end: datetime,
        channels: Iterable[str] | None = None,
        *,
        after: Question | None = None,
        limit: int | None = None,
    ) -> list[Question]:
        """Questions asked in [start, end), dismissed ones left out (a page: `Repo`)."""
        return await self.read(Repo.asked_between, start, end, channels, after=after, limit=limit)

    async def next_due_at(self) -> datetime | None:
        """When the sweep next has something to do."""
        return await self.read(Repo.next_due_at)

    async def history(self, question_id: int) -> list[tuple[datetime, str, str | None, str | None]]:
        """A question's history, oldest first."""
        return await self.read(Repo.history, question_id)
