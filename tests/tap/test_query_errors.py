"""The audit of issue #22: queries that look valid but that the database cannot answer, over real
HTTP. Each is refused with the DALI error document and a message naming the problem (by the ADQL
checker before any SQL, with line and column, or from the database's SQLSTATE), or runs; none is
a 500 "the database failed". One line per case: the query, then what the answer must say."""

from __future__ import annotations

import httpx
import psycopg
import pytest
import pyvo

from dalserver.db.errors import database_fault
from tests.support.tap import sync
from tests.support.uws import submit, wait_for_phase
from tests.support.votable import query_status, rows

LONG = "a" * 64  # PostgreSQL keeps 63 bytes of a name

# query -> fragments of the error message (status 400, QUERY_STATUS ERROR)
REFUSED: dict[str, tuple[str, ...]] = {
    # found by the checker, before any SQL
    "SELECT obs_id FROM ivoa.obscore GROUP BY s_ra": (
        "ADQL-GROUPING: column 'obs_id' is neither grouped nor inside an aggregate",
        "(line 1, column 8)",
    ),
    "SELECT obs_id, COUNT(*) FROM ivoa.obscore": ("ADQL-GROUPING", "the aggregate COUNT makes the query one row"),
    "SELECT MAX(COUNT(*)) FROM ivoa.obscore GROUP BY s_ra": ("ADQL-GROUPING", "cannot be nested", "column 12"),
    "SELECT obs_id FROM ivoa.obscore WHERE COUNT(*) > 1": ("ADQL-GROUPING", "WHERE cannot use the aggregate"),
    "SELECT DISTINCT s_ra FROM ivoa.obscore ORDER BY s_dec": ("ADQL-GROUPING", "with SELECT DISTINCT, ORDER BY"),
    "SELECT obs_id FROM ivoa.obscore ORDER BY s_region": ("ADQL-TYPE: ORDER BY cannot sort by a region",),
    "SELECT COUNT(*) FROM ivoa.obscore GROUP BY POINT(s_ra, s_dec)": ("ADQL-TYPE: GROUP BY of a point",),
    "SELECT COUNT(DISTINCT s_region) FROM ivoa.obscore": ("ADQL-TYPE: COUNT(DISTINCT ...) of a region",),
    "SELECT COUNT(*) FROM (SELECT DISTINCT s_region FROM ivoa.obscore) AS d": ("ADQL-TYPE: DISTINCT of a region",),
    "SELECT COUNT(*) FROM rr.stc_spatial GROUP BY coverage": ("ADQL-TYPE: GROUP BY of a region",),
    "SELECT COUNT(*) FROM ivoa.obscore AS a JOIN (SELECT calib_level AS obs_id FROM ivoa.obscore) AS b "
    "USING (obs_id)": ("ADQL-TYPE: USING obs_id: the column is a string in 'a' and an integer in 'b'",),
    "SELECT COUNT(*) FROM ivoa.obscore AS a FULL JOIN ivoa.obscore AS b ON a.s_ra < b.s_ra": (
        "ADQL-UNSUPPORTED: FULL OUTER JOIN needs an equality between the two sides",
    ),
    f"SELECT * FROM (SELECT s_ra AS {LONG}1, s_dec AS {LONG}2 FROM ivoa.obscore) AS d": (
        "ADQL-AMBIGUOUS",
        "begin with the same 63 bytes",
    ),
    "SELECT " + ", ".join(["s_ra"] * 1665) + " FROM ivoa.obscore": ("ADQL-LIMIT: the select list has 1665 columns",),
    "SELECT updated FROM rr.resource UNION SELECT ivoid FROM rr.resource": (
        "ADQL-TYPE: UNION: column 1 is a timestamp on the left and a string on the right",
    ),
    "SELECT obs_id FROM ivoa.obscore WHERE obs_id LIKE 'a\\' ESCAPE '\\'": ("ADQL-TYPE", "ends with its ESCAPE"),
    "SELECT CAST(obs_id AS CHAR(0)) FROM ivoa.obscore": ("ADQL-TYPE: CAST AS CHAR(0)",),
    # answered -9223372036854775808: PostgreSQL's exact numeric did not fit the BIGINT column
    "SELECT 99999999999999999999999 FROM ivoa.obscore": ("ADQL-TYPE: the integer 99999999999999999999999 is outside",),
    # data the query meets while it runs: PostgreSQL's message (SQLSTATE class 22, 21)
    "SELECT s_ra / 0 FROM ivoa.obscore": ("the database could not run the query: division by zero",),
    "SELECT LOG(-s_ra) FROM ivoa.obscore": ("cannot take logarithm of a negative number",),
    "SELECT SQRT(-s_ra) FROM ivoa.obscore": ("cannot take square root of a negative number",),
    "SELECT POWER(0, -1) FROM ivoa.obscore": ("zero raised to a negative power is undefined",),
    "SELECT EXP(s_ra * 100) FROM ivoa.obscore": ("value out of range: overflow",),
    "SELECT 9223372036854775807 + 1 FROM ivoa.obscore": ("bigint out of range",),
    "SELECT CAST(obs_id AS INTEGER) FROM ivoa.obscore": ("invalid input syntax for type integer",),
    "SELECT CAST('2020-13-45' AS TIMESTAMP) FROM ivoa.obscore": ("date/time field value out of range",),
    "SELECT ivoid FROM rr.resource WHERE updated > ivoid": ("invalid input syntax for type timestamp",),
    "SELECT obs_id FROM ivoa.obscore WHERE dataproduct_type LIKE LOWER('\\') ESCAPE '\\'": (
        "LIKE pattern must not end with escape character",
    ),
    "SELECT (SELECT obs_id FROM ivoa.obscore) FROM ivoa.obscore": (
        "more than one row returned by a subquery used as an expression",
        "TOP 1",
    ),
    # the translator's own run-time refusals (SQLSTATE DA001) and pgsphere's (XX000)
    "SELECT CIRCLE(s_ra, s_dec, -s_fov) FROM ivoa.obscore": ("CIRCLE radii must be 0 to 90 degrees",),
    "SELECT MOC(29, CIRCLE(s_ra, s_dec, 10)) FROM ivoa.obscore": (
        "MOC(order, geometry): at order 29",
        "cells on its boundary",
    ),
    "SELECT POLYGON(0, 0, 10, 0, 0, 10, 10, 10) FROM ivoa.obscore": ("a line segment overlaps or polygon too large",),
    "SELECT MOC('garbage') FROM ivoa.obscore": ("Incorrect MOC syntax",),
}

# queries the database once refused as a server failure (or crashed on), which now run
ANSWERED: list[str] = [
    "SELECT SUM(NULL), AVG(NULL), AREA(NULL), NULL + NULL, - NULL FROM ivoa.obscore",
    "SELECT CASE WHEN s_ra > 0 THEN NULL END + 1 FROM ivoa.obscore",
    "SELECT MOD(COALESCE(calib_level, s_ra), 2) FROM ivoa.obscore",
    "SELECT obs_id FROM ivoa.obscore ORDER BY 'x'",
    "SELECT COUNT(*) FROM ivoa.obscore GROUP BY NULL",
    "SELECT datatype, unit FROM tap_schema.columns GROUP BY table_name, column_name",  # the primary key
    "SELECT COUNT(*) FROM ivoa.obscore AS a FULL JOIN ivoa.obscore AS b ON a.obs_id = b.obs_id AND a.s_ra > 0",
    "SELECT ivoid FROM rr.resource WHERE updated < LOWER('2100-01-01')",
    "SELECT BOX(s_ra, s_dec, 1, NULL), POLYGON(s_ra, s_dec, 1, NULL, 2, 2) FROM ivoa.obscore",  # crashed the server
]


@pytest.mark.parametrize(("adql", "fragments"), REFUSED.items(), ids=[q[:60] for q in REFUSED])
def test_a_query_the_database_cannot_answer_gets_an_error_naming_the_problem(
    tap_url: str, adql: str, fragments: tuple[str, ...]
) -> None:
    response = sync(tap_url, adql, MAXREC="5")
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/x-votable+xml")
    status, message = query_status(response)
    assert status == "ERROR"
    assert "the database failed" not in message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("adql", ANSWERED, ids=[q[:60] for q in ANSWERED])
def test_a_query_the_database_once_failed_on_is_answered(tap_url: str, adql: str) -> None:
    response = sync(tap_url, adql, MAXREC="5")
    assert response.status_code == 200, response.text
    assert query_status(response)[0] in ("OK", "OVERFLOW")


def test_a_polygon_with_a_null_vertex_is_null_and_the_server_stays_up(tap_url: str) -> None:
    # pgsphere's polygon aggregate dropped NULL vertices (a wrong shape) and crashed the database
    # server when every vertex was NULL
    response = sync(tap_url, "SELECT TOP 2 POLYGON(s_ra, NULL, s_ra, NULL, s_ra, NULL) AS p FROM ivoa.obscore")
    assert rows(response) == [[None], [None]]
    response = sync(tap_url, "SELECT TOP 1 POLYGON(s_ra, s_dec, s_ra + 0.1, s_dec, s_ra, NULL) AS p FROM ivoa.obscore")
    assert rows(response) == [[None]]
    assert query_status(sync(tap_url, "SELECT COUNT(*) FROM ivoa.obscore"))[0] == "OK"


def test_pyvo_reads_the_grouping_error_with_its_position(tap_url: str) -> None:
    with pytest.raises(pyvo.dal.DALQueryError) as failure:
        pyvo.dal.TAPService(tap_url).search("SELECT obs_id\nFROM ivoa.obscore\nGROUP BY s_ra")
    assert "ADQL-GROUPING: column 'obs_id' is neither grouped" in str(failure.value)
    assert "(line 1, column 8)" in str(failure.value)


def test_an_async_job_ends_in_error_with_the_same_messages(tap_url: str) -> None:
    for adql, fragment in (
        ("SELECT obs_id FROM ivoa.obscore GROUP BY s_ra", "ADQL-GROUPING"),
        ("SELECT (SELECT obs_id FROM ivoa.obscore) FROM ivoa.obscore", "more than one row returned"),
    ):
        job = submit(tap_url, adql)
        assert wait_for_phase(job, ("COMPLETED", "ERROR")) == "ERROR"
        assert fragment in httpx.get(f"{job}/error", follow_redirects=True, timeout=30).text
        httpx.delete(job)


# SQLSTATE -> the status the client gets (no database: the exception as psycopg raises it)
SQLSTATES = [
    ("22012", "division by zero", 400),  # data exceptions: the query's own values
    ("2201E", "cannot take logarithm of a negative number", 400),
    ("21000", "more than one row returned by a subquery used as an expression", 400),
    ("XX000", "spherepoly_from_array: more than two points needed", 400),  # pgsphere's elog(ERROR)
    ("54011", "target lists can have at most 1664 entries", 400),
    ("42803", 'column "t0.obs_id" must appear in the GROUP BY clause', 500),  # the checker's to find
    ("0A000", "FULL JOIN is only supported with merge-joinable or hash-joinable join conditions", 500),
    ("57P01", "terminating connection due to administrator command", 503),
    ("40001", "canceling statement due to conflict with recovery", 503),  # a standby's replay won
    ("53100", "could not extend file: No space left on device", 500),
]


@pytest.mark.parametrize(("sqlstate", "message", "status"), SQLSTATES)
def test_each_sqlstate_has_its_status(sqlstate: str, message: str, status: int) -> None:
    fault = database_fault(psycopg.errors.lookup(sqlstate)(f"ERROR:  {message}\nLINE 1: SELECT ..."))
    assert fault.status_code == status
    assert message in fault.message


def test_a_subquery_giving_several_rows_says_how_to_make_it_one() -> None:
    fault = database_fault(psycopg.errors.lookup("21000")("more than one row returned by a subquery"))
    assert "TOP 1" in fault.message and "EXISTS" in fault.message
