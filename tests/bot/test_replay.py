"""Replay: an export goes through the live pipeline on a virtual clock, nothing is posted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.replay import ReplayOptions, render_report, replay, result_line, what_if

KEYS = [
    "platform",
    "channel",
    "ts",
    "user",
    "text",
    "score",
    "state",
    "first_response_ts",
    "first_responder",
    "responder_role",
    "ttfr_seconds",
    "ttfr_business_seconds",
    "breached",
    "nudges",
]
DAY = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)


def ts(minutes: float) -> str:
    """A Slack ts `minutes` after 09:00 UTC on the test day."""
    return f"{DAY.timestamp() + minutes * 60:.6f}"


def write_export(root: Path, days: dict[str, list[dict]], extra: dict[str, str] | None = None):
    """A minimal Slack workspace export: channels.json, users.json, help/<day>.json."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "channels.json").write_text(
        json.dumps([{"id": "C1", "name": "help"}, {"id": "C2", "name": "random"}])
    )
    (root / "users.json").write_text(
        json.dumps(
            [
                {"id": u, "name": u.lower(), "team_id": "T9"}
                for u in ("U1", "U2", "U3", "U4", "STAFF")
            ]
            + [{"id": "UBOT", "name": "bot", "is_bot": True, "team_id": "T9"}]
        )
    )
    for folder in ("help", "random"):
        (root / folder).mkdir(exist_ok=True)
    for name, messages in days.items():
        (root / name).write_text(json.dumps(messages))
    for name, raw in (extra or {}).items():
        (root / name).write_text(raw)
    return root


def msg(user: str, minutes: float, text: str, thread: float | None = None, **kw) -> dict:
    """One Slack message event as exports store it."""
    data = {"type": "message", "user": user, "text": text, "ts": ts(minutes), **kw}
    if thread is not None:
        data["thread_ts"] = ts(thread)
    return data


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """Three questions: one answered in 10 min, one answered late, one never; plus chatter."""
    return write_export(
        tmp_path / "export",
        {
            "help/2024-03-05.json": [
                msg("U1", 0, "How do I rotate my API key?"),
                msg("U2", 10, "Settings > Keys > Rotate", thread=0),
                msg("U3", 20, "getting ImportError when I run the CLI"),
                msg("U3", 25, "any ideas?", thread=20),
                msg("U1", 30, "thanks everyone!"),
                msg(
                    "UBOT",
                    31,
                    "Deploy done. Anyone seeing issues?",
                    bot_id="B1",
                    subtype="bot_message",
                ),
                msg("U4", 40, "Why does the dashboard show 0 users?"),
                msg("STAFF", 200, "Looking into it", thread=20),
            ],
            "random/2024-03-05.json": [msg("U2", 5, "What's everyone doing this weekend?")],
        },
    )


async def test_replay_tracks_questions_like_the_live_bot(export: Path) -> None:
    """Questions, first responses (thread replies by others), breaches and nudges are counted."""
    result = await replay(ReplayOptions(export, channels=["help"]))
    by_user = {q.asker: q for q in result.questions}
    assert set(by_user) == {"U1", "U3", "U4"}
    assert by_user["U1"].first_responder == "U2"
    assert by_user["U1"].ttfr_seconds == pytest.approx(600)
    assert by_user["U3"].first_responder == "STAFF"  # the asker's own "any ideas?" did not count
    assert by_user["U3"].breached and not by_user["U1"].breached
    assert by_user["U4"].first_response_at is None
    assert result.figures.questions == 3 and result.figures.answered == 2
    assert result.nudges >= 1


async def test_results_lines_have_exactly_the_documented_keys(export: Path) -> None:
    """results.jsonl lines carry exactly the documented keys, ts in Slack form."""
    result = await replay(ReplayOptions(export, channels=["help"]))
    line = result_line(next(q for q in result.questions if q.asker == "U1"))
    assert list(line) == KEYS
    assert line["ts"] == ts(0) and line["first_response_ts"] == ts(10)
    assert line["responder_role"] == "community" and line["breached"] is False


async def test_what_if_table_shows_other_targets(export: Path) -> None:
    """Within 15 min only the first question was answered; within 4 h both answered ones."""
    result = await replay(ReplayOptions(export, channels=["help"]))
    rows = {label: (met, decided) for label, met, decided in what_if(result)}
    assert rows["15 min"][0] == 1
    assert rows["4 h"][0] == 2
    report = render_report(result, "export", lambda q: q.ref.message)
    for heading in (
        "## Figures",
        "## What if the target had been",
        "## Per day",
        "## Longest-waiting unanswered questions",
    ):
        assert heading in report
    assert "Why does the dashboard show 0 users?" in report


async def test_channels_filter_and_bots(export: Path) -> None:
    """Without a filter both channels replay; the bot's question is never tracked."""
    result = await replay(ReplayOptions(export))
    askers = {q.asker for q in result.questions}
    assert "U2" in askers  # the question in #random
    assert "UBOT" not in askers


async def test_malformed_file_is_reported_and_the_rest_replays(tmp_path: Path) -> None:
    """A broken day file becomes a problem with its name; other days still replay."""
    root = write_export(
        tmp_path / "broken",
        {"help/2024-03-05.json": [msg("U1", 0, "How do I rotate my API key?")]},
        extra={"help/2024-03-06.json": '[{"type": "message", "user": '},
    )
    result = await replay(ReplayOptions(root))
    assert len(result.questions) == 1
    assert any("2024-03-06.json" in str(p) for p in result.problems)


def test_cli_writes_results_and_report(export: Path, tmp_path: Path, capsys) -> None:
    """`frontline replay` writes results.jsonl and the report and prints the report."""
    out, report = tmp_path / "results.jsonl", tmp_path / "report.md"
    code = main(
        [
            "replay",
            str(export),
            "--channels",
            "help",
            "--out",
            str(out),
            "--report",
            str(report),
            "--all-messages",
        ]
    )
    assert code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    states = {line["state"] for line in lines}
    assert "not_a_question" in states and "answered" in states
    assert all(list(line) == KEYS for line in lines)
    assert report.read_text().startswith("# Frontline replay: export")
    assert "## What if the target had been" in capsys.readouterr().out


def test_cli_refuses_missing_export(tmp_path: Path, capsys) -> None:
    """A path that does not exist is a clear error with exit status 2."""
    assert main(["replay", str(tmp_path / "nope")]) == 2
    assert "replay:" in capsys.readouterr().err


def _scratch_folders() -> set[Path]:
    import tempfile

    return set(Path(tempfile.gettempdir()).glob("frontline-replay-*"))


async def test_replay_works_on_a_scratch_database_it_removes(export: Path) -> None:
    """By default the replay's database is a temporary file, gone once the replay is done."""
    before = _scratch_folders()
    result = await replay(ReplayOptions(export, channels=["help"]))
    assert result.figures.questions == 3
    assert _scratch_folders() == before


async def test_replay_into_a_database_file_keeps_it(export: Path, tmp_path: Path) -> None:
    """Asked for a database file, the replay leaves its questions there to look at."""
    import sqlite3

    db = tmp_path / "kept.db"
    await replay(ReplayOptions(export, channels=["help"], database=str(db)))
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 3


async def test_result_repr_stays_short(export: Path) -> None:
    """The result's repr names the size, not every question (asyncio.run formats it)."""
    result = await replay(ReplayOptions(export, channels=["help"]))
    assert repr(result).startswith("ReplayResult(slack, 8 messages, 3 questions")
