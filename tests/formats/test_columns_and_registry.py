"""formats.columns turns what the database delivers into what the metadata declares (pgsphere text
into DALI geometry and STC-S, numeric text into exact integers, timestamps into ISO 8601), and
formats.registry finds a format by any name or MIME type a client may send."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

from adql.catalog import ColumnMeta
from dalserver.dali.faults import DALIError, Fault
from dalserver.formats.columns import FEW_REGIONS, arrow_type, canonical, stcs_arrays, stcs_text
from dalserver.formats.registry import FORMATS, find_format, response_format
from tests.support.results import numeric, scircle, spoint, spoly

POINT = ColumnMeta("p", "double", "2", xtype="point")
CIRCLE = ColumnMeta("c", "double", "3", xtype="circle")
POLYGON = ColumnMeta("g", "double", "*", xtype="polygon")
REGION = ColumnMeta("s_region", "char", "*", xtype="adql:REGION")


def test_pgsphere_geometry_text_becomes_dali_lists_of_doubles() -> None:
    text = pa.array([spoint(34.1, -4.9), None])
    assert canonical(text, POINT).to_pylist() == [[34.1, -4.9], None]
    assert canonical(pa.array([scircle(359.99, -89.5, 1e-6)]), CIRCLE).to_pylist() == [[359.99, -89.5, 1e-6]]
    vertices = ((0.0, 0.0), (1.5, 0.0), (0.75, 1.0), (0.25, 1e-10))
    assert canonical(pa.array([spoly(*vertices)]), POLYGON).to_pylist() == [[v for xy in vertices for v in xy]]


def test_pgsphere_text_becomes_stc_s_for_a_region_whatever_its_shape() -> None:
    values = pa.array([spoly((1.0, 2.0), (3.0, 4.0), (5.0, -6.0)), scircle(1.0, 2.0, 0.5), spoint(1.0, -2.0), None])
    assert canonical(values, REGION).to_pylist() == [
        "Polygon ICRS 1 2 3 4 5 -6",
        "Circle ICRS 1 2 0.5",
        "Position ICRS 1 -2",
        None,
    ]


def test_a_few_regions_made_in_python_are_what_the_vectorised_way_makes_of_them() -> None:
    # A few rows (SIA's) go value by value in Python, more by pyarrow.compute: the same text
    # either way, whatever whitespace, sign, exponent or stray character pgsphere's text holds.
    texts = [
        spoly((1.0, 2.0), (3.0, 4.0), (5.0, -6.0)),
        scircle(359.99, -89.5, 1e-6),
        spoint(0.0, -0.0),
        " \t\n\v\f\r<(1d , 2d) , 3d>",
        "\x1c<(1d , 2d) , 3d>",
        "{(1e-05d , +2.5E+3d),(x , y)}",
        "",
        "   ",
        "abc",
        "(-.5d,.5d)  ",
        None,
    ]
    texts += [f"{chr(c)}(1d , 2d)" for c in range(1, 128)]
    few = [texts[k : k + FEW_REGIONS] for k in range(0, len(texts), FEW_REGIONS)]
    for part in few:
        assert len(part) <= FEW_REGIONS
        array = pa.array(part, pa.string())
        assert stcs_text(array).equals(stcs_arrays(array))
    many = pa.array(texts * 2, pa.string())
    assert len(many) > FEW_REGIONS
    assert stcs_text(many).equals(stcs_arrays(many))
    unicode = pa.array(["\u2003<(1d , 2d) , 3d>", "<(1d , 2d) , 3d>"], pa.string())  # non-ASCII: vectorised
    assert stcs_text(unicode).equals(stcs_arrays(unicode))


def test_numeric_text_becomes_exact_integers_and_doubles_as_declared() -> None:
    sums = numeric(["123456789012345678901", "9007199254740993", "-12.5", None])
    assert canonical(sums, ColumnMeta("x", "double")).to_pylist() == [
        1.2345678901234568e20,
        9007199254740992.0,
        -12.5,
        None,
    ]
    exact = numeric(["9007199254740993", "-9223372036854775808", None])
    assert canonical(exact, ColumnMeta("x", "long")).to_pylist() == [2**53 + 1, -(2**63), None]
    assert canonical(numeric(["12.5", "3"]), ColumnMeta("x", "long")).to_pylist() == [12, 3]  # AVG declared long
    assert canonical(sums, ColumnMeta("x", "char", "*")).to_pylist() == [
        "123456789012345678901",
        "9007199254740993",
        "-12.5",
        None,
    ]


def test_narrower_integers_from_the_database_widen_to_the_declared_type() -> None:
    assert canonical(pa.array([1, None], pa.int32()), ColumnMeta("n", "long")).type == pa.int64()
    assert canonical(pa.array([1.5], pa.float64()), ColumnMeta("n", "float")).type == pa.float32()


def test_timestamps_and_dates_become_iso_8601_with_a_t() -> None:
    meta = ColumnMeta("t", "char", "*", xtype="timestamp")
    naive = pa.array([datetime.datetime(2021, 3, 4, 5, 6, 7), datetime.datetime(2021, 3, 4, 5, 6, 7, 500), None])
    assert canonical(naive, meta).to_pylist() == ["2021-03-04T05:06:07", "2021-03-04T05:06:07.000500", None]
    utc = pa.array([datetime.datetime(2021, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)], pa.timestamp("us", tz="UTC"))
    assert canonical(utc, meta).to_pylist() == ["2021-03-04T05:06:07"]
    assert canonical(pa.array([datetime.date(2021, 3, 4)], pa.date32()), meta).to_pylist() == ["2021-03-04T00:00:00"]


@pytest.mark.parametrize("zone", [None, "UTC", "Europe/Paris", "+05:30", "-11:00"])
@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_a_timestamp_is_written_as_its_utc_time_whatever_its_zone_and_unit(zone: str | None, unit: str) -> None:
    # The instants a zone-aware column holds are UTC: read as microseconds without a zone
    # (formats.columns._naive_microseconds), they are what pyarrow's cast makes of them.
    meta = ColumnMeta("t", "char", "*", xtype="timestamp")
    instants = [
        datetime.datetime(2021, 3, 4, 5, 6, 7),
        None,
        datetime.datetime(1850, 1, 1),
        datetime.datetime(2200, 12, 31, 23, 59, 59),
        datetime.datetime(1969, 12, 31, 23, 59, 59),
    ]
    column = pa.array(instants, pa.timestamp(unit)).cast(pa.timestamp(unit, tz=zone))
    expected = [None if t is None else t.isoformat() for t in instants]
    assert canonical(column, meta).to_pylist() == expected
    assert canonical(column.slice(1, 3), meta).to_pylist() == expected[1:4]  # an offset kept
    micro = pa.array([datetime.datetime(2021, 3, 4, 5, 6, 7, 250)], pa.timestamp("us")).cast(
        pa.timestamp("us", tz=zone)
    )
    assert canonical(micro, meta).to_pylist() == ["2021-03-04T05:06:07.000250"]


def test_arrays_keep_their_elements_in_the_declared_type() -> None:
    ints = pa.array([[1, None, 3], None], pa.list_(pa.int64()))
    assert canonical(ints, ColumnMeta("a", "int", "*")).to_pylist() == [[1, None, 3], None]
    assert canonical(ints, ColumnMeta("a", "int", "*")).type == pa.list_(pa.int32())
    assert arrow_type(ColumnMeta("a", "double", "*")) == pa.list_(pa.float64())
    assert arrow_type(REGION) == pa.string() and arrow_type(POINT) == pa.list_(pa.float64())


@pytest.mark.parametrize(
    "value, mime",
    [
        (None, "application/x-votable+xml"),
        ("  ", "application/x-votable+xml"),
        ("votable", "application/x-votable+xml"),
        ("text/xml", "application/x-votable+xml"),
        ("application/x-votable+xml;serialization=TABLEDATA", "application/x-votable+xml"),
        ("VOTable/B2", "application/x-votable+xml;serialization=binary2"),
        ("application/x-votable+xml; serialization=binary2", "application/x-votable+xml;serialization=binary2"),
        ("CSV", "text/csv;header=present"),
        ("text/csv", "text/csv;header=present"),
        ("tsv", "text/tab-separated-values"),
        ("application/json", "application/json"),
        ("application/x-fits", "application/fits"),
        ("parquet", "application/vnd.apache.parquet"),
    ],
)
def test_a_format_is_found_by_its_name_or_mime_type_in_any_case_and_spacing(value: str | None, mime: str) -> None:
    fmt = find_format(value)
    assert fmt is not None and fmt.mime == mime


def test_an_unknown_format_is_refused_naming_the_choices() -> None:
    assert find_format("text/html") is None
    with pytest.raises(DALIError) as refused:
        response_format("text/html")
    message = refused.value.message
    assert refused.value.fault is Fault.USAGE
    assert message.startswith("output format 'text/html' (RESPONSEFORMAT) is not supported")
    assert all(f.aliases[0] in message for f in FORMATS)


def test_every_format_has_a_distinct_mime_type_and_names() -> None:
    names = [n for f in FORMATS for n in (f.mime, *f.aliases)]
    assert len(names) == len({n.lower() for n in names})
    assert [f.ivo_id is not None for f in FORMATS] == [f.is_votable for f in FORMATS]
