"""Decide whether a chat message opens a question that deserves a first response.

Frontline only tracks messages that someone in the community should answer. This
module is the gate: :func:`detect_question` takes the raw platform text of a
top-level message (Slack mrkdwn or Discord markdown) and returns a
:class:`Detection` with a yes/no answer, a score in ``[0, 1]`` and the reasons
behind it, so moderators can see *why* a message was (or was not) tracked.

How it works:

1. Normalise the markup. Mentions, channel references and custom emoji are
   dropped; links and code become stand-in tokens; quoted lines (``>``) are
   removed because they hold someone else's words. What was removed is kept as
   facts (had a link, had code, held pasted error output, had a '?' only in a
   quote).
2. Tokenise the remaining prose and look up question openers ("how do",
   "is there", a subject-less "trying to ..." or "looking for ..."), help
   phrases ("anyone know", "not sure how to", "please advise"), failure and
   symptom reports ("keeps timing out", "isn't loading", "stopped responding",
   "getting a 403", "I can't X", "expected X but Y"), weaker cues that need
   company (a regression such as "since upgrading", an odd result such as
   "returns nothing"), feature requests ("it would be great if"), and negative
   cues (pleasantries, announcements and staff status notes, social polls and
   debate, answers, a helper's clarifying question or "what about X?"
   suggestion, rhetorical questions and musings, a problem explained to "you",
   bumps such as "anyone there?", an "or ..." that extends the
   writer's earlier message, replies opening with "true"/"right"/"I mean", a
   failure joked about with a smiley, and a whole message in parentheses).
3. Add the weights of the signals found to a bias and squash the sum through a
   logistic function. Every signal that fired becomes one of ``reasons``.

The function is pure, deterministic and bounded: only the first ``2,000`` and
last ``500`` characters of a message are examined. Accuracy and speed measured
on hand-labelled real chat are in ``bench/DETECTION.md``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Final, Literal

__all__ = ["DEFAULT_THRESHOLD", "Detection", "Mode", "detect_question"]

Mode = Literal["questions", "every-post"]

# On the dev labels precision and recall move little between 0.45 and 0.6, and
# recall drops sharply above 0.65; 0.5 sits in the flat band ("more likely than not").
# Re-checked for v4 on all four label files: 0.45 gains 3 requests for 1 false
# positive there but flags about 110 more unlabelled messages, mostly replies that
# mention someone, so 0.5 stays.
DEFAULT_THRESHOLD: Final[float] = 0.5


@dataclass(frozen=True, slots=True)
class Detection:
    """The verdict on one message.

    Attributes:
        is_question: Whether the message should be tracked as an open question.
        score: Confidence in ``[0.0, 1.0]``. In ``"questions"`` mode
            ``is_question == (score >= threshold)``, bot posts excepted.
        reasons: Short human-readable signals that moved the score, positive
            ones (``"ends with '?'"``) and negative ones (``"pleasantry"``).

    """

    is_question: bool
    score: float
    reasons: tuple[str, ...]


# ---------------------------------------------------------------------- weights
# Log-odds contributions, set by hand. v1-v3 were checked against the dev and test
# labels only; v4's additions against all four label files (dev, test, holdout,
# holdout2), which are all spent as blind samples; v5's against made-up
# product-community posts (bench/DETECTION.md). The bias
# keeps a message without any signal well below the threshold, because most chat
# lines are statements.
_BIAS: Final = -2.2
_W_ENDS_Q: Final = 2.8
_W_HAS_Q: Final = 1.8
_W_OPENER: Final = 2.4
_W_WEAK_OPENER: Final = 1.0
# A '?' already says "question", so an opener next to one adds only a fraction.
_OPENER_WITH_Q: Final = 0.4
_W_HELP: Final = 2.8
_W_WEAK_HELP: Final = 1.3
_W_FAILURE: Final = 2.2
_W_ERROR: Final = 2.6
_W_FIRST_PERSON_PROBLEM: Final = 0.6
_W_ODD_RESULT: Final = 1.7
_W_REGRESSION: Final = 1.2
_W_OWN_REGRESSION: Final = 1.0
_W_WISH: Final = 2.2
_W_TOO_SHORT: Final = -3.0
_W_ADDRESSED: Final = -0.7
_W_RESOLVED: Final = -2.5
_W_ANNOUNCE: Final = -2.2
_W_RHETORICAL: Final = -2.8
_W_ANSWER: Final = -1.8
_W_ASKS_HELPER: Final = -2.2
_W_TAG_Q: Final = -2.0
_W_EXPLAINS: Final = -1.2
_W_REPLY_MARKER: Final = -1.8
_W_CONTINUES: Final = -1.5
_W_JOKE: Final = -1.5
_W_ASIDE: Final = -2.0
# The score of posts that are not requests at all (empty, emoji, pleasantry), and
# the lowest score of an accepted post in "every-post" mode.
_SKIP_SCORE: Final = 0.02
_EVERY_POST_FLOOR: Final = 0.8

# Long pastes cost time but add no signal. The opening usually states the problem
# and the tail usually holds the question or the last error line.
_HEAD: Final = 2000
_TAIL: Final = 500


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(text: str) -> tuple[str, ...]:
    # Phrases go through the same contraction folding as messages ("does not work"
    # is stored as "doesn't work"), so each spelling needs listing only once.
    return tuple(" ".join(_fold_negations(p.split())) for p in text.split(",") if p.strip())


# Negations are folded into one spelling: "does not", "doesnt" and the "doesn t" left
# by exports that drop apostrophes all become "doesn't".
_NEGATABLE: Final = {
    w: f"{w[:-1] if w == 'can' else w}n't"
    for w in sorted(_words("do does did is are was were can could would should has have had"))
} | {"will": "won't"}
_SPLIT_NEGATION: Final = {w[:-2]: w for w in _NEGATABLE.values() if w != "can't"} | {
    "can": "can't",
    "won": "won't",
}
_NO_APOSTROPHE: Final = {w.replace("'", ""): w for w in _NEGATABLE.values()} | {
    "cannot": "can't",
    "im": "i'm",
    "ive": "i've",
    "youre": "you're",
    "whats": "what's",
    "thats": "that's",
    "theres": "there's",
}
_FOLD_TRIGGERS: Final = frozenset(("not", "t", *_NO_APOSTROPHE))


def _fold_negations(tokens: list[str]) -> list[str]:
    """Fold negations and apostrophe-less contractions into one spelling."""
    if _FOLD_TRIGGERS.isdisjoint(tokens):
        return tokens
    out: list[str] = []
    for tok in tokens:
        if tok == "not" and out and out[-1] in _NEGATABLE:
            out[-1] = _NEGATABLE[out[-1]]
        elif tok == "t" and out and out[-1] in _SPLIT_NEGATION:
            out[-1] = _SPLIT_NEGATION[out[-1]]
        else:
            out.append(_NO_APOSTROPHE.get(tok, tok))
    return out


# ----------------------------------------------------------------------- markup
_QUESTION_MARKS: Final = ("\u061f", "\uff1f", "\u037e", "\u055e", "\u1367")
_ZERO_WIDTH = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_QUOTE_LINE = re.compile(r"^[ \t]*>[^\n]*$", re.MULTILINE)
# Discord's ">>> " quotes everything up to the end of the message.
_QUOTE_BLOCK = re.compile(r"^[ \t]*>>>.*\Z", re.MULTILINE | re.DOTALL)
# Slack <@U123|name>, <!here>, <#C1|name>; Discord <@123>, <@!123>, <@&123>, <#123>,
# <:name:123>, <a:name:123>, <t:123:R>.
_ANGLE_REF = re.compile(r"<(?:[@#!][^>\s]*|a?:\w+:\d+|t:\d+(?::\w)?)>")
# Slack links <https://x|label>, <mailto:a@b|a@b>.
_ANGLE_LINK = re.compile(r"<(?:https?|mailto|ftp):[^>\n]{0,2000}>")
_RAW_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+", re.IGNORECASE)
# Scheme-less links ("example.com/x?y=1"), only looked for when a '?' could hide in one.
_BARE_URL = re.compile(
    r"\b(?:[\w-]+\.)+(?:com|org|net|io|dev|gg|co|app|me|edu|gov|info|uk|de)/\S*",
    re.IGNORECASE,
)
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-']+:(?::skin-tone-\d:)?", re.IGNORECASE)
# "nick: ..." / "nick, ..." addresses someone on IRC-style chats. The address is
# dropped so that the real first word (often "how" or "is") is seen.
_ADDRESS = re.compile(r"^\s*@?[\w\[\]\\`^{}|.\-]{1,32}[:,]\s+(?=\S)")
_AT_NAME = re.compile(r"(?<!\w)@[\w.\-]+")
_TRAILING_NOISE = re.compile(
    r"(?:\s+|[.!~]+|\s*[:;=xX8][\-']?[()\[\]/\\|pPdDoO3*]+|\s*\^[_.]?\^|\s*<3)+$"
)
# Pictographs and their joiners and variation selectors are not words.
_EMOJI_CHARS = re.compile(
    r"[\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2b00-\u2bff\u3030\u303d\u3297\u3299"
    r"\U0001f000-\U0001faff\ufe0e\ufe0f\u200d\u20e3]+"
)
_EMOJI_ONLY = re.compile(
    r"^[\s\u2000-\u2bff\u2e00-\u2e7f\u3000-\u303f\U0001f000-\U0001faff\ufe0f\u200d"
    r"\U000e0020-\U000e007f:;=xX8()\[\]/\\|pPdDoO3*^_<>.!+\-]*$"
)

# ----------------------------------------------------------------------- errors
# Pasted error output. Literal markers are checked with ``in``. Each pattern has a
# literal gate so that most messages never reach the regex engine.
_ERROR_LITERALS: Final = (
    "Traceback (most recent call last)",
    "Exception in thread",
    "Execution error",
    "CompilerException",
    "npm ERR!",
    "No such file or directory",
    "Permission denied",
    "command not found",
    "Segmentation fault",
    "Unable to locate package",
    "Cannot find module",
    "[Errno ",
    "panicked at",
    "goroutine 1 [running]",
    "(Native Method)",
    "(Unknown Source)",
)
_ERROR_PATTERNS: Final = (
    # Java, Clojure or Kotlin stack frame: "at foo.bar(Baz.java:12)".
    (
        (".java:", ".clj", ".kt:", ".scala:", ".groovy:"),
        re.compile(r"\.(?:java|kt|scala|clj|cljc|cljs|groovy):\d+\)"),
    ),
    # JavaScript or TypeScript stack frame: "at f (/app/index.js:10:5)".
    ((".js:", ".ts:", ".tsx:", ".jsx:"), re.compile(r"\.(?:js|mjs|cjs|ts|tsx|jsx):\d+:\d+")),
    # "ImportError", "NullPointerException": matched at the suffix, word checked later.
    (("Error", "Exception"), re.compile(r"(?:Error|Exception)\b")),
    # Line labels: "error: ...", "Error[E0308]: ...", "E: Unable to ...", "FATAL: ...",
    # also after a program name as Unix tools print them ("dpkg: error: ...").
    (
        ("rror", "RROR", "atal", "ATAL", "E:", "panic"),
        re.compile(
            r"^[ \t]*(?:[\w.\-]+:[ \t]*)?(?:[Ee]rror|ERROR|[Ff]atal|FATAL|E|panic)"
            r"[ \t]*(?:\[[^\]\n]*\])?:",
            re.M,
        ),
    ),
    (("ERROR", "FATAL"), re.compile(r"\b(?:ERROR|FATAL)\b")),
)
# A cheap gate in front of all of the above, on lower-cased text. Markers that it
# misses ("permission denied", "no such file") are caught as failure phrases in the
# prose, and messages with code blocks always get the full check.
_ERROR_HINTS: Final = ("err", "xception", "traceback", "fatal", "panic", ".java:", ".clj", ".js:")


def _find_error(text: str) -> str | None:
    """Return a short excerpt of pasted error output in ``text``, if there is any."""
    if "```" not in text:
        low = text.lower()
        for hint in _ERROR_HINTS:
            if hint in low:
                break
        else:
            return None
    for literal in _ERROR_LITERALS:
        if literal in text:
            return literal
    for gate, pattern in _ERROR_PATTERNS:
        if not any(g in text for g in gate):
            continue
        m = pattern.search(text)
        if m is None:
            continue
        start = m.start()
        if m.group(0).startswith(("Error", "Exception")):
            # Only a CamelCase word ending in Error or Exception counts ("KeyError"),
            # not the English word ("an Error occurred").
            while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_."):
                start -= 1
            word = text[start : m.end()]
            if word in ("Error", "Exception") or not word[:1].isupper():
                continue
        return text[start : m.end()].strip()[:40]
    return None


# ----------------------------------------------------------------------- tokens
# Sentence punctuation becomes a "|" boundary token and other punctuation a space.
# A bytes table is several times faster than ``str.translate`` with a dict, and it
# is safe on UTF-8 because multi-byte sequences never contain ASCII bytes.
_BOUNDARY: Final = "|"
# A comma ends a clause: a later interrogative ("Thanks, how do I ...") still counts.
_COMMA: Final = ","
# Stand-ins left in the prose where markup was removed; they are not words.
_LINK: Final = "zzlinkzz"
_CODE: Final = "zzcodezz"
_PUNCT: Final = '"()[]{}<>*_~=/\\#$%&@^`:'
_SENTENCE_END: Final = ".!?;\n|"
_TOKEN_BYTES: Final = bytes.maketrans(
    (_PUNCT + _SENTENCE_END).encode(), b" " * len(_PUNCT) + b"|" * len(_SENTENCE_END)
)
# In a message that asks something, a colon or a dash starts a clause ("follow up: is
# it ok ...?", "quick q - does ...?"); elsewhere they mostly join a noun to its
# predicate ("the tool - is the easy way to ...").
_TOKEN_BYTES_ASKING: Final = bytes.maketrans(
    (_PUNCT + _SENTENCE_END).encode(),
    ("".join("," if c == ":" else " " for c in _PUNCT) + "|" * len(_SENTENCE_END)).encode(),
)


def _tokenise(prose: str) -> list[str]:
    """Lower-cased word tokens, with ``"|"`` ending sentences and ``","`` clauses."""
    low = prose.lower()
    if not low.isascii():
        low = _EMOJI_CHARS.sub(" ", low.replace("\u2019", "'").replace("\u2018", "'"))
    table = _TOKEN_BYTES
    if "?" in low:
        table = _TOKEN_BYTES_ASKING
        if " - " in low or not low.isascii():
            low = low.replace(" - ", " , ").replace("\u2014", ",").replace("\u2013", ",")
    # "surrogatepass": lone surrogates (possible in JSON-decoded text) must not raise.
    raw = low.encode("utf-8", "surrogatepass").translate(table)
    text = raw.decode("utf-8", "surrogatepass").replace("|", " | ").replace(",", " , ")
    return _fold_negations(text.split())


# ------------------------------------------------------------------- vocabulary
# Interrogative syntax: a wh-word followed by an auxiliary ("why does", "how do",
# "how to"), or an auxiliary followed by a subject ("is there", "can I"). Either at
# the start of a sentence is a strong cue, even without a '?'.
_WH_WORDS: Final = _words(
    """
    how howto wat what what's whats when where where's wheres which who who's whom whose
    why wot
    """
)

_AUXILIARIES: Final = _words(
    """
    am are aren't can can't cant could couldn't did didn't didnt do does doesn't doesnt
    don't dont had has hasn't have haven't is isn't may might must shall should
    shouldn't was wasn't were weren't will won't wont would wouldn't
    """
)

_SUBJECTS: Final = _words(
    """
    a an any anybody anyone anything he i it my one our people she somebody someone
    something that the there these they this those u we you your
    """
)

_WH_NEXT: Final = _AUXILIARIES | {"to"}
# Wh-words that can take a noun before the auxiliary ("which file do I edit").
_WH_DETERMINERS: Final = _words("what which whose how")
# Wh-words that open subordinate clauses when a subject follows ("when I run it").
_SUBORDINATORS: Final = _words("when where while whenever wherever")
_RELATIVES: Final = _words("which who whom whose where when")
# A preposition may come before a wh-word ("in what folder does it go").
_PREPOSITIONS: Final = _words("in on at for from to with by of about under into")
# "have a look", "had a great time": possession, not a question.
_HAVE: Final = _words("have has had")
_DETERMINERS: Final = _words("a an the my your our any one")
# After a wh-word these make it exclamative ("what a mess", "how nice").
_EXCLAMATIVE_NEXT: Final = _words(
    """
    a an awesome cool cute fun funny great lovely nice odd sad strange weird
    """
)

# Wh-words followed by a verb rather than an auxiliary.
_WH_VERB_PAIRS: Final = frozenset(
    [("how", "come"), ("what", "happens"), ("what", "happened"), ("what", "causes")]
)

# "what's the ...", "where's my ...": a contracted wh-word before a noun phrase.
_WH_CONTRACTED: Final = _words("what's where's who's how's")
_WH_CONTRACTED_NEXT: Final = _words("the a an my our")  # not "your": a helper asks that

# Auxiliaries that, first in a sentence and followed by a noun, only start questions.
_NOUN_AUXILIARIES: Final = _words("is are does")
_NOT_NOUNS: Final = _words(
    """
    about after again all almost already also although always anything as at because
    before being but by definitely either even ever exactly for from if in just kinda
    like more most much never not nothing now of on once only perhaps probably quite
    rather really since so sort still such than that then there though this too totally
    unless until very what when where which while why with
    """
)
_NOT_NOUN_SUFFIXES: Final = ("ing", "ed", "ly", "ive", "able", "ible", "ful", "ous", "less")

# The asker's words without "I'm" or "I am" in front: "trying to get X to work",
# "looking for a library that ...", "wondering if ...". Only at a sentence start.
_REQUEST_LEADS: Final = {
    "trying": _words("to"),
    "looking": _words("for to"),
    "wondering": _words("if whether how what why which where who when about"),
    "curious": _words("if whether how what why which where who about"),
    "hoping": _words("someone somebody anyone anybody you to for"),
    "struggling": _words("to with"),
    "need": _words("a an some help advice"),
    "would": _words("appreciate"),
    # "Problem with the nightly build: ...", "Thoughts on X", "Recommendations for Y".
    "problem": _words("with when after"),
    "problems": _words("with when after"),
    "issue": _words("with when after"),
    "issues": _words("with when after"),
    "trouble": _words("with when getting"),
    "thoughts": _words("on about"),
    "recommendations": _words("for on"),
    "suggestions": _words("for on"),
    "advice": _words("on for about"),
}

_NEEDS: Final = _words("need want")

_OTHER_OPENERS: Final = _words(
    """
    any anybody anyone anyone's somebody someone
    """
)

# Words that may come before an opener without hiding it ("ok so how do I ...").
_LEAD_FILLERS: Final = _words(
    """
    ah aha all alright also and anyway anyways btw but cheers edit erm everybody q
    everyone folks guys haha hello hey heya hi hiya hm hmm howdy k lol now oh ok okay or
    ps quick so sorry still sure thanks then thx uh um update well yeah yes yo
    """
)

# A message made only of these words is a pleasantry or an acknowledgement. The set
# includes bare "what"/"why"/"really" so that "what?" or "really?" is chatter.
_PLEASANTRY: Final = _words(
    """
    ++ +1 +100 -1 1 ^ ^^ a afternoon again agreed ah aha ahh aight all alright awesome
    bye cheers ciao cool cya day done eh evening everybody everyone excellent fine folks
    gm gn good got gotcha great guys hah haha hahaha hai hallo heh hehe hello hey heya
    hi hiya hm hmm hmmm hola howdy huh indeed interesting it k kk later lmao lol lot
    lots makes me mind morning much nah neat nevermind nice night no nope np nvm oh ok
    ok? okay oke okey oops people perfect problem really right rofl same sense so sorry
    sup sure sweet ta team thank thanks the this thnx thx tnx too true ty tysm tyvm u
    ugh very wat welcome what why woo worries wow wut xd y'all ya yall yay yea yeah yep
    yes yo you yup yw
    """
)

# A message opening with one of these is a call for help ("help! the page is blank").
_HELP_WORDS: Final = _words("help halp sos")

# Sentence openers typical of answers and suggestions rather than requests. The
# second-person and imperative ones mark an answer even when it mentions an error
# ("you'll get an error if ..."); the others ("this", "it's", "just") also start
# problem reports ("this keeps crashing"), so a failure or error signal cancels them.
_ANSWER_OPENERS_STRONG: Final = _words(
    """
    check make note remember see try u use you you'd you'll you're your youre
    """
)
_ANSWER_OPENERS_WEAK: Final = _words(
    """
    afaik basically because cause fwiw i'd iirc imho imo it's its just maybe no nope np
    perhaps probably since sure that that's thats there's theres these this those yeah
    yep yes
    """
)
_ANSWER_OPENERS: Final = _ANSWER_OPENERS_STRONG | _ANSWER_OPENERS_WEAK

_FIRST_PERSON: Final = _words(
    """
    i i'd i'm i've im ive me mine my myself our us we we're
    """
)
_SECOND_PERSON: Final = _words("u ur you you'd you'll you're you've youre your yours ya")
# Auxiliaries that ask about the reader ("are you using X", "did you try Y").
_ABOUT_YOU: Final = _words("am are aren't did didn't do don't have haven't were")

# A final "..., right?" asks for agreement, not help.
_TAG_QUESTIONS: Final = _words(
    """
    correct eh innit isn't no right true yes though
    """
)
# "is that correct?", "it was not right?": after these the word is the predicate of a
# real question, not a tag.
_PREDICATE_BEFORE: Final = _AUXILIARIES | _words("not be been being")

# Openers that agree with or clarify the previous message ("true, but ...", "right,
# by ...", "I mean, ..."). Unlike the answer openers they keep their weight next to
# a failure word: the failure is part of the discussion.
_REPLY_MARKERS: Final = _words("true right agreed exactly indeed")

# Bumps: messages made only of these words ("anyone?", "any1 here", "hello?") call for
# attention but carry no request.
_BUMP_WORDS: Final = _words(
    """
    any1 anybody anyone around alive awake here online ping somebody someone there up
    """
)

# Smiling emoticons: a failure word next to one is usually a joke ("it just doesn't
# work :-)"). Frowns are not listed: a sad face goes with a real problem. The gate
# keeps the regex off most messages; the lookarounds keep ":p" in ":plugins" out.
# Only the last ``_SMILEY_TAIL`` characters are read.
_SMILEY_GATE: Final = (":", ";", "^", "xD")
_SMILEY_TAIL: Final = 32
_SMILEY = re.compile(
    r"(?<![\w:])(?:[:;]-?[)DPp]|\(:|xD|\^\^)(?![\w(])"
    r"|:(?:smile|wink|grin|laughing|joy|smiley|upside_down_face|sweat_smile|"
    r"stuck_out_tongue\w*|slightly_smiling_face|simple_smile):"
    r"|[\U0001f600-\U0001f606\U0001f609\U0001f61b\U0001f61c\U0001f642\U0001f923]"
)

# Words that may start a message followed by ":" or "," without naming anyone
# ("ok, ...", "Note: ...", "TypeError: ...").
_NOT_NICKS_EXTRA: Final = _words(
    """
    actual also and anyway anyways background btw bug but caused context debug e edit error
    expected fatal feature hint info issue log output panic problem ps q question repro
    request result argh damn dang oof ugg ugh welp whoa yikes
    stacktrace steps summary tl;dr tldr trace update warn warning well
    """
)

_NOT_NICKS: Final = _PLEASANTRY | _ANSWER_OPENERS | _NOT_NICKS_EXTRA
_LABEL_SUFFIXES: Final = ("error", "exception", "warning", "err")

# --------------------------------------------------------------------- phrases
# Strong help phrases are requests on their own. Weak ones also occur in
# statements ("I want to thank ...", "the problem with X is ...") and weigh less.
_HELP_PHRASES: Final = _phrases(
    """
    anyone know, anybody know, anyone knows, anybody knows, someone know, you guys know,
    u guys know, you all know, y'all know, yall know, folks know, does anyone,
    does anybody, do anyone, has anyone, has anybody, have anyone, did anyone, is
    anyone, is anybody, anyone here, anyone else, anyone have, anyone has, anyone got,
    anyone tried, anyone used, anyone using, anyone seen, anyone experienced, any1, can
    anyone, can anybody, can someone, can somebody, could anyone, could someone, could
    somebody, would anyone, will someone, someone help, somebody help, help me, need
    help, need some help, needs help, use some help, help please, please help, pls help,
    plz help, any help, a little help, any idea, any ideas, any suggestion, any
    suggestions, any advice, any pointers, any tips, any clue, any clues, any hints, any
    thoughts, any solution, any recommendations, is there a, is there an, is there any,
    is there some, are there any, is it
    possible, is that possible, how do i, how can i, how would i, how should i, how do
    you, how does one, how can you, how do we, how can we, how would you, what's the
    best, what is the best, whats the best, what's a good, what is a good, what am i,
    what should i, where can i, where do i, where should i, which one should, should i
    use, do i need, i'm trying to, i am trying to, im trying to, i was trying to, i've
    been trying, trying to figure, been trying to, i can't figure, i cant figure, cannot
    figure, can't figure, i don't know how, i dont know how, no idea how, no idea why, i
    wonder, i'm wondering, im wondering, i was wondering, wondering if, wondering how,
    wondering why, wondering what, wondering whether, wanted to understand, i'd like to
    know, i want to know, have a question, a quick question, quick question, question
    for, q for, i'm looking for, im looking for, i am looking for, i was looking for, been
    looking for, was looking how, i'm stuck, im stuck,
    i am stuck, stuck on, stuck with, get stuck, i have a problem, i have problem, i
    have an issue, i have a issue, i got a problem, i've got a problem, having a
    problem, having problems, having an issue, having issues, having trouble, can you
    help, could you help, can u help, do you know, does someone, not sure what to, what
    to do, what can i, what do i, how would one, where to find, where to get, where is
    the, hard time, having some problems, having some issues, having some trouble,
    a little problem, a small problem, i have the problem, i have this problem, i
    have the issue, i have this issue, a weird problem, a strange problem, a big problem,
    have big problem, a quick one, need a hand, give me a hand, please advise, pls advise,
    plz advise, advice needed, advise please, help needed, help wanted, need advice, need
    some advice, need guidance, need some guidance, need suggestions, need some
    suggestions, need a recommendation, need recommendations, need some pointers, need a
    way, need some way, need to find a way, love some help, love some guidance, love some
    advice, love some input, love some pointers, love some tips, love any help, love any
    advice, appreciate any, appreciate some help, appreciate some advice, appreciate some
    guidance, appreciate some pointers, appreciate it if, grateful for any, love to know,
    like to know, wanted to know, want to understand, trying to understand, trying to work
    out, trying to find out, hoping someone, hoping somebody, hoping anyone, hoping
    anybody, if anyone knows, if anybody knows, if someone knows, if somebody knows,
    curious how, curious what, curious whether, curious if, curious why, curious which,
    not sure how to, not sure where to, not sure which, not sure whether, unsure how,
    unsure whether, unsure if, unsure what, unsure which, right channel, right place to,
    where to ask, best place to ask, if it's possible, if it is possible, whether it's
    possible, whether it is possible, any plans, any chance, any news on, any update on,
    any updates on, any eta, any workaround, any workarounds, any examples, any example
    of, any docs, any documentation, any guidance, any recommendation, have some trouble,
    have some troubles, having troubles, troubles with, can't work out, confused about,
    doing wrong, what's the difference, what is the difference, whats the difference,
    question about, questions about, question regarding, question re, asked before, been
    asked, sorry if this, apologies if this, noob question, newbie question, dumb question,
    stupid question, silly question, beginner question, basic question, out of ideas, what
    else to try, what else i can try, what else can i, could use a hand, could use some
    help, could use help, someone pls, someone please, somebody please, pls someone, please
    someone, anyone else's, anybody else's
    """
)

# "someone could explain", "anyone can help": asking a third party to do something for
# the writer. Built from parts; "you could ..." is left out because answers say that.
_THIRD_PARTY_ASKS: Final = tuple(
    f"{who} {modal} {verb}"
    for who in ("anyone", "anybody", "someone", "somebody")
    for modal in ("can", "could", "would")
    for verb in sorted(
        _words("help advise explain point tell show confirm clarify recommend suggest share shed")
    )
) + tuple(
    # "can you confirm ...", "could you explain ...": the writer asks the reader for
    # an answer. Helpers ask for the asker's output instead ("can you paste ...").
    f"{modal} {you} {verb}"
    for modal in ("can", "could", "would")
    for you in ("you", "u")
    for verb in (*sorted(_words("confirm explain clarify advise recommend")), "tell me")
)

_WEAK_HELP_PHRASES: Final = _phrases(
    """
    how to, help with, some help, any way, anyway to, possible to, best way to, best
    practice, recommended way, can i, i need to, i need a, i want to, i'd like to, i
    would like to, looking for a, recommend a, i tried, i've tried, ive tried, figure
    out how, i don't understand, i dont understand, not sure how, not sure why, don't
    see how, dont see how, can't see how, have a problem, have problems, have trouble,
    trouble with, problem with, issue with, problems with, issues with, explain how,
    explain why, tell me how, show me how, what if, run into, ran into, running into, i
    keep, confused about, i'm confused, im confused, is there, tried that, tried this,
    tried everything, tried every, been fighting, losing my mind
    """
)

_FAILURE_PHRASES: Final = _phrases(
    """
    doesn't work, doesnt work, does not work, don't work, dont work, isn't working, isnt
    working, is not working, not working, aren't working, stopped working, didn't work,
    didnt work, did not work, won't work, wont work, no luck, no go, doesn't seem,
    doesnt seem, does not seem, won't start, won't boot, won't load, won't open, won't
    install, won't let, won't connect, won't compile, won't run, wont start, wont boot,
    wont load, can't get, cant get, cannot get, can't seem, cant seem, can't connect,
    cant connect, cannot connect, can't find, cant find, cannot find, can't install,
    cant install, cannot install, can't open, cant open, can't access, cant access,
    can't mount, cant mount, can't login, can't log, cant login, can't see, cant see,
    can't load, can't boot, unable to, fails to, failed to, fails with, failed with,
    failing with, fail to, keeps failing, keeps crashing, keeps timing, keeps giving,
    keeps saying, keeps telling, keeps asking, keep getting, keeps getting, i get an, i
    get a, i get this, i get the error, i get the errors, i get the following, i get the
    same, i got an, i got this, i'm getting, im getting, i am getting, getting an,
    getting this, getting a, getting the error, getting error, getting errors, gives
    me an, gives me a, gives an error, giving me, throws an,
    throws a, threw an, get an error, got an error, an error, this error, the error,
    error message, error when, error while, errors when, exception when, crashes,
    crashing, crashed, freezes, freezing, hangs, goes black, nothing happens, not
    showing, not detected, not recognized, not found, no sound, broke my, broken, messed
    up, screwed up, not able, am not able, permission denied, no such file, command not
    found, segmentation fault, could not resolve, could not load, could not connect,
    could not open, couldn't connect, couldn't load, couldn't open, couldn't get, not
    responding, timed out, timing out, times out, refused, no longer works, no longer
    working, not connecting, nothing comes up, nothing shows up, doesn't show up, don't
    show up, doesn't appear, black screen, blank screen, is missing, are missing, went
    wrong, goes wrong, something wrong, something is wrong, something's wrong, wrong
    with my, seems to be a problem, there's a problem, there is a problem, there's an
    issue, there is an issue, fails, failed, failing, spins forever, spinning forever,
    loads forever, loading forever, hangs forever, takes forever to, don't have
    permission, no permission, access denied, doesn't do anything, don't do anything,
    didn't do anything, does nothing, did nothing, nothing happened, stuck at, stuck in,
    gets stuck, got stuck, is stuck, are stuck, keeps restarting, keeps rebooting, keeps
    redirecting, keeps reloading, keeps refreshing, keeps disconnecting, keeps dropping,
    keeps logging, keeps spinning, keeps loading, keeps freezing, keeps closing, keeps
    popping, keeps throwing, is throwing, are throwing, started throwing, keep restarting,
    keep disconnecting, keep crashing, keep failing, tests
    fail, builds fail, jobs fail, checks fail, requests fail, calls fail, queries fail,
    still fail, now fail, all fail, disappeared, vanished, greyed out, grayed out, broke,
    is gone, are gone, went missing, logs me out, logged me out, kicks me out, kicked me
    out, signs me out, says i, says my, says that i, says that my, it tells me, it told
    me, complains that, complains about, there's a bug, there is a bug, found a bug,
    possible bug, bug report, weird behavior, weird behaviour, strange behavior, strange
    behaviour, odd behavior, odd behaviour, funny behavior, funny behaviour, unexpected
    behavior, unexpected behaviour, acting weird, acting strange, acting up, can't get past,
    won't get past, doesn't get past, never gets past, not getting past, won't go past,
    doesn't go past, never goes past, keeps returning, keep returning, isn't picked up,
    aren't picked up, not picked up, never picked up, not being picked up, doesn't pick up,
    don't pick up, just disappear, just disappears, keeps disappearing, disappear after,
    disappears after, disappear when, disappears when, blank page, white screen, white
    page, empty page, was blocked, gets blocked, got blocked, being blocked, fell over,
    falls over, oom killed, out of memory, gets killed, got killed, in a loop, redirect
    loop, infinite loop, boot loop, logged out again, end up logged out, ends up logged
    out, restarts every, crashes every, reboots every, disconnects every, serves the old,
    shows the old, getting zzcodezz, got zzcodezz, gives zzcodezz, throws zzcodezz
    """
)

# Symptom reports built from verbs of what software does: a negated or stopped
# action ("won't sync", "isn't loading", "stopped responding", "never finishes").
# Each row is base form, -s form, -ing form, past form.
_ACTIONS: Final = tuple(
    tuple(row.split())
    for row in """
    apply applies applying applied
    arrive arrives arriving arrived
    authenticate authenticates authenticating authenticated
    boot boots booting booted
    build builds building built
    close closes closing closed
    compile compiles compiling compiled
    complete completes completing completed
    connect connects connecting connected
    deliver delivers delivering delivered
    deploy deploys deploying deployed
    detect detects detecting detected
    display displays displaying displayed
    download downloads downloading downloaded
    execute executes executing executed
    export exports exporting exported
    finish finishes finishing finished
    find finds finding found
    fire fires firing fired
    import imports importing imported
    install installs installing installed
    launch launches launching launched
    load loads loading loaded
    login logins logging logged
    match matches matching matched
    move moves moving moved
    mount mounts mounting mounted
    open opens opening opened
    persist persists persisting persisted
    play plays playing played
    print prints printing printed
    recognize recognizes recognizing recognized
    recognise recognises recognising recognised
    redirect redirects redirecting redirected
    refresh refreshes refreshing refreshed
    register registers registering registered
    reload reloads reloading reloaded
    render renders rendering rendered
    resolve resolves resolving resolved
    respond responds responding responded
    return returns returning returned
    run runs running ran
    save saves saving saved
    send sends sending sent
    show shows showing showed
    start starts starting started
    sync syncs syncing synced
    trigger triggers triggering triggered
    update updates updating updated
    upload uploads uploading uploaded
    work works working worked
    """.strip().splitlines()
)
_NEGATED_ACTION: Final = _words("doesn't don't didn't won't can't couldn't wouldn't")
_STALLED_ACTION: Final = _words("isn't aren't wasn't weren't not stopped stops")
_SYMPTOM_PHRASES: Final = tuple(
    phrase
    for base, third, ing, past in _ACTIONS
    for phrase in (
        *(f"{neg} {base}" for neg in sorted(_NEGATED_ACTION)),
        *(f"{stall} {ing}" for stall in sorted(_STALLED_ACTION)),
        # "that never works" is an opinion; "it never loads" is a symptom.
        *((f"never {third}", f"never {past}") if base != "work" else ()),
    )
)

_ANNOUNCE_PHRASES: Final = _phrases(
    """
    just released, we released, i released, has been released, have released, released
    version, is released, new release, now available, just published, i published, just
    pushed, i just pushed, blog post, new post, new video, new episode, wrote a, i
    wrote, i made, i've made, i built, i've built, we're hiring, we are hiring, are
    hiring, is hiring, check out, check it out, announcing, happy to announce, pleased
    to announce, excited to, release notes, changelog, fyi, psa, heads up, tutorial on,
    let everyone know, let you all know, just so you know, fixed now, that's fixed, now
    fixed, been fixed, we fixed, we've fixed, we have fixed, we're on it, we are on it,
    we're looking into, we are looking into, we're investigating, we are investigating, no
    action needed, should be back, rolling out, is now live, now live, back to normal,
    we're working on a, we are working on a, working on a fix, please upgrade, upgrade if
    """
)

# The asker reporting that the problem went away.
_RESOLVED_PHRASES: Final = _phrases(
    """
    nvm, nevermind, never mind, what i'm looking for, what i was looking for, what i
    needed, solved it, fixed it, works now, working now, it works now, now it works, now
    it's working, now it is working, got it working, figured it out, sorted it, my bad,
    that worked, that did it, problem solved, works for me,
    working fine for me, works fine for me, been working fine
    """
)

_RHETORICAL_PHRASES: Final = _phrases(
    """
    why not, who cares, what's the point, whats the point, what the hell, what the heck,
    what a, you know what, guess what, who knew, why would you, are you kidding, are you
    serious, you mean, isn't that, isn't it, don't you think, wouldn't it be, wondering
    the same, wondered the same, wonder the same, wondering that too, wondering this too,
    why would anyone, does anyone really, does anyone actually, is anyone actually, is
    anyone really, do we really, do we even, do you really, what could possibly, favourite,
    favorite, how many of you, who's coming, who is coming, anyone heading to, anyone going
    to the, is anyone going to, going to be there, anybody going to, anyone else going to,
    anyone else think, anyone else feel, does anyone else think
    """
) + tuple(
    # Musing about what others do or will do: "I wonder if they'll ever fix it".
    f"wonder {conj} {who}"
    for conj in ("if", "whether", "why", "how", "when")
    for who in sorted(_words("they they'll they're they'd he he'll she she'll people nobody"))
)

# Questions aimed at the person being helped ("did you try ...?", "are you using ...?").
_HELPER_Q_PHRASES: Final = _phrases(
    """
    are you, did you, have you, do you, were you, was it, is your, does your, what's
    your, whats your, what is your, is it your, are u, did u, have u, do u, you using,
    you running, you trying, you tried, you see, you get, you mean, you have, you've,
    could you, can you, would you, u using, you might, you could, you may want, you
    should, have you considered, why don't you, did you mean, what about, how about, on
    that machine, on that box, on that server, on that host, on that key, on that account,
    on your side, will tell you, would explain, narrow it down, you need a, you need the,
    you'll need, you will need
    """
)

# Something changed for the worse: "since upgrading", "and now", "no longer". Not a
# request on its own ("nobody uses it anymore"), but it turns a weak symptom into a
# report and tells a problem report from an answer that starts with "since".
_REGRESSION_PHRASES: Final = _phrases(
    """
    since upgrading, since updating, since i upgraded, since i updated, since we
    upgraded, since we updated, since the update, since the upgrade, since the last,
    since the latest, since yesterday, since this morning, since last week, since last
    night, after upgrading, after updating, after the update, after the upgrade, after i
    upgraded, after i updated, after we upgraded, after we updated, after installing,
    after i installed, after the last, after the latest, after yesterday's, and now, but
    now, now it, suddenly, all of a sudden, anymore, used to work, was working fine, was
    working before, was working yesterday, were working fine, worked fine, worked before,
    was fine before, no longer, out of nowhere, randomly, every time i, everytime i, each
    time i, whenever i, every time we, whenever we, is now, are now, it's now, now shows,
    now says, now i get, now it's
    """
)

# Regressions that also tell of a change for the better or of the writer's own doing
# ("and now I'm happy", "I stopped it and it's no longer running").
_NOW: Final = frozenset(
    _phrases(
        """
        and now, but now, now it, is now, are now, it's now, no longer, anymore, suddenly,
        randomly, now shows, now says, now i get, now it's
        """
    )
)

# An odd result reported without saying it is wrong: "returns 0 rows", "shows nothing".
# Answers describe results in the same words ("get returns nil for a missing key"), so
# this is weaker than a failure and needs another signal.
_ODD_RESULT_PHRASES: Final = tuple(
    f"{verb} {result}"
    for verb in sorted(
        _words(
            """
            returns returned returning gives gave giving shows showed showing prints printed
            printing outputs get gets getting got comes came
            """
        )
    )
    for result in sorted(_words("nothing nil null none undefined empty zero 0 no blank garbage"))
) + _phrases("even though, even after")  # "is empty even though X is set"

# Feature requests: a wish addressed to the project ("it would be great if the CLI
# could ...", "feature request: ...", "please add ...").
_WISH_PHRASES: Final = _phrases(
    """
    feature request, request a feature, feature suggestion, feature idea, would be nice
    if, would be great if, would be cool if, would be awesome if, would be helpful if,
    would be useful if, would be nice to have, would be great to have, would be useful
    to have, would be helpful to have, would love to see, please add, please consider
    adding, please support, could you add, can you add, could you please add, can we get,
    could we get, consider adding, would love a way, would love a, would love an, would
    love it if, would be really useful, would be really nice, would be really great, would
    be really helpful, really useful if, pls add, plz add, would be handy, it'd be nice,
    it'd be great, be nice to have
    """
)

# HTTP error statuses count as a failure next to a word that reports a result.
_HTTP_ERRORS: Final = _words(
    "400 401 403 404 405 408 409 413 422 429 500 502 503 504 404s 500s 502s 503s 5xx 4xx"
)
_STATUS_BEFORE: Final = _words(
    "a an get gets getting got return returns returned returning throw throws throwing with "
    "receive receiving received giving gives seeing see saw of"
)
_STATUS_AFTER: Final = _words("error errors response responses status")
# "isn't picking up", "stopped blocking": a thing that stopped doing its job.
_STALLS: Final = _words("isn't aren't wasn't weren't stopped stops")
_NOT_STALLED: Final = _words(
    """
    asking being caring doing expecting going hoping joking kidding looking planning
    saying seeing suggesting talking thinking trying using
    """
)
# "X can't reach Y": inability, except in chatter ("can't wait", "can't believe").
_INABLE: Final = ("can't", "couldn't")
_INABLE_WORDS: Final = frozenset(_INABLE)
_INABLE_SUBJECTS: Final = _words("i we still just also now and but so , |") | {""}
_NOT_INABILITY: Final = _words(
    """
    afford agree be believe complain decide even help imagine keep remember say sleep
    stand tell thank wait
    """
)
# "I expected X but got Y", "the docs say X but ...": an expectation then "but".
_EXPECTATION: Final = _words("expected expecting supposed")
_SOURCES_SAY: Final = frozenset(
    (doc, verb) for doc in ("docs", "documentation", "readme") for verb in ("say", "says")
)
_EXPECTATION_CUES: Final = _EXPECTATION | {"say", "says"}
# Every word without which none of the order-dependent failure checks can fire.
_ORDERED_TRIGGERS: Final = _HTTP_ERRORS | _EXPECTATION_CUES | _INABLE_WORDS | _STALLS

# Phrase kinds, used as indexes into ``_Scan.found``.
(
    _HELP,
    _WEAK_HELP,
    _FAILURE,
    _ANNOUNCE,
    _RHETORICAL,
    _RESOLVED,
    _HELPER_Q,
    _REGRESSION,
    _ODD_RESULT,
    _WISH,
) = range(10)
_KINDS: Final = 10

# (the whole phrase padded with spaces, or "" for a two-word phrase; kind; phrase)
_Entry = tuple[str, int, str]


def _build_index(
    *groups: tuple[str, ...],
) -> tuple[dict[str, tuple[int, str]], dict[tuple[str, str], tuple[_Entry, ...]]]:
    """Index one-word phrases by their word and longer ones by their first two words.

    The keys are plain tuples, so the bigrams of a message (``pairwise(tokens)``)
    can be intersected with the index in C without building any strings.
    """
    single: dict[str, tuple[int, str]] = {}
    grouped: dict[tuple[str, str], list[_Entry]] = {}
    for kind, phrases in enumerate(groups):
        for phrase in phrases:
            words = phrase.split()
            if len(words) == 1:
                single.setdefault(words[0], (kind, phrase))
            else:
                padded = f" {phrase} " if len(words) > 2 else ""
                grouped.setdefault((words[0], words[1]), []).append((padded, kind, phrase))
    pairs = {k: tuple(sorted(v, key=lambda e: -len(e[0]))) for k, v in grouped.items()}
    return single, pairs


_SINGLE_INDEX, _PAIR_INDEX = _build_index(
    _HELP_PHRASES + _THIRD_PARTY_ASKS,
    _WEAK_HELP_PHRASES,
    _FAILURE_PHRASES + _SYMPTOM_PHRASES,
    _ANNOUNCE_PHRASES,
    _RHETORICAL_PHRASES,
    _RESOLVED_PHRASES,
    _HELPER_Q_PHRASES,
    _REGRESSION_PHRASES,
    _ODD_RESULT_PHRASES,
    _WISH_PHRASES,
)
_SINGLE_KEYS: Final = frozenset(_SINGLE_INDEX)
_PAIR_KEYS: Final = frozenset(_PAIR_INDEX)
_NON_WORDS: Final = frozenset((_BOUNDARY, _COMMA, _LINK, _CODE))
_PLEASANT_OR_NON_WORD: Final = _PLEASANTRY | _NON_WORDS
_BUMP_OR_PLEASANT: Final = _BUMP_WORDS | _PLEASANT_OR_NON_WORD


# ------------------------------------------------------------------------ scan
@dataclass(slots=True)
class _Normalised:
    """The prose of a message without markup, plus the facts that removal dropped."""

    prose: str
    had_code: bool
    had_link: bool
    had_quote_q: bool
    had_emoji: bool
    addressed: bool
    error: str | None


@dataclass(slots=True)
class _Scan:
    """What one pass over the tokens found."""

    found: list[str | None]
    opener: tuple[str, bool] | None
    n_words: int
    first: str
    # The last word when it can end a tag question ("..., right?"), or "".
    tag: str
    first_person: bool
    second_person: bool
    all_pleasantry: bool
    # A reply marker opening the message ("true", "right", "I mean"), or "".
    reply_marker: str
    bump: bool


def _normalise(text: str) -> _Normalised:
    """Strip platform markup, keeping code, links, quotes and errors as facts."""
    if len(text) > _HEAD + _TAIL:
        text = text[:_HEAD] + "\n" + text[-_TAIL:]
    if not text.isascii():
        text = _ZERO_WIDTH.sub("", text)
        # Other scripts' question marks ("؟", "？") count like "?".
        for mark in _QUESTION_MARKS:
            if mark in text:
                text = text.replace(mark, "?")
    if "&" in text:
        text = text.replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")

    error = _find_error(text)

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
        if ">>>" in text:
            block = _QUOTE_BLOCK.search(text)
            if block:
                had_quote_q = "?" in block.group(0)
                text = text[: block.start()]
        quoted = _QUOTE_LINE.findall(text)
        if quoted:
            had_quote_q = had_quote_q or any("?" in q for q in quoted)
            text = _QUOTE_LINE.sub(" ", text)

    addressed = text[:8].lstrip().startswith(("<@", "@"))
    had_link = had_emoji = False
    if "<" in text:
        had_emoji = "<:" in text or "<a:" in text
        text = _ANGLE_REF.sub(" ", text)
        text, n = _ANGLE_LINK.subn(f" {_LINK} ", text)
        had_link = n > 0
    if "://" in text or "www." in text:
        text, n = _RAW_URL.subn(f" {_LINK} ", text)
        had_link = had_link or n > 0
    if "/" in text and "?" in text:
        text, n = _BARE_URL.subn(f" {_LINK} ", text)
        had_link = had_link or n > 0
    if ":" in text:
        text, n = _EMOJI_CODE.subn(" ", text)
        had_emoji = had_emoji or n > 0
    if "@" in text:
        text = _AT_NAME.sub(" ", text)
    head = text[:40]
    m = _ADDRESS.match(text) if ":" in head or "," in head else None
    if m:
        word = m.group(0).strip()[:-1].lstrip("@").lower()
        # "TypeError: ...", "Note: ..." and "dpkg: error: ..." label a line; they do
        # not address anyone.
        rest = text[m.end() : m.end() + 8].lower()
        if (
            word not in _NOT_NICKS
            and not word.endswith(_LABEL_SUFFIXES)
            and not rest.startswith((*_LABEL_SUFFIXES, "fatal", "warn", "e:"))
        ):
            addressed = True
            text = text[m.end() :]
    return _Normalised(text.strip(), had_code, had_link, had_quote_q, had_emoji, addressed, error)


def _opener_at(tokens: list[str], i: int, first: bool) -> tuple[str, bool] | None:
    """The question opener starting at ``tokens[i]``, and whether it is strong.

    ``first`` says that ``tokens[i]`` starts the message (after filler words).
    """
    n = len(tokens)
    tok = tokens[i]
    nxt = tokens[i + 1] if i + 1 < n else ""
    if tok in _REQUEST_LEADS and nxt in _REQUEST_LEADS[tok]:
        return f"{tok} {nxt}", True  # "(I'm) trying to ...", "(I'm) looking for ..."
    if first and tok == "i" and nxt in _NEEDS and i + 2 < n and tokens[i + 2] == "to":
        # "I need to connect to a server with ...": a need that opens the message
        # states the request; later in a message it is usually narration.
        return f"i {nxt} to", False
    if tok in _WH_WORDS:
        if tok in _SUBORDINATORS and nxt in _SUBJECTS:
            return None  # "when I run it, ..." is a clause, not a question
        if (
            nxt in _WH_NEXT
            or (tok, nxt) in _WH_VERB_PAIRS
            or (tok in _WH_CONTRACTED and nxt in _WH_CONTRACTED_NEXT)
        ):
            return f"{tok} {nxt}", True  # "how do", "how come", "what happens"
        if nxt in _EXCLAMATIVE_NEXT:
            return None
        third = tokens[i + 2] if i + 2 < n else ""
        if tok in _WH_DETERMINERS and nxt not in _SUBJECTS and third in _AUXILIARIES:
            return f"{tok} {nxt} {third}", True  # "which file do", "how long does"
        return tok, False
    if tok in _AUXILIARIES:
        if nxt in _SUBJECTS and not (tok in _HAVE and nxt in _DETERMINERS):
            return f"{tok} {nxt}", True
        # "is firestarter a front end for iptables", "does ubuntu have a registry":
        # only questions put these auxiliaries before a noun. Adverbs, participles
        # and adjectives after them mark a fragment ("is only available from ...").
        if (
            first
            and tok in _NOUN_AUXILIARIES
            and n - i >= 4
            and nxt not in _NOT_NOUNS
            and (
                # A hyphenated compound is a noun ("is self-hosting supported").
                (nxt.isalpha() and not nxt.endswith(_NOT_NOUN_SUFFIXES))
                or ("-" in nxt and nxt.replace("-", "").isalpha())
            )
        ):
            return f"{tok} {nxt}", True
        return tok, False
    if tok in _OTHER_OPENERS:
        return tok, False
    return None


def _find_opener(tokens: list[str]) -> tuple[str, bool] | None:
    """Find the first question opener of the message or of a sentence, after filler.

    After a comma only a strong (interrogative) opener counts, as in "Thanks, how
    do I ...". Returns the opener's words and whether it is strong.
    """
    n = len(tokens)
    i = 0
    after_comma = False
    seen_word = False
    weak: tuple[str, bool] | None = None
    while i < n:
        while i < n and (
            tokens[i] in _LEAD_FILLERS
            or (tokens[i] in _PREPOSITIONS and i + 1 < n and tokens[i + 1] in _WH_WORDS)
        ):
            i += 1
        if i < n:
            found = _opener_at(tokens, i, not seen_word)
            seen_word = seen_word or tokens[i] not in _NON_WORDS
            # After a comma "which"/"who"/"where" start relative clauses (", which is").
            if found is not None and after_comma and tokens[i] in _RELATIVES:
                found = None
            if found is not None:
                if found[1]:
                    return found
                if weak is None and not after_comma:
                    weak = found
        while i < n and tokens[i] != _BOUNDARY and tokens[i] != _COMMA:
            i += 1
        after_comma = i < n and tokens[i] == _COMMA
        i += 1
    return weak


def _status_error(tokens: list[str], words: frozenset[str]) -> str | None:
    """An HTTP error status reported as a result: "getting a 403", "500 error"."""
    if _HTTP_ERRORS.isdisjoint(words):
        return None
    for i, tok in enumerate(tokens):
        if tok not in _HTTP_ERRORS:
            continue
        before = tokens[i - 1] if i else ""
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if before in _STATUS_BEFORE:
            return f"{before} {tok}"
        if after in _STATUS_AFTER:
            return f"{tok} {after}"
        if tok.endswith("s"):
            return tok  # "the whole app 500s", "502s here too"
    return None


def _inability(tokens: list[str], words: frozenset[str]) -> str | None:
    """The writer, or something of theirs, cannot do something: "I can't change X".

    The subject must be "I" or "we", left out ("can't change the resolution"), or
    the writer's own thing ("our CI can't reach X"). "It can't ..." and "you
    can't ..." explain limits to others, and "can't wait" is chatter.
    """
    if _INABLE_WORDS.isdisjoint(words):
        return None
    for neg in _INABLE:
        if neg not in words:
            continue
        i = tokens.index(neg)
        before = tokens[i - 1] if i else ""
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if not after.isalpha() or after in _NOT_INABILITY:
            continue
        if before in _INABLE_SUBJECTS or "my" in words or "our" in words:
            return f"{neg} {after}"
    return None


def _stalled(tokens: list[str], words: frozenset[str]) -> str | None:
    """An action that is not happening: "isn't picking up", "stopped blocking".

    Any "-ing" verb counts after these, except the ones that talk about people
    ("aren't trying", "stopped using") rather than about a thing that misbehaves.
    """
    if _STALLS.isdisjoint(words):
        return None
    for i, tok in enumerate(tokens[:-1]):
        if tok in _STALLS:
            nxt = tokens[i + 1]
            if len(nxt) > 5 and nxt.endswith("ing") and nxt not in _NOT_STALLED:
                return f"{tok} {nxt}"
    return None


def _unmet_expectation(tokens: list[str], words: frozenset[str]) -> str | None:
    """What was expected, then "but": "the docs say X but the API returns Y"."""
    if "but" not in words or _EXPECTATION_CUES.isdisjoint(words):
        return None
    but = len(tokens) - 1 - tokens[::-1].index("but")
    for i, tok in enumerate(tokens[:but]):
        if tok in _EXPECTATION:
            return f"{tok} ... but"
        if (tok, tokens[i + 1]) in _SOURCES_SAY:
            return f"{tok} {tokens[i + 1]} ... but"
    return None


def _scan(tokens: list[str]) -> _Scan:
    """Collect every token-level signal, mostly with set operations that run in C.

    Phrases are found by intersecting the message's words and bigrams with the
    phrase index; phrases of three or more words are then confirmed by a
    substring test. Sorting the hits keeps the reported phrase deterministic.
    Signals that need word order (an HTTP status, "expected ... but", "I can't
    X", "isn't X-ing") are looked for only when no failure phrase was found.
    """
    found: list[str | None] = [None] * _KINDS
    words = frozenset(tokens)
    # Longer phrases first, so the reason names "keeps failing" rather than "failing".
    hits = _PAIR_KEYS.intersection(pairwise(tokens))
    if hits:
        joined = ""
        for key in sorted(hits) if len(hits) > 1 else hits:
            for padded, kind, phrase in _PAIR_INDEX[key]:
                if found[kind] is not None:
                    continue
                if not padded:
                    found[kind] = phrase
                    continue
                if not joined:
                    joined = f" {' '.join(tokens)} "
                if padded in joined:
                    found[kind] = phrase
    singles = _SINGLE_KEYS.intersection(words)
    for tok in sorted(singles) if len(singles) > 1 else singles:
        kind, phrase = _SINGLE_INDEX[tok]
        if found[kind] is None:
            found[kind] = phrase
    # One set test keeps the four order-dependent checks off most messages.
    if found[_FAILURE] is None and not _ORDERED_TRIGGERS.isdisjoint(words):
        found[_FAILURE] = (
            _status_error(tokens, words)
            or _unmet_expectation(tokens, words)
            or _inability(tokens, words)
            or _stalled(tokens, words)
        )
    n_words = len(tokens) - tokens.count(_BOUNDARY) - tokens.count(_COMMA)
    if _LINK in words or _CODE in words:
        n_words -= tokens.count(_LINK) + tokens.count(_CODE)
    first = tag = reply_marker = ""
    if n_words:
        for tok in tokens:
            if tok not in _NON_WORDS:
                first = tok
                break
        for tok in reversed(tokens):
            if tok not in _NON_WORDS:
                last = tok
                break
        if first in _REPLY_MARKERS:
            reply_marker = first
        elif first == "i":
            i = tokens.index("i")
            if tokens[i + 1 : i + 2] == ["mean"]:
                reply_marker = "i mean"
        if last in _TAG_QUESTIONS:
            # "is that correct?" asks a real question; "..., correct?" is a tag.
            i = len(tokens) - 1 - tokens[::-1].index(last)
            if not i or tokens[i - 1] not in _PREDICATE_BEFORE:
                tag = last
    return _Scan(
        found,
        _find_opener(tokens),
        n_words,
        first,
        tag,
        not _FIRST_PERSON.isdisjoint(words),
        not _SECOND_PERSON.isdisjoint(words),
        0 < n_words <= 8 and _PLEASANT_OR_NON_WORD.issuperset(words),
        reply_marker,
        0 < n_words <= 3 and _BUMP_OR_PLEASANT.issuperset(words),
    )


# ----------------------------------------------------------------------- score
def _skip_reason(norm: _Normalised, scan: _Scan) -> str | None:
    """Say why a post is no request at all, in either mode (``None`` if it may be)."""
    if norm.had_code or norm.error:
        return None
    if scan.n_words == 0:
        if norm.had_link:
            return "link only"
        if norm.had_quote_q:
            return "'?' only in quoted text"
        if not norm.prose:
            return "emoji only" if norm.had_emoji else "empty"
        if _EMOJI_ONLY.match(norm.prose):
            return "emoji only"
        return None
    if scan.all_pleasantry:
        return "pleasantry"
    return None


def _ends_with_question_mark(prose: str) -> bool:
    """Tell whether the prose ends with '?', ignoring trailing emoticons and dots."""
    if prose.endswith("?"):
        return True
    # Only the tail can hold trailing emoticons: keep the regex off long texts.
    return _TRAILING_NOISE.sub("", prose[-16:]).endswith("?")


def _asks_you(opener: tuple[str, bool] | None) -> bool:
    """Tell whether the opener asks the reader about themselves ("are you ...").

    "Can you ..." and "could you ..." ask the reader to do something, which is a
    request, so they do not count.
    """
    if opener is None:
        return False
    words = opener[0].split()
    return len(words) == 2 and words[0] in _ABOUT_YOU and words[1] in _SECOND_PERSON


def _smiles(text: str) -> bool:
    """Tell whether the raw text ends with a smiling emoticon or emoji.

    Only the end is read: a joke closes with its smiley ("then it won't refresh :)"),
    and reading a fixed tail keeps the regex cheap on long messages.
    """
    tail = text[-_SMILEY_TAIL:]
    if tail.isascii() and not any(gate in tail for gate in _SMILEY_GATE):
        return False
    return _SMILEY.search(tail) is not None


def _is_aside(prose: str) -> bool:
    """Tell whether the whole message is one parenthesised remark ("(can't share it)")."""
    return prose[:1] == "(" and prose[-1:] == ")" and prose.count("(") == 1


def _score(text: str, norm: _Normalised, scan: _Scan) -> tuple[float, tuple[str, ...]]:
    """Add up the weighted signals of a message into a score and its reasons."""
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
    if not help_phrase and scan.first in _HELP_WORDS:
        help_phrase = scan.first
    musing = found[_RHETORICAL]
    if help_phrase and musing and musing.startswith("wonder") and "wonder" in help_phrase:
        help_phrase = None  # "I wonder if they'll ever ..." muses; it asks nobody
    elif help_phrase and musing and help_phrase in musing:
        help_phrase = None  # "does anyone really ...", "why would anyone ...": debate
    if help_phrase:
        z += _W_HELP
        reasons.append(f"help phrase '{help_phrase}'")
    elif found[_WEAK_HELP]:
        z += _W_WEAK_HELP
        reasons.append(f"help phrase '{found[_WEAK_HELP]}'")
    if scan.opener:
        words, strong = scan.opener
        weight = _W_OPENER if strong else _W_WEAK_OPENER
        z += weight * _OPENER_WITH_Q if has_q else weight
        reasons.append(f"question opener '{words}'")
    failure = found[_FAILURE]
    if failure:
        z += _W_FAILURE
        reasons.append(f"failure report '{failure.replace(_CODE, '`…`')}'")
    if norm.error:
        z += _W_ERROR
        reasons.append(f"error output '{norm.error}'")
    elif norm.had_code:
        reasons.append("code block")
    odd_result = None if failure else found[_ODD_RESULT]
    if odd_result:
        z += _W_ODD_RESULT
        reasons.append(f"odd result '{odd_result}'")
    regression = found[_REGRESSION]
    if regression:
        z += _W_REGRESSION
        reasons.append(f"regression '{regression}'")
        if scan.first_person and not (failure or norm.error) and regression not in _NOW:
            # "since we upgraded, our queries are now 2s": the writer's own setup got
            # worse, which is a report even without a failure word.
            z += _W_OWN_REGRESSION
            reasons.append("first-person regression")
    wish = found[_WISH]
    if wish:
        z += _W_WISH
        reasons.append(f"feature request '{wish}'")
    problem = bool(failure or norm.error or odd_result)
    if (failure or norm.error) and scan.first_person:
        z += _W_FIRST_PERSON_PROBLEM
        reasons.append("first-person problem")

    # Negative cues.
    strong_request = bool(help_phrase or failure or norm.error or wish)
    if scan.bump and not norm.had_code and not norm.error:
        z += _W_TOO_SHORT
        reasons.append("bump without a request")
    elif scan.n_words <= 2 and not strong_request and not norm.had_code:
        z += _W_TOO_SHORT
        reasons.append("too short")
    if norm.addressed:
        z += _W_ADDRESSED
        reasons.append("addressed to someone")
    if found[_RESOLVED]:
        z += _W_RESOLVED
        reasons.append(f"resolved '{found[_RESOLVED]}'")
    if found[_ANNOUNCE] and not (has_q or help_phrase):
        z += _W_ANNOUNCE
        reasons.append(f"announcement '{found[_ANNOUNCE]}'")
    if musing and not help_phrase:
        z += _W_RHETORICAL
        reasons.append(f"rhetorical '{musing}'")
    if scan.first == "or":
        # "or the dirs?", "or does it not matter": an alternative added to the
        # writer's own earlier message, not a new request.
        z += _W_CONTINUES
        reasons.append("continues an earlier message ('or')")
    if scan.reply_marker and not (help_phrase or has_q):
        z += _W_REPLY_MARKER
        reasons.append(f"replies to a message ('{scan.reply_marker}')")
    elif not help_phrase and (
        scan.first in _ANSWER_OPENERS_STRONG
        or (
            scan.first in _ANSWER_OPENERS_WEAK
            and not (problem or regression or (ends_q and scan.opener and scan.opener[1]))
        )
    ):
        z += _W_ANSWER
        reasons.append(f"reads like an answer ('{scan.first}')")
    elif found[_HELPER_Q] and not help_phrase and (has_q or _asks_you(scan.opener)):
        z += _W_ASKS_HELPER
        reasons.append(f"asks the other person '{found[_HELPER_Q]}'")
    elif (
        (failure or odd_result)
        and not norm.error
        and scan.second_person
        and not (scan.first_person or has_q or help_phrase or wish)
        and not (scan.opener and scan.opener[1])
    ):
        # "it won't fire if your rule filters it out": a problem explained to the
        # reader; the person with the problem says "I", "my" or "we".
        z += _W_EXPLAINS
        reasons.append("explains to the reader ('you')")
    if not (help_phrase or has_q):
        if (failure or norm.error) and _smiles(text):
            z += _W_JOKE
            reasons.append("joking (smiley)")
        if norm.prose[:1] == "(" and _is_aside(norm.prose):
            z += _W_ASIDE
            reasons.append("aside in parentheses")
    if scan.tag and not help_phrase and scan.n_words > 2:
        if ends_q and scan.tag != "though":
            z += _W_TAG_Q
            reasons.append(f"tag question '{scan.tag}?'")
        elif scan.tag == "though" and (has_q or scan.opener) and not problem:
            # "do we really need another format though?": a question that argues.
            z += _W_TAG_Q
            reasons.append("argues ('... though')")

    if not reasons:
        reasons.append("no question signal")
    return 1.0 / (1.0 + math.exp(-z)), tuple(reasons)


# ------------------------------------------------------------------------- API
def detect_question(
    text: str,
    *,
    mode: Mode = "questions",
    from_bot: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
) -> Detection:
    """Score how likely ``text`` is a community request that expects an answer.

    Args:
        text: Raw message text as received from Slack or Discord, markup included.
        mode: ``"questions"`` scores the message against ``threshold``.
            ``"every-post"`` (for support channels) accepts every post that is not
            empty, link-only, emoji-only or a pure pleasantry, and ignores
            ``threshold``; accepted posts score at least 0.8.
        from_bot: Posts by bots are never questions (score 0.0, reason "bot post"),
            whatever the threshold.
        threshold: Score at or above which a message counts as a question in
            ``"questions"`` mode; must be in ``[0, 1]``.

    Returns:
        The verdict, its score in ``[0, 1]`` and the reasons behind it.

    Raises:
        ValueError: If ``threshold`` is outside ``[0, 1]`` (or NaN).

    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
    if from_bot:
        return Detection(False, 0.0, ("bot post",))
    norm = _normalise(text)
    scan = _scan(_tokenise(norm.prose))
    skip = _skip_reason(norm, scan)
    if mode == "every-post":
        if skip is not None:
            return Detection(False, _SKIP_SCORE, (skip,))
        score, reasons = _score(text, norm, scan)
        return Detection(True, max(score, _EVERY_POST_FLOOR), ("support channel post", *reasons))
    if skip is not None:
        return Detection(threshold <= _SKIP_SCORE, _SKIP_SCORE, (skip,))
    score, reasons = _score(text, norm, scan)
    return Detection(score >= threshold, score, reasons)
