"""Every client error on /tap/sync is a VOTable error document naming the problem, never HTML."""

from __future__ import annotations

import httpx
import pytest

from tests.support.tap import sync
from tests.support.votable import query_status


def _assert_error(response: httpx.Response, *fragments: str) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/x-votable+xml")
    value, message = query_status(response)
    assert value == "ERROR"
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_unknown_table_is_named_with_a_suggestion(tap_url: str) -> None:
    _assert_error(sync(tap_url, "SELECT * FROM ivoa.obscor"), "ivoa.obscor", "did you mean", "ivoa.obscore")


def test_unknown_column_is_named_with_line_column_and_suggestion(tap_url: str) -> None:
    message = _assert_error(
        sync(tap_url, "SELECT raa FROM ivoa.obscore"), "column 'raa' not found", "'s_ra'", "line 1, column 8"
    )
    assert "ivoa.obscore" in message


def test_syntax_error_gives_line_and_column(tap_url: str) -> None:
    _assert_error(sync(tap_url, "SELECT s_ra\nFROM ivoa.obscore\nWHERE s_ra >> 3"), "line 3, column 13")


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"MAXREC": "abc"}, "MAXREC"),
        ({"MAXREC": "-5"}, "MAXREC"),
        ({"REQUEST": "getCapabilities"}, "REQUEST"),
        ({"LANG": "SQL"}, "LANG=ADQL"),
        ({"RESPONSEFORMAT": "application/x-nonsense"}, "output format"),
    ],
)
def test_bad_parameters_are_named(tap_url: str, params: dict[str, str], fragment: str) -> None:
    _assert_error(sync(tap_url, "SELECT TOP 1 * FROM ivoa.obscore", **params), fragment)


def test_missing_query_and_lang_are_named(tap_url: str) -> None:
    _assert_error(httpx.get(f"{tap_url}/sync", params={"LANG": "ADQL"}), "QUERY")
    _assert_error(httpx.get(f"{tap_url}/sync", params={"QUERY": "SELECT * FROM ivoa.obscore"}), "LANG")


def test_tables_outside_tap_schema_cannot_be_reached(tap_url: str) -> None:
    for table in ("pg_catalog.pg_user", "information_schema.tables", "pg_shadow"):
        _assert_error(sync(tap_url, f"SELECT * FROM {table}"), "not published")


def test_database_errors_become_error_documents(tap_url: str) -> None:
    _assert_error(sync(tap_url, "SELECT s_ra / 0 FROM ivoa.obscore"), "division by zero")


def test_unknown_path_is_a_votable_404_not_html(tap_url: str) -> None:
    response = httpx.get(f"{tap_url}/nowhere")
    assert response.status_code == 404
    assert query_status(response)[0] == "ERROR"


def test_statements_other_than_select_are_syntax_errors(tap_url: str) -> None:
    for text in (
        "DELETE FROM ivoa.obscore",
        "SELECT 1 FROM ivoa.obscore; DROP TABLE ivoa.obscore",
        "UPDATE ivoa.obscore SET s_ra=0",
    ):
        _assert_error(sync(tap_url, text), "ADQL-SYNTAX")


def test_a_computed_circle_radius_over_90_degrees_is_a_400_with_the_translators_message(tap_url: str) -> None:
    response = sync(tap_url, "SELECT CIRCLE(POINT(s_ra, s_dec), s_fov * 1000) FROM ivoa.obscore")
    status, message = query_status(response)
    assert response.status_code == 400 and status == "ERROR"
    assert message.startswith("CIRCLE radii must be 0 to 90 degrees; this query computed ")
