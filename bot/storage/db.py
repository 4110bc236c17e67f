"""Opening the SQLite database with the settings Frontline relies on."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from bot.storage.url import BadDatabaseURL

# WAL lets readers (reports) run beside the single writer; NORMAL sync is durable
# across process crashes in WAL mode, which is the failure we design for.
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA temp_store=MEMORY",
)


def sqlite_path(database: str) -> str:
    """Turn `sqlite:///path`, a plain path or `:memory:` into what sqlite3 opens."""
    if database.startswith("sqlite:///"):
        return database.removeprefix("sqlite:///") or ":memory:"
    if database.startswith("sqlite://"):
        return database.removeprefix("sqlite://") or ":memory:"
    if "://" in database:
        raise BadDatabaseURL(
            f"unsupported database URL {database.split('://', 1)[0]}://...; "
            "use a file path, sqlite:///path or postgresql://user@host:port/database"
        )
    return database


async def connect(database: str) -> aiosqlite.Connection:
    """Open (creating if needed) the database; autocommit, so transactions are explicit."""
    path = sqlite_path(database)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    for pragma in PRAGMAS:
        await conn.execute(pragma)
    return conn
