"""Core posts rendered as Discord embeds that always fit Discord's limits.

Discord rejects a message whose embed is too big (HTTP 400), so a long list must be
cut, not sent: the title, then as many list lines as fit in the description
(4,096 characters), then in up to 25 fields of 1,024 characters, all within 6,000
characters per message; whatever is left becomes "…and N more". List lines that
point at a message carry its `jump_url`; labelled facts become inline fields and an
image (the summary chart) is shown from the message's attachment.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import discord

from bot.core.model import MessageRef, Post, PostItem

TITLE_LIMIT = 256
FIELD_NAME_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 25
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000
CONTENT_LIMIT = 2000
# A field needs a name; a zero-width space shows nothing.
BLANK = "\u200b"
COLOUR = discord.Colour.orange()
# Room kept free in every container for the "…and N more" line.
_MORE_ROOM = len("\n…and 9999999 more")


def cut(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters, marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…" if limit > 0 else ""


def item_line(item: PostItem, link: Callable[[MessageRef], str]) -> str:
    """One list line: the text (markdown escaped) and a jump link when it has one."""
    text = discord.utils.escape_markdown(" ".join(item.text.split()))
    suffix = f" · [jump]({link(item.link)})" if item.link is not None else ""
    return cut(f"• {text}", FIELD_VALUE_LIMIT - _MORE_ROOM - len(suffix)) + suffix


def _more_line(count: int) -> str:
    return f"…and {count} more"


def render_embed(post: Post, link: Callable[[MessageRef], str]) -> discord.Embed:
    """The embed for `post`, within every Discord limit, lists cut with "…and N more"."""
    lines = post.text.strip().splitlines()
    # The first line of the text is the title when none is given, and a text that
    # repeats its title does not show it twice.
    if lines and (not post.title or lines[0].strip() == post.title.strip()):
        title, body = post.title or lines[0], lines[1:]
    else:
        title, body = post.title, lines
    title = cut(" ".join(title.split()), TITLE_LIMIT)
    footer = cut(post.footer, FOOTER_LIMIT)
    budget = TOTAL_LIMIT - len(title) - len(footer)
    embed = discord.Embed(title=title or None, colour=COLOUR)
    if footer:
        embed.set_footer(text=footer)
    if post.image is not None:
        embed.set_image(url=f"attachment://{image_name(post)}")
    # Labelled facts (author, channel, age) come first: they are short and all matter.
    facts: list[tuple[str, str]] = []
    for label, fact_text in post.fields[: FIELD_LIMIT - 1]:
        fact = (cut(label, FIELD_NAME_LIMIT) or BLANK, cut(fact_text, FIELD_VALUE_LIMIT) or BLANK)
        if len(fact[0]) + len(fact[1]) > budget - _MORE_ROOM:
            break
        facts.append(fact)
        budget -= len(fact[0]) + len(fact[1])
    if not post.items:
        embed.description = cut("\n".join(body), min(DESCRIPTION_LIMIT, budget)) or None
        _add_facts(embed, facts)
        return embed

    rendered = [item_line(item, link) for item in post.items]
    budget -= _MORE_ROOM
    description: list[str] = []
    size = 0
    shown = 0
    for line in rendered:
        added = len(line) + (1 if description else 0)
        if size + added > DESCRIPTION_LIMIT - _MORE_ROOM or added > budget:
            break
        description.append(line)
        size += added
        budget -= added
        shown += 1
    fields: list[list[str]] = []
    while shown < len(rendered) and len(fields) + len(facts) < FIELD_LIMIT:
        value: list[str] = []
        size = 0
        for line in rendered[shown:]:
            added = len(line) + (1 if value else 0)
            # A new field also costs its one-character name.
            cost = added + (len(BLANK) if not value else 0)
            if size + added > FIELD_VALUE_LIMIT - _MORE_ROOM or cost > budget:
                break
            value.append(line)
            size += added
            budget -= cost
            shown += 1
        if not value:
            break
        fields.append(value)
    more = post.more + len(rendered) - shown
    if more:
        (fields[-1] if fields else description).append(_more_line(more))
    embed.description = "\n".join(description) or None
    for value in fields:
        embed.add_field(name=BLANK, value="\n".join(value), inline=False)
    _add_facts(embed, facts)
    return embed


def _add_facts(embed: discord.Embed, facts: list[tuple[str, str]]) -> None:
    for name, value in facts:
        embed.add_field(name=name, value=value, inline=True)


def image_name(post: Post) -> str:
    """A file name Discord accepts for the post's image (letters, digits, `._-`)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", post.image_name or "image.png").strip("._") or "image"
    return name if "." in name else f"{name}.png"


def render_content(text: str) -> str:
    """Plain message content within Discord's 2,000 characters."""
    return cut(text, CONTENT_LIMIT)
