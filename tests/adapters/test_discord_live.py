"""The Discord adapter end to end: the real discord.py client against the local fake Discord.

Each test runs the real app (SQLite file in tmp_path, virtual clock) and the real
adapter logged in to the fake's REST and gateway on 127.0.0.1, pushes what members do
as gateway events, and checks what members and staff would see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord
import pytest

from bot.app import build_router
from bot.context import Context
from bot.core.clock import VirtualClock
from bot.core.events import CommandInvoked
from bot.core.model import (
    ChannelRef,
    MessageRef,
    Post,
    QuestionState,
    Reply,
    ResponderRole,
    UserRef,
)
from bot.core.platform import PlatformError
from config.settings import Settings, load_settings
from tests.adapters.fake_discord import DiscordWorld, FakeDiscord, discord_config, running_bot

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    yield server
    await server.close()


@pytest.fixture
def discord_settings(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    return load_settings(data=discord_config(fake.g))


@pytest.fixture
async def world(
    fake: FakeDiscord, discord_settings: Settings, tmp_path: Path
) -> AsyncIterator[DiscordWorld]:
    async with running_bot(fake, discord_settings, tmp_path / "f.db", VirtualClock(T0)) as w:
        yield w


async def test_question_answered_by_reply(world: DiscordWorld) -> None:
    """A question in #help is answered by another member's Discord reply to it."""
    fake = world.fake
    asked = await fake.post(
        fake.g.help, fake.user("maria"), "How do I rotate my API key?", at=world.clock.now()
    )
    question = await world.tracked(asked)
    assert question.state == QuestionState.OPEN
    await fake.post(
        fake.g.help,
        fake.user("sven"),
        "Settings > API, then rotate",
        at=world.clock.now() + timedelta(minutes=5),
        reply_to=(fake.g.help, int(asked["id"])),
    )

    async def answered() -> bool:
        q = await world.question(asked)
        return q is not None and q.state == QuestionState.ANSWERED

    await world.eventually(answered)
    q = await world.question(asked)
    assert q is not None
    assert q.response_kind == "reply" and q.responder_role == ResponderRole.COMMUNITY


async def answered(world: DiscordWorld, message: dict) -> None:
    async def check() -> bool:
        q = await world.question(message)
        return q is not None and q.first_response_at is not None

    await world.eventually(check)


async def in_state(world: DiscordWorld, message: dict, state: QuestionState) -> None:
    async def check() -> bool:
        q = await world.question(message)
        return q is not None and q.state == state

    await world.eventually(check)


async def test_thread_started_from_question_answers_it(world: DiscordWorld) -> None:
    """A staff member's message in a thread started from a question is its first response."""
    fake = world.fake
    maria = fake.user("maria")
    ana = fake.user("ana", roles=[fake.g.staff_role])
    asked = await fake.post(fake.g.help, maria, "Why does the CLI crash on start?", at=T0)
    await world.tracked(asked)
    tid = int(asked["id"])
    await fake.start_thread(fake.g.help, "CLI crash", ana, thread_id=tid)
    await fake.post(tid, ana, "Which version are you on?", at=T0 + timedelta(minutes=3))
    await answered(world, asked)
    q = await world.question(asked)
    assert q is not None and q.responder_role == ResponderRole.STAFF
    assert q.ttfr_seconds == pytest.approx(180, abs=1)


async def test_forum_post_is_a_question_answered_in_its_thread(world: DiscordWorld) -> None:
    """Every forum post is a question keyed by its thread; a reply inside answers it."""
    fake = world.fake
    post = await fake.forum_post(
        fake.user("leila"), "Login loops after upgrade", "Since 2.3 I get bounced back", at=T0
    )
    assert post["id"] == post["channel_id"]
    q = await world.tracked(post)
    assert q.watched_channel == str(fake.g.forum)
    assert q.text.startswith("Login loops after upgrade")
    await fake.post(
        int(post["id"]), fake.user("sven"), "Clear the cookie", at=T0 + timedelta(minutes=9)
    )
    await answered(world, post)


async def test_unanswered_question_breaches_and_staff_get_an_embed(world: DiscordWorld) -> None:
    """A question left alone past its target is listed in an embed in the nudge channel."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), "How do I rotate my API key?", at=T0)
    await world.tracked(asked)
    await world.app.advance_to(T0 + timedelta(minutes=61))
    breaches = [m for m in fake.sent(fake.g.staff) if "passed" in m["embeds"][0]["title"]]
    assert len(breaches) == 1
    sent = breaches
    embed = sent[0]["embeds"][0]
    assert embed["title"] == "1 question has passed the response target without an answer"
    link = f"https://discord.com/channels/{fake.g.id}/{fake.g.help}/{asked['id']}"
    assert f"[jump]({link})" in embed["description"]
    assert "Maria" in embed["description"]
    assert sent[0]["allowed_mentions"]["parse"] == []


async def test_unanswered_command_is_deferred_then_answered_privately(
    world: DiscordWorld,
) -> None:
    """`/frontline unanswered #help` defers at once, then lists the waiting question privately."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), "How do I rotate my API key?", at=T0)
    await world.tracked(asked)
    call = await fake.slash(fake.user("sven"), "unanswered", {"channel": fake.g.help})
    await fake.wait_for(lambda: fake.followups(call))
    assert fake.callbacks(call) == [{"type": 5, "data": {"flags": 64}}]
    [followup] = fake.followups(call)
    assert followup["flags"] & 64
    embed = followup["embeds"][0]
    assert embed["title"] == "1 question waiting in #help"
    assert str(asked["id"]) in embed["description"]


async def test_resolve_is_staff_only_with_a_reason(world: DiscordWorld) -> None:
    """A member without the Staff role is refused with a reason; a Staff member resolves."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), "How do I rotate my API key?", at=T0)
    await world.tracked(asked)
    link = f"https://discord.com/channels/{fake.g.id}/{fake.g.help}/{asked['id']}"
    refused = await fake.slash(fake.user("sven"), "resolve", {"link": link})
    await fake.wait_for(lambda: fake.followups(refused))
    assert fake.followups(refused)[0]["content"].startswith(
        "Sorry, you can't do that: only staff can resolve questions"
    )
    assert (await world.question(asked)).state == QuestionState.OPEN  # type: ignore[union-attr]

    staff = fake.user("ana", roles=[fake.g.staff_role])
    accepted = await fake.slash(staff, "resolve", {"link": link})
    await fake.wait_for(lambda: fake.followups(accepted))
    assert fake.followups(accepted)[0]["content"] == "Resolved. It will not be nudged again."
    assert (await world.question(asked)).state == QuestionState.RESOLVED  # type: ignore[union-attr]


async def test_snooze_command_text_reaches_the_core(world: DiscordWorld) -> None:
    """`/frontline snooze <link> 2h` by staff snoozes the question for two hours."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), "How do I rotate my API key?", at=T0)
    await world.tracked(asked)
    link = f"https://ptb.discord.com/channels/{fake.g.id}/{fake.g.help}/{asked['id']}"
    staff = fake.user("ana", roles=[fake.g.staff_role])
    call = await fake.slash(staff, "snooze", {"link": link, "duration": "2h"})
    await fake.wait_for(lambda: fake.followups(call))
    assert fake.followups(call)[0]["content"].startswith("Snoozed for 2h")
    q = await world.question(asked)
    assert q is not None and q.state == QuestionState.SNOOZED
    assert q.snoozed_until == T0 + timedelta(hours=2)


async def test_escalate_menu_without_destinations_says_so_privately(world: DiscordWorld) -> None:
    """With no escalation destinations configured, "Escalate" answers privately that none are."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), "How do I rotate my API key?", at=T0)
    await world.tracked(asked)
    call = await fake.context_menu(fake.user("ana", roles=[fake.g.staff_role]), "Escalate", asked)
    await fake.wait_for(lambda: fake.callbacks(call))
    [answer] = fake.callbacks(call)
    assert answer["type"] == 4 and answer["data"]["flags"] & 64
    assert answer["data"]["content"].startswith("Escalation destinations are not configured yet")
    assert "components" not in answer["data"] or not answer["data"]["components"]


async def test_check_mark_reaction_by_the_asker_resolves(world: DiscordWorld) -> None:
    """The asker's ✅ resolves the question; taking it back reopens it."""
    fake = world.fake
    maria = fake.user("maria")
    asked = await fake.post(fake.g.help, maria, "How do I rotate my API key?", at=T0)
    await world.tracked(asked)
    await fake.react(asked, maria, "✅")
    await in_state(world, asked, QuestionState.RESOLVED)
    await fake.react(asked, maria, "✅", remove=True)
    await in_state(world, asked, QuestionState.OPEN)


async def test_eyes_from_staff_counts_as_a_response(world: DiscordWorld) -> None:
    """👀 from a Staff member acknowledges the question (a response by staff)."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), "How do I rotate my API key?", at=T0)
    await world.tracked(asked)
    await fake.react(asked, fake.user("ana", roles=[fake.g.staff_role]), "👀")
    await answered(world, asked)
    q = await world.question(asked)
    assert q is not None and q.response_kind == "reaction"


async def test_edit_turns_a_post_into_a_question_and_delete_dismisses_it(
    world: DiscordWorld,
) -> None:
    """An edit that makes a post a question opens it; deleting the message dismisses it."""
    fake = world.fake
    post = await fake.post(fake.g.help, fake.user("maria"), "morning all", at=T0)
    await world.settled()
    assert await world.question(post) is None
    await fake.edit(post, "how do I rotate my API key?", at=T0 + timedelta(minutes=2))
    q = await world.tracked(post)
    assert q.asked_at == T0 + timedelta(minutes=2)
    await fake.delete(post)
    await in_state(world, post, QuestionState.DISMISSED)


async def test_bot_and_webhook_messages_are_ignored(world: DiscordWorld) -> None:
    """Questions posted by other bots or webhooks are never tracked."""
    fake = world.fake
    by_bot = await fake.post(
        fake.g.help, fake.user("helper-bot", bot=True), "How do I rotate my key?", at=T0
    )
    by_hook = await fake.post(
        fake.g.support, fake.user("relay"), "Build failed, can someone look?", at=T0, webhook=True
    )
    await world.settled()
    assert await world.question(by_bot) is None
    assert await world.question(by_hook) is None


async def test_missed_messages_are_backfilled_after_a_failed_resume(
    world: DiscordWorld,
) -> None:
    """After a drop whose RESUME fails, the gap is read back from history: nothing is lost."""
    fake = world.fake
    maria = fake.user("maria")
    asked = await fake.post(fake.g.help, maria, "How do I rotate my API key?", at=T0)
    await world.tracked(asked)
    world.clock.set(T0 + timedelta(minutes=10))
    await fake.drop()
    # While the bot is away: an answer to the old question, a new question, a forum post.
    fake.missed(
        fake.g.help,
        fake.user("sven"),
        "Settings > API",
        at=T0 + timedelta(minutes=11),
        reply_to=(fake.g.help, int(asked["id"])),
    )
    new = fake.missed(
        fake.g.help, fake.user("leila"), "Why is the CLI crashing?", at=T0 + timedelta(minutes=12)
    )
    tid = discord.utils.time_snowflake(T0 + timedelta(minutes=13))
    await fake.start_thread(fake.g.forum, "Dark mode?", maria, thread_id=tid, silent=True)
    post = fake.missed(tid, maria, "Is there one?", at=T0 + timedelta(minutes=13), message_id=tid)
    await fake.wait_for(lambda: world.adapter.backfills >= 2)
    assert fake.resumes == 1 and len(fake.identifies) == 2
    await answered(world, asked)
    assert (await world.tracked(new)).asked_at == T0 + timedelta(minutes=12)
    assert (await world.tracked(post)).text.startswith("Dark mode?")
    assert fake.requests("GET", f"/channels/{fake.g.help}/messages")[-1].query["after"]


async def test_every_post_channel_tracks_a_plain_post(world: DiscordWorld) -> None:
    """In an every-post channel a statement without a question mark is still a request."""
    fake = world.fake
    post = await fake.post(fake.g.support, fake.user("maria"), "Export to CSV is broken", at=T0)
    q = await world.tracked(post)
    assert q.target_seconds == 30 * 60


async def test_thread_and_forum_links_stand_for_their_question(world: DiscordWorld) -> None:
    """Message links round-trip; a forum post's or thread's own link finds its question."""
    fake = world.fake
    platform = world.adapter.platform
    asked = await fake.post(fake.g.help, fake.user("maria"), "Why does the CLI crash?", at=T0)
    await world.tracked(asked)
    ref = world.ref(asked)
    assert platform.parse_link(await platform.permalink(ref)) == ref
    await fake.start_thread(fake.g.help, "crash", fake.user("maria"), thread_id=int(asked["id"]))
    post = await fake.forum_post(fake.user("leila"), "Dark mode?", "Is there one?", at=T0)
    await world.tracked(post)
    guild = fake.g.id
    assert platform.parse_link(f"https://discord.com/channels/{guild}/{asked['id']}") == ref
    assert platform.parse_link(f"https://discord.com/channels/{guild}/{post['id']}") == world.ref(
        post
    )
    assert platform.parse_link(f"https://discord.com/channels/{guild}/{fake.g.help}") is None


async def test_missed_messages_are_backfilled_on_start(
    fake: FakeDiscord, discord_settings: Settings, tmp_path: Path
) -> None:
    """Messages posted while the bot was stopped are read back when it starts again."""
    db = tmp_path / "f.db"
    clock = VirtualClock(T0)
    async with running_bot(fake, discord_settings, db, clock) as first:
        asked = await fake.post(fake.g.help, fake.user("maria"), "How do I rotate my key?", at=T0)
        await first.tracked(asked)
    assert first.adapter.client.is_closed()
    fake.missed(
        fake.g.help,
        fake.user("sven"),
        "Settings > API",
        at=T0 + timedelta(minutes=20),
        reply_to=(fake.g.help, int(asked["id"])),
    )
    clock.set(T0 + timedelta(hours=2))
    async with running_bot(fake, discord_settings, db, clock) as second:
        await answered(second, asked)
        q = await second.question(asked)
        assert q is not None and q.ttfr_seconds == pytest.approx(20 * 60, abs=1)
        assert not q.breached


async def test_command_tree_is_synced_once_not_on_every_start(
    fake: FakeDiscord, discord_settings: Settings, tmp_path: Path
) -> None:
    """The first start uploads /frontline and Escalate; a restart with the same tree does not."""
    db = tmp_path / "f.db"
    async with running_bot(fake, discord_settings, db, VirtualClock(T0)) as first:
        assert first.adapter.syncs == 1
    puts = fake.requests("PUT", f"/applications/{fake.g.app_id}/commands")
    assert len(puts) == 1
    names = {(c["name"], c.get("type", 1)) for c in puts[0].body}
    assert names == {("frontline", 1), ("Escalate", 3)}
    subcommands = {o["name"] for o in puts[0].body[0]["options"]} | {
        o["name"] for c in puts[0].body for o in c.get("options", [])
    }
    assert {"help", "unanswered", "stats", "resolve", "snooze"} <= subcommands
    async with running_bot(fake, discord_settings, db, VirtualClock(T0)) as second:
        assert second.adapter.syncs == 0
    assert len(fake.requests("PUT", f"/applications/{fake.g.app_id}/commands")) == 1


async def test_without_message_content_the_bot_still_tracks_forum_posts(
    discord_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """If the content intent is refused, the bot says how to enable it and keeps running."""
    fake = await FakeDiscord(allow_message_content=False).start()
    try:
        env = fake.env()
        async with running_bot(
            fake, discord_settings, tmp_path / "f.db", VirtualClock(T0), env=env
        ) as w:
            assert "enable it under Bot > Privileged Gateway Intents" in caplog.text
            assert len(fake.identifies) == 2
            assert not fake.identifies[-1]["intents"] & (1 << 15)
            post = await fake.forum_post(fake.user("leila"), "Login loops after upgrade", "", at=T0)
            q = await w.tracked(post)
            assert q.text == "Login loops after upgrade"
    finally:
        await fake.close()


async def test_rate_limited_nudge_is_retried_and_logged(
    world: DiscordWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """A 429 on the nudge post is waited out by discord.py, logged, and the nudge arrives."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), "How do I rotate my API key?", at=T0)
    await world.tracked(asked)
    fake.fail_next("POST", f"/channels/{fake.g.staff}/messages", 429)
    await world.app.advance_to(T0 + timedelta(minutes=61))
    titles = [m["embeds"][0]["title"] for m in fake.sent(fake.g.staff)]
    assert titles[0] == titles[1]  # the refused attempt, then the retry
    assert titles[-1] == "1 question has passed the response target without an answer"
    assert "rate limited" in caplog.text


async def test_one_bad_event_does_not_stop_the_client(
    world: DiscordWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """A message whose thread cannot be looked up is logged; the next message is handled."""
    fake = world.fake
    unknown = discord.utils.time_snowflake(T0) + 77
    fake.threads[unknown] = {}  # a thread the bot never heard of, broken on REST
    fake.fail_next("GET", f"/channels/{unknown}", 400)
    await fake.post(unknown, fake.user("maria"), "hello?", at=T0)
    asked = await fake.post(fake.g.help, fake.user("maria"), "How do I rotate my API key?", at=T0)
    await world.tracked(asked)
    await fake.wait_for(lambda: f"in {unknown} could not be handled" in caplog.text)
    assert not world.task.done()


async def test_staff_by_role_id_or_user_id_is_looked_up_when_not_seen(
    fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Staff roles may be ids; members never seen are fetched once over REST, then cached."""
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    ana = fake.user("ana", roles=[fake.g.mod_role])
    owner = fake.user("olga")
    data = discord_config(
        fake.g, staff={"discord_roles": [str(fake.g.mod_role)], "discord_users": [str(owner.id)]}
    )
    settings = load_settings(data=data)
    async with running_bot(fake, settings, tmp_path / "f.db", VirtualClock(T0)) as w:
        platform = w.adapter.platform
        guild = str(fake.g.id)
        assert await platform.is_staff(UserRef("discord", guild, str(ana.id)))
        assert await platform.is_staff(UserRef("discord", guild, str(ana.id)))
        assert await platform.is_staff(UserRef("discord", guild, str(owner.id)))
        assert not await platform.is_staff(UserRef("discord", guild, str(fake.user("sven").id)))
        assert not await platform.is_staff(UserRef("discord", guild, "424242"))  # left the guild
        assert len(fake.requests("GET", f"/guilds/{guild}/members/{ana.id}")) == 1


async def test_reply_in_thread_goes_where_the_conversation_is(world: DiscordWorld) -> None:
    """In a forum post or a thread the bot answers inside it; else as a Discord reply."""
    fake = world.fake
    platform = world.adapter.platform
    asked = await fake.post(fake.g.help, fake.user("maria"), "How do I rotate my key?", at=T0)
    post = await fake.forum_post(fake.user("leila"), "Dark mode?", "Is there one?", at=T0)
    await world.tracked(post)
    await platform.reply_in_thread(world.ref(asked), Post("We are back on Monday at 09:00."))
    await platform.reply_in_thread(world.ref(post), Post("We are back on Monday at 09:00."))
    [reply] = fake.sent(fake.g.help)
    assert reply["content"] == "We are back on Monday at 09:00."
    assert str(reply["message_reference"]["message_id"]) == asked["id"]
    [in_post] = fake.sent(int(post["id"]))
    assert "message_reference" not in in_post
    with pytest.raises(PlatformError, match="not a Discord id"):
        await platform.post(ChannelRef("discord", str(fake.g.id), "staff"), Post("x"))


async def test_a_refused_token_stops_the_adapter_with_the_reason(
    fake: FakeDiscord, discord_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A token Discord refuses ends the start with a clear reason, and never reaches a log."""
    fake.fail_next("GET", "/users/@me", 401, {"message": "401: Unauthorized", "code": 0})
    with pytest.raises(PlatformError, match="Discord refused DISCORD_TOKEN"):
        async with running_bot(fake, discord_settings, tmp_path / "f.db", VirtualClock(T0)):
            pass
    assert fake.env()["DISCORD_TOKEN"] not in caplog.text


async def test_message_in_a_thread_the_bot_never_saw_is_looked_up(world: DiscordWorld) -> None:
    """A thread missing from the cache is fetched once over REST; its reply still counts."""
    fake = world.fake
    asked = await fake.post(fake.g.help, fake.user("maria"), "Why does the CLI crash?", at=T0)
    await world.tracked(asked)
    tid = int(asked["id"])
    await fake.start_thread(fake.g.help, "crash", fake.user("sven"), thread_id=tid, silent=True)
    await fake.post(tid, fake.user("sven"), "Which version?", at=T0 + timedelta(minutes=1))
    await fake.post(tid, fake.user("sven"), "Also, which OS?", at=T0 + timedelta(minutes=2))
    await answered(world, asked)
    await world.settled()
    assert len(fake.requests("GET", f"/channels/{tid}")) == 1


async def test_fetch_update_and_privacy_of_channels(world: DiscordWorld) -> None:
    """The bot reads a message back, edits its own post, and knows which channels are private."""
    fake = world.fake
    platform = world.adapter.platform
    guild = str(fake.g.id)
    asked = await fake.post(fake.g.help, fake.user("maria"), "How do I rotate my key?", at=T0)
    await world.tracked(asked)
    fetched = await platform.fetch(world.ref(asked))
    assert fetched is not None and fetched.text == "How do I rotate my key?"
    assert fetched.author.name == "Maria" and fetched.watched_channel == str(fake.g.help)
    gone = MessageRef("discord", guild, str(fake.g.help), "1")
    assert await platform.fetch(gone) is None

    mine = await platform.post(ChannelRef("discord", guild, str(fake.g.staff)), Post("x", "One"))
    await platform.update(mine, Post("Escalated to #staff: taken by Ana"))
    [edit] = fake.requests("PATCH", f"/channels/{fake.g.staff}/messages/{mine.message}")
    assert edit.body["content"] == "Escalated to #staff: taken by Ana"
    assert edit.body["embeds"] == []

    tid = discord.utils.time_snowflake(T0) + 99
    await fake.start_thread(fake.g.help, "secret", fake.user("ana"), thread_id=tid, private=True)
    await world.settled()
    assert not await platform.is_private(ChannelRef("discord", guild, str(fake.g.help)))
    assert await platform.is_private(ChannelRef("discord", guild, str(fake.g.staff)))
    assert await platform.is_private(ChannelRef("discord", guild, str(tid)))
    post = await fake.forum_post(fake.user("leila"), "Dark mode?", "Is there one?", at=T0)
    assert not await platform.is_private(ChannelRef("discord", guild, post["id"]))


async def test_summary_chart_is_attached_and_shown_in_the_embed(world: DiscordWorld) -> None:
    """A post with an image uploads it and the embed shows it from the attachment."""
    fake = world.fake
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    post = Post(
        "Last 7 days",
        "Last 7 days",
        image=png,
        image_name="frontline chart.png",
        fields=(("Questions", "12"), ("Answered", "11 (92%)")),
    )
    await world.adapter.platform.post(
        ChannelRef("discord", str(fake.g.id), str(fake.g.staff)), post
    )
    [sent] = fake.sent(fake.g.staff)
    assert sent["_files"] == {"frontline_chart.png": png}
    embed = sent["embeds"][0]
    assert embed["image"]["url"] == "attachment://frontline_chart.png"
    assert [(f["name"], f["value"]) for f in embed["fields"]] == [
        ("Questions", "12"),
        ("Answered", "11 (92%)"),
    ]


async def test_core_commands_without_typed_options_are_reachable(
    fake: FakeDiscord, discord_settings: Settings, tmp_path: Path
) -> None:
    """A subcommand the adapter does not know is synced with one free-text option and works."""
    router = build_router()

    @router.command("echo", "/frontline echo <words>", "say the words back")
    async def echo(words: list[str], event: CommandInvoked, ctx: Context) -> Reply:
        return Reply(" ".join(words))

    async with running_bot(
        fake, discord_settings, tmp_path / "f.db", VirtualClock(T0), router=router
    ):
        [put] = fake.requests("PUT", f"/applications/{fake.g.app_id}/commands")
        [group] = [c for c in put.body if c["name"] == "frontline"]
        [synced] = [o for o in group["options"] if o["name"] == "echo"]
        assert synced["description"] == "say the words back"
        assert synced["options"][0]["name"] == "options"
        call = await fake.slash(fake.user("sven"), "echo", {"options": "hello   there"})
        await fake.wait_for(lambda: fake.followups(call))
        assert fake.followups(call)[0]["content"] == "hello there"


async def test_direct_message_and_reaction_reach_discord(world: DiscordWorld) -> None:
    """A DM opens the member's DM channel and posts there; a named reaction is sent as ✅."""
    fake = world.fake
    platform = world.adapter.platform
    ana = fake.user("ana", roles=[fake.g.staff_role])
    sent = await platform.dm(
        UserRef("discord", str(fake.g.id), str(ana.id)), Post("2 questions waiting", "Nudge")
    )
    [opened] = fake.requests("POST", "/users/@me/channels")
    assert int(opened.body["recipient_id"]) == ana.id
    [dm] = fake.sent(int(sent.channel))
    assert dm["embeds"][0]["title"] == "Nudge"
    asked = await fake.post(fake.g.help, fake.user("maria"), "How do I rotate my key?", at=T0)
    await platform.react(world.ref(asked), "white_check_mark")
    [reaction] = fake.requests("PUT", f"/channels/{fake.g.help}/messages/{asked['id']}/reactions/")
    assert "✅" in reaction.path
    with pytest.raises(PlatformError, match="no emoji called"):
        await platform.react(world.ref(asked), "party_parrot")


async def test_an_earlier_send_is_found_by_what_it_shows(world: DiscordWorld) -> None:
    """The outbox's "did this arrive?": the bot's own post with the same embed is found."""
    fake, platform = world.fake, world.adapter.platform
    staff = ChannelRef("discord", str(fake.g.id), str(fake.g.staff))
    since = datetime.now(UTC) - timedelta(minutes=1)
    post = Post("1 question has passed the target", "1 question has passed the target", key="k1")
    sent = await platform.post(staff, post)
    assert await platform.find_sent(staff, post, since) == sent
    other = Post("2 questions have passed the target", "2 questions have passed the target")
    assert await platform.find_sent(staff, other, since) is None
    notice = Post("Thanks, noted.")
    assert await platform.find_sent(staff, notice, since) is None
    said = await platform.post(staff, notice)
    assert await platform.find_sent(staff, notice, since) == said
