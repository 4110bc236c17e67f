"""A PNG chart of the last days: questions per day (bars) and median time to first response.

Drawn with Pillow so the image needs no plotting stack; readable at chat-preview size.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 900, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 80, 60, 70
BAR = (76, 120, 168)
LINE = (228, 87, 86)
GRID = (225, 225, 225)
INK = (40, 40, 40)


@dataclass(frozen=True, slots=True)
class DayPoint:
    """One day of the chart."""

    day: date
    questions: int
    median_ttfr_minutes: float | None


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def render_chart(points: Sequence[DayPoint], title: str) -> bytes:
    """The chart as PNG bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    small, big = _font(13), _font(18)
    draw.text((LEFT, 18), title, fill=INK, font=big)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_q = max([p.questions for p in points] + [1])
    medians = [p.median_ttfr_minutes for p in points if p.median_ttfr_minutes is not None]
    top_m = max([*medians, 1.0])
    for i in range(5):
        y = TOP + plot_h * i / 4
        draw.line([(LEFT, y), (WIDTH - RIGHT, y)], fill=GRID)
        draw.text((8, y - 7), f"{top_q * (4 - i) / 4:.0f}", fill=BAR, font=small)
        draw.text((WIDTH - RIGHT + 8, y - 7), f"{top_m * (4 - i) / 4:.0f}m", fill=LINE, font=small)
    slot = plot_w / max(len(points), 1)
    line: list[tuple[float, float]] = []
    for i, point in enumerate(points):
        x0 = LEFT + i * slot + slot * 0.15
        x1 = LEFT + (i + 1) * slot - slot * 0.15
        height = plot_h * point.questions / top_q
        draw.rectangle([(x0, TOP + plot_h - height), (x1, TOP + plot_h)], fill=BAR)
        draw.text((x0, TOP + plot_h + 8), point.day.strftime("%d %b"), fill=INK, font=small)
        if point.median_ttfr_minutes is not None:
            y = TOP + plot_h - plot_h * point.median_ttfr_minutes / top_m
            line.append(((x0 + x1) / 2, y))
    if len(line) > 1:
        draw.line(line, fill=LINE, width=3)
    for x, y in line:
        draw.ellipse([(x - 4, y - 4), (x + 4, y + 4)], fill=LINE)
    legend_y = HEIGHT - 28
    draw.rectangle([(LEFT, legend_y), (LEFT + 14, legend_y + 14)], fill=BAR)
    draw.text((LEFT + 20, legend_y), "questions per day", fill=INK, font=small)
    draw.line([(LEFT + 200, legend_y + 7), (LEFT + 224, legend_y + 7)], fill=LINE, width=3)
    draw.text((LEFT + 230, legend_y), "median time to first response", fill=INK, font=small)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
