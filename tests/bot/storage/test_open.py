"""Opening a database from its URL: the backend it picks, and clear errors without secrets."""

from __future__ import annotations

import logging
import socket

import pytest

from bot.storage.postgres import translate
from bot.storage.repos import Store
from bot.storage.url import BadDatabaseURL, DatabaseUnavailable, describe, dialect
from tests.conftest import POSTGRES_URL, NewDatabase, postgres_only

SECRET = "hunter2-not-for-logs"


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("frontline.db", "sqlite"),
        ("sqlite:///var/lib/frontline.db", "sqlite"),
        (":memory:", "sqlite"),
        ("postgresql://bot@db:5432/frontline", "postgresql"),
        ("postgres://bot@db/frontline", "postgresql"),
    ],
)
def test_the_url_picks_the_backend(url: str, expected: str) -> None:
    """Paths and sqlite:/// are SQLite; postgresql:// and postgres:// are PostgreSQL."""
    assert dialect(url) == expected


def test_descriptions_never_show_the_password() -> None:
    """What logs and messages say about a database names where it is, not the password."""
    text = describe(f"postgresql://bot:{SECRET}@db.internal:6432/frontline?sslmode=require")
    assert text == "PostgreSQL at db.internal:6432, database 'frontline'"
    assert describe("postgresql://bot@db/frontline") == (
        "PostgreSQL at db:5432, database 'frontline'"
    )
    assert SECRET not in describe(f"postgresql://bot:{SECRET}@db:notaport/frontline")
    assert (
        describe("postgresql:///frontline") == "PostgreSQL at localhost:5432, database 'frontline'"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"postgresql://bot:{SECRET}@db:notaport/frontline", "the port must be a number"),
        (f"postgresql://bot:{SECRET}@db", "needs a database name"),
        ("mysql://db/frontline", "unsupported database URL mysql://"),
    ],
)
async def test_a_bad_url_is_refused_with_what_to_write(url: str, message: str) -> None:
    """A malformed URL gets a message saying what a good one looks like, password left out."""
    with pytest.raises(BadDatabaseURL, match=message) as caught:
        await Store.open(url)
    assert SECRET not in str(caught.value)


async def test_an_unreachable_server_is_named_without_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing listening: the error names host, port and database; no log holds the password."""
    port = closed_port()
    with caplog.at_level(logging.DEBUG), pytest.raises(DatabaseUnavailable) as caught:
        await Store.open(f"postgresql://bot:{SECRET}@127.0.0.1:{port}/frontline")
    text = str(caught.value)
    assert text.startswith(f"cannot connect to PostgreSQL at 127.0.0.1:{port}, database")
    assert "'frontline'" in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert SECRET not in text and SECRET not in caplog.text


@postgres_only
async def test_a_missing_database_is_named(backend: str) -> None:
    """The server answers but has no such database: the error says so."""
    base = POSTGRES_URL.rsplit("/", 1)[0].replace("@", f":{SECRET}@", 1)
    with pytest.raises(DatabaseUnavailable, match="no_such_frontline_db") as caught:
        await Store.open(f"{base}/no_such_frontline_db")
    assert "does not exist" in str(caught.value)
    assert SECRET not in str(caught.value)


@postgres_only
async def test_store_opens_migrated_on_postgresql(new_database: NewDatabase) -> None:
    """Store.open on a postgresql:// URL applies every migration and says so."""
    url = await new_database("open")
    async with await Store.open(url) as store:
        assert store.backend.dialect == "postgresql"
        assert store.migrations_applied and store.schema_version == store.migrations_applied[-1]
    async with await Store.open(url) as again:
        assert again.migrations_applied == []
        assert again.schema_version == store.schema_version


def test_placeholders_are_numbered_outside_quotes() -> None:
    """`?` becomes $1, $2... in order; a `?` inside a quoted literal stays."""
    sql, rows = translate("UPDATE t SET a = ?, b = 'why?', c = 'it''s ?' WHERE id = ? RETURNING a")
    assert sql == "UPDATE t SET a = $1, b = 'why?', c = 'it''s ?' WHERE id = $2 RETURNING a"
    assert rows
    assert translate("INSERT INTO t VALUES (?) ON CONFLICT DO NOTHING") == (
        "INSERT INTO t VALUES ($1) ON CONFLICT DO NOTHING",
        False,
    )
    assert translate("  select 1")[1]
