"""The gatekeeper the services hold: who a request is (HTTP Basic with a password or a token,
``Authorization: Bearer``, the ``SESSION`` cookie of ``POST /login``), what catalogue that
identity reads through, sessions made and ended.

A credential that is wrong, expired or revoked is refused with 401; it never falls back to
anonymous. The one exception is a session its holder ended with ``POST /logout``: that cookie
reads as anonymous, as the holder asked (astroquery's TapPlus keeps sending it). What a credential proved is remembered for ``auth_cache_seconds`` (5 s by default),
which bounds how long a revoked token or a disabled account still works; a password is checked
with argon2 at most once in that time, in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import psycopg
from anyio import to_thread
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request

from adql.catalog import Catalog
from dalserver.access.credentials import Token, parse_token, password_matches, secret_matches
from dalserver.access.identity import ANONYMOUS, Identity
from dalserver.access.store import AuthStore, StoredCredential
from dalserver.access.throttle import FailedLogins
from dalserver.access.visibility import catalog_for
from dalserver.dali.faults import DALIError, Forbidden, NotAuthenticated, NotFoundFault
from dalserver.db.metadata import CatalogCache
from dalserver.settings import Settings
from dalserver.timed_value import TimedValue

SESSION_COOKIE = "SESSION"  # astroquery's TapPlus keeps a cookie of this name (or JSESSIONID)
# User names a client puts beside a token given as the Basic password (GitHub's and Rubin's habit).
TOKEN_USERS = ("", "x-oauth-basic", "token")
_CACHE_LIMIT = 10_000
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class _Refusal:
    message: str
    problem: str  # what the challenge says: "invalid_token" for Bearer, else "invalid_credentials"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Access:
    def __init__(self, pool: AsyncConnectionPool, settings: Settings, catalog: CatalogCache):
        self.store = AuthStore(pool)
        self.settings = settings
        self.base_catalog = catalog
        ttl = settings.catalog_ttl_seconds
        self.restricted = TimedValue(self.store.restricted_tables, ttl, keep_equal=True)
        self.enabled = TimedValue(self.store.any_user, ttl)  # challenges only once an account exists
        self.failures = FailedLogins()
        self._proved: dict[str, tuple[float, Identity | _Refusal]] = {}
        # Each identity's catalogue, made again only when the published tables or the
        # restrictions change: the same object, so its translations are remembered (adql.cache).
        self._catalogs: dict[Identity, tuple[Catalog, dict[str, str], Catalog]] = {}

    async def accounts_exist(self) -> bool:
        """Whether the archive has accounts (so clients are told how to log in). While the
        database cannot say, yes: capabilities and availability answer all the same."""
        try:
            return await self.enabled.get()
        except (psycopg.Error, DALIError):
            return True

    # --- what an identity sees ----------------------------------------------------------------
    async def catalog(self, who: Identity) -> Catalog:
        """The published tables as ``who`` reads them (dalserver.access.visibility)."""
        base, restricted = await self.base_catalog.get(), await self.restricted.get()
        made = self._catalogs.get(who)
        if made is not None and made[0] is base and made[1] is restricted:
            return made[2]
        catalog = catalog_for(base, who, restricted)
        if len(self._catalogs) > _CACHE_LIMIT:
            self._catalogs.clear()
        self._catalogs[who] = (base, restricted, catalog)
        return catalog

    async def identity_of(self, user: str) -> Identity | None:
        """``user``'s identity as it is now (a queued job runs with it); None when the account
        is disabled or gone."""
        account = await self.store.account(user)
        if account is None or account[1]:
            return None
        return await self.store.identity(user)

    async def not_visible(self, who: Identity, message: str) -> DALIError:
        """The answer for a dataset or file ``who`` cannot see, whether it exists or not (so the
        answer tells nothing of what exists): 401 asking an anonymous caller to log in once the
        archive has accounts, 404 otherwise."""
        if not who.authenticated and await self.accounts_exist():
            return NotAuthenticated(f"{message}, or it is not public yet: log in to see proprietary data")
        return NotFoundFault(message)

    # --- who a request is ---------------------------------------------------------------------
    async def identify(self, request: Request) -> Identity:
        """The caller of ``request``; 401 for a credential that proves nothing. Noted in the
        request's state for the response headers (dalserver.access.headers)."""
        request.state.auth_enabled = await self.accounts_exist()
        authorization = request.headers.get("authorization")
        cookie = request.cookies.get(SESSION_COOKIE)
        if authorization:
            who = await self._remembered(
                "A" + authorization, request, lambda: self._authorization(authorization, request)
            )
        elif cookie:
            self._same_origin(request)
            who = await self._remembered("C" + cookie, request, lambda: self._session(cookie))
        else:
            who = ANONYMOUS
        request.state.identity = who
        return who

    async def _remembered(
        self, credential: str, request: Request, prove: Callable[[], Awaitable[Identity | _Refusal]]
    ) -> Identity:
        key = hashlib.sha256(credential.encode()).hexdigest()
        now = time.monotonic()
        hit = self._proved.get(key)
        if hit is None or hit[0] < now:
            result = await prove()
            if len(self._proved) > _CACHE_LIMIT:
                self._proved.clear()
            self._proved[key] = (now + self.settings.auth_cache_seconds, result)
        else:
            result = hit[1]
        if isinstance(result, _Refusal):
            request.state.auth_problem = result.problem
            raise NotAuthenticated(result.message)
        return result

    async def _authorization(self, header: str, request: Request) -> Identity | _Refusal:
        scheme, _, value = header.strip().partition(" ")
        scheme, value = scheme.lower(), value.strip()
        if scheme == "bearer":
            token = parse_token(value)
            if token is None:
                return _Refusal("the bearer token is not one of this service's (dal-...)", "invalid_token")
            return await self._token(token, ("token",), "invalid_token")
        if scheme == "basic":
            try:
                user, colon, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, colon, password = "", "", ""
            if not colon:
                return _Refusal("the Basic credentials are not base64 of user:password", "invalid_credentials")
            token = parse_token(password)
            if token is not None:
                who = await self._token(token, ("token",), "invalid_credentials")
                if isinstance(who, Identity) and user not in (*TOKEN_USERS, who.user):
                    return _Refusal("this token belongs to another user", "invalid_credentials")
                return who
            return await self._password(user, password, request)
        return _Refusal(
            f"the Authorization scheme {scheme!r} is not offered; use Basic or Bearer", "invalid_credentials"
        )

    async def _password(self, user: str, password: str, request: Request) -> Identity | _Refusal:
        client = f"client:{request.client.host if request.client else ''}"
        await self.failures.wait(f"user:{user}", client)
        account = await self.store.account(user)
        stored = account[0] if account else None
        matches = await to_thread.run_sync(password_matches, stored, password)
        if not matches or account is None or account[1]:
            self.failures.failed(f"user:{user}", client)
            return _Refusal("wrong user name or password (or the account is disabled)", "invalid_credentials")
        self.failures.succeeded(f"user:{user}")
        return await self.store.identity(user)

    async def _token(
        self, token: Token, kinds: tuple[str, ...], problem: str, stored: StoredCredential | None = None
    ) -> Identity | _Refusal:
        stored = stored or await self.store.credential(token.key)
        if stored is None or stored.kind not in kinds or not secret_matches(stored.secret_sha256, token.secret):
            return _Refusal("unknown token", problem)
        if stored.revoked:
            return _Refusal("this token was revoked", problem)
        if stored.expired:
            return _Refusal("this token has expired", problem)
        if stored.user_disabled:
            return _Refusal("the token's account is disabled", problem)
        await self.store.touch(token.key)
        return await self.store.identity(stored.user)

    async def _session(self, cookie: str) -> Identity | _Refusal:
        token = parse_token(cookie)
        if token is None:
            return _Refusal("the session cookie is not one of this service's; log in again", "invalid_credentials")
        stored = await self.store.credential(token.key)
        if (
            stored is not None
            and stored.kind == "session"
            and stored.revoked
            and secret_matches(stored.secret_sha256, token.secret)
        ):
            # Ended by POST /logout: its holder asked to be anonymous, and is. astroquery's
            # TapPlus keeps sending the cookie after its logout() (it ignores the Set-Cookie that
            # clears it), and must then get the public answers, not 401. The cookie proves nothing
            # any more, so whoever else holds it gets no more than anybody. An expired session,
            # or one of a disabled account, is still refused: its holder believes it works.
            return ANONYMOUS
        who = await self._token(token, ("session",), "invalid_credentials", stored)
        if isinstance(who, _Refusal):
            return _Refusal(f"the session is over ({who.message}); log in again", who.problem)
        return who

    def _same_origin(self, request: Request) -> None:
        """A cookie rides along on any request the browser sends: a form of another site posting
        here is refused (SameSite=Lax already keeps the cookie off most of them)."""
        origin = request.headers.get("origin")
        if request.method in _SAFE_METHODS or origin is None:
            return
        if origin.lower() not in (_origin(self.settings.public_url), _origin(str(request.base_url))):
            raise Forbidden(f"a request from {origin} may not use this site's login session")

    # --- sessions -----------------------------------------------------------------------------
    async def login(self, user: str, password: str, request: Request) -> Token | None:
        """A new session for ``user`` if ``password`` is theirs; None otherwise (slowed down)."""
        who = await self._password(user, password, request)
        if isinstance(who, _Refusal):
            return None
        lifetime = timedelta(hours=self.settings.session_hours)
        return await self.store.new_session(user, lifetime, datetime.now(UTC))

    async def logout(self, cookie: str | None) -> None:
        token = parse_token(cookie or "")
        if token is None:
            return
        stored = await self.store.credential(token.key)
        if stored is not None and stored.kind == "session" and secret_matches(stored.secret_sha256, token.secret):
            await self.store.revoke(token.key)
        self._proved.pop(hashlib.sha256(("C" + (cookie or "")).encode()).hexdigest(), None)
