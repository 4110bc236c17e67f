"""The inbox table's SQL: inbound deliveries kept from their ack until they are handled."""

from __future__ import annotations

from datetime import datetime

from bot.storage.repos import Repo


def keep(repo: Repo, platform: str, delivery: str, body: str, at: datetime, owner: str) -> None:
    """Keep a delivery before acknowledging it (a redelivery keeps the first copy)."""
    repo._all(
        "INSERT INTO inbox (platform, delivery, body, received_at, owner) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, delivery) DO NOTHING",
        (platform, delivery, body, at.timestamp(), owner),
    )


def done(repo: Repo, platform: str, deliveries: list[str]) -> None:
    """Forget deliveries that were handled."""
    for delivery in deliveries:
        repo._all("DELETE FROM inbox WHERE platform = ? AND delivery = ?", (platform, delivery))


def take_over(
    repo: Repo, platform: str, owner: str, now: datetime, stale_before: datetime, *, mine: bool
) -> list[tuple[str, str]]:
    """Claim deliveries acked but never handled (in no particular order).

    Those left longer than a lease by anyone, and with `mine` (on start) those this
    instance held before it restarted. One statement claims them, so of two replicas
    looking at once only one gets each (the other re-checks the updated row and skips).
    """
    rows = repo._all(
        "UPDATE inbox SET owner = ?, received_at = ? WHERE platform = ? "
        "AND (received_at < ? OR (? AND owner = ?)) RETURNING delivery, body",
        (owner, now.timestamp(), platform, stale_before.timestamp(), mine, owner),
    )
    return [(str(row[0]), str(row[1])) for row in rows]
