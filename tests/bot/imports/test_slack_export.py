"""Tests for bot.imports.slack_export: Slack workspace exports (folders, zips) as messages."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.model import MessageRef
from bot.imports import SlackExportReader, detect_format, open_export
from bot.imports.common import ExportReader

TEAM = "T0TEAM"


def ts(day: int, hour: int, minute: int = 0, micro: int = 0) -> str:
    """A Slack ts for 2024-03-<day> <hour>:<minute> UTC."""
    moment = datetime(2024, 3, day, hour, minute, tzinfo=UTC)
    return f"{int(moment.timestamp())}.{micro:06d}"


def msg(stamp: str, user: str = "U1", text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "user": user, "text": text, "ts": stamp, **extra}


USERS = [
    {"id": "U1", "team_id": TEAM, "name": "maria", "profile": {"display_name": "Maria"}},
    {"id": "U2", "team_id": TEAM, "name": "sven", "real_name": "Sven S", "profile": {}},
    {"id": "UBOT", "team_id": TEAM, "name": "deploybot", "is_bot": True, "profile": {}},
    {"id": "U9", "team_id": TEAM, "name": "gone", "deleted": True, "profile": {}},
]
CHANNELS = [
    {"id": "C1", "name": "general"},
    {"id": "C2", "name": "help"},
]


def write_export(
    root: Path,
    days: dict[str, dict[str, Any]],
    *,
    channels: list[dict[str, Any]] | None = None,
    users: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write an export folder: `days` maps 'folder/YYYY-MM-DD.json' to its content."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "channels.json").write_text(json.dumps(CHANNELS if channels is None else channels))
    (root / "users.json").write_text(json.dumps(USERS if users is None else users))
    for name, content in (extra or {}).items():
        (root / name).write_text(content if isinstance(content, str) else json.dumps(content))
    for name, content in days.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=1))
    return root


def zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
    return target


def basic_days() -> dict[str, Any]:
    return {
        "general/2024-03-04.json": [
            msg(ts(4, 9), "U1", "good morning"),
            msg(ts(4, 11), "U2", "How do I rotate API keys?"),
        ],
        "general/2024-03-05.json": [msg(ts(5, 8), "U1", "anyone?")],
        "help/2024-03-04.json": [
            msg(ts(4, 10), "U2", "why does the CLI crash?"),
            msg(ts(4, 12), "U1", "it is a known bug"),
        ],
    }


def test_folder_export_merges_channels_in_time_order(tmp_path: Path) -> None:
    """Messages of all channels come out in posted_at order, mapped like the live adapter."""
    reader = SlackExportReader(write_export(tmp_path / "export", basic_days()))
    messages = list(reader.messages())
    assert [m.text for m in messages] == [
        "good morning",
        "why does the CLI crash?",
        "How do I rotate API keys?",
        "it is a known bug",
        "anyone?",
    ]
    first = messages[0]
    assert first.ref == MessageRef("slack", TEAM, "C1", ts(4, 9))
    assert first.posted_at == datetime(2024, 3, 4, 9, tzinfo=UTC)
    assert first.author.name == "Maria"
    assert reader.platform == "slack"
    assert reader.space == TEAM
    assert reader.channel_names == {"C1": "general", "C2": "help"}
    assert reader.user_name("U2") == "Sven S"
    assert reader.user_name("U404") == "U404"
    assert reader.problems == []
    assert isinstance(reader, ExportReader)


def test_ts_keeps_microseconds_exactly(tmp_path: Path) -> None:
    """posted_at is exact to the microsecond, so ts and time agree for every message."""
    stamp = "1709546400.000936"
    export = write_export(tmp_path / "e", {"general/2024-03-04.json": [msg(stamp)]})
    (message,) = SlackExportReader(export).messages()
    assert message.posted_at.microsecond == 936
    assert message.ref.message == stamp


@pytest.mark.parametrize("prefix", ["", "my-export/"])
def test_zip_export_reads_like_the_folder(tmp_path: Path, prefix: str) -> None:
    """A .zip (at the top or inside one folder) gives the same messages as the folder."""
    folder = write_export(tmp_path / "export", basic_days())
    archive = zip_folder(folder, tmp_path / "export.zip", prefix)
    with SlackExportReader(folder) as plain, SlackExportReader(archive) as zipped:
        assert list(zipped.messages()) == list(plain.messages())
        assert zipped.channel_names == plain.channel_names
    assert detect_format(archive) == "slack-export"


def test_thread_replies_and_broadcasts_hang_from_their_root(tmp_path: Path) -> None:
    """Replies and broadcasts point at the parent; a parent (thread_ts == ts) is top-level."""
    root = ts(4, 9)
    days = {
        "help/2024-03-04.json": [
            msg(root, "U1", "how do I reset SSO?", thread_ts=root, reply_count=2),
            msg(ts(4, 9, 5), "U2", "try clearing cookies", thread_ts=root),
            msg(
                ts(4, 9, 7),
                "U1",
                "that worked, thanks",
                thread_ts=root,
                subtype="thread_broadcast",
            ),
        ]
    }
    messages = list(SlackExportReader(write_export(tmp_path / "e", days)).messages())
    parent_ref = MessageRef("slack", TEAM, "C2", root)
    assert messages[0].thread_root is None
    assert [m.thread_root for m in messages[1:]] == [parent_ref, parent_ref]


def test_bots_are_marked_by_bot_id_subtype_or_users_json(tmp_path: Path) -> None:
    """Authors with a bot_id, the bot_message subtype or a users.json bot entry are bots."""
    days = {
        "general/2024-03-04.json": [
            msg(ts(4, 9), "UBOT", "deploy finished"),
            {
                "type": "message",
                "subtype": "bot_message",
                "bot_id": "B7",
                "username": "CI",
                "text": "build green",
                "ts": ts(4, 10),
            },
            msg(ts(4, 11), "U2", "via an app", bot_id="B8"),
            msg(ts(4, 12), "U1", "a person"),
        ]
    }
    reader = SlackExportReader(write_export(tmp_path / "e", days))
    authors = [(m.author.user, m.author.is_bot) for m in reader.messages()]
    assert authors == [("UBOT", True), ("B7", True), ("U2", True), ("U1", False)]
    assert reader.user_is_bot("UBOT")
    assert reader.user_is_bot("B7")
    assert reader.user_name("B7") == "CI"
    assert not reader.user_is_bot("U1")


def test_housekeeping_subtypes_are_skipped_posts_kept(tmp_path: Path) -> None:
    """Joins, topics, edit events and tombstones are skipped; file shares and /me are kept."""
    days = {
        "general/2024-03-04.json": [
            msg(ts(4, 8), "U1", "<@U1> has joined the channel", subtype="channel_join"),
            msg(ts(4, 8, 1), "U1", "set the topic", subtype="channel_topic"),
            msg(ts(4, 8, 2), "U1", "", subtype="tombstone"),
            {
                "type": "message",
                "subtype": "message_changed",
                "hidden": True,
                "ts": ts(4, 8, 3),
                "message": msg(ts(4, 8), "U1", "edited"),
            },
            msg(ts(4, 9), "U1", "here is the log", subtype="file_share"),
            msg(ts(4, 10), "U2", "waves", subtype="me_message"),
            msg(ts(4, 11), "U2", "a hidden one", hidden=True),
        ]
    }
    reader = SlackExportReader(write_export(tmp_path / "e", days))
    assert [m.text for m in reader.messages()] == ["here is the log", "waves"]
    assert reader.skipped["subtype channel_join"] == 1
    assert reader.skipped["subtype message_changed"] == 1
    assert reader.skipped["hidden"] == 1
    assert reader.problems == []


def test_mentions_come_from_user_markup(tmp_path: Path) -> None:
    """<@U…> and <@W…|name> become mention ids, in order and without repeats."""
    text = "<@U2> and <@W3|bob>, also <@U2> again; <#C1|general> is not a user"
    days = {"general/2024-03-04.json": [msg(ts(4, 9), "U1", text)]}
    (message,) = SlackExportReader(write_export(tmp_path / "e", days)).messages()
    assert message.mentions == ("U2", "W3")


def test_private_conversations_are_flagged(tmp_path: Path) -> None:
    """groups.json, mpims.json, dms.json and is_private channels are private; DMs read by id."""
    channels = [*CHANNELS, {"id": "C3", "name": "secret-ch", "is_private": True}]
    extra = {
        "groups.json": [{"id": "G1", "name": "staff"}],
        "mpims.json": [{"id": "G2", "name": "mpdm-maria--sven-1"}],
        "dms.json": [{"id": "D1", "members": ["U1", "U2"]}],
    }
    days = {
        "staff/2024-03-04.json": [msg(ts(4, 9), "U1", "in staff")],
        "D1/2024-03-04.json": [msg(ts(4, 10), "U2", "in a DM")],
        "general/2024-03-04.json": [msg(ts(4, 11), "U2", "in public")],
    }
    reader = SlackExportReader(write_export(tmp_path / "e", days, channels=channels, extra=extra))
    assert [m.ref.channel for m in reader.messages()] == ["G1", "D1", "C1"]
    assert {c: reader.is_private(c) for c in ("C1", "C3", "G1", "G2", "D1")} == {
        "C1": False,
        "C3": True,
        "G1": True,
        "G2": True,
        "D1": True,
    }


@pytest.mark.parametrize("selected", [["help"], ["C2"], ["#help"], [" help "]])
def test_channel_filter_by_name_or_id(tmp_path: Path, selected: list[str]) -> None:
    """Only the listed channels are read, named by id, name or #name."""
    reader = SlackExportReader(write_export(tmp_path / "e", basic_days()), channels=selected)
    assert {m.ref.channel for m in reader.messages()} == {"C2"}


def test_since_is_inclusive_and_until_exclusive(tmp_path: Path) -> None:
    """since/until bound posted_at; naive bounds are UTC."""
    export = write_export(tmp_path / "e", basic_days())
    reader = SlackExportReader(
        export,
        since=datetime(2024, 3, 4, 10, tzinfo=UTC),
        until=datetime(2024, 3, 4, 12),  # noqa: DTZ001 - naive on purpose: taken as UTC
    )
    assert [m.text for m in reader.messages()] == [
        "why does the CLI crash?",
        "How do I rotate API keys?",
    ]


def test_malformed_files_are_reported_and_the_rest_still_reads(tmp_path: Path) -> None:
    """Bad JSON, a non-array day file and bad messages are reported with file and position."""
    days: dict[str, Any] = {
        "general/2024-03-04.json": '[\n  {"type": "message", "ts": "1709542800.000000",,}\n]',
        "general/2024-03-05.json": {"not": "a list"},
        "general/2024-03-06.json": [msg(ts(6, 9), "U1", "survivor")],
        "help/2024-03-04.json": [
            msg("yesterday", "U1", "bad ts"),
            "just a string",
            {"type": "message", "text": "nobody wrote this", "ts": ts(4, 10)},
            msg(ts(4, 11), "U2", "fine"),
        ],
    }
    reader = SlackExportReader(write_export(tmp_path / "e", days))
    assert [m.text for m in reader.messages()] == ["fine", "survivor"]
    found = {(p.source, p.position) for p in reader.problems}
    assert found == {
        ("general/2024-03-04.json", "line 2, column 49"),
        ("general/2024-03-05.json", "top level"),
        ("help/2024-03-04.json", "message 0"),
        ("help/2024-03-04.json", "message 1"),
        ("help/2024-03-04.json", "message 2"),
    }
    assert any("expected a JSON array" in str(p) for p in reader.problems)
    # A second pass reports the same problems once, not twice.
    list(reader.messages())
    assert len(reader.problems) == 5


def test_messages_out_of_time_order_across_files_are_reported(tmp_path: Path) -> None:
    """Within a day file order is restored; a message older than an earlier file is reported."""
    days = {
        "general/2024-03-04.json": [msg(ts(4, 11), "U1", "b"), msg(ts(4, 9), "U1", "a")],
        "general/2024-03-05.json": [msg(ts(4, 10), "U1", "misfiled"), msg(ts(5, 9), "U1", "c")],
    }
    reader = SlackExportReader(write_export(tmp_path / "e", days))
    assert [m.text for m in reader.messages()] == ["a", "b", "c"]
    (problem,) = reader.problems
    assert (problem.source, problem.position) == ("general/2024-03-05.json", "message 0")
    assert "not in time order" in problem.message


def test_bad_index_files_are_reported(tmp_path: Path) -> None:
    """A broken users.json is reported; messages still read with ids as names."""
    export = write_export(tmp_path / "e", basic_days())
    (export / "users.json").write_text("{ broken")
    reader = SlackExportReader(export)
    assert len(list(reader.messages())) == 5
    assert [(p.source, p.position) for p in reader.problems] == [("users.json", "line 1, column 3")]
    assert reader.space == "export"
    assert reader.user_name("U1") == "U1"


def test_team_comes_from_messages_when_users_json_lacks_it(tmp_path: Path) -> None:
    """Without team_id in users.json the space is the team the messages carry."""
    days = {"general/2024-03-04.json": [msg(ts(4, 9), "U1", "hi", team="T0FROMMSG")]}
    users = [{"id": "U1", "name": "maria"}]
    reader = SlackExportReader(write_export(tmp_path / "e", days, users=users))
    (message,) = reader.messages()
    assert reader.space == "T0FROMMSG"
    assert message.ref.space == "T0FROMMSG"
    assert message.author.space == "T0FROMMSG"


def _corrupt_member(archive: Path, member: str) -> None:
    """Overwrite the middle of one member's compressed bytes, as a bad download would."""
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(member)
    data = bytearray(archive.read_bytes())
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    for i in range(start + 2, start + info.compress_size - 2):
        data[i] ^= 0x5A
    archive.write_bytes(bytes(data))


def test_damaged_zip_member_is_reported_and_the_rest_reads(tmp_path: Path) -> None:
    """A corrupt member of a zip is reported by name; the other day files still read."""
    days = basic_days()
    days["general/2024-03-04.json"] = [
        msg(ts(4, 9, i), "U1", f"padding message number {i} " * 5) for i in range(40)
    ]
    archive = zip_folder(write_export(tmp_path / "e", days), tmp_path / "e.zip")
    _corrupt_member(archive, "general/2024-03-04.json")
    with SlackExportReader(archive) as reader:
        texts = [m.text for m in reader.messages()]
        assert texts == ["why does the CLI crash?", "it is a known bug", "anyone?"]
        (problem,) = reader.problems
    assert problem.source == "general/2024-03-04.json"
    assert "cannot read" in problem.message


def test_open_export_detects_slack_and_refuses_other_things(tmp_path: Path) -> None:
    """open_export finds a Slack export; a non-export or a missing path gets a clear error."""
    export = write_export(tmp_path / "e", basic_days())
    reader = open_export(export)
    assert isinstance(reader, SlackExportReader)
    assert open_export(tmp_path, channels=["help"]).channel_names  # one folder down
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("hello")
    with pytest.raises(ValueError, match="not a recognised export"):
        open_export(tmp_path / "notes")
    with pytest.raises(ValueError, match="not a Slack export"):
        open_export(tmp_path / "notes", "slack-export")
    with pytest.raises(ValueError, match="unknown export format"):
        open_export(export, "teams-export")
    with pytest.raises(FileNotFoundError):
        open_export(tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        SlackExportReader(tmp_path / "missing.zip")


def _write_large_export(root: Path, channels: int, days: int, per_day: int) -> int:
    """A big export written quickly: `channels` x `days` day files of `per_day` messages."""
    root.mkdir()
    listing = [{"id": f"C{c}", "name": f"ch{c}"} for c in range(channels)]
    (root / "channels.json").write_text(json.dumps(listing))
    (root / "users.json").write_text(json.dumps(USERS))
    start = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    for c in range(channels):
        (root / f"ch{c}").mkdir()
        for d in range(days):
            base = start + d * 86_400
            rows = ",".join(
                f'{{"type":"message","user":"U{i % 2 + 1}","ts":"{base + i * 80 + c}.000000",'
                f'"text":"message {i} of day {d} in channel {c}, how do I fix it?"}}'
                for i in range(per_day)
            )
            day = datetime.fromtimestamp(base, UTC).date().isoformat()
            (root / f"ch{c}" / f"{day}.json").write_text(f"[{rows}]")
    return channels * days * per_day


# Runs in a child process so its peak RSS measures the reader alone (tracemalloc would
# slow 200k messages down several times over).
_MEASURE = """
import json, resource, sys
from pathlib import Path
from bot.imports import open_export

def rss():
    # Peak RSS of this process image: VmHWM restarts at exec, while ru_maxrss would
    # start from the parent's (pytest's) peak.
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

reader = open_export(Path(sys.argv[1]))
base = rss()
count, ordered, last = 0, True, None
for message in reader.messages():
    count += 1
    ordered = ordered and (last is None or message.posted_at >= last)
    last = message.posted_at
streamed = rss()
held = list(reader.messages())
loaded = rss()
print(json.dumps({"count": count, "ordered": ordered, "held": len(held),
                  "streaming": streamed - base, "loading": loaded - streamed}))
"""


def measure_reading(path: Path) -> dict[str, Any]:
    """Stream an export in a fresh interpreter: counts and peak memory growth in bytes."""
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
        timeout=120,
    )
    return json.loads(result.stdout)


def test_reading_a_large_export_keeps_memory_flat(tmp_path: Path) -> None:
    """200k messages stream through in a few MB; holding them all would take many times that."""
    total = _write_large_export(tmp_path / "big", channels=4, days=50, per_day=1000)
    assert total == 200_000
    figures = measure_reading(tmp_path / "big")
    assert figures["count"] == figures["held"] == total
    assert figures["ordered"]
    assert figures["streaming"] < 16_000_000, figures
    assert figures["loading"] > 4 * max(figures["streaming"], 4_000_000), figures
