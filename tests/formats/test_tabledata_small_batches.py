"""TABLEDATA of a few rows is made a type at a time (dalserver.formats.votable.grouped_td_cells):
the document must be byte for byte the one made a column at a time, with nulls, IEEE specials,
XML-special text, arrays and geometry in columns that share a type. No database."""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa
import pytest

from adql.catalog import ColumnMeta
from dalserver.formats import votable
from tests.support.results import EVERY_TYPE, batch, every_type_batch, format_named, write

# Every type twice (the second copy renamed), so that each type's columns are made together.
TWICE = EVERY_TYPE + [replace(c, name=f"{c.name}_again") for c in EVERY_TYPE]


def _twice(rows: int) -> pa.RecordBatch:
    once = every_type_batch(rows)
    return batch(TWICE, *once.columns, *once.columns)


def _specials() -> tuple[list[ColumnMeta], pa.RecordBatch]:
    columns = [ColumnMeta("a", "double"), ColumnMeta("b", "double"), ColumnMeta("c", "float")]
    values = [1.0, float("nan"), float("inf"), float("-inf"), None, 1e300, -0.0]
    return columns, batch(
        columns,
        pa.array(values, pa.float64()),
        pa.array(list(reversed(values)), pa.float64()),
        pa.array([1.5, None, float("nan"), 3.25, float("inf"), 0.1, 2.0], pa.float32()),
    )


@pytest.mark.parametrize("rows", [2, 3, 64])
def test_a_few_rows_of_every_type_are_written_as_a_column_at_a_time(rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    fmt = format_named("votable")
    grouped = write(fmt, TWICE, [_twice(rows)])
    monkeypatch.setattr(votable, "GROUPED_ROWS", -1)  # every batch a column at a time
    assert grouped == write(fmt, TWICE, [_twice(rows)])


def test_nulls_and_ieee_specials_in_columns_of_one_type_keep_their_own_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    fmt = format_named("votable")
    columns, values = _specials()
    grouped = write(fmt, columns, [values])
    assert b"<TD>NaN</TD>" in grouped and b"<TD>+Inf</TD>" in grouped and b"<TD>-Inf</TD>" in grouped
    monkeypatch.setattr(votable, "GROUPED_ROWS", -1)
    assert grouped == write(fmt, columns, [values])


def test_a_batch_above_the_threshold_is_written_a_column_at_a_time() -> None:
    fmt = format_named("votable")
    many = write(fmt, TWICE, [_twice(votable.GROUPED_ROWS + 1)])
    assert many.count(b"<TR>") == votable.GROUPED_ROWS + 1
