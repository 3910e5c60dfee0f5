"""CSV, TSV and JSON result writers, batch by batch.

CSV follows RFC 4180 with a header line (nulls are empty fields, empty strings are ""); TSV is
the IANA text/tab-separated-values form (tabs and newlines inside values become spaces, nulls are
empty). JSON is one object: ``metadata`` (the FIELD attributes) and ``data`` (rows as arrays),
the shape the ESA and CDS TAP services use, plus ``overflow`` and ``error`` as DALI states.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Callable
from typing import Any

from adql.catalog import ColumnMeta
from dalserver.formats.limits import Batches, ResultState, limited
from dalserver.formats.votable import dali_geometry, geometry_numbers, stcs_region


def _plain(meta: ColumnMeta) -> Callable[[Any], Any]:
    """Python value -> the value a text format shows (geometry in DALI/STC-S, floats exact)."""
    if meta.xtype == "adql:REGION":
        return lambda v: stcs_region(str(v))
    if meta.xtype in ("point", "circle", "polygon"):
        return lambda v: dali_geometry(str(v))
    if meta.datatype in ("float", "double"):
        return lambda v: repr(float(v))
    if meta.datatype in ("short", "int", "long"):
        return lambda v: str(int(v))
    if meta.datatype == "boolean":
        return lambda v: "true" if v else "false"
    return str


def _csv_field(text: str) -> str:
    if text == "" or any(c in text for c in ',"\r\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


async def csv_stream(columns: list[ColumnMeta], batches: Batches, maxrec: int) -> AsyncIterator[bytes]:
    shows = [_plain(c) for c in columns]
    yield (",".join(_csv_field(c.name) for c in columns) + "\r\n").encode()
    state = ResultState()
    async for batch in limited(batches, maxrec, state):
        lines = []
        for row in batch:
            cells = ["" if v is None else _csv_field(show(v)) for v, show in zip(row, shows, strict=True)]
            lines.append(",".join(cells))
        yield ("\r\n".join(lines) + "\r\n").encode()


def _tsv_field(text: str) -> str:
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


async def tsv_stream(columns: list[ColumnMeta], batches: Batches, maxrec: int) -> AsyncIterator[bytes]:
    shows = [_plain(c) for c in columns]
    yield ("\t".join(_tsv_field(c.name) for c in columns) + "\n").encode()
    state = ResultState()
    async for batch in limited(batches, maxrec, state):
        lines = [
            "\t".join("" if v is None else _tsv_field(show(v)) for v, show in zip(row, shows, strict=True))
            for row in batch
        ]
        yield ("\n".join(lines) + "\n").encode()


def _json_value(meta: ColumnMeta) -> Callable[[Any], Any]:
    if meta.xtype in ("point", "circle", "polygon"):
        return lambda v: geometry_numbers(str(v))
    if meta.datatype in ("float", "double"):
        return lambda v: float(v) if math.isfinite(float(v)) else None  # JSON has no NaN/Inf
    show = _plain(meta)
    if meta.datatype in ("short", "int", "long"):
        return int
    if meta.datatype == "boolean":
        return bool
    return show


async def json_stream(columns: list[ColumnMeta], batches: Batches, maxrec: int) -> AsyncIterator[bytes]:
    metadata = [
        {
            k: v
            for k, v in (
                ("name", c.name),
                ("datatype", c.datatype),
                ("arraysize", c.arraysize),
                ("xtype", c.xtype),
                ("unit", c.unit),
                ("ucd", c.ucd),
                ("utype", c.utype),
                ("description", c.description),
            )
            if v
        }
        for c in columns
    ]
    yield ('{"metadata": ' + json.dumps(metadata, ensure_ascii=False) + ', "data": [').encode()
    values = [_json_value(c) for c in columns]
    state = ResultState()
    first = True
    async for batch in limited(batches, maxrec, state):
        rows = [
            json.dumps([None if v is None else f(v) for v, f in zip(row, values, strict=True)], ensure_ascii=False)
            for row in batch
        ]
        text = ",\n".join(rows)
        yield ((",\n" if not first else "\n") + text).encode()
        first = False
    tail = {"overflow": state.overflow}
    if state.error:
        tail["error"] = state.error  # type: ignore[assignment]
    yield ("\n], " + json.dumps(tail)[1:]).encode()
