"""The CSV, TSV and JSON writers beyond what every format shares: RFC 4180 quoting (read with
Python's csv module), the IANA TSV form, and the JSON document's shape and escapes."""

from __future__ import annotations

import csv
import io
import json
import math

import pyarrow as pa

from adql.catalog import ColumnMeta
from tests.support.results import EVERY_TYPE, QueryFailed, batch, every_type_batch, format_named, slices, write

TEXT = [ColumnMeta("s", "char", "*")]


def text_rows(name: str, values: list[str | None], columns: list[ColumnMeta] = TEXT) -> bytes:
    return write(format_named(name), columns, [batch(columns, pa.array(values))])


# --- CSV ---------------------------------------------------------------------------------------
def test_csv_has_a_header_and_crlf_line_ends() -> None:
    data = write(format_named("csv"), EVERY_TYPE, [every_type_batch(2)])
    lines = data.split(b"\r\n")
    assert lines[0].decode() == ",".join(c.name for c in EVERY_TYPE) and lines[-1] == b""
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_csv_quotes_text_so_commas_quotes_line_breaks_and_blanks_survive() -> None:
    values = ["a,b", 'say "hi"', "two\r\nlines", "lf\nonly", "  padded  ", "", "plain"]
    data = text_rows("csv", values)
    assert list(csv.reader(io.StringIO(data.decode(), newline="")))[1:] == [[v] for v in values]


def test_csv_tells_an_empty_text_from_a_null_one() -> None:
    data = text_rows("csv", ["", None, "x"])
    assert data.decode().split("\r\n")[1:4] == ['""', "", '"x"']


def test_csv_header_quotes_column_names_that_need_it() -> None:
    columns = [ColumnMeta("plain", "int"), ColumnMeta('with,comma "and quotes"', "int"), ColumnMeta(" blank", "int")]
    data = write(format_named("csv"), columns, [batch(columns, *(pa.array([1], pa.int32()) for _ in columns))])
    header = next(csv.reader(io.StringIO(data.decode(), newline="")))
    assert header == [c.name for c in columns]


def test_csv_writes_geometry_and_arrays_as_dali_text() -> None:
    data = write(format_named("csv"), EVERY_TYPE, [every_type_batch(2)])
    row = dict(zip(*list(csv.reader(io.StringIO(data.decode(), newline="")))[:2], strict=True))
    assert row["pos"] == "10 -5" and row["cone"] == "10 -5 0.5" and row["counts"] == "1 2 3"
    assert row["s_region"] == "Polygon ICRS 10 -5 10.5 -5 10.25 -4.5" and row["flag"] == "true"


# --- TSV ---------------------------------------------------------------------------------------
def test_tsv_turns_tabs_and_line_breaks_inside_values_into_spaces() -> None:
    data = text_rows("tsv", ["a\tb", "c\r\nd", "e\nf", "<&>\"'"])
    assert data.decode().split("\n") == ["s", "a b", "c  d", "e f", "<&>\"'", ""]


def test_tsv_header_has_no_tabs_inside_names() -> None:
    columns = [ColumnMeta("a\tb", "int"), ColumnMeta("c", "int")]
    data = write(format_named("tsv"), columns, [batch(columns, *(pa.array([1], pa.int32()) for _ in columns))])
    assert data.decode().split("\n")[:2] == ["a b\tc", "1\t1"]


def test_tsv_spells_booleans_and_ieee_specials_in_words() -> None:
    columns = [ColumnMeta("b", "boolean"), ColumnMeta("d", "double")]
    values = [pa.array([True, False, None]), pa.array([math.nan, math.inf, -math.inf])]
    data = write(format_named("tsv"), columns, [batch(columns, *values)])
    assert data.decode().split("\n")[1:4] == ["true\tnan", "false\tinf", "\t-inf"]


# --- JSON --------------------------------------------------------------------------------------
def test_json_is_one_object_of_metadata_data_and_overflow() -> None:
    doc = json.loads(write(format_named("json"), EVERY_TYPE, [every_type_batch(2)]))
    assert list(doc) == ["metadata", "data", "overflow"] and doc["overflow"] is False
    assert [m["name"] for m in doc["metadata"]] == [c.name for c in EVERY_TYPE]
    # Every key is present, null when the column has no value for it: astroquery's TapPlus
    # reads metadata["unit"] and metadata["description"] without checking.
    assert doc["metadata"][9] == {
        "name": "pos",
        "datatype": "double",
        "arraysize": "2",
        "xtype": "point",
        "unit": "deg",
        "ucd": None,
        "utype": None,
        "description": None,
    }
    assert doc["data"][0][9:12] == [[10, -5], [10, -5, 0.5], [10, -5, 10.5, -5, 10.25, -4.5]]
    assert doc["data"][1] == [None] * len(EVERY_TYPE)


def test_json_escapes_control_characters_and_quotes_in_text() -> None:
    values = ["nul\x00 bell\x07", 'quote " backslash \\', "line\nbreak\ttab", "\u2028\u2029", "😀"]
    doc = json.loads(text_rows("json", values))
    assert [row[0] for row in doc["data"]] == values


def test_json_escapes_quotes_and_backslashes_in_batches_without_control_characters() -> None:
    values = ['quote " backslash \\ end\\', "ü\\\"'"]
    assert [row[0] for row in json.loads(text_rows("json", values))["data"]] == values


def test_json_says_overflow_and_error_after_the_data() -> None:
    columns = [ColumnMeta("n", "long")]
    rows = batch(columns, pa.array(range(10), pa.int64()))
    cut = json.loads(write(format_named("json"), columns, slices(rows, 4), maxrec=6))
    assert cut["overflow"] is True and [r[0] for r in cut["data"]] == list(range(6)) and "error" not in cut
    failed = json.loads(write(format_named("json"), columns, [rows], failure=QueryFailed("disk full")))
    assert failed["overflow"] is False and failed["error"].endswith("disk full") and len(failed["data"]) == 10


def test_json_writes_null_for_nan_and_infinities_inside_arrays_too() -> None:
    columns = [ColumnMeta("w", "double", "*"), ColumnMeta("x", "double")]
    values = [pa.array([[1.5, math.nan, math.inf, -math.inf, None]]), pa.array([math.nan])]
    doc = json.loads(write(format_named("json"), columns, [batch(columns, *values)]))
    assert doc["data"] == [[[1.5, None, None, None, None], None]]
