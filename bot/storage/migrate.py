"""Numbered plain-SQL migrations; the schema version lives in the database.

Files are `migrations/NNNN__what.sql`. Each applies in one transaction together with
the version bump, so a failure leaves the database exactly as it was.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})__[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    """A migration could not be applied; the database was left at its previous version."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file."""

    version: int
    path: Path

    @property
    def sql(self) -> str:
        """The file's statements."""
        return self.path.read_text(encoding="utf-8")


def migrations_dir() -> Path:
    """The folder holding the SQL files: the source tree's, or the copy inside a wheel."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "migrations", here.parent / "sql"):
        if candidate.is_dir():
            return candidate
    raise MigrationError("no migrations folder found next to the bot package")


def discover(folder: Path | None = None) -> list[Migration]:
    """Every migration file in order; misnamed files and gaps are errors, not surprises."""
    folder = folder or migrations_dir()
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN__what.sql")
        found.append(Migration(int(match.group(1)), path))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"{migration.path.name}: expected version {expected:04d} here")
    return found


async def current_version(conn: aiosqlite.Connection) -> int:
    """The schema version recorded in the database."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection, folder: Path | None = None) -> list[int]:
    """Apply what is missing, each file in its own transaction; return versions applied."""
    migrations = discover(folder)
    version = await current_version(conn)
    if version > len(migrations):
        raise MigrationError(
            f"database is at schema version {version} but this Frontline knows only "
            f"{len(migrations)}: it was written by a newer release"
        )
    applied: list[int] = []
    for migration in migrations[version:]:
        # executescript() would commit on its own; one explicit transaction per file
        # keeps the version bump and the statements together.
        script = (
            f"BEGIN IMMEDIATE;\n{migration.sql}\n;PRAGMA user_version = {migration.version};\n"
            "COMMIT;"
        )
        try:
            await conn.executescript(script)
        except Exception as exc:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise MigrationError(
                f"{migration.path.name} failed and was rolled back: {exc}"
            ) from exc
        log.info("applied migration %s", migration.path.name)
        applied.append(migration.version)
    return applied
