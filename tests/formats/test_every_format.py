"""Every output format (formats.registry.FORMATS) written from in-memory Arrow batches, as the ADBC
driver delivers them, and read back with a reader that is not ours: values of every type, nulls,
text, integers past 2**53, floats bit for bit, empty results, MAXREC, a query failing after the
first batch, many batches, column metadata. No database: the batches are the writers' input."""

from __future__ import annotations

import datetime
import math
import struct
from typing import Any

import pyarrow as pa
import pytest

from adql.catalog import ColumnMeta
from dalserver.dali.faults import UsageFault
from dalserver.formats.registry import FORMATS
from tests.support.readers import WITH_STATUS, read, same_float
from tests.support.results import (
    EVERY_TYPE,
    EVERY_TYPE_VALUES,
    FORMAT_NAMES,
    QueryFailed,
    batch,
    every_type_batch,
    format_named,
    numeric,
    slices,
    write,
)


@pytest.fixture(params=FORMAT_NAMES)
def name(request: pytest.FixtureRequest) -> str:
    """Each output format, by its RESPONSEFORMAT short name."""
    return str(request.param)


def test_every_output_format_is_tested_here() -> None:
    assert sorted(FORMAT_NAMES) == sorted(f.aliases[0] for f in FORMATS) and len(FORMAT_NAMES) == 7


def written(name: str, columns: list[ColumnMeta], batches: list[pa.RecordBatch], **kwargs: Any) -> Any:
    return read(name, write(format_named(name), columns, batches, **kwargs), columns)


def test_values_of_every_type_read_back_as_written(name: str) -> None:
    result = written(name, EVERY_TYPE, [every_type_batch(3)])
    assert result.names == [c.name for c in EVERY_TYPE]
    assert len(result.rows) == 3 and result.rows[0] == result.rows[2] == EVERY_TYPE_VALUES
    if name in WITH_STATUS:
        assert result.status == "OK" and result.message is None


# What a format writes for a null where it has no null of that type (None: a real null).
TEXT = ("txt", "obs_date", "s_region")
VARIABLE_ARRAYS = ("footprint", "counts", "weights")
NO_NULL: dict[str, dict[str, Any]] = {
    # TABLEDATA has no null text or variable-length array: an empty TD is "" or [].
    "votable": {**dict.fromkeys(TEXT, ""), **dict.fromkeys(VARIABLE_ARRAYS, [])},
    # BINARY2 flags the null, but astropy reads a flagged string as the empty string
    # (test_votable_writers checks the flags themselves).
    "votable/b2": dict.fromkeys(TEXT, ""),
    # TSV has no null at all: an empty field, which is "" for text and [] for an array.
    "tsv": {**dict.fromkeys(TEXT, ""), **dict.fromkeys(("pos", "cone", *VARIABLE_ARRAYS), [])},
    # FITS: no null text, float or array; a float is NaN, an array NaN (or 0) throughout.
    "fits": {
        **dict.fromkeys(TEXT, ""),
        "f4": math.nan,
        "f8": math.nan,
        "pos": [math.nan] * 2,
        "cone": [math.nan] * 3,
        "footprint": [math.nan] * 6,
        "counts": [0] * 3,
        "weights": [math.nan] * 2,
    },
}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return same_float(a, b)
    return a == b and type(a) is type(b)


def test_nulls_of_every_type_are_written_as_the_formats_null(name: str) -> None:
    nulls = written(name, EVERY_TYPE, [every_type_batch(2)]).rows[1]
    expected = {c.name: NO_NULL.get(name, {}).get(c.name) for c in EVERY_TYPE}
    assert all(_same(nulls[k], v) for k, v in expected.items()), (nulls, expected)


def test_64_bit_integers_beyond_2_53_stay_exact(name: str) -> None:
    columns = [ColumnMeta("big", "long"), ColumnMeta("summed", "long")]
    values = [2**53 + 1, -(2**53) - 1, 2**63 - 1, -(2**63) + 1, 1234567890123456789]
    sums = numeric([str(v) for v in values])  # SUM(bigint) is numeric: text from ADBC
    result = written(name, columns, [batch(columns, pa.array(values, pa.int64()), sums)])
    assert result.column("big") == values and result.column("summed") == values
    assert all(type(v) is int for v in result.column("big"))


TEXTS = [
    "Ωμέγα, Größe, 東京",
    "astral: 😀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🜁",
    "<&>\"'",
    "<![CDATA[ ]]> &amp; &#x41;",
    'a,b;"quoted" \\ backslash',
    "",
]


def test_unicode_and_xml_special_text_is_kept(name: str) -> None:
    columns = [ColumnMeta("text", "char", "*"), ColumnMeta("ucs", "unicodeChar", "*")]
    arrays = [pa.array(TEXTS), pa.array(list(reversed(TEXTS)))]
    result = written(name, columns, [batch(columns, *arrays)])
    assert result.column("text") == TEXTS and result.column("ucs") == list(reversed(TEXTS))


DOUBLES = [
    0.1,
    1 / 3,
    -0.0,
    0.0,
    5e-324,  # the smallest subnormal
    2.225073858507201e-308,  # the largest subnormal
    2.2250738585072014e-308,  # the smallest normal
    1.7976931348623157e308,
    -123456.789e-300,
    math.nan,
    math.inf,
    -math.inf,
]
FLOATS = [
    struct.unpack(">f", struct.pack(">f", v))[0]
    for v in (0.1, 1 / 3, -0.0, 1e-45, 1.1754942e-38, 1.17549435e-38, 3.4028235e38, 16777217.0)
] + [math.nan, math.inf, -math.inf]


def test_floats_are_kept_bit_for_bit(name: str) -> None:
    columns = [ColumnMeta("d", "double"), ColumnMeta("f", "float")]
    floats = FLOATS + [1.0] * (len(DOUBLES) - len(FLOATS))
    result = written(name, columns, [batch(columns, pa.array(DOUBLES, pa.float64()), pa.array(floats, pa.float32()))])
    expected_d, expected_f = DOUBLES, floats
    if name == "json":  # JSON has no NaN or infinities: DALI's JSON writes them as null
        expected_d = [v if math.isfinite(v) else None for v in DOUBLES]
        expected_f = [v if math.isfinite(v) else None for v in floats]
    if name.startswith("votable"):  # NaN is VOTable's null of a float (VOTable 1.4 sec. 6)
        expected_d = [None if math.isnan(v) else v for v in DOUBLES]
        expected_f = [None if math.isnan(v) else v for v in floats]
    assert all(same_float(a, b) for a, b in zip(result.column("d"), expected_d, strict=True)), result.column("d")
    assert all(same_float(a, b) for a, b in zip(result.column("f"), expected_f, strict=True)), result.column("f")


@pytest.mark.parametrize("batches", [0, 1], ids=["no-batch", "one-empty-batch"])
def test_an_empty_result_has_the_columns_and_no_rows(name: str, batches: int) -> None:
    empty = every_type_batch(2).slice(0, 0)
    result = written(name, EVERY_TYPE, [empty] * batches)
    assert result.names == [c.name for c in EVERY_TYPE] and result.rows == []
    if name in WITH_STATUS:
        assert result.status == "OK"


COUNTING = [ColumnMeta("n", "long"), ColumnMeta("label", "char", "*")]


def counting(rows: int) -> pa.RecordBatch:
    return batch(COUNTING, pa.array(range(rows), pa.int64()), pa.array([f"row {i}" for i in range(rows)]))


def test_maxrec_cuts_the_rows_and_says_overflow_where_the_format_can(name: str) -> None:
    result = written(name, COUNTING, slices(counting(10), 3, 3), maxrec=5)
    assert result.column("n") == [0, 1, 2, 3, 4] and result.column("label")[-1] == "row 4"
    if name in WITH_STATUS:
        assert result.status == "OVERFLOW"


def test_a_result_of_exactly_maxrec_rows_is_not_an_overflow(name: str) -> None:
    result = written(name, COUNTING, slices(counting(6), 3), maxrec=6)
    assert result.column("n") == list(range(6))
    if name in WITH_STATUS:
        assert result.status == "OK"


def test_maxrec_zero_writes_the_columns_only_and_says_overflow(name: str) -> None:
    result = written(name, COUNTING, [counting(4)], maxrec=0)
    assert result.names == ["n", "label"] and result.rows == []
    if name in WITH_STATUS:
        assert result.status == "OVERFLOW"


@pytest.mark.parametrize("without_status", ["csv", "tsv"])
def test_csv_and_tsv_do_not_end_a_failed_result_as_if_it_were_complete(without_status: str) -> None:
    # They have no place to say ERROR; what is left is not to end the document cleanly, so that
    # the HTTP response is cut short and the job fails, instead of passing for the whole result.
    with pytest.raises(Exception, match="canceling statement"):
        write(format_named(without_status), COUNTING, [counting(3)], failure=QueryFailed("canceling statement"))


def test_many_batches_of_uneven_sizes_keep_every_row_in_order(name: str) -> None:
    rows = 1000
    columns = [
        ColumnMeta("id", "long"),
        ColumnMeta("x", "double"),
        ColumnMeta("s", "char", "*"),
        ColumnMeta("ok", "boolean"),
    ]
    whole = batch(
        columns,
        pa.array([2**60 + i for i in range(rows)], pa.int64()),
        pa.array([i / 7 for i in range(rows)], pa.float64()),
        pa.array(["é" * (i % 5) + str(i) for i in range(rows)]),
        pa.array([i % 3 == 0 for i in range(rows)]),
    )
    parts = slices(whole, 1, 2, 0, 7, 100, 389)  # 0: an empty batch in the middle
    result = written(name, columns, parts)
    assert result.rows == whole.to_pylist()


@pytest.mark.parametrize("with_status", WITH_STATUS)
@pytest.mark.parametrize(
    "failure, message",
    [
        (QueryFailed("canceling statement due to user request"), "canceling statement due to user request"),
        (UsageFault("the query ran longer than 60 s"), "the query ran longer than 60 s"),
    ],
    ids=["database-error", "dali-error"],
)
def test_a_query_failing_after_the_first_batch_is_reported_as_an_error(
    with_status: str, failure: Exception, message: str
) -> None:
    result = written(with_status, COUNTING, [counting(3)], failure=failure)
    assert result.column("n") == [0, 1, 2]  # what was sent before the failure
    assert result.status == "ERROR" and message in result.message


COLUMN_METADATA = [
    ColumnMeta(
        "ra",
        "double",
        unit="deg",
        ucd="pos.eq.ra;meta.main",
        utype="obscore:ObsDataset.dataProductType",
        description="Right ascension (ICRS)",
    ),
    ColumnMeta("p", "double", "2", xtype="point", unit="deg", ucd="pos.eq", description="A position"),
    ColumnMeta("t", "char", "*", xtype="timestamp", ucd="time.epoch", description="When"),
]
# Where each format keeps column metadata: VOTable FIELDs, the JSON metadata, Parquet field
# metadata have every key; FITS has TUNIT, TUCD, TUTYP, TCOMM but no xtype; CSV and TSV a header.
CARRIED = {
    "votable": ("unit", "ucd", "utype", "description", "xtype"),
    "votable/b2": ("unit", "ucd", "utype", "description", "xtype"),
    "json": ("unit", "ucd", "utype", "description", "xtype"),
    "parquet": ("unit", "ucd", "utype", "description", "xtype"),
    "fits": ("unit", "ucd", "utype", "description"),
    "csv": (),
    "tsv": (),
}


def test_column_metadata_is_carried_where_the_format_has_a_place_for_it(name: str) -> None:
    arrays = [pa.array([1.0]), pa.array(["(1d , 2d)"]), pa.array([datetime.datetime(2020, 1, 1)], pa.timestamp("us"))]
    result = written(name, COLUMN_METADATA, [batch(COLUMN_METADATA, *arrays)])
    assert result.names == ["ra", "p", "t"]
    for column in COLUMN_METADATA:
        expected = {k: getattr(column, k) for k in CARRIED[name] if getattr(column, k)}
        assert result.meta.get(column.name, {}) == expected, column.name
