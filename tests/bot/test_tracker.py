"""The question lifecycle, driven through the router with the local platform."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.model import MessageRef, QuestionState, ResponderRole, Stage
from config.settings import load_settings
from tests.conftest import World, both_backends, community_config, open_world

pytestmark = both_backends
QUESTION = "How do I rotate my API key?"


async def test_question_opens_and_community_reply_answers(world: World) -> None:
    """A question is tracked; the first reply by another member answers it, as community."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=12)
    await world.reply(q, "tomasz")
    question = await world.question(q)
    assert question.state == QuestionState.ANSWERED
    assert question.first_responder == "tomasz"
    assert question.responder_role == ResponderRole.COMMUNITY
    assert question.ttfr_seconds == 12 * 60
    assert question.ttfr_business_seconds == 12 * 60


async def test_staff_reply_is_recorded_as_staff(world: World) -> None:
    """A reply from a configured staff member is recorded as a staff response."""
    q = await world.post("help", "maria", QUESTION)
    await world.reply(q, "ana")
    assert (await world.question(q)).responder_role == ResponderRole.STAFF


async def test_chatter_does_not_open_a_question(world: World) -> None:
    """Pleasantries are not tracked."""
    ref = await world.post("help", "maria", "thanks everyone, good morning!")
    assert await world.store.question_by_ref(ref) is None


async def test_reply_never_opens_a_question(world: World) -> None:
    """A question asked inside a thread belongs to the thread; it opens nothing new."""
    q = await world.post("help", "maria", "the deploy is green again")
    reply = await world.reply(q, "sven", "How do I deploy to staging?")
    assert await world.store.question_by_ref(q) is None
    assert await world.store.question_by_ref(reply) is None


async def test_askers_own_follow_ups_and_bots_do_not_count(world: World) -> None:
    """The asker bumping the thread and a bot replying leave the question waiting."""
    q = await world.post("help", "maria", QUESTION)
    await world.reply(q, "maria", "any ideas?")
    await world.reply(q, "helperbot", "Here is a doc link", bot=True)
    question = await world.question(q)
    assert question.state == QuestionState.OPEN
    assert question.first_response_at is None


async def test_bot_posts_never_open_questions(world: World) -> None:
    """A bot asking something is not a community question."""
    ref = await world.post("help", "deploybot", "Deploy finished. Anyone seeing issues?", bot=True)
    assert await world.store.question_by_ref(ref) is None


async def test_unwatched_channel_is_ignored(world: World) -> None:
    """Messages in channels that are not configured are not tracked or stored."""
    ref = await world.post("random", "maria", QUESTION)
    assert await world.store.question_by_ref(ref) is None
    assert await world.store.get_message(ref) is None


async def test_every_post_channel_tracks_requests_without_question_words(world: World) -> None:
    """In an every-post support channel a plain statement of a problem is a request."""
    ref = await world.post("support", "maria", "Billing page shows the wrong plan for our team")
    assert (await world.question(ref)).state == QuestionState.OPEN


async def test_mention_in_channel_within_window_answers(world: World) -> None:
    """An in-channel message mentioning the asker soon after counts as the first response."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=5)
    answer = await world.post(
        "help", "sven", "@maria settings > keys > rotate", mentions=("maria",)
    )
    question = await world.question(q)
    assert question.first_responder == "sven"
    assert question.response_kind == "mention"
    assert await world.store.question_by_ref(answer) is None


async def test_mention_after_window_does_not_answer(world: World) -> None:
    """A mention long after the question (default window 15m) is not a response to it."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=40)
    await world.post("help", "sven", "@maria welcome to the community", mentions=("maria",))
    assert (await world.question(q)).first_response_at is None


async def test_staff_ack_reaction_counts_but_member_reaction_does_not(world: World) -> None:
    """:eyes: from staff is a first response; from a member it is not."""
    q = await world.post("help", "maria", QUESTION)
    await world.react(q, "sven", "eyes")
    assert (await world.question(q)).first_response_at is None
    await world.advance(minutes=3)
    await world.react(q, "ben", "eyes")
    question = await world.question(q)
    assert question.first_responder == "ben"
    assert question.response_kind == "reaction"
    assert question.responder_role == ResponderRole.STAFF


async def test_resolve_reaction_by_asker_and_take_back(world: World) -> None:
    """✅ by the asker resolves; removing it reopens the question where it was."""
    q = await world.post("help", "maria", QUESTION)
    await world.reply(q, "sven")
    await world.react(q, "maria", "white_check_mark")
    assert (await world.question(q)).state == QuestionState.RESOLVED
    await world.react(q, "maria", "white_check_mark", remove=True)
    assert (await world.question(q)).state == QuestionState.ANSWERED


async def test_resolve_reaction_by_other_member_is_ignored(world: World) -> None:
    """Only the asker or staff can resolve with a reaction."""
    q = await world.post("help", "maria", QUESTION)
    await world.react(q, "sven", "white_check_mark")
    assert (await world.question(q)).state == QuestionState.OPEN
    await world.react(q, "ana", "white_check_mark")
    assert (await world.question(q)).state == QuestionState.RESOLVED


async def test_resolve_reaction_on_answer_resolves_question(world: World) -> None:
    """The asker ticking the helpful answer in the thread resolves the question."""
    q = await world.post("help", "maria", QUESTION)
    answer = await world.reply(q, "sven")
    await world.react(answer, "maria", "white_check_mark")
    assert (await world.question(q)).state == QuestionState.RESOLVED


async def test_edit_into_question_opens_one_at_edit_time(world: World) -> None:
    """A post edited into a question is tracked from the moment of the edit."""
    ref = await world.post("help", "maria", "hmm, the exporter again")
    posted = world.clock.now()
    assert await world.store.question_by_ref(ref) is None
    await world.advance(minutes=2)
    await world.edit(
        ref, "maria", "hmm, the exporter again: how do I skip archived projects?", posted
    )
    question = await world.question(ref)
    assert question.asked_at == posted + timedelta(minutes=2)


async def test_deleted_question_is_dismissed_and_never_breaches(world: World) -> None:
    """Deleting a question dismisses it; no warning, breach or nudge follows."""
    q = await world.post("help", "maria", QUESTION)
    await world.delete(q)
    await world.advance(hours=3)
    question = await world.question(q)
    assert question.state == QuestionState.DISMISSED
    assert not question.breached
    assert world.nudges() == []


async def test_reply_before_parent_still_answers(world: World) -> None:
    """A reply delivered before its parent counts once the parent arrives."""
    root = MessageRef("local", "T1", "help", "parent-1")
    asked_at = world.clock.now()
    await world.advance(minutes=7)
    await world.reply(root, "sven")
    await world.post("help", "maria", QUESTION, message_id="parent-1", at=asked_at)
    question = await world.question(root)
    assert question.first_responder == "sven"
    assert question.ttfr_seconds == 7 * 60


async def test_redelivered_events_change_nothing(world: World) -> None:
    """The same message delivered twice (and the same event id) is handled once."""
    q = await world.post("help", "maria", QUESTION, message_id="dup", event_id="Ev1")
    await world.post("help", "maria", QUESTION, message_id="dup", event_id="Ev1")
    await world.post("help", "maria", QUESTION, message_id="dup", event_id="Ev2")
    await world.reply(q, "sven", message_id="r1")
    await world.advance(minutes=5)
    await world.reply(q, "ben", message_id="r1")
    question = await world.question(q)
    assert question.first_responder == "sven"
    history = await world.store.history(question.id)
    assert [kind for _, kind, _, _ in history] == ["opened", "answered"]


async def test_discord_reply_chain_answers_root_question(world: World) -> None:
    """A reply to a reply (message_reference chain) answers the original question."""
    q = await world.post("help", "maria", QUESTION)
    first = await world.post("help", "maria", "more detail: on v2", reply_to=q)
    await world.post("help", "sven", "update the CLI", reply_to=first)
    question = await world.question(q)
    assert question.first_responder == "sven"


async def test_forum_post_starter_opens_and_thread_reply_answers(world: World) -> None:
    """A forum post (thread whose id is the starter's) is a question; its replies answer it."""
    starter = await world.post(
        "post-77",
        "maria",
        "SSO login loops forever after upgrade",
        message_id="post-77",
        watched="forum",
        starter=True,
    )
    assert (await world.question(starter)).watched_channel == "forum"
    await world.post(
        "post-77", "ben", "Clear cookies, it's a known bug", root=starter, watched="forum"
    )
    assert (await world.question(starter)).responder_role == ResponderRole.STAFF


async def test_warning_then_breach_on_target(world: World) -> None:
    """At 75% of the target staff get a heads-up; at 100% it is breached and nudged."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=44)
    assert (await world.question(q)).stage == Stage.WAITING
    assert world.nudges() == []
    await world.advance(minutes=2)
    assert (await world.question(q)).stage == Stage.WARNED
    assert [n.split("\n")[0] for n in world.nudges()] == ["1 question is close to the target"]
    await world.advance(minutes=15)
    question = await world.question(q)
    assert question.stage == Stage.BREACHED and question.breached
    assert len(world.nudges()) == 2
    assert "Maria" in world.nudges()[1] and "passed the response target" in world.nudges()[1]


async def test_answer_before_target_prevents_breach(world: World) -> None:
    """An answered question is not nudged, however long the day goes on."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=30)
    await world.reply(q, "sven")
    await world.advance(hours=5)
    question = await world.question(q)
    assert not question.breached and question.due_at is None
    assert world.nudges() == []


async def test_business_hours_push_deadline_to_next_morning(world: World) -> None:
    """A question at 17:30 Berlin (after hours) is due at 10:00 the next working day."""
    evening = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)  # 17:30 in Berlin
    await world.app.advance_to(evening)
    q = await world.post("office", "maria", QUESTION)
    question = await world.question(q)
    assert question.breach_at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 10:00 Berlin
    await world.advance(hours=16)  # 08:30 UTC (09:30 Berlin): open, but target not used up
    assert not (await world.question(q)).breached
    await world.advance(minutes=31)
    assert (await world.question(q)).breached


async def test_business_time_to_first_response_excludes_night(world: World) -> None:
    """Answered next morning: wall time counts the night, business time does not."""
    evening = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # 16:30 Berlin, 30 min before close
    await world.app.advance_to(evening)
    q = await world.post("office", "maria", QUESTION)
    await world.app.advance_to(datetime(2026, 11, 25, 8, 15, tzinfo=UTC))  # 09:15 Berlin
    await world.reply(q, "ana")
    question = await world.question(q)
    assert question.ttfr_seconds == (16 * 60 + 45) * 60
    assert question.ttfr_business_seconds == 45 * 60


async def test_snooze_silences_then_resumes(world: World) -> None:
    """A snoozed question is not breached during the snooze; afterwards it is."""
    q = await world.post("help", "maria", QUESTION)
    reply = await world.command(f"snooze {world.link(q)} 2h", user="ana")
    assert "Snoozed" in reply.text
    await world.advance(minutes=90)
    assert world.nudges() == []
    assert (await world.question(q)).state == QuestionState.SNOOZED
    await world.advance(minutes=31)
    question = await world.question(q)
    assert question.state == QuestionState.OPEN and question.breached
    assert len(world.nudges()) == 1


async def test_downtime_sends_breach_once_without_stale_warning(world: World) -> None:
    """After a long gap the sweep breaches once and skips the outdated warning."""
    q = await world.post("help", "maria", QUESTION)
    world.clock.set(world.clock.now() + timedelta(hours=3))  # the bot was down: no sweeps
    await world.advance(seconds=30)
    await world.advance(hours=2)
    history = [kind for _, kind, _, _ in await world.store.history((await world.question(q)).id)]
    assert history.count("breached") == 1
    assert "warned" not in history
    assert len(world.nudges()) == 1


async def test_late_answer_is_marked_breached(world: World) -> None:
    """An answer after the target keeps the breach, even if no sweep ran in between."""
    q = await world.post("help", "maria", QUESTION)
    world.clock.set(world.clock.now() + timedelta(minutes=90))
    await world.reply(q, "sven")
    question = await world.question(q)
    assert question.breached and question.state == QuestionState.ANSWERED


async def test_huge_and_odd_messages_do_not_break_tracking(world: World) -> None:
    """A 40,000-character post and odd Unicode are handled; the question text is bounded."""
    huge = "How do I fix this? " + "x" * 40_000
    q = await world.post("help", "maria", huge)
    question = await world.question(q)
    assert len(question.text) <= 4000
    odd = await world.post("help", "sven", "\u202e\u200b¿Cómo instalo el SDK? 🙏\x00")
    assert await world.store.get_message(odd) is not None
    empty = await world.post("help", "sven", "")
    assert await world.store.question_by_ref(empty) is None


async def test_questions_survive_restart(settings, database) -> None:  # type: ignore[no-untyped-def]
    """A question opened before a restart is still tracked and breached after it."""
    async with open_world(settings, database) as first:
        q = await first.post("help", "maria", QUESTION)
    first.clock.advance(timedelta(hours=2))
    async with open_world(settings, database, clock=first.clock, platform=first.platform) as second:
        await second.advance(seconds=30)
        assert (await second.question(q)).breached
        assert len(second.nudges()) == 1


async def test_self_resolved_question_is_not_a_miss(world: World) -> None:
    """An asker who resolves their own question before the target is not counted as a miss."""
    from bot.metrics import figures

    start = world.clock.now()
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=10)
    await world.react(q, "maria", "white_check_mark")
    await world.advance(hours=3)
    now = world.clock.now()
    f = await figures(world.store, start, now, now)
    assert (await world.question(q)).state == QuestionState.RESOLVED
    assert (f.decided, f.breaches) == (0, 0)
    assert world.nudges() == []


async def test_resolving_after_the_target_without_answer_keeps_the_breach(world: World) -> None:
    """Resolved late with no response at all still counts as a breach and a miss."""
    from bot.metrics import figures

    start = world.clock.now()
    q = await world.post("help", "maria", QUESTION)
    world.clock.set(start + timedelta(hours=2))  # no sweep ran in between
    await world.react(q, "ana", "white_check_mark")
    now = world.clock.now()
    f = await figures(world.store, start, now, now)
    assert (await world.question(q)).breached
    assert (f.met_target, f.decided, f.breaches) == (0, 1, 1)


async def test_hidden_text_in_every_post_channel_is_still_a_request(world: World) -> None:
    """Without the message text (Discord without the content intent) support posts count."""
    from bot.core.events import MessagePosted
    from bot.core.model import Message

    ref = MessageRef("local", "T1", "support", "hidden-1")
    hidden = Message(ref, world.user("maria"), "", world.clock.now(), content_hidden=True)
    await world.app.handle(MessagePosted(None, hidden))
    assert (await world.question(ref)).reasons == (
        "every-post channel, text not visible to the bot",
    )
    chatter = MessageRef("local", "T1", "help", "hidden-2")
    await world.app.handle(
        MessagePosted(
            None, Message(chatter, world.user("sven"), "", world.clock.now(), content_hidden=True)
        )
    )
    assert await world.store.question_by_ref(chatter) is None


# --- answers in channels without threads ------------------------------------------


async def test_asker_turning_to_someone_marks_their_post_as_the_answer(world: World) -> None:
    """An unaddressed reply counts once the asker answers its author ("@sven that worked")."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=3)
    await world.post("help", "sven", "settings > keys > rotate, then restart the agent")
    await world.advance(minutes=4)
    await world.post("help", "tomasz", "anyone going to the meetup tonight?")
    await world.post("help", "maria", "@sven that worked, thanks!", mentions=("sven",))
    question = await world.question(q)
    assert question.state == QuestionState.ANSWERED
    assert question.first_responder == "sven"
    assert question.response_kind == "acknowledged"
    assert question.ttfr_seconds == 3 * 60


async def test_acknowledged_answer_is_the_persons_first_post_since_the_question(
    world: World,
) -> None:
    """Of several posts by the person the asker turns to, the first one is the response."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=2)
    await world.post("help", "ben", "it is on the settings page")
    await world.advance(minutes=2)
    await world.post("help", "ben", "under keys, if you are on the pro plan")
    await world.post("help", "maria", "@ben found it", mentions=("ben",))
    question = await world.question(q)
    assert question.first_responder == "ben"
    assert question.responder_role == ResponderRole.STAFF
    assert question.ttfr_seconds == 2 * 60


async def test_acknowledged_answer_skips_posts_addressed_to_someone_else(world: World) -> None:
    """A post "@tomasz …" in between was for Tomasz: the answer is the next unaddressed one."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=1)
    await world.post("help", "sven", "@tomasz the meetup is at 7", mentions=("tomasz",))
    await world.advance(minutes=2)
    await world.post("help", "sven", "settings > keys > rotate, then restart the agent")
    await world.post("help", "maria", "@sven that worked", mentions=("sven",))
    question = await world.question(q)
    assert (question.first_responder, question.ttfr_seconds) == ("sven", 3 * 60)


async def test_one_reply_can_acknowledge_an_answer_and_answer_back(world: World) -> None:
    """A reply "@sven thanks, the export is ..." credits sven and answers sven's question."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=1)
    theirs = await world.post("help", "sven", "How do I export the audit log?")
    await world.advance(minutes=1)
    await world.post("help", "sven", "and for your key: settings > keys > rotate")
    await world.advance(minutes=1)
    await world.post(
        "help", "maria", "@sven thanks! the export is under Admin > Audit", mentions=("sven",)
    )
    mine = await world.question(q)
    assert (mine.first_responder, mine.ttfr_seconds) == ("sven", 2 * 60)
    assert (await world.question(theirs)).first_responder == "maria"


async def maria_helps_sven(world: World) -> tuple[MessageRef, MessageRef]:
    """Maria asks; a minute later Sven asks too, and a minute after that Maria answers him.

    Returns Maria's question and Sven's.
    """
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=1)
    theirs = await world.post("help", "sven", "How do I export the audit log?")
    await world.advance(minutes=1)
    await world.post("help", "maria", "@sven Admin > Audit > Export", mentions=("sven",))
    return q, theirs


async def test_asker_turning_to_someone_who_asked_something_else_answers_nothing(
    world: World,
) -> None:
    """When the asker helps another member, that member's own question is no answer."""
    q, theirs = await maria_helps_sven(world)
    assert (await world.question(q)).first_response_at is None
    assert (await world.question(theirs)).first_responder == "maria"


async def test_acknowledgement_only_within_the_mention_window(world: World) -> None:
    """A post or an acknowledgement later than the mention window (15m) answers nothing."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=20)
    await world.post("help", "sven", "settings > keys > rotate")
    await world.advance(minutes=1)
    await world.post("help", "maria", "@sven thanks", mentions=("sven",))
    assert (await world.question(q)).first_response_at is None
    early = await world.post("help", "tomasz", "Where do I find the invoices?")
    await world.advance(minutes=1)
    await world.post("help", "ben", "billing tab, top right")
    await world.advance(minutes=30)
    await world.post("help", "tomasz", "@ben found them", mentions=("ben",))
    assert (await world.question(early)).first_response_at is None


async def test_acknowledgement_can_be_switched_off(database) -> None:  # type: ignore[no-untyped-def]
    """With tracking.asker_acknowledges off, the asker's reply credits nobody."""
    settings = load_settings(data=community_config(tracking={"asker_acknowledges": False}))
    async with open_world(settings, database) as world:
        q = await world.post("help", "maria", QUESTION)
        await world.advance(minutes=3)
        await world.post("help", "sven", "settings > keys > rotate")
        await world.post("help", "maria", "@sven that worked", mentions=("sven",))
        assert (await world.question(q)).first_response_at is None


# --- events that arrive before their message ---------------------------------------

QUESTION_ID = "q-early"


def early_ref(channel: str = "help") -> MessageRef:
    """The question the tests below deliver late."""
    return MessageRef("local", "T1", channel, QUESTION_ID)


async def test_staff_ack_before_the_question_counts_at_the_reactions_time(world: World) -> None:
    """Staff :eyes: delivered before the question is its first response, as staff, at 4m."""
    asked_at = world.clock.now()
    world.clock.set(asked_at + timedelta(minutes=2))
    await world.react(early_ref(), "sven", "eyes")  # a member's :eyes: counts for nothing
    world.clock.set(asked_at + timedelta(minutes=4))
    await world.react(early_ref(), "ana", "eyes")
    await world.react(early_ref(), "ana", "eyes")  # redelivered
    await world.post("help", "maria", QUESTION, message_id=QUESTION_ID, at=asked_at)
    question = await world.question(early_ref())
    assert (question.first_responder, question.response_kind) == ("ana", "reaction")
    assert question.responder_role == ResponderRole.STAFF
    assert question.ttfr_seconds == 4 * 60
    history = await world.store.history(question.id)
    assert [kind for _, kind, _, _ in history] == ["opened", "answered"]


async def test_askers_resolve_before_the_question_resolves_it_in_time_order(world: World) -> None:
    """A reply at 3m and the asker's ✅ at 10m, both before the question: answered, resolved."""
    asked_at = world.clock.now()
    world.clock.set(asked_at + timedelta(minutes=10))
    await world.react(early_ref(), "maria", "white_check_mark")
    await world.reply(early_ref(), "sven", at=asked_at + timedelta(minutes=3))
    await world.post("help", "maria", QUESTION, message_id=QUESTION_ID, at=asked_at)
    question = await world.question(early_ref())
    assert question.state == QuestionState.RESOLVED
    assert (question.resolved_by, question.resolved_at) == ("maria", world.clock.now())
    assert (question.first_responder, question.ttfr_seconds) == ("sven", 3 * 60)
    await world.advance(hours=3)
    assert world.nudges() == []


async def test_resolve_taken_back_before_the_question_leaves_it_open(world: World) -> None:
    """✅ given and taken back before the question arrives: it waits, as it would in order."""
    asked_at = world.clock.now()
    world.clock.set(asked_at + timedelta(minutes=1))
    await world.react(early_ref(), "maria", "white_check_mark")
    world.clock.set(asked_at + timedelta(minutes=2))
    await world.react(early_ref(), "maria", "white_check_mark", remove=True)
    await world.post("help", "maria", QUESTION, message_id=QUESTION_ID, at=asked_at)
    assert (await world.question(early_ref())).state == QuestionState.OPEN


async def test_askers_tick_on_an_answer_before_both_arrive_resolves(world: World) -> None:
    """The asker's ✅ on a thread answer, delivered before the answer and the question."""
    asked_at = world.clock.now()
    answer = MessageRef("local", "T1", "help", "a-early")
    world.clock.set(asked_at + timedelta(minutes=8))
    await world.react(answer, "maria", "white_check_mark")
    await world.reply(early_ref(), "sven", message_id="a-early", at=asked_at + timedelta(minutes=5))
    await world.post("help", "maria", QUESTION, message_id=QUESTION_ID, at=asked_at)
    question = await world.question(early_ref())
    assert (question.state, question.resolved_by) == (QuestionState.RESOLVED, "maria")
    assert question.first_responder == "sven"


async def test_question_deleted_before_it_arrived_is_dismissed_and_never_nudged(
    world: World,
) -> None:
    """A delete before the post: dismissed (as in order), a later reply answers nothing."""
    asked_at = world.clock.now()
    world.clock.set(asked_at + timedelta(minutes=3))
    await world.delete(early_ref())
    world.clock.set(asked_at + timedelta(minutes=5))
    await world.reply(early_ref(), "sven")
    await world.post("help", "maria", QUESTION, message_id=QUESTION_ID, at=asked_at)
    await world.advance(hours=3)
    question = await world.question(early_ref())
    assert question.state == QuestionState.DISMISSED
    assert question.first_response_at is None and not question.breached
    assert world.nudges() == []
    assert world.platform.sent() == []  # nothing posted anywhere


async def test_mention_answer_before_the_question_counts_at_the_mentions_time(
    world: World,
) -> None:
    """An "@maria ..." at 5m, delivered before the question, answers it; one at 40m not."""
    asked_at = world.clock.now()
    world.clock.set(asked_at + timedelta(minutes=5))
    await world.post("help", "chidi", "@maria Settings > Keys > Rotate", mentions=("maria",))
    await world.post("help", "maria", QUESTION, message_id=QUESTION_ID, at=asked_at)
    question = await world.question(early_ref())
    assert (question.first_responder, question.response_kind) == ("chidi", "mention")
    assert question.ttfr_seconds == 5 * 60

    late_at = asked_at + timedelta(hours=2)
    world.clock.set(late_at + timedelta(minutes=40))
    await world.post("help", "chidi", "@tomasz welcome aboard", mentions=("tomasz",))
    late = await world.post("help", "tomasz", QUESTION, message_id="q-late", at=late_at)
    assert (await world.question(late)).first_response_at is None


async def test_mention_before_the_question_is_no_request_of_its_own(world: World) -> None:
    """In an every-post channel, "@maria ..." that came first is dismissed once she asks."""
    asked_at = world.clock.now()
    world.clock.set(asked_at + timedelta(minutes=2))
    reply = await world.post("support", "sven", "@maria restart the agent", mentions=("maria",))
    assert (await world.question(reply)).state == QuestionState.OPEN  # taken for a request
    mine = await world.post(
        "support", "maria", "Billing page shows the wrong plan", message_id="s1", at=asked_at
    )
    assert (await world.question(mine)).first_responder == "sven"
    assert (await world.question(reply)).state == QuestionState.DISMISSED
    await world.advance(hours=3)
    assert world.nudges() == []


async def test_early_fact_older_than_a_week_is_forgotten(world: World) -> None:
    """Early facts are kept a week: a message arriving later finds nothing of them."""
    asked_at = world.clock.now()
    world.clock.set(asked_at + timedelta(minutes=2))
    await world.react(early_ref(), "ana", "eyes")
    world.clock.set(asked_at + timedelta(days=7, minutes=3))
    await world.delete(MessageRef("local", "T1", "help", "never-seen"))
    await world.post("help", "maria", QUESTION, message_id=QUESTION_ID, at=asked_at)
    assert (await world.question(early_ref())).first_response_at is None


async def test_early_facts_are_applied_once(world: World) -> None:
    """A question redelivered after its early ✅ was taken back stays open."""
    asked_at = world.clock.now()
    world.clock.set(asked_at + timedelta(minutes=1))
    await world.react(early_ref(), "maria", "white_check_mark")
    await world.post("help", "maria", QUESTION, message_id=QUESTION_ID, at=asked_at)
    assert (await world.question(early_ref())).state == QuestionState.RESOLVED
    await world.react(early_ref(), "maria", "white_check_mark", remove=True)
    await world.post("help", "maria", QUESTION, message_id=QUESTION_ID, at=asked_at)
    assert (await world.question(early_ref())).state == QuestionState.OPEN
