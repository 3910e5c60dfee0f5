"""Errors a client can cause, carrying what the protocol's error document needs."""

from __future__ import annotations


class DALIError(Exception):
    """A request the service refuses: the message goes into the error document verbatim."""

    def __init__(self, message: str, status_code: int = 400):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class PlainTextError(DALIError):
    """A refusal whose protocol wants a text/plain error document (SODA 1.0 sec. 5.2)."""
