"""The `frontline` command line, run in-process through bot.cli.main and once as a subprocess."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.storage.migrate import discover

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "frontline.example.toml"
ENV_VARS = (
    "FRONTLINE_CONFIG",
    "FRONTLINE_DATABASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "DISCORD_TOKEN",
)
BAD_CONFIG = """\
[bot]
log_level = "LOUD"

[[channels]]
platform = "local"
id = "help"
name = "help"
target = "soon"
mode = "sometimes"

[[channels]]
platform = "local"
id = "general"
targte = "1h"
"""
BAD_PROBLEMS = (
    "bot.log_level: allowed: 'DEBUG', 'INFO', 'WARNING' or 'ERROR'",
    "channels[0] (help).target: 'soon' is not a duration",
    "channels[0] (help).mode: allowed: 'questions' or 'every-post'",
    "channels[1] (general).targte: unknown key",
)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run in an empty directory, with no Frontline settings or tokens in the environment."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def bad_config(tmp_path: Path) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(BAD_CONFIG)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def demo(capsys: pytest.CaptureFixture[str], db: Path, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "demo", "--db", str(db), *extra)


def without_timing(out: str) -> list[str]:
    return [line for line in out.splitlines() if "done in" not in line]


def printed_count(out: str) -> int:
    match = re.search(r"^\s*Questions: (\d+)$", out, re.MULTILINE)
    assert match, out
    return int(match.group(1))


# --- check-config -------------------------------------------------------------------------


def test_check_config_ok(capsys: pytest.CaptureFixture[str]) -> None:
    """A good file prints a one-line OK summary and exits 0."""
    code, out, err = run(capsys, "--config", str(EXAMPLE), "check-config")
    assert code == 0, err
    assert out.splitlines()[0] == (
        "Configuration OK: 1 channel(s), 1 calendar(s), database frontline.db"
    )
    assert "Slack: no token in the environment" in out
    assert "Discord: no token in the environment" in out
    assert err == ""


def test_check_config_reports_tokens_without_showing_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """check-config says a token is set but never prints it."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-cli-secret")
    code, out, err = run(capsys, "--config", str(EXAMPLE), "check-config")
    assert code == 0
    assert "Slack: token set" in out
    assert "xoxb-cli-secret" not in out + err


def test_check_config_uses_frontline_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --config, check-config validates the file named by FRONTLINE_CONFIG."""
    monkeypatch.setenv("FRONTLINE_CONFIG", str(REPO / "config" / "demo.toml"))
    code, out, _ = run(capsys, "check-config")
    assert code == 0
    assert "3 channel(s), 1 calendar(s), database frontline-demo.db" in out


def test_check_config_lists_every_problem(
    capsys: pytest.CaptureFixture[str], bad_config: Path
) -> None:
    """A bad file exits 2 and prints every problem, with its key path, to stderr."""
    code, out, err = run(capsys, "--config", str(bad_config), "check-config")
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == "Configuration has 4 problem(s):"
    assert len(lines) == 5
    for problem in BAD_PROBLEMS:
        assert any(line.startswith(f"  - {problem}") for line in lines[1:]), (problem, err)


def test_check_config_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A config path that does not exist exits 2 naming the file."""
    code, _, err = run(capsys, "--config", str(tmp_path / "nope.toml"), "check-config")
    assert code == 2
    assert "nope.toml: no such file" in err


def test_check_config_toml_syntax_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A TOML syntax error exits 2 naming the file."""
    path = tmp_path / "typo.toml"
    path.write_text("[bot\n")
    code, _, err = run(capsys, "--config", str(path), "check-config")
    assert code == 2
    assert f"{path}: not valid TOML" in err


# --- run ------------------------------------------------------------------------------------


def test_run_refuses_a_bad_config(capsys: pytest.CaptureFixture[str], bad_config: Path) -> None:
    """`run` with a bad file exits 2 with the same problem list as check-config."""
    code, _, run_err = run(capsys, "--config", str(bad_config), "run")
    assert code == 2
    _, _, check_err = run(capsys, "--config", str(bad_config), "check-config")
    assert run_err == check_err
    assert run_err.startswith("Configuration has 4 problem(s):")


def test_run_without_platform_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    """`run` with a good file but no Slack or Discord token exits 2 saying so."""
    code, _, err = run(capsys, "--config", str(EXAMPLE), "run")
    assert code == 2
    assert "No platform to connect" in err
    assert "SLACK_BOT_TOKEN or DISCORD_TOKEN" in err
    assert "frontline demo" in err


def test_unknown_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown subcommand is rejected by argparse with exit status 2."""
    with pytest.raises(SystemExit) as caught:
        main(["serve"])
    assert caught.value.code == 2
    assert "invalid choice: 'serve'" in capsys.readouterr().err


# --- demo -----------------------------------------------------------------------------------


def test_demo_prints_timeline_and_figures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The demo exits 0, prints a timeline and the day's figures, and writes its database."""
    db = tmp_path / "x-demo.db"
    code, out, err = demo(capsys, db, "--seed", "3")
    assert code == 0, err
    assert out.startswith("Frontline demo — seed 3, 1 day(s) from Tue 2026-11-24")
    assert "? question" in out
    assert "✓ answered" in out
    assert "The day in figures:" in out
    assert "Questions:" in out
    assert "Time to first response: median" in out
    assert "Within target:" in out
    assert f"Database left at {db}." in out
    # Timeline lines are stamped with the weekday and time of the simulated day.
    timeline = [line for line in out.splitlines() if "? question" in line]
    assert all(re.match(r"^Tue \d\d:\d\d  ", line) for line in timeline)

    assert db.is_file()
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM questions WHERE state <> 'dismissed'")
        assert (
            stored.fetchone()[0] == printed_count(out) == len(timeline) - out.count("– dismissed")
        )


def test_demo_is_reproducible(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The same seed twice prints the same thing apart from the wall-clock timing."""
    db = tmp_path / "same-demo.db"
    first = demo(capsys, db, "--seed", "11")
    second = demo(capsys, db, "--seed", "11")
    assert first[0] == second[0] == 0
    assert without_timing(first[1]) == without_timing(second[1])
    assert sum("done in" in line for line in first[1].splitlines()) == 1


def test_demo_seeds_differ(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Different seeds play different days."""
    _, one, _ = demo(capsys, tmp_path / "a-demo.db", "--seed", "1")
    _, two, _ = demo(capsys, tmp_path / "b-demo.db", "--seed", "2")
    body_one = [line for line in without_timing(one) if not line.startswith(("Frontline", "Data"))]
    body_two = [line for line in without_timing(two) if not line.startswith(("Frontline", "Data"))]
    assert body_one != body_two


def test_demo_three_days(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--days 3 plays three consecutive days and sums them up."""
    code, out, err = demo(capsys, tmp_path / "three-demo.db", "--days", "3")
    assert code == 0, err
    assert "3 day(s) from Tue 2026-11-24" in out
    assert "The 3 days in figures:" in out
    assert "virtual time 72h" in out
    stamped_days = {line[:3] for line in out.splitlines() if "? question" in line}
    assert stamped_days == {"Tue", "Wed", "Thu"}


def test_demo_refuses_to_overwrite_a_non_demo_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--db pointing at an existing non-demo file exits 2 and leaves the file untouched."""
    prod = tmp_path / "prod.db"
    with sqlite3.connect(prod) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
        conn.execute("INSERT INTO customers VALUES ('precious')")
    before = prod.read_bytes()
    code, out, err = demo(capsys, prod)
    assert code == 2
    assert "does not look like a demo database" in err
    assert "--replace" in err
    assert "? question" not in out
    assert prod.read_bytes() == before


def test_demo_replace_overwrites(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--replace lets the demo overwrite a non-demo file with a fresh demo database."""
    prod = tmp_path / "prod.db"
    with sqlite3.connect(prod) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
    code, out, err = demo(capsys, prod, "--replace")
    assert code == 0, err
    with sqlite3.connect(prod) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        count = conn.execute("SELECT COUNT(*) FROM questions WHERE state <> 'dismissed'")
        assert count.fetchone()[0] == printed_count(out)
    assert "customers" not in tables
    assert "questions" in tables


def test_demo_subprocess_finishes_quickly(tmp_path: Path) -> None:
    """`python -m bot demo` works from any directory and finishes in under 10 seconds."""
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    elapsed = time.monotonic() - began
    assert done.returncode == 0, done.stderr
    assert elapsed < 10, f"demo took {elapsed:.1f}s"
    assert "? question" in done.stdout
    assert "Time to first response: median" in done.stdout
    assert (tmp_path / "frontline-demo.db").is_file()


# --- migrate and report ----------------------------------------------------------------------


def test_migrate_prints_the_schema_version(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`migrate --db` applies the schema once and reports the version each time."""
    db = tmp_path / "sub" / "fresh.db"
    latest = len(discover())
    code, out, _ = run(capsys, "migrate", "--db", str(db))
    assert code == 0
    assert out.strip() == f"Applied {latest} migration(s); schema version {latest}."
    code, out, _ = run(capsys, "migrate", "--db", str(db))
    assert code == 0
    assert out.strip() == f"Applied 0 migration(s); schema version {latest}."


def test_migrate_uses_the_configured_database(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without --db, migrate uses FRONTLINE_DATABASE_URL."""
    db = tmp_path / "configured.db"
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", f"sqlite:///{db}")
    code, out, _ = run(capsys, "migrate")
    assert code == 0
    assert f"schema version {len(discover())}" in out
    assert db.is_file()


def test_migrate_refuses_a_newer_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A database written by a newer release makes migrate exit 1 and stay untouched."""
    db = tmp_path / "future.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    code, _, err = run(capsys, "migrate", "--db", str(db))
    assert code == 1
    assert err.startswith("Migration failed:")
    assert "newer release" in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99


def test_report_json_matches_the_demo(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`report --format json` on a demo database counts the questions the demo printed."""
    db = tmp_path / "r-demo.db"
    # Play a day that lies safely inside the report window, whatever today is.
    start = (datetime.now(UTC) - timedelta(days=3)).date()
    code, out, err = demo(capsys, db, "--seed", "5", "--start", start.isoformat())
    assert code == 0, err
    printed = printed_count(out)
    code, out, err = run(capsys, "report", "--db", str(db), "--since", "30d", "--format", "json")
    assert code == 0, err
    data = json.loads(out)["figures"]
    assert data["questions"] == printed
    assert data["answered"] <= data["questions"]
    assert data["answered_by_staff"] + data["answered_by_community"] == data["answered"]
    assert data["answered_share"] == pytest.approx(data["answered"] / data["questions"])
    assert data["ttfr_median_seconds"] <= data["ttfr_p90_seconds"]


def test_report_default_demo_day(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The default demo day (2026-11-24) shows up in a wide report window."""
    db = tmp_path / "d-demo.db"
    _, out, _ = demo(capsys, db)
    printed = printed_count(out)
    code, out, _ = run(capsys, "report", "--db", str(db), "--since", "400d", "--format", "json")
    assert code == 0
    assert json.loads(out)["figures"]["questions"] == printed


def test_report_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The default table report prints the same figure lines as the demo."""
    db = tmp_path / "t-demo.db"
    start = (datetime.now(UTC) - timedelta(days=3)).date()
    _, demo_out, _ = demo(capsys, db, "--start", start.isoformat())
    code, out, _ = run(capsys, "report", "--db", str(db), "--since", "30d")
    assert code == 0
    rows = {line.split("  ")[0]: line.split() for line in out.splitlines()[2:]}
    assert rows["questions"][1] == str(printed_count(demo_out))
    assert "ttfr median seconds" in rows


def test_report_on_an_empty_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A report over a database with no questions shows zeros and dashes, not an error."""
    code, out, _ = run(capsys, "report", "--db", str(tmp_path / "empty.db"), "--format", "json")
    assert code == 0
    data = json.loads(out)["figures"]
    assert data["questions"] == 0
    assert data["answered_share"] is None
    assert data["ttfr_median_seconds"] is None
    assert data["target_attainment"] is None


def test_report_markdown_and_csv(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`--format markdown` gives a Markdown table, `--format csv` a CSV with a header row."""
    db = tmp_path / "md-demo.db"
    start = (datetime.now(UTC) - timedelta(days=2)).date()
    code, out, err = demo(capsys, db, "--start", start.isoformat())
    assert code == 0, err
    printed = printed_count(out)
    code, out, _ = run(capsys, "report", "--db", str(db), "--since", "7d", "--format", "markdown")
    assert code == 0
    assert out.splitlines()[1] == "|---|---:|---:|"
    assert f"| questions | {printed} |" in out
    code, out, _ = run(capsys, "report", "--db", str(db), "--since", "7d", "--format", "csv")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "figure,value,previous"
    assert f"questions,{printed},0" in lines


def test_config_option_after_the_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    """`frontline check-config --config F` works like `frontline --config F check-config`."""
    example = str(Path(__file__).resolve().parents[2] / "config" / "frontline.example.toml")
    code, after, _ = run(capsys, "check-config", "--config", example)
    assert code == 0 and after.startswith("Configuration OK")
    code, before, _ = run(capsys, "--config", example, "check-config")
    assert (code, before) == (0, after)
