"""Recurring topics: the key phrases that come back across a period's questions.

A phrase counts once per question (ten messages from one person repeating a word are
one concern, not ten). Two-word phrases are preferred to single words when they recur,
because "api key" says more than "key".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise

_WORD = re.compile(r"[a-z][a-z0-9+#.\-]*[a-z0-9+#]|[a-z]")
_NOISE = re.compile(r"<[^>]*>|https?://\S+|`[^`]*`|:[a-z0-9_+\-]+:")

_STOPWORD_TEXT = """
since minutes hours today yesterday morning
a about above after again all also am an and any anyone anybody are aren't as at be
because been before being below between both but by can can't cannot could couldn't did
didn't do does doesn't doing don't down during each else ever every few for from get
gets getting got had has have having he her here hers him his how i i'd i'm i've if in
into is isn't it it's its just know let like make me might more most much must my need
no nor not now of off ok on once only or other our out over own please same see seems
she should so some someone something still such than thanks that that's the their them
then there these they this those through to too try trying under until up us use using
used very want was wasn't way we were what when where which while who why will with
without won't work works working would you your yes hi hello hey guys all help question
thing things issue problem anyone's does someone's getting one two new also really
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _words(text: str) -> list[str]:
    cleaned = _NOISE.sub(" ", text.lower())
    return [w for w in _WORD.findall(cleaned) if len(w) > 2 or w in {"ui", "ci", "db", "s3"}]


def key_phrases(texts: Iterable[str], top: int = 5, min_count: int = 2) -> list[tuple[str, int]]:
    """The most frequent phrases across `texts`, each counted once per text."""
    bigrams: Counter[str] = Counter()
    unigrams: Counter[str] = Counter()
    for text in texts:
        words = _words(text[:2000])
        content = [w for w in words if w not in STOPWORDS]
        # dict.fromkeys, not set: once per text, in first-seen order, so phrases tied on
        # count come out the same on every run (a set's order follows PYTHONHASHSEED).
        unigrams.update(list(dict.fromkeys(content)))
        bigrams.update(
            list(
                dict.fromkeys(
                    f"{a} {b}"
                    for a, b in pairwise(words)
                    if a not in STOPWORDS and b not in STOPWORDS
                )
            )
        )
    chosen: list[tuple[str, int]] = []
    covered: set[str] = set()
    for phrase, count in bigrams.most_common():
        if count < min_count or len(chosen) >= top:
            break
        chosen.append((phrase, count))
        covered.update(phrase.split())
    for word, count in unigrams.most_common():
        if count < min_count or len(chosen) >= top:
            break
        # A word already shown inside a phrase with the same count adds nothing.
        if word in covered and any(word in p and c >= count for p, c in chosen):
            continue
        chosen.append((word, count))
    chosen.sort(key=lambda item: (-item[1], item[0]))
    return chosen[:top]
