"""User-defined functions: each declared once (name, typed parameters, result, description) for
the type checker and for the TAP capabilities (TAPRegExt ``features-udf``). How each is written
in SQL is the dialect's business (adql/dialects/postgres.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from adql.catalog import ColumnMeta
from adql.kinds import Arg
from ivoa.vocabulary import StandardID

UDF_FEATURE_TYPE = StandardID.TAPREGEXT + "features-udf"


@dataclass(frozen=True)
class Param:
    name: str
    arg: Arg
    adql_type: str | None = None  # the type the capabilities name, when not the Arg's own

    @property
    def type_name(self) -> str:
        return self.adql_type or self.arg.adql_type


@dataclass(frozen=True)
class UserFunction:
    name: str  # lower case; ADQL regular identifiers are case-insensitive
    params: tuple[Param, ...]
    returns: str  # ADQL type for the capabilities
    result: ColumnMeta
    description: str
    aggregate: bool = False

    @property
    def form(self) -> str:
        """The signature as TAPRegExt wants it in <form>."""
        params = ", ".join(f"{p.name} {p.type_name}" for p in self.params)
        return f"{self.name}({params}) -> {self.returns}"


_INT = ColumnMeta("", "int")
_LONG = ColumnMeta("", "long")
_TEXT = ColumnMeta("", "char", arraysize="*")
_POINT = ColumnMeta("", "double", arraysize="2", xtype="point", unit="deg")
_TEXT_ARGS = (Param("value", Arg.STRING), Param("pattern", Arg.STRING))

USER_FUNCTIONS: dict[str, UserFunction] = {
    f.name: f
    for f in (
        UserFunction(
            "ivo_nocasematch",
            _TEXT_ARGS,
            "INTEGER",
            _INT,
            "1 if value matches the LIKE pattern ignoring case, 0 otherwise.",
        ),
        UserFunction(
            "ivo_hasword",
            (Param("haystack", Arg.STRING), Param("needle", Arg.STRING)),
            "INTEGER",
            _INT,
            "1 if every word of needle occurs as a whole word in haystack, ignoring case; 0 otherwise.",
        ),
        UserFunction(
            "ivo_hashlist_has",
            (Param("hashlist", Arg.STRING), Param("item", Arg.STRING)),
            "INTEGER",
            _INT,
            "1 if item is one of the #-separated words of hashlist, ignoring case; 0 otherwise.",
        ),
        UserFunction(
            "ivo_string_agg",
            (Param("expr", Arg.STRING), Param("deli", Arg.STRING)),
            "VARCHAR(*)",
            _TEXT,
            "Aggregate: the values of expr in a group, joined by deli.",
            aggregate=True,
        ),
        UserFunction(
            "ivo_interval_overlaps",
            (Param("l1", Arg.NUMBER), Param("h1", Arg.NUMBER), Param("l2", Arg.NUMBER), Param("h2", Arg.NUMBER)),
            "INTEGER",
            _INT,
            "1 if the closed intervals [l1, h1] and [l2, h2] overlap, 0 otherwise.",
        ),
        UserFunction(
            "ivo_healpix_index",
            (Param("order", Arg.INTEGER), Param("ra", Arg.NUMBER), Param("dec", Arg.NUMBER)),
            "BIGINT",
            _LONG,
            "The nested HEALPix index at order (0 to 29) of the ICRS position ra, dec (degrees).",
        ),
        UserFunction(
            "ivo_healpix_center",
            (Param("order", Arg.INTEGER), Param("hpx", Arg.INTEGER, "BIGINT")),
            "POINT",
            _POINT,
            "The centre of the nested HEALPix cell hpx at order (0 to 29), as an ICRS point.",
        ),
    )
}


def find_user_function(name: str) -> UserFunction | None:
    return USER_FUNCTIONS.get(name.lower())
