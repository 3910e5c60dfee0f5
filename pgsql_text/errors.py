"""The one error of the SQL-text floor: a value PostgreSQL's SQL text cannot carry.

A ``ValueError``, so that a caller that does not expect it still fails as on a bad value; each
protocol maps it to its own fault with what it knows (the ADQL node's position, the SIA parameter,
the catalogue file).
"""

from __future__ import annotations


class SQLTextError(ValueError):
    """A name or value that cannot be written as PostgreSQL SQL text (a NUL character)."""
