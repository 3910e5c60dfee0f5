"""ADQL errors: one exception type with a stable code, a message a person can act on, and a position."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from enum import StrEnum
from typing import Any


class ADQLCode(StrEnum):
    """The stable codes of ``ADQLError``; ``str(code)`` is what clients see (``ADQL-SYNTAX``)."""

    SYNTAX = "ADQL-SYNTAX"
    """The text is not ADQL 2.1: a misspelt keyword, an unterminated string, a reserved word used
    as an undelimited name, a clause in the wrong place."""
    UNKNOWN_TABLE = "ADQL-UNKNOWN-TABLE"
    """A table (or a qualifier in ``t.column``) that this service does not publish or that the
    FROM clause does not name."""
    UNKNOWN_COLUMN = "ADQL-UNKNOWN-COLUMN"
    """A column that none of the tables in scope has, or an ORDER BY position out of range."""
    AMBIGUOUS = "ADQL-AMBIGUOUS"
    """A name that fits more than one table or column; qualifying it (``t.name``) resolves it."""
    UNKNOWN_FUNCTION = "ADQL-UNKNOWN-FUNCTION"
    """A user-defined function that this service does not offer (see its TAP capabilities)."""
    TYPE = "ADQL-TYPE"
    """Well-formed ADQL whose values do not fit: a string where a number is needed, a wrong
    number of arguments, incompatible units or set-operation columns."""
    GROUPING = "ADQL-GROUPING"
    """Aggregates or groups where SQL allows none: a column of a grouped query that is neither
    grouped nor inside an aggregate, an aggregate in WHERE, a JOIN condition or GROUP BY, an
    aggregate inside another, an ORDER BY of SELECT DISTINCT that the select list does not show."""
    UNSUPPORTED = "ADQL-UNSUPPORTED"
    """Valid ADQL this service refuses on purpose rather than answer wrongly: coordinate frames
    other than ICRS, STC-S beyond Position/Circle/Box/Polygon, circles over 90 degrees."""
    LIMIT = "ADQL-LIMIT"
    """A query too long or nested too deeply to be translated safely."""


class ADQLError(Exception):
    """Any failure to parse, resolve or translate a query; ``code`` is an ``ADQLCode``."""

    def __init__(self, code: ADQLCode, message: str, line: int | None = None, column: int | None = None):
        self.code = code
        self.message = message
        self.line = line
        self.column = column
        super().__init__(str(self))

    @classmethod
    def at(cls, code: ADQLCode, message: str, node: Any) -> ADQLError:
        """An error positioned at ``node`` (anything with a ``pos`` of line and column)."""
        return cls(code, message, node.pos.line or None, node.pos.column or None)

    def __str__(self) -> str:
        where = f" (line {self.line}, column {self.column})" if self.line else ""
        return f"{self.message}{where}"


CLOSE = 0.75  # difflib ratio a candidate (or one of its words) needs to be suggested
MARGIN = 0.1  # and it must be within this of the closest candidate's


def _closeness(written: str, candidate: str) -> float:
    """How alike two names are: the whole names, or the written name and one word of the
    candidate's about as long (``raa`` is close to ``s_ra`` through ``ra``), case-insensitively."""
    written, candidate = written.lower(), candidate.lower()
    words = [w for w in candidate.replace(".", "_").split("_") if len(w) > 1 and len(w) >= len(written) - 1]
    return max(difflib.SequenceMatcher(None, written, c).ratio() for c in (candidate, *words))


def suggestion(name: str, candidates: Iterable[str | tuple[str, str]]) -> str:
    """A "did you mean" clause naming up to three close candidates, closest first and each once,
    or nothing when none is close. A candidate is a name, or (name compared, name shown): a bare
    table name compared, its qualified name shown."""
    scores: dict[str, tuple[float, str]] = {}
    for candidate in candidates:
        compared, shown = (candidate, candidate) if isinstance(candidate, str) else candidate
        score = _closeness(name, compared)
        key = shown.lower()
        if score >= CLOSE and score > scores.get(key, (0.0, ""))[0]:
            scores[key] = (score, shown)
    close = sorted(scores.values(), key=lambda s: (-s[0], s[1].lower()))[:3]
    if not close:
        return ""
    close = [(score, shown) for score, shown in close if score >= close[0][0] - MARGIN]
    return "; did you mean " + " or ".join(f"'{shown}'" for _, shown in close) + "?"
