"""The Slack app manifest asks for what the adapter uses: events, command, shortcut, scopes."""

from __future__ import annotations

import re
from pathlib import Path

from bot.adapters.slack_adapter import COMMAND, ESCALATE_CALLBACK, EVENT_TYPES

MANIFEST = Path(__file__).resolve().parents[2] / "config" / "slack-manifest.yml"


def _list_under(text: str, key: str) -> list[str]:
    block = re.search(rf"^(\s*){key}:\n((?:\1\s+- .*\n)+)", text, re.MULTILINE)
    assert block, f"{key} not found"
    return re.findall(r"- ([\w:./]+)", block.group(2))


def test_manifest_matches_the_adapter() -> None:
    """Events, command, shortcut, interactivity and Socket Mode agree with the adapter."""
    text = MANIFEST.read_text(encoding="utf-8")
    events = _list_under(text, "bot_events")
    assert events == ["message.channels", "message.groups", "reaction_added", "reaction_removed"]
    assert {e.split(".")[0] for e in events} == set(EVENT_TYPES)
    assert f"- command: {COMMAND}\n" in text
    assert f"callback_id: {ESCALATE_CALLBACK}\n" in text
    assert "type: message\n" in text
    assert "should_escape: true" in text
    assert "socket_mode_enabled: true" in text
    # Buttons, the shortcut's form and its submission arrive as interactivity payloads.
    assert re.search(r"interactivity:\n(?:\s+#.*\n)*\s+is_enabled: true\n", text)


def test_manifest_asks_for_exactly_the_scopes_used() -> None:
    """Every bot scope maps to an API the adapter calls; nothing extra is requested."""
    scopes = _list_under(MANIFEST.read_text(encoding="utf-8"), "bot")
    assert sorted(scopes) == sorted(
        [
            "channels:history",
            "channels:read",
            "groups:history",
            "groups:read",
            "chat:write",
            "files:write",
            "commands",
            "im:write",
            "reactions:read",
            "reactions:write",
            "usergroups:read",
            "users:read",
        ]
    )
