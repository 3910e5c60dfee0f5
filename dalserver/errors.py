"""Errors a client can cause, carrying what the protocol's error document needs."""

from __future__ import annotations


class DALIError(Exception):
    """A request the service refuses: the message goes into the error document verbatim."""

    def __init__(self, message: str, status_code: int = 400):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
