"""The VOTable writers (TABLEDATA and BINARY2) beyond what every format shares: every document
against the VOTable 1.4 schema, STILTS votlint on a few, FIELD attributes and escaping, where the
query status goes, the BINARY2 null flags and base64 stream, the extras protocols add around a
result, and the DALI error document."""

from __future__ import annotations

import base64
import datetime
import io
import warnings
from pathlib import Path

import pyarrow as pa
import pytest
from astropy.io.votable import parse
from astropy.io.votable.tree import Field
from lxml import etree

from adql.catalog import ColumnMeta
from dalserver.dali.descriptors import datalink_descriptor, resource_xml
from dalserver.formats.votable import VOTableExtras, error_document
from tests.support.readers import read_votable
from tests.support.results import (
    EVERY_TYPE,
    QueryFailed,
    batch,
    every_type_batch,
    format_named,
    scircle,
    slices,
    spoint,
    write,
)
from tests.support.schemas import schema_errors
from tests.support.votable import NS, votlint_messages

VOTABLES = ["votable", "votable/b2"]
V = "{http://www.ivoa.net/xml/VOTable/v1.3}"
COUNTING = [ColumnMeta("n", "long")]


def counting(rows: int) -> pa.RecordBatch:
    return batch(COUNTING, pa.array(range(rows), pa.int64()))


def document(name: str, case: str) -> bytes:
    fmt = format_named(name)
    if case == "every-type":
        return write(fmt, EVERY_TYPE, [every_type_batch(3)])
    if case == "empty":
        return write(fmt, EVERY_TYPE, [])
    if case == "overflow":
        return write(fmt, COUNTING, slices(counting(10), 4), maxrec=5)
    if case == "metadata-only":
        return write(fmt, COUNTING, [counting(3)], maxrec=0)
    assert case == "error"
    return write(fmt, COUNTING, [counting(3)], failure=QueryFailed("canceling statement due to <timeout> & more"))


CASES = ["every-type", "empty", "overflow", "metadata-only", "error"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", VOTABLES)
def test_votables_are_valid_against_the_votable_1_4_schema(votable_xsd: etree.XMLSchema, name: str, case: str) -> None:
    assert schema_errors(votable_xsd, document(name, case)) == ""


@pytest.mark.parametrize("name", VOTABLES)
@pytest.mark.parametrize(
    "case, final", [("every-type", "OK"), ("empty", "OK"), ("overflow", "OVERFLOW"), ("error", "ERROR")]
)
def test_query_status_ok_comes_before_the_table_and_the_final_status_after_it(name: str, case: str, final: str) -> None:
    resource = etree.fromstring(document(name, case)).find("v:RESOURCE", NS)
    children = [(str(c.tag).removeprefix(V), c.get("value")) for c in resource]
    assert children[0] == ("INFO", "OK") and children[1][0] == "TABLE"
    assert [v for tag, v in children[2:] if tag == "INFO"] == ([] if final == "OK" else [final])


def test_the_error_after_the_first_batch_is_told_in_the_document_escaped() -> None:
    doc = etree.fromstring(document("votable", "error"))
    (error,) = doc.findall(".//v:INFO[@value='ERROR']", NS)
    assert error.text == "the query failed while sending results: canceling statement due to <timeout> & more"
    assert len(doc.findall(".//v:TR", NS)) == 3


# STILTS 3.4.7's votlint misreads any BINARY2 column with xtype="polygon" (it reports a negative
# element count where STILTS's own reader, astropy and the identical document without the xtype
# are fine), and takes no null polygon in TABLEDATA, for which VOTable has no other spelling than
# an empty TD. So votlint is not shown polygons.
def _without(whole: pa.RecordBatch, *names: str) -> tuple[list[ColumnMeta], pa.RecordBatch]:
    columns = [c for c in EVERY_TYPE if c.name not in names]
    arrays = [whole.column(c.name) for c in columns]
    return columns, batch(columns, *arrays)


def test_votlint_is_silent_on_tabledata_of_every_type_with_nulls(tmp_path: Path) -> None:
    columns, data = _without(every_type_batch(2), "footprint")
    assert votlint_messages(write(format_named("votable"), columns, [data]), tmp_path) == ""


def test_votlint_is_silent_on_binary2_of_every_type_with_nulls(tmp_path: Path) -> None:
    columns, data = _without(every_type_batch(2), "footprint")
    assert votlint_messages(write(format_named("votable/b2"), columns, [data]), tmp_path) == ""


def test_votlint_accepts_null_points_and_circles_in_tabledata(tmp_path: Path) -> None:
    columns = [ColumnMeta("p", "double", "2", xtype="point"), ColumnMeta("c", "double", "3", xtype="circle")]
    data = batch(columns, pa.array([spoint(1.0, 2.0), None]), pa.array([scircle(1.0, 2.0, 0.5), None]))
    assert votlint_messages(write(format_named("votable"), columns, [data]), tmp_path) == ""


def test_votlint_accepts_timestamps_in_binary2(tmp_path: Path) -> None:
    columns = [ColumnMeta("t", "char", "*", xtype="timestamp")]
    data = batch(columns, pa.array([datetime.datetime(2021, 3, 4, 5, 6, 7), None], pa.timestamp("us")))
    assert votlint_messages(write(format_named("votable/b2"), columns, [data]), tmp_path) == ""


@pytest.mark.parametrize("name", VOTABLES)
def test_a_null_element_of_an_integer_array_reads_back_as_null(name: str) -> None:
    columns = [ColumnMeta("a", "int", "*")]
    data = write(format_named(name), columns, [batch(columns, pa.array([[1, None, 3]], pa.list_(pa.int32())))])
    table = parse(io.BytesIO(data), verify="exception").get_first_table()
    cell = table.array["a"][0]
    assert list(cell.data[[0, 2]]) == [1, 3] and cell.mask[1]


@pytest.mark.parametrize("name", VOTABLES)
def test_votlint_accepts_integer_arrays_with_null_elements_and_null_fixed_size_cells(name: str, tmp_path: Path) -> None:
    columns = [ColumnMeta("a", "short", "*"), ColumnMeta("triple", "long", "3")]
    data = batch(
        columns,
        pa.array([[1, None], None, []], pa.list_(pa.int16())),
        pa.array([[1, None, 3], None, [2**62, 0, -1]], pa.list_(pa.int64())),
    )
    document = write(format_named(name), columns, [data])
    assert votlint_messages(document, tmp_path) == ""
    fields = etree.fromstring(document).findall(f".//{V}FIELD")
    assert [f.find(f"{V}VALUES").get("null") for f in fields] == [str(-(2**15)), str(-(2**63))]
    triples = parse(io.BytesIO(document), verify="exception").get_first_table().array["triple"]
    assert list(triples[0].mask) == [False, True, False] and triples[1].mask.all()
    assert list(triples[2]) == [2**62, 0, -1]


@pytest.mark.parametrize("name", VOTABLES)
def test_an_integer_array_element_equal_to_the_declared_null_is_refused_not_sent_as_null(name: str) -> None:
    columns = [ColumnMeta("a", "int", "*")]
    rows = [batch(columns, pa.array([[1, 2]], pa.list_(pa.int32()))), batch(columns, pa.array([[-(2**31)]]))]
    doc = etree.fromstring(write(format_named(name), columns, rows))
    (error,) = doc.findall(".//v:INFO[@value='ERROR']", NS)
    assert "column 'a' has an array element -2147483648" in error.text and "parquet or json" in error.text
    assert len(parse(io.BytesIO(etree.tostring(doc)), verify="exception").get_first_table().array) == 1


def test_tabledata_keeps_carriage_returns_in_text() -> None:
    columns = [ColumnMeta("s", "char", "*")]
    data = write(format_named("votable"), columns, [batch(columns, pa.array(["a\r\nb", "c\rd"]))])
    assert [td.text for td in etree.fromstring(data).iter(f"{V}TD")] == ["a\r\nb", "c\rd"]


@pytest.mark.parametrize("name", VOTABLES)
def test_descriptions_and_late_error_messages_keep_carriage_returns(name: str) -> None:
    columns = [ColumnMeta("n", "long", description="line one\r\nline two")]
    data = write(format_named(name), columns, [counting(1)], failure=QueryFailed("first\rsecond"))
    doc = etree.fromstring(data)
    assert doc.findtext(f".//{V}FIELD/{V}DESCRIPTION") == "line one\r\nline two"
    assert doc.findall(".//v:INFO[@value='ERROR']", NS)[0].text.endswith("first\rsecond")


def test_tabledata_replaces_the_characters_xml_cannot_carry_and_keeps_the_rest() -> None:
    columns = [ColumnMeta("s", "char", "*")]
    values = ["nul\x00 bell\x07 us\x1f", "\ufffe\uffff", "tab\tand\nnewline", "<&>\"'"]
    data = write(format_named("votable"), columns, [batch(columns, pa.array(values))])
    cells = [td.text for td in etree.fromstring(data).iter(f"{V}TD")]
    assert cells == ["nul\ufffd bell\ufffd us\ufffd", "\ufffd\ufffd", "tab\tand\nnewline", "<&>\"'"]


def test_binary2_carries_the_characters_xml_cannot() -> None:
    columns = [ColumnMeta("s", "char", "*")]
    values = ["nul\x00 bell\x07", "\ufffe", "a\r\nb"]
    data = write(format_named("votable/b2"), columns, [batch(columns, pa.array(values))])
    assert _binary2_texts(data) == values


def test_field_attributes_and_descriptions_are_escaped() -> None:
    odd = 'a "quoted" <name> & more'
    columns = [ColumnMeta(odd, "double", unit="10**-3 'm'", ucd="x<y", utype="a&b", description="<&>\"' ünïcode 😀")]
    for name in VOTABLES:
        data = write(format_named(name), columns, [batch(columns, pa.array([1.0]))])
        (f,) = etree.fromstring(data).iter(f"{V}FIELD")
        assert (f.get("name"), f.get("unit"), f.get("ucd"), f.get("utype")) == (odd, "10**-3 'm'", "x<y", "a&b")
        assert f.findtext(f"{V}DESCRIPTION") == "<&>\"' ünïcode 😀"


def test_binary2_declares_text_unicodechar_of_any_length_and_regions_and_timestamps_char() -> None:
    columns = [
        ColumnMeta("s", "char", "*"),
        ColumnMeta("code", "char", "8"),
        ColumnMeta("s_region", "char", "*", xtype="adql:REGION"),
        ColumnMeta("t", "char", "*", xtype="timestamp"),
    ]
    values = [pa.array(["x"])] * 3 + [pa.array([datetime.datetime(2021, 3, 4, 5, 6, 7)], pa.timestamp("us"))]
    data = write(format_named("votable/b2"), columns, [batch(columns, *values)])
    declared = {
        f.get("name"): (f.get("datatype"), f.get("arraysize")) for f in etree.fromstring(data).iter(f"{V}FIELD")
    }
    assert declared == {
        "s": ("unicodeChar", "*"),
        "code": ("unicodeChar", "*"),
        "s_region": ("char", "*"),
        "t": ("char", "*"),
    }
    table = parse(io.BytesIO(data), verify="exception").get_first_table()
    assert table.array["t"][0] == "2021-03-04T05:06:07"


def _stream_bytes(data: bytes) -> bytes:
    stream = etree.fromstring(data).find(".//v:BINARY2/v:STREAM", NS)
    assert stream.get("encoding") == "base64"
    return base64.b64decode(stream.text, validate=False)


def _binary2_texts(data: bytes) -> list[str]:
    """The values of a BINARY2 stream of one unicodeChar column."""
    raw, at, values = _stream_bytes(data), 0, []
    while at < len(raw):
        count = int.from_bytes(raw[at + 1 : at + 5], "big")  # after one byte of null flags
        values.append(raw[at + 5 : at + 5 + 2 * count].decode("utf-16-be"))
        at += 5 + 2 * count
    return values


def test_binary2_flags_every_null_text_included() -> None:
    data = write(format_named("votable/b2"), EVERY_TYPE, [every_type_batch(2)])
    raw = _stream_bytes(data)
    # 15 columns: two bytes of flags; the first row has no null, the second only nulls
    assert raw[:2] == b"\x00\x00"
    table = parse(io.BytesIO(data)).get_first_table()
    first_row_bytes = len(raw) - _null_row_length(table.fields)
    assert raw[first_row_bytes : first_row_bytes + 2] == bytes([0xFF, 0xFE])


def _null_row_length(fields: list[Field]) -> int:
    """Bytes of a BINARY2 row of nulls: flags, then every value at its smallest."""
    sizes = {"short": 2, "int": 4, "long": 8, "float": 4, "double": 8, "boolean": 1}
    length = 2
    for f in fields:
        if f.arraysize in (None, "1"):
            length += sizes[f.datatype]
        elif f.arraysize.endswith("*"):
            length += 4  # an empty value: its element count, 0
        else:
            length += sizes[f.datatype] * int(f.arraysize)
    return length


def test_binary2_stream_is_the_same_whatever_the_batch_boundaries() -> None:
    whole = every_type_batch(40)
    fmt = format_named("votable/b2")
    one = _stream_bytes(write(fmt, EVERY_TYPE, [whole]))
    for sizes in [(1,), (1, 1, 1, 2), (3, 0, 5, 7, 11), (39,)]:
        assert _stream_bytes(write(fmt, EVERY_TYPE, slices(whole, *sizes))) == one, sizes
    assert read_votable(write(fmt, EVERY_TYPE, slices(whole, 1, 2, 3)), EVERY_TYPE).rows[5]["i8"] == 2**53 + 1


def test_extras_add_field_ids_infos_and_service_descriptors_to_the_votables_only(votable_xsd: etree.XMLSchema) -> None:
    columns = [ColumnMeta("obs_publisher_did", "char", "*"), ColumnMeta("s_ra", "double")]
    descriptor = resource_xml(datalink_descriptor("http://example.org", "pubdid", "ivo://x/y?1"))
    extras = VOTableExtras(
        field_ids={"obs_publisher_did": "pubdid"}, infos=(("request", "queryData"),), resources=descriptor
    )
    data = batch(columns, pa.array(["ivo://x/y?1"]), pa.array([1.0]))
    for name in VOTABLES:
        doc = etree.fromstring(write(format_named(name), columns, [data], extras=extras))
        assert schema_errors(votable_xsd, doc) == ""
        results, meta = doc.findall("v:RESOURCE", NS)
        assert results.get("type") == "results" and meta.get("type") == "meta" and meta.get("ID") == "datalink"
        assert [(i.get("name"), i.get("value")) for i in results.findall("v:INFO", NS)] == [
            ("QUERY_STATUS", "OK"),
            ("request", "queryData"),
        ]
        assert [f.get("ID") for f in doc.iter(f"{V}FIELD")] == ["pubdid", None]
        assert meta.find(".//v:PARAM[@name='ID']", NS).get("ref") == "pubdid"
    for name in ("csv", "json", "parquet"):  # formats that carry no descriptors take none
        assert b"datalink" not in write(format_named(name), columns, [data], extras=extras)


def test_the_error_document_is_a_votable_with_only_query_status_error(votable_xsd: etree.XMLSchema) -> None:
    message = "bad <query> & 'more' — ünïcode, and a nul \x00"
    data = error_document(message)
    assert schema_errors(votable_xsd, data) == ""
    doc = etree.fromstring(data)
    (resource,) = doc.findall("v:RESOURCE", NS)
    (info,) = list(resource)
    assert resource.get("type") == "results" and info.get("name") == "QUERY_STATUS" and info.get("value") == "ERROR"
    assert info.text == message.replace("\x00", "\ufffd")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        votable = parse(io.BytesIO(data))
    assert votable.resources[0].infos[0].value == "ERROR"
