"""SIA 2.0 {query} parameters -> one SELECT over ivoa.obscore (SIA 2.0 sec. 2.1).

Values of one parameter are OR-ed, different parameters AND-ed; a record whose field is null
never satisfies a constraint on it. POS becomes ``s_region && <pgsphere shape>``, which the GiST
index ``obscore_s_region`` answers; intervals become comparisons on the indexed bounds.
Pure: the caller runs the SQL.

The query comes with a parameterized form as well, each pgsphere constant of POS a parameter of
its type, so that a session prepares one statement for every request of a shape (the same
parameters, values but the positions, MAXREC) and the next position is neither parsed nor
planned (dalserver.db.prepared; for an answer small enough to be read without COPY, which for
ObsCore's columns is MAXREC 5 or less: pipeline.known_small). Only the pgsphere constants:
pgsphere estimates every operator on them at a fixed selectivity (``contsel``) and a parameter
costs nothing to evaluate, as a constant does, so the plan PostgreSQL makes without their values
(its generic plan) is the plan it makes with them, and the rows come in the same order. An
interval's bounds, compared with B-tree-indexed columns whose statistics PostgreSQL reads, could
change the plan and stay in the text; so does the LIMIT, which decides between an index and a
bitmap scan. Each parameter's value is the very expression the plain SQL has in its place, so it
is the same value to the bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from adql.catalog import ColumnMeta, TableMeta
from adql.translate import Parameterized
from dalserver.dali.faults import TransientFault, UsageFault
from dalserver.dali.values import Circle, Interval, Polygon, Range, Shape, parse_interval, parse_pos
from dalserver.pipeline import PreparedQuery, row_limit
from dalserver.sia.parameters import PARAMETERS, SIA_PRODUCT_TYPES, Constraint, SIAParameter
from pgsql_text.errors import SQLTextError
from pgsql_text.pgsphere import scircle_literal, spoly_literal
from pgsql_text.quoting import float8, quote_ident, quote_string

OBSCORE = ("ivoa", "obscore")
ALIAS = "o"
# Other spellings of instrument and facility names, recorded by the ingest from its instrument
# profiles and headers (schemas/spellings.yaml): the server never reads the profiles themselves.
SPELLINGS = "ingest.spellings"


# Writes a pgsphere constant (its type, its SQL expression) into a condition: as it is for the
# plain SQL, or between marks that build_query turns into a parameter.
Constant = Callable[[str, str], str]
# What a parameter's type and expression sit between while the query is built: a character no SQL
# text holds (a value with a NUL is refused: pgsql_text.errors.SQLTextError).
_MARK = "\x00"


def _as_is(_: str, expression: str) -> str:
    return expression


def _marked(kind: str, expression: str) -> str:
    return f"{_MARK}{kind}{_MARK}{expression}{_MARK}"


def _column(name: str, alias: str = ALIAS) -> str:
    return f"{alias}.{quote_ident(name)}"


def _steps(start: float, stop: float, most: float) -> list[float]:
    """``start`` to ``stop`` inclusive, in equal steps of at most ``most``."""
    count = max(1, math.ceil(abs(stop - start) / most))
    return [start + (stop - start) * k / count for k in range(count + 1)]


# pgsphere takes no polygon with a vertex on a pole (its edges there have no direction), so a
# range that reaches a pole stops this far short of it: 0.36 arcsec.
_POLE = 89.9999


def _range_piece(ra_low: float, ra_high: float, dec_low: float, dec_high: float) -> list[tuple[float, float]]:
    # Parallels are small circles, polygon edges great circles: a vertex every degree along
    # them keeps the polygon within a few milliarcseconds of the range.
    dec_low, dec_high = max(dec_low, -_POLE), min(dec_high, _POLE)
    south = [(ra, dec_low) for ra in _steps(ra_low, ra_high, 1.0)]
    north = [(ra, dec_high) for ra in _steps(ra_high, ra_low, 1.0)]
    east = [(ra_high, dec) for dec in _steps(dec_low, dec_high, 45.0)[1:-1]]
    west = [(ra_low, dec) for dec in _steps(dec_high, dec_low, 45.0)[1:-1]]
    return [(ra % 360.0, dec) for ra, dec in south + east + north + west]


def _cap(pole: float, radius: float, constant: Constant) -> str:
    return constant("scircle", scircle_literal(0.0, pole, radius))


def _beyond(region: str, dec: float, northwards: bool, constant: Constant) -> str:
    """``region`` reaches the part of the sky north (or south) of the parallel ``dec``."""
    pole = 90.0 if northwards else -90.0
    radius = 90.0 - dec if northwards else 90.0 + dec
    if radius <= 90.0:
        return f"{region} && {_cap(pole, radius, constant)}"
    # pgsphere circles stop at 90 degrees: "reaches the larger cap" is "is not inside the other one".
    return f"NOT ({region} <@ {_cap(-pole, 180.0 - radius, constant)})"


def pos_condition(shape: Shape, region: str, constant: Constant = _as_is) -> str:
    """SQL that is true where the footprint ``region`` (an spoly column) overlaps ``shape``;
    ``constant`` writes each pgsphere value into it.

    Every form is ``region && <pgsphere value>``, which the GiST index answers. A RANGE is made
    of polygons and caps, not pgsphere's sbox: pgsphere 1.1 misses spoly/sbox overlaps where a
    long, thin box crosses a polygon with no corner of either inside the other.
    """
    if isinstance(shape, Circle):
        return f"{region} && {constant('scircle', scircle_literal(shape.ra, shape.dec, shape.radius))}"
    if isinstance(shape, Polygon):
        return f"{region} && {constant('spoly', spoly_literal(list(shape.vertices)))}"
    assert isinstance(shape, Range)
    south, north = shape.dec_min <= -90.0, shape.dec_max >= 90.0
    if shape.full_ra:
        if south and north:
            return f"{region} IS NOT NULL"
        caps = []
        if not south:
            caps.append(_beyond(region, shape.dec_min, True, constant))
        if not north:
            caps.append(_beyond(region, shape.dec_max, False, constant))
        # A footprint is connected: touching both caps means touching the band between them.
        return "(" + " AND ".join(caps) + ")"
    # A range of one longitude is a line; 0.36 arcsec of width make it a polygon pgsphere takes.
    width = (shape.ra_max - shape.ra_min) % 360.0 or 1e-4
    edges = _steps(shape.ra_min, shape.ra_min + width, 90.0)  # pieces of at most 90 degrees
    pieces = [
        f"{region} && {constant('spoly', spoly_literal(_range_piece(a, b, shape.dec_min, shape.dec_max)))}"
        for a, b in zip(edges, edges[1:], strict=False)
    ]
    return pieces[0] if len(pieces) == 1 else "(" + " OR ".join(pieces) + ")"


def _shape(parameter: SIAParameter, value: str, alias: str, constant: Constant) -> str:
    try:
        shape = parse_pos(value)
    except ValueError as exc:
        raise UsageFault(str(exc)) from None
    return pos_condition(shape, _column(parameter.column, alias), constant)


def _interval(parameter: SIAParameter, value: str) -> Interval:
    try:
        return parse_interval(value, parameter.name)
    except ValueError as exc:
        raise UsageFault(str(exc)) from None


def _overlaps(parameter: SIAParameter, value: str, alias: str) -> str:
    interval = _interval(parameter, value)
    low, high = (_column(c, alias) for c in parameter.columns)
    upper = f"{low} <= {float8(interval.high)}" if math.isfinite(interval.high) else f"{low} IS NOT NULL"
    lower = f"{high} >= {float8(interval.low)}" if math.isfinite(interval.low) else f"{high} IS NOT NULL"
    return f"({upper} AND {lower})"


def _contains(parameter: SIAParameter, value: str, alias: str) -> str:
    interval = _interval(parameter, value)
    column = _column(parameter.column, alias)
    parts = []
    if math.isfinite(interval.low):
        parts.append(f"{column} >= {float8(interval.low)}")
    if math.isfinite(interval.high):
        parts.append(f"{column} <= {float8(interval.high)}")
    return "(" + " AND ".join(parts or [f"{column} IS NOT NULL"]) + ")"


def _in_vocabulary(parameter: SIAParameter, value: str) -> str:
    if value not in parameter.vocabulary:
        raise UsageFault(
            f"{parameter.name}: {value!r} is not an {parameter.vocabulary_name}; "
            f"use one of {', '.join(parameter.vocabulary)}"
        )
    return value


def _name_or_spelling(parameter: SIAParameter, value: str, alias: str) -> str:
    """The column equals ``value``, or a name the ingest recorded ``value`` as a spelling of
    (a header's SuprimeCam for the published Suprime-Cam)."""
    given = quote_string(value)
    return (
        f"{_column(parameter.column, alias)} IN (SELECT {given} UNION SELECT s.published FROM {SPELLINGS} AS s "
        f"WHERE s.column_name = {quote_string(parameter.column)} AND s.spelling = {given})"
    )


def _vocabulary(parameter: SIAParameter, value: str, alias: str) -> str:
    return f"{_column(parameter.column, alias)} = {quote_string(_in_vocabulary(parameter, value))}"


def _word(parameter: SIAParameter, value: str, alias: str) -> str:
    state = _in_vocabulary(parameter, value.strip())
    # ObsCore writes the polarization states as a list between slashes: /I/Q/U/.
    return f"strpos({_column(parameter.column, alias)}, {quote_string('/' + state + '/')}) > 0"


def _integer(parameter: SIAParameter, value: str, alias: str) -> str:
    try:
        level = int(value.strip())
    except ValueError:
        raise UsageFault(f"{parameter.name}: {value!r} is not an integer ({parameter.description})") from None
    if str(level) not in parameter.vocabulary:
        raise UsageFault(
            f"{parameter.name}: {level} is not an {parameter.vocabulary_name}; use one of {', '.join(parameter.vocabulary)}"
        )
    return f"{_column(parameter.column, alias)} = {level}"


def _date_range(parameter: SIAParameter, value: str, table: TableMeta, alias: str) -> str:
    bounds = value.split()
    if len(bounds) not in (1, 2):
        raise UsageFault(f"{parameter.name}: expected one ISO 8601 date or two, got {value!r}")
    for bound in bounds:
        try:
            datetime.fromisoformat(bound.replace("Z", "+00:00"))
        except ValueError:
            raise UsageFault(f"{parameter.name}: {bound!r} is not an ISO 8601 date") from None
    if not any(c.name == parameter.column for c in table.columns):
        return "FALSE"  # SIA 2.0 sec. 2.1.18: no release dates here, so nothing matches
    column = f"CAST({_column(parameter.column, alias)} AS timestamptz)"
    if len(bounds) == 1:
        return f"{column} = CAST({quote_string(bounds[0])} AS timestamptz)"
    return f"{column} BETWEEN CAST({quote_string(bounds[0])} AS timestamptz) AND CAST({quote_string(bounds[1])} AS timestamptz)"


_BUILDERS: dict[Constraint, Callable[[SIAParameter, str, str], str]] = {
    Constraint.OVERLAPS: _overlaps,
    Constraint.CONTAINS: _contains,
    Constraint.EQUALS: lambda p, v, a: f"{_column(p.column, a)} = {quote_string(v)}",
    # IVOIDs compare case-insensitively (SIA 2.0 sec. 2.1.11); obscore_did_lower serves this.
    Constraint.EQUALS_NOCASE: lambda p, v, a: f"lower({_column(p.column, a)}) = lower({quote_string(v)})",
    Constraint.EQUALS_OR_SPELLING: _name_or_spelling,
    Constraint.VOCABULARY: _vocabulary,
    Constraint.CONTAINS_WORD: _word,
    Constraint.INTEGER_VOCABULARY: _integer,
}


def _condition(parameter: SIAParameter, value: str, table: TableMeta, alias: str, constant: Constant) -> str:
    try:
        if parameter.constraint is Constraint.SHAPE:
            return _shape(parameter, value, alias, constant)
        if parameter.constraint is Constraint.DATE_RANGE:
            return _date_range(parameter, value, table, alias)
        return _BUILDERS[parameter.constraint](parameter, value, alias)
    except SQLTextError as exc:  # a value SQL text cannot carry (NUL)
        raise UsageFault(f"{parameter.name}: {exc}") from None


def where_clause(
    values: dict[str, list[str]], table: TableMeta, alias: str = ALIAS, constant: Constant = _as_is
) -> str:
    """The WHERE conditions for the parameters in ``values`` (upper-case name -> values), on the
    columns of ``table`` read under ``alias``; ``constant`` writes each pgsphere value into them."""
    product_types = ", ".join(quote_string(t) for t in SIA_PRODUCT_TYPES)
    conditions = [f"{_column('dataproduct_type', alias)} IN ({product_types})"]
    for parameter in PARAMETERS:
        given = values.get(parameter.name, [])
        if not given:
            continue
        alternatives = [_condition(parameter, value, table, alias, constant) for value in given]
        conditions.append(alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")")
    return " AND ".join(conditions)


# The select lists made lately, by the identity of their columns: a catalogue hands the same
# tuple of (frozen) columns to every request until it changes, and the 34 quoted names of
# ObsCore's cost some 13 us a request. The tuple is held with its text, so its identity is not
# reused while the entry lasts.
_SELECT_LISTS: dict[int, tuple[tuple[ColumnMeta, ...], str]] = {}
_SELECT_LISTS_KEPT = 16  # column sets at once: ObsCore as each kind of caller sees it


def select_list(columns: tuple[ColumnMeta, ...]) -> str:
    made = _SELECT_LISTS.get(id(columns))
    if made is not None and made[0] is columns:
        return made[1]
    text = _select_list(columns)
    if len(_SELECT_LISTS) >= _SELECT_LISTS_KEPT:
        _SELECT_LISTS.clear()
    _SELECT_LISTS[id(columns)] = (columns, text)
    return text


def _select_list(columns: tuple[ColumnMeta, ...]) -> str:
    # pgsphere values have no binary form for the Arrow reader; their text (in degrees) is read
    # and turned into STC-S by the writers, as for TAP.
    return ", ".join(
        f"CAST({_column(c.name)} AS text) AS {quote_ident(c.name)}" if c.is_geometry else _column(c.name)
        for c in columns
    )


def build_query(values: dict[str, list[str]], table: TableMeta, maxrec: int) -> PreparedQuery:
    """The query for one SIA request, answering at most ``maxrec`` rows (0: metadata only), with
    its pgsphere constants as parameters as well (when it has any)."""
    where = where_clause(values, table, constant=_marked)
    schema, name = OBSCORE
    # The table as this server publishes it (access_url under its own public URL), when the
    # catalogue says how; else the stored table.
    source = table.sql_name or f"{quote_ident(schema)}.{quote_ident(name)}"
    marked = f"SELECT {select_list(table.columns)} FROM {source} AS {ALIAS} WHERE {where} LIMIT {row_limit(maxrec)}"
    sql, parameterized = _parameterized(marked)
    return PreparedQuery(sql, list(table.columns), maxrec, parameterized=parameterized)


def _parameterized(marked: str) -> tuple[str, Parameterized | None]:
    """The plain SQL of a text whose constants are marked (``_marked``), and the same SQL with
    ``$1`` ... ``$n`` in their places, their types and expressions (None without constants)."""
    pieces = marked.split(_MARK)  # text, type, expression, text, ..., text
    if len(pieces) == 1:
        return marked, None
    texts, types, expressions = pieces[0::3], tuple(pieces[1::3]), tuple(pieces[2::3])
    plain = [texts[0]]
    numbered = [texts[0]]
    for n, (expression, text) in enumerate(zip(expressions, texts[1:], strict=True), start=1):
        plain += (expression, text)
        numbered += (f"${n}", text)
    return "".join(plain), Parameterized("".join(numbered), types, expressions)


def obscore_table(tables: list[TableMeta]) -> TableMeta:
    for table in tables:
        if (table.schema.lower(), table.name.lower()) == OBSCORE:
            return table
    raise TransientFault("this archive publishes no ivoa.obscore table yet")
