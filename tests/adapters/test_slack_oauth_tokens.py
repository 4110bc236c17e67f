"""Slack OAuth tokens encrypted at rest (FRONTLINE_TOKEN_KEYS), through the real bolt app.

The installs, events and posts run as in test_slack_oauth.py (its fixtures and helpers
are imported); these tests look at what the database holds, what the fake Slack sees,
what the log says, and what happens when keys are rotated, missing, wrong or malformed.
Stored values are decrypted here with `cryptography` directly, not with Frontline's
cipher, so a test fails if what is stored is not Fernet under the key it names.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.cli import EXIT_CONFIG, main
from bot.core.model import ChannelRef, Post
from bot.core.platform import PlatformError
from tests.adapters.fake_slack import FakeSlack
from tests.adapters.test_slack_oauth import (
    HELP_A,
    HELP_B,
    QUESTION,
    STAFF_A,
    STAFF_B,
    TEAM_A,
    TEAM_B,
    TOKEN_A,
    TOKEN_B,
    Replica,
    fake,  # noqa: F401 (a fixture)
    oauth_env,  # noqa: F401 (an autouse fixture)
    posts_by,
    replica,
)
from tests.conftest import both_backends

pytestmark = both_backends

KEYS = "FRONTLINE_TOKEN_KEYS"
OLD_KEY, NEW_KEY, OTHER_KEY = (Fernet.generate_key().decode() for _ in range(3))
USER_TOKEN = "xoxp-installer-5555-s3cretvalue"
USER_REFRESH = "xoxe-1-user-6666-s3cretvalue"
WEBHOOK = "https://hooks.slack.com/services/T0ALPHA/B0HOOK/s3cretpath7777"
ROTATED_A = "xoxb-alpha-rotated-3333-s3cret"
EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "frontline.example.toml"
UNENCRYPTED = "Slack tokens are stored unencrypted"


def use_keys(monkeypatch: pytest.MonkeyPatch, *keys: str) -> None:
    """Start the next replica with these keys (the first encrypts); none: unset."""
    if keys:
        monkeypatch.setenv(KEYS, ",".join(keys))
    else:
        monkeypatch.delenv(KEYS, raising=False)


def with_user_token_and_webhook(slack: FakeSlack, code: str) -> None:
    """Make the grant of `code` carry every secret an installation row can hold."""
    grant = slack.grants[code]
    grant["authed_user"] = {
        "id": "UINSTALLER",
        "access_token": USER_TOKEN,
        "refresh_token": USER_REFRESH,
        "expires_in": 43200,
        "scope": "search:read",
        "token_type": "user",
    }
    grant["incoming_webhook"] = {
        "url": WEBHOOK,
        "channel": "#staff-a",
        "channel_id": STAFF_A,
        "configuration_url": "https://alpha.slack.com/services/B0HOOK",
    }


def opened(stored: str, *keys: str) -> str:
    """A stored value decrypted with exactly these keys; InvalidToken when none opens it."""
    assert stored.startswith("fernet:"), "stored in plaintext"
    box = MultiFernet([Fernet(key) for key in keys])
    return box.decrypt(stored.removeprefix("fernet:").encode()).decode()


def database_bytes(database: str) -> bytes:
    """The SQLite file and its write-ahead log as they are on disk (b'' for PostgreSQL)."""
    if database.startswith("postgresql"):
        return b""
    paths = (Path(database + suffix) for suffix in ("", "-wal", "-journal"))
    return b"".join(p.read_bytes() for p in paths if p.exists())


async def every_stored_value(one: Replica) -> str:
    """All columns of all installation rows, as an operator's SELECT * would show them."""
    rows = await one.rows("SELECT * FROM slack_bots")
    rows += await one.rows("SELECT * FROM slack_installations")
    return repr(rows)


async def bot_tokens(one: Replica, team: str) -> tuple[str, str | None]:
    """The stored bot token and refresh token of a workspace, as stored."""
    found = await one.rows(
        "SELECT bot_token, bot_refresh_token FROM slack_bots WHERE team_id = ?", team
    )
    assert len(found) == 1
    return found[0][0], found[0][1]


async def post_to(one: Replica, channel: ChannelRef) -> None:
    await one.adapter.platform.post(channel, Post("hello"))


def staff(team: str, channel: str) -> ChannelRef:
    return ChannelRef("slack", team, channel)


# --- encrypted from the first install -----------------------------------------------------


async def test_an_install_stores_every_secret_encrypted_and_the_bot_still_uses_its_token(
    fake: FakeSlack,  # noqa: F811
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After an OAuth install no token is in the database; events and posts use the real one."""
    use_keys(monkeypatch, NEW_KEY)
    with_user_token_and_webhook(fake, "code-a")
    async with replica(fake, database) as one:
        await one.install("code-a")
        stored = await every_stored_value(one)
        on_disk = database_bytes(database)
        for secret in (TOKEN_A, USER_TOKEN, USER_REFRESH, WEBHOOK):
            assert secret not in stored
            assert secret.encode() not in on_disk
        row = await one.rows(
            "SELECT bot_token, user_token, user_refresh_token, incoming_webhook_url "
            "FROM slack_installations WHERE team_id = ?",
            TEAM_A,
        )
        assert [opened(v, NEW_KEY) for v in row[0]] == [TOKEN_A, USER_TOKEN, USER_REFRESH, WEBHOOK]
        assert opened((await bot_tokens(one, TEAM_A))[0], NEW_KEY) == TOKEN_A

        ref = await one.say(TEAM_A, HELP_A, "UMARIA", QUESTION)
        assert await one.app.ctx.store.question_by_ref(ref) is not None
        await post_to(one, staff(TEAM_A, STAFF_A))
        assert {c.token for c in fake.calls if c.method == "users.info"} == {TOKEN_A}
        assert posts_by(fake, STAFF_A) == [TOKEN_A]
        oauth = one.adapter.oauth
        assert oauth is not None
        found = await oauth.installations.async_find_installation(
            enterprise_id=None, team_id=TEAM_A
        )
        assert found is not None
        assert (found.user_token, found.incoming_webhook_url) == (USER_TOKEN, WEBHOOK)
    assert UNENCRYPTED not in caplog.text


# --- rotating the key ----------------------------------------------------------------------


async def test_rows_of_an_old_key_are_read_with_new_and_old_and_rewritten_under_the_new(
    fake: FakeSlack,  # noqa: F811
    database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """New key first, old after: at start every row is sealed again under the new key.

    Refreshed tokens and reinstalls are stored under the new key too; once a replica has
    started with the new key first, the old one can go.
    """
    fake.install("code-r", TEAM_A, "Alpha", TOKEN_A, "UBOTA", "BBOTA", refresh_token="xoxe-1-a")
    fake.rotation(TOKEN_A, "xoxe-1-a", ROTATED_A)
    use_keys(monkeypatch, OLD_KEY)
    async with replica(fake, database) as before:
        await before.install("code-r")
        await before.install("code-b")
        old_b = (await bot_tokens(before, TEAM_B))[0]
        assert opened(old_b, OLD_KEY) == TOKEN_B

    use_keys(monkeypatch, NEW_KEY, OLD_KEY)
    async with replica(fake, database) as after:
        resealed_b = (await bot_tokens(after, TEAM_B))[0]
        assert resealed_b != old_b
        assert opened(resealed_b, NEW_KEY) == TOKEN_B
        with pytest.raises(InvalidToken):
            opened(resealed_b, OLD_KEY)
        await post_to(after, staff(TEAM_B, STAFF_B))
        assert posts_by(fake, STAFF_B) == [TOKEN_B]
        await post_to(after, staff(TEAM_A, STAFF_A))  # expiring: refreshed, then stored
        assert posts_by(fake, STAFF_A) == [ROTATED_A]
        token_a, refresh_a = await bot_tokens(after, TEAM_A)
        assert refresh_a is not None
        assert opened(token_a, NEW_KEY) == ROTATED_A
        assert opened(refresh_a, NEW_KEY) == f"xoxe-1-next-{ROTATED_A}"
        with pytest.raises(InvalidToken):
            opened(token_a, OLD_KEY)

        fake.install("code-b2", TEAM_B, "Bravo", TOKEN_B, "UBOTB", "BBOTB")
        await after.install("code-b2")
        assert opened((await bot_tokens(after, TEAM_B))[0], NEW_KEY) == TOKEN_B

    use_keys(monkeypatch, NEW_KEY)  # every row sealed again: the old key can go
    async with replica(fake, database) as later:
        await post_to(later, staff(TEAM_A, STAFF_A))
        await post_to(later, staff(TEAM_B, STAFF_B))
        assert posts_by(fake, STAFF_A)[-1] == ROTATED_A
        assert posts_by(fake, STAFF_B)[-1] == TOKEN_B


# --- turning encryption on in an existing deployment ---------------------------------------


async def test_without_keys_tokens_are_stored_as_before_and_a_warning_says_so_once(
    fake: FakeSlack,  # noqa: F811
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No FRONTLINE_TOKEN_KEYS: plaintext rows, everything works, one warning at start."""
    use_keys(monkeypatch)
    async with replica(fake, database) as one:
        await one.install("code-a")
        await one.install("code-b")
        await one.say(TEAM_A, HELP_A, "UMARIA", QUESTION)
        await post_to(one, staff(TEAM_B, STAFF_B))
        assert await bot_tokens(one, TEAM_A) == (TOKEN_A, None)
        assert posts_by(fake, STAFF_B) == [TOKEN_B]
    warnings = [r for r in caplog.records if UNENCRYPTED in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert KEYS in warnings[0].getMessage()


async def test_plaintext_rows_from_before_are_encrypted_at_start(
    fake: FakeSlack,  # noqa: F811
    database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Keys set on a database of plaintext rows: sealed at start, and they still post."""
    fake.install("code-r", TEAM_A, "Alpha", TOKEN_A, "UBOTA", "BBOTA", refresh_token="xoxe-1-a")
    fake.rotation(TOKEN_A, "xoxe-1-a", ROTATED_A)
    use_keys(monkeypatch)
    async with replica(fake, database) as before:
        await before.install("code-r")
        await before.install("code-b")
        assert await bot_tokens(before, TEAM_A) == (TOKEN_A, "xoxe-1-a")

    use_keys(monkeypatch, NEW_KEY)
    async with replica(fake, database) as after:
        ref = await after.say(TEAM_B, HELP_B, "UCHIDI", "Can someone help me set up SSO?")
        assert await after.app.ctx.store.question_by_ref(ref) is not None
        await post_to(after, staff(TEAM_B, STAFF_B))
        assert posts_by(fake, STAFF_B) == [TOKEN_B]
        token_b, _ = await bot_tokens(after, TEAM_B)
        assert opened(token_b, NEW_KEY) == TOKEN_B

        await post_to(after, staff(TEAM_A, STAFF_A))
        assert posts_by(fake, STAFF_A) == [ROTATED_A]
        token_a, refresh_a = await bot_tokens(after, TEAM_A)
        assert refresh_a is not None
        assert opened(token_a, NEW_KEY) == ROTATED_A
        assert opened(refresh_a, NEW_KEY) == f"xoxe-1-next-{ROTATED_A}"


# --- keys that do not open the rows ----------------------------------------------------------


async def test_with_a_wrong_key_the_workspace_is_not_installed_and_the_log_says_which_field(
    fake: FakeSlack,  # noqa: F811
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Rows of a key no longer listed: that workspace's posts are dropped, nothing crashes.

    Installing the app there again (under the current key) brings the workspace back.
    """
    use_keys(monkeypatch, OLD_KEY)
    async with replica(fake, database) as before:
        await before.install("code-a")
        stored_a = (await bot_tokens(before, TEAM_A))[0]

    use_keys(monkeypatch, OTHER_KEY)
    async with replica(fake, database) as after:
        with pytest.raises(PlatformError) as dropped:
            await post_to(after, staff(TEAM_A, STAFF_A))
        assert not dropped.value.retryable
        with pytest.raises(PlatformError):
            await post_to(after, staff(TEAM_A, STAFF_A))
        ref = await after.say(TEAM_A, HELP_A, "UMARIA", QUESTION)
        assert await after.app.ctx.store.question_by_ref(ref) is None
        assert posts_by(fake, STAFF_A) == []

        errors = [
            r
            for r in caplog.records
            if r.levelno == logging.ERROR and "cannot be decrypted" in r.getMessage()
        ]
        assert errors
        assert all(TEAM_A in r.getMessage() for r in errors)
        # Reported once, however often the workspace is looked up (two posts, an event).
        assert ["slack_bots.bot_token" in r.getMessage() for r in errors].count(True) == 1
        for secret in (TOKEN_A, stored_a, stored_a.removeprefix("fernet:"), OLD_KEY, OTHER_KEY):
            assert secret not in caplog.text

        fake.install("code-a2", TEAM_A, "Alpha", TOKEN_A, "UBOTA", "BBOTA")
        await after.install("code-a2")
        await post_to(after, staff(TEAM_A, STAFF_A))
        assert posts_by(fake, STAFF_A) == [TOKEN_A]
        assert opened((await bot_tokens(after, TEAM_A))[0], OTHER_KEY) == TOKEN_A


async def test_an_altered_row_loses_only_its_own_workspace(
    fake: FakeSlack,  # noqa: F811
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A tampered token makes its workspace not installed; the other workspace carries on."""
    use_keys(monkeypatch, NEW_KEY)
    async with replica(fake, database) as one:
        await one.install("code-a")
        await one.install("code-b")
        token_a = (await bot_tokens(one, TEAM_A))[0]
        tampered = token_a[:-6] + ("AAAAAA" if not token_a.endswith("AAAAAA") else "BBBBBB")
        await one.rows("UPDATE slack_bots SET bot_token = ? WHERE team_id = ?", tampered, TEAM_A)

        with pytest.raises(PlatformError):
            await post_to(one, staff(TEAM_A, STAFF_A))
        await post_to(one, staff(TEAM_B, STAFF_B))
        assert posts_by(fake, STAFF_A) == []
        assert posts_by(fake, STAFF_B) == [TOKEN_B]
        assert f"Slack workspace {TEAM_A} is not installed" in caplog.text
        assert "slack_bots.bot_token cannot be decrypted" in caplog.text
        assert tampered not in caplog.text


# --- a key that is not a key -------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["run", "--http", "--port", "3000"], ["check-config"]], ids=["run", "check-config"]
)
def test_a_malformed_key_stops_frontline_naming_the_variable_not_the_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """`run --http` and `check-config` with a bad second key: a configuration error."""
    bad = "not-a-fernet-key-s3cretvalue"
    use_keys(monkeypatch, NEW_KEY, bad)
    code = main(["--config", str(EXAMPLE), *command])
    err = capsys.readouterr().err
    assert code == EXIT_CONFIG
    problems = [line for line in err.splitlines() if line.startswith("  - ")]
    assert len(problems) == 1
    assert problems[0].startswith(f"  - {KEYS}: key 2 of 2 is not a Fernet key")
    assert bad not in err and NEW_KEY not in err


def test_check_config_says_stored_tokens_are_encrypted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_keys(monkeypatch, NEW_KEY, OLD_KEY)
    assert main(["--config", str(EXAMPLE), "check-config"]) == 0
    out = capsys.readouterr().out
    assert "Stored Slack tokens: encrypted (2 key(s))" in out
    assert NEW_KEY not in out and OLD_KEY not in out
