"""Shared wording: how a question, an age and a period's figures read to a person."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime

from bot.core.model import PostItem, Question
from bot.metrics import EscalationFigures, Figures
from config.settings import Settings, format_duration

EXCERPT = 90


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """One line of a message, cut at `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def channel_label(settings: Settings, platform: str, channel: str) -> str:
    """`#name` for a configured channel, else its id."""
    config = settings.channel(platform, channel)
    return config.label() if config else channel


def question_item(question: Question, now: datetime, settings: Settings) -> PostItem:
    """A list line: where, who, how long it has waited, and what was asked."""
    where = channel_label(settings, question.ref.platform, question.watched_channel)
    age = format_duration(now - question.asked_at)
    who = question.asker_name or question.asker
    return PostItem(
        f"{where} · {who} · waiting {age} · “{excerpt(question.text, 70)}”", question.ref
    )


def percent(value: float | None) -> str:
    """`87%`, or `–` when there is nothing to divide."""
    return "–" if value is None else f"{value * 100:.0f}%"


def seconds(value: float | None) -> str:
    """A duration in seconds as 12m / 1h05m, or `–`."""
    return "–" if value is None else format_duration(value)


def _change_count(now: int, before: int | None) -> str:
    if before is None:
        return ""
    diff = now - before
    return " (same as before)" if diff == 0 else f" ({'+' if diff > 0 else '−'}{abs(diff)})"


def _change_share(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    points = round((now - before) * 100)
    return "" if points == 0 else f" ({'+' if points > 0 else '−'}{abs(points)} pts)"


def _change_time(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    diff = now - before
    if abs(diff) < 60:
        return ""
    return f" ({'slower by' if diff > 0 else 'faster by'} {format_duration(abs(diff))})"


def figure_lines(
    f: Figures,
    settings: Settings,
    platform: str | None = None,
    previous: Figures | None = None,
) -> list[str]:
    """The period's figures, one per line, with the change against `previous` if given."""
    p = previous
    lines = [
        f"Questions: {f.questions}{_change_count(f.questions, p.questions if p else None)}",
        f"Answered: {f.answered} ({percent(f.answered_share)})"
        f"{_change_share(f.answered_share, p.answered_share if p else None)} — "
        f"{f.by_community} by the community, {f.by_staff} by staff",
        f"Time to first response: median {seconds(f.ttfr_median)}"
        f"{_change_time(f.ttfr_median, p.ttfr_median if p else None)}, "
        f"p90 {seconds(f.ttfr_p90)} "
        f"(business time: median {seconds(f.business_median)}, p90 {seconds(f.business_p90)})",
        f"Within target: {f.met_target} of {f.decided} ({percent(f.attainment)})"
        f"{_change_share(f.attainment, p.attainment if p else None)}, "
        f"breaches: {f.breaches}{_change_count(f.breaches, p.breaches if p else None)}",
        f"Still waiting: {f.waiting}",
    ]
    if f.top_helpers:
        lines.append("Most helpful members: " + ", ".join(f"{u} ({n})" for u, n in f.top_helpers))
    if f.busiest_channels and platform:
        lines.append(
            "Busiest channels: "
            + ", ".join(
                f"{channel_label(settings, platform, c)} ({n})" for c, n in f.busiest_channels
            )
        )
    return lines


def escalation_line(e: EscalationFigures) -> str | None:
    """One line on the period's escalations, or None when there were none."""
    if not e.opened:
        return None
    return (
        f"Escalations: {e.opened} opened, {e.acknowledged} acknowledged "
        f"(median {seconds(e.ack_median)}), {e.resolved} resolved "
        f"(median {seconds(e.resolve_median)}), {e.still_open} still open"
    )


def figure_values(f: Figures) -> dict[str, float | int | None]:
    """The figures as plain numbers (seconds, shares 0..1), for json and csv."""
    return {
        "questions": f.questions,
        "answered": f.answered,
        "answered_share": f.answered_share,
        "answered_by_community": f.by_community,
        "answered_by_staff": f.by_staff,
        "ttfr_median_seconds": f.ttfr_median,
        "ttfr_p90_seconds": f.ttfr_p90,
        "ttfr_business_median_seconds": f.business_median,
        "ttfr_business_p90_seconds": f.business_p90,
        "within_target": f.met_target,
        "target_decided": f.decided,
        "target_attainment": f.attainment,
        "breaches": f.breaches,
        "still_waiting": f.waiting,
    }


def _shown(name: str, value: float | int | None) -> str:
    if value is None:
        return "–"
    if name.endswith("_seconds"):
        return format_duration(value)
    if name.endswith(("_share", "_attainment")):
        return percent(value)
    return str(value)


def render_figures(current: Figures, previous: Figures, fmt: str) -> str:
    """A period's figures beside the previous period's: table, markdown, json or csv."""
    now, before = figure_values(current), figure_values(previous)
    if fmt == "json":
        return json.dumps(
            {
                "start": current.start.isoformat(),
                "end": current.end.isoformat(),
                "figures": now,
                "previous": before,
                "top_helpers": dict(current.top_helpers),
                "busiest_channels": dict(current.busiest_channels),
            },
            indent=2,
        )
    rows = [
        (name.replace("_", " "), _shown(name, now[name]), _shown(name, before[name]))
        for name in now
    ]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["figure", "value", "previous"])
        writer.writerows((name, now[name], before[name]) for name in now)
        return out.getvalue().rstrip("\n")
    header = (
        f"{current.start:%Y-%m-%d %H:%M} to {current.end:%Y-%m-%d %H:%M} UTC",
        "value",
        "previous period",
    )
    if fmt == "markdown":
        lines = [f"| {' | '.join(header)} |", "|---|---:|---:|"]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = [f"{header[0]:<{widths[0]}}  {header[1]:>{widths[1]}}  {header[2]:>{widths[2]}}"]
    lines.append("  ".join("-" * w for w in widths))
    lines += [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
    return "\n".join(lines)


def waiting_items(
    questions: Sequence[Question], now: datetime, settings: Settings, limit: int = 10
) -> tuple[tuple[PostItem, ...], int]:
    """Up to `limit` list lines and how many more were left out."""
    shown = tuple(question_item(q, now, settings) for q in questions[:limit])
    return shown, max(0, len(questions) - limit)
