"""The SODA descriptor advertises BAND, which /soda/sync accepts (STILTS datalinklint and pyvo
see it), and near-miss suggestions name only close matches, each once."""

from __future__ import annotations

import shutil
import subprocess
from urllib.parse import quote

import pytest
import pyvo

from adql.errors import suggestion
from tests.support.tap import sync
from tests.support.votable import query_status


def _first_image(server: str) -> pyvo.dal.sia2.ObsCoreRecord:
    images = pyvo.dal.SIA2Service(f"{server}/sia").search(pos=(34.5, -5.0, 0.02), maxrec=1)
    return images[0]


def test_pyvo_sees_band_in_the_cutout_descriptor_and_a_band_cutout_works(server: str) -> None:
    image = _first_image(server)
    service = image.getdatalink().get_first_proc()
    names = {p.name for p in service.input_params}
    assert {"ID", "CIRCLE", "POLYGON", "POS", "BAND"} <= names
    band = next(p for p in service.input_params if p.name == "BAND")
    assert band.unit == "m" and band.xtype == "interval"
    em_min, em_max = float(image["em_min"]), float(image["em_max"])
    response = service.processed(circle=(float(image["s_ra"]), float(image["s_dec"]), 0.01), band=(em_min, em_max))
    assert response.status == 200 and response.read()[:6] == b"SIMPLE"


def test_datalinklint_lists_band_among_the_soda_parameters(server: str) -> None:
    stilts = shutil.which("stilts")
    assert stilts, "stilts is not installed: ./dev test installs Debian's stilts package"
    did = str(_first_image(server)["obs_publisher_did"])
    result = subprocess.run(
        [stilts, "datalinklint", f"votable={server}/datalink/links?ID={quote(did, safe='')}"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    report = result.stdout + result.stderr
    assert "Totals: Errors: 0; Warnings: 0;" in report, report
    assert "BAND" in report, report


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("nosuch", ""),
        ("raa", "; did you mean 's_ra'?"),
        ("em_mn", "; did you mean 'em_min'?"),
        ("obsid", "; did you mean 'obs_id'?"),
    ],
)
def test_suggestions_name_only_close_columns(written: str, said: str) -> None:
    columns = ["obs_id", "obs_publisher_did", "s_ra", "s_dec", "o_ucd", "em_min", "em_max", "access_url"]
    assert suggestion(written, columns) == said


def test_a_table_is_suggested_once_by_its_qualified_name() -> None:
    qualified = [("ivoa.obscore", "ivoa.obscore"), ("tap_schema.tables", "tap_schema.tables")]
    assert suggestion("ivoa.obscor", qualified) == "; did you mean 'ivoa.obscore'?"
    bare = [("obscore", "ivoa.obscore"), ("tables", "tap_schema.tables")]
    assert suggestion("obscor", bare) == "; did you mean 'ivoa.obscore'?"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT nosuch FROM ivoa.obscore", "column 'nosuch' not found in table 'ivoa.obscore' (line 1, column 8)"),
        (
            "SELECT * FROM ivoa.obscor",
            "table 'ivoa.obscor' is not published by this service; did you mean 'ivoa.obscore'? (line 1, column 15)",
        ),
    ],
)
def test_the_service_says_only_close_suggestions(tap_url: str, query: str, message: str) -> None:
    status, text = query_status(sync(tap_url, query))
    assert status == "ERROR" and text.endswith(message), text
