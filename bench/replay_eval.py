"""Replay the real shared data and score it against the ground truth the data gives.

Turns the Ubuntu IRC logs and the Clojurians Slack events into Slack workspace exports
(`bench/export_tools.py`), replays each through `frontline replay`'s pipeline, and
scores against the truth: which messages became questions (the labelled samples of
bench/DETECTION.md, with the "contains ?" rule beside it), answered vs unanswered
agreement, and the error of the time to first response. Also times each replay.

For IRC a start is answered when another nick replies to it or to one of the asker's own
lines the annotators linked to it (a repeat, a detail, "anyone?"): helpers reply to the
asker's latest line, and the corpus links the answer there (`irc_truth(follow_ups=True)`).
The figures against direct replies to the start alone are printed beside them.

    .venv/bin/python bench/replay_eval.py

Reads ../shared/data (or $FRONTLINE_SHARED_DATA); prints SKIP when it is absent.
"""

from __future__ import annotations

import asyncio
import csv
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_tools import (
    IRC_CHANNEL_ID,
    Truth,
    clojurians_source,
    clojurians_to_slack,
    clojurians_truth,
    irc_source,
    irc_to_slack,
    irc_truth,
    read_irc_log,
)

from bot.replay import ReplayOptions, ReplayResult, replay, result_line

LABELS = Path(__file__).resolve().parent / "detect_labels"
# The IRC logs stamp lines to the minute ("[17:04]"); Clojurians events carry exact times.
IRC_CLOCK = 60.0
SPLITS = ("holdout5",)  # the only sample no detector version was written on (v6)


@dataclass
class Scores:
    """One source's figures."""

    name: str
    messages: int
    seconds: float
    questions: int
    detect: tuple[int, int, int] = (0, 0, 0)  # tp, fp, fn of the pipeline on labels
    baseline: tuple[int, int, int] = (0, 0, 0)  # the same for "contains ?"
    agree: int = 0
    compared: int = 0
    ttfr_close: int = 0
    # The same on the export's stamps, before they are read at the data's resolution.
    ttfr_close_spread: int = 0
    ttfr_both: int = 0
    same_responder: int = 0
    # How the questions' first responses were recognised: reply, mention, name, ...
    kinds: dict[str, int] = field(default_factory=dict)
    # The same against a stricter reading of the truth (IRC: only direct replies to the
    # start count), or None when the source has only one.
    also: Scores | None = None


def _pr(tp: int, fp: int, fn: int) -> str:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return f"P={p:.3f} R={r:.3f} (tp={tp} fp={fp} fn={fn})"


def labelled(source: str, irc_ts: dict[str, str]) -> dict[str, int]:
    """The held-out labels of one source, keyed `channel:ts` as the export keys them."""
    out: dict[str, int] = {}
    for split in SPLITS:
        with (LABELS / f"{split}.csv").open() as fh:
            for row in csv.DictReader(fh):
                if row["source"] != source:
                    continue
                key = row["key"]
                if source == "irc":
                    ts = irc_ts.get(key)
                    if ts is None:
                        continue
                    key = f"{IRC_CHANNEL_ID}:{ts}"
                out[key] = int(row["label"])
    return out


def irc_keys(src: Path) -> dict[str, str]:
    """`split/file:line` -> the ts that line has in the export."""
    out: dict[str, str] = {}
    for split in ("dev", "test"):
        for path in sorted((src / split).glob("*.ascii.txt")):
            stem = f"{split}/{path.name.removesuffix('.ascii.txt')}"
            for line in read_irc_log(path):
                if line is not None:
                    out[f"{stem}:{line.index}"] = line.ts
    return out


def score(
    name: str,
    result: ReplayResult,
    asked: dict[str, dict[str, Any]],
    truth: list[Truth],
    labels: dict[str, int],
    texts: dict[str, str],
    clock: float = 0.0,
) -> Scores:
    """Compare a replay (`asked`: its `tracked` lines) with the truth and the labels."""
    s = Scores(name, result.messages, result.elapsed, len(result.questions))
    agreement(s, asked, truth, clock)
    tp = fp = fn = btp = bfp = bfn = 0
    for key, label in labels.items():
        predicted = key in asked
        tp += predicted and label == 1
        fp += predicted and label == 0
        fn += (not predicted) and label == 1
        mark = "?" in texts.get(key, "")
        btp += mark and label == 1
        bfp += mark and label == 0
        bfn += (not mark) and label == 1
    s.detect, s.baseline = (tp, fp, fn), (btp, bfp, bfn)
    return s


def agreement(
    s: Scores, asked: dict[str, dict[str, Any]], truth: list[Truth], clock: float = 0.0
) -> None:
    """Add answered-vs-unanswered and time-to-first-response figures against `truth`.

    `clock` is the resolution of the source's timestamps in seconds (0: exact). Both
    waits are read at that resolution before they are compared: the IRC logs stamp
    lines to the minute, and the export spreads a log's lines 1 ms apart by line
    index only to keep their order, so an answer stamped one minute after the truth's
    is 60 s away at the data's resolution, not 60.011 s.
    """
    for row in truth:
        if not row.is_conversation_start or row.answered is None or row.censored:
            continue
        line = asked.get(f"{row.channel}:{row.ts}")
        if line is None:
            continue  # not a question to the pipeline: scored by detection above
        ours = line["first_response_ts"] is not None or line["first_responder"] is not None
        s.compared += 1
        s.agree += ours == row.answered
        if ours and row.answered and row.first_response_ts and line["ttfr_seconds"] is not None:
            truth_wait = float(row.first_response_ts) - float(row.ts)
            our_wait = line["ttfr_seconds"]
            if clock:
                truth_wait = round(truth_wait / clock) * clock
                our_wait = round(our_wait / clock) * clock
            s.ttfr_both += 1
            s.ttfr_close += abs(our_wait - truth_wait) <= 60
            spread_wait = float(row.first_response_ts) - float(row.ts)
            s.ttfr_close_spread += abs(line["ttfr_seconds"] - spread_wait) <= 60
            s.same_responder += line["first_responder"] == row.first_responder


def tracked(result: ReplayResult) -> dict[str, dict[str, Any]]:
    """`channel:ts` -> results line of every message tracked as (part of) a question.

    Questions, and follow-ups: a post by an asker whose earlier question still waited,
    which carries that question on (its line holds that question's response).
    """
    lines = [result_line(q) for q in result.questions]
    lines += [line for line in result.not_questions if line["state"] == "follow_up"]
    return {f"{line['channel']}:{line['ts']}": line for line in lines}


def texts_of(result_lines: list[dict[str, Any]]) -> dict[str, str]:
    """`channel:ts` -> text, for the baseline rule."""
    return {f"{line['channel']}:{line['ts']}": line["text"] for line in result_lines}


async def run_source(name: str, src: Path, tmp: Path) -> Scores:
    """Convert, replay, score one source."""
    export = tmp / name
    if name == "irc":
        irc_to_slack(src, export)
        truth, keys = irc_truth(src, follow_ups=True), irc_keys(src)
    else:
        clojurians_to_slack(src, export)
        truth, keys = clojurians_truth(src), {}
    began = time.perf_counter()
    result = await replay(ReplayOptions(export, all_messages=True, progress=False))
    elapsed = time.perf_counter() - began
    lines = [result_line(q) for q in result.questions] + result.not_questions
    clock = IRC_CLOCK if name == "irc" else 0.0
    asked = tracked(result)
    s = score(name, result, asked, truth, labelled(name, keys), texts_of(lines), clock)
    s.seconds = elapsed
    s.kinds = dict(Counter(q.response_kind for q in result.questions if q.response_kind))
    if name == "irc":
        s.also = Scores(name, result.messages, elapsed, len(result.questions))
        agreement(s.also, asked, irc_truth(src), clock)
    return s


def report(scores: list[Scores]) -> None:
    """Print the figures."""
    for s in scores:
        print(
            f"== {s.name}: {s.messages:,} messages replayed in {s.seconds:.2f} s "
            f"({s.messages / s.seconds:,.0f}/s), {s.questions} questions"
        )
        print(f"  becomes a question (labelled held-out sample): pipeline {_pr(*s.detect)}")
        print(f"                                       baseline '?' {_pr(*s.baseline)}")
        if s.compared:
            print(
                f"  answered vs unanswered agreement: {s.agree / s.compared:.3f} "
                f"({s.agree} of {s.compared} conversation starts with a known fate)"
            )
        if s.ttfr_both:
            print(
                f"  first response within 60 s of the truth: {s.ttfr_close / s.ttfr_both:.3f} "
                f"({s.ttfr_close} of {s.ttfr_both}); same first responder: "
                f"{s.same_responder / s.ttfr_both:.3f}"
            )
            if s.ttfr_close_spread != s.ttfr_close:
                print(
                    "    (on the export's stamps, 1 ms apart per line within a minute: "
                    f"{s.ttfr_close_spread / s.ttfr_both:.3f}, "
                    f"{s.ttfr_close_spread} of {s.ttfr_both})"
                )
        if s.kinds:
            by_kind = ", ".join(f"{kind} {n}" for kind, n in sorted(s.kinds.items()))
            print(f"  first responses by how they were recognised: {by_kind}")
        if s.also is not None and s.also.compared and s.also.ttfr_both:
            a = s.also
            print(
                "  the same, counting only direct replies to the start as answers: "
                f"agreement {a.agree / a.compared:.3f} ({a.agree} of {a.compared}), "
                f"within 60 s {a.ttfr_close / a.ttfr_both:.3f} ({a.ttfr_close} of {a.ttfr_both})"
            )


def main() -> int:
    sources = [("irc", irc_source()), ("clojurians", clojurians_source())]
    if not all(src for _, src in sources):
        print("SKIP: ../shared/data (or $FRONTLINE_SHARED_DATA) is not here")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        scores = [asyncio.run(run_source(name, src, Path(tmp))) for name, src in sources if src]
    report(scores)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
