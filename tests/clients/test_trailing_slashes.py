"""A base URL given with a trailing slash (``http://host/tap/``) makes every client ask for
``/tap//sync``: the server tidies the path before routing, for every service and every method,
without a redirect (POST bodies stay where they are)."""

from __future__ import annotations

import shutil
import subprocess

import httpx
import pytest
import pyvo
from astropy.table import Table
from astroquery.utils.tap.core import TapPlus

from dalserver.http.paths import tidy_path
from tests.support.votable import query_status, rows


@pytest.mark.parametrize(
    ("written", "routed"),
    [
        ("/tap//sync", "/tap/sync"),
        ("//tap///capabilities", "/tap/capabilities"),
        ("/tap/", "/tap"),
        ("/sia/query/", "/sia/query"),
        ("/", "/"),
        ("//", "/"),
        ("/data/a%2F%2Fb.fits", "/data/a%2F%2Fb.fits"),  # encoded slashes are a name's, not the path's
    ],
)
def test_repeated_and_trailing_slashes_are_tidied(written: str, routed: str) -> None:
    assert tidy_path(written) == routed


def test_pyvo_with_a_trailing_slash_queries_and_reads_the_capabilities(tap_url: str) -> None:
    service = pyvo.dal.TAPService(f"{tap_url}/")
    assert len(service.search("SELECT TOP 3 obs_id FROM ivoa.obscore")) == 3
    assert any(c.standardid.startswith("ivo://ivoa.net/std/TAP") for c in service.capabilities)
    assert "ivoa.obscore" in [t.name for t in service.tables]


def test_pyvo_async_and_upload_with_a_trailing_slash(tap_url: str) -> None:
    service = pyvo.dal.TAPService(f"{tap_url}/")
    result = service.run_async("SELECT TOP 2 obs_id FROM ivoa.obscore")
    assert len(result) == 2
    uploaded = service.run_sync("SELECT n FROM TAP_UPLOAD.t ORDER BY n", uploads={"t": Table({"n": [1, 2, 3]})})
    assert list(uploaded["n"]) == [1, 2, 3]


def test_pyvo_sia_with_a_trailing_slash(server: str) -> None:
    images = pyvo.dal.SIA2Service(f"{server}/sia/").search(pos=(34.5, -5.0, 0.02), maxrec=5)
    assert 0 < len(images) <= 5


def test_a_post_to_a_doubled_path_keeps_its_body(tap_url: str) -> None:
    response = httpx.post(
        f"{tap_url}//sync/", data={"LANG": "ADQL", "QUERY": "SELECT TOP 1 obs_id FROM ivoa.obscore"}, timeout=30
    )
    assert response.status_code == 200 and query_status(response) == ("OK", "")
    assert len(rows(response)) == 1


def test_astroquery_tapplus_with_a_trailing_slash(tap_url: str) -> None:
    job = TapPlus(url=f"{tap_url}/").launch_job("SELECT TOP 4 obs_id FROM ivoa.obscore")
    assert len(job.get_results()) == 4


def test_stilts_tapquery_with_a_trailing_slash(tap_url: str) -> None:
    stilts = shutil.which("stilts")
    assert stilts, "stilts is not installed: ./dev test installs Debian's stilts package"
    result = subprocess.run(
        [stilts, "tapquery", f"tapurl={tap_url}/", "adql=SELECT TOP 5 obs_id FROM ivoa.obscore", "ofmt=csv"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 6  # the header and five rows
