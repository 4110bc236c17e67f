"""Scratch databases for the benchmarks: a temporary SQLite file or PostgreSQL schema.

`--database sqlite` (the default) benchmarks a temporary SQLite file; `--database
postgresql://user@host:port/db` a temporary schema in that database, dropped afterwards.
Give `--database` twice to measure both in one run.
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from bot.storage.url import describe, dialect

SQLITE = "sqlite"


def label(spec: str) -> str:
    """How a `--database` value is named in the output."""
    return "SQLite" if spec == SQLITE else "PostgreSQL"


def check(spec: str) -> str:
    """Refuse a `--database` value that names neither a scratch file nor PostgreSQL."""
    if spec != SQLITE and dialect(spec) != "postgresql":
        raise SystemExit(f"--database: use 'sqlite' or a postgresql:// URL, not {spec!r}")
    return spec


def add_option(parser: argparse.ArgumentParser) -> None:
    """The `--database` option, repeatable; `check`ed as it is parsed."""
    parser.add_argument(
        "--database",
        action="append",
        type=check,
        help="'sqlite' (a scratch file, the default) or a postgresql:// URL (a scratch "
        "schema in it); give it twice to measure both",
    )


@asynccontextmanager
async def scratch(spec: str, name: str) -> AsyncIterator[str]:
    """The URL of a new, empty database of the kind `spec` names; removed afterwards."""
    if spec == SQLITE:
        with tempfile.TemporaryDirectory(prefix="frontline-bench-") as tmp:
            yield str(Path(tmp) / f"{name}.db")
        return
    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    try:
        admin = await asyncpg.connect(spec)
    except (OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(f"cannot reach {describe(spec)}: {exc}") from None
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            joiner = "&" if "?" in spec else "?"
            yield f"{spec}{joiner}search_path={schema}"
        finally:
            await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await admin.close()
