"""Evaluate the question detector against hand labels on real community chat.

The labels in ``bench/detect_labels/`` hold only *references* (source, key, label),
never message text: the Clojurians Slack export may not be republished, so the text
is re-read from the shared data directory at run time. The made-up product-community
posts in ``bench/detect_synthetic/`` are ours and carry their text and label.

Usage::

    .venv/bin/python bench/detect_eval.py [--split dev|test|holdout|...|holdout5|
        train_irc|synthetic_a|...|synthetic_f|all] [--show-errors]
    .venv/bin/python bench/detect_eval.py --draw-sample   # re-derive the sampled keys

How the samples were drawn and labelled, and what the figures mean, is in
``bench/DETECTION.md``. Precision and recall are printed with 95% Wilson intervals.

The shared data is looked up in ``$FRONTLINE_SHARED_DATA`` or ``../shared/data``
relative to the project root. When it is absent the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LABEL_DIR = Path(__file__).resolve().parent / "detect_labels"
# Label files. "holdout" was drawn and labelled after the first run on "test",
# "holdout2" before the first run of v3 on it, and "holdout3" before the first run of
# v4 on it, "holdout4" before the first run of v5 on it and "holdout5" before the first
# run of v6 on it (see bench/DETECTION.md); "all" means every label file.
SPLITS = ("dev", "test", "holdout", "holdout2", "holdout3", "holdout4", "holdout5")
# Labelled samples never run yet, kept blind for the next detector version: none now.
# A new one stays out of SPLITS (and --split) until a frozen new version is reported.
BLIND: tuple[str, ...] = ()
# More labelled IRC lines (drawn after holdout4, labelled blind, read while v5 was
# written) and made-up product-community posts written with their labels: hard cases
# (part a read while v5 was written, part b held out for v5) and an ordinary mix (parts
# c and d held out for v5, then read for v6; parts e and f held out for v6). See
# DETECTION.md.
EXTRA = ("train_irc", *(f"synthetic_{part}" for part in "abcdef"))
SYNTHETIC_DIR = Path(__file__).resolve().parent / "detect_synthetic"
TRAIN_IRC_SEED = 20261201
IRC_DIRS = ("dev", "test")  # the IRC corpus's own folders, unrelated to SPLITS
SEED = 20240611
# holdout2 and holdout3 are each drawn with their own seed from the keys no earlier
# sample took (holdout3: for the detector after v3, see bench/DETECTION.md).
HOLDOUT2_SEED = 20250402
HOLDOUT3_SEED = 20261125
# holdout4: drawn and labelled at stop 13, run once on v5; holdout5: drawn after
# train_irc at stop 14, run once on v6.
HOLDOUT4_SEED = 20261126
HOLDOUT5_SEED = 20261127

# Per source and per label split: a uniform random draw plus an enriched draw.
UNIFORM_PER_SPLIT = 100
ENRICHED_PER_SPLIT = 50

if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))


# --------------------------------------------------------------------------- data


def shared_data_dir() -> Path | None:
    """Return the shared data directory if it exists, else ``None``."""
    env = os.environ.get("FRONTLINE_SHARED_DATA")
    candidate = Path(env) if env else PROJECT_ROOT.parent / "shared" / "data"
    if (candidate / "clojurians-slack-demo").is_dir() and (
        candidate / "irc-disentanglement-ubuntu"
    ).is_dir():
        return candidate
    return None


def load_clojurians(data_dir: Path) -> dict[str, str]:
    """Top-level plain user messages keyed ``channel:ts``, in log order."""
    out: dict[str, str] = {}
    for path in sorted((data_dir / "clojurians-slack-demo" / "logs").glob("*.txt")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                event = json.loads(line)
                if event.get("type") != "message" or event.get("subtype"):
                    continue
                if "user" not in event:
                    continue
                thread_ts = event.get("thread_ts")
                if thread_ts and thread_ts != event.get("ts"):
                    continue
                out[f"{event['channel']}:{event['ts']}"] = event.get("text") or ""
    return out


_IRC_LINE = re.compile(r"^\[\d\d:\d\d\] <([^>]+)> ?(.*)$")
_IRC_JOIN = re.compile(r"^=== (\S+) ")
_IRC_RENAME = re.compile(r"is now known as (\S+)")
_WORDS = frozenset(
    [
        "i",
        "a",
        "an",
        "the",
        "for",
        "yes",
        "no",
        "ok",
        "so",
        "hi",
        "hello",
        "hey",
        "ubuntu",
        "linux",
        "guest",
        "user",
        "help",
        "is",
        "it",
        "and",
        "but",
    ]
)


@dataclass(frozen=True, slots=True)
class IrcLine:
    """One IRC message line with what is needed to decide if it opens a question."""

    key: str
    nick: str
    text: str
    addressed: bool


def load_irc(data_dir: Path) -> dict[str, IrcLine]:
    """All ``<nick> text`` lines keyed ``split/file:line`` (line index from 0).

    ``addressed`` is true when the first word names a nick present in the same log:
    on IRC that is how a reply is written, so such a line never opens a question.
    """
    out: dict[str, IrcLine] = {}
    root = data_dir / "irc-disentanglement-ubuntu"
    for split in IRC_DIRS:
        for path in sorted((root / split).glob("*.ascii.txt")):
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            nicks: set[str] = set()
            for raw in lines:
                if m := _IRC_LINE.match(raw):
                    nicks.add(m.group(1).lower())
                elif m := _IRC_JOIN.match(raw):
                    nicks.add(m.group(1).lower())
                    if r := _IRC_RENAME.search(raw):
                        nicks.add(r.group(1).lower())
            stem = path.name.removesuffix(".ascii.txt")
            for idx, raw in enumerate(lines):
                m = _IRC_LINE.match(raw)
                if not m:
                    continue  # system lines (=== joins) and /me actions
                text = m.group(2)
                first = text.split(maxsplit=1)[0] if text.strip() else ""
                bare = first.rstrip(":,;>").lower()
                # A few nicks are also common words ("i", "ubuntu", "the"); without
                # punctuation after them those are sentences, not addressing.
                addressed = bare in nicks and (bare != first.lower() or bare not in _WORDS)
                key = f"{split}/{stem}:{idx}"
                out[key] = IrcLine(key, m.group(1), text, addressed)
    return out


@dataclass(frozen=True, slots=True)
class Example:
    """A labelled message with its text re-read from the shared data."""

    source: str
    key: str
    label: int
    stratum: str
    text: str


def load_label_rows(split: str) -> list[dict[str, str]]:
    """Read ``bench/detect_labels/<split>.csv`` (columns source,key,label,stratum)."""
    with (LABEL_DIR / f"{split}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_synthetic(part: str) -> list[Example]:
    """Made-up product-community posts, labelled as written (part ``a`` to ``f``).

    Text lives in the repository (``detect_synthetic/part_<part>.jsonl``); the
    community each post imitates is kept as the stratum.
    """
    out: list[Example] = []
    path = SYNTHETIC_DIR / f"part_{part}.jsonl"
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh):
            post = json.loads(line)
            key = f"{part}:{line_no}"
            out.append(
                Example("synthetic", key, int(post["label"]), post["community"], post["text"])
            )
    return out


def load_examples(split: str, data_dir: Path) -> list[Example]:
    """Labelled examples of a split (a name in SPLITS or EXTRA, or ``all``) with their text."""
    if split.startswith("synthetic_"):
        return load_synthetic(split.removeprefix("synthetic_"))
    clj = load_clojurians(data_dir)
    irc = load_irc(data_dir)
    splits = SPLITS if split == "all" else (split,)
    out: list[Example] = []
    for name in splits:
        for row in load_label_rows(name):
            source, key = row["source"], row["key"]
            text = clj[key] if source == "clojurians" else irc[key].text
            out.append(Example(source, key, int(row["label"]), row.get("stratum", ""), text))
    return out


# ----------------------------------------------------------------------- sampling

# Deliberately broader than any detector: it only raises the share of messages that
# *might* be requests so both classes are well represented in a few hundred labels.
_ENRICH = re.compile(
    r"\?|\b(how|why|what|where|when|which|who|anyone|anybody|someone|somebody|help|"
    r"error|exception|problem|issue|trying|is there|can i|does|doesn't|won't|can't|"
    r"fail\w*|wrong|stuck|any idea)\b",
    re.IGNORECASE,
)


# The export replaces edited or deleted messages with this placeholder: nothing to label.
_SCRUBBED = "[message text edited or deleted]"


def sampling_pools(data_dir: Path) -> tuple[dict[str, list[str]], dict[str, dict[str, str]]]:
    """Eligible keys per source and the text of every key.

    Eligible: non-empty top-level Clojurians messages that are not scrubbed, and
    IRC message lines that are not addressed to a nick.
    """
    clojurians = load_clojurians(data_dir)
    irc = load_irc(data_dir)
    pools: dict[str, list[str]] = {
        "clojurians": [k for k, t in clojurians.items() if t.strip() and t != _SCRUBBED],
        "irc": [k for k, line in irc.items() if not line.addressed and line.text.strip()],
    }
    texts: dict[str, dict[str, str]] = {
        "clojurians": clojurians,
        "irc": {k: v.text for k, v in irc.items()},
    }
    return pools, texts


def stratum_populations(
    data_dir: Path, exclude: frozenset[str] = frozenset()
) -> dict[tuple[str, str], int]:
    """Pool size of each holdout stratum: ``(source, "unmatched" | "enriched")``.

    ``exclude`` removes keys that earlier samples took (holdout2 was drawn from the
    rest, so its strata partition that smaller pool).
    """
    pools, texts = sampling_pools(data_dir)
    sizes: dict[tuple[str, str], int] = {}
    for source, all_keys in pools.items():
        keys = [k for k in all_keys if k not in exclude]
        matching = sum(1 for k in keys if _ENRICH.search(texts[source][k]))
        sizes[(source, "enriched")] = matching
        sizes[(source, "unmatched")] = len(keys) - matching
    return sizes


def draw_samples(data_dir: Path, seed: int = SEED) -> dict[str, list[tuple[str, str, str]]]:
    """Draw the disjoint samples (dev, test, the holdouts, train_irc) as ``(source, key, stratum)``.

    Per source: shuffle the eligible pool with a fixed seed; the first
    ``2 * UNIFORM_PER_SPLIT`` keys form the uniform stratum (alternately test, dev);
    then, from what remains, keys matching the broad ``_ENRICH`` pattern form the
    enriched stratum, again alternating. Test is filled first in each pair.
    The holdout split was added later from keys not drawn before: the first
    ``UNIFORM_PER_SPLIT`` keys after the uniform stratum that do not match
    ``_ENRICH`` ("unmatched") and the next ``ENRICHED_PER_SPLIT`` keys that do.
    holdout2 came later still, from every key none of these took, then holdout3 and
    holdout4, each from every key none of the earlier ones took (:func:`draw_later`),
    then ``train_irc`` (:func:`_draw_irc_training`), and holdout5 from every key none
    of those took.
    """
    rng = random.Random(seed)
    pools, texts = sampling_pools(data_dir)
    result: dict[str, list[tuple[str, str, str]]] = {"test": [], "dev": [], "holdout": []}
    for source in ("clojurians", "irc"):
        pool = sorted(pools[source])
        rng.shuffle(pool)
        n_uniform = 2 * UNIFORM_PER_SPLIT
        uniform = pool[:n_uniform]
        rest = [k for k in pool[n_uniform:] if _ENRICH.search(texts[source][k])]
        enriched = rest[: 2 * ENRICHED_PER_SPLIT]
        for stratum, keys in (("uniform", uniform), ("enriched", enriched)):
            for i, key in enumerate(keys):
                result["test" if i % 2 == 0 else "dev"].append((source, key, stratum))
        # Holdout, drawn later from the keys after the first 2 * UNIFORM_PER_SPLIT:
        # the first keys that do NOT match _ENRICH ("unmatched"), and the matching
        # keys right after those the enriched stratum took. Both strata partition
        # the pool, so the eval can reweight them to the natural distribution.
        after = pool[n_uniform:]
        matching = [k for k in after if _ENRICH.search(texts[source][k])]
        unmatched = [k for k in after if not _ENRICH.search(texts[source][k])]
        held_enriched = matching[
            2 * ENRICHED_PER_SPLIT : 2 * ENRICHED_PER_SPLIT + ENRICHED_PER_SPLIT
        ]
        result["holdout"] += [(source, k, "unmatched") for k in unmatched[:UNIFORM_PER_SPLIT]]
        result["holdout"] += [(source, k, "enriched") for k in held_enriched]
    earlier = {key for rows in result.values() for _, key, _ in rows}
    result["holdout2"] = draw_later(data_dir, earlier, HOLDOUT2_SEED)
    earlier |= {key for _, key, _ in result["holdout2"]}
    result["holdout3"] = draw_later(data_dir, earlier, HOLDOUT3_SEED)
    earlier |= {key for _, key, _ in result["holdout3"]}
    result["holdout4"] = draw_later(data_dir, earlier, HOLDOUT4_SEED)
    earlier |= {key for _, key, _ in result["holdout4"]}
    result["train_irc"] = _draw_irc_training(pools, texts, earlier)
    earlier |= {key for _, key, _ in result["train_irc"]}
    result["holdout5"] = draw_later(data_dir, earlier, HOLDOUT5_SEED)
    return result


def draw_later(data_dir: Path, earlier: set[str], seed: int) -> list[tuple[str, str, str]]:
    """Draw a later holdout: the holdout design, with its own seed, from keys not drawn before.

    Per source, the eligible keys minus ``earlier`` (every key of the earlier samples) are
    sorted and shuffled with ``seed``; the first ``UNIFORM_PER_SPLIT`` that do not
    match ``_ENRICH`` form the "unmatched" stratum and the first
    ``ENRICHED_PER_SPLIT`` that do form the "enriched" one.
    """
    rng = random.Random(seed)
    pools, texts = sampling_pools(data_dir)
    rows: list[tuple[str, str, str]] = []
    for source in ("clojurians", "irc"):
        pool = sorted(k for k in pools[source] if k not in earlier)
        rng.shuffle(pool)
        matching = [k for k in pool if _ENRICH.search(texts[source][k])]
        unmatched = [k for k in pool if not _ENRICH.search(texts[source][k])]
        rows += [(source, k, "unmatched") for k in unmatched[:UNIFORM_PER_SPLIT]]
        rows += [(source, k, "enriched") for k in matching[:ENRICHED_PER_SPLIT]]
    return rows


def _draw_irc_training(
    pools: dict[str, list[str]], texts: dict[str, dict[str, str]], taken: set[str]
) -> list[tuple[str, str, str]]:
    """The 400 extra IRC lines of ``train_irc.csv``, drawn after holdout4.

    From the eligible IRC lines not in ``taken`` (the six samples before it), sorted
    and shuffled with ``TRAIN_IRC_SEED``: the first 200 form the uniform stratum, and
    the first 200 later ones that match ``_ENRICH`` the enriched one. (The label file
    lists them in the shuffled order they were labelled in.)
    """
    pool = sorted(k for k in pools["irc"] if k not in taken)
    random.Random(TRAIN_IRC_SEED).shuffle(pool)
    uniform = pool[:200]
    enriched = [k for k in pool[200:] if _ENRICH.search(texts["irc"][k])][:200]
    return [("irc", k, "uniform") for k in uniform] + [("irc", k, "enriched") for k in enriched]


def earlier_keys(split: str) -> frozenset[str]:
    """Keys of the label files drawn before ``split`` (only the later holdouts have any)."""
    before = {
        "holdout2": ("dev", "test", "holdout"),
        "holdout3": ("dev", "test", "holdout", "holdout2"),
        "holdout4": ("dev", "test", "holdout", "holdout2", "holdout3"),
        "holdout5": ("dev", "test", "holdout", "holdout2", "holdout3", "holdout4", "train_irc"),
    }
    return frozenset(row["key"] for name in before.get(split, ()) for row in load_label_rows(name))


# ------------------------------------------------------------------- metrics


@dataclass(frozen=True, slots=True)
class Metrics:
    """Confusion counts with the derived precision, recall and F1."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        """Share of predicted questions that are labelled questions."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Share of labelled questions that were predicted."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def baseline_is_question(text: str) -> bool:
    """The rule to beat: a message is a question iff it contains '?'."""
    return "?" in text


def detector_is_question(text: str) -> bool:
    """The Frontline detector in its default ``questions`` mode."""
    from bot.detect import detect_question

    return detect_question(text).is_question


def evaluate(predict: Callable[[str], bool], examples: Iterable[Example]) -> Metrics:
    """Confusion counts of ``predict`` against the labels."""
    tp = fp = fn = tn = 0
    for ex in examples:
        guess = predict(ex.text)
        if guess and ex.label:
            tp += 1
        elif guess:
            fp += 1
        elif ex.label:
            fn += 1
        else:
            tn += 1
    return Metrics(tp, fp, fn, tn)


def evaluate_reweighted(
    predict: Callable[[str], bool],
    examples: Sequence[Example],
    populations: dict[tuple[str, str], int],
) -> tuple[float, float, float]:
    """Precision, recall and F1 with each stratum weighted up to its pool size.

    Only meaningful for a split whose strata partition the pool (the holdouts):
    the result estimates the figures on the natural mix of messages.
    """
    tp = fp = fn = 0.0
    counts: dict[tuple[str, str], int] = {}
    for ex in examples:
        counts[(ex.source, ex.stratum)] = counts.get((ex.source, ex.stratum), 0) + 1
    for ex in examples:
        weight = populations[(ex.source, ex.stratum)] / counts[(ex.source, ex.stratum)]
        guess = predict(ex.text)
        if guess and ex.label:
            tp += weight
        elif guess:
            fp += weight
        elif ex.label:
            fn += weight
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def throughput(
    predict: Callable[[str], object], texts: Sequence[str], min_seconds: float = 0.4
) -> float:
    """Messages per second for ``predict`` over ``texts`` (best of three timed runs)."""
    rounds = 1
    while True:  # size the run so timer resolution does not matter
        start = time.perf_counter()
        for _ in range(rounds):
            for t in texts:
                predict(t)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds / 3:
            break
        rounds *= 2
    best = elapsed
    for _ in range(2):
        start = time.perf_counter()
        for _ in range(rounds):
            for t in texts:
                predict(t)
        best = min(best, time.perf_counter() - start)
    return rounds * len(texts) / best


# ----------------------------------------------------------------------- CLI


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (``(0, 0)`` when ``total`` is 0)."""
    if total == 0:
        return 0.0, 0.0
    p = successes / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _fmt(name: str, m: Metrics) -> str:
    p_lo, p_hi = wilson(m.tp, m.tp + m.fp)
    r_lo, r_hi = wilson(m.tp, m.tp + m.fn)
    return (
        f"  {name:<9} P={m.precision:.3f} [{p_lo:.2f}-{p_hi:.2f}]  "
        f"R={m.recall:.3f} [{r_lo:.2f}-{r_hi:.2f}]  F1={m.f1:.3f}   "
        f"(tp={m.tp} fp={m.fp} fn={m.fn} tn={m.tn})"
    )


def _one_line(text: str, width: int = 150) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def report(
    split: str,
    examples: list[Example],
    show_errors: bool,
    populations: dict[tuple[str, str], int],
) -> None:
    from bot.detect import detect_question

    pos = sum(ex.label for ex in examples)
    print(f"\n== split: {split}  ({len(examples)} messages, {pos} labelled questions)")
    groups: list[tuple[str, list[Example]]] = [("all", examples)]
    for source in ("clojurians", "irc", "synthetic"):
        groups.append((source, [e for e in examples if e.source == source]))
    for stratum in dict.fromkeys(e.stratum for e in examples):
        groups.append((f"stratum {stratum}", [e for e in examples if e.stratum == stratum]))
    for name, group in groups:
        if not group:
            continue
        print(f" [{name}] n={len(group)} positives={sum(e.label for e in group)}")
        print(_fmt("detector", evaluate(detector_is_question, group)))
        print(_fmt("baseline", evaluate(baseline_is_question, group)))
    if {e.stratum for e in examples} == {"unmatched", "enriched"}:
        print(" [reweighted to the natural mix of messages; point estimates only]")
        for name, group in groups[:3]:
            for label, predict in (
                ("detector", detector_is_question),
                ("baseline", baseline_is_question),
            ):
                p, r, f = evaluate_reweighted(predict, group, populations)
                print(f"  {name:<10} {label:<9} P={p:.3f}  R={r:.3f}  F1={f:.3f}")
    if show_errors:
        print("\n misclassified (label -> detector, score, reasons):")
        for ex in examples:
            d = detect_question(ex.text)
            if d.is_question != bool(ex.label):
                kind = "FN" if ex.label else "FP"
                print(f"  {kind} {ex.source}:{ex.key} score={d.score:.2f} {list(d.reasons)}")
                print(f"      {_one_line(ex.text)}")


def speed(examples: list[Example]) -> None:
    from bot.detect import detect_question

    texts = [ex.text for ex in examples]
    lengths = sorted(len(t) for t in texts)
    median = lengths[len(lengths) // 2]
    groups = [
        (f"all {len(texts)} labelled messages (median {median} chars)", texts),
        ("messages up to 100 chars", [t for t in texts if len(t) <= 100]),
        ("messages over 100 chars", [t for t in texts if len(t) > 100]),
    ]
    print("\n== speed (single core, best of 3 timed runs)")
    for name, group in groups:
        if not group:
            continue
        det = throughput(detect_question, group)
        base = throughput(baseline_is_question, group)
        print(f" [{name}] n={len(group)}")
        print(f"  detector: {det:>12,.0f} msg/s  ({1e6 / det:.1f} µs/msg)")
        print(f"  baseline: {base:>12,.0f} msg/s  ('?' in text)")
        print(f"  ratio detector/baseline: {det / base:.4f}  (baseline {base / det:.0f}x faster)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=(*SPLITS, *EXTRA, "all"), default="all")
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument(
        "--draw-sample",
        action="store_true",
        help="print the (source,key,stratum,split) rows the fixed seed draws, then exit",
    )
    args = parser.parse_args(argv)
    data_dir = shared_data_dir()
    if data_dir is None:
        print(
            "SKIP: shared chat data not found (set FRONTLINE_SHARED_DATA or provide "
            f"{PROJECT_ROOT.parent / 'shared' / 'data'}); nothing to evaluate."
        )
        return 0
    if args.draw_sample:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["source", "key", "stratum", "split"])
        for split, rows in draw_samples(data_dir).items():
            for source, key, stratum in rows:
                writer.writerow([source, key, stratum, split])
        return 0
    splits = (*SPLITS, *EXTRA) if args.split == "all" else (args.split,)
    everything: list[Example] = []
    for split in splits:
        examples = load_examples(split, data_dir)
        everything.extend(examples)
        populations = stratum_populations(data_dir, earlier_keys(split))
        report(split, examples, args.show_errors, populations)
    speed(everything)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
