"""Pure Slack translation: payloads to core events, permalinks, and Block Kit within limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.slack_adapter import MESSAGE_SUBTYPES, translate_event
from bot.adapters.slack_blocks import MAX_BLOCKS, MAX_ITEMS, MAX_SECTION, render
from bot.adapters.slack_links import (
    build_permalink,
    datetime_to_ts,
    parse_permalink,
    ts_to_datetime,
)
from bot.core.events import (
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)
from bot.core.model import MessageRef, Post, PostItem

TEAM = "T0TEAM"
LOGS = Path(__file__).resolve().parents[3] / "shared" / "data" / "clojurians-slack-demo" / "logs"


def ref(ts: str, channel: str = "C1") -> MessageRef:
    return MessageRef("slack", TEAM, channel, ts)


def message(**fields: object) -> dict[str, object]:
    event: dict[str, object] = {
        "type": "message",
        "channel": "C1",
        "user": "U1",
        "text": "How do I deploy?",
        "ts": "1712345678.123456",
    }
    event.update(fields)
    return event


def test_top_level_message_becomes_a_post_with_exact_time_and_mentions() -> None:
    """A plain message maps ids, the exact ts time (UTC) and <@U..> mentions."""
    event = translate_event(message(text="<@U2> <@W3|bo> how? <@U2>"), TEAM, "Ev1")
    assert isinstance(event, MessagePosted)
    assert event.event_id == "Ev1"
    m = event.message
    assert m.ref == ref("1712345678.123456")
    assert m.posted_at == datetime(2024, 4, 5, 19, 34, 38, 123456, tzinfo=UTC)
    assert m.thread_root is None
    assert m.mentions == ("U2", "W3")
    assert m.author.user == "U1"


def test_thread_reply_and_parent() -> None:
    """A reply hangs from thread_ts; a parent (thread_ts == ts) stays top-level."""
    reply = translate_event(message(ts="1712345700.000200", thread_ts="1712345678.123456"), TEAM)
    assert isinstance(reply, MessagePosted)
    assert reply.message.thread_root == ref("1712345678.123456")
    parent = translate_event(message(thread_ts="1712345678.123456"), TEAM)
    assert isinstance(parent, MessagePosted)
    assert parent.message.thread_root is None


def test_thread_broadcast_is_a_reply() -> None:
    """A reply also sent to the channel is still a reply to its thread."""
    event = translate_event(
        message(subtype="thread_broadcast", ts="1712345700.000200", thread_ts="1712345678.123456"),
        TEAM,
    )
    assert isinstance(event, MessagePosted)
    assert event.message.thread_root == ref("1712345678.123456")


def test_file_share_counts_only_with_text() -> None:
    """A file with a comment is a message; a bare upload is skipped."""
    assert isinstance(translate_event(message(subtype="file_share"), TEAM), MessagePosted)
    assert translate_event(message(subtype="file_share", text=""), TEAM) is None


@pytest.mark.parametrize(
    "fields",
    [
        {"subtype": "bot_message", "bot_id": "B1", "user": None},
        {"bot_id": "B1"},
        {"subtype": "channel_join", "text": "<@U1> has joined the channel"},
        {"subtype": "message_replied"},
        {"subtype": "channel_topic"},
        {"user": None},
        {"ts": "yesterday"},
    ],
)
def test_bots_system_messages_and_junk_are_skipped(fields: dict[str, object]) -> None:
    """Bot posts, joins, topic changes and malformed payloads translate to nothing."""
    event = message(**fields)
    event = {k: v for k, v in event.items() if v is not None}
    assert translate_event(event, TEAM) is None


def test_message_changed_is_an_edit_unless_the_text_is_the_same() -> None:
    """A text change is an edit at its edit time; unfurls and reply counts are not."""
    changed = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C1",
        "ts": "1712345999.000001",
        "message": message(text="How do I deploy to prod?", edited={"ts": "1712345990.000000"}),
        "previous_message": message(),
    }
    event = translate_event(changed, TEAM)
    assert isinstance(event, MessageEdited)
    assert event.message.text == "How do I deploy to prod?"
    assert event.message.ref == ref("1712345678.123456")
    assert event.edited_at == ts_to_datetime("1712345990.000000")
    unfurl = dict(changed, message=message(attachments=[{"title": "x"}]))
    assert translate_event(unfurl, TEAM) is None


def test_deletes_and_tombstones_are_deletions() -> None:
    """message_deleted and a thread parent turned tombstone both delete the message."""
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": "C1",
        "ts": "1712346000.000001",
        "deleted_ts": "1712345678.123456",
    }
    event = translate_event(deleted, TEAM)
    assert isinstance(event, MessageDeleted)
    assert event.ref == ref("1712345678.123456")
    assert event.deleted_at == ts_to_datetime("1712346000.000001")
    tombstone = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C1",
        "ts": "1712346000.000002",
        "message": {"subtype": "tombstone", "ts": "1712345678.123456", "user": "USLACKBOT"},
        "previous_message": message(),
    }
    assert isinstance(translate_event(tombstone, TEAM), MessageDeleted)


def test_reactions_drop_skin_tones_and_ignore_non_messages() -> None:
    """Reactions on messages map to core reactions; files are skipped."""
    added = {
        "type": "reaction_added",
        "user": "U2",
        "reaction": "+1::skin-tone-3",
        "item": {"type": "message", "channel": "C1", "ts": "1712345678.123456"},
        "event_ts": "1712345700.000100",
    }
    event = translate_event(added, TEAM, "Ev9")
    assert isinstance(event, ReactionAdded)
    assert (event.ref, event.user.user, event.emoji) == (ref("1712345678.123456"), "U2", "+1")
    removed = translate_event(dict(added, type="reaction_removed"), TEAM)
    assert isinstance(removed, ReactionRemoved)
    on_file = dict(added, item={"type": "file", "file": "F1"})
    assert translate_event(on_file, TEAM) is None


def test_unknown_event_types_are_skipped() -> None:
    """Events Frontline does not use translate to nothing (the table's default)."""
    assert translate_event({"type": "member_joined_channel", "user": "U1"}, TEAM) is None
    assert translate_event({}, TEAM) is None


def test_real_clojurians_events_translate_without_surprises() -> None:
    """Every recorded event of a real community translates, per the subtype table."""
    files = sorted(LOGS.glob("*.txt")) if LOGS.is_dir() else []
    if not files:
        pytest.skip(f"no Clojurians Slack logs under {LOGS}")
    seen = 0
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            raw = json.loads(line)
            event = translate_event(raw, TEAM)
            seen += 1
            subtype = raw.get("subtype")
            if subtype not in MESSAGE_SUBTYPES or raw.get("bot_id"):
                assert event is None, raw
            elif subtype is None and raw.get("user"):
                assert isinstance(event, MessagePosted)
                assert (event.message.thread_root is None) == (
                    raw.get("thread_ts") in (None, raw["ts"])
                )
    assert seen > 1000


# --- permalinks ---------------------------------------------------------------------


def test_permalinks_parse_back_including_thread_replies() -> None:
    """Top-level and thread-reply permalinks parse to the message they show."""
    top = "https://acme.slack.com/archives/C123ABC/p1712345678123456"
    assert parse_permalink(top, TEAM) == MessageRef("slack", TEAM, "C123ABC", "1712345678.123456")
    reply = (
        "https://x.slack.com/archives/C123/p1712345678123456?thread_ts=1712345600.000100&cid=C123"
    )
    assert parse_permalink(reply, TEAM) == MessageRef("slack", TEAM, "C123", "1712345678.123456")
    # As a slash command delivers links when Slack escapes them.
    assert parse_permalink(f"<{top}>", TEAM) == parse_permalink(top, TEAM)
    assert parse_permalink(f"<{top}|see this>", TEAM) == parse_permalink(top, TEAM)


@pytest.mark.parametrize(
    "link",
    [
        "local://help/m1",
        "https://discord.com/channels/1/2/3",
        "https://evil.example/archives/C123/p1712345678123456",
        "https://acme.slack.com.evil.example/archives/C123/p1712345678123456",
        "http://acme.slack.com/archives/C123/p1712345678123456",
        "https://acme.slack.com/archives/C123",
        "https://acme.slack.com/archives/C123/pnotanumber",
        "https://[::1",
        "",
    ],
)
def test_other_links_are_not_slack_messages(link: str) -> None:
    """Links of other platforms, lookalike hosts and broken URLs parse to None."""
    assert parse_permalink(link, TEAM) is None


@given(
    channel=st.from_regex(r"C[A-Z0-9]{8,10}", fullmatch=True),
    seconds=st.integers(min_value=1_000_000_000, max_value=4_000_000_000),
    micros=st.integers(min_value=0, max_value=999_999),
)
def test_permalink_round_trip(channel: str, seconds: int, micros: int) -> None:
    """Any message ts survives build -> parse, and ts <-> datetime, exactly."""
    ts = f"{seconds}.{micros:06d}"
    link = build_permalink("https://acme.slack.com/", channel, ts)
    assert parse_permalink(link, TEAM) == MessageRef("slack", TEAM, channel, ts)
    assert datetime_to_ts(ts_to_datetime(ts)) == ts


# --- Block Kit ----------------------------------------------------------------------


def _sections(blocks: list[dict[str, object]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]  # type: ignore[index]


def test_a_200_item_post_stays_within_slack_limits() -> None:
    """50 blocks at most, sections under 3,000 chars, the rest counted as "and N more"."""
    items = tuple(
        PostItem(f"#help · member{i} · waiting {i}m · “{'why does this fail ' * 6}”", ref(f"{i}.0"))
        for i in range(200)
    )
    links = {item.link: f"https://acme.slack.com/archives/C1/p{i}" for i, item in enumerate(items)}
    post = Post("x" * 20_000, "200 questions waiting", items, footer="Updated hourly", more=5)
    text, blocks = render(post, links)  # type: ignore[arg-type]
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(s) <= MAX_SECTION for s in _sections(blocks))
    shown = sum(s.count("\n• ") + 1 for s in _sections(blocks))
    assert shown == MAX_ITEMS
    assert blocks[-2]["elements"][0]["text"] == f"…and {200 - MAX_ITEMS + 5} more"
    assert blocks[-1]["elements"][0]["text"] == "Updated hourly"
    assert len(text) <= 3000
    assert "|open>" in _sections(blocks)[0]


def test_short_post_is_one_section_and_member_text_is_escaped() -> None:
    """Quoted text cannot ping @channel or forge links; the header is not repeated."""
    post = Post("Stats\nQuestions: 3 <!channel> & <https://x|y>", "Stats")
    text, blocks = render(post)
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Stats"}}
    assert _sections(blocks) == ["Questions: 3 &lt;!channel&gt; &amp; &lt;https://x|y&gt;"]
    assert "<!channel>" not in text


def test_very_long_text_is_cut_not_refused() -> None:
    """A huge plain post is split into sections and cut with an ellipsis within 50 blocks."""
    post = Post("\n".join(f"line {i} " + "y" * 2900 for i in range(80)))
    text, blocks = render(post)
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(s) <= MAX_SECTION for s in _sections(blocks))
    assert _sections(blocks)[-1].endswith("…")
    assert len(text) <= 3000


def test_long_items_are_cut_at_the_block_budget() -> None:
    """Items too long to share a section stop at 50 blocks, header and footer included."""
    items = tuple(PostItem(f"item {i} " + "z" * 3500) for i in range(60))
    _, blocks = render(Post("60 long items", "Long", items, footer="f"))
    assert len(blocks) == MAX_BLOCKS
    sections = _sections(blocks)
    assert all(len(s) <= MAX_SECTION and s.endswith("…") for s in sections)
    assert blocks[-2]["elements"][0]["text"] == f"…and {60 - len(sections)} more"
