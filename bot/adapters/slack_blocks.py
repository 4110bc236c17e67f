"""Block Kit rendering of core posts, within Slack's limits, always with a plain-text fallback.

Slack refuses a message with more than 50 blocks or a section over 3,000 characters, so
long lists are packed several lines to a section and cut with "…and N more" (after 50
items at most: a longer list is a wall nobody reads, and each line costs a permalink
lookup). Text that
came from members is escaped (`&`, `<`, `>`), so a quoted message can never ping
`@channel` or forge a link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.model import MessageRef, Post, PostItem

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_FALLBACK = 3000
MAX_ITEMS = 50

Block = dict[str, Any]


def escape(text: str) -> str:
    """Text shown literally in mrkdwn: the three control characters Slack reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, MAX_SECTION)}]}


def _item_line(item: PostItem, links: Mapping[MessageRef, str]) -> str:
    line = f"• {escape(item.text)}"
    url = links.get(item.link) if item.link is not None else None
    return f"{line} <{url}|open>" if url else line


def _pack(lines: list[str], budget: int) -> tuple[list[Block], int]:
    """Lines grouped into at most `budget` sections; returns them and how many lines fit."""
    sections: list[Block] = []
    chunk: list[str] = []
    size = 0
    shown = 0
    for raw in lines:
        line = cut(raw, MAX_SECTION)
        if chunk and size + 1 + len(line) > MAX_SECTION:
            if len(sections) + 1 >= budget:
                break
            sections.append(_section("\n".join(chunk)))
            chunk, size = [], 0
        size += len(line) + (1 if chunk else 0)
        chunk.append(line)
        shown += 1
    if chunk:
        sections.append(_section("\n".join(chunk)))
    return sections, shown


def fallback_text(text: str) -> str:
    """The notification and screen-reader text of a message."""
    return cut(escape(text), MAX_FALLBACK) or " "


def render(post: Post, links: Mapping[MessageRef, str] | None = None) -> tuple[str, list[Block]]:
    """The fallback text and the blocks of `post`; `links` maps item refs to permalinks."""
    links = links or {}
    blocks: list[Block] = []
    if post.title:
        header = cut(" ".join(post.title.split()), MAX_HEADER)
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": header}})
    # Room for the "and N more" line and the footer, whatever the body turns out to be.
    budget = MAX_BLOCKS - len(blocks) - 1 - (1 if post.footer else 0)
    more = post.more
    if post.items:
        lines = [_item_line(item, links) for item in post.items[:MAX_ITEMS]]
        sections, shown = _pack(lines, budget)
        more += len(post.items) - shown
    else:
        body = post.text.splitlines()
        if post.title and body and body[0].strip() == post.title.strip():
            body = body[1:]  # the header already says it
        sections, shown = _pack([escape(line) for line in body], budget)
        if shown < len(body):
            sections[-1]["text"]["text"] = cut(sections[-1]["text"]["text"] + "\n…", MAX_SECTION)
    blocks += sections
    if more > 0:
        blocks.append(_context(f"…and {more} more"))
    if post.footer:
        blocks.append(_context(escape(post.footer)))
    return fallback_text(post.text), blocks
