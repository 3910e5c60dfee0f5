"""Asking one remote service: TAP sync queries and SIA queries through the polite client, their
answers checked as untrusted input. An HTML page, a wrong content type, a body that is not a
VOTable or is cut short, a ``QUERY_STATUS=ERROR``: each is a ``CellError`` naming what came
back, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable

from vo_crawl.capabilities import Capabilities, RemoteXMLError, read_capabilities
from vo_crawl.polite import PoliteClient, Reply, RequestFailed
from vo_crawl.votable import Answer, VOTableError, read_votable

_VOTABLE_TYPES = ("xml", "votable")


class CellError(Exception):
    """An answer that cannot be used; ``reason`` is short and stable, for counting."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def _votable(reply: Reply, what: str) -> Answer:
    kind = reply.content_type.split(";")[0].strip().lower()
    if "html" in kind:
        raise CellError("html page", f"{what}: HTTP {reply.status} with an HTML page instead of a VOTable")
    if kind and not any(t in kind for t in _VOTABLE_TYPES):
        raise CellError("wrong content type", f"{what}: HTTP {reply.status} with {kind}, not a VOTable")
    try:
        answer = read_votable(reply.body)
    except VOTableError as exc:
        if reply.status != 200:
            raise CellError(f"http {reply.status}", f"{what}: HTTP {reply.status} ({exc})") from None
        raise CellError("not a VOTable", f"{what}: {exc}") from None
    if answer.status == "ERROR":
        raise CellError("query error", f"{what}: the service refused the query: {answer.message or 'no message'}")
    if reply.status != 200:
        raise CellError(f"http {reply.status}", f"{what}: HTTP {reply.status}")
    if not answer.has_table:
        raise CellError("no table", f"{what}: the VOTable holds no result table")
    return answer


def _get(client: PoliteClient, url: str, params: dict[str, str] | None = None) -> Reply:
    """An answer, or CellError for one that cannot be used whatever the retries (too large, not
    decodable, a redirect loop); what may pass (timeouts, 503s) is RequestFailed after the retries."""
    try:
        return client.get(url, params)
    except RequestFailed as failure:
        if failure.transient:
            raise
        raise CellError(failure.reason, failure.message) from None


class Remote:
    """One service, asked through ``client``; ``count`` is told of each request's purpose."""

    def __init__(self, client: PoliteClient, base_url: str, count: Callable[[str], None] = lambda _: None):
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.count = count

    def capabilities(self, url: str | None = None) -> Capabilities | None:
        """The VOSI capabilities, or None where the service has none to give."""
        self.count("metadata")
        reply = _get(self.client, url or f"{self.base_url}/capabilities")
        if reply.status != 200:
            return None
        try:
            return read_capabilities(reply.body)
        except RemoteXMLError:
            return None

    def tap(self, query: str, maxrec: int, response_format: str, purpose: str) -> Answer:
        """A synchronous ADQL query (TAP 1.0's REQUEST=doQuery too, which TAP 1.1 services accept)."""
        self.count(purpose)
        params = {
            "REQUEST": "doQuery",
            "LANG": "ADQL",
            "QUERY": query,
            "MAXREC": str(maxrec),
            "RESPONSEFORMAT": response_format,
        }
        reply = _get(self.client, f"{self.base_url}/sync", params)
        return _votable(reply, f"{self.base_url}/sync")

    def sia(self, params: dict[str, str], purpose: str = "fetch") -> Answer:
        self.count(purpose)
        reply = _get(self.client, self.base_url, params)
        return _votable(reply, self.base_url)


__all__ = ["CellError", "Remote", "RequestFailed"]
