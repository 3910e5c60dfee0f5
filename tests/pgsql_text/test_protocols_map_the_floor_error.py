"""A value SQL text cannot carry (a NUL) raises the floor's SQLTextError; each protocol turns it into
its own fault, with what it knows: ADQL an ADQLError at the line and column of the name (the
resolver asks the floor, so the dialect refuses nothing), SIA a UsageFault naming the parameter,
a TAP upload a UsageFault naming the upload. (The catalogue ingest names the file:
tests/ingest/test_catalogs.py.) No database: the SQL is never run."""

from __future__ import annotations

from pathlib import Path

import pytest

from adql import ADQLCode, ADQLError, to_postgres
from dalserver.dali.faults import ErrorStyle, UsageFault
from dalserver.settings import Settings
from dalserver.sia.query import build_query, obscore_table
from dalserver.tap.upload import read_upload
from schemas.model import builtin_schemas, catalog_of

CATALOG = catalog_of(builtin_schemas())


@pytest.mark.parametrize(
    ("query", "line", "column"),
    [
        ('SELECT obs_id,\n       1 AS "a\x00b" FROM ivoa.obscore', 2, 13),
        ('WITH "x\x00" AS (SELECT obs_id FROM ivoa.obscore) SELECT * FROM "x\x00"', 1, 6),
        ('SELECT * FROM (SELECT obs_id FROM ivoa.obscore) AS t("i\x00d")', 1, 54),
    ],
)
def test_adql_wraps_it_in_an_adql_error_at_the_name(query: str, line: int, column: int) -> None:
    with pytest.raises(ADQLError) as refused:
        to_postgres(query, CATALOG)
    error = refused.value
    assert error.code is ADQLCode.UNSUPPORTED
    assert (error.line, error.column) == (line, column)
    assert "NUL character" in error.message and "\x00" not in str(error)


@pytest.mark.parametrize("parameter", ["TARGET", "COLLECTION", "INSTRUMENT", "ID"])
def test_sia_maps_it_to_a_usage_fault_naming_the_parameter(parameter: str) -> None:
    with pytest.raises(UsageFault) as refused:
        build_query({parameter: ["a\x00b"]}, obscore_table(CATALOG.tables), 10)
    assert ErrorStyle.DAL_VOTABLE.message(refused.value) == (
        f"UsageFault: {parameter}: a text value cannot contain the NUL character (U+0000)"
    )


def test_a_tap_upload_column_name_is_a_usage_fault_naming_the_upload(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"a\x00b,c\n1,2\n")
    with pytest.raises(UsageFault, match=r"^upload 'mine': the name 'a\\x00b' contains the NUL character"):
        read_upload("mine", path, Settings())
