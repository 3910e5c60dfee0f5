"""Polite HTTP: how the crawler talks to other archives.

* One request in flight per host, and at least ``min_gap_seconds`` from the end of one to the
  start of the next (``HostGate``; hosts by name, whatever the port).
* 429 and 503 with ``Retry-After`` are honoured (the whole host waits); timeouts, dropped
  connections, 429/502/503/504 are retried ``retries`` times with exponential back-off; a
  Retry-After longer than ``retry_after_max_seconds`` ends the attempt (the service backs off).
* Connect and read timeouts, a deadline for the whole answer, a size limit on the body: an
  answer over the limit is an error, never a memory problem.
* Every request says who asks and why: ``User-Agent: dalserver/<version> (IVOA-copy <operator
  URL>)`` (IVOA NOTE-softid). Redirects are followed by hand, each through its host's gate.
* A budget callback runs before every request (the daily request budget per service).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from vo_crawl.config import CrawlConfig

TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
MAX_REDIRECTS = 3


class RequestFailed(Exception):
    """A request that brought no usable answer. ``reason`` is short and stable (it is counted),
    ``transient`` says whether trying again later may help, ``wait`` a Retry-After in seconds."""

    def __init__(self, reason: str, message: str, transient: bool, wait: float | None = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.transient = transient
        self.wait = wait


class BudgetExhausted(Exception):
    """The service's daily request budget is used up."""


@dataclass(frozen=True)
class Reply:
    url: str
    status: int
    content_type: str
    body: bytes
    seconds: float
    retry_after: float | None = None  # from a Retry-After header
    location: str | None = None  # of a redirect


class HostGate:
    """One host's turn to be asked something."""

    def __init__(self, min_gap: float):
        self.min_gap = min_gap
        self.lock = threading.Lock()
        self.free_at = 0.0  # time.monotonic() before which no request may start

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self.lock:
            wait = self.free_at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                yield
            finally:
                self.free_at = max(self.free_at, time.monotonic() + self.min_gap)

    def hold_until(self, moment: float) -> None:
        self.free_at = max(self.free_at, moment)


class Gates:
    """The gates of all hosts, shared by every thread of a crawl."""

    def __init__(self, min_gap: float):
        self.min_gap = min_gap
        self._gates: dict[str, HostGate] = {}
        self._lock = threading.Lock()

    def of(self, url: str) -> HostGate:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            return self._gates.setdefault(host, HostGate(self.min_gap))


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class PoliteClient:
    """GET requests by the rules above. ``before_request`` runs before each attempt (and may raise
    BudgetExhausted); ``after_attempt`` is told of each attempt's outcome."""

    def __init__(
        self,
        config: CrawlConfig,
        gates: Gates,
        before_request: Callable[[], None] = lambda: None,
        after_attempt: Callable[[str, Reply | None, RequestFailed | None], None] = lambda *_: None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.config = config
        self.gates = gates
        self.before_request = before_request
        self.after_attempt = after_attempt
        self.http = httpx.Client(
            headers={"User-Agent": config.user_agent, "Accept-Encoding": "gzip"},
            follow_redirects=False,
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(self, url: str, params: Mapping[str, str] | None = None) -> Reply:
        """The answer to GET ``url`` (any status but the transient ones); RequestFailed when
        there is none after the retries."""
        attempt = 0
        while True:
            try:
                reply = self._follow(url, params)
            except RequestFailed as failure:
                problem = failure
            else:
                if reply.status not in TRANSIENT_STATUS:
                    return reply
                problem = RequestFailed(
                    f"http {reply.status}",
                    f"{url} answered HTTP {reply.status}",
                    transient=True,
                    wait=reply.retry_after,
                )
            if not problem.transient or attempt >= self.config.retries:
                raise problem
            if problem.wait is not None and problem.wait > self.config.retry_after_max_seconds:
                raise problem
            delay = max(problem.wait or 0.0, self.config.retry_seconds * 2**attempt)
            self.gates.of(url).hold_until(time.monotonic() + delay)
            attempt += 1

    def _follow(self, url: str, params: Mapping[str, str] | None) -> Reply:
        for _ in range(MAX_REDIRECTS + 1):
            reply = self._once(url, params)
            if reply.status in (301, 302, 303, 307, 308) and reply.location:
                url, params = urljoin(url, reply.location), None
                continue
            return reply
        raise RequestFailed("redirect loop", f"{url}: more than {MAX_REDIRECTS} redirects", transient=False)

    def _once(self, url: str, params: Mapping[str, str] | None) -> Reply:
        self.before_request()
        cfg = self.config
        timeout = httpx.Timeout(
            connect=cfg.connect_timeout_seconds,
            read=cfg.read_timeout_seconds,
            write=cfg.read_timeout_seconds,
            pool=cfg.connect_timeout_seconds,
        )
        reply: Reply | None = None
        failure: RequestFailed | None = None
        with self.gates.of(url).turn():
            started = time.monotonic()
            try:
                with self.http.stream("GET", url, params=params, timeout=timeout) as response:
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > cfg.max_body_bytes:
                            raise RequestFailed(
                                "answer too large",
                                f"{url}: the answer is larger than {cfg.max_body_bytes} bytes",
                                transient=False,
                            )
                        if time.monotonic() - started > cfg.request_deadline_seconds:
                            raise RequestFailed(
                                "too slow",
                                f"{url}: the answer took longer than {cfg.request_deadline_seconds:g} s",
                                transient=True,
                            )
                    reply = Reply(
                        str(response.url),
                        response.status_code,
                        response.headers.get("content-type", ""),
                        bytes(body),
                        time.monotonic() - started,
                        retry_after(response.headers.get("retry-after")),
                        response.headers.get("location"),
                    )
            except RequestFailed as exc:
                failure = exc
            except httpx.ConnectTimeout:
                failure = RequestFailed("cannot connect", f"{url}: connecting timed out", transient=True)
            except httpx.ConnectError as exc:
                failure = RequestFailed("cannot connect", f"{url}: cannot connect ({exc})", transient=True)
            except httpx.ReadTimeout:
                failure = RequestFailed(
                    "timeout", f"{url}: no data for {cfg.read_timeout_seconds:g} s (read timeout)", transient=True
                )
            except httpx.RemoteProtocolError as exc:
                failure = RequestFailed("cut short", f"{url}: the answer was cut short ({exc})", transient=True)
            except httpx.DecodingError as exc:
                failure = RequestFailed("bad encoding", f"{url}: the answer cannot be decoded ({exc})", transient=False)
            except httpx.HTTPError as exc:
                failure = RequestFailed("network error", f"{url}: {exc}", transient=True)
        self.after_attempt(url, reply, failure)
        if failure is not None:
            raise failure
        assert reply is not None
        return reply
