"""Values as text, a whole column at a time, and rows joined into one buffer (pyarrow.compute).

Every text writer (TABLEDATA, TSV, JSON, and CSV for geometry and arrays) builds one string array
per column, joins the columns element-wise into rows, and sends the joined buffer as it is: no
Python object per value. Floats are written in the shortest form that reads back as the same
number (Arrow's ``double-conversion``), float32 values as float32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# At least this many arrays with the same text between each are joined by it before the rows are
# made (concatenated_rows): with fewer, the extra pass costs more than it saves.
SEPARATED_RUN = 4
XML_ILLEGAL = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"  # XML 1.0 cannot carry these at all


@lru_cache(maxsize=256)
def scalar(value: str | int | float) -> pa.Scalar:
    """An Arrow scalar for a literal argument of a compute function. pyarrow infers the type of a
    plain Python value on every call, which costs about 0.1 ms, more than the computation itself
    on a small batch: a 30-column row of TABLEDATA took 6 ms that way."""
    return pa.scalar(value)


def _unchanged(text: pa.Array) -> pa.Array:
    return text


@dataclass(frozen=True)
class TextStyle:
    """How a text format spells what is not plain digits or characters (VOTable/DALI by default)."""

    true: str = "T"
    false: str = "F"
    nan: str = "NaN"  # also a null inside an array
    inf: str = "+Inf"
    minus_inf: str = "-Inf"
    list_separator: str = " "
    list_open: str = ""
    list_close: str = ""
    escape: Callable[[pa.Array], pa.Array] = _unchanged  # for text values


def is_list(array: pa.Array) -> bool:
    return bool(pa.types.is_list(array.type))


def number_text(array: pa.Array, style: TextStyle) -> pa.Array:
    """Numbers as text; IEEE specials spelled as the style wants them."""
    text = pc.cast(array, pa.string())
    if pa.types.is_floating(array.type) and len(array) and not pc.all(pc.is_finite(array)).as_py():
        text = pc.if_else(pc.is_nan(array), scalar(style.nan), text)
        text = pc.if_else(pc.equal(array, scalar(float("inf"))), scalar(style.inf), text)
        text = pc.if_else(pc.equal(array, scalar(float("-inf"))), scalar(style.minus_inf), text)
    return text


def list_text(array: pa.Array, style: TextStyle) -> pa.Array:
    """Lists of numbers (DALI geometry, arrays) as their elements joined by the style's separator."""
    text = pc.fill_null(number_text(pc.list_flatten(array), style), scalar(style.nan))
    rebuilt = pa.ListArray.from_arrays(offsets_of(pc.list_value_length(array)), text, mask=pc.is_null(array))
    return pc.binary_join_element_wise(
        scalar(style.list_open),
        pc.binary_join(rebuilt, scalar(style.list_separator)),
        scalar(style.list_close),
        scalar(""),
    )


def cell_text(array: pa.Array, style: TextStyle) -> pa.Array:
    """One column of canonical values (see formats.columns) as text; nulls stay null."""
    if is_list(array):
        return list_text(array, style)
    if pa.types.is_boolean(array.type):
        return pc.if_else(array, scalar(style.true), scalar(style.false))
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
        return number_text(array, style)
    return style.escape(array)


def offsets_of(lengths: pa.Array) -> pa.Array:
    """The offsets of a list array whose lists have these lengths (a null length is an empty list)."""
    counts = np.asarray(pc.fill_null(lengths, 0).to_numpy(zero_copy_only=False), dtype=np.int32)
    return pa.array(np.concatenate([[0], np.cumsum(counts, dtype=np.int32)]), pa.int32())


def xml_escaped(text: pa.Array) -> pa.Array:
    text = pc.replace_substring(text, "&", "&amp;")
    text = pc.replace_substring(text, "<", "&lt;")
    text = pc.replace_substring(text, ">", "&gt;")
    # A raw carriage return reaches the reader as a line feed (XML 1.0 sec. 2.11); a reference does not.
    text = pc.replace_substring(text, "\r", "&#13;")
    return pc.replace_substring_regex(text, XML_ILLEGAL, "\ufffd")


def joined(array: pa.Array) -> bytes:
    """The values of a string/binary array without nulls, concatenated (one copy, no Python loop)."""
    if len(array) == 0:
        return b""
    _, offsets, data = array.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)
    start, end = int(bounds[array.offset]), int(bounds[array.offset + len(array)])
    return bytes(memoryview(data)[start:end])


def concatenated_rows(pieces: list[str | pa.Array]) -> bytes:
    """Each row as its pieces one after the other, all rows in one buffer: a text piece is the same
    on every row, an array gives each row its own value. One pass over the rows, however many
    columns, so a row of seven numbers costs one join rather than one per column."""
    arrays = [p for p in pieces if not isinstance(p, str)]
    if not arrays:
        return b""
    binary = pa.types.is_binary(arrays[0].type)

    def literal(text: str) -> pa.Scalar:
        return pa.scalar(text.encode(), pa.binary()) if binary else scalar(text)

    # The arrays, each with the text before it; then the text after the last.
    before: list[str] = []
    text = ""  # adjacent literals are one
    for piece in pieces:
        if isinstance(piece, str):
            text += piece
        else:
            before.append(text)
            text = ""
    args: list[pa.Array | pa.Scalar] = []
    start = 0
    while start < len(arrays):
        # A run of arrays with the same text between each: joined by it first (a row of seven
        # numbers in TABLEDATA, one "</TD><TD>" between each). The join's per-argument cost is in
        # each row, its separator's is not: two joins cost a third less than one with every text.
        stop = start + 1
        while stop < len(arrays) and before[stop] == before[start + 1]:
            stop += 1
        if before[start]:
            args.append(literal(before[start]))
        if stop - start >= SEPARATED_RUN:
            args.append(pc.binary_join_element_wise(*arrays[start:stop], literal(before[start + 1])))
        else:
            stop = start + 1
            args.append(arrays[start])
        start = stop
    if text:
        args.append(literal(text))
    return joined(pc.binary_join_element_wise(*args, literal("")))


def join_rows(cells: list[pa.Array], separator: str, before: str, after: str) -> bytes:
    """Each row as ``before + cell + separator + cell ... + after``, all rows in one buffer."""
    pieces: list[str | pa.Array] = [before]
    for i, cell in enumerate(cells):
        pieces += [separator, cell] if i else [cell]
    pieces.append(after)
    return concatenated_rows(pieces)
