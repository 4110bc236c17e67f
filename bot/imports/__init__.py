"""Export readers for replay: Slack workspace exports and DiscordChatExporter JSON.

`open_export(path)` recognises the format and returns a reader whose `messages()`
yields core `Message`s in time order across channels (see `common.ExportReader`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from bot.imports.common import ExportReader, ImportProblem
from bot.imports.discord_export import DiscordExportReader, looks_like_discord_export
from bot.imports.slack_export import SlackExportReader, is_slack_export

FORMATS = ("auto", "slack-export", "discord-export")

__all__ = [
    "FORMATS",
    "DiscordExportReader",
    "ExportReader",
    "ImportProblem",
    "SlackExportReader",
    "detect_format",
    "open_export",
]


def detect_format(path: Path) -> str:
    """Which format the export at `path` is: "slack-export" or "discord-export".

    A folder or .zip with `channels.json` is a Slack export; a .json file, or a folder
    of .json files, whose top level has `messages` and `channel`/`guild` is
    DiscordChatExporter output. Raises ValueError when it is neither, and
    FileNotFoundError when `path` does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such export: {path}")
    if is_slack_export(path):
        return "slack-export"
    if path.is_file() and path.suffix.lower() == ".json" and looks_like_discord_export(path):
        return "discord-export"
    if path.is_dir():
        for candidate in sorted(path.rglob("*.json"))[:20]:
            if looks_like_discord_export(candidate):
                return "discord-export"
    raise ValueError(
        f"{path} is not a recognised export: expected a Slack export (a folder or .zip "
        "with channels.json) or DiscordChatExporter JSON (a .json file, or a folder of "
        "them, with 'guild', 'channel' and 'messages')"
    )


def open_export(
    path: Path | str,
    fmt: str = "auto",
    *,
    channels: Collection[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> SlackExportReader | DiscordExportReader:
    """A reader for the export at `path`; `fmt` is "auto", "slack-export" or "discord-export".

    Raises FileNotFoundError for a missing path and ValueError for an unknown format
    or a path that is not an export of that format.
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = detect_format(path)
    elif not path.exists():
        raise FileNotFoundError(f"no such export: {path}")
    if fmt == "slack-export":
        if not is_slack_export(path):
            raise ValueError(f"{path} is not a Slack export: no channels.json found")
        return SlackExportReader(path, channels=channels, since=since, until=until)
    if path.is_dir() and not any(path.rglob("*.json")):
        raise ValueError(f"{path} is not a DiscordChatExporter export: no .json files in it")
    return DiscordExportReader(path, channels=channels, since=since, until=until)
