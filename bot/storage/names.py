"""Askers addressed by name in plain text: who waits in a channel, and whom a post names.

Without threads (IRC, busy Slack and Discord channels) answers are often addressed by
name rather than by @-mention: "bob, try restarting it", "bob try…", "yes bob". The
tracker reads such a post as a response to bob's waiting question (bot/tracker.py
`_mentions_answer`). This module finds them: `waiting_askers` reads who asked in a
channel lately and still waits, with the display name they had when they asked
(`questions.asker_name`); `names_in` says which of those names a post addresses, and
`used_in` whether a name is a word of the asker's own question.

A wrong "answered" hides a question that was left behind, so a name only counts when
it is unlikely to be anything else: at least three letters, not an everyday or
technical word ("max", "help", "ruby", "will"), a whole word outside links, code and
quotes, and where an address stands: first or last in the post, or set off by
punctuation ("ok bob, try…"), and for a name of three letters only first or last. A
name inside a sentence ("try bob's fix", "as bob said") speaks about someone.

Functions take the unit of work's `Repo`, like every other piece of SQL.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from bot.storage.repos import Repo

# Shorter names ("jo", "al") are parts of too many words and abbreviations.
MIN_NAME = 3
# Up to this length a name counts only first or last in a post.
SHORT_NAME = 3

# Padding that nicknames carry and people leave out when they type them:
# "[[mandrix]]" is addressed as "mandrix", "user_" as "user", "|Long|" as "long".
_PADDING = "_-`'^|[]{}()<>.~*=#+"

# Words that are display names often enough ("will", "max", "help", "ruby", "guest")
# but that mean something else far more often in a post: never taken for a name.
# Everyday English words of three letters or more, chat words, and the technical
# words of software communities.
_COMMON_WORDS = """
    able about above access across act action actually add added after again against
    ago agree ahead air all allow almost alone along already also although always am
    among amount and another answer any anybody anyone anything anyway anywhere apart
    appear apply are area around ask asked asking away back bad base basic bear beat
    because become been before begin behind being believe below best better between
    big bit black block blue body book both bottom box break bring broke broken brown
    build built busy but buy call came can cannot care carry case cause center certain
    chance change check choice choose clean clear close cold come coming common
    complete could couple course cover crash create cross current cut dark date day
    dead deal dear decide deep did different direct does doing done door down draw
    dream drive drop during each early easy eat edge else end enough enter even ever
    every exact example except expect explain face fact fail fair fall far fast feel
    few field fill final find fine fire first fix fixed follow for force form forward
    found free fresh friend from front full fun further game gave general get gets
    getting give given glad goes going gone good got great green ground group grow
    guess had half hand handle happen happy hard has have having head hear heard help
    her here high him his hit hold home hot hour how however huge idea if important
    inside instead into its itself job join just keep kept kind knew know known land
    large last late later lead learn least leave left less let level lie life light
    like line list little live local long look looking lose lost lot love low made
    main make many matter maybe mean meant might mind mine miss missing more most
    move much must myself name near need needed never new next nice night none nor
    not note nothing now number off offer often old once one only open order other
    our out over own page part pass past pay people perfect perhaps pick piece place
    plan play please point poor possible post power pretty probably problem pull
    push put question quick quite rather reach read ready real really reason red
    remember rest result right rock room round run said same saw say second see seem
    seen self send sense sent set several shall she short should show side sign
    simple since single small some someone something sometimes soon sorry sort sound
    space speak special stand start state stay step still stop story strange strong
    such sure take taken talk tell than thank thanks that the their them then there
    these they thing things think this those though thought through time today
    together told too took top toward tried true try trying turn under until upon
    use used useful user using usual very wait want was watch water way well went
    were what when where whether which while white who whole why wide will wish with
    within without wonder word work working world worse worth would write wrong yes
    yet you young your yours

    afk ahh aha argh awesome aye bbl bonjour brb bro btw bump bye cheers congrats cool
    cya damn dude duh eh fyi gah gosh guys haha hah heh hehe hello hey hiya hmm hmmm
    hola idk imho imo jeez kthx lmao lol meh nah nope omg ooh oops pls plz ping pong
    rofl sup tbh thx ttyl ugh wow yay yeah yep yup

    admin agent alpha android app apple apps arch archive audio auth backup bash beta
    bin binary bios boot bot branch bridge browser bug build cache card chart chrome
    cli client cloud cluster code config console core cpu cron css data database debian
    debug demo deploy dev device disk docker docs domain driver drivers error event
    fedora file files firefox flash font fork format frame gateway git github gnome
    gnu go golang google graph grub guest hack hacker hash host html http hub image
    index input install intel java javascript kde kernel key lib linux log login
    mac macos mail master max media memory menu mesh meta min mini mint mobile mode
    model module monitor mount mouse mysql net network nginx node null nvidia office
    option output owner package panel partition patch perl php pixel plugin port
    postgres power print pro proxy python query queue radio raid ram react redis
    release repo root router ruby rust script search server service setup shell site
    socket sql ssh stack status storage sudo support swap swift system tab table task
    terminal test text theme token tool ubuntu unix unity update upgrade url usb vim
    virtual vpn web wifi wiki window windows wine wireless xorg zip

    april art august bill chase dawn drew faith frank gene grant guy hope jack joy
    june mark may pat ray rob rose sue summer
"""
COMMON_WORDS = frozenset(_COMMON_WORDS.split())

# Punctuation that sets a name off from the sentence around it, as an address is.
_SETS_OFF_BEFORE = frozenset(",;:|>(-\u2013\u2014")
_SETS_OFF_AFTER = frozenset(",;:.!?)")
_POSSESSIVE = ("'s", "\u2019s")
# After a name, these end it only when no word follows ("bob." but not "bob.txt").
_JOINERS = frozenset("./\\@")

_QUOTED_LINE = re.compile(r"^\s*(?:>|&gt;).*$", re.MULTILINE)
# Slack and Discord markup (<@U1>, <#C1|general>, <https://…|label>, <:emoji:1>),
# code spans and bare links: none of their words are addressed to anyone.
_NOT_PROSE = re.compile(r"```.*?```|`[^`]*`|<[^>\s][^>]*>|\b\w+://\S+", re.DOTALL)


def waiting_askers(
    repo: Repo, platform: str, space: str, watched_channel: str, until: datetime, window: timedelta
) -> list[tuple[str, str]]:
    """(user id, display name) of who asked in a channel within `window` before `until`.

    Only those still waiting: no first response yet, neither dismissed nor resolved;
    oldest question first, each asker once. Read for every top-level post of a watched
    channel, through the partial index of waiting questions by channel and time
    (migrations/0009): it reads only the channel's waiting questions of the window,
    however many other channels and workspaces share the database. Its conditions are
    repeated here word for word so that SQLite sees the index applies.
    """
    end = until.timestamp()
    rows = repo._all(
        "SELECT asker, asker_name FROM questions "
        "WHERE platform = ? AND space = ? AND watched_channel = ? "
        "AND asked_at >= ? AND asked_at <= ? AND first_response_at IS NULL "
        "AND state IN ('open', 'snoozed') ORDER BY asked_at",
        (platform, space, watched_channel, end - window.total_seconds(), end),
    )
    return list(dict.fromkeys((user, name) for user, name in rows)) if rows else []


def names_in(text: str, askers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The users among `askers` ((user id, display name)) whom `text` addresses by name.

    Each with the form of their name the text uses (`name_forms`).
    """
    prose: str | None = None
    found: dict[str, str] = {}
    for user, name in askers:
        forms = name_forms(name)
        if not forms:
            continue
        if prose is None:
            prose = _prose(text)
        form = next((f for f in forms if _addressed(prose, f)), None)
        if form is not None:
            found[user] = form
    return found


def used_in(text: str, form: str) -> bool:
    """Whether `form` (of a name) is a word of `text`, anywhere but in links and code.

    A name the asker used in their own question is a word of the conversation there
    ("how do I upgrade clojure?" by someone called Clojure), not an address.
    """
    return next(_words_at(_prose(text), form), None) is not None


def _prose(text: str) -> str:
    """The words of a post that can address someone, in lower case.

    Quoted lines, markup, code and links address nobody.
    """
    if ">" in text or "&gt;" in text:
        text = _QUOTED_LINE.sub(" ", text)
    if "`" in text or "<" in text or "://" in text:
        text = _NOT_PROSE.sub(" ", text)
    return text.lower()


@functools.lru_cache(maxsize=8192)
def name_forms(name: str) -> tuple[str, ...]:
    """How a display name is written when someone addresses its owner, lower case.

    The name itself, without its padding, and for a name of several words its first
    word ("alex" for "Alex Miller"), each only if it is distinctive: at least `MIN_NAME`
    characters, not all digits, not only `COMMON_WORDS`. None at all when the name
    without its padding is not distinctive ("user_", "|Long|", "Max").
    """
    full = name.lower().strip()
    core = full.strip(_PADDING)
    if not _distinctive(core):
        return ()
    forms = {full, core}
    if " " in core:
        forms.add(core.split()[0].strip(_PADDING))
    return tuple(sorted((f for f in forms if _distinctive(f)), key=len, reverse=True))


def _distinctive(form: str) -> bool:
    """Long enough, not a number, and not only everyday words ("the dude")."""
    letters = form.strip(_PADDING)
    return (
        len(letters) >= MIN_NAME
        and not letters.isdigit()
        and any(word.strip(_PADDING) not in COMMON_WORDS for word in letters.split())
    )


def _addressed(prose: str, form: str) -> bool:
    """Whether `form` (a name) stands in `prose` as a word, where an address stands.

    First or last in the post ("tim, try…", "tim try…", "thanks tim!"), or set off by
    punctuation ("ok bob, that's it", "!docs | bob", "hm bob. good question"). A name
    within a sentence ("try bob's fix", "as bob said") speaks about them, not to them;
    a short name counts only first or last.
    """
    return any(_where_an_address_stands(prose, start, form) for start in _words_at(prose, form))


def _words_at(prose: str, form: str) -> Iterator[int]:
    """Where `form` stands in `prose` as a whole word.

    "bob" is not in "bobby", "/home/bob", "bob.txt" or "bob@example.com".
    """
    start = prose.find(form)
    while start >= 0:
        if _whole_word(prose, start, start + len(form)):
            yield start
        start = prose.find(form, start + 1)


def _whole_word(prose: str, start: int, end: int) -> bool:
    before = prose[start - 1] if start else " "
    if before == "@":  # "@bob" typed out, but not "mail@bob"
        before = prose[start - 2] if start > 1 else " "
    elif before in _JOINERS or before == "-":
        return False
    if _is_word(before):
        return False
    after = prose[end : end + 1]
    if not after:
        return True
    if _is_word(after) or after == "-":
        return False
    return not (after in _JOINERS and _is_word(prose[end + 1 : end + 2]))


def _where_an_address_stands(prose: str, start: int, form: str) -> bool:
    rest = prose[start + len(form) :]
    if rest.startswith(_POSSESSIVE):
        return False
    before, after = prose[:start].rstrip(" \t\n@"), rest.lstrip()
    if not any(c.isalnum() for c in before) or not any(c.isalnum() for c in after):
        return True
    if len(form.strip(_PADDING)) <= SHORT_NAME:
        return False
    return before[-1:] in _SETS_OFF_BEFORE or after[:1] in _SETS_OFF_AFTER


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"
