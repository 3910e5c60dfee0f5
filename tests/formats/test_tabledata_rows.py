"""TABLEDATA of a few rows is written in plain Python (dalserver.formats.tabledata_rows): every cell
must be byte for byte what the Arrow path (votable.td_cells) makes of it, for every type the
writers are given (integers of every width, floats with their specials and both notations, nulls,
text needing XML escapes or replacement, booleans, arrays with null elements, sliced arrays).
Hypothesis draws the columns; a seeded bulk run covers random float bit patterns. No database."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dalserver.formats import tabledata_rows, votable
from dalserver.formats.cells import join_rows, number_text
from dalserver.formats.tabledata_rows import FEW_ROWS, double_text, float32_text
from dalserver.formats.tabledata_rows import tabledata_rows as python_rows
from tests.formats.test_bytes_unchanged import (
    CATALOGUE,
    EXTREMES,
    catalogue_batches,
    extremes_batches,
    geometry_batches,
)
from tests.support.results import EVERY_TYPE, every_type_batch, format_named, write

INTEGERS = [pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()]
NULL_CELLS = ["<TD/>", "<TD>NaN NaN</TD>", "<TD>-32768 -32768 -32768</TD>"]
# Text with what XML escapes (& < > and a carriage return) or cannot carry (C0 controls, U+FFFE/F)
SPECIAL_TEXT = st.sampled_from(["&", "<", ">", "\r", "\n", "\t", "\x00", "\x1f", "\ufffe", "\uffff", "]]>", "&amp;"])
TEXT = st.lists(st.one_of(st.text(st.characters(exclude_categories=["Cs"])), SPECIAL_TEXT), max_size=4).map("".join)
# Around Arrow's change of notation (exponent -7/-6 and 9/10), besides anything at all
NOTABLE = st.sampled_from([1e-7, 1e-6, 9.99e-7, 0.0001, 1e9, 9999999999.0, 1e10, 12345678901.5, 1e15, 1e16, 1e21])


def _floats(width: Literal[32, 64]) -> st.SearchStrategy[float]:
    return st.one_of(st.floats(width=width), NOTABLE.map(lambda v: float(np.float32(v)) if width == 32 else v))


def _values(kind: pa.DataType) -> st.SearchStrategy[Any]:
    if pa.types.is_integer(kind):
        info = np.iinfo(kind.to_pandas_dtype())
        return st.integers(int(info.min), int(info.max))
    if pa.types.is_floating(kind):
        return _floats(32 if kind.bit_width == 32 else 64)
    if pa.types.is_boolean(kind):
        return st.booleans()
    if pa.types.is_list(kind):
        return st.lists(st.one_of(st.none(), _values(kind.value_type)), max_size=4)
    return TEXT


KINDS = [
    *INTEGERS,
    pa.float32(),
    pa.float64(),
    pa.bool_(),
    pa.string(),
    *(pa.list_(k) for k in (pa.float64(), pa.float32(), pa.int32(), pa.int16(), pa.int64(), pa.uint8())),
]


@st.composite
def columns(draw: st.DrawFn) -> tuple[list[pa.Array], list[str]]:
    """Some columns of canonical types, ``rows`` values each with nulls, some arrays sliced."""
    rows = draw(st.integers(1, 40))
    arrays, nulls = [], []
    for kind in draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=8)):
        before, after = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        values = draw(
            st.lists(
                st.one_of(st.none(), _values(kind)), min_size=rows + before + after, max_size=rows + before + after
            )
        )
        arrays.append(pa.array(values, kind).slice(before, rows))
        nulls.append(draw(st.sampled_from(NULL_CELLS)))
    return arrays, nulls


def arrow_rows(arrays: list[pa.Array], nulls: list[str]) -> bytes:
    """The rows as the Arrow path writes them, a column at a time."""
    return join_rows([votable.td_cells(a, n) for a, n in zip(arrays, nulls, strict=True)], "", "<TR>", "</TR>\n")


@given(columns())
def test_a_few_rows_of_any_type_are_written_as_the_arrow_path_writes_them(
    drawn: tuple[list[pa.Array], list[str]],
) -> None:
    arrays, nulls = drawn
    assert python_rows(arrays, nulls) == arrow_rows(arrays, nulls)


@given(st.lists(_floats(64), min_size=1, max_size=20), st.lists(_floats(32), min_size=1, max_size=20))
def test_floats_are_laid_out_as_arrow_lays_them_out(doubles: list[float], singles: list[float]) -> None:
    style = votable.TABLEDATA
    assert [double_text(v) for v in doubles] == number_text(pa.array(doubles, pa.float64()), style).to_pylist()
    assert [float32_text(v) for v in singles] == number_text(pa.array(singles, pa.float32()), style).to_pylist()


@pytest.mark.parametrize("width", [64, 32])
def test_random_float_bit_patterns_are_written_as_arrow_writes_them(width: int) -> None:
    rng = np.random.default_rng(28 + width)
    unsigned, floating = (np.uint64, np.float64) if width == 64 else (np.uint32, np.float32)
    bits = rng.integers(0, 2**width, 20_000, dtype=np.uint64).astype(unsigned)
    # and decimal values of 1 to 17 digits at every exponent Arrow may write either way
    digits = rng.integers(1, 10 ** rng.integers(1, 18, 4_000), dtype=np.int64).astype(np.float64)
    exponents = rng.integers(-12, 25, 4_000)
    decimal = (digits * 10.0 ** (exponents - np.floor(np.log10(digits)))).astype(floating)
    values = np.concatenate([bits.view(floating), decimal])
    text = double_text if width == 64 else float32_text
    expected = number_text(pa.array(values), votable.TABLEDATA).to_pylist()
    assert [text(v) for v in values.tolist()] == expected


def test_floats_at_the_edges_of_each_notation_are_written_as_arrow_writes_them() -> None:
    edges = [0.0, -0.0, math.nan, math.inf, -math.inf, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308]
    edges += [1e-7, 1e-6, 1.5e-6, 9.99e-7, 1e-5, 1e-4, 123.0, 1e9, 9999999999.0, 9999999999.5, 1e10, 1.5e10, 1e15, 1e16]
    edges += [-v for v in edges]
    style = votable.TABLEDATA
    assert [double_text(v) for v in edges] == number_text(pa.array(edges, pa.float64()), style).to_pylist()
    singles = pa.array(edges, pa.float32())
    assert [float32_text(v) for v in singles.to_pylist()] == number_text(singles, style).to_pylist()


def test_a_column_python_does_not_write_leaves_the_batch_to_the_arrow_path() -> None:
    arrays = [pa.array([1, 2], pa.int32()), pa.array([[True, None], None], pa.list_(pa.bool_()))]
    nulls = ["<TD/>", "<TD/>"]
    assert python_rows(arrays, nulls) is None
    assert votable.encode_tabledata(arrays, nulls) == arrow_rows(arrays, nulls)


@pytest.mark.parametrize(
    ("name", "columns", "batches"),
    [
        ("every type", EVERY_TYPE, lambda: [every_type_batch(2), every_type_batch(5)]),
        ("extremes", EXTREMES, extremes_batches),
        ("geometry", EVERY_TYPE, geometry_batches),
        ("catalogue", CATALOGUE, catalogue_batches),
    ],
)
def test_a_document_of_few_rows_is_the_one_the_arrow_path_writes(
    name: str, columns: list[Any], batches: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fmt = format_named("votable")
    small = [b.slice(0, FEW_ROWS) for b in batches()]
    python = write(fmt, columns, small)
    monkeypatch.setattr(votable, "FEW_ROWS", -1)  # every batch by pyarrow.compute
    assert python == write(fmt, columns, small), name


def test_a_batch_above_the_threshold_is_left_to_the_arrow_path(monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[int] = []

    def spy(arrays: list[pa.Array], nulls: list[str]) -> bytes | None:
        written.append(len(arrays[0]))
        return python_rows(arrays, nulls)

    monkeypatch.setattr(votable, "tabledata_rows", spy)
    rows = every_type_batch(FEW_ROWS + 1)
    fmt = format_named("votable")
    write(fmt, EVERY_TYPE, [rows.slice(0, FEW_ROWS), rows])
    assert written == [FEW_ROWS]
    assert tabledata_rows.FEW_ROWS == FEW_ROWS
