"""Faults as types: the kinds of failure the DAL standards name, the exception every refusal is,
and how each protocol writes it (one exception handler in the app picks the document).

SIA 2.0 (sec. 4.2) and DataLink 1.1 (sec. 3.4) start an error message with ``UsageFault``,
``NotFoundFault``, ``TransientFault``, ``FatalFault``; SODA 1.0 (sec. 5.2) has fewer codes and
spells them ``UsageError``, ``ServiceUnavailable``, ``Error``, ``MultiValuedParamNotSupported``;
TAP and UWS want the message alone. A raise site says which kind it is, never how it is
spelled: ``raise UsageFault("POL: ...")``.
"""

from __future__ import annotations

from enum import Enum


class Fault(Enum):
    """A kind of failure: its name in SIA/DataLink, its name in SODA, its default HTTP status."""

    USAGE = ("UsageFault", "UsageError", 400)
    """The request is wrong: a parameter missing, malformed or out of range; a query that cannot run."""
    NOT_FOUND = ("NotFoundFault", "UsageError", 404)
    """The request names something (a dataset, a job, a table, a resource) this service does not have."""
    MULTI_VALUED = ("UsageFault", "MultiValuedParamNotSupported", 400)
    """A parameter was given more values than the service takes (SODA: one ID per request)."""
    TRANSIENT = ("TransientFault", "ServiceUnavailable", 503)
    """The service cannot answer now but may soon: the database unreachable, a table not there yet."""
    FATAL = ("FatalFault", "Error", 500)
    """The service failed: a bug, a full disk, an unexpected database error. The log has details."""
    UNAUTHENTICATED = ("UsageFault", "UsageError", 401)
    """The request needs credentials, or the ones it carries are wrong, expired or revoked."""
    FORBIDDEN = ("UsageFault", "UsageError", 403)
    """The caller is known but may not do this (another user's job, a cross-site form)."""
    NOT_IMPLEMENTED = ("FatalFault", "Error", 501)
    """A valid request this service does not implement (e.g. a cutout of a data layout it cannot cut)."""

    def __init__(self, dal_name: str, soda_name: str, status: int):
        self.dal_name = dal_name
        self.soda_name = soda_name
        self.status = status


class ErrorStyle(Enum):
    """How a protocol writes an error document."""

    PLAIN_VOTABLE = "plain"  # TAP, UWS, VOSI: a DALI error VOTable with the message alone
    DAL_VOTABLE = "dal"  # SIA, DataLink: the message starts with the fault's name
    SODA_TEXT = "soda"  # SODA: text/plain starting with SODA's code
    # Simple Cone Search 1.03: an error VOTable (INFO name="Error" and QUERY_STATUS=ERROR) with
    # HTTP 200 for a request the client got wrong; the message alone
    SCS_VOTABLE = "scs"
    PLAIN_TEXT = "text"  # HiPS (static files, no error document of its own): text/plain, the message alone

    def message(self, error: DALIError) -> str:
        if self in (ErrorStyle.PLAIN_VOTABLE, ErrorStyle.SCS_VOTABLE, ErrorStyle.PLAIN_TEXT):
            return error.message
        name = error.fault.soda_name if self is ErrorStyle.SODA_TEXT else error.fault.dal_name
        return f"{name}: {error.message}"


class DALIError(Exception):
    """A request the service refuses or cannot answer: the fault's kind, a message that names
    the problem (written into the protocol's error document), and the HTTP status."""

    def __init__(self, fault: Fault, message: str, status_code: int | None = None):
        super().__init__(message)
        self.fault = fault
        self.message = message
        self.status_code = status_code if status_code is not None else fault.status
        self.headers: dict[str, str] = {}


class UsageFault(DALIError):
    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(Fault.USAGE, message, status_code)


class NotFoundFault(DALIError):
    def __init__(self, message: str):
        super().__init__(Fault.NOT_FOUND, message)


class TransientFault(DALIError):
    """Try again later; ``retry_after`` seconds go into the ``Retry-After`` header."""

    # An async job meeting it goes back to the queue and runs again (the database was away);
    # a fault that should end the job in ERROR with its message says False.
    requeue_job = True

    def __init__(self, message: str, retry_after: int = 5):
        super().__init__(Fault.TRANSIENT, message)
        self.headers["Retry-After"] = str(retry_after)


class NotAuthenticated(DALIError):
    """401: log in (the response carries the challenges that say how: dalserver.access.headers)."""

    def __init__(self, message: str):
        super().__init__(Fault.UNAUTHENTICATED, message)


class Forbidden(DALIError):
    def __init__(self, message: str):
        super().__init__(Fault.FORBIDDEN, message)


class FatalFault(DALIError):
    def __init__(self, message: str):
        super().__init__(Fault.FATAL, message)
