"""RESPONSEFORMAT: every offered format answers with its content type, the same values, nulls as
the format requires, and OVERFLOW where the format has a place for it."""

from __future__ import annotations

import csv
import io
import json

import httpx
import numpy as np
import pytest
from astropy.io.votable import parse_single_table

from tests.support.tap import sync
from tests.support.votable import query_status, rows

QUERY = (
    "SELECT TOP 6 obs_id, s_ra, calib_level, t_resolution, pol_states, s_region, "
    "POINT('ICRS', s_ra, s_dec) AS p, 'Ωμέγα \"q\", x' AS txt FROM ivoa.obscore ORDER BY obs_id"
)


@pytest.fixture(scope="module")
def reference(tap_url: str) -> list[list[str | None]]:
    return rows(sync(tap_url, QUERY))


@pytest.mark.parametrize(
    ("value", "content_type"),
    [
        ("votable", "application/x-votable+xml"),
        ("application/x-votable+xml", "application/x-votable+xml"),
        ("votable/b2", "application/x-votable+xml;serialization=binary2"),
        ("application/x-votable+xml;serialization=binary2", "application/x-votable+xml;serialization=binary2"),
        ("csv", "text/csv;header=present"),
        ("text/csv", "text/csv;header=present"),
        ("tsv", "text/tab-separated-values"),
        ("json", "application/json"),
        ("fits", "application/fits"),
        ("parquet", "application/vnd.apache.parquet"),
    ],
)
def test_each_format_has_its_content_type(tap_url: str, value: str, content_type: str) -> None:
    response = sync(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore", RESPONSEFORMAT=value)
    assert response.status_code == 200
    assert response.headers["content-type"].replace(" ", "").startswith(content_type.replace(" ", ""))


def test_format_is_an_alias_of_responseformat(tap_url: str) -> None:
    response = sync(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore", FORMAT="csv")
    assert response.headers["content-type"].startswith("text/csv")


def test_binary2_has_the_same_values_and_masks_nulls(tap_url: str, reference: list[list[str | None]]) -> None:
    response = sync(tap_url, QUERY, RESPONSEFORMAT="votable/b2")
    table = parse_single_table(io.BytesIO(response.content)).to_table()
    assert list(table["obs_id"]) == [r[0] for r in reference]
    assert [float(x) for x in table["s_ra"]] == [float(r[1]) for r in reference]
    assert [int(x) for x in table["calib_level"]] == [int(r[2]) for r in reference]
    assert table["t_resolution"].mask.all()
    # astropy never masks string columns on reading (its own round trip neither); the null flag
    # is checked at the byte level in test_binary2_null_flags_are_set_per_column.
    assert list(table["pol_states"]) == [""] * 6
    assert list(table["s_region"]) == [r[5] for r in reference]
    assert [list(map(float, p)) for p in table["p"]] == [[float(x) for x in r[6].split()] for r in reference]
    assert table["txt"][0] == 'Ωμέγα "q", x'


def test_csv_round_trips_values_and_nulls(tap_url: str, reference: list[list[str | None]]) -> None:
    response = sync(tap_url, QUERY, RESPONSEFORMAT="csv")
    records = list(csv.reader(io.StringIO(response.text)))
    assert records[0] == ["obs_id", "s_ra", "calib_level", "t_resolution", "pol_states", "s_region", "p", "txt"]
    for record, ref in zip(records[1:], reference, strict=True):
        assert record[0] == ref[0] and float(record[1]) == float(ref[1])
        assert record[3] == "" and record[4] == ""
        assert record[5] == ref[5] and record[7] == 'Ωμέγα "q", x'
    assert len(records) == 7


def test_tsv_has_one_line_per_row(tap_url: str, reference: list[list[str | None]]) -> None:
    lines = sync(tap_url, QUERY, RESPONSEFORMAT="tsv").text.splitlines()
    assert lines[0].split("\t")[:3] == ["obs_id", "s_ra", "calib_level"]
    assert [line.split("\t")[0] for line in lines[1:]] == [r[0] for r in reference]


def test_json_carries_metadata_data_and_overflow(tap_url: str, reference: list[list[str | None]]) -> None:
    doc = json.loads(sync(tap_url, QUERY, RESPONSEFORMAT="json").text)
    assert [m["name"] for m in doc["metadata"]][:2] == ["obs_id", "s_ra"]
    assert doc["metadata"][1]["unit"] == "deg"
    assert [row[0] for row in doc["data"]] == [r[0] for r in reference]
    assert doc["data"][0][3] is None and doc["overflow"] is False
    assert doc["data"][0][6] == [float(x) for x in reference[0][6].split()]
    cut = json.loads(sync(tap_url, "SELECT obs_id FROM ivoa.obscore", RESPONSEFORMAT="json", MAXREC="4").text)
    assert len(cut["data"]) == 4 and cut["overflow"] is True


def test_binary2_reports_overflow_after_the_table(tap_url: str) -> None:
    response = sync(tap_url, "SELECT obs_id, s_ra FROM ivoa.obscore", RESPONSEFORMAT="votable/b2", MAXREC="3")
    assert query_status(response)[0] == "OVERFLOW"
    table = parse_single_table(io.BytesIO(response.content)).to_table()
    assert len(table) == 3


def test_binary2_streams_a_whole_table(tap_url: str) -> None:
    response = sync(tap_url, "SELECT * FROM ivoa.obscore", RESPONSEFORMAT="votable/b2")
    table = parse_single_table(io.BytesIO(response.content)).to_table()
    assert len(table) == 132
    assert np.all(np.asarray(table["s_xel1"]) == 110)


def test_capabilities_list_every_format(tap_url: str) -> None:
    text = httpx.get(f"{tap_url}/capabilities").text
    for mime in (
        "serialization=binary2",
        "text/csv",
        "text/tab-separated-values",
        "application/json",
        "application/fits",
        "application/vnd.apache.parquet",
    ):
        assert mime in text


def test_binary2_null_flags_are_set_per_column() -> None:
    import pyarrow as pa

    from adql.catalog import ColumnMeta
    from dalserver.formats.votable import Binary2Encoder

    columns = [ColumnMeta("a", "unicodeChar", "*"), ColumnMeta("b", "double"), ColumnMeta("c", "int")] + [
        ColumnMeta(f"x{i}", "short") for i in range(7)
    ]
    arrays = [pa.array([None, "ok"]), pa.array([1.5, 2.0]), pa.array([None, 3], pa.int32())]
    arrays += [pa.array([i, i], pa.int16()) for i in range(6)] + [pa.array([None, 9], pa.int16())]
    encoded = Binary2Encoder(columns).encode(arrays)
    assert encoded[:2] == bytes([0b1010_0000, 0b0100_0000])  # columns 0, 2 and 9 are null
    assert encoded[2:6] == b"\x00\x00\x00\x00"  # the null string is written with length 0
    second = encoded[2 + 4 + 8 + 4 + 7 * 2 :]  # flags, empty string, double, int, 7 shorts
    assert second[:2] == bytes([0, 0]) and second[2:10] == b"\x00\x00\x00\x02\x00o\x00k"
    assert len(second) == 2 + 8 + 8 + 4 + 7 * 2


def test_parquet_has_the_same_values_metadata_and_status(tap_url: str, reference: list[list[str | None]]) -> None:
    import pyarrow.parquet as pq

    response = sync(tap_url, QUERY, RESPONSEFORMAT="parquet")
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    parquet = pq.ParquetFile(io.BytesIO(response.content))
    table = parquet.read()
    assert table.column("obs_id").to_pylist() == [r[0] for r in reference]
    assert table.column("s_ra").to_pylist() == [float(r[1]) for r in reference]
    assert table.column("t_resolution").null_count == 6 and table.column("pol_states").null_count == 6
    assert table.column("p").to_pylist()[0] == [float(x) for x in reference[0][6].split()]
    assert table.column("txt").to_pylist()[0] == 'Ωμέγα "q", x'
    assert table.schema.field("s_ra").metadata[b"unit"] == b"deg"
    assert parquet.metadata.metadata[b"QUERY_STATUS"] == b"OK"
    cut = pq.ParquetFile(
        io.BytesIO(sync(tap_url, "SELECT obs_id FROM ivoa.obscore", RESPONSEFORMAT="parquet", MAXREC="5").content)
    )
    assert cut.metadata.num_rows == 5 and cut.metadata.metadata[b"QUERY_STATUS"] == b"OVERFLOW"


def test_fits_has_the_same_values_units_nulls_and_status(tap_url: str, reference: list[list[str | None]]) -> None:
    from astropy.io import fits
    from astropy.table import Table

    response = sync(tap_url, QUERY, RESPONSEFORMAT="fits")
    assert len(response.content) % 2880 == 0
    with fits.open(io.BytesIO(response.content)) as hdus:
        header = hdus[1].header
        assert header["NAXIS2"] == 6 and header["QUERY_STATUS"] == "OK"
        assert header["TUNIT2"] == "deg" and header["TUCD2"] == "pos.eq.ra"
    table = Table.read(io.BytesIO(response.content), hdu=1)
    assert list(table["obs_id"]) == [r[0] for r in reference]
    assert [float(x) for x in table["s_ra"]] == [float(r[1]) for r in reference]
    assert [int(x) for x in table["calib_level"]] == [int(r[2]) for r in reference]
    assert np.isnan(np.asarray(table["t_resolution"], dtype=float)).all()
    assert list(table["s_region"]) == [r[5] for r in reference]
    assert [list(p) for p in table["p"]] == [[float(x) for x in r[6].split()] for r in reference]
    cut = sync(tap_url, "SELECT obs_id, pol_xel FROM ivoa.obscore", RESPONSEFORMAT="fits", MAXREC="4")
    with fits.open(io.BytesIO(cut.content)) as hdus:
        assert hdus[1].header["NAXIS2"] == 4 and hdus[1].header["QUERY_STATUS"] == "OVERFLOW"
    masked = Table.read(io.BytesIO(cut.content), hdu=1)
    assert masked["pol_xel"].mask.all()  # integer nulls through TNULL


def test_json_arrays_spell_nan_and_both_infinities_as_null() -> None:
    import pyarrow as pa

    from dalserver.formats.cells import cell_text
    from dalserver.formats.text import JSON

    values = pa.array([[1.5, float("nan"), float("inf"), float("-inf"), None]])
    assert json.loads(cell_text(values, JSON)[0].as_py()) == [1.5, None, None, None, None]
