"""The auth schema as the server reads and writes it: accounts, credentials, groups and grants,
restricted tables. The command line (dalserver.access_commands) writes the same tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool

from dalserver.access.credentials import Token, new_token
from dalserver.access.identity import Grant, Identity

ACCOUNT = "SELECT password_hash, disabled FROM auth.users WHERE user_name = %s"
CREDENTIAL = (
    "SELECT c.user_name, c.kind, c.secret_sha256, coalesce(c.expires <= now(), false), c.revoked, u.disabled "
    "FROM auth.credentials AS c JOIN auth.users AS u USING (user_name) WHERE c.credential_key = %s"
)
# A user's groups, each with what it is granted ('' proposal: the whole collection).
MEMBERSHIP = (
    "SELECT m.group_name, g.obs_collection, g.proposal_id FROM auth.members AS m "
    "LEFT JOIN auth.grants AS g USING (group_name) WHERE m.user_name = %s"
)
RESTRICTED = "SELECT table_name, group_name FROM auth.restricted_tables"
ANY_USER = "SELECT EXISTS (SELECT 1 FROM auth.users)"
TOUCH = "UPDATE auth.credentials SET last_used = now() WHERE credential_key = %s"
NEW_CREDENTIAL = (
    "INSERT INTO auth.credentials (credential_key, user_name, kind, secret_sha256, label, created, expires, revoked) "
    "VALUES (%s, %s, %s, %s, %s, now(), %s, false)"
)
REVOKE = "UPDATE auth.credentials SET revoked = true WHERE credential_key = %s"


@dataclass(frozen=True)
class StoredCredential:
    user: str
    kind: str  # token | session
    secret_sha256: str
    expired: bool
    revoked: bool
    user_disabled: bool


def identity_from_membership(user: str, rows: list[tuple[str, str | None, str | None]]) -> Identity:
    groups = frozenset(group for group, _, _ in rows)
    grants = frozenset(Grant(c, p or None) for _, c, p in rows if c is not None)
    return Identity(user, groups, grants)


class AuthStore:
    """Reads and writes of the auth schema through the server's metadata pool."""

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def _rows(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(sql, args)).fetchall()
            await conn.rollback()
        return rows

    async def account(self, user: str) -> tuple[str | None, bool] | None:
        """(password hash, disabled) of ``user``; None if there is no such account."""
        rows = await self._rows(ACCOUNT, (user,))
        return (rows[0][0], bool(rows[0][1])) if rows else None

    async def credential(self, key: str) -> StoredCredential | None:
        rows = await self._rows(CREDENTIAL, (key,))
        return StoredCredential(*rows[0]) if rows else None

    async def identity(self, user: str) -> Identity:
        """``user`` with their groups and grants as they are now."""
        return identity_from_membership(user, await self._rows(MEMBERSHIP, (user,)))

    async def restricted_tables(self) -> dict[str, str]:
        return {table.lower(): group for table, group in await self._rows(RESTRICTED)}

    async def any_user(self) -> bool:
        return bool((await self._rows(ANY_USER))[0][0])

    async def _write(self, sql: str, args: tuple[object, ...]) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(sql, args)
            await conn.commit()

    async def touch(self, key: str) -> None:
        await self._write(TOUCH, (key,))

    async def new_session(self, user: str, lifetime: timedelta, now: datetime) -> Token:
        token = new_token()
        await self._write(NEW_CREDENTIAL, (token.key, user, "session", token.secret_sha256, None, now + lifetime))
        return token

    async def revoke(self, key: str) -> None:
        await self._write(REVOKE, (key,))
