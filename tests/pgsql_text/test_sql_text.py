"""The SQL-text floor (pgsql_text, no database): quoting, pgsphere text both ways, the session
setup, and its one error, which is neither an ADQL error nor a protocol's fault: each caller maps
it to its own (test_protocols_map_the_floor_error)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pgsql_text.errors import SQLTextError
from pgsql_text.pgsphere import scircle_literal, spoly_literal, spoly_text, spoly_vertices
from pgsql_text.quoting import float8, quote_ident, quote_string
from pgsql_text.session import SPHERE_OUTPUT_DEGREES, setup_statements


def test_names_are_always_delimited_and_quotes_doubled() -> None:
    assert quote_ident("ra") == '"ra"'
    assert quote_ident('say "hi"') == '"say ""hi"""'
    assert quote_string("it's") == "'it''s'"
    assert quote_string("back\\slash") == "'back\\slash'"  # standard_conforming_strings: no escapes


def test_doubles_keep_every_digit() -> None:
    assert float8(0.1 + 0.2) == "CAST(0.30000000000000004 AS double precision)"


@pytest.mark.parametrize("quote", [quote_ident, quote_string])
def test_nul_is_refused_with_the_floors_own_error_not_an_adql_one(quote: Callable[[str], str]) -> None:
    with pytest.raises(SQLTextError, match=r"NUL character \(U\+0000\)") as refused:
        quote("a\x00b")
    assert isinstance(refused.value, ValueError)
    assert type(refused.value).__module__ == "pgsql_text.errors"


def test_a_name_refused_is_named_in_the_message() -> None:
    with pytest.raises(SQLTextError, match=r"'a\\x00b'"):
        quote_ident("a\x00b")


def test_polygon_text_read_back_gives_the_vertices_written() -> None:
    vertices = ((34.5, -5.0), (35.25, -5.0), (35.0, -4.125e-05))
    assert spoly_vertices(spoly_text(vertices)) == vertices
    # as pgsphere prints it with set_sphere_output('DEG')
    assert spoly_vertices("{(34.5d , -5d),(35.25d , -5d),(35d , 1e-05d)}") == (
        (34.5, -5.0),
        (35.25, -5.0),
        (35.0, 1e-05),
    )
    assert spoly_vertices("{(34.1d , -4.9d),(3.5e-1d , +2d),(.5d , -1E1d)}") == (
        (34.1, -4.9),
        (0.35, 2.0),
        (0.5, -10.0),
    )
    assert spoly_vertices(None) == () and spoly_vertices("") == ()


def test_pgsphere_literals_are_degrees_cast_or_converted() -> None:
    assert (
        spoly_literal([(1.0, 2.0), (3.0, 4.0), (5.0, 6.0)]) == "CAST('{(1.0d,2.0d),(3.0d,4.0d),(5.0d,6.0d)}' AS spoly)"
    )
    assert scircle_literal(1.0, 2.0, 0.5) == (
        "scircle(spoint(radians(CAST(1.0 AS double precision)), radians(CAST(2.0 AS double precision))), "
        "radians(CAST(0.5 AS double precision)))"
    )


def test_every_session_reads_geometry_in_degrees_and_names_itself_quoted() -> None:
    statements = setup_statements("it's me")
    assert statements[0] == SPHERE_OUTPUT_DEGREES
    assert "SET standard_conforming_strings = on" in statements
    assert "SET application_name = 'it''s me'" in statements
    assert not any("client_connection_check_interval" in s for s in statements)
    assert any("client_connection_check_interval" in s for s in setup_statements("q", query_session=True))
