"""What arrived before its message: reactions and deletes, and answers stored before a question.

Platforms deliver at least once and not always in order: a reaction or a delete can come
before the message it is about (a retried message event, a reconnect, a backfill). The
tracker keeps such a fact here, keyed on the platform's ids, and takes it back once when
the message is stored, to apply it as if it had come in order. Facts whose message never
comes (reactions on the bot's own posts, deletes in channels nobody watches) are dropped
by age whenever a new one is kept, so the table holds at most a week's worth (`KEPT`).
Thread replies and "@asker" posts are stored messages already: a question that opens
looks them up here (`stored_before`).

Functions take the unit of work's `Repo`, like every other piece of SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.core.model import MessageRef
from bot.storage.repos import Repo, StoredMessage, from_ts

# A backfill fetches messages posted within the last week at most (the Discord adapter's
# BACKFILL_WINDOW), and nothing happens to a message before it is posted: when a message
# arrives, every fact about it is less than a week old, so dropping older facts never
# changes what a message that can still arrive finds.
KEPT = timedelta(days=7)

FactKind = Literal["deleted", "reacted", "unreacted"]


@dataclass(frozen=True, slots=True)
class EarlyFact:
    """Something that happened to a message before the bot had it.

    `actor` reacted with `emoji` (empty for a delete); `on_reply` marks a reaction given
    on a reply in the message's thread rather than on the message itself.
    """

    kind: FactKind
    at: datetime
    actor: str = ""
    actor_staff: bool = False
    emoji: str = ""
    on_reply: bool = False


def remember(repo: Repo, ref: MessageRef, fact: EarlyFact) -> None:
    """Keep `fact` about the message `ref` until it arrives; the same fact twice is one."""
    at = fact.at.timestamp()
    repo.facts_waiting = True
    # Cleaning here rather than in the sweep: the table only grows by this insert.
    repo._all("DELETE FROM early_events WHERE at < ?", (at - KEPT.total_seconds(),))
    repo._all(
        "INSERT INTO early_events (platform, space, channel, message_id, kind, actor, "
        "actor_staff, emoji, on_reply, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (
            ref.platform,
            ref.space,
            ref.channel,
            ref.message,
            fact.kind,
            fact.actor,
            int(fact.actor_staff),
            fact.emoji,
            int(fact.on_reply),
            at,
        ),
    )


def take(repo: Repo, ref: MessageRef) -> list[EarlyFact]:
    """The facts kept about `ref`, oldest first, removed: they are handed out once.

    Asked only for a message `Repo.add_message` found awaited.
    """
    rows = repo._all(
        "DELETE FROM early_events WHERE platform = ? AND space = ? AND channel = ? "
        "AND message_id = ? RETURNING kind, at, actor, actor_staff, emoji, on_reply",
        (ref.platform, ref.space, ref.channel, ref.message),
    )
    facts = [
        EarlyFact(kind, _at(at), actor, bool(staff), emoji, bool(on_reply))
        for kind, at, actor, staff, emoji, on_reply in rows
    ]
    # A delete sorts before a reaction of the same moment: a message already gone
    # cannot be answered.
    facts.sort(key=lambda f: (f.at, f.kind != "deleted"))
    return facts


@dataclass(frozen=True, slots=True)
class StoredBefore:
    """What was stored before a question arrived that may concern it.

    `reply`: its earliest thread reply by someone else; `mentions`: the top-level posts
    of its channel by others that mention the asker, oldest first.
    """

    reply: StoredMessage | None
    mentions: Sequence[StoredMessage]


NOTHING_STORED = StoredBefore(None, ())


def stored_before(
    repo: Repo,
    question: MessageRef,
    watched_channel: str,
    asker: str,
    since: datetime,
    mentions_until: datetime,
) -> StoredBefore:
    """Replies to a question posted since `since`, and mentions of its asker up to a time.

    Asked once for each question that opens, in one statement (one round trip on
    PostgreSQL): in an in-order delivery it finds nothing. Deleted messages count: in
    order they would have answered before they were deleted.
    """
    p, space = question.platform, question.space
    rows = repo._all(
        "SELECT * FROM (SELECT 0 AS mention, channel, message_id, author, author_staff, "
        "posted_at, deleted, NULL AS mentions FROM messages WHERE platform = ? AND space = ? "
        "AND root_channel = ? AND root_id = ? AND author <> ? AND posted_at >= ? "
        "ORDER BY posted_at LIMIT 1) AS reply "
        "UNION ALL "
        "SELECT 1, channel, message_id, author, author_staff, posted_at, deleted, mentions "
        "FROM messages WHERE platform = ? AND space = ? AND watched_channel = ? "
        "AND mentions IS NOT NULL AND posted_at >= ? AND posted_at <= ? "
        "AND root_id IS NULL AND author <> ?",
        (
            *(p, space, question.channel, question.message, asker, since.timestamp()),
            *(p, space, watched_channel, since.timestamp(), mentions_until.timestamp(), asker),
        ),
    )
    reply: StoredMessage | None = None
    mentions: list[StoredMessage] = []
    for mention, channel, message_id, author, staff, posted_at, deleted, mentioned in rows:
        stored = StoredMessage(
            MessageRef(p, space, channel, message_id),
            watched_channel,
            author,
            bool(staff),
            _at(posted_at),
            None if mention else question,
            bool(deleted),
        )
        if not mention:
            reply = stored
        elif asker in mentioned.split("\n"):
            mentions.append(stored)
    mentions.sort(key=lambda m: m.posted_at)
    return StoredBefore(reply, mentions)


def _at(value: float) -> datetime:
    at = from_ts(value)
    assert at is not None
    return at
