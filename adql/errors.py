"""ADQL errors: one exception type with a stable code, a message a person can act on, and a position."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


class ADQLError(Exception):
    """Any failure to parse, resolve or translate a query.

    ``code`` is stable and searchable: ADQL-SYNTAX, ADQL-UNKNOWN-TABLE, ADQL-UNKNOWN-COLUMN,
    ADQL-AMBIGUOUS, ADQL-TYPE, ADQL-UNSUPPORTED, ADQL-LIMIT.
    """

    def __init__(self, code: str, message: str, line: int | None = None, column: int | None = None):
        self.code = code
        self.message = message
        self.line = line
        self.column = column
        super().__init__(str(self))

    @classmethod
    def at(cls, code: str, message: str, node: Any) -> ADQLError:
        """An error positioned at ``node`` (anything with a ``pos`` of line and column)."""
        return cls(code, message, node.pos.line or None, node.pos.column or None)

    def __str__(self) -> str:
        where = f" (line {self.line}, column {self.column})" if self.line else ""
        return f"{self.message}{where}"


def suggestion(name: str, candidates: Iterable[str]) -> str:
    """A "did you mean" clause, or nothing when no candidate is close."""
    close = difflib.get_close_matches(name.lower(), {c.lower(): c for c in candidates}, n=3, cutoff=0.5)
    if not close:
        return ""
    names = {c.lower(): c for c in candidates}
    return "; did you mean " + " or ".join(f"'{names[c]}'" for c in close) + "?"
