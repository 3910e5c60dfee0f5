"""Other facilities in the portal: for the region searched (or in view), the counts by facility and
instrument from vo.remote_coverage, other archives' datasets from vo.remote_obscore as rows that
link out to their archives, their footprints on the sky in a colour of their own; one click
between this archive and other archives, kept in the URL; an empty cache says how to fill it.

The cache is filled by the crawler's own writer (tests/support/remote_cache.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, Page

from tests.support.archive import Archive
from tests.support.browser import GuardedPage
from tests.support.portal import cells, portal_at, row_count, search_images, wait_for_answer, wait_for_sky
from tests.support.remote_cache import RemoteRow, remote_datasets

CENTRE = (34.5, -5.0)
RADIUS = 0.5
CIRCLE_SQL = f"scircle(spoint(radians({CENTRE[0]}), radians({CENTRE[1]})), radians({RADIUS}))"
REMOTE_COLOUR = "#ff8a00"  # facilities.js


@pytest.fixture
def remote(archive: Archive) -> Iterator[list[RemoteRow]]:
    with remote_datasets(archive.url) as rows:
        yield rows


@pytest.fixture
def portal(browser: Browser, shots: Path, server: str) -> Iterator[GuardedPage]:
    with portal_at(browser, shots, f"{server}/", (1600, 1000)) as guarded:
        yield guarded


def other_archives(page: Page) -> None:
    """Click "Other archives" and wait for its rows, or for what it says instead."""
    page.get_by_role("tab", name="Other archives").click()
    page.wait_for_function(
        "(() => { const s = document.getElementById('results-status').textContent;"
        " return / from other archives/.test(s) || /crawled/.test(s) || !document.getElementById('results-error').hidden; })()",
        timeout=60_000,
    )


def counts_shown(page: Page) -> list[tuple[str, str, int]]:
    rows = page.locator("#facilities-table tbody tr").evaluate_all(
        "trs => trs.map(tr => [...tr.children].map(td => td.textContent))"
    )
    return [(f, i, int(n.replace(",", ""))) for f, i, n in rows]


def test_with_nothing_crawled_the_panel_says_how_an_operator_fills_the_cache(
    portal: GuardedPage, db: psycopg.Connection
) -> None:
    assert db.execute("SELECT count(*) FROM vo.remote_coverage").fetchone() == (0,)
    page = portal.page
    search_images(page, f"{CENTRE[0]} {CENTRE[1]}", str(RADIUS))
    wait_for_answer(page)
    other_archives(page)
    empty = page.locator("#facilities .facilities-empty")
    assert "No other archive has been crawled yet" in empty.inner_text()
    assert page.locator("#facilities code.crawl-run").inner_text() == "dalserver crawl run"
    assert page.locator("#results-error").is_hidden()
    assert page.locator("#facilities [role=alert]").count() == 0
    portal.screenshot("empty-cache")
    portal.expect_clean()


def test_the_counts_table_lists_the_facilities_of_the_region_with_their_numbers(
    portal: GuardedPage, remote: list[RemoteRow], db: psycopg.Connection
) -> None:
    page = portal.page
    search_images(page, f"{CENTRE[0]} {CENTRE[1]}", str(RADIUS))
    wait_for_answer(page)
    other_archives(page)
    page.wait_for_selector("#facilities-table")
    # The SQL count: the datasets whose centre lies in the order-6 cells the region touches.
    expected = db.execute(
        "SELECT facility_name, instrument_name, count(*) FROM vo.remote_obscore "
        f"WHERE spoint(radians(s_ra), radians(s_dec)) <@ smoc_degrade(6, smoc(10, {CIRCLE_SQL})) "
        "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2"
    ).fetchall()
    assert {f for f, _, _ in expected} == {"HST", "GALEX", "Chandra"}  # not ALMA, far away
    assert counts_shown(page) == [(f, i, n) for f, i, n in expected]
    total = page.locator("#facilities-table tfoot td").inner_text()
    assert int(total.replace(",", "")) == sum(n for _, _, n in expected)
    assert "touched by 30′ around 34.50000 -5.00000" in page.locator("#facilities-region").inner_text()
    portal.screenshot("counts")
    # the sky in view instead of the search circle: a wider region, its own counts, in the URL
    page.get_by_role("button", name="Search the sky in view").click()
    page.wait_for_function("/others=view/.test(location.search) && document.getElementById('facilities-table')")
    page.wait_for_function("!/touched by 30′/.test(document.getElementById('facilities-region').textContent)")
    assert sum(n for _, _, n in counts_shown(page)) >= sum(n for _, _, n in expected)
    portal.expect_clean()


def test_one_click_switches_to_other_archives_and_back_and_the_url_keeps_it(
    portal: GuardedPage, remote: list[RemoteRow], server: str, browser: Browser, shots: Path
) -> None:
    page = portal.page
    search_images(page, f"{CENTRE[0]} {CENTRE[1]}", str(RADIUS))
    wait_for_answer(page)
    own = row_count(page)
    own_ids = sorted(cells(page, "obs_id"))
    other_archives(page)
    assert page.get_by_role("tab", name="Other archives").get_attribute("aria-selected") == "true"
    assert "others=search" in page.url
    assert page.locator("#facilities").is_visible()
    assert all(i.startswith(("hst-", "galex-", "chandra-")) for i in cells(page, "obs_id"))
    # back with one click: this archive's rows again, the panel gone, the URL without it
    page.get_by_role("tab", name="This archive").click()
    page.wait_for_function(
        f"/^{own} rows? from the image search/.test(document.getElementById('results-status').textContent)"
    )
    assert sorted(cells(page, "obs_id")) == own_ids
    assert page.locator("#facilities").is_hidden()
    assert "others=" not in page.url
    # and from the keyboard: the arrow key moves to the other tab and shows it
    page.get_by_role("tab", name="This archive").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("/ from other archives/.test(document.getElementById('results-status').textContent)")
    assert page.evaluate("document.activeElement.id") == "tab-other-archives"
    link = page.url
    portal.expect_clean()
    # a link opens on the other archives of the same search
    with portal_at(browser, shots, link, (1600, 1000)) as again:
        again.page.wait_for_function(
            "/ from other archives/.test(document.getElementById('results-status').textContent)", timeout=60_000
        )
        assert again.page.get_by_role("tab", name="Other archives").get_attribute("aria-selected") == "true"
        assert again.page.locator("#facilities-table").is_visible()
        again.expect_clean()


def test_other_archives_rows_link_out_to_their_access_url_and_preview(
    portal: GuardedPage, remote: list[RemoteRow], db: psycopg.Connection
) -> None:
    page = portal.page
    search_images(page, f"{CENTRE[0]} {CENTRE[1]}", str(RADIUS))
    wait_for_answer(page)
    other_archives(page)
    inside = {
        did
        for (did,) in db.execute(
            f"SELECT obs_publisher_did FROM vo.remote_obscore WHERE s_region && {CIRCLE_SQL}"
        ).fetchall()
    }
    assert len(inside) >= 10 and row_count(page) == len(inside)
    by_id = {r.obs_id: r for r in remote}
    links = page.locator("#results-table tbody tr[data-index]").evaluate_all(
        """trs => trs.map(tr => ({
            id: tr.children[1].textContent,
            links: [...tr.querySelectorAll('td.actions a')].map(a => [a.textContent, a.getAttribute('href'), a.target, a.rel]),
        }))"""
    )
    assert links
    seen_datalink = seen_file = False
    for row in links:
        dataset = by_id[row["id"]]
        assert dataset.did in inside
        kinds = {text: (href, target, rel) for text, href, target, rel in row["links"]}
        if dataset.preview:
            seen_datalink = True
            assert kinds["DataLink"][0] == dataset.access_url
            assert kinds["Preview"][0] == dataset.preview
        else:
            seen_file = True
            assert set(kinds) == {"File"} and kinds["File"][0] == dataset.access_url
        assert all(target == "_blank" and "noopener" in rel for _, target, rel in kinds.values())
    assert seen_datalink and seen_file
    # sortable like this archive's rows: by facility, then back
    page.locator("#results-table thead th[data-column='facility_name'] button").click()
    facilities = cells(page, "facility_name")
    assert facilities == sorted(facilities) and len(set(facilities)) > 1
    portal.screenshot("remote-rows")
    portal.expect_clean()  # the page fetched nothing from the other archives


def test_other_archives_footprints_are_drawn_in_a_colour_of_their_own(
    portal: GuardedPage, remote: list[RemoteRow]
) -> None:
    page = portal.page
    search_images(page, f"{CENTRE[0]} {CENTRE[1]}", str(RADIUS))
    wait_for_answer(page)
    wait_for_sky(page, 1)
    own_colours = page.locator("#aladin").get_attribute("data-colours") or ""
    assert own_colours and REMOTE_COLOUR not in own_colours.split()
    other_archives(page)
    wait_for_sky(page, 2)
    sky = page.locator("#aladin")
    assert sky.get_attribute("data-colours") == REMOTE_COLOUR
    assert int(sky.get_attribute("data-footprints") or 0) == row_count(page)
    assert page.locator("#sky-legend button", has_text="Other archives").count() == 1
    portal.screenshot("remote-footprints")
    page.get_by_role("tab", name="This archive").click()
    wait_for_sky(page, 3)
    assert sky.get_attribute("data-colours") == own_colours
    portal.expect_clean()
