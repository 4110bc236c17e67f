"""Database URLs: which backend a URL names, and how to name it without its password.

`bot.database` (or FRONTLINE_DATABASE_URL) is a file path, `sqlite:///path`, or
`postgresql://user[:password]@host[:port]/database[?setting=value...]`. Query
parameters of a PostgreSQL URL are passed to the server as settings (asyncpg's rule),
so `?search_path=frontline` picks a schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

Dialect = Literal["sqlite", "postgresql"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class DatabaseError(Exception):
    """The database named in the configuration cannot be used; the text says why."""


class BadDatabaseURL(DatabaseError, ValueError):
    """The URL names no database Frontline can open."""


class DatabaseUnavailable(DatabaseError):
    """The server named by the URL did not accept a connection."""


def dialect(database: str) -> Dialect:
    """Which backend `database` names."""
    return "postgresql" if database.startswith(POSTGRES_SCHEMES) else "sqlite"


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    """Where a PostgreSQL URL points, without the password."""

    host: str
    port: int
    database: str
    user: str
    password: str | None

    def __str__(self) -> str:
        return f"PostgreSQL at {self.host}:{self.port}, database {self.database!r}"

    def redact(self, text: str) -> str:
        """`text` with the password (should a library echo it) blanked out."""
        if self.password:
            return text.replace(self.password, "***")
        return text


def postgres_target(url: str) -> PostgresTarget:
    """Parse a postgresql:// URL, refusing what asyncpg would misread."""
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError:
        # urllib's message may quote the netloc, password included: name the rule only.
        raise BadDatabaseURL(
            "the PostgreSQL URL is malformed (the port must be a number): "
            "use postgresql://user[:password]@host[:port]/database"
        ) from None
    # Without a host in the URL (or `?host=`), asyncpg tries the local server.
    host = parts.hostname or parse_qs(parts.query).get("host", ["localhost"])[-1]
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise BadDatabaseURL(
            f"the PostgreSQL URL needs a database name (got {database or 'none'}): "
            "use postgresql://user[:password]@host[:port]/database"
        )
    password = unquote(parts.password) if parts.password else None
    return PostgresTarget(host, port, database, unquote(parts.username or ""), password)


def describe(database: str) -> str:
    """A description of `database` fit for logs and messages: never a password."""
    if dialect(database) == "postgresql":
        try:
            return str(postgres_target(database))
        except BadDatabaseURL:
            return "PostgreSQL (malformed URL)"
    return database
