"""The inbox table's SQL: inbound deliveries kept from their ack until they are handled."""

from __future__ import annotations

from datetime import datetime

from bot.storage.repos import Repo


def keep(repo: Repo, platform: str, delivery: str, body: str, at: datetime) -> None:
    """Keep a delivery before acknowledging it (a redelivery keeps the first copy)."""
    repo._all(
        "INSERT INTO inbox (platform, delivery, body, received_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (platform, delivery) DO NOTHING",
        (platform, delivery, body, at.timestamp()),
    )


def done(repo: Repo, platform: str, deliveries: list[str]) -> None:
    """Forget deliveries that were handled."""
    for delivery in deliveries:
        repo._all("DELETE FROM inbox WHERE platform = ? AND delivery = ?", (platform, delivery))


def left(repo: Repo, platform: str) -> list[tuple[str, str]]:
    """Deliveries acknowledged but never handled (the process died), oldest first."""
    rows = repo._all(
        "SELECT delivery, body FROM inbox WHERE platform = ? ORDER BY received_at, delivery",
        (platform,),
    )
    return [(str(row[0]), str(row[1])) for row in rows]
