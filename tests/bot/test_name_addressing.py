"""In-channel answers addressed by name in plain text: "maria, try…", "thanks maria".

Without threads people answer by writing the asker's name, not always with an @: the
post is then a response to the asker's waiting question. The guards keep a word that
happens to be someone's name from hiding a question that nobody answered.
"""

from __future__ import annotations

import pytest

from bot.core.events import MessagePosted
from bot.core.model import Message, MessageRef, QuestionState, UserRef
from bot.storage.names import names_in
from tests.bot.test_tracker import maria_helps_sven
from tests.conftest import SPACE, World, both_backends

pytestmark = both_backends
QUESTION = "How do I rotate my API key?"


async def post_as(world: World, user: str, display_name: str, text: str) -> MessageRef:
    """A top-level post in #help by a member whose display name is `display_name`."""
    ref = MessageRef("local", SPACE, "help", f"named-{user}-{world.clock.now().timestamp()}")
    author = UserRef("local", SPACE, user, display_name)
    message = Message(ref, author, text, world.clock.now())
    world.platform.remember(message)
    await world.app.handle(MessagePosted(None, message))
    return ref


@pytest.mark.parametrize(
    "answer",
    [
        "maria, settings > keys > rotate",
        "maria try settings > keys > rotate",
        "Maria - it is under settings > keys",
        "settings > keys > rotate, maria",
        "it's under settings > keys, hope that helps Maria!",
        "ok maria, it's under settings > keys",
        "!docs keys | maria",
    ],
)
async def test_post_naming_a_recent_asker_answers_them(world: World, answer: str) -> None:
    """The asker's name first, last or set off by punctuation makes the post a response."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=4)
    reply = await world.post("help", "sven", answer)
    question = await world.question(q)
    assert question.state == QuestionState.ANSWERED
    assert (question.first_responder, question.response_kind) == ("sven", "name")
    assert question.ttfr_seconds == 4 * 60
    assert question.first_response_id == reply.message


async def test_first_name_of_a_full_display_name_addresses_its_owner(world: World) -> None:
    """People write "alex, …" to someone shown as "Alex Miller"."""
    q = await post_as(world, "U1", "Alex Miller", QUESTION)
    await world.advance(minutes=2)
    await world.post("help", "sven", "alex you need the admin role for that")
    assert (await world.question(q)).first_responder == "sven"


async def test_a_question_addressed_by_name_is_part_of_the_conversation(world: World) -> None:
    """A clarifying "maria, which plan are you on?" answers maria and asks nothing new."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=1)
    clarifying = await world.post("help", "sven", "maria, which plan are you on?")
    assert (await world.question(q)).first_responder == "sven"
    assert await world.store.question_by_ref(clarifying) is None


async def test_a_short_name_counts_only_first_or_last(world: World) -> None:
    """Tim is addressed by "tim try…", only mentioned in passing by "I asked tim, he…"."""
    q = await world.post("help", "tim", QUESTION)
    await world.advance(minutes=1)
    await world.post("help", "sven", "I asked tim, he had no idea either")
    assert (await world.question(q)).first_response_at is None
    await world.advance(minutes=1)
    await world.post("help", "sven", "tim try the settings page")
    assert (await world.question(q)).first_responder == "sven"


@pytest.mark.parametrize("user", ["max", "help", "ruby"])
async def test_names_that_are_everyday_words_address_nobody(world: World, user: str) -> None:
    """A member called Max, Help or Ruby is not answered by every post using the word."""
    q = await world.post("help", user, QUESTION)
    await world.advance(minutes=1)
    await world.post("help", "sven", f"{user} is what we use here too")
    await world.post("help", "tomasz", f"the docs cover it, see the {user} section")
    assert (await world.question(q)).first_response_at is None


async def test_a_name_the_asker_used_in_their_own_question_is_a_word_there(
    world: World,
) -> None:
    """Someone called Redwood asking about redwood: "redwood routes …" is not to them."""
    q = await world.post("help", "redwood", "How do I configure redwood routes?")
    await world.advance(minutes=1)
    await world.post("help", "sven", "redwood routes are great, we use them a lot")
    assert (await world.question(q)).first_response_at is None


@pytest.mark.parametrize(
    ("minutes", "author", "text"),
    [
        (1, "sven", "maria's fix from yesterday worked for me too"),
        (1, "sven", "as maria said the docs are outdated"),
        (1, "sven", "check /home/maria/.config for the old key"),
        (1, "sven", "see <https://example.com/maria|the guide> for keys"),
        (1, "sven", "`maria` is the name of our staging cluster"),
        (1, "sven", "mariadb is what we run in production"),
        # The asker's own follow-up is not an answer.
        (3, "maria", "maria here again, any ideas?"),
        # Like a mention, a name counts within the mention window (15m) of the question.
        (20, "sven", "maria, settings > keys > rotate"),
    ],
    ids=[
        "possessive",
        "in a sentence",
        "in a path",
        "in a link",
        "in code",
        "part of a word",
        "the asker themselves",
        "after the mention window",
    ],
)
async def test_a_post_naming_the_asker_that_answers_nothing(
    world: World, minutes: int, author: str, text: str
) -> None:
    """Talking about someone, a word containing their name, or naming them too late."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=minutes)
    await world.post("help", author, text)
    assert (await world.question(q)).first_response_at is None


@pytest.mark.parametrize(
    ("thanks", "mentions"),
    [("got it, thanks maria", ()), ("@maria thanks, got it", ("maria",))],
    ids=["by name", "by mention"],
)
async def test_thanks_from_someone_the_asker_helped_is_no_answer(
    world: World, thanks: str, mentions: tuple[str, ...]
) -> None:
    """Sven, whom maria answered, thanking maria (by name or @) has not answered maria."""
    q, theirs = await maria_helps_sven(world)
    await world.advance(minutes=1)
    await world.post("help", "sven", thanks, mentions=mentions)
    assert (await world.question(q)).first_response_at is None
    assert (await world.question(theirs)).first_responder == "maria"


async def test_a_new_question_addressed_to_nobody_answers_nothing(world: World) -> None:
    """Another member's own question right after is not a response to maria."""
    q = await world.post("help", "maria", QUESTION)
    await world.advance(minutes=1)
    theirs = await world.post("help", "sven", "How do I export the audit log?")
    assert (await world.question(q)).first_response_at is None
    assert (await world.question(theirs)).state == QuestionState.OPEN


async def test_a_name_answers_only_its_owner(world: World) -> None:
    """Of two people waiting, only the one named is answered."""
    first = await world.post("help", "maria", QUESTION)
    second = await world.post("help", "tomasz", "Where do I find the invoices?")
    await world.advance(minutes=2)
    await world.post("help", "sven", "tomasz, billing tab, top right")
    assert (await world.question(first)).first_response_at is None
    assert (await world.question(second)).first_responder == "sven"


def test_names_in_reads_only_distinctive_names_where_an_address_stands() -> None:
    """The text side alone: who of several waiting askers a post addresses, and how."""
    waiting = [("U1", "Maria"), ("U2", "[[mandrix]]"), ("U3", "user_"), ("U4", "Jo")]
    assert names_in("mandrix: you tell us", waiting) == {"U2": "mandrix"}
    assert names_in("@Maria the key page moved", waiting) == {"U1": "maria"}
    assert names_in("user, the docs are at /docs", waiting) == {}
    assert names_in("jo, the docs are at /docs", waiting) == {}
    assert names_in("> maria wrote this\nnot for anyone in particular", waiting) == {}
