"""Tests for bot.imports.discord_export: DiscordChatExporter JSON files as core messages."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.model import MessageRef
from bot.imports import DiscordExportReader, detect_format, open_export
from bot.imports.common import ExportReader

GUILD = "900000000000000001"
GENERAL = "910000000000000001"
FORUM = "910000000000000002"
THREAD = "920000000000000001"
POST = "920000000000000002"
T0 = datetime(2024, 3, 4, 9, tzinfo=UTC)


def author(uid: str, name: str, *, bot: bool = False, nick: str | None = None) -> dict[str, Any]:
    return {
        "id": uid,
        "name": name,
        "discriminator": "0000",
        "nickname": nick or name,
        "color": None,
        "isBot": bot,
        "roles": [],
        "avatarUrl": "https://cdn.example/avatar.png",
    }


MARIA = author("1001", "maria", nick="Maria K")
SVEN = author("1002", "sven")
BOT = author("1003", "helper-bot", bot=True)


def dmsg(
    mid: str,
    minutes: float,
    who: dict[str, Any],
    content: str,
    *,
    kind: str = "Default",
    reference: dict[str, Any] | None = None,
    mentions: list[dict[str, Any]] | None = None,
    offset: str = "+00:00",
) -> dict[str, Any]:
    """A message as the exporter writes it (with the fields the reader ignores too)."""
    moment = T0 + timedelta(minutes=minutes)
    if offset != "+00:00":
        hours = int(offset[:3])
        moment = moment.astimezone(UTC) + timedelta(hours=hours)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + offset
    out: dict[str, Any] = {
        "id": mid,
        "type": kind,
        "timestamp": stamp,
        "timestampEdited": None,
        "callEndedTimestamp": None,
        "isPinned": False,
        "content": content,
        "author": who,
        "attachments": [],
        "embeds": [],
        "stickers": [],
        "reactions": [],
        "mentions": mentions or [],
    }
    if reference is not None:
        out["reference"] = reference
    return out


def channel_file(
    path: Path,
    channel: dict[str, Any],
    messages: list[dict[str, Any]],
    *,
    guild: str = GUILD,
) -> Path:
    """Write one exported channel in the exporter's layout (header first, then messages)."""
    data = {
        "guild": {"id": guild, "name": "Example", "iconUrl": "https://cdn.example/g.png"},
        "channel": {"topic": None, **channel},
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2024-04-01T00:00:00+00:00",
        "messages": messages,
        "messageCount": len(messages),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return path


def text_channel(cid: str = GENERAL, name: str = "general") -> dict[str, Any]:
    return {"id": cid, "type": "GuildTextChat", "categoryId": "5", "category": "Text", "name": name}


def thread_channel(
    tid: str, parent: str, parent_name: str, name: str, kind: str = "GuildPublicThread"
) -> dict[str, Any]:
    return {"id": tid, "type": kind, "categoryId": parent, "category": parent_name, "name": name}


def general_file(folder: Path) -> Path:
    return channel_file(
        folder / "Example - general.json",
        text_channel(),
        [
            dmsg("2001", 0, MARIA, "How do I rotate my API key?"),
            dmsg("2002", 1, SVEN, "joined", kind="GuildMemberJoin"),
            dmsg(
                "2003",
                5,
                SVEN,
                "<@1001> settings, then keys",
                kind="Reply",
                reference={"messageId": "2001", "channelId": GENERAL, "guildId": GUILD},
                mentions=[MARIA],
            ),
            dmsg("2004", 6, BOT, "Pinned a message.", kind="ChannelPinnedMessage"),
            dmsg("2005", 7, BOT, "build finished"),
            dmsg(THREAD, 8, MARIA, "Why does the CLI crash on start?"),
            dmsg("2006", 8.5, MARIA, "started a thread", kind="ThreadCreated"),
        ],
    )


def thread_file(folder: Path) -> Path:
    return channel_file(
        folder / "Example - general - cli crash.json",
        thread_channel(THREAD, GENERAL, "general", "cli crash"),
        [dmsg("3001", 12, SVEN, "what version?"), dmsg("3002", 15, MARIA, "2.3")],
    )


def forum_file(folder: Path) -> Path:
    return channel_file(
        folder / "Example - questions - sso loop.json",
        thread_channel(POST, FORUM, "questions", "sso loop"),
        [
            dmsg(POST, 2, MARIA, "SSO login loops forever after the upgrade"),
            dmsg("4001", 20, SVEN, "clear the cookies"),
        ],
    )


def test_channel_file_maps_replies_mentions_and_bots(tmp_path: Path) -> None:
    """One exported channel: replies point at their reference, system messages are skipped."""
    reader = DiscordExportReader(general_file(tmp_path))
    messages = list(reader.messages())
    assert [m.ref.message for m in messages] == ["2001", "2003", "2005", THREAD]
    question, reply, bot_post, _ = messages
    assert question.ref == MessageRef("discord", GUILD, GENERAL, "2001")
    assert question.posted_at == T0
    assert question.author.name == "Maria K"
    assert question.thread_root is None and question.reply_to is None
    assert reply.reply_to == MessageRef("discord", GUILD, GENERAL, "2001")
    assert reply.mentions == ("1001",)
    assert bot_post.author.is_bot
    assert reader.user_is_bot("1003") and not reader.user_is_bot("1001")
    assert reader.user_name("1001") == "Maria K"
    assert reader.platform == "discord"
    assert reader.space == GUILD
    assert reader.channel_names == {GENERAL: "general"}
    assert reader.skipped["type GuildMemberJoin"] == 1
    assert reader.skipped["type ThreadCreated"] == 1
    assert reader.problems == []
    assert isinstance(reader, ExportReader)


def test_thread_messages_belong_to_the_message_that_started_it(tmp_path: Path) -> None:
    """In a thread of channel P, messages hang from the starter in P and are watched in P."""
    general_file(tmp_path)
    thread_file(tmp_path)
    reader = DiscordExportReader(tmp_path)
    in_thread = [m for m in reader.messages() if m.ref.channel == THREAD]
    assert [m.ref.message for m in in_thread] == ["3001", "3002"]
    for message in in_thread:
        assert message.thread_root == MessageRef("discord", GUILD, GENERAL, THREAD)
        assert message.watched_channel == GENERAL
        assert message.config_channel == GENERAL
        assert not message.is_thread_starter
    assert reader.channel_names[THREAD] == "cli crash"


def test_forum_post_starter_opens_and_replies_hang_from_it(tmp_path: Path) -> None:
    """A thread whose first message has the thread's id is a forum post with a starter."""
    reader = DiscordExportReader(forum_file(tmp_path))
    starter, answer = reader.messages()
    assert starter.ref == MessageRef("discord", GUILD, POST, POST)
    assert starter.is_thread_starter
    assert starter.thread_root is None
    assert starter.watched_channel == FORUM
    assert answer.thread_root == starter.ref
    assert answer.watched_channel == FORUM
    assert reader.channel_names[FORUM] == "questions"


def test_thread_starter_stub_does_not_make_a_forum_post(tmp_path: Path) -> None:
    """A thread opening with a ThreadStarterMessage stub is not a forum post, even with its id."""
    path = channel_file(
        tmp_path / "t.json",
        thread_channel(THREAD, GENERAL, "general", "cli crash"),
        [
            dmsg(THREAD, 8, MARIA, "", kind="21"),
            dmsg("3001", 12, SVEN, "what version?", mentions=5),  # type: ignore[arg-type]
        ],
    )
    reader = DiscordExportReader(path)
    (reply,) = reader.messages()
    assert reply.thread_root == MessageRef("discord", GUILD, GENERAL, THREAD)
    assert not reply.is_thread_starter
    assert reply.mentions == ()
    assert reader.skipped["type 21"] == 1


def test_folder_merges_files_in_time_order(tmp_path: Path) -> None:
    """A folder of channel files (searched recursively) comes out in posted_at order."""
    general_file(tmp_path)
    thread_file(tmp_path / "threads")
    forum_file(tmp_path / "forum")
    times = [m.posted_at for m in DiscordExportReader(tmp_path).messages()]
    assert len(times) == 8
    assert times == sorted(times)
    assert detect_format(tmp_path) == "discord-export"
    assert isinstance(open_export(tmp_path), DiscordExportReader)


@pytest.mark.parametrize("selected", [["general"], [GENERAL], ["#general"]])
def test_channel_filter_keeps_a_channel_and_its_threads(
    tmp_path: Path, selected: list[str]
) -> None:
    """Filtering by a channel's name or id keeps it and the threads under it, not the forum."""
    general_file(tmp_path)
    thread_file(tmp_path)
    forum_file(tmp_path)
    reader = DiscordExportReader(tmp_path, channels=selected)
    assert {m.ref.channel for m in reader.messages()} == {GENERAL, THREAD}


def test_since_until_and_offsets(tmp_path: Path) -> None:
    """Timestamps with any UTC offset become UTC; since is inclusive, until exclusive."""
    path = channel_file(
        tmp_path / "c.json",
        text_channel(),
        [
            dmsg("1", 0, MARIA, "first"),
            dmsg("2", 10, SVEN, "second, written in +02:00", offset="+02:00"),
            dmsg("3", 20, MARIA, "third"),
        ],
    )
    all_times = [m.posted_at for m in DiscordExportReader(path).messages()]
    assert all_times == [T0, T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)]
    assert all(t.tzinfo == UTC for t in all_times)
    reader = DiscordExportReader(
        path, since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=20)
    )
    assert [m.text for m in reader.messages()] == ["second, written in +02:00"]


def test_private_threads_are_flagged(tmp_path: Path) -> None:
    """Private threads and DMs are private; ordinary channels are not."""
    channel_file(
        tmp_path / "p.json",
        thread_channel("77", GENERAL, "general", "secret", kind="GuildPrivateThread"),
        [dmsg("5", 0, MARIA, "psst")],
    )
    general_file(tmp_path)
    reader = DiscordExportReader(tmp_path)
    assert reader.is_private("77")
    assert not reader.is_private(GENERAL)


def test_newest_first_export_is_put_in_time_order(tmp_path: Path) -> None:
    """A file exported newest-first is sorted on disk, and a forum starter is still found."""
    messages = [
        dmsg(POST, 0, MARIA, "starter"),
        *(dmsg(str(5000 + i), 1 + i, SVEN, f"reply {i}") for i in range(30)),
    ]
    path = channel_file(
        tmp_path / "rev.json",
        thread_channel(POST, FORUM, "questions", "post"),
        list(reversed(messages)),
    )
    out = list(DiscordExportReader(path).messages())
    assert [m.text for m in out] == ["starter", *(f"reply {i}" for i in range(30))]
    assert out[0].is_thread_starter
    assert out[-1].thread_root == MessageRef("discord", GUILD, POST, POST)


def test_newest_first_channel_file_reads_without_problems(tmp_path: Path) -> None:
    """A whole channel exported newest-first comes out oldest-first, nothing dropped."""
    rows = [dmsg(str(6000 + i), i, MARIA, f"message {i}") for i in range(600)]
    path = channel_file(tmp_path / "c.json", text_channel(), list(reversed(rows)))
    reader = DiscordExportReader(path)
    assert [m.text for m in reader.messages()] == [f"message {i}" for i in range(600)]
    assert reader.problems == []


def test_malformed_input_is_reported_and_the_rest_still_reads(tmp_path: Path) -> None:
    """Bad messages and a truncated file are reported with file and message index."""
    channel_file(
        tmp_path / "a.json",
        text_channel(),
        [
            dmsg("1", 0, MARIA, "fine"),
            {**dmsg("2", 1, MARIA, "no time"), "timestamp": "yesterday"},
            {**dmsg("3", 2, MARIA, "no author"), "author": None},
            "not a message",
            dmsg("4", 3, SVEN, "also fine"),
        ],
    )
    full = channel_file(
        tmp_path / "b.json",
        text_channel("55", "random"),
        [dmsg("6", 4, MARIA, "before the damage"), dmsg("7", 5, SVEN, "lost")],
    ).read_text()
    (tmp_path / "b.json").write_text(full[: full.index('"lost"')])
    (tmp_path / "notes.json").write_text(json.dumps({"hello": "world"}))
    (tmp_path / "broken.json").write_text('{"guild": {"id": "1"}, "channel": ')
    reader = DiscordExportReader(tmp_path)
    assert [m.text for m in reader.messages()] == ["fine", "also fine", "before the damage"]
    found = {(p.source, p.position) for p in reader.problems}
    assert found == {
        ("a.json", "message 1"),
        ("a.json", "message 2"),
        ("a.json", "message 3"),
        ("b.json", "message 1"),
        ("notes.json", "top level"),
        ("broken.json", "header"),
    }
    assert any("rest of the file is skipped" in p.message for p in reader.problems)


def test_open_export_refuses_json_that_is_not_an_export(tmp_path: Path) -> None:
    """A JSON file without guild/channel/messages is not taken for a Discord export."""
    (tmp_path / "x.json").write_text(json.dumps([1, 2, 3]))
    with pytest.raises(ValueError, match="not a recognised export"):
        open_export(tmp_path / "x.json")
    assert isinstance(
        open_export(general_file(tmp_path / "d"), "discord-export"), DiscordExportReader
    )
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no \.json files"):
        open_export(tmp_path / "empty", "discord-export")


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
count = sum(1 for _ in reader.messages())
streamed = rss()
held = list(reader.messages())
loaded = rss()
print(json.dumps({"count": count, "held": len(held), "problems": len(reader.problems),
                  "streaming": streamed - base, "loading": loaded - streamed}))
"""


def test_one_huge_channel_file_streams_in_flat_memory(tmp_path: Path) -> None:
    """A single 60k-message file is parsed incrementally: memory does not grow with it."""
    path = tmp_path / "huge.json"
    total = 60_000
    with path.open("w") as fh:
        header = json.dumps(
            {
                "guild": {"id": GUILD, "name": "Example"},
                "channel": text_channel(),
                "dateRange": {"after": None, "before": None},
            }
        )
        fh.write(header[:-1] + ', "messages": [\n')
        for i in range(total):
            row = dmsg(str(10_000 + i), i / 10, MARIA if i % 2 else SVEN, f"message {i} " * 8)
            fh.write(("," if i else "") + json.dumps(row) + "\n")
        fh.write(f'], "messageCount": {total}}}\n')
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
        timeout=120,
    )
    figures = json.loads(result.stdout)
    assert figures["count"] == figures["held"] == total
    assert figures["problems"] == 0
    assert figures["streaming"] < 12_000_000, figures
    assert figures["loading"] > 3 * max(figures["streaming"], 4_000_000), figures


_FEW_FILES = """
import json, resource, sys
from pathlib import Path
from bot.imports import open_export

resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
reader = open_export(Path(sys.argv[1]))
count = sum(1 for _ in reader.messages())
print(json.dumps({"count": count, "problems": [str(p) for p in reader.problems]}))
"""


def test_hundreds_of_thread_files_need_few_open_files(tmp_path: Path) -> None:
    """300 thread files read with only 64 file descriptors allowed: nothing is lost."""
    channel_file(
        tmp_path / "general.json",
        text_channel(),
        [dmsg(str(100 + i), i * 30, MARIA, f"channel post {i}") for i in range(100)],
    )
    for k in range(300):
        channel_file(
            tmp_path / "threads" / f"t{k}.json",
            thread_channel(str(50_000 + k), GENERAL, "general", f"thread {k}"),
            [dmsg(str(60_000 + 3 * k + j), k * 10 + j, SVEN, f"reply {j}") for j in range(3)],
        )
    result = subprocess.run(
        [sys.executable, "-c", _FEW_FILES, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
        timeout=120,
    )
    figures = json.loads(result.stdout)
    assert figures == {"count": 100 + 900, "problems": []}
