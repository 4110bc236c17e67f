"""Encryption at rest for the secrets Frontline keeps in its database (Slack OAuth tokens).

The keys come from the environment only: `FRONTLINE_TOKEN_KEYS` holds one or more
Fernet keys separated by commas. The first key encrypts; every key decrypts, so a key
is rotated by putting a new one first and keeping the old ones after it; at start the
Slack adapter writes again every value that is plaintext or sealed by an older key
(`installations.reseal`), after which the old keys can go.

A stored value says how it was stored: an encrypted one starts with `fernet:`, anything
else is plaintext (written before keys were set, or by a deployment without keys). So
turning encryption on needs no migration: old rows are read as they are and encrypted
at the next start (or when next saved).

Without keys the cipher stores plaintext, as Frontline did before (the Slack adapter
warns about it once at start). No message raised here ever carries a key or a value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Final

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEYS_VARIABLE: Final = "FRONTLINE_TOKEN_KEYS"
PREFIX: Final = "fernet:"
MAKE_A_KEY: Final = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class TokenKeyError(ValueError):
    """The key variable holds something that is not a Fernet key."""


class Undecryptable(ValueError):
    """A stored encrypted value that none of the keys opens (a wrong key, or altered data)."""


class TokenCipher:
    """Seals values before they are stored and opens them when they are read back.

    With no keys, values are stored as they are; encrypted values found then cannot be
    opened (`Undecryptable`), since the key that wrote them is missing.
    """

    def __init__(self, keys: Sequence[str] = ()) -> None:
        self.key_count = len(keys)
        fernets = [_fernet(key, i, len(keys)) for i, key in enumerate(keys)]
        self._first = fernets[0] if fernets else None
        self._fernet = MultiFernet(fernets) if fernets else None
        # Stored values that failed to open and were reported: a workspace is looked up
        # for every event, and one error a row says it all (kept in memory only).
        self._reported: set[str] = set()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TokenCipher:
        """The cipher of `FRONTLINE_TOKEN_KEYS`; blank or unset means plaintext.

        Raises `TokenKeyError` naming the variable and the key's position, never its value.
        """
        text = (os.environ if environ is None else environ).get(KEYS_VARIABLE, "")
        return cls([part.strip() for part in text.split(",") if part.strip()])

    @property
    def encrypts(self) -> bool:
        """Whether values are encrypted when stored (keys are set)."""
        return self._fernet is not None

    def seal(self, value: str | None) -> str | None:
        """What to store for `value`: encrypted with the first key, or as is without keys."""
        if value is None or self._fernet is None:
            return value
        return PREFIX + self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def open(self, stored: str | None) -> str | None:
        """The value behind what was stored: decrypted when it was encrypted.

        Raises `Undecryptable` when it was encrypted and no key opens it.
        """
        if stored is None or not stored.startswith(PREFIX):
            return stored
        if self._fernet is None:
            raise Undecryptable(f"encrypted, and {KEYS_VARIABLE} is not set")
        try:
            return self._fernet.decrypt(stored.removeprefix(PREFIX)).decode("utf-8")
        except (InvalidToken, ValueError, TypeError):
            # The exception text could echo the data: replaced, not chained.
            raise Undecryptable(
                f"no key in {KEYS_VARIABLE} decrypts it (a wrong key, or altered data)"
            ) from None

    def first_failure(self, stored: str) -> bool:
        """Whether `stored`, which did not open, fails here for the first time."""
        if stored in self._reported:
            return False
        self._reported.add(stored)
        return True

    def stale(self, stored: str | None) -> bool:
        """Whether `stored` should be written again: plaintext, or sealed by an older key.

        False without keys, and for a value no key opens (that is reported where it is read).
        """
        if stored is None or self._first is None or self._fernet is None:
            return False
        if not stored.startswith(PREFIX):
            return True
        token = stored.removeprefix(PREFIX)
        try:
            self._first.decrypt(token)
            return False
        except (InvalidToken, ValueError, TypeError):
            pass
        try:
            self._fernet.decrypt(token)
        except (InvalidToken, ValueError, TypeError):
            return False
        return True

    def __repr__(self) -> str:
        return f"TokenCipher({self.key_count} key(s))"


def _fernet(key: str, index: int, count: int) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        # Fernet's own message is generic, but the chain would carry the bad value along.
        raise TokenKeyError(
            f"{KEYS_VARIABLE}: key {index + 1} of {count} is not a Fernet key (32 url-safe "
            f"base64-encoded bytes); make one with {MAKE_A_KEY}"
        ) from None
