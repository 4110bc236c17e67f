"""The settings tree: defaults, shipped files, durations, every problem at once, secrets."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from config.settings import (
    ConfigError,
    demo_config,
    format_duration,
    load_settings,
    parse_duration,
)
from tests.conftest import community_config

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "frontline.example.toml"
DEMO = REPO / "config" / "demo.toml"
ENV_VARS = (
    "FRONTLINE_CONFIG",
    "FRONTLINE_DATABASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "DISCORD_TOKEN",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting leaks in from the environment of whoever runs the tests."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(data=data)
    return caught.value.problems


def one_channel(**fields: Any) -> dict[str, Any]:
    return {"channels": [{"platform": "local", "id": "help", "name": "help", **fields}]}


# --- defaults and the shipped files ---------------------------------------------------


def test_defaults_without_a_file() -> None:
    """With no file and no environment, Frontline watches nothing and uses frontline.db."""
    settings = load_settings()
    assert settings.channels == []
    assert settings.calendars == {}
    assert settings.bot.database == "frontline.db"
    assert settings.bot.sweep_interval == timedelta(seconds=30)
    assert settings.slack_bot_token is None
    assert settings.discord_token is None


def test_example_file_loads() -> None:
    """config/frontline.example.toml loads cleanly with the values it documents."""
    settings = load_settings(EXAMPLE)
    assert settings.bot.database == "frontline.db"
    assert settings.tracking.mention_window == timedelta(minutes=15)
    assert [(c.platform, c.id) for c in settings.channels] == [("slack", "C0123456789")]
    help_channel = settings.channels[0]
    assert help_channel.target == timedelta(hours=1)
    assert help_channel.calendar == "support"
    assert help_channel.warn_at == 0.75
    assert help_channel.nudge_channel == "C0987654321"
    assert set(settings.build_calendars()) == {"24/7", "support"}


def test_example_file_loads_as_a_string_path() -> None:
    """load_settings accepts the path as a plain string too."""
    assert load_settings(str(EXAMPLE)).channels[0].name == "help"


def test_demo_file_loads() -> None:
    """config/demo.toml loads cleanly, from the file and as the built-in demo config."""
    from_file = load_settings(DEMO)
    built_in = load_settings(data=demo_config())
    assert from_file == built_in
    assert [c.id for c in built_in.channels] == ["help", "support", "general"]
    assert built_in.bot.database == "frontline-demo.db"
    support = built_in.channel("local", "support")
    assert support is not None
    assert support.mode == "every-post"
    assert built_in.staff.local_users == ["ana", "ben", "chidi"]


def test_frontline_config_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """FRONTLINE_CONFIG is read when no path is given."""
    monkeypatch.setenv("FRONTLINE_CONFIG", str(EXAMPLE))
    assert [c.id for c in load_settings().channels] == ["C0123456789"]


def test_explicit_path_beats_frontline_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """A path passed in wins over FRONTLINE_CONFIG."""
    monkeypatch.setenv("FRONTLINE_CONFIG", str(EXAMPLE))
    assert [c.id for c in load_settings(DEMO).channels] == ["help", "support", "general"]


def test_database_url_overrides_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """FRONTLINE_DATABASE_URL replaces bot.database and keeps the rest of [bot]."""
    path = tmp_path / "f.toml"
    path.write_text('[bot]\ndatabase = "from-file.db"\nsweep_interval = "1m"\n')
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", "sqlite:////var/lib/frontline/prod.db")
    settings = load_settings(path)
    assert settings.bot.database == "sqlite:////var/lib/frontline/prod.db"
    assert settings.bot.sweep_interval == timedelta(minutes=1)


def test_database_url_applies_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """FRONTLINE_DATABASE_URL also overrides the default database."""
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", "/data/fl.db")
    assert load_settings().bot.database == "/data/fl.db"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A config path that does not exist is reported by name, not as a traceback."""
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load_settings(missing)
    assert caught.value.problems == [f"{missing}: no such file"]


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    """A TOML syntax error is reported with the file name and the line."""
    path = tmp_path / "broken.toml"
    path.write_text('[bot]\ndatabase = "x.db"\n[[channels]\nid = "a"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    [problem] = caught.value.problems
    assert str(path) in problem
    assert "not valid TOML" in problem
    assert "line 3" in problem


# --- durations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("2H", timedelta(hours=2)),
        (3600, timedelta(hours=1)),
        (1.5, timedelta(seconds=1.5)),
        (timedelta(minutes=5), timedelta(minutes=5)),
    ],
)
def test_parse_duration_accepts(raw: object, expected: timedelta) -> None:
    """Every documented duration form parses to the right length."""
    assert parse_duration(raw) == expected


@pytest.mark.parametrize("raw", ["soon", "", "1.5h", "15 minutes", "1m30h", "h", "-5m", "0"])
def test_parse_duration_rejects_with_a_clear_message(raw: str) -> None:
    """A string that is not a duration says so and shows the accepted forms."""
    with pytest.raises(ValueError, match=r"is not a duration: use e\.g\. 90s, 15m, 1h30m or 2d"):
        parse_duration(raw)


def test_parse_duration_rejects_negative_numbers_and_booleans() -> None:
    """Negative seconds and true/false are refused."""
    with pytest.raises(ValueError, match="cannot be negative"):
        parse_duration(-5)
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("90s", 90), ("1h30m", 5400), ("2d", 172800), (3600, 3600)],
)
def test_durations_in_the_config(raw: object, expected: int) -> None:
    """A channel target written in any form becomes that many seconds."""
    settings = load_settings(data=one_channel(target=raw))
    assert settings.channels[0].target.total_seconds() == expected


def test_zero_target_is_refused() -> None:
    """A target of 0s is refused with its key path."""
    assert problems_of(one_channel(target="0s")) == [
        "channels[0] (help).target: the target must be longer than zero"
    ]


def test_absurd_duration_is_a_config_problem() -> None:
    """A duration too large for Python (a typo like 99999999999d) is listed as a problem."""
    problems = problems_of(one_channel(target="99999999999d"))
    assert problems and problems[0].startswith("channels[0] (help).target:")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (45, "45s"),
        (59.9, "59s"),
        (60, "1m"),
        (720, "12m"),
        (3600, "1h"),
        (3900, "1h05m"),
        (5400, "1h30m"),
        (86400, "1d"),
        (2 * 86400 + 3 * 3600, "2d3h"),
        (timedelta(hours=1, minutes=5), "1h05m"),
    ],
)
def test_format_duration(seconds: float | timedelta, text: str) -> None:
    """Durations print in the short human form used in posts and the demo."""
    assert format_duration(seconds) == text


# --- every problem at once --------------------------------------------------------------


def test_field_problems_are_all_listed_with_key_paths() -> None:
    """Bad target, key typo, bad mode and bad warn_at are reported together, each located."""
    data = community_config(
        channels=[
            {"platform": "local", "id": "help", "name": "help", "target": "soon"},
            {"platform": "local", "id": "q", "targte": "1h"},
            {"platform": "local", "id": "s", "name": "support", "mode": "sometimes"},
            {"platform": "local", "id": "w", "name": "warn", "warn_at": 2},
        ]
    )
    problems = problems_of(data)
    assert len(problems) == 4, problems
    text = "\n".join(problems)
    assert "channels[0] (help).target: 'soon' is not a duration" in text
    assert "channels[1] (q).targte: unknown key (check the spelling" in text
    assert "channels[2] (support).mode: allowed: 'questions' or 'every-post'" in text
    assert "channels[3] (warn).warn_at:" in text
    assert "less than or equal to 1" in text


def test_problems_in_different_tables_are_listed_together() -> None:
    """Problems under [bot], [tracking] and a top-level typo all show up at once."""
    problems = problems_of(
        {
            "bot": {"log_level": "LOUD", "sweep_interval": "often"},
            "tracking": {"detection_threshold": 3},
            "chanels": [],
        }
    )
    located = sorted(p.split(":", 1)[0] for p in problems)
    assert located == [
        "bot.log_level",
        "bot.sweep_interval",
        "chanels",
        "tracking.detection_threshold",
    ]


def test_cross_reference_problems_are_all_listed() -> None:
    """Undefined calendar, duplicate channel, bad timezone and bad hours are reported together."""
    data = {
        "calendars": {
            "mars": {"timezone": "Mars/Olympus_Mons"},
            "office": {"timezone": "Europe/Berlin", "hours": {"mon-fri": "9-5"}},
        },
        "channels": [
            {"platform": "local", "id": "help", "name": "help", "calendar": "suport"},
            {"platform": "local", "id": "help", "name": "help-again"},
            {"platform": "slack", "id": "help"},
        ],
    }
    problems = problems_of(data)
    assert len(problems) == 4, problems
    text = "\n".join(problems)
    assert (
        "channels[0] (help).calendar: unknown calendar 'suport'; defined: 24/7, mars, office"
        in (text)
    )
    assert "channels[1] (help-again).id: channel local:help is listed twice" in text
    assert "calendars.mars:" in text
    assert "unknown time zone 'Mars/Olympus_Mons'" in text
    assert "calendars.office:" in text
    assert "bad hours '9-5'" in text
    # The same id on another platform is a different channel.
    assert "slack:help" not in text


def test_bad_holiday_is_located() -> None:
    """A holiday that is not a date is reported under its calendar's key path."""
    problems = problems_of({"calendars": {"office": {"holidays": ["2026-13-40"]}}})
    assert len(problems) == 1
    assert problems[0].startswith("calendars.office.holidays[0]:")


def test_config_error_message_joins_problems() -> None:
    """The exception text carries every problem, one per line."""
    with pytest.raises(ConfigError) as caught:
        load_settings(data=one_channel(target="soon", mode="sometimes"))
    assert str(caught.value).splitlines() == caught.value.problems
    assert len(caught.value.problems) == 2


# --- secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["slack_bot_token", "slack_app_token", "slack_signing_secret", "discord_token"]
)
def test_secret_in_the_file_is_refused(tmp_path: Path, key: str) -> None:
    """A secret written in the TOML is refused, pointing to the environment variable."""
    path = tmp_path / "f.toml"
    path.write_text(f'{key} = "super-secret-value"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == [
        f"{key}: secrets are read from the environment ({key.upper()}), never from a file"
    ]
    assert "super-secret-value" not in str(caught.value)


def test_secret_in_the_file_is_listed_with_other_problems() -> None:
    """A secret in the file does not hide the other problems, and vice versa."""
    data = {"discord_token": "abc", **one_channel(target="soon")}
    problems = problems_of(data)
    assert len(problems) == 2
    assert problems[0].startswith("discord_token: secrets are read from the environment")
    assert problems[1].startswith("channels[0] (help).target:")


def test_secret_in_the_file_under_its_env_name_is_refused(tmp_path: Path) -> None:
    """SLACK_BOT_TOKEN = "..." in the TOML is refused like slack_bot_token."""
    path = tmp_path / "f.toml"
    path.write_text('SLACK_BOT_TOKEN = "xoxb-from-the-file"\n')
    with pytest.raises(ConfigError):
        load_settings(path)


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens set in the environment are available to the bot."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-env-secret-1")
    monkeypatch.setenv("DISCORD_TOKEN", "discord-env-secret-2")
    settings = load_settings(EXAMPLE)
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-env-secret-1"
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "discord-env-secret-2"
    assert settings.slack_app_token is None


def test_secrets_never_appear_when_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    """repr() and str() of the settings mask every secret."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-env-secret-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-env-secret-3")
    settings = load_settings(EXAMPLE)
    for shown in (repr(settings), str(settings), f"{settings}"):
        assert "xoxb-env-secret-1" not in shown
        assert "signing-env-secret-3" not in shown
        assert "**********" in shown


def test_empty_secret_in_the_environment_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exported but empty token is treated as no token."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    assert load_settings().slack_bot_token is None


# --- channel lookup ---------------------------------------------------------------------


def test_channel_lookup() -> None:
    """settings.channel finds configured channels by platform and id, None otherwise."""
    settings = load_settings(data=community_config())
    office = settings.channel("local", "office")
    assert office is not None
    assert office.calendar == "office"
    assert office.label() == "#office"
    support = settings.channel("local", "support")
    assert support is not None
    assert support.target == timedelta(minutes=30)
    assert settings.channel("local", "random") is None
    assert settings.channel("slack", "help") is None


def test_settings_are_frozen() -> None:
    """Loaded settings cannot be changed by accident at run time."""
    settings = load_settings(data=community_config())
    with pytest.raises(ValueError, match="frozen"):
        settings.bot.database = "other.db"  # type: ignore[misc]
