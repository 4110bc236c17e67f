"""Decide whether a chat message opens a question that deserves a first response.

Frontline only tracks messages that someone in the community should answer. This
module is the gate: :func:`detect_question` takes the raw platform text of a
top-level message (Slack mrkdwn or Discord markdown) and returns a
:class:`Detection` with a yes/no answer, a score in ``[0, 1]`` and the reasons
behind it, so moderators can see *why* a message was (or was not) tracked.

The detector is a hand-weighted linear model over a few dozen explainable
signals (question marks in prose, question openers, help phrases, failure
reports, pasted errors, and negative cues such as pleasantries, announcements
or a helper's clarifying question), squashed through a logistic function. It is
pure, deterministic and allocation-light so it can run on every message.
Its accuracy on hand-labelled real chat is reported in ``bench/DETECTION.md``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["DEFAULT_THRESHOLD", "Detection", "Mode", "detect_question"]

Mode = Literal["questions", "every-post"]

DEFAULT_THRESHOLD: Final[float] = 0.5


@dataclass(frozen=True, slots=True)
class Detection:
    """The verdict on one message.

    Attributes:
        is_question: Whether the message should be tracked as an open question.
        score: Confidence in ``[0.0, 1.0]``; in ``"questions"`` mode
            ``is_question == (score >= threshold)``.
        reasons: Short human-readable signals that moved the score, positive
            ones (``"ends with '?'"``) and negative ones (``"pleasantry"``).
    """

    is_question: bool
    score: float
    reasons: tuple[str, ...]


# --------------------------------------------------------------------- weights
# Log-odds contributions. The bias keeps a message with no signal at all well
# below the threshold: most chat lines are statements.
_BIAS: Final = -2.2
_W_ENDS_Q: Final = 2.8
_W_HAS_Q: Final = 1.8
_W_OPENER: Final = 1.6
_W_HELP: Final = 2.8
_W_WEAK_HELP: Final = 1.3
_W_RESOLVED: Final = -2.5
_W_ADDRESSED: Final = -0.7
_W_FAILURE: Final = 2.2
_W_ERROR: Final = 2.6
_W_FIRST_PERSON_PROBLEM: Final = 0.6
_W_PLEASANTRY: Final = -6.0
_W_TOO_SHORT: Final = -3.0
_W_ANNOUNCE: Final = -2.2
_W_ANSWER: Final = -1.8
_W_ASKS_HELPER: Final = -2.2
_W_TAG_Q: Final = -2.0
_W_RHETORICAL: Final = -2.8
_W_BARE_LINK: Final = -6.0

# Long pastes cost time without adding signal: the opening usually states the
# problem and the tail usually holds the question or the final error line.
_HEAD: Final = 2000
_TAIL: Final = 500

# ------------------------------------------------------------------ markup
_ZERO_WIDTH = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_QUOTE_LINE = re.compile(r"^[ \t]*(?:>|&gt;)[^\n]*$", re.MULTILINE)
# Slack <@U123|name>, <!here>, <#C1|name>; Discord <@123>, <@!123>, <@&123>, <#123>,
# <:name:123>, <a:name:123>, <t:123:R>; Slack links <https://x|label> and <mailto:..>.
_ANGLE_REF = re.compile(r"<(?:[@#!][^>\s]*|a?:\w+:\d+|t:\d+(?::\w)?)>")
_ANGLE_LINK = re.compile(r"<(?:https?|mailto|ftp):[^>\n]{0,2000}>")
_RAW_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+", re.IGNORECASE)
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-']+:(?::skin-tone-\d:)?", re.IGNORECASE)
# A leading "nick:" or "@nick," addresses someone on IRC/Discord; drop it so the
# real first word (often "how"/"is") is seen. Plain words like "Hi," go too: harmless.
_ADDRESS = re.compile(r"^\s*@?[\w\[\]\\`^{}|.\-]{1,32}[:,]\s+(?=\S)")
_AT_NAME = re.compile(r"(?<!\w)@[\w.\-]+")
_TRAILING_NOISE = re.compile(
    r"(?:\s+|[.!~]+|\s*[:;=xX8][\-']?[()\[\]/\\|pPdDoO3*]+|\s*\^[_.]?\^|\s*[<]3)+$"
)
_EMOJI_ONLY = re.compile(
    r"^[\s\u2000-\u2bff\u2e00-\u2e7f\u3000-\u303f\U0001f000-\U0001faff\ufe0f\u200d"
    r"\U000e0020-\U000e007f:;=xX8()\[\]/\\|pPdDoO3*^_<>.!+\-]*$"
)

# ---------------------------------------------------------------- errors
# Cheap gate, checked on the lower-cased text: the error regex runs only after a hit.
_ERROR_HINTS: Final = (
    "err",
    "xception",
    "traceback",
    ".java:",
    "denied",
    "not found",
    "no such",
    "fault",
    "fatal",
    "unable to",
    "could not",
    "cannot find",
    "panicked",
)


def _may_hold_error(text: str) -> bool:
    low = text.lower()
    for hint in _ERROR_HINTS:
        if hint in low:
            return True
    return False
_ERROR = re.compile(
    r"Traceback \(most recent call last\)"
    r"|Exception in thread"
    r"|\bat [\w$.<>]+\([\w$]+\.(?:java|kt|scala|clj|cljc|groovy):\d+\)"
    r"|\bat [\w$.<>]+\((?:Native Method|Unknown Source)\)"
    r"|Execution error"
    r"|CompilerException"
    r"|npm ERR!"
    r"|\b[A-Z][A-Za-z0-9]*(?:Error|Exception)\b"
    r"|^\s*(?:error|fatal|E)\s*(?:\[[^\]]*\])?\s*:"
    r"|\b(?:ERROR|FATAL)\b"
    r"|No such file or directory|Permission denied|command not found|Segmentation fault"
    r"|\[Errno \d+\]|Unable to locate package|Could not (?:find|resolve|locate|load)"
    r"|Cannot find module|thread '[^']*' panicked",
    re.MULTILINE,
)

# ----------------------------------------------------------------- tokens
# Sentence punctuation becomes a "|" boundary token; other punctuation a space.
# A bytes table is several times faster than ``str.translate`` with a dict, and
# is safe on UTF-8 because multi-byte sequences never contain ASCII bytes.
_BOUNDARY: Final = "|"
# Stand-ins left in the prose where markup was removed (not counted as words).
_LINK: Final = "_link_"
_CODE: Final = "_code_"
_PUNCT: Final = "\"()[]{}<>*~=,/\\#$%&@^`:"
_SENTENCE_END: Final = ".!?;\n|"
_TOKEN_BYTES: Final = bytes.maketrans(
    (_PUNCT + _SENTENCE_END).encode(), b" " * len(_PUNCT) + b"|" * len(_SENTENCE_END)
)


def _tokenise(prose: str) -> list[str]:
    """Lower-cased word tokens with ``"|"`` marking sentence boundaries."""
    low = prose.lower()
    if not low.isascii():
        low = low.replace("\u2019", "'").replace("\u2018", "'")
    return low.encode().translate(_TOKEN_BYTES).decode().replace("|", " | ").split()


_QUESTION_OPENERS: Final = frozenset(
    """how what what's whats why where where's wheres when which who who's whom whose
    is are am was were can could would should shall will do does did has have
    isn't aren't can't couldn't wouldn't shouldn't doesn't don't didn't won't
    any anyone anybody anyone's someone somebody wat wot howto""".split()
)
# Openers whose question is exclamative ("what a pain", "how nice") or which,
# followed by these, usually answer rather than ask.
_EXCLAMATIVE_NEXT: Final = frozenset(
    "a an nice cool great awesome weird funny sad strange odd cute lovely".split()
)

_PLEASANTRY: Final = frozenset(
    """thanks thank thx thnx tnx ty tyvm tysm cheers ta much so very a lot lots again
    you u all everyone everybody folks guys people team yall y'all
    ok okay k kk okey oke alright aight cool nice great awesome perfect excellent
    sweet neat wow woo yay lol lmao rofl haha hahaha hehe heh hah xd
    gm gn morning good evening night afternoon day hi hello hey heya hiya yo sup
    howdy hai hallo hola bye cya later ciao np yw welcome no problem worries
    yes yeah yea yep yup ya no nope nah sure right indeed true agreed same
    oh ah ahh aha hmm hm hmmm ugh oops sorry really what huh eh wut wat why ok?
    +1 ++ -1 +100 1 me too ^ ^^ this done nvm nevermind mind got it gotcha makes sense
    the fine interesting""".split()
)

# Phrases are keyed by their first token so matching is a dict probe per token.
# Strong phrases are requests on their own; weak ones also occur in statements
# ("I want to thank ...", "the problem with X is ...") so they weigh less.
_HELP_PHRASES: Final = (
    "anyone know", "anybody know", "anyone knows", "anybody knows", "someone know",
    "does anyone", "does anybody", "do anyone", "has anyone", "has anybody", "have anyone",
    "did anyone", "is anyone", "is anybody", "anyone here", "anyone else", "anyone have",
    "anyone has", "anyone got", "anyone tried", "anyone used", "anyone using", "anyone seen",
    "anyone experienced", "any1", "can anyone", "can anybody", "can someone",
    "can somebody", "could anyone", "could someone", "could somebody", "would anyone",
    "will someone", "someone help", "somebody help", "help me", "need help",
    "need some help", "needs help", "use some help", "help please", "please help",
    "pls help", "plz help", "any help", "a little help", "any idea",
    "any ideas", "any suggestion", "any suggestions", "any advice", "any pointers",
    "any tips", "any clue", "any clues", "any hints", "any thoughts", "any solution",
    "any recommendations", "is there", "are there any", "is it possible", "is that possible",
    "how do i", "how can i", "how would i", "how should i", "how do you",
    "how does one", "how can you", "how do we", "how can we", "how would you",
    "what's the best", "what is the best", "whats the best", "what's a good",
    "what is a good", "what am i", "what should i", "where can i", "where do i",
    "where should i", "which one should", "should i use", "do i need", "i'm trying to",
    "i am trying to", "im trying to", "i was trying to", "i've been trying",
    "trying to figure", "been trying to", "i can't figure", "i cant figure",
    "cannot figure", "can't figure", "i don't know how", "i dont know how",
    "no idea how", "no idea why", "i wonder", "i'm wondering", "im wondering",
    "i was wondering", "wondering if", "wondering how", "wondering why", "wondering what",
    "wondering whether", "wanted to understand", "i'd like to know", "i want to know",
    "have a question", "a quick question", "quick question", "question for", "q for",
    "i'm looking for", "im looking for", "i am looking for", "i'm stuck", "im stuck",
    "i am stuck", "stuck on", "stuck with", "get stuck", "i have a problem",
    "i have problem", "i have an issue", "i have a issue", "i got a problem",
    "i've got a problem", "having a problem", "having problems", "having an issue",
    "having issues", "having trouble", "can you help", "could you help", "can u help",
    "do you know", "does someone", "not sure what to", "what to do", "what can i",
    "what do i", "how would one", "where to find", "where to get", "where is the",
)
_WEAK_HELP_PHRASES: Final = (
    "how to", "help with", "some help", "any way", "anyway to", "possible to",
    "best way to", "best practice", "recommended way", "can i", "i need to", "i need a",
    "i want to", "i'd like to", "i would like to", "looking for a", "recommend a",
    "i tried", "i've tried", "ive tried", "figure out how", "i don't understand",
    "i dont understand", "not sure how", "not sure why", "don't see how", "dont see how",
    "can't see how", "have a problem", "have problems", "have trouble", "trouble with",
    "problem with", "issue with", "problems with", "issues with", "explain how",
    "explain why", "tell me how", "show me how", "what if", "run into", "ran into",
    "running into", "i keep", "confused about", "i'm confused", "im confused",
)
_FAILURE_PHRASES: Final = (
    "doesn't work", "doesnt work", "does not work", "don't work", "dont work",
    "isn't working", "isnt working", "is not working", "not working", "aren't working",
    "stopped working", "didn't work", "didnt work", "did not work", "won't work",
    "wont work", "no luck", "no go", "doesn't seem", "doesnt seem", "does not seem",
    "won't start", "won't boot", "won't load", "won't open", "won't install", "won't let",
    "won't connect", "won't compile", "won't run", "wont start", "wont boot", "wont load",
    "can't get", "cant get", "cannot get", "can't seem", "cant seem", "can't connect",
    "cant connect", "cannot connect", "can't find", "cant find", "cannot find",
    "can't install", "cant install", "cannot install", "can't open", "cant open",
    "can't access", "cant access", "can't mount", "cant mount", "can't login",
    "can't log", "cant login", "can't see", "cant see", "can't load", "can't boot",
    "unable to", "fails to", "failed to", "fails with", "failed with", "failing with",
    "fail to", "keeps failing", "keeps crashing", "keeps timing", "keeps giving",
    "keeps saying", "keeps telling", "keeps asking", "keep getting", "keeps getting",
    "i get an", "i get a", "i get this", "i get the", "i got an", "i got this",
    "i'm getting", "im getting", "i am getting", "getting an", "getting this",
    "getting a", "getting the error", "getting error", "getting errors", "gives me an",
    "gives me a", "gives an error", "giving me", "throws an", "throws a", "threw an",
    "get an error", "got an error", "an error", "this error", "the error", "error message",
    "error when", "error while", "errors when", "exception when", "crashes", "crashing",
    "crashed", "freezes", "freezing", "hangs", "goes black", "nothing happens",
    "not showing", "not detected", "not recognized", "not found", "no sound",
    "broke my", "broken", "messed up", "screwed up", "not able", "am not able",
)

_ANNOUNCE_PHRASES: Final = (
    "just released", "we released", "i released", "has been released", "have released",
    "released version", "is released", "new release", "now available", "just published", "i published", "just pushed",
    "i just pushed", "blog post", "new post", "new video", "new episode", "wrote a",
    "i wrote", "i made", "i've made", "i built", "i've built", "we're hiring",
    "we are hiring", "are hiring", "is hiring", "check out", "check it out",
    "announcing", "happy to announce", "pleased to announce", "excited to",
    "release notes", "changelog", "fyi", "psa", "heads up", "tutorial on",
)
# The asker reporting that the problem went away.
_RESOLVED_PHRASES: Final = (
    "nvm", "nevermind", "never mind", "solved it", "fixed it", "it works", "works now",
    "working now", "got it working", "figured it out", "figured out", "sorted it",
    "my bad", "that worked", "that did it", "problem solved",
)

# Sentence openers typical of answers and suggestions rather than requests.
_ANSWER_OPENERS: Final = frozenset(
    """you you'd you'll you're your youre u try use just maybe perhaps probably
    i'd because cause since yes yeah yep no nope sure it's its that's thats
    there's theres this that these those iirc afaik fwiw imo imho basically
    np see check make remember note""".split()
)
# Questions aimed at the person being helped ("did you try..?", "are you using..?").
_HELPER_Q_PHRASES: Final = (
    "are you", "did you", "have you", "do you", "were you", "was it", "is your", "does your",
    "what's your", "whats your", "what is your", "is it your", "are u", "did u", "have u",
    "do u", "you using", "you running", "you trying", "you tried", "you see", "you get",
    "you mean", "you have", "you've", "could you", "can you", "would you", "u using",
)
_SECOND_PERSON: Final = frozenset("you your you're youre u ur yours you've".split())
_FIRST_PERSON: Final = frozenset(
    "i i'm im i've ive i'd me my mine we we're our us myself".split()
)
_TAG_QUESTIONS: Final = frozenset("right no yes correct eh innit true isn't".split())
_RHETORICAL_PHRASES: Final = (
    "why not", "who cares", "what's the point", "whats the point", "what the",
    "what a", "you know what", "guess what", "who knew", "why would you", "how come",
    "are you kidding", "are you serious", "you mean",
)


# Words that may start a message followed by ":" or "," without naming anyone.
_NOT_NICKS: Final = _PLEASANTRY | _ANSWER_OPENERS | frozenset(
    """well so also and but btw edit update note ps question q problem issue error
    anyway anyways ah oh ok okay hi hello hey nvm nevermind""".split()
)
# Words that may precede a question opener without hiding it ("ok so how do I ...").
_LEAD_FILLERS: Final = frozenset(
    """so and but also then now well anyway anyways btw or um uh erm still ok okay k
    alright hi hello hey heya hiya yo howdy guys folks all everyone everybody people
    thanks thx cheers sorry hmm hm oh ah aha lol haha ps edit update quick sure yes yeah""".split()
)


# Phrase kinds, used as indexes into the list returned by ``_find_phrases``.
_HELP, _WEAK_HELP, _FAILURE, _ANNOUNCE, _RHETORICAL, _RESOLVED, _HELPER_Q = range(7)
_KINDS: Final = 7

# (remaining words after the first two, kind, phrase text)
_Entry = tuple[tuple[str, ...], int, str]


def _build_index(
    *groups: tuple[str, ...],
) -> tuple[dict[str, tuple[int, str]], dict[str, tuple[_Entry, ...]]]:
    """Index one-word phrases by word and longer ones by their first two words.

    Keying on the first *two* words keeps candidate lists to one or two entries,
    so matching costs about one dict probe per token.
    """
    single: dict[str, tuple[int, str]] = {}
    grouped: dict[str, list[_Entry]] = {}
    for kind, phrases in enumerate(groups):
        for phrase in phrases:
            words = phrase.split()
            if len(words) == 1:
                single.setdefault(words[0], (kind, phrase))
            else:
                key = f"{words[0]} {words[1]}"
                grouped.setdefault(key, []).append((tuple(words[2:]), kind, phrase))
    pairs = {k: tuple(sorted(v, key=lambda e: -len(e[0]))) for k, v in grouped.items()}
    return single, pairs


_NON_WORDS: Final = frozenset((_BOUNDARY, _LINK, _CODE))
_PLEASANT_OR_NON_WORD: Final = _PLEASANTRY | _NON_WORDS
_SINGLE_INDEX, _PAIR_INDEX = _build_index(
    _HELP_PHRASES,
    _WEAK_HELP_PHRASES,
    _FAILURE_PHRASES,
    _ANNOUNCE_PHRASES,
    _RHETORICAL_PHRASES,
    _RESOLVED_PHRASES,
    _HELPER_Q_PHRASES,
)
_SINGLE_KEYS: Final = frozenset(_SINGLE_INDEX)
_PAIR_KEYS: Final = frozenset(_PAIR_INDEX)


@dataclass(slots=True)
class _Scan:
    """What one pass over the tokens learned."""

    found: list[str | None]
    opener: str | None
    n_words: int
    first: str
    last: str
    first_person: bool
    all_pleasantry: bool


def _find_opener(tokens: list[str]) -> str | None:
    """The first question word opening the message or a sentence, after any filler."""
    n = len(tokens)
    i = 0
    while i < n:
        while i < n and tokens[i] in _LEAD_FILLERS:
            i += 1
        if i < n and tokens[i] in _QUESTION_OPENERS:
            if i + 1 >= n or tokens[i + 1] not in _EXCLAMATIVE_NEXT:
                return tokens[i]
        try:
            i = tokens.index(_BOUNDARY, i) + 1
        except ValueError:
            return None
    return None


def _scan(tokens: list[str]) -> _Scan:
    """Collect every token-level signal, mostly with C-level set operations.

    That is: the first phrase of each kind (phrases are found by intersecting the
    message's bigrams with the indexed ones, then verified in place); the opener;
    word counts and the first/last word; whether the writer speaks in the first
    person; and whether every word is a pleasantry.
    """
    found: list[str | None] = [None] * _KINDS
    for tok in sorted(_SINGLE_KEYS.intersection(tokens)):
        kind, phrase = _SINGLE_INDEX[tok]
        if found[kind] is None:
            found[kind] = phrase
    bigrams = list(map(" ".join, zip(tokens, tokens[1:])))
    for key in sorted(_PAIR_KEYS.intersection(bigrams)):
        for rest, kind, phrase in _PAIR_INDEX[key]:
            if found[kind] is not None:
                continue
            if not rest:
                found[kind] = phrase
                continue
            # Longer phrases: check the words after each occurrence of the bigram.
            i = bigrams.index(key)
            while True:
                if tuple(tokens[i + 2 : i + 2 + len(rest)]) == rest:
                    found[kind] = phrase
                    break
                try:
                    i = bigrams.index(key, i + 1)
                except ValueError:
                    break
    n_words = len(tokens) - tokens.count(_BOUNDARY)
    first = last = ""
    if _LINK in tokens or _CODE in tokens:
        n_words -= tokens.count(_LINK) + tokens.count(_CODE)
    if n_words:
        first = next(t for t in tokens if t not in _NON_WORDS)
        last = next(t for t in reversed(tokens) if t not in _NON_WORDS)
    return _Scan(
        found,
        _find_opener(tokens),
        n_words,
        first,
        last,
        not _FIRST_PERSON.isdisjoint(tokens),
        0 < n_words <= 8 and _PLEASANT_OR_NON_WORD.issuperset(tokens),
    )


@dataclass(slots=True)
class _Normalised:
    """Prose of a message with markup removed, plus the facts removal discarded."""

    prose: str
    had_code: bool
    had_link: bool
    had_quote_q: bool
    addressed: bool
    error: str | None


def _normalise(text: str) -> _Normalised:
    """Strip platform markup, keeping code/links/quotes/errors as facts, not text."""
    if len(text) > _HEAD + _TAIL:
        text = text[:_HEAD] + "\n" + text[-_TAIL:]
    if not text.isascii():
        text = _ZERO_WIDTH.sub("", text)
    if "&" in text:
        text = text.replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")

    error: str | None = None
    if _may_hold_error(text):
        m = _ERROR.search(text)
        if m:
            error = m.group(0).strip()[:40]

    had_code = False
    if "`" in text:
        if "```" in text:
            text, n = _FENCE.subn(" ", text)
            had_code = n > 0
        if "`" in text:
            text, n = _INLINE_CODE.subn(f" {_CODE} ", text)
            had_code = had_code or n > 0

    had_quote_q = False
    if ">" in text and (text.lstrip()[:1] == ">" or "\n" in text):
        quoted = _QUOTE_LINE.findall(text)
        if quoted:
            had_quote_q = any("?" in q for q in quoted)
            text = _QUOTE_LINE.sub(" ", text)

    head = text.lstrip()
    addressed = head.startswith(("<@", "@"))
    had_link = False
    if "<" in text:
        text = _ANGLE_REF.sub(" ", text)
        text, n = _ANGLE_LINK.subn(f" {_LINK} ", text)
        had_link = n > 0
    if "://" in text or "www." in text:
        text, n = _RAW_URL.subn(f" {_LINK} ", text)
        had_link = had_link or n > 0
    if ":" in text:
        text = _EMOJI_CODE.sub(" ", text)
    if "@" in text:
        text = _AT_NAME.sub(" ", text)
    head = text[:40]
    m = _ADDRESS.match(text) if ":" in head or "," in head else None
    if m and m.group(0).strip()[:-1].lstrip("@").lower() not in _NOT_NICKS:
        addressed = True
        text = text[m.end() :]
    return _Normalised(text.strip(), had_code, had_link, had_quote_q, addressed, error)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _skip_reason(norm: _Normalised, scan: _Scan) -> str | None:
    """Why a post is not a request at all, whatever the mode (or ``None``)."""
    if norm.had_code or norm.error:
        return None
    if scan.n_words == 0:
        if norm.had_link:
            return "link only"
        if not norm.prose:
            return "'?' only in quoted text" if norm.had_quote_q else "empty"
        if _EMOJI_ONLY.match(norm.prose):
            return "emoji only"
        return None
    if scan.all_pleasantry:
        return "pleasantry"
    return None


def detect_question(
    text: str,
    *,
    mode: Mode = "questions",
    from_bot: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
) -> Detection:
    """Score how likely ``text`` is a community request that expects an answer.

    Args:
        text: Raw message text as received from Slack or Discord (markup included).
        mode: ``"questions"`` scores the message; ``"every-post"`` (support
            channels) accepts every post that is not empty, link/emoji-only or a
            pure pleasantry, and ignores ``threshold``.
        from_bot: Posts by bots are never questions.
        threshold: Score at or above which a message counts as a question in
            ``"questions"`` mode.

    Returns:
        The verdict, its score in ``[0, 1]`` and the reasons behind it.
    """
    if from_bot:
        return Detection(False, 0.0, ("bot post",))
    norm = _normalise(text)
    scan = _scan(_tokenise(norm.prose))
    skip = _skip_reason(norm, scan)
    if mode == "every-post":
        if skip is not None:
            return Detection(False, 0.02, (skip,))
        score, reasons = _score(norm, scan)
        return Detection(True, max(score, 0.8), ("support channel post", *reasons))
    if skip is not None:
        return Detection(False, 0.02, (skip,))
    score, reasons = _score(norm, scan)
    return Detection(score >= threshold, score, reasons)


def _ends_with_question_mark(prose: str) -> bool:
    """Whether the prose ends with '?', ignoring trailing emoticons and dots."""
    if prose.endswith("?"):
        return True
    # Only the tail can hold trailing emoticons; keep the regex off long texts.
    return _TRAILING_NOISE.sub("", prose[-16:]).endswith("?")


def _score(norm: _Normalised, scan: _Scan) -> tuple[float, tuple[str, ...]]:
    """Sum the weighted signals of a non-trivial message into a score and reasons."""
    z = _BIAS
    reasons: list[str] = []
    found = scan.found
    has_q = "?" in norm.prose
    ends_q = has_q and _ends_with_question_mark(norm.prose)
    if ends_q:
        z += _W_ENDS_Q
        reasons.append("ends with '?'")
    elif has_q:
        z += _W_HAS_Q
        reasons.append("contains '?'")
    elif norm.had_quote_q:
        reasons.append("'?' only in quoted text")

    help_phrase = found[_HELP]
    weak_help = found[_WEAK_HELP]
    failure = found[_FAILURE]
    opener = scan.opener
    if help_phrase:
        z += _W_HELP
        reasons.append(f"help phrase '{help_phrase}'")
    elif weak_help:
        z += _W_WEAK_HELP
        reasons.append(f"help phrase '{weak_help}'")
    if opener and not (help_phrase or weak_help or "").startswith(opener):
        z += _W_OPENER if not has_q else _W_OPENER / 2
        reasons.append(f"question opener '{opener}'")
    if failure:
        z += _W_FAILURE
        reasons.append(f"failure report '{failure}'")
    if norm.error:
        z += _W_ERROR
        reasons.append(f"error output '{norm.error}'")
    elif norm.had_code:
        reasons.append("code block")
    strong = bool(help_phrase or failure or norm.error)
    if (failure or norm.error) and scan.first_person:
        z += _W_FIRST_PERSON_PROBLEM
        reasons.append("first-person problem")

    # Negative cues.
    if scan.n_words <= 2 and not strong and not norm.had_code:
        z += _W_TOO_SHORT
        reasons.append("too short")
    if norm.addressed:
        z += _W_ADDRESSED
        reasons.append("addressed to someone")
    if found[_RESOLVED]:
        z += _W_RESOLVED
        reasons.append(f"resolved '{found[_RESOLVED]}'")
    if found[_ANNOUNCE] and not has_q:
        z += _W_ANNOUNCE
        reasons.append(f"announcement '{found[_ANNOUNCE]}'")
    if found[_RHETORICAL] and not help_phrase:
        z += _W_RHETORICAL
        reasons.append(f"rhetorical '{found[_RHETORICAL]}'")
    if scan.first in _ANSWER_OPENERS and not help_phrase:
        z += _W_ANSWER
        reasons.append(f"reads like an answer ('{scan.first}')")
    elif has_q and not help_phrase and found[_HELPER_Q]:
        z += _W_ASKS_HELPER
        reasons.append(f"asks the other person '{found[_HELPER_Q]}'")
    if ends_q and not help_phrase and scan.n_words > 2 and scan.last in _TAG_QUESTIONS:
        z += _W_TAG_Q
        reasons.append(f"tag question '{scan.last}?'")

    if not reasons:
        reasons.append("no question signal")
    return 1.0 / (1.0 + math.exp(-z)), tuple(reasons)
