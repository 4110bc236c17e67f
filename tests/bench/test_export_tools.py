"""Tests for bench/export_tools.py: synthetic exports, the IRC and Clojurians converters, truth."""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from bot.core.events import MessagePosted
from bot.core.model import Message, MessageRef, UserRef
from bot.imports import SlackExportReader
from bot.simulate import Community

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NO_DATA = "shared chat data not found: set FRONTLINE_SHARED_DATA or provide ../shared/data"


@functools.cache
def tools() -> ModuleType:
    path = PROJECT_ROOT / "bench" / "export_tools.py"
    spec = importlib.util.spec_from_file_location("export_tools", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["export_tools"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def irc_dir() -> Path:
    source = tools().irc_source()
    if source is None:
        pytest.skip(NO_DATA)
    return source


def clojurians_dir() -> Path:
    source = tools().clojurians_source()
    if source is None:
        pytest.skip(NO_DATA)
    return source


# ---------------------------------------------------------------- synthetic


def test_community_round_trip_gives_the_same_messages(tmp_path: Path) -> None:
    """Community events written as a Slack export read back as the same conversations."""
    events = Community(seed=3, days=4).events()
    posted = [e.event.message for e in events if isinstance(e.event, MessagePosted)]
    summary = tools().write_slack_export(tmp_path / "export", events, team="T0SIM")
    assert summary.messages == len(posted)
    assert summary.orphans == 0
    reader = SlackExportReader(tmp_path / "export")
    back = list(reader.messages())
    assert reader.problems == []
    assert len(back) == len(posted)
    assert sorted(reader.channel_names.values()) == ["general", "help", "support"]

    def key(m: Message) -> tuple[datetime, str, str]:
        return m.posted_at, m.author.name, m.text

    ts_by_id: dict[str, str] = {}
    pairs = list(zip(sorted(posted, key=key), sorted(back, key=_key_back), strict=True))
    for original, read in pairs:
        ts_by_id[original.ref.message] = read.ref.message
    for original, read in pairs:
        assert read.posted_at == original.posted_at
        assert reader.channel_names[read.ref.channel] == original.ref.channel
        assert read.author.name == original.author.name
        assert read.author.is_bot == original.author.is_bot
        assert reader.user_name(read.author.user) == original.author.name
        expected_text = original.text
        for name, uid in zip(original.mentions, read.mentions, strict=True):
            assert reader.user_name(uid) == name
            expected_text = expected_text.replace(f"@{name}", f"<@{uid}>")
        assert read.text == expected_text
        if original.thread_root is None:
            assert read.thread_root is None
        else:
            assert read.thread_root is not None
            assert read.thread_root.message == ts_by_id[original.thread_root.message]
    assert [m.posted_at for m in back] == sorted(m.posted_at for m in posted)


def _key_back(m: Message) -> tuple[datetime, str, str]:
    text = m.text
    for uid in m.mentions:
        text = text.replace(f"<@{uid}>", "@?")
    return m.posted_at, m.author.name, text


def test_synthetic_events_hit_the_count_in_time_order(tmp_path: Path) -> None:
    """The generator yields exactly N posts, in time order, with unique ids across weeks."""
    events = list(tools().synthetic_events(3_000, groups=2, chunk_days=3))
    posts = [e.event.message for e in events if isinstance(e.event, MessagePosted)]
    assert len(posts) == 3_000
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert len({(m.ref.channel, m.ref.message) for m in posts}) == 3_000
    assert {m.ref.channel for m in posts} == {
        f"{name}-{g}" for name in ("help", "support", "general") for g in (0, 1)
    }
    summary = tools().write_slack_export(tmp_path / "synth", events)
    assert summary.orphans == 0
    back = list(SlackExportReader(tmp_path / "synth").messages())
    assert len(back) == 3_000
    assert sum(1 for m in back if m.thread_root) == sum(1 for m in posts if m.thread_root)


def test_synth_command_writes_an_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`export_tools.py synth` writes a readable export and says how big and how fast."""
    assert tools().main(["synth", "--messages", "500", "--out", str(tmp_path / "s")]) == 0
    said = capsys.readouterr().out
    assert "synthetic export: 500 messages" in said
    assert "MB on disk" in said and "peak RSS" in said
    reader = SlackExportReader(tmp_path / "s")
    assert sum(1 for _ in reader.messages()) == 500
    assert reader.space == "TSYNTHETIC"


def test_writer_accepts_late_messages_and_keeps_ts_unique(tmp_path: Path) -> None:
    """A message for an already closed day is appended in place; equal times get unique ts."""
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    user = UserRef("local", "demo", "maria", "maria")

    def post(n: int, when: datetime) -> MessagePosted:
        ref = MessageRef("local", "demo", "help", f"m{n}")
        return MessagePosted(None, Message(ref, user, f"message {n}", when))

    day2 = at + timedelta(days=1)
    events = [post(1, at), post(2, day2), post(3, at), post(4, at), post(5, day2)]
    tools().write_slack_export(tmp_path / "e", events)
    back = list(SlackExportReader(tmp_path / "e").messages())
    assert [m.text for m in back] == [f"message {n}" for n in (1, 3, 4, 2, 5)]
    assert len({m.ref.message for m in back}) == 5
    assert back[1].posted_at - back[0].posted_at == timedelta(microseconds=1)
    for path in (tmp_path / "e" / "help").iterdir():
        json.loads(path.read_text())  # every day file is still a valid array


# ---------------------------------------------------------------- IRC (own sample)


def test_irc_log_times_clock_wraps_and_mentions(tmp_path: Path) -> None:
    """A 12-hour wrap moves on a minute; addressing a nick present becomes a mention."""
    log = tmp_path / "2010-01-31_12.ascii.txt"
    log.write_text(
        "[12:59] <alice> how do I mount an iso?\n"
        "=== bob [n=bob@example]  has joined #ubuntu\n"
        "[01:00] <bob> alice: sudo mount -o loop x.iso /mnt\n"
        "[01:00]  * alice waves\n"
        "[01:01] <carol> the: is not a nick here\n"
        "[01:02] <dave> BOB, thanks\n"
        "[01:02] <erin>\n"
    )
    lines = tools().read_irc_log(log)
    assert lines[1] is None and lines[6] is None
    ask, answer, wave, carol, dave = (line for line in lines if line is not None)
    start = datetime(2010, 1, 31, 12, 59, tzinfo=UTC)
    assert datetime.fromtimestamp(float(ask.ts), UTC) == start
    gap = datetime.fromtimestamp(float(answer.ts), UTC) - start
    assert gap == timedelta(minutes=1, milliseconds=2)
    assert answer.text == f"<@{tools().irc_user_id('alice')}>: sudo mount -o loop x.iso /mnt"
    assert wave.action and wave.text == "waves"
    assert carol.text == "the: is not a nick here"
    assert dave.text == f"<@{tools().irc_user_id('bob')}>, thanks"
    assert [x.ts for x in (ask, answer, wave, carol, dave)] == sorted(
        (x.ts for x in (ask, answer, wave, carol, dave)), key=float
    )


def test_irc_log_midnight_moves_to_the_next_day(tmp_path: Path) -> None:
    """On a 24-hour clock a step back past midnight is the next day."""
    log = tmp_path / "2015-03-18_05.ascii.txt"
    log.write_text("[23:58] <alice> still up?\n[00:02] <bob> yes\n")
    first, second = tools().read_irc_log(log)
    assert first is not None and second is not None
    gap = float(second.ts) - float(first.ts)
    assert gap == pytest.approx(4 * 60 + 0.001)


def test_irc_truth_can_follow_the_askers_follow_ups(tmp_path: Path) -> None:
    """An answer linked to the asker's follow-up line answers the conversation start."""
    logs = tmp_path / "test"
    logs.mkdir()
    (logs / "2010-01-31_12.ascii.txt").write_text(
        "[12:00] <alice> hi, I have a long question\n"
        "[12:00] <alice> here it is: how do I mount an iso?\n"
        "[12:01] <bob> alice: sudo mount -o loop x.iso /mnt\n"
        "[12:02] <carol> anyone using kde?\n"
    )
    (logs / "2010-01-31_12.annotation.txt").write_text("0 0 -\n0 1 -\n1 2 -\n3 3 -\n")
    direct = {t.ts: t for t in tools().irc_truth(tmp_path) if t.is_conversation_start}
    followed = {
        t.ts: t for t in tools().irc_truth(tmp_path, follow_ups=True) if t.is_conversation_start
    }
    lines = [line for line in tools().read_irc_log(logs / "2010-01-31_12.ascii.txt") if line]
    start, _, answer, other = lines
    assert direct[start.ts].answered is False
    assert followed[start.ts].answered is True
    assert followed[start.ts].first_responder == tools().irc_user_id("bob")
    assert followed[start.ts].first_response_ts == answer.ts
    assert followed[other.ts].answered is False


def test_converters_refuse_a_folder_that_is_not_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Writing into an existing export would double it: the command says so and stops."""
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "channels.json").write_text("[]")
    assert tools().main(["synth", "--messages", "10", "--out", str(tmp_path / "s")]) == 2
    assert "is not empty" in capsys.readouterr().err


# ---------------------------------------------------------------- real data


def test_irc_export_and_truth_on_the_real_data(tmp_path: Path) -> None:
    """The IRC logs become one channel; the truth has 832 conversation starts, all in it."""
    source = irc_dir()
    summary = tools().irc_to_slack(source, tmp_path / "irc")
    reader = SlackExportReader(tmp_path / "irc")
    messages = {m.ref.message: m for m in reader.messages()}
    assert len(messages) == summary.messages > 20_000
    assert reader.problems == []
    assert reader.channel_names == {tools().IRC_CHANNEL_ID: "ubuntu"}
    assert all(m.thread_root is None for m in messages.values())
    assert sum(1 for m in messages.values() if m.mentions) > 5_000
    assert reader.user_is_bot(tools().irc_user_id("ubottu"))

    truth = tools().irc_truth(source)
    starts = [t for t in truth if t.is_conversation_start]
    assert len(starts) == 832
    for row in truth:
        message = messages[row.ts]
        assert message.author.user == row.user
    answered = [t for t in starts if t.answered]
    assert 300 < len(answered) < 400
    for row in answered:
        assert row.first_responder != row.user
        assert row.first_response_ts is not None and float(row.first_response_ts) > float(row.ts)
        assert messages[row.first_response_ts].author.user == row.first_responder
    assert all(t.answered is None for t in truth if not t.is_conversation_start)
    assert all(not t.censored for t in answered)
    assert 0 < sum(1 for t in starts if t.censored) < 150
    question_starts = [t for t in starts if "?" in messages[t.ts].text]
    assert len(question_starts) == 414


def test_clojurians_export_and_truth_on_the_real_data(tmp_path: Path) -> None:
    """195 threads, 181 with the parent in the logs, 175 answered in-thread by someone else."""
    source = clojurians_dir()
    assert tools().clojurians_thread_counts(source) == {
        "threads": 195,
        "parents_in_logs": 181,
        "answered_in_thread": 175,
    }
    tools().clojurians_to_slack(source, tmp_path / "clj")
    reader = SlackExportReader(tmp_path / "clj")
    messages = {(m.ref.channel, m.ref.message): m for m in reader.messages()}
    assert reader.problems == []
    assert reader.space == "T03RZGPFR"
    assert reader.channel_names["C03S1KBA2"] == "clojure"
    assert "subtype message_changed" not in reader.skipped
    assert "subtype message_replied" not in reader.skipped
    assert reader.skipped["subtype channel_join"] > 1_000
    kinds = Counter("reply" if m.thread_root else "top" for m in messages.values())
    assert 640 <= kinds["reply"] <= 655  # 655 replies posted, a few deleted later
    assert sum(1 for m in messages.values() if m.author.is_bot) >= 100

    truth = tools().clojurians_truth(source)
    starts = [t for t in truth if t.is_conversation_start]
    # One of the 181 parents (spam) was deleted afterwards; the export holds a tombstone.
    assert len(starts) == 180
    assert sum(1 for t in starts if t.answered) == 174
    assert all(t.answered is None for t in truth if not t.is_conversation_start)
    for row in truth:
        assert messages[(row.channel, row.ts)].author.user == row.user
        assert messages[(row.channel, row.ts)].thread_root is None
    replies_seen = 0
    for row in starts:
        if row.answered:
            assert row.first_responder != row.user
            reply = messages.get((row.channel, row.first_response_ts))
            if reply is not None:  # a reply deleted afterwards is not in the export
                replies_seen += 1
                assert reply.thread_root == MessageRef("slack", reader.space, row.channel, row.ts)
    assert replies_seen >= 170


def test_converter_commands_say_when_data_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the shared data the commands explain where it is looked for and exit 0."""
    monkeypatch.setenv("FRONTLINE_SHARED_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(SystemExit) as exited:
        tools().main(["irc", "--out", str(tmp_path / "x")])
    assert exited.value.code == 0
    assert "FRONTLINE_SHARED_DATA" in capsys.readouterr().out
    assert not (tmp_path / "x").exists()
