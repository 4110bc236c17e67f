"""Migrations on the real PostgreSQL: every shipped file, the version table, the lock.

Each test gets a fresh schema (see `new_database` in tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.storage.db import connect
from bot.storage.migrate import (
    MigrationError,
    discover,
    migrate,
    migrate_postgres,
    migrations_dir,
    postgres_form,
    postgres_version,
)
from tests.conftest import NewDatabase, postgres_only

pytestmark = postgres_only


@pytest.fixture
async def pg(new_database: NewDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A connection whose search_path is a fresh, empty schema."""
    conn = await asyncpg.connect(await new_database("migrate"))
    yield conn
    await conn.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the first shipped migration that a test may add files 0002… to."""
    copy = tmp_path / "migrations"
    (copy / "postgresql").mkdir(parents=True)
    shutil.copy(migrations_dir() / "0001__initial.sql", copy)
    shutil.copy(migrations_dir() / "postgresql" / "0001__initial.sql", copy / "postgresql")
    return copy


async def tables(conn: asyncpg.Connection) -> dict[str, dict[str, str]]:
    """Each table of the schema and its columns' types."""
    rows = await conn.fetch(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    )
    out: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        out.setdefault(table, {})[column] = kind
    return out


async def test_every_shipped_migration_applies(pg: asyncpg.Connection) -> None:
    """All files in migrations/ (new ones included) apply; each is recorded once, in order."""
    shipped = discover()
    assert await migrate_postgres(pg) == [m.version for m in shipped]
    assert await postgres_version(pg) == len(shipped)
    recorded = await pg.fetch("SELECT version, name FROM schema_version ORDER BY version")
    assert [(r["version"], r["name"]) for r in recorded] == [
        (m.version, m.path.name) for m in shipped
    ]


async def test_schema_matches_sqlite(pg: asyncpg.Connection, tmp_path: Path) -> None:
    """Both databases end with the same tables, columns and named indexes.

    PostgreSQL adds only the explicit `rowid` columns and the version table; a
    PostgreSQL version of a migration that drifted from its SQLite file fails here.
    """
    await migrate_postgres(pg)
    lite = await connect(str(tmp_path / "same.db"))
    try:
        await migrate(lite)
    finally:
        await lite.close()
    with sqlite3.connect(tmp_path / "same.db") as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        sqlite_tables = {
            name: {r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')} for name in names
        }
        sqlite_indexes = {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        }
    conn.close()
    pg_tables = {
        name: set(columns) - {"rowid"}
        for name, columns in (await tables(pg)).items()
        if name != "schema_version"
    }
    assert pg_tables == sqlite_tables
    pg_indexes = {
        r[0]
        for r in await pg.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        )
    }
    assert sqlite_indexes <= pg_indexes


async def test_times_are_double_precision_and_ids_are_assigned(pg: asyncpg.Connection) -> None:
    """No column is single precision (epoch seconds would round to minutes); ids count up."""
    await migrate_postgres(pg)
    kinds = {kind for columns in (await tables(pg)).values() for kind in columns.values()}
    assert "real" not in kinds
    assert "double precision" in kinds
    identity = await pg.fetch(
        "SELECT table_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'"
    )
    assert {"questions", "escalations"} <= {r[0] for r in identity}
    posted = 1_764_000_000.123456
    await pg.execute(
        "INSERT INTO messages (platform, space, channel, message_id, watched_channel, author, "
        "posted_at) VALUES ('slack', 'T1', 'C1', 'E1', 'C1', 'U1', $1)",
        posted,
    )
    assert await pg.fetchval("SELECT posted_at FROM messages") == posted


async def test_migrate_twice_applies_nothing_new(pg: asyncpg.Connection) -> None:
    """A second run applies nothing and keeps the data."""
    await migrate_postgres(pg)
    await pg.execute(
        "INSERT INTO messages (platform, space, channel, message_id, watched_channel, author, "
        "posted_at) VALUES ('slack', 'T1', 'C1', 'E1', 'C1', 'U1', 0)"
    )
    assert await migrate_postgres(pg) == []
    assert await pg.fetchval("SELECT message_id FROM messages") == "E1"


async def test_broken_migration_rolls_back_completely(pg: asyncpg.Connection, folder: Path) -> None:
    """A failing file raises MigrationError and leaves no trace: version 1, no half-made table."""
    (folder / "0002__broken.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n"
    )
    with pytest.raises(MigrationError, match=r"0002__broken\.sql failed and was rolled back"):
        await migrate_postgres(pg, folder)
    assert await postgres_version(pg) == 1
    assert "half_done" not in await tables(pg)
    assert not pg.is_in_transaction()


async def test_syntax_error_rolls_back_and_the_fixed_file_applies(
    pg: asyncpg.Connection, folder: Path
) -> None:
    """A syntax error rolls the file back; once fixed, the next run applies it."""
    extra = folder / "0002__extra.sql"
    extra.write_text("CREATE TABLE extra (x INTEGER);\nSELEC 1;\n")
    with pytest.raises(MigrationError, match="syntax error"):
        await migrate_postgres(pg, folder)
    assert "extra" not in await tables(pg)
    extra.write_text("CREATE TABLE extra (x INTEGER);\nINSERT INTO extra VALUES (1);\n")
    assert await migrate_postgres(pg, folder) == [2]
    assert await pg.fetchval("SELECT x FROM extra") == 1


async def test_failure_in_a_later_file_keeps_earlier_ones(
    pg: asyncpg.Connection, folder: Path
) -> None:
    """Each file is its own transaction: 0002 stays applied when 0003 fails."""
    (folder / "0002__good.sql").write_text("CREATE TABLE good (x INTEGER);\n")
    (folder / "0003__bad.sql").write_text("CREATE TABLE bad (x INTEGER);\nDROP TABLE nothing;\n")
    with pytest.raises(MigrationError, match=r"^0003__bad\.sql failed"):
        await migrate_postgres(pg, folder)
    assert await postgres_version(pg) == 2
    assert {"good"} <= set(await tables(pg)) and "bad" not in await tables(pg)


async def test_a_migration_of_comments_only_is_applied(
    pg: asyncpg.Connection, folder: Path
) -> None:
    """A file that (so far) holds only its reason header still counts as a version."""
    (folder / "0002__notes.sql").write_text("-- Reason: nothing to change yet.\n;\n")
    assert await migrate_postgres(pg, folder) == [1, 2]
    assert await postgres_version(pg) == 2


async def test_newer_database_is_refused(pg: asyncpg.Connection) -> None:
    """A database at a version this release does not know is refused and left alone."""
    await pg.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at DOUBLE PRECISION NOT NULL)"
    )
    await pg.execute("INSERT INTO schema_version VALUES (99, '0099__future.sql', 0)")
    with pytest.raises(MigrationError, match=r"schema version 99 .* newer release"):
        await migrate_postgres(pg)
    assert set(await tables(pg)) == {"schema_version"}


async def test_two_processes_migrating_at_once_apply_each_file_once(
    new_database: NewDatabase,
) -> None:
    """Replicas starting together: one applies each file, the other finds it done."""
    url = await new_database("race")
    first, second = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        done = await asyncio.gather(migrate_postgres(first), migrate_postgres(second))
        latest = len(discover())
        assert sorted(done[0] + done[1]) == list(range(1, latest + 1))
        assert await postgres_version(first) == latest
        assert await first.fetchval("SELECT COUNT(*) FROM schema_version") == latest
    finally:
        await first.close()
        await second.close()


async def test_postgresql_version_of_a_file_is_used_there_only(
    pg: asyncpg.Connection, folder: Path, tmp_path: Path
) -> None:
    """migrations/postgresql/NNNN__same_name.sql replaces the file on PostgreSQL alone."""
    (folder / "0002__flavour.sql").write_text("CREATE TABLE flavour (sqlite INTEGER);\n")
    (folder / "postgresql" / "0002__flavour.sql").write_text(
        "CREATE TABLE flavour (postgresql INTEGER);\n"
    )
    await migrate_postgres(pg, folder)
    assert set((await tables(pg))["flavour"]) == {"postgresql"}
    lite = await connect(str(tmp_path / "flavour.db"))
    try:
        await migrate(lite, folder)
        async with lite.execute("PRAGMA table_info(flavour)") as cursor:
            assert [r[1] for r in await cursor.fetchall()] == ["sqlite"]
    finally:
        await lite.close()


def test_postgresql_file_without_its_migration_is_refused(folder: Path) -> None:
    """A PostgreSQL version must replace a numbered file, never add a number of its own."""
    (folder / "postgresql" / "0002__orphan.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match=r"^postgresql/0002__orphan\.sql: no 0002__orphan"):
        discover(folder)


def test_sqlite_idioms_read_as_sqlite_means_them() -> None:
    """REAL is double precision and INTEGER PRIMARY KEY an identity; names and comments stay."""
    sql = (
        "-- Times are REAL seconds\n"
        "CREATE TABLE t (\n"
        "    id integer  primary key,\n"
        "    real_name TEXT, surreal TEXT,\n"
        "    at REAL NOT NULL, -- REAL, as in 0001\n"
        "    n INTEGER NOT NULL\n"
        ");\n"
    )
    assert postgres_form(sql) == (
        "-- Times are REAL seconds\n"
        "CREATE TABLE t (\n"
        "    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n"
        "    real_name TEXT, surreal TEXT,\n"
        "    at DOUBLE PRECISION NOT NULL, -- REAL, as in 0001\n"
        "    n INTEGER NOT NULL\n"
        ");\n"
    )
