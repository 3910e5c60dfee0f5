"""The server's polite HTTP client for live services: how a federated search asks other archives.

The crawler's rules, in the server's event loop:

* one request in flight per host from this process (hosts by name, whatever the port): searches
  that ask the same host wait for each other's turn;
* every request says who asks: the crawler's ``User-Agent`` (``dalserver/<version> (IVOA-copy
  <operator URL>)``, ``archive_io.remote_answers``);
* the answer's size is limited (decoded bytes): a larger one is an error, never a memory problem;
* hosts at private or loopback addresses are refused unless the operator allows them, and the
  request goes to the address that was checked (``dalserver.federated.addresses``); redirects are
  followed by hand (three at most), each checked the same way.

There are no retries: a live search has one deadline per service, which the caller enforces by
cancelling (the host's turn is given back at once).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urljoin, urlsplit

from dalserver.federated.addresses import AddressRefused, Target, targets
from dalserver.federated.remote_queries import Params, RemoteRequest

if TYPE_CHECKING:
    import httpx

MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class LiveFailure(Exception):
    """No usable answer came; ``reason`` is short and stable, ``message`` says what happened."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class LiveReply:
    url: str
    status: int
    content_type: str
    body: bytes
    location: str | None = None


class LiveClient:
    """One per server process (its host turns are shared by every search the process runs)."""

    def __init__(
        self,
        user_agent: str,
        max_body_bytes: int,
        timeout_seconds: float,
        allow_private: bool,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.user_agent = user_agent
        self.max_body_bytes = max_body_bytes
        self.allow_private = allow_private
        self.timeout_seconds = timeout_seconds
        self.transport = transport
        self._http: httpx.AsyncClient | None = None
        self._turns: dict[str, asyncio.Lock] = {}

    @property
    def http(self) -> httpx.AsyncClient:
        """Made by the first live search: httpx (and what it loads) stays out of the workers that
        never make one."""
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(
                headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip"},
                follow_redirects=False,
                timeout=httpx.Timeout(self.timeout_seconds),
                transport=self.transport,
                trust_env=False,  # no proxy from the environment: the address checked is the one asked
            )
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def _turn(self, host: str) -> asyncio.Lock:
        return self._turns.setdefault(host.lower(), asyncio.Lock())

    async def get(self, request: RemoteRequest) -> LiveReply:
        """The answer to ``request`` (any status); LiveFailure when there is none."""
        url: str = request.url
        params: Params | None = request.params
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            try:
                async with self._turn(parts.hostname or ""):
                    reply = await self._once(parts, params)
            except AddressRefused as exc:
                raise LiveFailure(exc.reason, exc.message) from None
            if reply.status in _REDIRECTS and reply.location:
                url, params = urljoin(url, reply.location), None
                continue
            return reply
        raise LiveFailure("redirect loop", f"{request.url}: more than {MAX_REDIRECTS} redirects")

    async def _once(self, parts: SplitResult, params: Params | None) -> LiveReply:
        import httpx

        last: Exception | None = None
        for target in await targets(parts, self.allow_private):
            try:
                return await self._from(target, params, parts.geturl())
            except httpx.ConnectError as exc:  # the next address of the host, if it has one
                last = exc
        raise LiveFailure("cannot connect", f"{parts.geturl()}: cannot connect ({last})")

    async def _from(self, target: Target, params: Params | None, shown: str) -> LiveReply:
        import httpx

        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else None
        started = time.monotonic()
        try:
            async with self.http.stream(
                "GET",
                target.url,
                params=tuple(params) if params is not None else None,  # a tuple: httpx takes no list[tuple[str, str]]
                headers={"Host": target.host_header},
                extensions=extensions,
            ) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_body_bytes:
                        raise LiveFailure(
                            "answer too large", f"{shown}: the answer is larger than {self.max_body_bytes} bytes"
                        )
                return LiveReply(
                    shown,
                    response.status_code,
                    response.headers.get("content-type", ""),
                    bytes(body),
                    response.headers.get("location"),
                )
        except httpx.ConnectError:
            raise
        except httpx.TimeoutException:
            raise LiveFailure(
                "timeout", f"{shown}: no answer after {time.monotonic() - started:.1f} s (network timeout)"
            ) from None
        except httpx.RemoteProtocolError as exc:
            raise LiveFailure("cut short", f"{shown}: the answer was cut short ({exc})") from None
        except httpx.DecodingError as exc:
            raise LiveFailure("bad encoding", f"{shown}: the answer cannot be decoded ({exc})") from None
        except httpx.HTTPError as exc:
            raise LiveFailure("network error", f"{shown}: {exc}") from None
