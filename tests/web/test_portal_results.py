"""Results people read: an image search shows ID, band, UTC date, exposure, distance from the
search centre, field size and a thumbnail, nearest first, the other columns one click away; units
converted where a person expects them (nm, arcmin, UTC) and no float noise, while the stored values
stay exact (a cell's tooltip, Ctrl-C, the downloads); facets on band, instrument, collection and
date with counts that narrow the rows and the sky together."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from astropy.time import Time
from playwright.sync_api import Browser, Page

from tests.support.browser import GuardedPage
from tests.support.portal import (
    cells,
    column_keys,
    exact_cells,
    portal_at,
    row_count,
    run_adql,
    search_images,
    separation,
    wait_for_answer,
    wait_for_sky,
)

CURATED = ["__thumbnail", "obs_id", "em_band_name", "t_min", "t_exptime", "distance", "s_fov"]


@pytest.fixture
def portal(browser: Browser, shots: Path, server: str) -> Iterator[GuardedPage]:
    with portal_at(browser, shots, f"{server}/", (1600, 1000)) as guarded:
        yield guarded


def sia(server: str, radius: float) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{server}/sia/query", params={"POS": f"CIRCLE 34.5 -5.0 {radius}", "RESPONSEFORMAT": "json"}, timeout=60
    ).json()
    names = [m["name"] for m in answer["metadata"]]
    return [dict(zip(names, row, strict=True)) for row in answer["data"]]


def header(page: Page, key: str) -> str:
    return page.locator(f"#results-table thead th[data-column='{key}']").inner_text()


def test_an_image_search_shows_the_columns_people_read_nearest_first(portal: GuardedPage, server: str) -> None:
    page = portal.page
    search_images(page, "34.5 -5.0", "0.05")
    wait_for_answer(page)
    assert column_keys(page) == CURATED
    assert [header(page, k).split(" [")[0].strip(" ▲") for k in CURATED[1:]] == [
        "ID",
        "Band",
        "Observed",
        "Exposure",
        "Distance",
        "Field",
    ]
    assert "[UTC]" in header(page, "t_min") and "[s]" in header(page, "t_exptime")
    assert "[arcmin]" in header(page, "distance") and "[arcmin]" in header(page, "s_fov")
    assert page.locator("#results-table thead th[data-column='distance']").get_attribute("aria-sort") == "ascending"
    rows = {r["obs_id"]: r for r in sia(server, 0.05)}
    nearest_first = sorted(rows, key=lambda o: separation(34.5, -5.0, rows[o]["s_ra"], rows[o]["s_dec"]))
    shown = cells(page, "obs_id")  # the rows in the DOM: those in sight and a few more
    assert row_count(page) == len(rows) and shown == nearest_first[: len(shown)]
    distances = [float(d) for d in cells(page, "distance")]
    assert distances == sorted(distances)  # nearest first
    for obs_id, distance, observed, field in zip(
        shown, distances, cells(page, "t_min"), cells(page, "s_fov"), strict=True
    ):
        row = rows[obs_id]
        assert distance == pytest.approx(separation(34.5, -5.0, row["s_ra"], row["s_dec"]) * 60, rel=1e-5)
        assert observed == Time(row["t_min"], format="mjd", scale="utc").iso[:19]
        assert float(field) == pytest.approx(row["s_fov"] * 60, rel=1e-5)
    # the stored values are a hover away
    assert [float(v) for v in exact_cells(page, "t_min")] == [rows[o]["t_min"] for o in shown]
    # the rest behind "Columns", and what is turned on there stays on for the next search
    page.locator("summary", has_text="Columns").click()
    s_ra = page.locator("#column-toggles input[data-column='s_ra']")
    assert not s_ra.is_checked() and page.locator("#column-toggles input").count() == len(next(iter(rows.values()))) + 2
    s_ra.check()
    assert "s_ra" in column_keys(page)
    page.locator("summary", has_text="Columns").click()
    search_images(page, "34.6 -5.1", "0.05")
    wait_for_sky(page, answers=2)
    assert column_keys(page) == [*CURATED, "s_ra"]
    portal.screenshot("curated")
    portal.expect_clean()


def test_thumbnails_come_from_the_datalink_previews_in_one_request(portal: GuardedPage, server: str) -> None:
    page = portal.page
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/datalink/links" in r.url else None)
    search_images(page, "34.5 -5.0", "0.05")
    wait_for_answer(page)
    page.wait_for_function(
        "(() => { const imgs = [...document.querySelectorAll('#results-table td.thumbnail img')];"
        " return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); })()"
    )
    thumbnails = page.locator("#results-table td.thumbnail img")
    rendered = page.locator("#results-table tbody tr[data-index]").count()
    assert thumbnails.count() == rendered
    assert len(asked) == 1  # every row in sight, one {links} request
    first = page.locator("#results-table tbody tr[data-index]").first
    did = httpx.get(
        f"{server}/sia/query",
        params={"POS": "CIRCLE 34.5 -5.0 0.05", "RESPONSEFORMAT": "json", "MAXREC": 1000},
        timeout=60,
    ).json()
    names = [m["name"] for m in did["metadata"]]
    by_obs_id = {r[names.index("obs_id")]: r[names.index("obs_publisher_did")] for r in did["data"]}
    obs_id = first.locator("td").nth(2).inner_text()
    links = httpx.get(f"{server}/datalink/links", params={"ID": by_obs_id[obs_id]}, timeout=60).text
    src = first.locator("td.thumbnail img").get_attribute("src") or ""
    assert "#preview" in links and src.replace("&", "&amp;") in links
    portal.screenshot("thumbnails")
    portal.expect_clean()


def test_values_are_shown_without_noise_in_the_units_people_expect_and_copied_exactly(
    portal: GuardedPage, server: str
) -> None:
    page = portal.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    query = "SELECT TOP 3 obs_id, em_min, em_max, 0.1 + 0.2 AS noisy, s_fov, t_min FROM ivoa.obscore ORDER BY obs_id"
    run_adql(page, query)
    wait_for_answer(page)
    stored = httpx.get(
        f"{server}/tap/sync", params={"LANG": "ADQL", "QUERY": query, "RESPONSEFORMAT": "json"}, timeout=60
    ).json()["data"]
    assert stored[0][3] == 0.30000000000000004  # what PostgreSQL answers: the float noise
    assert cells(page, "noisy") == ["0.3"] * 3
    assert exact_cells(page, "noisy") == ["0.30000000000000004"] * 3
    assert "[nm]" in header(page, "em_min") and "[arcmin]" in header(page, "s_fov") and "[UTC]" in header(page, "t_min")
    assert [float(v) for v in cells(page, "em_min")] == [pytest.approx(r[1] * 1e9, rel=1e-6) for r in stored]
    assert "stored in m" in (page.locator("th[data-column='em_min'] button").get_attribute("title") or "")
    # Ctrl-C on a row copies what is stored, with the stored units
    row = page.locator("#results-table tbody tr[data-index]").nth(1)
    row.click()
    row.press("Control+c")
    copied = page.evaluate("navigator.clipboard.readText()").splitlines()
    assert copied[0].split("\t") == ["obs_id", "em_min [m]", "em_max [m]", "noisy", "s_fov [deg]", "t_min [d]"]
    values = copied[1].split("\t")
    assert values[0] == stored[1][0] and [float(v) for v in values[1:]] == stored[1][1:]
    portal.expect_clean()


def test_facets_count_band_instrument_collection_and_date_and_narrow_the_rows_and_the_sky(
    portal: GuardedPage, server: str
) -> None:
    page = portal.page
    search_images(page, "34.5 -5.0", "0.3")
    wait_for_answer(page)
    wait_for_sky(page)
    rows = sia(server, 0.3)
    facets = page.get_by_role("complementary", name="Refine the results")

    def counts(facet: str) -> dict[str, int]:
        group = facets.locator(f"fieldset[data-facet='{facet}'] label")
        return {
            label.locator("input").get_attribute("value") or "": int(label.locator(".count").inner_text())
            for label in group.all()
        }

    year = {r["obs_id"]: Time(r["t_min"], format="mjd").iso[:4] for r in rows}
    assert counts("band") == dict(Counter(r["em_band_name"] for r in rows))
    assert counts("instrument") == dict(Counter(r["instrument_name"] for r in rows))
    assert counts("collection") == dict(Counter(r["obs_collection"] for r in rows))
    assert counts("date") == dict(Counter(year.values()))  # years: the dates span more than two
    download = page.get_by_role("link", name="Download").get_attribute("href")
    # a band
    facets.get_by_label("W-J-V").check()
    in_v = [r for r in rows if r["em_band_name"] == "W-J-V"]
    page.wait_for_function(f"document.getElementById('aladin').dataset.shown === '{len(in_v)}'")
    assert f"({len(in_v)} shown by the filters)" in page.locator("#results-status").inner_text()
    assert page.locator("#results-table").get_attribute("aria-rowcount") == str(len(in_v) + 1)
    assert set(cells(page, "em_band_name")) == {"W-J-V"}
    assert counts("band") == dict(Counter(r["em_band_name"] for r in rows))  # a facet's own ticks leave it whole
    assert counts("date") == dict(Counter(year[r["obs_id"]] for r in in_v))
    # and a year: the bands are counted within it
    first_year = min(year.values())
    facets.locator(f"fieldset[data-facet='date'] input[value='{first_year}']").check()
    both = [r for r in in_v if year[r["obs_id"]] == first_year]
    page.wait_for_function(f"document.getElementById('aladin').dataset.shown === '{len(both)}'")
    assert counts("band")["W-J-V"] == len(both)
    portal.screenshot("facets")
    # the download is the search's whole answer, as the service gives it
    assert page.get_by_role("link", name="Download").get_attribute("href") == download
    facets.get_by_role("button", name="Clear filters").click()
    page.wait_for_function(f"document.getElementById('aladin').dataset.shown === '{len(rows)}'")
    assert "shown by the filters" not in page.locator("#results-status").inner_text()
    portal.expect_clean()


def test_catalogue_rows_have_no_facets(portal: GuardedPage) -> None:
    page = portal.page
    run_adql(page, "SELECT TOP 5 table_name, description FROM tap_schema.tables")
    wait_for_answer(page)
    assert page.get_by_role("complementary", name="Refine the results").count() == 0  # hidden: not in the tree
    assert row_count(page) == 5
    portal.expect_clean()
