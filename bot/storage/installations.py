"""SQL for Slack installations (several workspaces over OAuth) and pending OAuth states.

Functions take a `Repo` and run inside `Store.write` / `Store.read`, like the rest of
Frontline's SQL. Rows are plain records here: converting to and from slack_sdk's
`Installation` and `Bot` happens in the Slack adapter, so the storage layer never
imports a platform SDK. A missing enterprise or team id is stored as '' (keys stay
NOT NULL columns). Token fields are left out of every record's repr: a record that
ends up in a log line or a traceback does not carry a secret with it.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, field, fields
from typing import Any

from bot.storage.repos import Repo


@dataclass(frozen=True, slots=True)
class BotRecord:
    """The bot of one workspace (or org): what Frontline answers and posts with."""

    enterprise_id: str
    team_id: str
    app_id: str | None
    enterprise_name: str | None
    team_name: str | None
    bot_token: str = field(repr=False)
    bot_id: str
    bot_user_id: str
    bot_scopes: str = ""
    bot_refresh_token: str | None = field(default=None, repr=False)
    bot_token_expires_at: int | None = None
    is_enterprise_install: bool = False
    installed_at: float = 0.0


@dataclass(frozen=True, slots=True)
class InstallationRecord:
    """One user's installation of the app in a workspace (or org), as Slack returned it."""

    enterprise_id: str
    team_id: str
    user_id: str
    app_id: str | None = None
    enterprise_name: str | None = None
    enterprise_url: str | None = None
    team_name: str | None = None
    bot_token: str | None = field(default=None, repr=False)
    bot_id: str | None = None
    bot_user_id: str | None = None
    bot_scopes: str = ""
    bot_refresh_token: str | None = field(default=None, repr=False)
    bot_token_expires_at: int | None = None
    user_token: str | None = field(default=None, repr=False)
    user_scopes: str = ""
    user_refresh_token: str | None = field(default=None, repr=False)
    user_token_expires_at: int | None = None
    incoming_webhook_url: str | None = field(default=None, repr=False)
    incoming_webhook_channel: str | None = None
    incoming_webhook_channel_id: str | None = None
    incoming_webhook_configuration_url: str | None = None
    is_enterprise_install: bool = False
    token_type: str | None = None
    installed_at: float = 0.0


_BOT_COLUMNS = tuple(f.name for f in fields(BotRecord))
_INSTALLATION_COLUMNS = tuple(f.name for f in fields(InstallationRecord))
_BOT_KEY = ("enterprise_id", "team_id")
_INSTALLATION_KEY = ("enterprise_id", "team_id", "user_id")


def _upsert(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    # Built once at import from the constant column lists above, never from input.
    # INSERT ... ON CONFLICT DO UPDATE is the same statement on SQLite and PostgreSQL.
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


_SAVE_BOT = _upsert("slack_bots", _BOT_COLUMNS, _BOT_KEY)
_SAVE_INSTALLATION = _upsert("slack_installations", _INSTALLATION_COLUMNS, _INSTALLATION_KEY)
_SELECT_BOT = f"SELECT {', '.join(_BOT_COLUMNS)} FROM slack_bots"
_SELECT_INSTALLATION = f"SELECT {', '.join(_INSTALLATION_COLUMNS)} FROM slack_installations"


def _bot(row: Any) -> BotRecord:
    values = dict(zip(_BOT_COLUMNS, row, strict=True))
    values["is_enterprise_install"] = bool(values["is_enterprise_install"])
    values["bot_scopes"] = values["bot_scopes"] or ""
    return BotRecord(**values)


def _installation(row: Any) -> InstallationRecord:
    values = dict(zip(_INSTALLATION_COLUMNS, row, strict=True))
    values["is_enterprise_install"] = bool(values["is_enterprise_install"])
    values["bot_scopes"] = values["bot_scopes"] or ""
    values["user_scopes"] = values["user_scopes"] or ""
    return InstallationRecord(**values)


def _stored(values: tuple[Any, ...]) -> list[Any]:
    return [int(v) if isinstance(v, bool) else v for v in values]


# --- bots --------------------------------------------------------------------------


def save_bot(repo: Repo, bot: BotRecord) -> None:
    """Store a workspace's bot; a reinstall replaces the previous one."""
    repo._all(_SAVE_BOT, _stored(astuple(bot)))


def find_bot(repo: Repo, enterprise_id: str, team_id: str) -> BotRecord | None:
    """The bot installed in a workspace (team_id '' for an org-wide install), or None."""
    row = repo._one(
        f"{_SELECT_BOT} WHERE enterprise_id = ? AND team_id = ?", (enterprise_id, team_id)
    )
    return None if row is None else _bot(row)


def bots(repo: Repo) -> list[BotRecord]:
    """Every installed bot, in the order the workspaces installed the app."""
    return [_bot(row) for row in repo._all(f"{_SELECT_BOT} ORDER BY installed_at, team_id")]


def bots_of_team(repo: Repo, team_id: str) -> list[BotRecord]:
    """The bots answering for a workspace id, whatever its enterprise (at most one in practice)."""
    return [
        _bot(row)
        for row in repo._all(
            f"{_SELECT_BOT} WHERE team_id = ? ORDER BY installed_at DESC", (team_id,)
        )
    ]


def delete_bot(repo: Repo, enterprise_id: str, team_id: str) -> int:
    """Forget a workspace's bot; returns how many rows went (0 or 1)."""
    return len(
        repo._all(
            "DELETE FROM slack_bots WHERE enterprise_id = ? AND team_id = ? RETURNING team_id",
            (enterprise_id, team_id),
        )
    )


# --- installations ------------------------------------------------------------------


def save_installation(repo: Repo, installation: InstallationRecord) -> None:
    """Store one user's installation; installing again replaces their previous row."""
    repo._all(_SAVE_INSTALLATION, _stored(astuple(installation)))


def find_installation(
    repo: Repo, enterprise_id: str, team_id: str, user_id: str | None = None
) -> InstallationRecord | None:
    """The latest installation in a workspace (by `user_id` when given), or None.

    An installation without a bot token (a user-only authorization) gets the
    workspace's bot token, as slack_sdk's own stores do.
    """
    sql = f"{_SELECT_INSTALLATION} WHERE enterprise_id = ? AND team_id = ?"
    params: tuple[str, ...] = (enterprise_id, team_id)
    if user_id is not None:
        sql += " AND user_id = ?"
        params += (user_id,)
    row = repo._one(sql + " ORDER BY installed_at DESC LIMIT 1", params)
    if row is None:
        return None
    found = _installation(row)
    if found.bot_token is None:
        bot = find_bot(repo, enterprise_id, team_id)
        if bot is not None:
            values = {f.name: getattr(found, f.name) for f in fields(InstallationRecord)}
            values.update(
                bot_token=bot.bot_token,
                bot_id=bot.bot_id,
                bot_user_id=bot.bot_user_id,
                bot_scopes=bot.bot_scopes,
                bot_refresh_token=bot.bot_refresh_token,
                bot_token_expires_at=bot.bot_token_expires_at,
            )
            found = InstallationRecord(**values)
    return found


def delete_installations(
    repo: Repo, enterprise_id: str, team_id: str, user_id: str | None = None
) -> int:
    """Forget a workspace's installations (only `user_id`'s when given); returns how many."""
    sql = "DELETE FROM slack_installations WHERE enterprise_id = ? AND team_id = ?"
    params: tuple[str, ...] = (enterprise_id, team_id)
    if user_id is not None:
        sql += " AND user_id = ?"
        params += (user_id,)
    return len(repo._all(sql + " RETURNING user_id", params))


# --- OAuth states ---------------------------------------------------------------------


def issue_state(repo: Repo, state: str, expires_at: float, now: float) -> None:
    """Remember a state handed to an installer's browser; expired ones are cleared out."""
    repo._all("DELETE FROM slack_oauth_states WHERE expires_at < ?", (now,))
    repo._all(
        "INSERT INTO slack_oauth_states (state, expires_at) VALUES (?, ?)", (state, expires_at)
    )


def consume_state(repo: Repo, state: str, now: float) -> bool:
    """Use a state up: True once for a state issued here and not expired, then False.

    One DELETE ... RETURNING, so two replicas racing on the same state cannot both win.
    """
    row = repo._one("DELETE FROM slack_oauth_states WHERE state = ? RETURNING expires_at", (state,))
    return row is not None and float(row[0]) >= now
