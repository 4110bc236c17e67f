"""A replay split by channel over several processes finds exactly what one process finds."""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import os
import pickle
import signal
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import replay_workers
from bot.cli import main
from bot.core.model import MessageRef, Question, QuestionState, ResponderRole, Stage
from bot.imports import open_export
from bot.imports.common import ConversationSize
from bot.replay import ReplayOptions, ReplayResult, replay, write_results
from bot.replay_workers import WorkerFailed, split
from tests.bench.test_export_tools import clojurians_dir, tools
from tests.bot.imports.test_discord_export import (
    MARIA,
    SVEN,
    T0,
    channel_file,
    dmsg,
    text_channel,
    thread_channel,
)
from tests.bot.imports.test_slack_export import zip_folder


def results(result: ReplayResult) -> str:
    out = io.StringIO()
    write_results(result, out)
    return out.getvalue()


async def both(path: Path, workers: int, **options: object) -> tuple[ReplayResult, ReplayResult]:
    one = await replay(ReplayOptions(path, progress=False, workers=1, **options))  # type: ignore[arg-type]
    many = await replay(ReplayOptions(path, progress=False, workers=workers, **options))  # type: ignore[arg-type]
    return one, many


def assert_same(one: ReplayResult, many: ReplayResult, workers: int) -> None:
    assert one.workers == 1
    assert many.workers == workers
    assert results(many) == results(one)
    # Each process numbers its own questions: the same questions, by their messages.
    assert replace(many.figures, oldest_waiting=()) == replace(one.figures, oldest_waiting=())
    assert [q.ref for q in many.figures.oldest_waiting] == [
        q.ref for q in one.figures.oldest_waiting
    ]
    assert (many.messages, many.nudges, many.start, many.end) == (
        one.messages,
        one.nudges,
        one.start,
        one.end,
    )
    assert [str(p) for p in many.problems] == [str(p) for p in one.problems]


@pytest.fixture
def any_size_splits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small test exports are split too (a real one needs megabytes per part)."""
    monkeypatch.setattr(replay_workers, "MIN_PART_BYTES", 1)


def test_a_question_crosses_between_processes_whole() -> None:
    """Workers pickle their questions to the parent: every field comes back as it was."""
    at = datetime(2024, 3, 5, 9, tzinfo=UTC)
    question = Question(
        7, MessageRef("slack", "T1", "C1", "1.5"), "C1", "U1", "Ana", "how?", 0.8,
        ("ends with '?'", "asks how"), at, QuestionState.ANSWERED, Stage.WARNED, True, 3600,
        "support", at, at, None, at, "U2", "2.5", ResponderRole.STAFF, "reply", 61.0, 30.5,
        at, "U3", at, 2, 3,
    )  # fmt: skip
    copy = pickle.loads(pickle.dumps(question))
    assert copy == question
    assert [getattr(copy, f.name) for f in fields(Question)] == [
        getattr(question, f.name) for f in fields(Question)
    ]


def test_split_balances_bytes_and_keeps_threads_with_their_channel(any_size_splits: None) -> None:
    sizes = [
        ConversationSize("big", "big", 900),
        ConversationSize("a", "a", 300),
        ConversationSize("a-thread", "a", 200),
        ConversationSize("b", "b", 400),
        ConversationSize("c", "c", 100),
    ]
    # Largest first into the lightest part: big | a (with its thread), b | c.
    assert split(sizes, 2) == [["big", "c"], ["a", "a-thread", "b"]]


def test_split_stays_in_one_part_when_small_or_single_channel(any_size_splits: None) -> None:
    assert split([ConversationSize("only", "only", 10**9)], 4) == [["only"]]
    assert len(split([ConversationSize(c, c, 5) for c in "abc"], 8)) == 3


def test_a_small_export_is_not_worth_a_second_process() -> None:
    sizes = [ConversationSize(c, c, 1_000_000) for c in "abcdef"]
    assert len(split(sizes, 4)) == 1  # 6 MB: one part of at least 4 MB each
    assert len(split([ConversationSize(c, c, 4_000_000) for c in "abcdef"], 4)) == 4


async def test_a_slack_export_split_over_three_processes_gives_the_same_lines(
    tmp_path: Path, any_size_splits: None
) -> None:
    export = tmp_path / "synth"
    tools().write_slack_export(export, tools().synthetic_events(4000))
    one, many = await both(export, 3, all_messages=True)
    assert_same(one, many, 3)
    assert len(one.questions) > 500
    assert one.nudges > 500
    assert any(line["state"] == "not_a_question" for line in one.not_questions)


async def test_problems_in_the_export_read_the_same_split(
    tmp_path: Path, any_size_splits: None
) -> None:
    """Broken files in several channels: the same problems, in the same order, skipped alike."""
    export = tmp_path / "synth"
    tools().write_slack_export(export, tools().synthetic_events(1500))
    folders = sorted(d for d in export.iterdir() if d.is_dir())
    broken = [sorted(folder.glob("*.json"))[0] for folder in folders[:6:2]]
    for day in broken:
        day.write_text(day.read_text()[:-40])  # cut off: bad JSON
    one, many = await both(export, 3)
    assert_same(one, many, 3)
    assert len(one.problems) == len(broken) == 3
    assert [p.source for p in one.problems] == sorted(p.source for p in one.problems)


async def test_a_zipped_export_splits_like_its_folder(
    tmp_path: Path, any_size_splits: None
) -> None:
    """Each worker reads its channels from the zip itself (the sizes come from its index)."""
    export = tmp_path / "synth"
    tools().write_slack_export(export, tools().synthetic_events(1500))
    zipped = zip_folder(export, tmp_path / "synth.zip", prefix="acme export/")
    folder = await replay(ReplayOptions(export, progress=False, workers=1))
    many = await replay(ReplayOptions(zipped, progress=False, workers=2))
    assert_same(folder, many, 2)


async def test_the_end_is_the_last_message_of_the_whole_export(
    tmp_path: Path, any_size_splits: None
) -> None:
    """A channel that went quiet early still sweeps to the end: its late breaches count."""
    export = tmp_path / "synth"
    tools().write_slack_export(export, tools().synthetic_events(1500))
    last = max(m.posted_at for m in open_export(export).messages())
    one, many = await both(export, 2, until=last + timedelta(days=3))
    assert_same(one, many, 2)
    assert many.end == last + timedelta(days=3)


async def test_a_discord_thread_is_replayed_with_its_channel(
    tmp_path: Path, any_size_splits: None
) -> None:
    """Answers in thread files count only if the thread plays beside its parent channel."""
    folder = tmp_path / "discord"
    for n in range(4):
        channel, thread = f"91000000000000001{n}", f"92000000000000001{n}"
        channel_file(
            folder / f"Example - ch{n}.json",
            text_channel(channel, f"ch{n}"),
            [
                dmsg(f"21{n}01", n, MARIA, f"How do I rotate key number {n}?"),
                dmsg(thread, 10 + n, SVEN, f"Why does build {n} fail on arm64?"),
                dmsg(f"21{n}02", 200 + n, SVEN, "Anyone know where the logs are kept?"),
            ],
        )
        channel_file(
            folder / f"Example - ch{n} - build.json",
            thread_channel(thread, channel, f"ch{n}", "build"),
            [dmsg(f"31{n}01", 30 + n, MARIA, "it needs the cross toolchain, see docs")],
        )
    one, many = await both(folder, 4)
    assert_same(one, many, 4)
    answered = [q for q in many.questions if q.first_response_at is not None]
    assert len(answered) == 4
    assert all(q.first_responder == MARIA["id"] for q in answered)
    assert min(q.asked_at for q in many.questions) == T0


async def test_the_clojurians_export_gives_the_same_lines_split(
    tmp_path: Path, any_size_splits: None
) -> None:
    source = clojurians_dir()
    tools().clojurians_to_slack(source, tmp_path / "clj")
    one, many = await both(tmp_path / "clj", 2)
    assert_same(one, many, 2)
    assert len(one.questions) > 500


async def test_a_worker_that_dies_fails_the_replay_with_a_clear_message(
    tmp_path: Path, any_size_splits: None
) -> None:
    export = tmp_path / "synth"
    tools().write_slack_export(export, tools().synthetic_events(30_000))
    running = asyncio.create_task(replay(ReplayOptions(export, progress=False, workers=2)))
    for _ in range(600):
        children = multiprocessing.active_children()
        if children:
            break
        await asyncio.sleep(0.01)
    assert children, "no worker started"
    os.kill(children[0].pid or 0, signal.SIGKILL)
    with pytest.raises(
        WorkerFailed, match=r"replay worker frontline-replay-\d died \(exit code -9\)"
    ):
        await running
    await asyncio.sleep(0)
    assert not any(p.is_alive() for p in multiprocessing.active_children())


def test_the_command_takes_a_number_of_workers(
    tmp_path: Path, any_size_splits: None, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "synth"
    tools().write_slack_export(export, tools().synthetic_events(1000))
    with pytest.raises(SystemExit) as exit_info:
        main(["replay", str(export), "--workers", "0"])
    assert exit_info.value.code == 2
    assert "'0' is not a whole number of at least 1" in capsys.readouterr().err
    out = tmp_path / "results.jsonl"
    assert main(["replay", str(export), "--workers", "2", "--out", str(out)]) == 0
    assert "## What if the target had been" in capsys.readouterr().out
    split_lines = out.read_text()
    assert main(["replay", str(export), "--workers", "1", "--out", str(out)]) == 0
    assert out.read_text() == split_lines
