"""Result columns as the writers want them: Arrow arrays of the type the column's metadata declares.

The database hands over whatever type PostgreSQL computed (numeric as text, int4 for a COUNT
cast, pgsphere geometry as its degree text); the ADQL translator says what the column *is*
(ColumnMeta). ``canonical`` reconciles the two, column by column, without a Python loop per value.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from adql.catalog import ColumnMeta
from dalserver.formats.cells import scalar
from schemas.model import GEOMETRY_XTYPES

ARROW_TYPES: dict[str, pa.DataType] = {
    "boolean": pa.bool_(),
    "unsignedByte": pa.uint8(),
    "short": pa.int16(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
}
_STCS_SHAPES = {"{": "Polygon ICRS ", "<": "Circle ICRS ", "(": "Position ICRS "}
_SHAPE_MARKS, _STCS_PREFIXES = pa.array(list(_STCS_SHAPES)), pa.array(list(_STCS_SHAPES.values()))
_NOT_A_NUMBER = r"[^-+.0-9eE]+"  # pgsphere text '<(34.1d , -4.9d) , 0.1d>' minus all but the numbers
_NOT_A_NUMBER_RE = re.compile(_NOT_A_NUMBER)
# Up to this many regions, their STC-S is made in Python: on SIA's few rows the nine calls to
# pyarrow.compute (some 10 us each) cost more than the values.
FEW_REGIONS = 64
_LEADING_SPACE = " \t\n\v\f\r\x1c\x1d\x1e\x1f"  # what utf8_ltrim_whitespace takes off ASCII text


def described(meta: ColumnMeta, keys: tuple[str, ...]) -> dict[str, str]:
    """The column's metadata under ``keys`` that is set (for formats that carry it as key/value)."""
    return {key: value for key in keys if (value := getattr(meta, key))}


def arrow_type(meta: ColumnMeta) -> pa.DataType:
    """The Arrow type ``canonical`` turns a column with this metadata into."""
    if meta.xtype in GEOMETRY_XTYPES:
        return pa.list_(pa.float64())
    if meta.datatype in ARROW_TYPES and meta.xtype != "adql:REGION":
        if meta.arraysize and meta.arraysize != "1":
            return pa.list_(ARROW_TYPES[meta.datatype])
        return ARROW_TYPES[meta.datatype]
    return pa.string()


def _storage(array: pa.Array) -> pa.Array:
    if isinstance(array, pa.ExtensionArray):
        return array.storage  # e.g. ADBC's opaque 'numeric' values, carried as text
    return array


def geometry_text(array: pa.Array) -> pa.Array:
    """pgsphere degree text -> the DALI value, numbers separated by single blanks."""
    text = pc.cast(_storage(array), pa.string())
    return pc.utf8_trim(pc.replace_substring_regex(text, _NOT_A_NUMBER, " "), " ")


def geometry_lists(array: pa.Array) -> pa.Array:
    """pgsphere degree text -> lists of float64 (DALI point, circle, polygon)."""
    return pc.cast(pc.split_pattern(geometry_text(array), " "), pa.list_(pa.float64()))


def stcs_text(array: pa.Array) -> pa.Array:
    """pgsphere degree text -> an STC-S region in ICRS (ObsCore's s_region)."""
    text = _as_string(_storage(array))
    if len(text) <= FEW_REGIONS:
        values = text.to_pylist()
        # pgsphere writes ASCII; anything else goes the vectorised way, whose whitespace is Unicode's
        if all(v is None or v.isascii() for v in values):
            return pa.array([None if v is None else _stcs_value(v) for v in values], pa.string())
    return stcs_arrays(text)


def _stcs_value(text: str) -> str:
    """What ``stcs_arrays`` makes of one ASCII text, value by value in Python."""
    prefix = _STCS_SHAPES.get(text.lstrip(_LEADING_SPACE)[:1], "")
    return prefix + _NOT_A_NUMBER_RE.sub(" ", text).strip(" ")


def stcs_arrays(text: pa.Array) -> pa.Array:
    """``stcs_text`` of a string array, by pyarrow.compute: one pass per step over all values."""
    first = pc.utf8_slice_codeunits(pc.utf8_ltrim_whitespace(text), 0, 1)
    prefix = pc.fill_null(pc.take(_STCS_PREFIXES, pc.index_in(first, value_set=_SHAPE_MARKS)), scalar(""))
    return pc.binary_join_element_wise(prefix, geometry_text(text), scalar(""))


def _as_string(array: pa.Array) -> pa.Array:
    # The cast of text that is text already is a call to pyarrow.compute all the same (2 us).
    return array if pa.types.is_string(array.type) else pc.cast(array, pa.string())


def _naive_microseconds(array: pa.Array) -> pa.Array:
    """Timestamps or dates as timestamp[us] without a time zone, as ``pc.cast`` makes them. A
    timestamp[us] with a zone holds the same numbers (microseconds since the epoch, UTC), so it is
    only looked at as one without: the cast is a call to pyarrow.compute, some 13 us on SIA's one
    row (ObsCore's obs_release_date), the view under 1 us."""
    if pa.types.is_timestamp(array.type) and array.type.unit == "us":
        return array.view(pa.timestamp("us"))
    return pc.cast(array, pa.timestamp("us"))


def _timestamps(array: pa.Array) -> pa.Array:
    # DALI timestamps: ISO 8601 with a T, fractions of a second only when there are any. Rare
    # enough in results that one Python call per value costs nothing worth vectorising.
    return pa.array([None if v is None else v.isoformat() for v in array.to_pylist()], pa.string())


def _cast(array: pa.Array, target: pa.DataType) -> pa.Array:
    if array.type == target:
        return array
    if pa.types.is_string(array.type) and pa.types.is_integer(target):
        try:  # numeric text from SUM over bigints: exact, even past 2**53
            return pc.cast(array, target)
        except pa.ArrowInvalid:  # '12.5' where the metadata promises an integer
            return pc.cast(pc.cast(array, pa.float64()), target, safe=False)
    return pc.cast(array, target, safe=False)


def canonical(array: pa.Array, meta: ColumnMeta) -> pa.Array:
    """One result column in the Arrow type its metadata declares.

    Geometry (point, circle, polygon) becomes list<double>, a REGION its STC-S text, numbers the
    declared width, numeric arrays list<number>, everything else text (timestamps in ISO 8601).
    """
    array = _storage(array)
    if meta.xtype in GEOMETRY_XTYPES:
        return geometry_lists(array)
    if meta.xtype == "adql:REGION":
        return stcs_text(array)
    target = ARROW_TYPES.get(meta.datatype)
    if target is not None:
        if meta.arraysize and meta.arraysize != "1":
            if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
                return pc.cast(array, pa.list_(target), safe=False)
            return array
        return _cast(array, target)
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        return _timestamps(_naive_microseconds(array))
    return array if pa.types.is_string(array.type) else pc.cast(array, pa.string(), safe=False)


def canonical_batch(batch: pa.RecordBatch, columns: list[ColumnMeta]) -> list[pa.Array]:
    return [canonical(batch.column(i), meta) for i, meta in enumerate(columns)]
