"""From a target to images and sources: names of the archive's own targets resolve offline (from
ObsCore's target_name), other names through CDS Sesame when the server may go online, which here
it may not (tests never leave this machine): its failure is a clear message, never a hang; the
Images form and the cone search form of catalogues take a name or a position."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser

from tests.support.archive import Archive
from tests.support.portal import cells, portal_at, row_count, separation, wait_for_answer, wait_for_sky
from tests.support.registry import drop_catalog, publish_catalog, write_sxds_catalog
from tests.support.servers import RunningServer, another_server, free_port
from tests.support.votable import query_status

TABLE = "conetest.sources"
BROWSER_503 = "status of 503"


@pytest.fixture(scope="module")
def catalogue(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[np.ndarray]:
    data, meta = write_sxds_catalog(tmp_path_factory.mktemp("cone"), sources=2500, seed=21)
    publish_catalog(archive.env, data, TABLE, meta)
    yield np.genfromtxt(data, delimiter=",", names=True)
    drop_catalog(archive.env, TABLE)


@pytest.fixture(scope="module")
def offline_sesame(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server that may ask Sesame, where Sesame cannot be reached: a port nothing listens on."""
    folder = tmp_path_factory.mktemp("offline-sesame")
    url = f"http://127.0.0.1:{free_port()}/cgi-bin/nph-sesame/-oI/SNV"
    with another_server(archive.env, folder / "server.log", {"DALSERVER_SESAME_URL": url}) as running:
        yield running


def sxds_centre(server: str) -> tuple[float, float, int]:
    """The mean direction of the SXDS images' centres, and how many there are."""
    answer = httpx.get(
        f"{server}/tap/sync",
        params={
            "LANG": "ADQL",
            "RESPONSEFORMAT": "json",
            "QUERY": "SELECT s_ra, s_dec FROM ivoa.obscore WHERE target_name = 'SXDS'",
        },
        timeout=60,
    ).json()["data"]
    ra, dec = np.radians(np.array(answer, dtype=float)).T
    x, y, z = (np.mean(v) for v in (np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)))
    return math.degrees(math.atan2(y, x)) % 360, math.degrees(math.atan2(z, math.hypot(x, y))), len(answer)


@pytest.mark.parametrize("name", ["SXDS", "sxds", "  SXDS "])
def test_the_archives_own_targets_resolve_offline(server: str, name: str) -> None:
    answer = httpx.get(f"{server}/portal/resolve", params={"name": name}, timeout=30)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    ra, dec, images = sxds_centre(server)
    assert found["resolver"] == "archive" and found["name"] == "SXDS"
    assert found["detail"] == f"{images} images of this archive"
    assert separation(found["ra"], found["dec"], ra, dec) < 1e-6
    assert 0.6 < found["radius"] < 1.0  # the field's 6 x 6 tiles of 11 arcmin, corner to centre
    assert "SXDS" in httpx.get(f"{server}/portal/targets.json", timeout=30).json()


def test_an_unknown_name_on_a_server_that_stays_offline_is_a_404_saying_so(server: str) -> None:
    answer = httpx.get(f"{server}/portal/resolve", params={"name": "M 31"}, timeout=30)
    assert answer.status_code == 404
    status, message = query_status(answer)
    assert status == "ERROR" and "'M 31' is not a target of this archive" in message
    assert "does not ask online resolvers" in message
    assert httpx.get(f"{server}/portal/config.json", timeout=30).json()["resolver"]["online"] is None


def test_no_name_is_a_usage_error(server: str) -> None:
    answer = httpx.get(f"{server}/portal/resolve", params={"name": "  "}, timeout=30)
    assert answer.status_code == 400 and "give an object name" in query_status(answer)[1]


def test_an_unreachable_sesame_is_a_clear_503(offline_sesame: RunningServer) -> None:
    base = offline_sesame.base
    assert httpx.get(f"{base}/portal/config.json", timeout=30).json()["resolver"]["online"] == "CDS Sesame"
    answer = httpx.get(f"{base}/portal/resolve", params={"name": "M 31"}, timeout=30)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "60"
    message = query_status(answer)[1]
    assert "the online resolver (CDS Sesame) is not reachable" in message and "Give a position instead" in message
    # the archive's own names still resolve there
    assert httpx.get(f"{base}/portal/resolve", params={"name": "SXDS"}, timeout=30).json()["resolver"] == "archive"


def test_a_name_in_the_images_form_is_resolved_and_searched(browser: Browser, shots: Path, server: str) -> None:
    with portal_at(browser, shots, f"{server}/") as portal:
        page = portal.page
        page.get_by_label("Position or name").fill("SXDS")
        page.get_by_label("Radius").fill("0.05")
        page.get_by_label("Position or name").press("Enter")
        wait_for_answer(page)
        note = page.locator("#pos-resolved")
        ra, dec, images = sxds_centre(server)
        assert note.is_visible() and note.inner_text().startswith(f"SXDS: {ra:.5f} {dec:.5f}")
        assert f"from this archive's target ({images} images of this archive)" in note.inner_text()
        expected = httpx.get(
            f"{server}/sia/query", params={"POS": f"CIRCLE {ra} {dec} 0.05", "RESPONSEFORMAT": "json"}, timeout=60
        ).json()["data"]
        assert row_count(page) == len(expected) > 0
        assert "pos=SXDS" in page.url  # a link names the target, and resolves it again
        portal.screenshot("name-resolved")
        portal.expect_clean()
        link = page.url
    with portal_at(browser, shots, link) as opened:
        wait_for_answer(opened.page)
        assert row_count(opened.page) == len(expected)
        assert opened.page.locator("#pos-resolved").inner_text().startswith("SXDS:")
        opened.expect_clean()


def test_a_name_sesame_cannot_be_asked_about_is_explained_next_to_the_field(
    browser: Browser, shots: Path, offline_sesame: RunningServer
) -> None:
    with portal_at(browser, shots, f"{offline_sesame.base}/") as portal:
        page = portal.page
        page.get_by_label("Position or name").fill("M 31")
        page.get_by_role("button", name="Search images").click()
        error = page.locator("#pos-error")
        error.wait_for()
        assert error.inner_text().startswith('"M 31" is not a position; it is not a target of this archive')
        assert "the online resolver (CDS Sesame) is not reachable" in error.inner_text()
        assert page.get_by_label("Position or name").get_attribute("aria-invalid") == "true"
        assert page.locator("#results-status").inner_text().startswith("Search images")  # nothing was searched
        portal.screenshot("sesame-unreachable")
        # the archive's own names keep working on that server
        page.get_by_label("Position or name").fill("SXDS")
        page.get_by_role("button", name="Search images").click()
        wait_for_answer(page)
        assert page.locator("#pos-error").is_hidden() and row_count(page) > 0
        portal.expect_clean(allowed_errors=(BROWSER_503,))


def test_the_cone_search_form_finds_a_catalogues_sources_around_a_name(
    catalogue: np.ndarray, browser: Browser, shots: Path, server: str
) -> None:
    with portal_at(browser, shots, f"{server}/") as portal:
        page = portal.page
        page.get_by_role("tab", name="Catalogues").click()
        page.get_by_label("Catalogue", exact=True).select_option(TABLE)
        columns = page.get_by_role("group", name="Columns")
        assert columns.get_by_label("ra").is_disabled() and columns.get_by_label("ra").is_checked()  # always returned
        columns.get_by_label("mag").check()
        page.get_by_label("Centre", exact=True).fill("SXDS")
        page.get_by_label("Within").fill("3'")
        page.get_by_role("button", name="Search catalogue").click()
        wait_for_answer(page)
        wait_for_sky(page)
        ra, dec, _ = sxds_centre(server)
        inside = [
            int(s["source_id"]) for s in catalogue if separation(ra, dec, float(s["ra"]), float(s["dec"])) <= 3 / 60
        ]
        assert row_count(page) == len(inside) > 5
        assert {int(v) for v in cells(page, "source_id")} <= set(inside)
        distances = [float(v) for v in cells(page, "dist")]
        assert distances == sorted(distances) and distances[-1] <= 3.0  # nearest first, in arcmin
        assert "[arcmin]" in page.locator("th[data-column='dist']").inner_text()
        assert page.locator("th[data-column='mag']").count() == 1
        assert page.locator("#aladin").get_attribute("data-markers") == str(len(inside))
        portal.screenshot("cone-search")
        link = page.url
        # the same search as ADQL, in the editor
        page.get_by_role("tab", name="Catalogues").click()
        page.get_by_role("button", name="Edit as ADQL").click()
        # the name is resolved again, then the query is put into the editor and its tab shown
        page.wait_for_selector("#tab-adql[aria-selected=true]")
        query = page.get_by_label("ADQL query").inner_text()
        assert f"FROM {TABLE}" in query and "CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS'," in query
        portal.expect_clean()
    with portal_at(browser, shots, link) as opened:
        wait_for_answer(opened.page)
        assert row_count(opened.page) == len(inside)
        assert opened.page.get_by_label("Catalogue", exact=True).input_value() == TABLE
        assert opened.page.locator("th[data-column='mag']").count() == 1
        opened.expect_clean()


def test_the_cone_form_offers_the_catalogues_with_a_position(catalogue: np.ndarray, server: str) -> None:
    offered = httpx.get(f"{server}/portal/catalogues.json", timeout=30).json()
    assert {"name": TABLE, "ra": "ra", "dec": "dec"} in offered
    assert all(c["name"] != "ivoa.obscore" and not c["name"].startswith("tap_schema.") for c in offered)
