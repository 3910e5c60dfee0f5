"""A Simple Cone Search 1.03 request as a prepared query: RA, DEC, SR (degrees), VERB and MAXREC
checked, then written as the ADQL cone ``CONTAINS(POINT(ra, dec), CIRCLE(RA, DEC, SR)) = 1`` and
translated by the ADQL translator, whose index rewrite turns it into the form the table's
pgsphere position index serves (the one the ingest built). Nearest sources come first.

SCS 1.03 clients find the identifier and the position by UCD1: those three columns carry
``ID_MAIN``, ``POS_EQ_RA_MAIN`` and ``POS_EQ_DEC_MAIN`` in the answer (and their own UCD1+
everywhere else).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from adql import ADQLError, Catalog, to_postgres
from adql.cache import TranslationCache
from adql.reserved import adql_name
from dalserver.dali.faults import UsageFault
from dalserver.dali.params import DALIParams
from dalserver.pipeline import PreparedQuery, row_limit
from dalserver.settings import Settings
from schemas.tableset import TapTable

SCS_UCDS = {"id": "ID_MAIN", "ra": "POS_EQ_RA_MAIN", "dec": "POS_EQ_DEC_MAIN"}


@dataclass(frozen=True)
class ConeTable:
    """A table cone search serves: its name, position and identifier columns, and which of its
    columns are principal (VERB=2)."""

    name: str  # schema.table
    ra: str
    dec: str
    id: str
    principal: tuple[str, ...]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Cone:
    ra: float
    dec: float
    sr: float
    verb: int
    maxrec: int


def cone_table(name: str, position: tuple[str, str], table: TapTable) -> ConeTable:
    """``table`` as TAP_SCHEMA describes it."""
    columns = [c.bare_name for c in table.columns]
    by_ucd = {(c.ucd or "").lower(): c.bare_name for c in reversed(table.columns)}
    ident = (
        by_ucd.get("meta.id;meta.main")
        or ("obs_publisher_did" if "obs_publisher_did" in columns else None)
        or next((c for c in columns if c.lower() in ("id", "source_id", "objid", "obj_id", "name")), None)
        or columns[0]
    )
    principal = tuple(c.bare_name for c in table.columns if c.principal)
    return ConeTable(name, position[0], position[1], ident, principal, tuple(columns))


def _number(params: DALIParams, name: str, low: float, high: float, what: str) -> float:
    raw = params.get(name)
    if raw is None or not raw.strip():
        raise UsageFault(f"{name} is missing: give {what}")
    try:
        value = float(raw.strip())
    except ValueError:
        raise UsageFault(f"{name}={raw!r} is not a number; give {what}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise UsageFault(f"{name}={raw.strip()} is out of range: {what} must be between {low:g} and {high:g}")
    return value


def parse_cone(params: DALIParams, settings: Settings) -> Cone:
    ra = _number(params, "RA", 0.0, 360.0, "the right ascension in degrees (ICRS)")
    dec = _number(params, "DEC", -90.0, 90.0, "the declination in degrees (ICRS)")
    sr = _number(params, "SR", 0.0, settings.scs_max_sr, "the search radius in degrees")
    raw_verb = params.get("VERB")
    verb = 2
    if raw_verb is not None and raw_verb.strip():
        if raw_verb.strip() not in ("1", "2", "3"):
            raise UsageFault(f"VERB={raw_verb!r}: give 1 (identifier and position), 2 (principal columns) or 3 (all)")
        verb = int(raw_verb)
    maxrec = params.maxrec(settings)
    if sr == 0:
        maxrec = 0  # SCS 1.03: SR=0 asks for the columns the answer would have, no rows
    return Cone(ra, dec, sr, verb, maxrec)


def _selected(table: ConeTable, verb: int) -> list[str]:
    core = [table.id, table.ra, table.dec]
    if verb == 1:
        chosen = core
    elif verb == 2:
        chosen = core + [c for c in table.principal if c not in core]
    else:
        chosen = core + [c for c in table.columns if c not in core]
    return list(dict.fromkeys(chosen))


def cone_adql(table: ConeTable, cone: Cone) -> str:
    columns = ", ".join(adql_name(c) for c in _selected(table, cone.verb))
    ra, dec = adql_name(table.ra), adql_name(table.dec)
    centre = f"POINT('ICRS', {cone.ra!r}, {cone.dec!r})"
    return (
        f"SELECT {columns} FROM {table.name} "
        f"WHERE 1 = CONTAINS(POINT('ICRS', {ra}, {dec}), CIRCLE('ICRS', {cone.ra!r}, {cone.dec!r}, {cone.sr!r})) "
        f"ORDER BY DISTANCE(POINT('ICRS', {ra}, {dec}), {centre}) ASC"
    )


def prepare_cone(
    table: ConeTable, cone: Cone, catalog: Catalog, translations: TranslationCache | None = None
) -> PreparedQuery:
    translate = to_postgres if translations is None else translations.translate
    try:
        translation = translate(cone_adql(table, cone), catalog, row_limit(cone.maxrec))
    except ADQLError as exc:  # the table changed under us (dropped, or columns renamed)
        raise UsageFault(f"{table.name} cannot be searched now: {exc}") from exc
    roles = {table.id: SCS_UCDS["id"], table.ra: SCS_UCDS["ra"], table.dec: SCS_UCDS["dec"]}
    columns = []
    for out in translation.output:
        meta = out.meta
        ucd = roles.get(meta.name)
        if ucd is not None:
            meta = replace(meta, ucd=ucd)
        columns.append(meta)
    return PreparedQuery(translation.sql, columns, cone.maxrec, parameterized=translation.parameterized)
