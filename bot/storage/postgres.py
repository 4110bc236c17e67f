"""PostgreSQL through asyncpg: the pool, and the synchronous face a `Repo` runs on.

A unit of work is synchronous code (the tracker's rules over a `Repo`). On PostgreSQL it
runs on a worker thread holding one pooled connection for the whole unit, and each of
its statements is sent by asyncpg on the event loop, the thread waiting for the answer.
The SQL is the same as on SQLite: `?` placeholders become `$1, $2...` once per statement
text.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import asyncpg

from bot.storage.url import BadDatabaseURL, DatabaseUnavailable, postgres_target

T = TypeVar("T")

# A replica needs few connections: units are short, and the rest waits in the pool.
POOL_SIZE = 8
CONNECT_TIMEOUT = 10.0
COMMAND_TIMEOUT = 60.0

_RETURNS_ROWS = re.compile(r"^\s*(SELECT|WITH|VALUES|SHOW)\b|\bRETURNING\b", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> tuple[str, bool]:
    """PostgreSQL's form of a statement, and whether it returns rows.

    `?` placeholders outside quoted literals become `$1, $2, ...` in order.
    """
    parts = sql.split("'")
    number = 0
    for i in range(0, len(parts), 2):  # even pieces lie outside quotes
        pieces = parts[i].split("?")
        out = [pieces[0]]
        for piece in pieces[1:]:
            number += 1
            out.append(f"${number}{piece}")
        parts[i] = "".join(out)
    text = "'".join(parts)
    return text, _RETURNS_ROWS.search(text) is not None


def _affected(status: str) -> int:
    """The row count in a command tag such as 'INSERT 0 1' or 'UPDATE 3'."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


class PgCursor:
    """The rows (and row count) of one statement, shaped like sqlite3's cursor."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[asyncpg.Record], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> asyncpg.Record | None:
        """The first row, or None."""
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[asyncpg.Record]:
        """Every row."""
        return self._rows

    def __iter__(self) -> Iterator[asyncpg.Record]:
        return iter(self._rows)


class PgDb:
    """One pooled connection, driven from a worker thread as if it were sqlite3's.

    asyncpg records can be read by position and by column name, like sqlite3.Row.
    """

    def __init__(self, conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop) -> None:
        self._conn = conn
        self._loop = loop

    def _wait(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> PgCursor:
        """Run one statement with its parameters."""
        text, returns_rows = translate(sql)
        if returns_rows:
            rows: list[asyncpg.Record] = self._wait(self._conn.fetch(text, *parameters))
            return PgCursor(rows, len(rows))
        status: str = self._wait(self._conn.execute(text, *parameters))
        return PgCursor([], _affected(status))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> None:
        """Run one statement once per parameter row, in one round trip."""
        text, _ = translate(sql)
        self._wait(self._conn.executemany(text, list(parameters)))


async def _reach(url: str, connecting: Callable[[], Awaitable[T]]) -> T:
    """`connecting()`, with its failures told as host, port and database, never the password."""
    target = postgres_target(url)
    try:
        return await connecting()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = target.redact(str(exc) or type(exc).__name__)
        # Raised from None: the chained error would repeat the reason, and nothing of
        # the URL may reach a log through it.
        raise DatabaseUnavailable(f"cannot connect to {target}: {reason}") from None
    except ValueError as exc:  # asyncpg's own reading of the URL and its parameters
        raise BadDatabaseURL(f"{target}: {target.redact(str(exc))}") from None


async def create_pool(url: str, *, size: int = POOL_SIZE) -> asyncpg.Pool:
    """A connection pool to the database `url` names; a clear error if it cannot be had.

    Every statement on it gives up after COMMAND_TIMEOUT: a server that stopped
    answering fails the unit instead of holding it forever.
    """

    async def connecting() -> asyncpg.Pool:
        return await asyncpg.create_pool(
            url,
            min_size=1,
            max_size=size,
            timeout=CONNECT_TIMEOUT,
            command_timeout=COMMAND_TIMEOUT,
        )

    pool: asyncpg.Pool = await _reach(url, connecting)
    return pool


async def connect(url: str) -> asyncpg.Connection:
    """One connection without a statement timeout (migrations may rewrite big tables)."""

    async def connecting() -> asyncpg.Connection:
        return await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)

    conn: asyncpg.Connection = await _reach(url, connecting)
    return conn
