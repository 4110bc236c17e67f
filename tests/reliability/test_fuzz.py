"""Bad input, fuzzed with hypothesis: commands, message links, configuration, export files.

Every property says what a person typing, pasting or exporting something odd would
notice: an answer instead of a crash, a clear list of configuration problems, a replay
that reports what it could not read and carries on. Runs are derandomized (the same
examples every time) and bounded in number.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.discord_links import message_link, parse_channel_link, parse_message_link
from bot.adapters.slack_links import build_permalink, parse_permalink
from bot.core.events import CommandInvoked
from bot.core.model import ChannelRef, Message, MessageRef, UserRef
from bot.imports import open_export
from bot.imports.common import ImportProblem
from config.settings import ConfigError, Settings, load_settings
from tests.conftest import SPACE, T0, community_config, open_world

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LONG = 40_000


def long_text(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Messages of about 40,000 characters (one character repeated: cheap to generate)."""
    return st.builds(lambda c, n: c * n, alphabet, st.integers(LONG - 50, LONG))


# --- /frontline commands -------------------------------------------------------------

WORDS = (
    "help", "unanswered", "stats", "resolve", "snooze", "chart", "escalate", "HELP", "-h",
    "local://help/m1", "local://help/", "<local://help/m1>", "#help", "<#help|help>", "<#>",
    "#nowhere", "7d", "0s", "-1h", "1h30m", "99999999999d", "999999999d", "today", "week",
    "'", '"', "\\", "\x00", "support", "\u200b", "ünïcødé", "🙂",
)  # fmt: skip
command_texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=30)), max_size=6).map(" ".join),
    long_text(st.sampled_from("a\"' #?\u00e9🙂")),
)


class Running:
    """One bot on its own event loop, kept for a module's fuzzed examples (fast per example)."""

    def __init__(self, db: Path) -> None:
        self.runner = asyncio.Runner()
        self.settings = load_settings(data=community_config())
        self._open = open_world(self.settings, str(db))
        self.world = self.runner.run(self._open.__aenter__())
        self.app, self.platform = self.world.app, self.world.platform

    def close(self) -> None:
        self.runner.run(self._open.__aexit__(None, None, None))
        self.runner.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A bot with one tracked question (local://help/m1) for the whole module."""
    bot = Running(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    bot.runner.run(bot.world.post("help", "maria", "How do I rotate my API key?"))
    try:
        yield bot
    finally:
        bot.close()


@FUZZ
@given(text=command_texts, user=st.sampled_from(["ana", "maria"]))
def test_any_command_text_gets_an_answer_never_a_crash(
    running: Running, text: str, user: str
) -> None:
    """Whatever follows /frontline, the caller gets a readable answer, never "went wrong"."""
    event = CommandInvoked(
        None, text, UserRef("local", SPACE, user), ChannelRef("local", SPACE, "help"), T0
    )
    reply = running.runner.run(running.app.ctx.router.run_command(event, running.app.ctx))
    assert reply.text.strip()
    assert "Something went wrong" not in reply.text
    assert "Traceback" not in reply.text
    assert len(reply.text) < 6000  # the usage or an answer, never the input echoed whole


def test_a_40000_character_message_is_tracked_with_bounded_text(running: Running) -> None:
    """A 40,000-character question is tracked quickly; the stored text is cut, not the bot."""
    text = "Why does the export fail? " + "stack trace line\n" * (LONG // 17)
    ref = running.runner.run(running.world.post("help", "tomasz", text))
    question = running.runner.run(running.world.question(ref))
    assert 1000 <= len(question.text) <= 4000
    assert question.text == text[: len(question.text)]


# --- message links -------------------------------------------------------------------

link_like = st.one_of(
    st.text(max_size=120),
    st.builds(
        lambda scheme, host, path, query, wrap: wrap.format(f"{scheme}{host}{path}{query}"),
        st.sampled_from(["https://", "http://", "ftp://", "", "https:/", "HTTPS://"]),
        st.sampled_from(
            ["acme.slack.com", "ACME.Slack.COM", "slack.com.evil.example", "[::1",
             "x.slack-gov.com", "discord.com", "ptb.discord.com", "discordapp.com",
             "evil.com/discord.com", ""]
        ),
        st.one_of(
            st.from_regex(r"/archives/[CDGX][A-Z0-9]{0,12}/p\d{0,20}/?", fullmatch=True),
            st.from_regex(r"/channels/\d{0,22}/\d{0,22}(/\d{0,22})?/?", fullmatch=True),
            st.text(max_size=40),
        ),
        st.sampled_from(["", "?thread_ts=1.2&cid=C1", "?%zz", "#frag", ">"]),
        st.sampled_from(["{}", "<{}>", "<{}|label>", " {} ", "<{}", "{}>"]),
    ),
    long_text(st.sampled_from("/p0123456789<>|")),
)  # fmt: skip
SLACK_TS = re.compile(r"^\d{1,}\.\d{6}$")


@FUZZ
@given(link=link_like)
def test_any_text_is_a_slack_permalink_or_none(link: str) -> None:
    """Pasting anything as a Slack link gives its message, or "not a link", never an error."""
    ref = parse_permalink(link, "T0TEAM")
    if ref is not None:
        assert ref.platform == "slack" and ref.space == "T0TEAM"
        assert SLACK_TS.match(ref.message) and ref.channel[0] in "CDG"


@FUZZ
@given(
    channel=st.from_regex(r"[CDG][A-Z0-9]{2,11}", fullmatch=True),
    seconds=st.integers(0, 10**10),
    micros=st.integers(0, 999_999),
    thread=st.booleans(),
    wrap=st.sampled_from(["{}", "<{}>", "<{}|see this>", "  {}  "]),
)
def test_slack_permalinks_read_back_to_their_message(
    channel: str, seconds: int, micros: int, thread: bool, wrap: str
) -> None:
    """A permalink Frontline builds (a reply's, wrapped as Slack escapes it) reads back exactly."""
    ts = f"{seconds}.{micros:06d}"
    link = build_permalink("https://acme.slack.com/", channel, ts)
    if thread:
        link += f"?thread_ts={seconds}.000001&cid={channel}"
    assert parse_permalink(wrap.format(link), "T0TEAM") == MessageRef(
        "slack", "T0TEAM", channel, ts
    )


@FUZZ
@given(link=link_like)
def test_any_text_is_a_discord_link_or_none(link: str) -> None:
    """Pasting anything as a Discord link gives a message, a channel, or nothing; never an error."""
    ref = parse_message_link(link)
    channel = parse_channel_link(link)
    assert ref is None or channel is None
    if ref is not None:
        assert ref.platform == "discord"
        assert all(part.isdigit() for part in (ref.space, ref.channel, ref.message))


@FUZZ
@given(ids=st.tuples(*[st.integers(0, 10**20 - 1)] * 3), wrap=st.sampled_from(["{}", "<{}>"]))
def test_discord_message_links_read_back(ids: tuple[int, int, int], wrap: str) -> None:
    """A Discord message link Frontline builds reads back to the same message."""
    ref = MessageRef("discord", *(str(i) for i in ids))
    assert parse_message_link(wrap.format(message_link(ref))) == ref


# --- configuration -----------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        ["1h", "0s", "90s", "1h30m", "99999999999d", "-5m", "24/7", "09:00-17:00", "mon-fri",
         "25:00", "Europe/Berlin", "Mars/Olympus", "../../etc/passwd", "UTC", "slack", "local",
         "discord", "every-post", "questions", "C0HELP", "2026-12-25", ""]
    ),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, UTC])),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
CHANNEL_KEYS = (
    "platform", "id", "name", "mode", "target", "calendar", "warn_at", "nudge_channel",
    "mention_window", "nudge_at_risk", "repeat_every", "max_repeats", "second_tier",
    "nudge_outside_hours", "dm_on_call", "ack_outside_hours",
)  # fmt: skip
calendar = st.dictionaries(
    st.sampled_from(["timezone", "hours", "holidays", "bogus"]),
    st.one_of(
        values,
        st.dictionaries(
            st.sampled_from(["mon-fri", "sat", "sun-mon", "fri-mon", "xyz", ""]),
            st.sampled_from(["09:00-17:00", "22:00-06:00", "00:00-24:00", "9-5", "17:00-09:00"]),
        ),
    ),
)
sound_channel = st.fixed_dictionaries(
    {
        "platform": st.sampled_from(["slack", "discord", "local"]),
        "id": st.from_regex(r"C[0-9A-Z]{3,8}", fullmatch=True),
    },
    optional={
        "target": st.sampled_from(["1h", "30m", "2d", "90s"]),
        "mode": st.sampled_from(["questions", "every-post"]),
        "warn_at": st.floats(0.05, 1),
        "repeat_every": st.sampled_from(["1h", "15m"]),
        "max_repeats": st.integers(0, 20),
        "nudge_channel": st.just("C0STAFF"),
    },
)


def _mutate(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    return {**base, **changes}


# Mostly sound channels with a few keys replaced by anything: the validators' edges.
channel = st.one_of(
    sound_channel,
    st.builds(
        _mutate, sound_channel, st.dictionaries(st.sampled_from(CHANNEL_KEYS), values, max_size=2)
    ),
    st.dictionaries(st.sampled_from(CHANNEL_KEYS), values, max_size=8),
)
sections = {
    "bot": st.dictionaries(st.sampled_from(["database", "sweep_interval", "log_level"]), values),
    "tracking": st.dictionaries(
        st.sampled_from(["detection_threshold", "mention_window", "ack_reactions", "away_text"]),
        values,
    ),
    "staff": st.dictionaries(st.sampled_from(["slack_users", "discord_roles", "x"]), values),
    "calendars": st.dictionaries(st.text(max_size=8), calendar, max_size=3),
    "channels": st.lists(channel, max_size=3),
    "summaries": st.lists(
        st.dictionaries(st.sampled_from(["platform", "channel", "time", "timezone"]), values)
    ),
    "destinations": st.lists(st.dictionaries(st.sampled_from(["name", "platform"]), values)),
    "on_call": st.lists(
        st.dictionaries(st.sampled_from(["platform", "people", "start", "every"]), values)
    ),
    "slack_bot_token": values,
    "surprise": values,
}
sound_config = st.fixed_dictionaries(
    {"channels": st.lists(sound_channel, max_size=3, unique_by=lambda c: (c["platform"], c["id"]))},
    optional={
        "bot": st.fixed_dictionaries(
            {}, optional={"sweep_interval": st.sampled_from(["1s", "30s"])}
        ),
        "staff": st.fixed_dictionaries({"local_users": st.lists(st.text(max_size=5), max_size=2)}),
    },
)
config_data = st.one_of(
    sound_config,
    st.builds(_mutate, sound_config, st.fixed_dictionaries({}, optional=sections)),
    st.fixed_dictionaries({}, optional=sections),
    st.dictionaries(st.text(max_size=12), values, max_size=5),
)


@FUZZ
@given(data=config_data)
def test_any_configuration_is_loaded_or_refused_with_its_problems(data: dict[str, Any]) -> None:
    """Whatever the TOML holds, `load_settings` gives settings or a ConfigError listing problems."""
    try:
        loaded = load_settings(data=data)
    except ConfigError as exc:
        assert exc.problems
        assert all(isinstance(p, str) and ": " in p for p in exc.problems)
    else:
        assert isinstance(loaded, Settings)
        loaded.build_calendars()  # what the tracker does at start: it must work too


# --- export readers ---------------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63),
        st.floats(allow_nan=False),
        st.text(max_size=20),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
SLACK_KEYS = ("type", "user", "text", "ts", "thread_ts", "subtype", "bot_id", "files")
sound_slack_message = st.fixed_dictionaries(
    {
        "type": st.just("message"),
        "user": st.sampled_from(["U1", "U2", "UBOT"]),
        "text": st.one_of(st.text(max_size=50), long_text(st.characters())),
        "ts": st.integers(1709596800, 1709683199).map(lambda s: f"{s}.000100"),
    },
    optional={"thread_ts": st.just("1709629200.000100")},
)
slack_message = st.one_of(
    sound_slack_message,
    st.builds(
        _mutate,
        sound_slack_message,
        st.dictionaries(
            st.sampled_from(SLACK_KEYS),
            st.one_of(
                json_values,
                st.sampled_from(["bot_message", "channel_join", "yesterday", "²³.1", "1.2.3"]),
            ),
            max_size=2,
        ),
    ),
)
day_file = st.one_of(
    st.lists(st.one_of(slack_message, json_values), max_size=5).map(json.dumps),
    json_values.map(json.dumps),
    st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
    st.lists(slack_message, min_size=1, max_size=3).map(lambda m: json.dumps(m)[:-3]),
)
VALID_CHANNELS = json.dumps([{"id": "C1", "name": "help"}])
VALID_USERS = json.dumps([{"id": "U1", "name": "maria"}, {"id": "UBOT", "is_bot": True}])


def _read_all(path: Path, fmt: str) -> tuple[list[Message], list[ImportProblem]]:
    try:
        reader = open_export(path, fmt)
    except ValueError:
        return [], []  # documented: not an export of that format, said in the message
    try:
        messages = list(reader.messages())
    finally:
        close = getattr(reader, "close", None)  # a Slack zip holds its file open
        if close is not None:
            close()
    return messages, list(reader.problems)


def _well_formed(messages: list[Message], problems: list[ImportProblem]) -> None:
    times = [m.posted_at for m in messages]
    assert times == sorted(times)
    assert all(isinstance(m.text, str) and m.posted_at.tzinfo is not None for m in messages)
    assert all(str(p) and p.source and p.position for p in problems)


@FUZZ
@given(
    channels=st.one_of(st.just(VALID_CHANNELS), json_values.map(json.dumps), st.text(max_size=20)),
    users=st.one_of(st.just(VALID_USERS), json_values.map(json.dumps), st.text(max_size=20)),
    day=day_file,
)
def test_any_slack_export_reads_or_reports_never_raises(
    tmp_path_factory: pytest.TempPathFactory, channels: str, users: str, day: str
) -> None:
    """A damaged Slack export replays what it can and reports the rest with file and position."""
    root = tmp_path_factory.mktemp("slack-export")
    (root / "help").mkdir()
    (root / "channels.json").write_text(channels, encoding="utf-8")
    (root / "users.json").write_text(users, encoding="utf-8")
    (root / "help" / "2024-03-05.json").write_text(day, encoding="utf-8", errors="surrogatepass")
    messages, problems = _read_all(root, "slack-export")
    _well_formed(messages, problems)
    if channels == VALID_CHANNELS and not _is_json(day):
        assert any(p.source == "help/2024-03-05.json" for p in problems)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def discord_file(messages: list[Any]) -> str:
    """A DiscordChatExporter channel file with `messages` last, as the exporter writes it."""
    header = {
        "guild": {"id": "900000000000000001", "name": "Acme"},
        "channel": {"id": "910000000000000001", "type": "GuildTextChat", "name": "help"},
    }
    return json.dumps({**header, "messages": messages})


DISCORD_KEYS = ("id", "type", "timestamp", "content", "author", "reference", "mentions")
sound_discord_message = st.fixed_dictionaries(
    {
        "id": st.integers(10**17, 10**18).map(str),
        "type": st.sampled_from(["Default", "Reply"]),
        "timestamp": st.integers(1704067200, 1735689599).map(
            lambda s: datetime.fromtimestamp(s, UTC).isoformat()
        ),
        "content": st.one_of(st.text(max_size=50), long_text(st.characters())),
        "author": st.fixed_dictionaries(
            {"id": st.sampled_from(["1001", "1002"]), "name": st.text(max_size=8)},
            optional={"isBot": st.booleans(), "nickname": st.text(max_size=8)},
        ),
    },
    optional={"reference": st.fixed_dictionaries({"messageId": st.just("100000000000000001")})},
)
discord_message = st.one_of(
    sound_discord_message,
    st.builds(
        _mutate,
        sound_discord_message,
        st.dictionaries(
            st.sampled_from(DISCORD_KEYS),
            st.one_of(json_values, st.sampled_from(["GuildMemberJoin", "yesterday", "19"])),
            max_size=2,
        ),
    ),
)


@FUZZ
@given(
    messages=st.lists(st.one_of(discord_message, json_values), max_size=5),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_any_discord_export_reads_or_reports_never_raises(
    tmp_path_factory: pytest.TempPathFactory, messages: list[Any], cut: int | None
) -> None:
    """A damaged DiscordChatExporter file replays what it can and reports what it cannot."""
    path = tmp_path_factory.mktemp("discord-export") / "help.json"
    text = discord_file(messages)
    if cut is not None:
        cut %= len(text)
        text = text[:cut]
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    read, problems = _read_all(path, "discord-export")
    _well_formed(read, problems)
    if cut is not None and cut < len(text) and cut <= text.rfind("]"):
        assert problems, "a file cut off inside its messages must be reported"


def test_40000_character_messages_in_exports_are_read_whole(tmp_path: Path) -> None:
    """Exports with 40,000-character messages replay them whole, next to a damaged file."""
    body = "ä" * LONG
    root = tmp_path / "slack"
    (root / "help").mkdir(parents=True)
    (root / "channels.json").write_text(VALID_CHANNELS)
    (root / "users.json").write_text("[]")
    day = [{"type": "message", "user": "U1", "text": body, "ts": "1709629200.000100"}]
    (root / "help" / "2024-03-05.json").write_text(json.dumps(day))
    (root / "help" / "2024-03-06.json").write_text('[{"type": "message", "text": "cut')
    messages, problems = _read_all(root, "slack-export")
    assert [len(m.text) for m in messages] == [LONG]
    assert [p.source for p in problems] == ["help/2024-03-06.json"]
    at = datetime(2024, 3, 5, 9, tzinfo=UTC)
    one = {
        "id": "1",
        "type": "Default",
        "timestamp": at.isoformat(),
        "content": body,
        "author": {"id": "1001", "name": "maria"},
    }
    discord = tmp_path / "help.json"
    discord.write_text(discord_file([one, {**one, "id": "2", "timestamp": "garbage"}]))
    messages, problems = _read_all(discord, "discord-export")
    assert [len(m.text) for m in messages] == [LONG]
    assert [(p.source, p.position) for p in problems] == [("help.json", "message 1")]
    assert messages[0].posted_at == at and date(2024, 3, 5) == messages[0].posted_at.date()
    assert timedelta(0) == messages[0].posted_at - at
