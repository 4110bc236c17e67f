"""Schema migrations on real SQLite files: versions, atomic failures, naming rules, pragmas."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.storage.db import connect
from bot.storage.migrate import (
    MigrationError,
    current_version,
    discover,
    migrate,
    migrations_dir,
)

TABLES = {"messages", "questions", "question_log"}
INDEXES = {
    "messages_by_root",
    "questions_due",
    "questions_asked",
    "questions_by_asker",
    "question_log_by_question",
}
SWEEP_QUERY = (
    "SELECT * FROM questions WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?"
)


def schema(db: Path) -> tuple[int, set[str], set[str]]:
    """The version, tables and named indexes of a database file, read with plain sqlite3."""
    with sqlite3.connect(db) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        rows = conn.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
    conn.close()
    return (
        version,
        {n for t, n in rows if t == "table"},
        {n for t, n in rows if t == "index"},
    )


@pytest.fixture
async def conn(db_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await connect(str(db_path))
    yield connection
    await connection.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the first shipped migration that a test may add files 0002… to."""
    copy = tmp_path / "migrations"
    copy.mkdir()
    shutil.copy(migrations_dir() / "0001__initial.sql", copy)
    return copy


async def test_fresh_database_reaches_the_latest_version(
    conn: aiosqlite.Connection, db_path: Path
) -> None:
    """A new file gets every migration: latest version, all tables and indexes."""
    latest = len(discover())
    assert await current_version(conn) == 0
    applied = await migrate(conn)
    assert applied == list(range(1, latest + 1))
    assert await current_version(conn) == latest
    version, tables, indexes = schema(db_path)
    assert version == latest
    assert tables >= TABLES
    assert indexes >= INDEXES


async def test_migrate_twice_applies_nothing_new(conn: aiosqlite.Connection, db_path: Path) -> None:
    """A second run, even from a new connection, applies nothing and keeps the data."""
    await migrate(conn)
    await conn.execute(
        "INSERT INTO messages (platform, space, channel, message_id, watched_channel, author, "
        "posted_at) VALUES ('slack', 'T1', 'C1', 'E1', 'C1', 'U1', 0)"
    )
    assert await migrate(conn) == []
    again = await connect(str(db_path))
    try:
        assert await migrate(again) == []
        assert await current_version(again) == len(discover())
        async with again.execute("SELECT message_id FROM messages") as cursor:
            assert [r[0] for r in await cursor.fetchall()] == ["E1"]
    finally:
        await again.close()


async def test_broken_migration_rolls_back_completely(
    conn: aiosqlite.Connection, db_path: Path, folder: Path
) -> None:
    """A failing file raises MigrationError and leaves no trace: version 1, no half-made table."""
    (folder / "0002__broken.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n"
    )
    with pytest.raises(MigrationError, match=r"0002__broken\.sql failed and was rolled back"):
        await migrate(conn, folder)
    assert await current_version(conn) == 1
    assert not conn.in_transaction
    version, tables, _ = schema(db_path)
    assert version == 1
    assert "half_done" not in tables
    assert tables >= TABLES


async def test_syntax_error_in_a_migration_rolls_back(
    conn: aiosqlite.Connection, db_path: Path, folder: Path
) -> None:
    """A syntax error after a good statement also rolls the whole file back."""
    (folder / "0002__typo.sql").write_text("CREATE TABLE half_done (x INTEGER);\nSELEC 1;\n")
    with pytest.raises(MigrationError, match="syntax error"):
        await migrate(conn, folder)
    version, tables, _ = schema(db_path)
    assert (version, "half_done" in tables) == (1, False)


async def test_fixed_migration_applies_after_a_failure(
    conn: aiosqlite.Connection, db_path: Path, folder: Path
) -> None:
    """Once the broken file is fixed, the next run applies it on the same connection."""
    broken = folder / "0002__extra.sql"
    broken.write_text("CREATE TABLE extra (x INTEGER);\nINSERT INTO nowhere VALUES (1);\n")
    with pytest.raises(MigrationError):
        await migrate(conn, folder)
    broken.write_text("CREATE TABLE extra (x INTEGER);\nINSERT INTO extra VALUES (1);\n")
    assert await migrate(conn, folder) == [2]
    version, tables, _ = schema(db_path)
    assert version == 2
    assert "extra" in tables


async def test_failure_in_a_later_file_keeps_earlier_ones(
    conn: aiosqlite.Connection, db_path: Path, folder: Path
) -> None:
    """Each file is its own transaction: 0002 stays applied when 0003 fails."""
    (folder / "0002__good.sql").write_text("CREATE TABLE good (x INTEGER);\n")
    (folder / "0003__bad.sql").write_text("CREATE TABLE bad (x INTEGER);\nDROP TABLE nothing;\n")
    with pytest.raises(MigrationError, match=r"^0003__bad\.sql failed"):
        await migrate(conn, folder)
    version, tables, _ = schema(db_path)
    assert version == 2
    assert "good" in tables
    assert "bad" not in tables


@pytest.mark.parametrize("name", ["2__short.sql", "0002-dash.sql", "0002__Upper.sql", "x.sql"])
async def test_misnamed_file_is_rejected(
    conn: aiosqlite.Connection, db_path: Path, folder: Path, name: str
) -> None:
    """A file not named NNNN__what.sql is refused by name before anything is applied."""
    (folder / name).write_text("CREATE TABLE t (x INTEGER);\n")
    with pytest.raises(MigrationError) as caught:
        await migrate(conn, folder)
    assert str(caught.value) == f"{name}: migration files are named NNNN__what.sql"
    assert schema(db_path)[:2] == (0, set())


async def test_gap_in_numbering_is_rejected(
    conn: aiosqlite.Connection, db_path: Path, folder: Path
) -> None:
    """A missing number is refused, naming the file that comes out of order."""
    (folder / "0003__skipped_one.sql").write_text("CREATE TABLE t (x INTEGER);\n")
    with pytest.raises(MigrationError) as caught:
        await migrate(conn, folder)
    assert str(caught.value) == "0003__skipped_one.sql: expected version 0002 here"
    assert schema(db_path)[:2] == (0, set())


async def test_duplicate_number_is_rejected(folder: Path) -> None:
    """Two files with the same number are refused, naming the second one."""
    (folder / "0002__a.sql").write_text("SELECT 1;\n")
    (folder / "0002__b.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match=r"^0002__b\.sql: expected version 0003 here$"):
        discover(folder)


async def test_other_files_are_ignored(folder: Path) -> None:
    """Notes next to the SQL files (README.md) are not migrations."""
    (folder / "README.md").write_text("how to write a migration\n")
    assert [m.version for m in discover(folder)] == [1]


async def test_newer_database_is_refused(conn: aiosqlite.Connection, db_path: Path) -> None:
    """A database at a version this release does not know is refused and left alone."""
    await conn.execute("PRAGMA user_version = 99")
    with pytest.raises(MigrationError, match=r"schema version 99 .* newer release"):
        await migrate(conn)
    version, tables, _ = schema(db_path)
    assert (version, tables) == (99, set())


async def test_sweep_query_uses_the_due_index(conn: aiosqlite.Connection) -> None:
    """The sweep's query is answered from the partial index questions_due, not a table scan."""
    await migrate(conn)
    async with conn.execute(f"EXPLAIN QUERY PLAN {SWEEP_QUERY}", (1.0e9, 500)) as cursor:
        plan = " | ".join(str(row[-1]) for row in await cursor.fetchall())
    assert "questions_due" in plan
    assert "SCAN questions" not in plan
    assert "TEMP B-TREE" not in plan


async def test_connections_use_wal_and_foreign_keys(
    conn: aiosqlite.Connection, db_path: Path
) -> None:
    """connect() turns on WAL and foreign keys: a log row for a missing question is refused."""
    async with conn.execute("PRAGMA journal_mode") as cursor:
        assert (await cursor.fetchone())[0] == "wal"
    async with conn.execute("PRAGMA foreign_keys") as cursor:
        assert (await cursor.fetchone())[0] == 1
    await migrate(conn)
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await conn.execute(
            "INSERT INTO question_log (question_id, at, kind) VALUES (12345, 0, 'opened')"
        )


async def test_connect_creates_missing_folders(tmp_path: Path) -> None:
    """connect() accepts sqlite:/// URLs and creates the parent folder of a new file."""
    target = tmp_path / "deep" / "er" / "fl.db"
    conn = await connect(f"sqlite:///{target}")
    try:
        await migrate(conn)
    finally:
        await conn.close()
    assert schema(target)[0] == len(discover())


async def test_connect_rejects_other_databases() -> None:
    """A non-SQLite URL is refused with a message saying what to use."""
    with pytest.raises(ValueError, match="unsupported database URL postgresql://"):
        await connect("postgresql://db.example/frontline")
