"""Discord message links: building them, and reading them back into message refs.

A message link is `https://discord.com/channels/<guild>/<channel>/<message>`; the
desktop client also hands out `ptb.` and `canary.` hosts and old links use
`discordapp.com`. People paste links wrapped in `<...>` to suppress the preview, so
that is accepted too. Pure functions: no SDK, no network.
"""

from __future__ import annotations

import re

from bot.core.model import MessageRef

PLATFORM = "discord"

_LINK = re.compile(
    r"^<?https?://(?:(?:www|ptb|canary)\.)?discord(?:app)?\.com"
    r"/channels/(?P<guild>\d{1,20})/(?P<channel>\d{1,20})(?:/(?P<message>\d{1,20}))?/?>?$",
    re.IGNORECASE,
)


def message_link(ref: MessageRef) -> str:
    """The link that opens `ref` in Discord (a `jump_url`)."""
    return f"https://discord.com/channels/{ref.space}/{ref.channel}/{ref.message}"


def parse_message_link(link: str) -> MessageRef | None:
    """The message a Discord message link points at, or None when it is not one."""
    match = _LINK.match(link.strip())
    if match is None or match.group("message") is None:
        return None
    return MessageRef(PLATFORM, match["guild"], match["channel"], match["message"])


def parse_channel_link(link: str) -> tuple[str, str] | None:
    """`(guild, channel)` of a channel link without a message (a forum post's "Copy Link")."""
    match = _LINK.match(link.strip())
    if match is None or match.group("message") is not None:
        return None
    return match["guild"], match["channel"]
