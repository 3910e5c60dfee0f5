"""/tap/sync answers: metadata in the FIELDs, limits, overflow, exact values."""

from __future__ import annotations

import httpx
import psycopg
import pyvo

from tests.support.tap import sync
from tests.support.votable import fields, query_status, rows


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


def test_geometry_values_come_back_as_dali_xtypes(tap_url: str) -> None:
    query = (
        "SELECT TOP 1 POINT('ICRS', 34.5, -4.8) AS p, CIRCLE('ICRS', 34.5, -4.8, 0.25) AS c, "
        "POLYGON('ICRS', 34, -5, 35, -5, 35, -4) AS poly, CENTROID(CIRCLE('ICRS', 359.5, 10, 1)) AS centre "
        "FROM ivoa.obscore"
    )
    response = sync(tap_url, query)
    by_name = {f["name"]: f for f in fields(response)}
    assert (by_name["p"]["datatype"], by_name["p"]["arraysize"], by_name["p"]["xtype"]) == ("double", "2", "point")
    assert (by_name["c"]["arraysize"], by_name["c"]["xtype"]) == ("3", "circle")
    assert (by_name["poly"]["arraysize"], by_name["poly"]["xtype"]) == ("*", "polygon")
    p, c, poly, centre = rows(response)[0]
    assert [float(x) for x in p.split()] == [34.5, -4.8]
    assert [float(x) for x in c.split()] == [34.5, -4.8, 0.25]
    assert [float(x) for x in poly.split()] == [34.0, -5.0, 35.0, -5.0, 35.0, -4.0]
    assert [float(x) for x in centre.split()] == [359.5, 10.0]
    table = pyvo.dal.TAPService(tap_url).search(query).to_table()
    assert list(table["c"][0]) == [34.5, -4.8, 0.25]


def test_joins_and_set_operations_through_the_service(tap_url: str) -> None:
    result = pyvo.dal.TAPService(tap_url).search(
        "SELECT t.table_name, COUNT(*) AS n FROM TAP_SCHEMA.tables AS t JOIN TAP_SCHEMA.columns AS c "
        "ON t.table_name = c.table_name GROUP BY t.table_name "
        "UNION SELECT 'total', COUNT(*) FROM TAP_SCHEMA.columns ORDER BY 1"
    )
    counts = {r["table_name"]: int(r["n"]) for r in result}
    assert counts["ivoa.obscore"] == 34  # ObsCore 1.1's mandatory columns, the release date's three among them
    assert counts["total"] == sum(v for k, v in counts.items() if k != "total")


def test_sums_past_two_to_the_53_stay_exact(tap_url: str) -> None:
    # PostgreSQL's SUM over bigint is numeric; it must not pass through a double on the way out.
    query = "SELECT SUM(big) AS total FROM (SELECT TOP 2 9007199254740993 AS big FROM ivoa.obscore) AS t"
    response = sync(tap_url, query)
    assert rows(response)[0][0] == "18014398509481986"
