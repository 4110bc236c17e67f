"""The `frontline` command line against PostgreSQL: migrate, and what it says of the URL."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.cli import main
from bot.storage.migrate import discover
from tests.conftest import NewDatabase, postgres_only

SECRET = "hunter2-not-for-logs"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run in an empty directory, with no database or configuration from the environment."""
    for name in ("FRONTLINE_CONFIG", "FRONTLINE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
async def pg_url(new_database: NewDatabase) -> str:
    """A fresh PostgreSQL schema's URL."""
    return await new_database("cli")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@postgres_only
def test_migrate_on_postgresql_prints_the_schema_version(
    capsys: pytest.CaptureFixture[str], pg_url: str
) -> None:
    """`migrate --db postgresql://...` applies every file once and reports the version."""
    latest = len(discover())
    assert run(capsys, "migrate", "--db", pg_url) == (
        0,
        f"Applied {latest} migration(s); schema version {latest}.\n",
        "",
    )
    code, out, _ = run(capsys, "migrate", "--db", pg_url)
    assert (code, out) == (0, f"Applied 0 migration(s); schema version {latest}.\n")


@postgres_only
def test_report_reads_postgresql(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    """`report` works on a PostgreSQL database named by FRONTLINE_DATABASE_URL."""
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", pg_url)
    code, out, _ = run(capsys, "report", "--since", "7d", "--format", "json")
    assert code == 0
    assert '"questions": 0' in out


def test_check_config_names_the_database_without_its_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """check-config says which PostgreSQL it would use, never with the password."""
    monkeypatch.setenv(
        "FRONTLINE_DATABASE_URL", f"postgresql://bot:{SECRET}@db.internal:6432/frontline"
    )
    code, out, err = run(capsys, "check-config")
    assert code == 0
    assert "database PostgreSQL at db.internal:6432, database 'frontline'" in out
    assert SECRET not in out + err


def test_unreachable_database_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    """`migrate` against a server that is not there exits 1, naming where it looked."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, err = run(
        capsys, "migrate", "--db", f"postgresql://bot:{SECRET}@127.0.0.1:{port}/frontline"
    )
    assert code == 1
    assert err.startswith(
        f"Database: cannot connect to PostgreSQL at 127.0.0.1:{port}, database 'frontline':"
    )
    assert len(err.strip().splitlines()) == 1
    assert SECRET not in out + err
