"""The FITS and Parquet writers beyond what every format shares: FITS blocks, header cards, TNULL,
text and arrays; Parquet row groups, field metadata and the status in the footer."""

from __future__ import annotations

import io
import math

import pyarrow as pa
import pyarrow.parquet as pq
from astropy.io import fits
from astropy.table import Table

from adql.catalog import ColumnMeta
from schemas.model import builtin_schemas
from tests.support.readers import read_fits
from tests.support.results import EVERY_TYPE, QueryFailed, batch, every_type_batch, format_named, slices, write

FITS = format_named("fits")
PARQUET = format_named("parquet")


def header_of(data: bytes) -> fits.Header:
    with fits.open(io.BytesIO(data)) as hdus:
        return hdus[1].header.copy()


# --- FITS ----------------------------------------------------------------------------------------
def test_fits_is_an_empty_primary_hdu_then_one_bintable_in_whole_blocks() -> None:
    data = write(FITS, EVERY_TYPE, slices(every_type_batch(50), 7, 13))
    assert len(data) % 2880 == 0
    with fits.open(io.BytesIO(data)) as hdus:
        assert len(hdus) == 2 and hdus[0].data is None and hdus[0].header["EXTEND"] is True
        assert hdus[1].header["EXTNAME"] == "RESULT" and hdus[1].header["NAXIS2"] == 50
        hdus.verify("exception")


def test_fits_integer_nulls_use_tnull_and_only_in_columns_that_have_nulls() -> None:
    columns = [ColumnMeta("with_null", "int"), ColumnMeta("without", "long"), ColumnMeta("small", "short")]
    arrays = [pa.array([1, None], pa.int32()), pa.array([2**62, -1], pa.int64()), pa.array([None, 7], pa.int16())]
    data = write(FITS, columns, [batch(columns, *arrays)])
    header = header_of(data)
    assert header["TNULL1"] == -(2**31) and "TNULL2" not in header and header["TNULL3"] == -(2**15)
    table = Table.read(io.BytesIO(data), hdu=1)
    assert table["with_null"].mask.tolist() == [False, True] and table["small"].mask.tolist() == [True, False]
    assert table["without"].tolist() == [2**62, -1]


def test_fits_logical_nulls_are_the_zero_byte() -> None:
    columns = [ColumnMeta("b", "boolean")]
    data = write(FITS, columns, [batch(columns, pa.array([True, None, False]))])
    assert read_fits(data, columns).column("b") == [True, None, False]


def test_fits_text_columns_are_as_wide_as_the_longest_value_in_utf8_bytes() -> None:
    columns = [ColumnMeta("s", "char", "*")]
    values = ["a", "Ωμέγα 😀", None, ""]
    data = write(FITS, columns, slices(batch(columns, pa.array(values)), 1, 1))
    assert header_of(data)["TFORM1"].strip() == f"{len('Ωμέγα 😀'.encode())}A"
    assert read_fits(data, columns).column("s") == ["a", "Ωμέγα 😀", "", ""]


def test_fits_variable_arrays_are_padded_to_the_longest_with_nan() -> None:
    columns = [ColumnMeta("poly", "double", "*", xtype="polygon")]
    values = ["{(1d , 2d),(3d , 4d),(5d , 6d)}", "{(1d , 2d),(3d , 4d),(5d , 6d),(7d , 8d)}"]
    data = write(FITS, columns, slices(batch(columns, pa.array(values)), 1))
    assert header_of(data)["TFORM1"].strip() == "8D"
    first, second = read_fits(data, columns).column("poly")
    assert (
        first[:6] == [1, 2, 3, 4, 5, 6] and all(math.isnan(v) for v in first[6:]) and second == [1, 2, 3, 4, 5, 6, 7, 8]
    )


def test_fits_header_carries_units_ucds_utypes_descriptions_and_the_status() -> None:
    columns = [ColumnMeta("ra", "double", unit="deg", ucd="pos.eq.ra", utype="obscore:Char.x", description="R.A.")]
    header = header_of(write(FITS, columns, [batch(columns, pa.array([1.0]))]))
    assert (header["TTYPE1"], header["TUNIT1"], header["TUCD1"], header["TUTYP1"], header["TCOMM1"]) == (
        "ra",
        "deg",
        "pos.eq.ra",
        "obscore:Char.x",
        "R.A.",
    )
    assert header["QUERY_STATUS"] == "OK"


def test_fits_header_cards_are_ascii_with_non_ascii_replaced() -> None:
    columns = [ColumnMeta("x", "double", description="Ωmega: ünïcode")]
    data = write(FITS, columns, [batch(columns, pa.array([1.0]))])
    assert header_of(data)["TCOMM1"] == "?mega: ?n?code"


def test_fits_says_overflow_and_error_in_the_header() -> None:
    columns = [ColumnMeta("n", "long")]
    rows = batch(columns, pa.array(range(10), pa.int64()))
    cut = header_of(write(FITS, columns, slices(rows, 3), maxrec=4))
    assert cut["QUERY_STATUS"] == "OVERFLOW" and cut["NAXIS2"] == 4
    failed = header_of(write(FITS, columns, [rows], failure=QueryFailed("out of memory ü")))
    assert failed["QUERY_STATUS"] == "ERROR" and failed["NAXIS2"] == 10
    assert "out of memory ?" in " ".join(str(c) for c in failed["COMMENT"])


def test_fits_keeps_the_whole_obscore_utypes_of_s_ra_and_s_dec() -> None:
    (obscore,) = [t for s in builtin_schemas() for t in s.tables if t.name == "obscore"]
    columns = [obscore.column("s_ra").meta(), obscore.column("s_dec").meta()]
    header = header_of(write(FITS, columns, [batch(columns, pa.array([1.0]), pa.array([2.0]))]))
    assert [header["TUTYP1"], header["TUTYP2"]] == [c.utype for c in columns]


def test_fits_continues_a_description_longer_than_a_card_and_the_header_still_verifies() -> None:
    description = "The 'exposure' time summed over every frame of the stack, " * 4
    columns = [ColumnMeta("t", "double", description=description), ColumnMeta("n", "long", description="short")]
    data = write(FITS, columns, [batch(columns, pa.array([1.0]), pa.array([2], pa.int64()))])
    with fits.open(io.BytesIO(data)) as hdus:
        hdus.verify("exception")
        assert hdus[1].header["TCOMM1"] == description.rstrip() and hdus[1].header["TCOMM2"] == "short"
        assert hdus[1].data["n"][0] == 2


# --- Parquet -------------------------------------------------------------------------------------
def test_parquet_writes_one_row_group_per_batch_as_it_goes() -> None:
    columns = [ColumnMeta("n", "long")]
    parts = slices(batch(columns, pa.array(range(10), pa.int64())), 2, 0, 5)
    data = write(PARQUET, columns, parts)
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [2, 5, 3]


def test_parquet_columns_have_the_declared_arrow_types() -> None:
    schema = pq.ParquetFile(io.BytesIO(write(PARQUET, EVERY_TYPE, [every_type_batch(2)]))).schema_arrow
    assert dict(zip(schema.names, schema.types, strict=True)) == {
        "i2": pa.int16(),
        "i4": pa.int32(),
        "i8": pa.int64(),
        "f4": pa.float32(),
        "f8": pa.float64(),
        "flag": pa.bool_(),
        "txt": pa.string(),
        "sum": pa.int64(),
        "obs_date": pa.string(),
        "pos": pa.list_(pa.float64()),
        "cone": pa.list_(pa.float64()),
        "footprint": pa.list_(pa.float64()),
        "s_region": pa.string(),
        "counts": pa.list_(pa.int32()),
        "weights": pa.list_(pa.float64()),
    }


def test_parquet_footer_says_overflow_and_error_with_its_message() -> None:
    columns = [ColumnMeta("n", "long")]
    rows = batch(columns, pa.array(range(10), pa.int64()))
    cut = pq.ParquetFile(io.BytesIO(write(PARQUET, columns, [rows], maxrec=3))).metadata
    assert cut.metadata[b"QUERY_STATUS"] == b"OVERFLOW" and cut.num_rows == 3
    failed = pq.ParquetFile(io.BytesIO(write(PARQUET, columns, [rows], failure=QueryFailed("lost ü")))).metadata
    assert failed.metadata[b"QUERY_STATUS"] == b"ERROR" and failed.num_rows == 10
    assert failed.metadata[b"QUERY_STATUS_MESSAGE"].decode().endswith("lost ü")
