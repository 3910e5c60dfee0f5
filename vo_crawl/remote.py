"""Asking one remote service: TAP sync queries and SIA queries through the polite client, their
answers checked as untrusted input (``archive_io.remote_answers``): an HTML page, a wrong content
type, a body that is not a VOTable or is cut short, a ``QUERY_STATUS=ERROR``: each is a
``CellError`` naming what came back, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable

from archive_io.remote_answers import UnusableAnswer, votable_answer
from archive_io.remote_votable import Answer
from vo_crawl.capabilities import Capabilities, RemoteXMLError, read_capabilities
from vo_crawl.polite import PoliteClient, Reply, RequestFailed

# The crawler's name for an answer it cannot use: the error of the cell it was asked for.
CellError = UnusableAnswer


def _votable(reply: Reply, what: str) -> Answer:
    return votable_answer(reply.status, reply.content_type, reply.body, what)


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
