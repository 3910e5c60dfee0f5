"""What astropy keeps in a Parquet file it writes (``Table.write(..., format="parquet")``): the
``table_meta_yaml`` key holds its ECSV-style header, read here with astropy's own YAML loader.

The header gives each column's unit, description and meta (UCD, utype), the table's meta
(its description), and how columns that are not plain arrays were split into plain ones
(``__serialized_columns__``). A masked column ``x`` is stored as ``x`` and a boolean ``x.mask``:
published, it is one column ``x`` that is null where the mask is set. Other split columns (Time
as ``t.jd1``/``t.jd2``, SkyCoord as ``c.ra``/``c.dec``) stay the plain columns they were written as.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

YAML_KEY = b"table_meta_yaml"


@dataclass(frozen=True)
class Masked:
    """A published column whose values come from ``data`` and whose nulls from the boolean ``mask``."""

    data: str
    mask: str


@dataclass(frozen=True)
class AstropyMeta:
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # by name: unit, description, ucd, utype
    masked: dict[str, Masked] = field(default_factory=dict)  # by the name of its data column
    description: str = ""

    @property
    def mask_columns(self) -> set[str]:
        """The file's columns that only carry masks: not published."""
        return {m.mask for m in self.masked.values()}


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _column_meta(entry: Mapping[str, Any]) -> dict[str, str]:
    meta = entry.get("meta")
    if not isinstance(meta, Mapping):
        meta = {}
    found = {
        "unit": _text(entry.get("unit")),
        "description": _text(entry.get("description")),
        "ucd": _text(meta.get("ucd")),
        "utype": _text(meta.get("utype")),
    }
    return {k: v for k, v in found.items() if v is not None}


def _stored(node: Any) -> tuple[str, str | None, str | None] | None:
    """(values column, mask column, unit) of a serialized column, or None if it is not a plain
    (masked) array or Quantity of one, e.g. a Time or SkyCoord."""
    if not isinstance(node, Mapping):
        return None
    if "name" in node and "__class__" not in node:
        return str(node["name"]), None, None
    if "data" in node and "mask" in node:  # MaskedColumn, astropy.utils.masked.MaskedNDArray
        data, mask = _stored(node["data"]), _stored(node["mask"])
        if data is None or mask is None or data[1] or mask[1]:
            return None
        return data[0], mask[0], data[2]
    if str(node.get("__class__", "")).endswith(".Quantity") and "value" in node:
        value = _stored(node["value"])
        if value is None:
            return None
        return value[0], value[1], _text(node.get("unit")) or value[2]
    return None


def astropy_meta(schema: pa.Schema) -> AstropyMeta:
    """The metadata astropy wrote into this Parquet schema (nothing if it was not astropy); a
    ValueError if it is there but unreadable: without it, masks would be published as data."""
    raw = (schema.metadata or {}).get(YAML_KEY)
    if not raw:
        return AstropyMeta()
    from astropy.table.meta import get_header_from_yaml

    try:
        header = get_header_from_yaml(raw.decode("utf-8").splitlines())
    except Exception as exc:  # astropy raises its own YAML and value errors
        raise ValueError(f"cannot read the astropy table description (table_meta_yaml): {exc}") from None
    entries = [e for e in header.get("datatype") or [] if isinstance(e, Mapping) and "name" in e]
    columns = {str(e["name"]): _column_meta(e) for e in entries}
    table_meta = header.get("meta") if isinstance(header.get("meta"), Mapping) else {}
    masked = {}
    serialized = table_meta.get("__serialized_columns__")
    for name, node in (serialized if isinstance(serialized, Mapping) else {}).items():
        stored = _stored(node)
        if stored is None:
            continue
        data, mask, unit = stored
        if unit and "unit" not in columns.setdefault(data, {}):
            columns[data]["unit"] = unit
        if mask is not None and data in schema.names and mask in schema.names and data == str(name):
            masked[data] = Masked(data, mask)
    return AstropyMeta(columns, masked, str(table_meta.get("description") or ""))


def published_batch(batch: pa.RecordBatch, meta: AstropyMeta, names: list[str]) -> pa.RecordBatch:
    """The columns ``names`` of a batch read from the file, masked values made null."""
    arrays = []
    for name in names:
        values = batch.column(name)
        if name in meta.masked:
            mask = pc.fill_null(batch.column(meta.masked[name].mask), False)
            values = pc.if_else(mask, pa.scalar(None, values.type), values)
        arrays.append(values)
    return pa.RecordBatch.from_arrays(arrays, names=names)
