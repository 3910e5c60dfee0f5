"""TABLEDATA rows of a small batch, written value by value in plain Python.

On a few rows the Arrow path's time is in its calls to pyarrow.compute (some 10 µs each, several per
column type), not in the values: SIA's one ObsCore row of 34 columns took 240 µs that way, 40 here.
Each column's values come out of Arrow with one ``to_pylist`` (about 0.1 µs a column) and are made
text in Python, in the very bytes ``votable.td_cells`` makes of them: Arrow writes a float as the shortest
digits that read back as the same number (double-conversion's ``ToShortest``; float32 values as
float32), in decimal notation when its exponent is -6 to 9 and as ``1.5e+10``, ``1e-7`` otherwise.
Python's ``repr`` (numpy's for float32) finds the same shortest digits, laid out differently; they
are laid out again here. tests/formats/test_tabledata_rows.py holds the two paths to the same bytes
over every type the writers are given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from dalserver.formats.cells import XML_ILLEGAL, TextStyle, number_text

# Up to this many rows a batch is written here. bench/tabledata_rows.py measures where the Arrow
# path catches up: some 100 rows for a cone's five numbers, 300 or more for ObsCore's 34 columns.
FEW_ROWS = 64

_ILLEGAL = re.compile(XML_ILLEGAL)
# A null cell stands as this text in <TD>...</TD> until the rows are joined; no written value
# holds it (text has its control characters replaced).
_NULL = "\x01"
_NULL_CELL = f"<TD>{_NULL}</TD>"
# Up to this many values a float column's numbers are made text in Python, beyond by Arrow's
# number_text (three calls, some 15 µs): numpy finds a float32's digits in some 1.6 µs, repr a
# float64's in 0.4 (measured where the two cost the same: 9 and 48 values).
FEW_FLOAT32 = 8
FEW_DOUBLES = 48
_VOTABLE = TextStyle()  # VOTable's spellings of specials (the TABLEDATA style's, escaping aside)
_DECIMAL_DIGITS = 10  # Arrow writes up to 10 digits before the point (exponent 9) in decimal notation
_LOWEST_DECIMAL_EXPONENT = -6  # and down to 0.000001

Texts = Callable[[list[Any], pa.Array], list[str]]  # a column's values (no nulls) as text


def arrow_float_text(shortest: str) -> str:
    """Arrow's layout of a number whose shortest digits Python (or numpy) wrote as ``shortest``
    (``repr``'s layout: ``123.0``, ``0.0001``, ``1e-05``, ``1.5e+16``; ``nan``, ``inf``)."""
    if shortest[-1] == "n":
        return "NaN"
    if shortest[-1] == "f":
        return "-Inf" if shortest[0] == "-" else "+Inf"
    if "e" not in shortest:
        if shortest.endswith(".0"):
            shortest = shortest[:-2]
        point = shortest.find(".")
        whole = (point if point >= 0 else len(shortest)) - (shortest[0] == "-")
        if whole <= _DECIMAL_DIGITS:
            return shortest  # the usual case, already as Arrow writes it
    return _laid_out(shortest)


def _laid_out(shortest: str) -> str:
    """A number in decimal or exponent notation as Arrow lays it out, from its digits and exponent."""
    sign = "-" if shortest[0] == "-" else ""
    unsigned = shortest[len(sign) :]
    mantissa, _, power = unsigned.partition("e")
    whole, _, fraction = mantissa.partition(".")
    # the value is 0.DIGITS times ten to the (exponent + 1)
    exponent = int(power or 0) + len(whole) - 1
    digits = (whole + fraction).rstrip("0")
    stripped = digits.lstrip("0")
    exponent -= len(digits) - len(stripped)
    digits = stripped or "0"
    if _LOWEST_DECIMAL_EXPONENT <= exponent < _DECIMAL_DIGITS:
        if exponent < 0:
            return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
        if len(digits) <= exponent + 1:
            return sign + digits + "0" * (exponent + 1 - len(digits))
        return f"{sign}{digits[: exponent + 1]}.{digits[exponent + 1 :]}"
    tail = f".{digits[1:]}" if len(digits) > 1 else ""
    return f"{sign}{digits[0]}{tail}e{exponent:+d}"


def double_text(value: float) -> str:
    return arrow_float_text(repr(value))


def float32_text(value: float) -> str:
    shortest = str(np.float32(value))
    # numpy's choice of notation is its own (1.6777216e+07): only its digits are relied on
    return arrow_float_text(shortest) if shortest[-1] in "nf" else _laid_out(shortest)


def _integers(present: list[Any], array: pa.Array) -> list[str]:
    return list(map(str, present))


def _booleans(present: list[Any], array: pa.Array) -> list[str]:
    return ["T" if v else "F" for v in present]


def _arrow_numbers(array: pa.Array) -> list[str]:
    """The column's numbers as the Arrow path writes them, by its own calls (not its cells)."""
    return [t for t in number_text(array, _VOTABLE).to_pylist() if t is not None]


def _doubles(present: list[Any], array: pa.Array) -> list[str]:
    if len(present) > FEW_DOUBLES:
        return _arrow_numbers(array)
    texts = list(map(repr, present))
    # Whether arrow_float_text would change any of them, found over the whole column at once: an
    # exponent, nan or inf (letters), a ".0" ending, 11 digits or more before the point.
    joined = "\x00".join(texts) + "\x00"
    if "e" in joined or "n" in joined or "f" in joined or ".0\x00" in joined:
        return list(map(arrow_float_text, texts))
    if max(present) >= 1e10 or min(present) <= -1e10:
        return list(map(arrow_float_text, texts))
    return texts


def _floats32(present: list[Any], array: pa.Array) -> list[str]:
    if len(present) <= FEW_FLOAT32:
        return list(map(float32_text, present))
    return _arrow_numbers(array)


def xml_text(value: str) -> str:
    """As cells.xml_escaped: the XML specials and a carriage return as references, what XML 1.0
    cannot carry replaced."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return _ILLEGAL.sub("\ufffd", value)


def _strings(present: list[Any], array: pa.Array) -> list[str]:
    # The usual case, nothing to escape in the whole column, found by string methods: a regular
    # expression takes some 15 ns a character. A carriage return, a control character and U+FFFE/F
    # are not printable.
    joined = "".join(present)
    if joined.isprintable() and "&" not in joined and "<" not in joined and ">" not in joined:
        return present
    return list(map(xml_text, present))


def _lists(element: Callable[[Any], str]) -> Texts:
    def texts(present: list[Any], array: pa.Array) -> list[str]:
        return [" ".join(["NaN" if v is None else element(v) for v in values]) for values in present]

    return texts


_ELEMENT_TEXT: dict[pa.DataType, Callable[[Any], str]] = {pa.float64(): double_text, pa.float32(): float32_text}


@lru_cache(maxsize=64)
def _column_texts(kind: pa.DataType) -> Texts | None:
    """How the values of an Arrow type become cell text; None for a type left to the Arrow path."""
    if pa.types.is_string(kind):
        return _strings
    if pa.types.is_boolean(kind):
        return _booleans
    if pa.types.is_integer(kind):
        return _integers
    if pa.types.is_float64(kind):
        return _doubles
    if pa.types.is_float32(kind):
        return _floats32
    if pa.types.is_list(kind):
        value_type = kind.value_type
        if pa.types.is_integer(value_type):
            return _lists(str)
        if value_type in _ELEMENT_TEXT:
            return _lists(_ELEMENT_TEXT[value_type])
    return None


def _null_text(null_cell: str) -> str | None:
    """What stands for a null of the column between <TD> and </TD> until the rows are joined."""
    if null_cell == "<TD/>":
        return _NULL
    if null_cell.startswith("<TD>") and null_cell.endswith("</TD>"):
        return null_cell[4:-5]
    return None


def tabledata_rows(arrays: list[pa.Array], null_cells: list[str]) -> bytes | None:
    """The TABLEDATA rows of these columns, as ``votable.encode_tabledata`` writes them; None when
    a column is of a type written only by the Arrow path (or holds text that is not UTF-8)."""
    columns: list[list[str]] = []
    for array, null_cell in zip(arrays, null_cells, strict=True):
        texts, null = _column_texts(array.type), _null_text(null_cell)
        if texts is None or null is None:
            return None
        nulls, rows = array.null_count, len(array)
        if nulls == rows:
            columns.append([null] * rows)
            continue
        try:
            values = array.to_pylist()
        except UnicodeDecodeError:
            return None
        present = [v for v in values if v is not None] if nulls else values
        written = texts(present, array)
        if nulls:
            each = iter(written)
            written = [null if v is None else next(each) for v in values]
        columns.append(written)
    rows_text = "".join(["<TR><TD>" + "</TD><TD>".join(row) + "</TD></TR>\n" for row in zip(*columns, strict=True)])
    return rows_text.replace(_NULL_CELL, "<TD/>").encode()
