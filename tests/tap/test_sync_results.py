"""/tap/sync answers: metadata in the FIELDs, limits, overflow, exact values."""

from __future__ import annotations

import httpx
import psycopg
import pyvo

from tests.tap.helpers import fields, query_status, rows, sync


def test_fields_carry_datatype_unit_ucd_and_utype_from_the_metadata(tap_url: str) -> None:
    response = sync(tap_url, "SELECT TOP 1 s_ra, obs_id, access_estsize, s_region FROM ivoa.obscore")
    by_name = {f["name"]: f for f in fields(response)}
    assert by_name["s_ra"] == {
        "name": "s_ra",
        "datatype": "double",
        "unit": "deg",
        "ucd": "pos.eq.ra",
        "utype": "obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1",
    }
    assert by_name["obs_id"]["datatype"] == "char" and by_name["obs_id"]["arraysize"] == "*"
    assert by_name["access_estsize"]["datatype"] == "long" and by_name["access_estsize"]["unit"] == "kbyte"
    assert by_name["s_region"]["xtype"] == "adql:REGION"  # ObsCore 1.1: an STC-S string


def test_maxrec_cuts_rows_and_reports_overflow_after_the_table(tap_url: str) -> None:
    response = sync(tap_url, "SELECT obs_id FROM ivoa.obscore", MAXREC="5")
    assert len(rows(response)) == 5
    assert query_status(response)[0] == "OVERFLOW"
    assert response.text.index('value="OVERFLOW"') > response.text.index("</TABLE>")


def test_no_overflow_when_the_result_fits(tap_url: str) -> None:
    response = sync(tap_url, "SELECT TOP 5 obs_id FROM ivoa.obscore", MAXREC="5")
    assert len(rows(response)) == 5
    assert query_status(response)[0] == "OK"


def test_maxrec_zero_returns_metadata_only(tap_url: str) -> None:
    response = sync(tap_url, "SELECT obs_id, s_ra FROM ivoa.obscore", MAXREC="0")
    assert rows(response) == []
    assert [f["name"] for f in fields(response)] == ["obs_id", "s_ra"]


def test_post_and_case_insensitive_parameter_names(tap_url: str) -> None:
    response = httpx.post(
        f"{tap_url}/sync",
        data={"lang": "ADQL", "request": "doQuery", "query": "SELECT TOP 2 obs_id FROM ivoa.obscore", "maxrec": "10"},
    )
    assert response.status_code == 200
    assert len(rows(response)) == 2


def test_floats_come_back_with_full_precision(tap_url: str, db: psycopg.Connection) -> None:
    stored = db.execute("SELECT obs_id, s_ra, em_min FROM ivoa.obscore ORDER BY obs_id LIMIT 20").fetchall()
    result = pyvo.dal.TAPService(tap_url).search(
        "SELECT obs_id, s_ra, em_min FROM ivoa.obscore ORDER BY obs_id", maxrec=20
    )
    for (obs_id, s_ra, em_min), row in zip(stored, result, strict=True):
        assert row["obs_id"] == obs_id
        assert float(row["s_ra"]) == s_ra  # bit for bit
        assert float(row["em_min"]) == em_min


def test_64_bit_integers_unicode_and_nulls_survive(tap_url: str) -> None:
    query = "SELECT TOP 1 9007199254740993 AS big, 'Ωμέγα ✓ <&>' AS text, t_resolution, pol_xel, pol_states FROM ivoa.obscore"
    table = pyvo.dal.TAPService(tap_url).search(query).to_table()
    assert int(table["big"][0]) == 9007199254740993  # not representable as a double
    assert table["text"][0] == "Ωμέγα ✓ <&>"
    assert table["t_resolution"].mask[0] and table["pol_xel"].mask[0]
    # TABLEDATA's null is the empty cell; for char columns astropy cannot tell it from "".
    assert rows(sync(tap_url, query))[0][4] is None


def test_cone_search_with_contains_returns_the_stacks_near_the_centre(tap_url: str, db: psycopg.Connection) -> None:
    query = (
        "SELECT obs_id FROM ivoa.obscore "
        "WHERE CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 34.5, -5.0, 0.2)) = 1"
    )
    got = sorted(r[0] for r in rows(sync(tap_url, query)))
    expected = sorted(
        r[0]
        for r in db.execute(
            "SELECT obs_id FROM ivoa.obscore WHERE degrees(spoint(radians(s_ra), radians(s_dec)) <-> "
            "spoint(radians(34.5), radians(-5.0))) <= 0.2"
        ).fetchall()
    )
    assert got == expected and len(got) > 0


def test_tap_schema_is_itself_published_and_queryable(tap_url: str) -> None:
    result = pyvo.dal.TAPService(tap_url).search("SELECT table_name FROM TAP_SCHEMA.tables")
    names = {r["table_name"] for r in result}
    assert {
        "ivoa.obscore",
        "tap_schema.schemas",
        "tap_schema.tables",
        "tap_schema.columns",
        "tap_schema.keys",
        "tap_schema.key_columns",
    } <= names
