"""Several Slack workspaces over OAuth, end to end: the real bolt app on 127.0.0.1, a fake Slack.

Installs go through /slack/install and /slack/oauth_redirect with the fake's
oauth.v2.access; events are signed requests; the fake records which token made each
Web API call, so each test sees which workspace's bot spoke.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from bot.adapters.slack_adapter import SlackAdapter, adapter_from_env
from bot.adapters.slack_oauth import (
    INSTALL_PATH,
    REDIRECT_PATH,
    SCOPES,
    Workspaces,
    oauth_from_env,
)
from bot.app import Frontline
from bot.core.clock import VirtualClock
from bot.core.model import ChannelRef, MessageRef, Post, QuestionState
from bot.core.platform import PlatformError
from bot.storage.repos import Repo
from config.settings import ConfigError, load_settings
from tests.adapters.fake_slack import (
    SECRET,
    FakeSlack,
    event_body,
    message_event,
    signed_headers,
    ts_at,
)
from tests.adapters.test_slack_manifest import MANIFEST, _list_under
from tests.conftest import T0, both_backends

# Installations and OAuth states live in Frontline's database: both kinds are exercised.
pytestmark = both_backends

TEAM_A, TEAM_B = "T0ALPHA", "T0BRAVO"
TOKEN_A, TOKEN_B = "xoxb-alpha-1111-s3cretvalue", "xoxb-bravo-2222-s3cretvalue"
HELP_A, STAFF_A, NIGHT_A = "C0HELPA", "C0STAFFA", "C0NIGHTA"
HELP_B, STAFF_B, RANDOM_B = "C0HELPB", "C0STAFFB", "C0RANDOMB"
QUESTION = "How do I rotate my API key? The docs don't say."


def oauth_config() -> dict[str, Any]:
    """Two workspaces: A's channels name their team id, B's channel relies on its id alone."""
    return {
        "bot": {"sweep_interval": "30s"},
        "staff": {"slack_users": ["UANA"]},
        "calendars": {"night": {"timezone": "UTC", "hours": {"mon-fri": "20:00-21:00"}}},
        "channels": [
            {
                "platform": "slack",
                "space": TEAM_A,
                "id": HELP_A,
                "name": "help-a",
                "target": "1h",
                "nudge_channel": STAFF_A,
            },
            {
                "platform": "slack",
                "space": TEAM_A,
                "id": NIGHT_A,
                "name": "night-a",
                "calendar": "night",
                "ack_outside_hours": True,
            },
            {
                "platform": "slack",
                "id": HELP_B,
                "name": "help-b",
                "target": "1h",
                "nudge_channel": STAFF_B,
            },
        ],
    }


@pytest.fixture(autouse=True)
def oauth_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several-workspace credentials in the environment, and no single bot token."""
    monkeypatch.setenv("SLACK_CLIENT_ID", FakeSlack.client_id)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", FakeSlack.client_secret)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_REDIRECT_URI"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """The fake Slack Web API, ready to install the app in two workspaces."""
    fake = await FakeSlack().start()
    for user, name in (("UMARIA", "Maria"), ("UCHIDI", "Chidi"), ("UANA", "Ana")):
        fake.add_user(user, name)
    fake.install("code-a", TEAM_A, "Alpha", TOKEN_A, "UBOTA", "BBOTA")
    fake.install("code-b", TEAM_B, "Bravo", TOKEN_B, "UBOTB", "BBOTB")
    try:
        yield fake
    finally:
        await fake.close()


class Replica:
    """One Frontline process in OAuth mode: its bolt app on 127.0.0.1 and its database."""

    def __init__(
        self,
        adapter: SlackAdapter,
        app: Frontline,
        clock: VirtualClock,
        session: aiohttp.ClientSession,
    ) -> None:
        self.adapter = adapter
        self.app = app
        self.clock = clock
        self.session = session
        self.base = adapter.url.removesuffix("/slack/events")
        self._ids = itertools.count(1)

    async def start_install(self) -> tuple[str, str, str]:
        """GET /slack/install: the redirect's Location, the state in it, the cookie set."""
        async with self.session.get(self.base + INSTALL_PATH, allow_redirects=False) as resp:
            assert resp.status == 302, await resp.text()
            location = resp.headers["Location"]
            cookie = resp.headers["Set-Cookie"]
        state = parse_qs(urlsplit(location).query)["state"][0]
        return location, state, cookie

    async def finish_install(self, code: str, state: str, cookie_state: str | None) -> int:
        """GET /slack/oauth_redirect as the installer's browser comes back from Slack."""
        headers = {"Cookie": f"slack-app-oauth-state={cookie_state}"} if cookie_state else {}
        async with self.session.get(
            self.base + REDIRECT_PATH,
            params={"code": code, "state": state},
            headers=headers,
            allow_redirects=False,
        ) as resp:
            await resp.read()
            return resp.status

    async def install(self, code: str) -> None:
        """The whole install: start here, approve at Slack, come back with the code."""
        _, state, _ = await self.start_install()
        assert await self.finish_install(code, state, state) == 200

    async def event(self, team: str, event: dict[str, Any]) -> int:
        body = event_body(event, f"Ev{team}{next(self._ids):05d}", team=team)
        headers = signed_headers(body, content_type="application/json")
        async with self.session.post(self.adapter.url, data=body, headers=headers) as resp:
            return resp.status

    async def say(self, team: str, channel: str, user: str, text: str) -> MessageRef:
        """A member of `team` posts in `channel`; returns the message's ref."""
        ts = ts_at(self.clock.now(), next(self._ids))
        event = message_event(user, text, ts, channel=channel, team=team)
        assert await self.event(team, event) == 200
        return MessageRef("slack", team, channel, ts)

    async def advance(self, **delta: float) -> None:
        await self.app.advance_to(self.clock.now() + timedelta(**delta))

    async def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run SQL on the database as an operator would, and return the rows."""

        def run(repo: Repo) -> list[tuple[Any, ...]]:
            return [tuple(row) for row in repo._all(sql, params)]

        return await self.app.ctx.store.write(run)


@asynccontextmanager
async def replica(fake: FakeSlack, database: str) -> AsyncIterator[Replica]:
    """Start Frontline in OAuth mode (HTTP on port 0) against `fake`; stop it after."""
    settings = load_settings(data=oauth_config())
    oauth = oauth_from_env(settings, api_url=fake.api_url)
    assert oauth is not None
    adapter = SlackAdapter(
        settings,
        http=True,
        host="127.0.0.1",
        port=0,
        api_url=fake.api_url,
        process_before_response=True,
        oauth=oauth,
    )
    clock = VirtualClock(T0)
    async with (
        Frontline.open(settings, clock, {"slack": adapter.platform}, database=database) as app,
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session,
    ):
        task = asyncio.create_task(adapter.run(app))
        ready = asyncio.create_task(adapter.ready.wait())
        await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            ready.cancel()
            task.result()
        assert adapter.ready.is_set(), "the Slack adapter did not start"
        try:
            yield Replica(adapter, app, clock, session)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
async def one(fake: FakeSlack, database: str) -> AsyncIterator[Replica]:
    """One Frontline process in OAuth mode with its own database."""
    async with replica(fake, database) as running:
        yield running


def posts_by(fake: FakeSlack, channel: str) -> list[str]:
    """The tokens that posted in `channel` (successful chat.postMessage calls)."""
    return [
        c.token
        for c in fake.calls
        if c.method == "chat.postMessage" and c.args.get("channel") == channel and not c.fault
    ]


def dropped_for(caplog: pytest.LogCaptureFixture, team: str) -> list[logging.LogRecord]:
    """The log records saying a call to `team` was dropped because it is not installed."""
    return [
        r for r in caplog.records if team in r.getMessage() and "not installed" in r.getMessage()
    ]


# --- installing ------------------------------------------------------------------------


async def test_install_redirects_to_slack_with_a_state_and_the_manifest_scopes(
    one: Replica,
) -> None:
    """/slack/install stores a one-time state, sets it as a cookie, and redirects to Slack."""
    location, state, cookie = await one.start_install()
    url = urlsplit(location)
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("https", "slack.com", "/oauth/v2/authorize")
    assert query["client_id"] == [FakeSlack.client_id]
    assert query["scope"][0].split(",") == list(SCOPES)
    assert "user_scope" not in query or query["user_scope"] == [""]
    assert cookie.startswith(f"slack-app-oauth-state={state};")
    assert await one.rows("SELECT state FROM slack_oauth_states") == [(state,)]


async def test_the_redirect_stores_the_installation_and_keeps_the_token_out_of_logs(
    one: Replica, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """The code is exchanged once; the bot is stored in the database; no log shows the token."""
    caplog.set_level(logging.DEBUG)
    _, state, _ = await one.start_install()
    assert await one.finish_install("code-a", state, state) == 200
    assert fake.calls_of("oauth.v2.access")[0]["code"] == "code-a"
    stored = await one.rows("SELECT team_id, bot_user_id, bot_token FROM slack_bots")
    assert stored == [(TEAM_A, "UBOTA", TOKEN_A)]
    assert await one.rows("SELECT count(*) FROM slack_oauth_states") == [(0,)]
    assert f"installed in workspace {TEAM_A} (Alpha)" in caplog.text
    assert "oauth.v2.access" in caplog.text  # slack_sdk did log the exchange, masked
    assert TOKEN_A not in caplog.text


async def test_events_of_an_installed_workspace_are_handled_with_its_token(
    one: Replica, fake: FakeSlack
) -> None:
    """A question from workspace A is tracked; names and the away notice use A's bot token."""
    await one.install("code-a")
    ref = await one.say(TEAM_A, HELP_A, "UMARIA", QUESTION)
    question = await one.app.ctx.store.question_by_ref(ref)
    assert question is not None and question.asker_name == "Maria"
    assert {c.token for c in fake.calls if c.method == "users.info"} == {TOKEN_A}
    await one.say(TEAM_A, NIGHT_A, "UCHIDI", "Is anyone around? The export keeps failing.")
    assert posts_by(fake, NIGHT_A) == [TOKEN_A]  # "the team is away" in the thread


async def test_two_workspaces_each_get_their_own_token(one: Replica, fake: FakeSlack) -> None:
    """Questions in A and B are nudged in each workspace's staff channel with its own bot."""
    await one.install("code-a")
    await one.install("code-b")
    a = await one.say(TEAM_A, HELP_A, "UMARIA", QUESTION)
    b = await one.say(TEAM_B, HELP_B, "UCHIDI", "Can someone help me set up SSO with Okta?")
    await one.advance(hours=1, minutes=1)
    assert posts_by(fake, STAFF_A) and set(posts_by(fake, STAFF_A)) == {TOKEN_A}
    assert posts_by(fake, STAFF_B) and set(posts_by(fake, STAFF_B)) == {TOKEN_B}
    for ref in (a, b):
        question = await one.app.ctx.store.question_by_ref(ref)
        assert question is not None and question.breached


async def test_channels_not_configured_for_a_workspace_are_not_watched(
    one: Replica, fake: FakeSlack
) -> None:
    """B's unconfigured channel is ignored, and so is A's channel id arriving from workspace B."""
    await one.install("code-a")
    await one.install("code-b")
    elsewhere = await one.say(TEAM_B, RANDOM_B, "UCHIDI", "Can someone help me with SSO?")
    spoofed = await one.say(TEAM_B, HELP_A, "UCHIDI", "Can someone help me with the export?")
    store = one.app.ctx.store
    assert await store.question_by_ref(elsewhere) is None
    assert await store.question_by_ref(spoofed) is None


async def test_bad_missing_reused_or_expired_states_are_refused(
    one: Replica, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """Only a state this app issued, unexpired, presented once by the same browser installs."""
    _, state, _ = await one.start_install()
    assert await one.finish_install("code-a", "made-up-state", "made-up-state") == 401
    assert await one.finish_install("code-a", state, None) == 400  # not the browser that started
    _, old, _ = await one.start_install()
    await one.rows("UPDATE slack_oauth_states SET expires_at = 0 WHERE state = ?", old)
    assert await one.finish_install("code-a", old, old) == 401
    assert fake.calls_of("oauth.v2.access") == []
    assert await one.finish_install("code-a", state, state) == 200
    assert await one.finish_install("code-b", state, state) == 401  # used up
    assert await one.rows("SELECT team_id FROM slack_bots") == [(TEAM_A,)]
    assert "Slack install refused: invalid_state" in caplog.text


async def test_a_code_slack_does_not_accept_installs_nothing(one: Replica, fake: FakeSlack) -> None:
    """An invalid code is refused by oauth.v2.access; nothing is stored."""
    _, state, _ = await one.start_install()
    assert await one.finish_install("not-a-code", state, state) == 401
    assert await one.rows("SELECT count(*) FROM slack_bots") == [(0,)]


async def test_a_reinstall_replaces_the_token_used_at_once(one: Replica, fake: FakeSlack) -> None:
    """Installing again in a workspace (new scopes, a new token) replaces the old token."""
    renewed = "xoxb-alpha-renewed-4444-s3cret"
    await one.install("code-a")
    staff_a = ChannelRef("slack", TEAM_A, STAFF_A)
    await one.adapter.platform.post(staff_a, Post("before"))
    fake.install("code-a2", TEAM_A, "Alpha", renewed, "UBOTA", "BBOTA")
    await one.install("code-a2")
    await one.adapter.platform.post(staff_a, Post("after"))
    assert posts_by(fake, STAFF_A) == [TOKEN_A, renewed]
    assert await one.rows("SELECT team_id, bot_token FROM slack_bots") == [(TEAM_A, renewed)]
    oauth = one.adapter.oauth
    assert oauth is not None
    found = await oauth.installations.async_find_installation(enterprise_id=None, team_id=TEAM_A)
    assert found is not None
    assert (found.bot_token, found.user_id, found.team_name) == (renewed, "UINSTALLER", "Alpha")


async def test_a_rotating_token_is_refreshed_before_a_post_and_stored(
    one: Replica, fake: FakeSlack
) -> None:
    """With token rotation on, an expiring bot token is exchanged first; the new one posts."""
    rotated = "xoxb-alpha-rotated-3333-s3cret"
    fake.install("code-r", TEAM_A, "Alpha", TOKEN_A, "UBOTA", "BBOTA", refresh_token="xoxe-1-a")
    fake.rotation(TOKEN_A, "xoxe-1-a", rotated)
    await one.install("code-r")
    await one.adapter.platform.post(ChannelRef("slack", TEAM_A, STAFF_A), Post("hello"))
    assert posts_by(fake, STAFF_A) == [rotated]
    stored = await one.rows("SELECT bot_token, bot_refresh_token FROM slack_bots")
    assert stored == [(rotated, f"xoxe-1-next-{rotated}")]


# --- uninstalling ----------------------------------------------------------------------


async def test_uninstall_deletes_the_installation_and_stops_nudging_its_questions(
    one: Replica, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """After app_uninstalled, A's rows are gone and its question stays, no longer nudged."""
    await one.install("code-a")
    await one.install("code-b")
    a = await one.say(TEAM_A, HELP_A, "UMARIA", QUESTION)
    b = await one.say(TEAM_B, HELP_B, "UCHIDI", "Can someone help me set up SSO with Okta?")
    assert await one.event(TEAM_A, {"type": "app_uninstalled", "event_ts": "1.000001"}) == 200
    fake.revoked.add(TOKEN_A)  # Slack revokes the tokens of an uninstalled app
    assert await one.rows("SELECT team_id FROM slack_bots") == [(TEAM_B,)]
    assert await one.rows("SELECT team_id FROM slack_installations") == [(TEAM_B,)]
    assert (
        f"Slack workspace {TEAM_A} uninstalled Frontline: its installation is deleted; its "
        "questions stay as history (1 still waiting, no longer nudged)"
    ) in caplog.text

    await one.advance(days=1)
    assert not [c for c in fake.calls if c.token == TOKEN_A and c.method == "chat.postMessage"]
    assert not dropped_for(caplog, TEAM_A)  # nothing was even tried
    assert set(posts_by(fake, STAFF_B)) == {TOKEN_B}  # B's question was nudged as usual
    question = await one.app.ctx.store.question_by_ref(a)
    assert question is not None and question.state == QuestionState.OPEN  # history stays
    history = await one.app.ctx.store.history(question.id)
    assert ("paused", "workspace uninstalled") in [(kind, why) for _, kind, _, why in history]
    assert "breached" not in [kind for _, kind, _, _ in history]
    assert await one.app.ctx.store.question_by_ref(b) is not None


async def test_installing_again_resumes_the_questions_paused_at_the_uninstall(
    one: Replica, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """Uninstalled, then installed again: the question still waiting is nudged once more."""
    caplog.set_level(logging.INFO, logger="bot.adapters.slack_oauth")
    await one.install("code-a")
    a = await one.say(TEAM_A, HELP_A, "UMARIA", QUESTION)
    assert await one.event(TEAM_A, {"type": "app_uninstalled", "event_ts": "1.000001"}) == 200
    fake.revoked.add(TOKEN_A)
    await one.advance(hours=2)
    assert posts_by(fake, STAFF_A) == []

    renewed = "xoxb-a-again"
    fake.install("code-a2", TEAM_A, "Alpha", renewed, "UBOTA", "BBOTA")
    await one.install("code-a2")
    assert f"Slack workspace {TEAM_A} installed Frontline again: 1 question(s)" in caplog.text
    await one.advance(minutes=1)
    # Its target passed while the app was away: one breach nudge now, no stale warning.
    assert posts_by(fake, STAFF_A) == [renewed]
    question = await one.app.ctx.store.question_by_ref(a)
    assert question is not None and question.breached
    history = [kind for _, kind, _, _ in await one.app.ctx.store.history(question.id)]
    assert "paused" in history and history.index("resumed") < history.index("breached")
    assert "warned" not in history


async def test_a_revoked_bot_token_stops_posts_to_that_workspace(
    one: Replica, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """tokens_revoked for the bot deletes it; the next post there is dropped, naming the team."""
    await one.install("code-a")
    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOTA"]}}
    assert await one.event(TEAM_A, event) == 200
    assert await one.rows("SELECT count(*) FROM slack_bots") == [(0,)]
    with pytest.raises(PlatformError) as refused:
        await one.adapter.platform.post(ChannelRef("slack", TEAM_A, STAFF_A), Post("hello"))
    assert not refused.value.retryable
    assert TEAM_A in str(refused.value)
    assert f"Slack workspace {TEAM_A} revoked Frontline's bot token" in caplog.text


# --- statelessness ------------------------------------------------------------------------


async def test_a_second_process_serves_what_the_first_installed(
    fake: FakeSlack, database: str
) -> None:
    """Two replicas on one database: an install begun on one ends on the other.

    The second then handles events and sends nudges for that workspace with its token.
    """
    async with replica(fake, database) as first, replica(fake, database) as second:
        _, state, _ = await first.start_install()
        assert await second.finish_install("code-a", state, state) == 200
        await first.install("code-b")
        ref = await second.say(TEAM_B, HELP_B, "UCHIDI", "Can someone help me set up SSO?")
        assert await second.app.ctx.store.question_by_ref(ref) is not None
        await second.say(TEAM_A, NIGHT_A, "UMARIA", "Is anyone around? The export fails.")
        assert posts_by(fake, NIGHT_A) == [TOKEN_A]
        await second.advance(hours=1, minutes=1)
        assert set(posts_by(fake, STAFF_B)) == {TOKEN_B}


# --- which workspace a post without a space goes to -----------------------------------------


async def test_a_post_without_space_goes_to_the_only_workspace_or_asks_for_space(
    one: Replica, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """One installation: a ref without team id goes there. Two: the call fails and says why."""
    platform = one.adapter.platform
    assert isinstance(platform, Workspaces)
    await one.install("code-a")
    await platform.post(ChannelRef("slack", "", "C0SUMMARY"), Post("daily summary"))
    assert posts_by(fake, "C0SUMMARY") == [TOKEN_A]
    await one.install("code-b")
    with pytest.raises(PlatformError, match="set `space`"):
        await platform.post(ChannelRef("slack", "", "C0SUMMARY"), Post("daily summary"))
    await platform.post(ChannelRef("slack", "", HELP_A), Post("configured with its space"))
    assert posts_by(fake, HELP_A) == [TOKEN_A]


# --- configuration ----------------------------------------------------------------------------


def test_client_credentials_with_http_select_several_workspaces() -> None:
    """SLACK_CLIENT_ID + SLACK_CLIENT_SECRET with --http: OAuth mode, no SLACK_BOT_TOKEN needed."""
    adapter = adapter_from_env(load_settings(data=oauth_config()), http=True, port=3000)
    assert adapter.oauth is not None
    assert isinstance(adapter.platform, Workspaces)
    assert adapter.bolt.oauth_flow is not None
    assert adapter.bolt.oauth_flow.install_path == INSTALL_PATH


def test_oauth_without_http_or_with_half_the_credentials_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Socket Mode cannot install; a missing client secret is named."""
    with pytest.raises(ConfigError) as no_http:
        adapter_from_env(load_settings(data=oauth_config()), http=False)
    assert any("--http" in p and "SLACK_CLIENT_ID" in p for p in no_http.value.problems)
    monkeypatch.delenv("SLACK_CLIENT_SECRET")
    with pytest.raises(ConfigError) as half:
        adapter_from_env(load_settings(data=oauth_config()), http=True)
    assert any(p.startswith("SLACK_CLIENT_SECRET: not set") for p in half.value.problems)


def test_client_credentials_are_refused_in_the_settings_file() -> None:
    """The client secret is a secret: environment only."""
    with pytest.raises(ConfigError) as refused:
        load_settings(data={**oauth_config(), "slack_client_secret": "oops"})
    assert any("slack_client_secret" in p for p in refused.value.problems)


def test_the_install_asks_for_the_manifest_scopes_and_the_manifest_names_the_redirect() -> None:
    """The OAuth scopes are the manifest's; its comments show the redirect URL and events."""
    text = MANIFEST.read_text(encoding="utf-8")
    assert sorted(_list_under(text, "bot")) == sorted(SCOPES)
    assert f"https://frontline.example.com{REDIRECT_PATH}" in text
    assert "app_uninstalled" in text and "tokens_revoked" in text
