"""What a live service is asked for one federated search, by the kind of service the crawler found
(crawl.service.kind): ADQL over its ObsCore table (obscore-tap), the search's own SIA 2.0
parameters (sia2), or a box around the region (sia1).

The request only needs to be a superset of the answer: every row that comes back is filtered
afterwards by the same SQL as the cache's rows (``dalserver.federated.query``). So constraints a
service may not understand are left out rather than risked (RELEASEDATE, spellings of names),
and a region is sent as the circle around it. Plain ADQL 2.0 where it can be (``'ICRS'`` in
CIRCLE, ``1=INTERSECTS``), as pyvo.discover asks ObsCore services.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dalserver.dali.values import Circle, parse_interval
from dalserver.sia.parameters import BY_NAME, PARAMETERS, SIA_PRODUCT_TYPES, Constraint

OBSCORE_TAP = "obscore-tap"
SIA2 = "sia2"
SIA1 = "sia1"
KINDS = (OBSCORE_TAP, SIA2, SIA1)

Params = list[tuple[str, str]]


@dataclass(frozen=True)
class RemoteRequest:
    """One GET: the URL and its parameters (names may repeat)."""

    url: str
    params: Params


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _number(value: float) -> str:
    return repr(float(value))


def _circle(c: Circle) -> str:
    return f"CIRCLE('ICRS', {_number(c.ra)}, {_number(c.dec)}, {_number(c.radius)})"


def _interval_condition(name: str, constraint: Constraint, columns: tuple[str, ...], value: str) -> str:
    interval = parse_interval(value, name)
    if constraint is Constraint.OVERLAPS:
        low, high = columns
        parts = [f"{low} <= {_number(interval.high)}" if math.isfinite(interval.high) else f"{low} IS NOT NULL"]
        parts.append(f"{high} >= {_number(interval.low)}" if math.isfinite(interval.low) else f"{high} IS NOT NULL")
    else:
        column = columns[0]
        parts = [f"{column} >= {_number(interval.low)}"] if math.isfinite(interval.low) else []
        parts += [f"{column} <= {_number(interval.high)}"] if math.isfinite(interval.high) else []
        parts = parts or [f"{column} IS NOT NULL"]
    return "(" + " AND ".join(parts) + ")"


def _adql_condition(name: str, value: str) -> str | None:
    """ADQL for one value of one SIA parameter; None where it is better left to the local filter."""
    parameter = BY_NAME[name]
    column = parameter.column
    kind = parameter.constraint
    if kind in (Constraint.OVERLAPS, Constraint.CONTAINS):
        return _interval_condition(name, kind, parameter.columns, value)
    if kind is Constraint.CONTAINS_WORD:
        return f"{column} LIKE {_string('%/' + value.strip() + '/%')}"
    if kind is Constraint.INTEGER_VOCABULARY:
        return f"{column} = {int(value.strip())}"
    if kind in (Constraint.EQUALS, Constraint.VOCABULARY, Constraint.EQUALS_NOCASE):
        return f"{column} = {_string(value)}"
    return None  # SHAPE (sent as circles), spellings and release dates: filtered here afterwards


def constrained_columns(values: dict[str, list[str]]) -> set[str]:
    """The ObsCore columns the search constrains: a service without one of them has no row to give."""
    columns = {"dataproduct_type"}
    for parameter in PARAMETERS:
        if values.get(parameter.name):
            columns.update(parameter.columns)
    return columns


def obscore_adql(table: str, columns: Sequence[str], values: dict[str, list[str]], circles: list[Circle] | None) -> str:
    """The ADQL asking an ObsCore table for the rows that may answer the search."""
    types = ", ".join(_string(t) for t in SIA_PRODUCT_TYPES)
    conditions = [f"dataproduct_type IN ({types})"]
    if circles:
        conditions.append(
            "(" + " OR ".join(f"1=INTERSECTS({_circle(c)}, s_region)" for c in circles) + ")"
            if len(circles) > 1
            else f"1=INTERSECTS({_circle(circles[0])}, s_region)"
        )
    for parameter in PARAMETERS:
        if parameter.constraint is Constraint.SHAPE:
            continue
        alternatives = [_adql_condition(parameter.name, v) for v in values.get(parameter.name, [])]
        known = [a for a in alternatives if a is not None]
        if not known or len(known) < len(alternatives):
            continue
        conditions.append(known[0] if len(known) == 1 else "(" + " OR ".join(known) + ")")
    select = ", ".join(columns) if columns else "*"
    return f"SELECT {select} FROM {table} WHERE " + " AND ".join(conditions)


def tap_request(
    base_url: str,
    table: str,
    columns: Sequence[str],
    values: dict[str, list[str]],
    circles: list[Circle] | None,
    maxrec: int,
    response_format: str | None,
) -> RemoteRequest:
    adql = obscore_adql(table, columns, values, circles)
    params = [
        ("REQUEST", "doQuery"),
        ("LANG", "ADQL"),
        ("QUERY", adql),
        ("MAXREC", str(maxrec)),
        ("RESPONSEFORMAT", response_format or "votable"),
    ]
    return RemoteRequest(f"{base_url.rstrip('/')}/sync", params)


def sia2_request(query_url: str, values: dict[str, list[str]], maxrec: int) -> RemoteRequest:
    """The search's own SIA 2.0 parameters, as given (an SIA 2.0 service understands them all)."""
    params = [(p.name, value) for p in PARAMETERS for value in values.get(p.name, [])]
    params.append(("MAXREC", str(maxrec)))
    return RemoteRequest(query_url, params)


def sia1_request(query_url: str, circle: Circle, maxrec: int) -> RemoteRequest:
    """SIA 1.0's region is a box of SIZE degrees around POS: the box around the circle."""
    params = [
        ("POS", f"{_number(circle.ra)},{_number(circle.dec)}"),
        ("SIZE", _number(2 * circle.radius)),
        ("FORMAT", "ALL"),
        ("MAXREC", str(maxrec)),
    ]
    return RemoteRequest(query_url, params)
