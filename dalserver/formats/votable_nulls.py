"""Nulls VOTable cannot mark by the cell: elements of integer arrays, and whole fixed-size arrays.

VOTable 1.4 sec. 5.5: "The only way to mark as null individual elements of an array-valued cell is
by use of the magic value mechanism" (VALUES null). So an integer array column declares the most
negative value of its type (255 for unsignedByte) as its null, and a null element is written as
that value, in TABLEDATA and BINARY2 alike; an element that really has that value cannot be told
from a null, and is refused with a message rather than sent as one. Float elements need nothing:
a null element is NaN, as the standard recommends.

A null cell of a fixed-size array (DALI point, circle) is its declared number of null elements:
an empty TD holds no elements, which votlint refuses for arraysize="2"; BINARY2 flags the cell
and fills it likewise.
"""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.compute as pc

from adql.catalog import ColumnMeta
from dalserver.dali.faults import UsageFault
from dalserver.formats.cells import offsets_of
from dalserver.formats.columns import arrow_type
from dalserver.formats.fixed import INTEGER_NULLS


def element_null(meta: ColumnMeta) -> int | None:
    """The VALUES null of an integer array column; None for any other column."""
    if meta.datatype in INTEGER_NULLS and pa.types.is_list(arrow_type(meta)):
        return INTEGER_NULLS[meta.datatype]
    return None


def values_element(meta: ColumnMeta) -> str:
    """The FIELD's VALUES element, or nothing."""
    null = element_null(meta)
    return "" if null is None else f'<VALUES null="{null}"/>'


def fixed_size(meta: ColumnMeta) -> int | None:
    """The element count of a fixed-size array column (arraysize "3", "2x3"); None otherwise."""
    size = meta.arraysize
    if not size or "*" in size or not pa.types.is_list(arrow_type(meta)):
        return None
    try:
        return math.prod(int(n) for n in size.split("x"))
    except ValueError:
        return None


def null_cell(meta: ColumnMeta) -> str:
    """The TABLEDATA cell of a null value of this column."""
    size = fixed_size(meta)
    if size is None:
        return "<TD/>"
    null = element_null(meta)
    element = "NaN" if null is None else str(null)
    return "<TD>" + " ".join([element] * size) + "</TD>"


def _marked(array: pa.Array, meta: ColumnMeta, null: int) -> pa.Array:
    values = array.flatten()  # the elements of the non-null cells, slicing taken care of
    magic = pa.scalar(null, values.type)
    if len(values) and pc.any(pc.equal(values, magic)).as_py():
        raise UsageFault(
            f"column {meta.name!r} has an array element {null}, which VOTable output uses as the null of "
            f"{meta.datatype} array elements (VALUES null) and so cannot send as a value; "
            "RESPONSEFORMAT=parquet or json carries it"
        )
    if not values.null_count:
        return array
    filled = pc.fill_null(values, magic)
    return pa.ListArray.from_arrays(offsets_of(pc.list_value_length(array)), filled, mask=pc.is_null(array))


class NullElementMarker:
    """Fills the null elements of integer arrays with their VALUES null, batch by batch
    (``formats.limits.limited``'s ``prepare``); other columns pass untouched."""

    def __init__(self, columns: list[ColumnMeta]):
        self.columns = columns
        self.nulls = {i: null for i, c in enumerate(columns) if (null := element_null(c)) is not None}

    def __call__(self, arrays: list[pa.Array]) -> list[pa.Array]:
        if not self.nulls:
            return arrays
        return [
            _marked(array, self.columns[i], self.nulls[i]) if i in self.nulls else array
            for i, array in enumerate(arrays)
        ]
