"""Whether another service's HTTP answer is a usable VOTable, judged as untrusted input: an HTML
page, a wrong content type, a body that is not a VOTable or is cut short, a ``QUERY_STATUS=ERROR``
or a non-200 status each raise ``UnusableAnswer`` naming what came back, never a crash. And how
this software says who it is when it asks (IVOA NOTE-softid).

Shared by the VO crawler (a cell's answer) and the server's federated image search (a live
service's answer).
"""

from __future__ import annotations

from archive_io.remote_votable import Answer, VOTableError, read_votable

# IVOA's software-identification note (NOTE-softid, "Operational Identification of Software
# Components in the Virtual Observatory"): a client whose purpose is to replicate what services
# publish says so with the comment token "(IVOA-copy ...)", optionally with a URL.
USER_AGENT = "dalserver/{version} (IVOA-copy {contact})"
_VOTABLE_TYPES = ("xml", "votable")


def user_agent(version: str, contact: str) -> str:
    return USER_AGENT.format(version=version, contact=contact)


class UnusableAnswer(Exception):
    """An answer that cannot be used; ``reason`` is short and stable, for counting."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def votable_answer(status: int, content_type: str, body: bytes, what: str) -> Answer:
    """The result table of an answer (HTTP ``status``, ``content_type``, ``body``) from ``what``."""
    kind = content_type.split(";")[0].strip().lower()
    if "html" in kind:
        raise UnusableAnswer("html page", f"{what}: HTTP {status} with an HTML page instead of a VOTable")
    if kind and not any(t in kind for t in _VOTABLE_TYPES):
        raise UnusableAnswer("wrong content type", f"{what}: HTTP {status} with {kind}, not a VOTable")
    try:
        answer = read_votable(body)
    except VOTableError as exc:
        if status != 200:
            raise UnusableAnswer(f"http {status}", f"{what}: HTTP {status} ({exc})") from None
        raise UnusableAnswer("not a VOTable", f"{what}: {exc}") from None
    if answer.status == "ERROR":
        raise UnusableAnswer("query error", f"{what}: the service refused the query: {answer.message or 'no message'}")
    if status != 200:
        raise UnusableAnswer(f"http {status}", f"{what}: HTTP {status}")
    if not answer.has_table:
        raise UnusableAnswer("no table", f"{what}: the VOTable holds no result table")
    return answer
