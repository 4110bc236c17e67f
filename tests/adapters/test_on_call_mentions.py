"""On-call pings: each adapter writes its platform's mention syntax, and only that."""

from __future__ import annotations

from bot.adapters.discord_adapter import _message_body
from bot.adapters.slack_blocks import render
from bot.core.model import Post

NUDGE = Post(
    "1 question has passed the response target without an answer\n• #help · <@U9> · waiting 1h",
    "1 question has passed the response target without an answer",
    notify=(("group", "S0ONCALL"), ("user", "U0BEN")),
)


def test_slack_nudge_pings_the_group_and_the_person() -> None:
    """Slack gets <!subteam^…> and <@…> first, in the notification text and the blocks."""
    text, blocks = render(NUDGE)
    assert text.startswith("<!subteam^S0ONCALL> <@U0BEN> ")
    assert blocks[0]["text"]["text"] == "<!subteam^S0ONCALL> <@U0BEN>"
    assert "<@U9>" not in text  # member text stays escaped: only the on-call is pinged


def test_discord_nudge_pings_exactly_the_role_and_the_person() -> None:
    """Discord gets <@&role> <@user> as content, and allowed_mentions limited to them."""
    post = Post(NUDGE.text, NUDGE.title, notify=(("group", "42"), ("user", "7")))
    body = _message_body(post)
    assert body["content"] == "<@&42> <@7>"
    allowed = body["allowed_mentions"]
    assert allowed.everyone is False
    assert [r.id for r in allowed.roles] == [42] and [u.id for u in allowed.users] == [7]
