"""SQL for Slack installations (several workspaces over OAuth) and pending OAuth states.

Functions take a `Repo` and run inside `Store.write` / `Store.read`, like the rest of
Frontline's SQL. Rows are plain records here: converting to and from slack_sdk's
`Installation` and `Bot` happens in the Slack adapter, so the storage layer never
imports a platform SDK. A missing enterprise or team id is stored as '' (keys stay
NOT NULL columns). Token fields are left out of every record's repr: a record that
ends up in a log line or a traceback does not carry a secret with it.

Token fields (`SECRET_FIELDS`) are sealed with the caller's `TokenCipher` on the way in
and opened on the way out, so records always hold the real values and the database only
what the cipher made of them (encrypted when keys are set). A row whose token no key
opens is logged, naming the workspace and the field, and read as absent: that
workspace must install the app again, and every other workspace carries on.
"""

from __future__ import annotations

import logging
from dataclasses import astuple, dataclass, field, fields
from typing import Any, Final

from bot.storage.cipher import KEYS_VARIABLE, TokenCipher, Undecryptable
from bot.storage.repos import Repo

log = logging.getLogger(__name__)


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
# What a database backup must not give away: every token, and the webhook URL (it posts).
SECRET_FIELDS: Final = (
    "bot_token",
    "bot_refresh_token",
    "user_token",
    "user_refresh_token",
    "incoming_webhook_url",
)


def reseal(repo: Repo, *, cipher: TokenCipher) -> int:
    """Write again, under the first key, every secret stored in plaintext or by an older key.

    Run at start: after a key rotation (or when keys are first set) the old keys are no
    longer needed once this has run. Values no key opens are left as they are. Returns
    how many values were rewritten.
    """
    if not cipher.encrypts:
        return 0
    rewritten = 0
    for table, key in (("slack_bots", _BOT_KEY), ("slack_installations", _INSTALLATION_KEY)):
        secrets = [f for f in SECRET_FIELDS if f in _COLUMNS_OF[table]]
        rows = repo._all(f"SELECT {', '.join((*key, *secrets))} FROM {table}")
        where = " AND ".join(f"{k} = ?" for k in key)
        for row in rows:
            ids, values = tuple(row[: len(key)]), row[len(key) :]
            for name, stored in zip(secrets, values, strict=True):
                if cipher.stale(stored):
                    sealed = cipher.seal(cipher.open(stored))
                    repo._all(f"UPDATE {table} SET {name} = ? WHERE {where}", (sealed, *ids))
                    rewritten += 1
    return rewritten


def _upsert(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    # Built once at import from the constant column lists above, never from input.
    # INSERT ... ON CONFLICT DO UPDATE is the same statement on SQLite and PostgreSQL.
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


_COLUMNS_OF = {"slack_bots": _BOT_COLUMNS, "slack_installations": _INSTALLATION_COLUMNS}
_SAVE_BOT = _upsert("slack_bots", _BOT_COLUMNS, _BOT_KEY)
_SAVE_INSTALLATION = _upsert("slack_installations", _INSTALLATION_COLUMNS, _INSTALLATION_KEY)
_SELECT_BOT = f"SELECT {', '.join(_BOT_COLUMNS)} FROM slack_bots"
_SELECT_INSTALLATION = f"SELECT {', '.join(_INSTALLATION_COLUMNS)} FROM slack_installations"


def _stored(record: BotRecord | InstallationRecord, cipher: TokenCipher) -> list[Any]:
    """The row to write: secrets sealed, booleans as integers (both databases take them)."""
    values: list[Any] = []
    for name, value in zip((f.name for f in fields(record)), astuple(record), strict=True):
        if name in SECRET_FIELDS:
            values.append(cipher.seal(value))
        else:
            values.append(int(value) if isinstance(value, bool) else value)
    return values


def _opened(
    table: str, columns: tuple[str, ...], row: Any, cipher: TokenCipher
) -> dict[str, Any] | None:
    """A row's values by column with its secrets opened; None (logged) when one cannot be."""
    values = dict(zip(columns, row, strict=True))
    for name in SECRET_FIELDS:
        if name not in values:
            continue
        try:
            values[name] = cipher.open(values[name])
        except Undecryptable as exc:
            if cipher.first_failure(values[name]):
                _log_unreadable(table, values, name, exc)
            return None
    values["is_enterprise_install"] = bool(values["is_enterprise_install"])
    return values


def _log_unreadable(table: str, values: dict[str, Any], name: str, exc: Undecryptable) -> None:
    # Names the workspace and the column, never the stored value: it may be a token.
    where = values["team_id"] or f"org {values['enterprise_id']}"
    whose = f" (installed by {values['user_id']})" if "user_id" in values else ""
    log.error(
        "Slack workspace %s%s: %s.%s cannot be decrypted: %s. The workspace is treated as "
        "not installed: install the app there again, or put the key that wrote it back in %s",
        where,
        whose,
        table,
        name,
        exc,
        KEYS_VARIABLE,
    )


def _bot(row: Any, cipher: TokenCipher) -> BotRecord | None:
    values = _opened("slack_bots", _BOT_COLUMNS, row, cipher)
    if values is None:
        return None
    values["bot_scopes"] = values["bot_scopes"] or ""
    return BotRecord(**values)


def _installation(row: Any, cipher: TokenCipher) -> InstallationRecord | None:
    values = _opened("slack_installations", _INSTALLATION_COLUMNS, row, cipher)
    if values is None:
        return None
    values["bot_scopes"] = values["bot_scopes"] or ""
    values["user_scopes"] = values["user_scopes"] or ""
    return InstallationRecord(**values)


def _bots(rows: list[Any], cipher: TokenCipher) -> list[BotRecord]:
    """The bots of `rows` that can be read; an unreadable one is logged and left out."""
    return [bot for bot in (_bot(row, cipher) for row in rows) if bot is not None]


# --- bots --------------------------------------------------------------------------


def save_bot(repo: Repo, bot: BotRecord, *, cipher: TokenCipher) -> None:
    """Store a workspace's bot, its tokens sealed; a reinstall replaces the previous one."""
    repo._all(_SAVE_BOT, _stored(bot, cipher))


def find_bot(
    repo: Repo, enterprise_id: str, team_id: str, *, cipher: TokenCipher
) -> BotRecord | None:
    """The bot installed in a workspace (team_id '' for an org-wide install), or None.

    None too when its token cannot be decrypted (logged): the workspace must reinstall.
    """
    row = repo._one(
        f"{_SELECT_BOT} WHERE enterprise_id = ? AND team_id = ?", (enterprise_id, team_id)
    )
    return None if row is None else _bot(row, cipher)


def bots(repo: Repo, *, cipher: TokenCipher) -> list[BotRecord]:
    """Every readable bot, in the order the workspaces installed the app."""
    return _bots(repo._all(f"{_SELECT_BOT} ORDER BY installed_at, team_id"), cipher)


def bots_of_team(repo: Repo, team_id: str, *, cipher: TokenCipher) -> list[BotRecord]:
    """The readable bots answering for a workspace id, whatever its enterprise (one at most)."""
    rows = repo._all(f"{_SELECT_BOT} WHERE team_id = ? ORDER BY installed_at DESC", (team_id,))
    return _bots(rows, cipher)


def delete_bot(repo: Repo, enterprise_id: str, team_id: str) -> int:
    """Forget a workspace's bot; returns how many rows went (0 or 1)."""
    return len(
        repo._all(
            "DELETE FROM slack_bots WHERE enterprise_id = ? AND team_id = ? RETURNING team_id",
            (enterprise_id, team_id),
        )
    )


# --- installations ------------------------------------------------------------------


def save_installation(repo: Repo, installation: InstallationRecord, *, cipher: TokenCipher) -> None:
    """Store one user's installation, its secrets sealed; installing again replaces it."""
    repo._all(_SAVE_INSTALLATION, _stored(installation, cipher))


def find_installation(
    repo: Repo,
    enterprise_id: str,
    team_id: str,
    user_id: str | None = None,
    *,
    cipher: TokenCipher,
) -> InstallationRecord | None:
    """The latest installation in a workspace (by `user_id` when given), or None.

    An installation without a bot token (a user-only authorization) gets the
    workspace's bot token, as slack_sdk's own stores do. None too when a secret of the
    installation cannot be decrypted (logged).
    """
    sql = f"{_SELECT_INSTALLATION} WHERE enterprise_id = ? AND team_id = ?"
    params: tuple[str, ...] = (enterprise_id, team_id)
    if user_id is not None:
        sql += " AND user_id = ?"
        params += (user_id,)
    row = repo._one(sql + " ORDER BY installed_at DESC LIMIT 1", params)
    if row is None:
        return None
    found = _installation(row, cipher)
    if found is not None and found.bot_token is None:
        bot = find_bot(repo, enterprise_id, team_id, cipher=cipher)
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
