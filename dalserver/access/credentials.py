"""Passwords and tokens: how they are made, stored and checked.

Passwords are hashed with argon2id (argon2-cffi's defaults, memory-hard, so a stolen table is slow
to attack). Tokens are ``dal-<key>.<secret>``: the key (72 random bits) finds the row, the secret
(256 random bits) is stored only as its SHA-256 and compared with ``hmac.compare_digest``; with
that much entropy a slow hash would buy nothing and cost every request.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

TOKEN_PREFIX = "dal-"


@functools.cache
def _hasher() -> PasswordHasher:
    """argon2-cffi's hasher, imported on first use: only a login or a new password needs it (2 MB
    a worker)."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@functools.cache
def _unusable() -> str:
    """Verified when a user has no password (or does not exist), so that a wrong name takes as long
    as a wrong password and the time of a failure says nothing about which it was. Made on first
    use: an argon2 hash costs half a second and 64 MiB, which every worker's start would pay."""
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def password_matches(stored: str | None, given: str) -> bool:
    """Whether ``given`` is the password whose hash is ``stored`` (None: the account has none)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        _hasher().verify(stored or _unusable(), given)  # True or an exception
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None


@dataclass(frozen=True)
class Token:
    key: str
    secret: str

    @property
    def text(self) -> str:
        """What the user is given, once."""
        return f"{TOKEN_PREFIX}{self.key}.{self.secret}"

    @property
    def secret_sha256(self) -> str:
        return secret_digest(self.secret)


def new_token() -> Token:
    return Token(secrets.token_hex(9), secrets.token_urlsafe(32))


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(text: str) -> Token | None:
    """The key and secret of a token's text; None for anything that is not one."""
    if not text.startswith(TOKEN_PREFIX):
        return None
    key, dot, secret = text[len(TOKEN_PREFIX) :].partition(".")
    if not dot or not key or not secret or len(text) > 200:
        return None
    return Token(key, secret)


def secret_matches(stored_sha256: str, secret: str) -> bool:
    return hmac.compare_digest(stored_sha256, secret_digest(secret))
