"""The outbox table's SQL: sends recorded with their decision, leased, then marked done.

Rows are written inside the unit of work that decided them (a sweep, a summary claim),
already leased to the process that will send them, so the send needs no extra round
trip; a row whose lease ran out (its process died) is claimed again by anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.storage.repos import Repo, from_ts


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One recorded send as stored: what, to whom (in `payload`), and how far it got."""

    id: int
    key: str
    kind: str
    platform: str
    payload: str
    created_at: datetime
    attempts: int


_COLUMNS = "id, send_key, kind, platform, payload, created_at, attempts"


def _row(row: Sequence[Any]) -> OutboxRow:
    created = from_ts(row[5])
    assert created is not None
    return OutboxRow(row[0], row[1], row[2], row[3], row[4], created, row[6])


def insert_leased(
    repo: Repo,
    key: str,
    kind: str,
    platform: str,
    payload: str,
    at: datetime,
    owner: str,
    lease_until: datetime,
) -> OutboxRow | None:
    """Record a send leased to `owner`; None when the same key was recorded before."""
    row = repo._one(
        "INSERT INTO outbox (send_key, kind, platform, payload, created_at, next_at, attempts, "
        "lease_owner, lease_until) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) "
        f"ON CONFLICT (send_key) DO NOTHING RETURNING {_COLUMNS}",
        (
            key,
            kind,
            platform,
            payload,
            at.timestamp(),
            at.timestamp(),
            owner,
            lease_until.timestamp(),
        ),
    )
    return None if row is None else _row(row)


def claim(
    repo: Repo, owner: str, now: datetime, lease_until: datetime, limit: int
) -> list[OutboxRow]:
    """Lease up to `limit` due rows nobody holds (or whose holder's lease ran out).

    The lease test is repeated outside the sub-select: on PostgreSQL a concurrent
    claimer that waited for the row lock re-checks it against the new row and skips.
    """
    now_ts = now.timestamp()
    rows = repo._all(
        "UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1 "
        "WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_at <= ? "
        "AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_at, id LIMIT ?) "
        "AND state = 'pending' AND (lease_until IS NULL OR lease_until <= ?) "
        f"RETURNING {_COLUMNS}",
        (owner, lease_until.timestamp(), now_ts, now_ts, limit, now_ts),
    )
    return sorted((_row(r) for r in rows), key=lambda r: r.id)


def mark_sent(repo: Repo, row_id: int, owner: str, at: datetime, ref: str) -> bool:
    """Record that the platform took the send; False if the lease was lost meanwhile."""
    done = repo._one(
        "UPDATE outbox SET state = 'sent', sent_at = ?, sent_ref = ?, next_at = NULL, "
        "lease_owner = NULL, lease_until = NULL "
        "WHERE id = ? AND state = 'pending' AND lease_owner = ? RETURNING id",
        (at.timestamp(), ref, row_id, owner),
    )
    return done is not None


def retry_at(repo: Repo, row_id: int, owner: str, when: datetime, error: str) -> None:
    """Give the lease back and try again at `when`."""
    repo._all(
        "UPDATE outbox SET next_at = ?, lease_owner = NULL, lease_until = NULL, "
        "last_error = ? WHERE id = ? AND state = 'pending' AND lease_owner = ?",
        (when.timestamp(), error[:500], row_id, owner),
    )


def fail(repo: Repo, row_id: int, owner: str, error: str) -> None:
    """Stop trying: the platform refused for good, or the send is no longer wanted."""
    repo._all(
        "UPDATE outbox SET state = 'failed', next_at = NULL, lease_owner = NULL, "
        "lease_until = NULL, last_error = ? WHERE id = ? AND state = 'pending' "
        "AND lease_owner = ?",
        (error[:500], row_id, owner),
    )


def release(repo: Repo, owner: str) -> int:
    """Free every lease `owner` holds: its earlier incarnation died holding them."""
    rows = repo._all(
        "UPDATE outbox SET lease_owner = NULL, lease_until = NULL "
        "WHERE state = 'pending' AND lease_owner = ? RETURNING id",
        (owner,),
    )
    return len(rows)


def next_attempt(repo: Repo) -> datetime | None:
    """When the next pending row may be tried: its retry time, or its lease's end."""
    row = repo._one(
        "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_at "
        "THEN lease_until ELSE next_at END) FROM outbox WHERE state = 'pending'"
    )
    return None if row is None else from_ts(row[0])


def counts(repo: Repo) -> dict[str, int]:
    """How many rows are in each state (status and metrics)."""
    return {
        str(state): int(n)
        for state, n in repo._all("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    }


def prune(repo: Repo, before: datetime, limit: int = 5000) -> int:
    """Remove up to `limit` rows sent or given up that were created before `before`."""
    rows = repo._all(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state <> 'pending' "
        "AND created_at < ? LIMIT ?) RETURNING id",
        (before.timestamp(), limit),
    )
    return len(rows)
