"""Block Kit rendering of core posts, within Slack's limits, always with a plain-text fallback.

Slack refuses a message with more than 50 blocks or a section over 3,000 characters, so
long lists are packed several lines to a section and cut with "…and N more" (after 50
items at most: a longer list is a wall nobody reads, and each line costs a permalink
lookup). Text that
came from members is escaped (`&`, `<`, `>`), so a quoted message can never ping
`@channel` or forge a link.

Labelled facts (`Post.fields`) become sections of at most 10 two-line fields, and
buttons (`Post.actions`) one `actions` block whose `action_id` and `value` come back
in Slack's `block_actions` payload when someone clicks. The modals Frontline opens
(choose an escalation destination, type a note) are built here too, within Slack's
limits for titles (24), options (75) and metadata (3,000 characters).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.model import MessageRef, Post, PostAction, PostItem

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_FALLBACK = 3000
MAX_ITEMS = 50
MAX_FIELDS = 10  # per section
MAX_FIELD = 2000
MAX_BUTTONS = 25
MAX_BUTTON_TEXT = 75
STYLES = frozenset({"primary", "danger"})
MAX_VIEW_TITLE = 24
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_METADATA = 3000
# Block and element ids of the modals' inputs, read back from `view.state.values`.
INPUT = "value"
DESTINATION, REASON, NOTE = "destination", "reason", "note"

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


def _field_sections(fields: tuple[tuple[str, str], ...], budget: int) -> list[Block]:
    """Labelled facts, bold label over value, 10 to a section, at most `budget` sections."""
    sections: list[Block] = []
    for start in range(0, len(fields), MAX_FIELDS):
        if len(sections) >= budget:
            break
        texts = []
        for label, value in fields[start : start + MAX_FIELDS]:
            parts = [f"*{escape(label.strip())}*" if label.strip() else "", escape(value)]
            texts.append(cut("\n".join(p for p in parts if p), MAX_FIELD) or " ")
        sections.append({"type": "section", "fields": [_mrkdwn(t) for t in texts]})
    return sections


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _buttons(actions: tuple[PostAction, ...]) -> Block | None:
    """One `actions` block; a repeated id is left out, as Slack refuses it within a block."""
    elements: list[Block] = []
    seen: set[str] = set()
    for action in actions:
        if action.id in seen or len(elements) == MAX_BUTTONS:
            continue
        seen.add(action.id)
        label = cut(" ".join(action.label.split()), MAX_BUTTON_TEXT) or action.id
        button: Block = {
            "type": "button",
            "action_id": action.id,
            "text": {"type": "plain_text", "text": label},
            "value": action.value,
        }
        if action.style in STYLES:
            button["style"] = action.style
        elements.append(button)
    return {"type": "actions", "elements": elements} if elements else None


def fallback_text(text: str) -> str:
    """The notification and screen-reader text of a message."""
    return cut(escape(text), MAX_FALLBACK) or " "


def render(post: Post, links: Mapping[MessageRef, str] | None = None) -> tuple[str, list[Block]]:
    """The fallback text and the blocks of `post`; `links` maps item refs to permalinks.

    The structured form wins over the text: with items or fields, `post.text` is only
    the fallback (it repeats them). Order: header, fields, body, "and N more", footer,
    buttons.
    """
    links = links or {}
    blocks: list[Block] = []
    pings = " ".join(
        f"<!subteam^{who}>" if kind == "group" else f"<@{who}>" for kind, who in post.notify
    )
    if pings:  # the only mentions we ever write: member text is escaped
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": pings}})
    if post.title:
        header = cut(" ".join(post.title.split()), MAX_HEADER)
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": header}})
    buttons = _buttons(post.actions)
    # Room for the "and N more" line, the footer and the buttons, whatever the body is.
    budget = MAX_BLOCKS - len(blocks) - 1 - (1 if post.footer else 0) - (1 if buttons else 0)
    facts = _field_sections(post.fields, budget - 1)
    blocks += facts
    budget -= len(facts)
    more = post.more
    sections: list[Block] = []
    if post.items:
        lines = [_item_line(item, links) for item in post.items[:MAX_ITEMS]]
        sections, shown = _pack(lines, budget)
        more += len(post.items) - shown
    elif not post.fields:
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
    if buttons:
        blocks.append(buttons)
    return (f"{pings} " if pings else "") + fallback_text(post.text), blocks


# --- modals ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteForm:
    """The wording of a modal that asks for an optional note before a button acts."""

    title: str
    label: str
    hint: str
    max_length: int = 1000


def _plain(text: str, limit: int) -> dict[str, str]:
    return {"type": "plain_text", "text": cut(" ".join(text.split()), limit) or " "}


def _metadata(metadata: str) -> str:
    if len(metadata) > MAX_METADATA:
        # Cutting it would corrupt the JSON it carries: a caller bug, not user input.
        raise ValueError(f"private_metadata is {len(metadata)} characters (Slack allows 3000)")
    return metadata


def _text_input(block_id: str, label: str, *, hint: str, max_length: int) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": _plain(label, 2000),
        "hint": _plain(hint, 2000),
        "element": {
            "type": "plain_text_input",
            "action_id": INPUT,
            "multiline": True,
            "max_length": max_length,
        },
    }


def escalate_modal(
    destinations: Sequence[tuple[str, str]], metadata: str, callback_id: str
) -> Block:
    """The form of the Escalate shortcut: a destination (value, label) and a reason."""
    options = [
        {"text": _plain(label, MAX_OPTION_TEXT), "value": value}
        for value, label in destinations[:MAX_OPTIONS]
    ]
    select: Block = {
        "type": "static_select",
        "action_id": INPUT,
        "placeholder": _plain("Choose a destination", MAX_OPTION_TEXT),
        "options": options,
    }
    if len(options) == 1:
        select["initial_option"] = options[0]
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": _metadata(metadata),
        "title": _plain("Escalate", MAX_VIEW_TITLE),
        "submit": _plain("Escalate", MAX_VIEW_TITLE),
        "close": _plain("Cancel", MAX_VIEW_TITLE),
        "blocks": [
            {
                "type": "input",
                "block_id": DESTINATION,
                "label": _plain("Send it to", 2000),
                "element": select,
            },
            _text_input(
                REASON,
                "Why (optional)",
                hint="Shown to the team with the member's message.",
                max_length=500,
            ),
        ],
    }


def note_modal(form: NoteForm, metadata: str, callback_id: str) -> Block:
    """A form asking for an optional note before a button's action runs."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": _metadata(metadata),
        "title": _plain(form.title, MAX_VIEW_TITLE),
        "submit": _plain(form.title, MAX_VIEW_TITLE),
        "close": _plain("Cancel", MAX_VIEW_TITLE),
        "blocks": [_text_input(NOTE, form.label, hint=form.hint, max_length=form.max_length)],
    }
