"""Where units of work run: SQLite on aiosqlite's thread, PostgreSQL on a pool's threads.

A `Repo` talks to a `Db`: sqlite3's own connection on SQLite (nothing in between, which
keeps replay fast), `PgDb` on PostgreSQL. A backend hands a unit a `Db` for its whole
run, on a thread of its own; `Store` (repos.py) wraps the unit in its transaction.

SQLite runs one unit at a time (one connection, one thread). PostgreSQL runs as many as
its pool has connections; to keep the guarantee the tracker was written against (units
never interleave), its transactions are SERIALIZABLE, and a unit that PostgreSQL
aborts as a serialization failure or a deadlock is run again from the start. Units
therefore do nothing outside the database before their commit (what must follow a
commit goes in `Repo.on_commit`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeAlias, TypeVar, cast

import aiosqlite
import asyncpg

from bot.storage.db import connect
from bot.storage.migrate import current_version, migrate, migrate_postgres, postgres_version
from bot.storage.postgres import POOL_SIZE, PgDb, create_pool
from bot.storage.postgres import connect as connect_postgres
from bot.storage.url import Dialect, dialect

log = logging.getLogger(__name__)

T = TypeVar("T")

# Attempts at a unit PostgreSQL keeps aborting for conflicts with concurrent ones.
ATTEMPTS = 8
_RETRYABLE = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)


# A result row, read by position or by column name: sqlite3.Row or asyncpg.Record. The
# two share no declared type, so rows are typed loosely where they come out of the
# database and turned into the model's types right away.
Row: TypeAlias = Any


class Cursor(Protocol):
    """What a statement gives back."""

    @property
    def rowcount(self) -> int:
        """Rows changed (or returned, for RETURNING)."""
        ...

    def fetchone(self) -> Any:
        """The first row, or None."""
        ...

    def fetchall(self) -> list[Any]:
        """Every row."""
        ...

    def __iter__(self) -> Iterator[Any]: ...


class Db(Protocol):
    """The part of sqlite3's connection that `Repo` uses: `?` placeholders, rows by name."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor:
        """Run one statement."""
        ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> object:
        """Run one statement per parameter row."""
        ...


class Backend(Protocol):
    """Runs units of work against one database."""

    dialect: Dialect
    begin: str  # the statement that opens a unit's transaction
    # ...and one that changes only rows it locked itself (the sweep: FOR UPDATE SKIP
    # LOCKED) plus keyed inserts, which needs no more than READ COMMITTED.
    begin_locked: str
    applied: list[int]  # migrations applied when it was opened
    version: int  # schema version after that

    async def run(self, unit: Callable[[Db], T], *, write: bool = False) -> T:
        """Run `unit` with a connection of its own on a database thread.

        A `write` aborted by a conflict with a concurrent unit runs again, and one whose
        caller is cancelled still runs to its end. A cancelled read is abandoned.
        """
        ...

    async def close(self) -> None:
        """Release the connection(s) after the units already started."""
        ...


class SqliteBackend:
    """One aiosqlite connection: units run one after another on its thread."""

    dialect: Dialect = "sqlite"
    # IMMEDIATE takes the write lock up front, so a unit never fails half-way for it.
    begin = "BEGIN IMMEDIATE"
    begin_locked = "BEGIN IMMEDIATE"

    def __init__(self, conn: aiosqlite.Connection, applied: list[int], version: int) -> None:
        self.conn = conn
        self.applied = applied
        self.version = version

    async def run(self, unit: Callable[[Db], T], *, write: bool = False) -> T:
        """Run `unit` on aiosqlite's thread; units never overlap, so nothing to retry."""
        # aiosqlite has no public "run this on your thread"; _execute is what each of
        # its public methods uses (unchanged since 0.11, version pinned in pyproject).
        conn = self.conn
        on_thread = cast("Callable[[Callable[[], T]], Awaitable[T]]", conn._execute)
        raw: sqlite3.Connection = conn._conn
        return await on_thread(lambda: unit(raw))

    async def close(self) -> None:
        """Close the connection after the units already queued."""
        await self.conn.close()


class PostgresBackend:
    """An asyncpg pool: each unit holds one connection on a worker thread of its own."""

    dialect: Dialect = "postgresql"
    begin = "BEGIN ISOLATION LEVEL SERIALIZABLE"
    # Serializable sweeps of several replicas abort each other although SKIP LOCKED
    # keeps their rows apart (measured: 3 replicas slower than 1, bench/replicas.py).
    begin_locked = "BEGIN ISOLATION LEVEL READ COMMITTED"

    def __init__(self, pool: asyncpg.Pool, applied: list[int], version: int) -> None:
        self.pool = pool
        self.applied = applied
        self.version = version
        # As many threads as connections: a unit takes its connection before its
        # thread, so a thread never waits for the pool.
        self._threads = ThreadPoolExecutor(POOL_SIZE, thread_name_prefix="frontline-pg")

    async def run(self, unit: Callable[[Db], T], *, write: bool = False) -> T:
        """Run `unit` on a worker thread over one pooled connection."""
        loop = asyncio.get_running_loop()
        async with self.pool.acquire() as conn:
            db = PgDb(conn, loop)
            attempts = ATTEMPTS if write else 1

            def on_thread() -> T:
                attempt = 1
                while True:
                    try:
                        return unit(db)
                    except _RETRYABLE as exc:
                        if attempt >= attempts:
                            raise
                        log.debug("unit conflicted (%s); attempt %d", exc, attempt + 1)
                        # Spread out the retries of units that keep colliding.
                        time.sleep(random.uniform(0, 0.005 * 2**attempt))
                        attempt += 1

            work = loop.run_in_executor(self._threads, on_thread)
            try:
                return await asyncio.shield(work)
            except asyncio.CancelledError:
                if not write:
                    # Nothing to keep: closing the connection fails the statement the
                    # read waits for, so a timed-out health check answers at once.
                    conn.terminate()
                # A write goes on to its COMMIT or ROLLBACK (as on SQLite); either
                # way the connection goes back to the pool only once its thread is done.
                await asyncio.wait([work])
                raise

    async def close(self) -> None:
        """Close the pool once the units holding its connections are done."""
        await self.pool.close()
        self._threads.shutdown(wait=True)


async def open_backend(database: str) -> Backend:
    """Connect to `database` (a path, sqlite:///path or postgresql://...) and migrate it."""
    if dialect(database) == "postgresql":
        migrating = await connect_postgres(database)
        try:
            applied = await migrate_postgres(migrating)
            version = await postgres_version(migrating)
        finally:
            await migrating.close()
        return PostgresBackend(await create_pool(database), applied, version)
    conn = await connect(database)
    try:
        applied = await migrate(conn)
        version = await current_version(conn)
    except BaseException:
        await conn.close()
        raise
    return SqliteBackend(conn, applied, version)
