"""Remote answers are untrusted input (no database, no server): VOTables and capabilities with a
DTD are refused, cut-short bodies, HTML pages and wrong content types are errors for their cell,
never a crash; rows are converted to the cache's columns, ObsCore 1.0 normalised, malformed rows
skipped with their reason; footprints read from STC-S and DALI."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime

import numpy as np
import pytest
from astropy.io.votable import from_table
from astropy.table import MaskedColumn, Table

from archive_io.remote_regions import CIRCLE_VERTICES, RegionError, region_vertices
from archive_io.remote_rows import DATA_COLUMNS, RowConverter, Source
from archive_io.remote_votable import Field, VOTableError, read_votable
from dalserver.formats.registry import FORMATS
from dalserver.vosi.documents import TapLimits, tap_capabilities
from vo_crawl.capabilities import RemoteXMLError, read_capabilities
from vo_crawl.polite import Reply
from vo_crawl.remote import CellError, _votable

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SOURCE = Source("ivo://remote.example/tap", "https://remote.example/tap", "obscore-tap")
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE VOTABLE [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<VOTABLE><RESOURCE><TABLE><FIELD name="x" datatype="char" arraysize="*"/><DATA><TABLEDATA>
<TR><TD>&lol2;</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>"""


def _votable_bytes(table: Table, serialisation: str) -> bytes:
    document = from_table(table)
    for f in document.get_first_table().fields:
        if f.datatype in ("short", "int", "long"):
            f.values.null = -99  # BINARY has no other way to write a null integer
    document.set_all_tables_format(serialisation)
    out = io.BytesIO()
    document.to_xml(out)
    return out.getvalue()


def _reply(body: bytes, content_type: str = "application/x-votable+xml", status: int = 200) -> Reply:
    return Reply("https://remote.example/tap/sync", status, content_type, body, 0.1)


def test_a_document_declaring_a_dtd_is_refused_before_any_entity_is_expanded() -> None:
    with pytest.raises(VOTableError, match="DTD"):
        read_votable(LAUGHS)
    with pytest.raises(RemoteXMLError, match="DTD"):
        read_capabilities(LAUGHS.replace(b"VOTABLE", b"capabilities"))


def test_a_votable_cut_short_or_not_a_votable_is_an_error_for_its_cell() -> None:
    whole = _votable_bytes(Table({"obs_publisher_did": ["a", "b"]}), "tabledata")
    with pytest.raises(CellError, match="cut short") as cut:
        _votable(_reply(whole[: len(whole) - 40]), "remote")
    assert cut.value.reason == "not a VOTable"
    with pytest.raises(CellError) as html:
        _votable(_reply(b"<html><body>Maintenance</body></html>", "text/html; charset=utf-8", 200), "remote")
    assert html.value.reason == "html page"
    with pytest.raises(CellError) as wrong:
        _votable(_reply(b"a,b\n1,2\n", "text/csv"), "remote")
    assert wrong.value.reason == "wrong content type"
    with pytest.raises(CellError) as other:
        _votable(_reply(b"<?xml version='1.0'?><html/>", "text/xml"), "remote")
    assert other.value.reason == "not a VOTable"


def test_an_error_document_gives_the_services_message_and_overflow_is_read_after_the_table() -> None:
    error = (
        b'<VOTABLE version="1.4"><RESOURCE type="results"><INFO name="QUERY_STATUS" value="ERROR">'
        b"Column s_foo unknown</INFO></RESOURCE></VOTABLE>"
    )
    with pytest.raises(CellError, match="Column s_foo unknown") as refused:
        _votable(_reply(error, status=400), "remote")
    assert refused.value.reason == "query error"
    overflow = _votable_bytes(Table({"a": [1, 2]}), "tabledata").replace(
        b"</TABLE>", b'</TABLE><INFO name="QUERY_STATUS" value="OVERFLOW"/>'
    )
    answer = _votable(_reply(overflow), "remote")
    assert answer.overflow and answer.rows == [["1"], ["2"]]


def test_a_tabledata_cell_holding_its_fields_null_value_is_null() -> None:
    body = (
        b'<VOTABLE version="1.4"><RESOURCE type="results"><TABLE><FIELD name="n" datatype="int">'
        b'<VALUES null="-1"/></FIELD><DATA><TABLEDATA><TR><TD>-1</TD></TR><TR><TD>4</TD></TR></TABLEDATA></DATA>'
        b"</TABLE></RESOURCE></VOTABLE>"
    )
    assert read_votable(body).rows == [[None], ["4"]]


def test_service_descriptors_are_not_taken_for_the_result() -> None:
    body = _votable_bytes(Table({"a": [1]}), "tabledata").replace(
        b"<RESOURCE",
        b'<RESOURCE type="meta" utype="adhoc:service"><TABLE><FIELD name="x" datatype="int"/></TABLE></RESOURCE><RESOURCE',
        1,
    )
    answer = read_votable(body)
    assert [f.name for f in answer.fields] == ["a"] and answer.rows == [["1"]]


@pytest.mark.parametrize("serialisation", ["tabledata", "binary", "binary2"])
def test_every_serialisation_reads_the_same_values_and_nulls(serialisation: str) -> None:
    table = Table(
        {
            "did": ["ivo://x/a", "ivo://x/b", "ivo://x/ü"],
            "n": MaskedColumn(np.array([1, 2, 3], dtype=np.int64), mask=[False, True, False]),
            "v": np.array([1.5, 2.25, -0.125]),
        }
    )
    rows = read_votable(_votable_bytes(table, serialisation)).rows
    converter = RowConverter(
        [Field("obs_publisher_did", "char", "*"), Field("s_xel1", "long"), Field("s_ra", "double")], SOURCE, WHEN
    )
    got = [
        (r[DATA_COLUMNS.index("obs_publisher_did")], r[DATA_COLUMNS.index("s_xel1")])
        for r in converter.convert(rows).rows
    ]
    assert got == [("ivo://x/a", 1), ("ivo://x/b", None), ("ivo://x/ü", 3)]


def test_obscore_10_rows_get_null_in_what_11_added_and_unknown_columns_are_dropped() -> None:
    fields = [
        Field(name, "char", "*")
        for name in ("OBS_PUBLISHER_DID", "s_ra", "s_dec", "s_region", "facility_name", "eso_extra")
    ]
    converted = RowConverter(fields, SOURCE, WHEN).convert(
        [["ivo://x/1", "10.5", "-20.25", "Polygon ICRS 10 -20 11 -20 11 -21", "VLT", "something"]]
    )
    (row,) = converted.rows
    values = dict(zip(DATA_COLUMNS, row, strict=False))
    assert values["obs_publisher_did"] == "ivo://x/1" and values["s_ra"] == 10.5 and values["facility_name"] == "VLT"
    assert all(values[c] is None for c in ("s_xel1", "s_xel2", "t_xel", "em_xel", "pol_xel"))
    assert values["s_region"] == "{(10.0d,-20.0d),(11.0d,-20.0d),(11.0d,-21.0d)}"
    assert row[-4:] == (SOURCE.ivoid, SOURCE.url, WHEN.replace(tzinfo=None), converted.healpix[0])
    assert "eso_extra" not in DATA_COLUMNS


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (["", "10", "20", None, "1"], "no obs_publisher_did"),
        (["ivo://x/1", "10", "95", None, "1"], "position out of range"),
        (["ivo://x/1", "nan", "5", None, "1"], "position out of range"),
        (["ivo://x/1", "ten", "5", None, "1"], "s_ra: not a number"),
        (["ivo://x/1", "10", "5", "Polygon ICRS 1 2 oops", "1"], "bad s_region"),
        (["ivo://x/1", "10", "5", "Hexagon 1 2 3 4 5 6", "1"], "bad s_region"),
        (["ivo://x/1", "10", "5", None, "2.5"], "calib_level: not an integer"),
        (["ivo://x/1", "10", "5", None, "99999999999"], "calib_level: integer out of range"),
    ],
)
def test_a_malformed_row_is_skipped_with_its_reason(cells: list[str | None], reason: str) -> None:
    fields = [Field(n, "char", "*") for n in ("obs_publisher_did", "s_ra", "s_dec", "s_region", "calib_level")]
    converted = RowConverter(fields, SOURCE, WHEN).convert([cells, ["ivo://x/ok", "10", "5", None, "1"]])
    assert dict(converted.skipped) == {reason: 1} and len(converted.rows) == 1


def test_rows_without_a_position_are_kept_in_their_own_bucket() -> None:
    fields = [Field("obs_publisher_did", "char", "*"), Field("s_ra", "double"), Field("s_dec", "double")]
    converted = RowConverter(fields, SOURCE, WHEN).convert(
        [["ivo://x/1", None, None], ["ivo://x/2", 350.0, 5.0]], keep=lambda h: h is None
    )
    assert converted.healpix == [None] and converted.rows[0][DATA_COLUMNS.index("s_ra")] is None


def test_sia1_rows_are_read_by_their_ucds() -> None:
    fields = [
        Field("ra", "double", ucd="POS_EQ_RA_MAIN"),
        Field("dec", "double", ucd="POS_EQ_DEC_MAIN"),
        Field("url", "char", "*", ucd="VOX:Image_AccessReference"),
        Field("size", "long", ucd="VOX:Image_FileSize"),
        Field("mjd", "double", ucd="VOX:Image_MJDateObs"),
    ]
    source = Source("ivo://old.example/sia", "https://old.example/sia", "sia1")
    (row,) = (
        RowConverter(fields, source, WHEN).convert([[370.0, 10.0, "https://old.example/i.fits", 2048000, 51000.5]]).rows
    )
    values = dict(zip(DATA_COLUMNS, row, strict=False))
    assert values["obs_publisher_did"] == values["access_url"] == "https://old.example/i.fits"
    assert (values["s_ra"], values["access_estsize"], values["t_min"], values["dataproduct_type"]) == (
        10.0,
        2000,
        51000.5,
        "image",
    )


def test_footprints_from_stcs_and_dali() -> None:
    assert region_vertices("POLYGON ICRS TOPOCENTER 10 20 11 20 11 21 10 20") == [
        (10.0, 20.0),
        (11.0, 20.0),
        (11.0, 21.0),
    ]
    assert region_vertices("10 20 11 20 11 21", "polygon") == [(10.0, 20.0), (11.0, 20.0), (11.0, 21.0)]
    assert region_vertices("Polygon -1 0 1 0 0 1") == [(359.0, 0.0), (1.0, 0.0), (0.0, 1.0)]
    for kept_without_footprint in ("Union ICRS (Polygon 1 2 3 4 5 6 Polygon 7 8 9 10 11 12)", "Position ICRS 1 2",
                                   "Polygon GALACTIC 1 2 3 4 5 6", "Box ICRS 10 20 1 1"):  # fmt: skip
        assert region_vertices(kept_without_footprint) is None
    for not_a_region in ("Polygon ICRS 1 2 3", "Polygon 1 2 3 4 5 95", "Circle ICRS 1 2", "Blob 1 2 3", "Polygon SOMEFRAME 1 2 3 4 5 6"):  # fmt: skip
        with pytest.raises(RegionError):
            region_vertices(not_a_region)


def test_a_circle_is_stored_as_a_polygon_that_encloses_it() -> None:
    vertices = region_vertices("Circle ICRS 120 -60 0.5")
    assert vertices is not None and len(vertices) == CIRCLE_VERTICES
    centre = np.radians([120.0, -60.0])
    for ra, dec in vertices:  # each vertex at the circumradius: the edges touch the circle from outside
        a = np.radians([ra, dec])
        cos_d = math.sin(centre[1]) * math.sin(a[1]) + math.cos(centre[1]) * math.cos(a[1]) * math.cos(a[0] - centre[0])
        assert math.degrees(math.acos(cos_d)) == pytest.approx(
            math.degrees(math.atan(math.tan(math.radians(0.5)) / math.cos(math.pi / CIRCLE_VERTICES))), rel=1e-9
        )


def test_capabilities_say_whether_the_census_is_one_query() -> None:
    limits = TapLimits(10000, 50000, 3600, 7200, 86400, 86400, 1 << 20, False)
    own = tap_capabilities("https://remote.example", FORMATS, limits)
    caps = read_capabilities(own)
    assert caps.has_healpix_udf and caps.maxrec_hard == 50000 and caps.binary2
    assert "ivo://ivoa.net/std/obscore#core-1.1" in caps.data_models
    without = own.replace(b"ivo_healpix_index(", b"my_healpix_index(")
    assert not read_capabilities(without).has_healpix_udf
    with pytest.raises(RemoteXMLError):
        read_capabilities(b"<html><body>not here</body></html>")
