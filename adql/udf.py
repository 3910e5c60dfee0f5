"""User-defined functions: each declared once (name, signature, result, SQL template) and used by
the translator and by the TAP capabilities (TAPRegExt ``features-udf``).
"""

from __future__ import annotations

from dataclasses import dataclass

from adql.catalog import ColumnMeta

UDF_FEATURE_TYPE = "ivo://ivoa.net/std/TAPRegExt#features-udf"


@dataclass(frozen=True)
class UserFunction:
    name: str  # lower case; ADQL regular identifiers are case-insensitive
    params: tuple[tuple[str, str], ...]  # (parameter name, ADQL type) for the capabilities
    returns: str  # ADQL type for the capabilities
    result: ColumnMeta
    sql: str  # PostgreSQL with {0}, {1}, ... standing for the rendered arguments
    description: str
    aggregate: bool = False

    @property
    def form(self) -> str:
        """The signature as TAPRegExt wants it in <form>."""
        params = ", ".join(f"{name} {kind}" for name, kind in self.params)
        return f"{self.name}({params}) -> {self.returns}"


_INT = ColumnMeta("", "int")
_TEXT = ColumnMeta("", "char", arraysize="*")

USER_FUNCTIONS: dict[str, UserFunction] = {
    f.name: f
    for f in (
        UserFunction(
            "ivo_nocasematch",
            (("value", "VARCHAR(*)"), ("pattern", "VARCHAR(*)")),
            "INTEGER",
            _INT,
            "(CASE WHEN {0} ILIKE {1} ESCAPE '' THEN 1 ELSE 0 END)",
            "1 if value matches the LIKE pattern ignoring case, 0 otherwise.",
        ),
        UserFunction(
            "ivo_hasword",
            (("haystack", "VARCHAR(*)"), ("needle", "VARCHAR(*)")),
            "INTEGER",
            _INT,
            "(CASE WHEN to_tsvector('simple', {0}) @@ plainto_tsquery('simple', {1}) THEN 1 ELSE 0 END)",
            "1 if every word of needle occurs as a whole word in haystack, ignoring case; 0 otherwise.",
        ),
        UserFunction(
            "ivo_hashlist_has",
            (("hashlist", "VARCHAR(*)"), ("item", "VARCHAR(*)")),
            "INTEGER",
            _INT,
            "(CASE WHEN lower({1}) = ANY(string_to_array(lower({0}), '#')) THEN 1 ELSE 0 END)",
            "1 if item is one of the #-separated words of hashlist, ignoring case; 0 otherwise.",
        ),
        UserFunction(
            "ivo_string_agg",
            (("expr", "VARCHAR(*)"), ("deli", "VARCHAR(*)")),
            "VARCHAR(*)",
            _TEXT,
            "string_agg(CAST({0} AS text), {1})",
            "Aggregate: the values of expr in a group, joined by deli.",
            aggregate=True,
        ),
        UserFunction(
            "ivo_interval_overlaps",
            (("l1", "DOUBLE"), ("h1", "DOUBLE"), ("l2", "DOUBLE"), ("h2", "DOUBLE")),
            "INTEGER",
            _INT,
            "(CASE WHEN {0} <= {3} AND {2} <= {1} THEN 1 ELSE 0 END)",
            "1 if the closed intervals [l1, h1] and [l2, h2] overlap, 0 otherwise.",
        ),
    )
}


def find_user_function(name: str) -> UserFunction | None:
    return USER_FUNCTIONS.get(name.lower())
