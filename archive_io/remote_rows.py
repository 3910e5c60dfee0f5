"""Remote rows into rows of vo.remote_obscore: columns found by name (ObsCore 1.0 and 1.1, any
case; SIA 2.0 answers are ObsCore) or by UCD (SIA 1.0), values converted to the cache's types,
positions checked and given their order-29 HEALPix index. The VO crawler stores such rows; the
federated image search converts its live answers the same way.

ObsCore 1.0 lacks the columns 1.1 added (``s_xel1``, ``t_xel``...): they become NULL, like any
optional column a service does not have; columns the cache does not know are dropped. A row
that cannot be stored faithfully is skipped and counted by reason: no publisher DID, a position
beyond the sphere, a value of the wrong type, an ``s_region`` that is not a region (pgsphere
gets the last word on polygons when the rows are stored).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from archive_io.remote_regions import RegionError, region_vertices
from archive_io.remote_votable import Field, Value
from archive_io.sky_cells import order29
from pgsql_text.pgsphere import spoly_text
from schemas.model import SCHEMAS_DIR, TableDef, load_schema

CACHE_COLUMNS = ("source_ivoid", "source_url", "crawled_at", "healpix29")
# SIA 1.0 answers name their columns by UCD1 (SIA 1.0 sec. 4.2.3): the ones ObsCore can hold.
SIA1_UCDS = {
    "pos_eq_ra_main": "s_ra",
    "pos_eq_dec_main": "s_dec",
    "vox:image_title": "obs_title",
    "vox:image_accessreference": "access_url",
    "vox:image_format": "access_format",
    "vox:image_filesize": "access_estsize",
    "vox:image_mjdateobs": "t_min",
    "vox:bandpass_lolimit": "em_min",
    "vox:bandpass_hilimit": "em_max",
    "inst_id": "instrument_name",
    "vox:image_instrument": "instrument_name",
}


def remote_obscore_table() -> TableDef:
    """vo.remote_obscore as schemas/vo.yaml defines it."""
    schema = load_schema(SCHEMAS_DIR / "vo.yaml")
    return next(t for t in schema.tables if t.name == "remote_obscore")


TABLE = remote_obscore_table()
DATA_COLUMNS = tuple(c.name for c in TABLE.columns if c.name not in CACHE_COLUMNS)
STAGED_COLUMNS = DATA_COLUMNS + CACHE_COLUMNS
_TYPES = {c.name: c.sql_type for c in TABLE.columns}


class ValueProblem(ValueError):
    """A value cannot be held in its column; the message is the skip reason."""


def _text(value: Value, column: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        raise ValueProblem(f"{column}: an array, not text")
    text = str(value)
    return text if text != "" else None


def _integer(value: Value, column: str, bits: int = 64) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool | tuple):
        raise ValueProblem(f"{column}: not an integer")
    number: int | float
    try:
        if isinstance(value, int):
            number = value
        elif isinstance(value, str):
            text = value.strip()
            number = int(text) if text.lstrip("+-").isdigit() else float(text)
        else:
            number = float(value)
    except (TypeError, ValueError):
        raise ValueProblem(f"{column}: not an integer") from None
    if isinstance(number, float):
        if not number.is_integer():
            raise ValueProblem(f"{column}: not an integer")
        number = int(number)
    if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
        raise ValueProblem(f"{column}: integer out of range")
    return number


def _double(value: Value, column: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool | tuple):
        raise ValueProblem(f"{column}: not a number")
    try:
        text = value.strip() if isinstance(value, str) else value
        if isinstance(text, str) and text.lstrip("+-") in ("Inf", "Infinity", "inf"):
            return float(text.replace("Infinity", "inf").replace("Inf", "inf"))
        return float(text)
    except (TypeError, ValueError):
        raise ValueProblem(f"{column}: not a number") from None


def _timestamp(value: Value, column: str) -> datetime | None:
    text = _text(value, column)
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueProblem(f"{column}: not an ISO 8601 date") from None
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


_CONVERT: dict[str, Callable[[Value, str], Any]] = {
    "text": _text,
    "integer": lambda value, column: _integer(value, column, 32),
    "bigint": _integer,
    "double precision": _double,
    "timestamp": _timestamp,
}


@dataclass(frozen=True)
class Source:
    """What every row of one service carries."""

    ivoid: str
    url: str
    kind: str  # obscore-tap, sia2, sia1


@dataclass
class Converted:
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # in STAGED_COLUMNS order
    healpix: list[int | None] = field(default_factory=list)  # order-29 index of each row, None without position
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)  # reason -> a row that had it


def column_map(fields: Sequence[Field], kind: str) -> dict[str, int]:
    """Cache column -> index of the remote FIELD that fills it."""
    found: dict[str, int] = {}
    for i, f in enumerate(fields):
        if kind == "sia1":
            target = SIA1_UCDS.get((f.ucd or "").lower())
        else:
            name = f.name.lower()
            target = name if name in _TYPES and name not in CACHE_COLUMNS else None
        if target and target not in found:
            found[target] = i
    return found


class RowConverter:
    """Converts the rows of one answer; ``fields`` are its FIELDs."""

    def __init__(self, fields: Sequence[Field], source: Source, crawled_at: datetime):
        self.source = source
        self.crawled_at = crawled_at.astimezone(UTC).replace(tzinfo=None)
        self.columns = column_map(fields, source.kind)
        self.xtype = {name: fields[i].xtype for name, i in self.columns.items()}

    def _position(self, cells: Sequence[Value]) -> tuple[float, float] | None:
        """The row's (ra, dec), None without one; ValueProblem when it is not on the sphere."""
        if "s_ra" not in self.columns or "s_dec" not in self.columns:
            return None
        ra, dec = _double(cells[self.columns["s_ra"]], "s_ra"), _double(cells[self.columns["s_dec"]], "s_dec")
        if ra is None or dec is None:
            return None
        if not (math.isfinite(ra) and math.isfinite(dec) and -90.0 <= dec <= 90.0):
            raise ValueProblem("position out of range")
        return ra % 360.0, dec

    def _values(self, cells: Sequence[Value], position: tuple[float, float] | None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, i in self.columns.items():
            if name != "s_region":
                values[name] = _CONVERT[_TYPES[name]](cells[i], name)
        if self.source.kind == "sia1":
            values["obs_publisher_did"] = values.get("access_url")
            values["dataproduct_type"] = "image"
            if values.get("access_estsize") is not None:
                values["access_estsize"] = max(1, values["access_estsize"] // 1024)  # bytes -> kbyte
        if not values.get("obs_publisher_did"):
            raise ValueProblem("no obs_publisher_did")
        if position is None:
            values["s_ra"] = values["s_dec"] = None
        else:
            values["s_ra"], values["s_dec"] = position
        if "s_region" in self.columns:
            try:
                raw = _text(cells[self.columns["s_region"]], "s_region")
                vertices = region_vertices(raw, self.xtype.get("s_region"))
            except (RegionError, ValueProblem):
                raise ValueProblem("bad s_region") from None
            values["s_region"] = spoly_text(vertices) if vertices else None
        return values

    def _skip(self, out: Converted, cells: Sequence[Value], problem: ValueProblem) -> None:
        reason = str(problem)
        out.skipped[reason] += 1
        did = cells[self.columns["obs_publisher_did"]] if "obs_publisher_did" in self.columns else None
        out.examples.setdefault(reason, f"{reason}: {did or 'a row without DID'}")

    def convert(
        self, rows: Sequence[Sequence[Value]], keep: Callable[[int | None], bool] = lambda _: True
    ) -> Converted:
        """The rows whose order-29 cell ``keep`` accepts (None: no position), converted. Positions
        are read first, so that rows a query's circle brought from neighbouring cells cost no more."""
        out = Converted()
        placed: list[tuple[Sequence[Value], tuple[float, float] | None]] = []
        for cells in rows:
            try:
                placed.append((cells, self._position(cells)))
            except ValueProblem as problem:
                self._skip(out, cells, problem)
        located = [p for _, p in placed if p is not None]
        indexes = iter(
            order29(
                np.array([p[0] for p in located], dtype=float), np.array([p[1] for p in located], dtype=float)
            ).tolist()
        )
        for cells, position in placed:
            h = None if position is None else int(next(indexes))
            if not keep(h):
                continue
            try:
                values = self._values(cells, position)
            except ValueProblem as problem:
                self._skip(out, cells, problem)
                continue
            out.rows.append(
                tuple(values.get(name) for name in DATA_COLUMNS)
                + (self.source.ivoid, self.source.url, self.crawled_at, h)
            )
            out.healpix.append(h)
        return out
