"""The portal's layout holds on a 13-inch laptop (1280 x 800) and at 1440 and 1920 px: the search,
the sky and the results side by side without overlapping, every panel scrolling inside itself, the
Tables tab with the archive's own catalogues first and clickable, column descriptions in full, and
the service metadata (TAP_SCHEMA, the registry) folded away."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.support.archive import Archive
from tests.support.portal import VIEWPORTS, portal_at, search_images, wait_for_answer
from tests.support.registry import drop_catalog, publish_catalog, write_sxds_catalog

TABLE = "layout.sxds_sources"


@pytest.fixture(scope="module")
def own_catalogue(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data, meta = write_sxds_catalog(tmp_path_factory.mktemp("layout"), sources=200, seed=5)
    publish_catalog(archive.env, data, TABLE, meta)
    yield TABLE
    drop_catalog(archive.env, TABLE)


def boxes(page: Page) -> dict[str, dict[str, float]]:
    return page.evaluate(
        """() => Object.fromEntries(['search', 'sky', 'results'].map(name => {
            const r = document.querySelector('section.' + name).getBoundingClientRect();
            return [name, {left: r.left, top: r.top, right: r.right, bottom: r.bottom}];
        }))"""
    )


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"] - 1
        and b["left"] < a["right"] - 1
        and a["top"] < b["bottom"] - 1
        and b["top"] < a["bottom"] - 1
    )


def spills(page: Page) -> list[str]:
    """The elements that reach outside their panel's box instead of scrolling inside it."""
    return page.evaluate(
        """() => [...document.querySelectorAll('main > section')].flatMap(section => {
            const box = section.getBoundingClientRect();
            return [...section.querySelectorAll('*')].filter(el => {
                if (!el.checkVisibility({ contentVisibilityAuto: true, visibilityProperty: true })) return false;
                const scroller = el.parentElement.closest('.results-scroll, [role=tabpanel], #panel-tables > nav, #table-detail, .facets, .column-list, .aladin-frame');
                if (scroller && section.contains(scroller)) return false;  // inside a panel that scrolls or clips
                const r = el.getBoundingClientRect();
                return r.bottom > box.bottom + 1 || r.right > box.right + 1;
            }).map(el => `${section.className}: ${el.tagName.toLowerCase()}#${el.id}.${el.className}`);
        })"""
    )


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_the_panels_fit_the_screen_side_by_side_and_scroll_inside_themselves(
    browser: Browser, shots: Path, server: str, viewport: tuple[int, int]
) -> None:
    with portal_at(browser, shots, f"{server}/", viewport) as portal:
        page = portal.page
        search_images(page, "34.5 -5.0", "0.3")
        wait_for_answer(page)
        portal.screenshot(f"images-{viewport[0]}x{viewport[1]}")
        found = boxes(page)
        assert not overlaps(found["search"], found["results"]) and not overlaps(found["sky"], found["results"])
        assert not overlaps(found["search"], found["sky"])
        # the page is one screen: nothing below the results to scroll to
        assert page.evaluate("document.documentElement.scrollHeight") <= viewport[1] + 1
        assert found["results"]["bottom"] <= viewport[1]
        assert spills(page) == []
        # the results grid scrolls inside its panel, and its last row can be reached
        scroller = page.locator("#results-scroll")
        assert scroller.evaluate("s => s.scrollHeight > s.clientHeight")
        scroller.evaluate("s => s.scrollTop = s.scrollHeight")
        page.wait_for_function(
            "[...document.querySelectorAll('#results-table tbody tr[data-index]')].pop()?.getAttribute('aria-rowindex')"
            " === String(Number(document.getElementById('results-table').getAttribute('aria-rowcount')))"
        )
        bottom = page.evaluate(  # measured at once: thumbnails arriving redraw the rows
            "[...document.querySelectorAll('#results-table tbody tr[data-index]')].pop().getBoundingClientRect().bottom"
        )
        assert bottom <= found["results"]["bottom"]
        portal.expect_clean()


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_the_tables_tab_lists_the_archives_catalogues_first_and_folds_the_service_metadata(
    own_catalogue: str, browser: Browser, shots: Path, server: str, viewport: tuple[int, int]
) -> None:
    with portal_at(browser, shots, f"{server}/", viewport) as portal:
        page = portal.page
        page.get_by_role("tab", name="Tables").click()
        navigation = page.get_by_role("navigation", name="Schemas and tables")
        schemas = navigation.locator(".schema").all_inner_texts()
        assert schemas.index("layout") < schemas.index("ivoa")
        # TAP_SCHEMA and the registry are under "Service metadata", closed
        folded = navigation.locator("details", has_text="Service metadata")
        assert not folded.evaluate("d => d.open")
        assert folded.locator(".schema").all_text_contents() == ["rr", "tap_schema"]
        # the archive's own catalogue is in sight and is what a click there reaches
        mine = navigation.get_by_role("button", name=TABLE, exact=True)
        assert mine.is_visible()
        box = mine.bounding_box()
        assert box is not None and box["y"] + box["height"] <= boxes(page)["search"]["bottom"]
        hit = page.evaluate(
            f"document.elementFromPoint({box['x'] + box['width'] / 2}, {box['y'] + box['height'] / 2})?.dataset.table"
        )
        assert hit == TABLE
        mine.click()
        assert page.get_by_role("table", name=f"Columns of {TABLE}").locator("tbody tr").count() == 4
        # ObsCore's long descriptions are whole (wrapped, not cut), and the list scrolls in its panel
        navigation.get_by_role("button", name="ivoa.obscore", exact=True).click()
        clipped = (
            page.get_by_role("table", name="Columns of ivoa.obscore")
            .locator("td")
            .evaluate_all("tds => tds.filter(td => td.scrollWidth > td.clientWidth + 1).map(td => td.textContent)")
        )
        assert clipped == []
        detail = page.locator("#table-detail")
        assert detail.evaluate("d => d.scrollHeight > d.clientHeight")  # the 40-odd columns scroll inside
        assert spills(page) == []
        # a table in the folded metadata opens its fold when chosen (from a link, say)
        folded.locator("summary").click()
        navigation.get_by_role("button", name="tap_schema.columns", exact=True).click()
        assert page.get_by_role("table", name="Columns of tap_schema.columns").is_visible()
        portal.screenshot(f"tables-{viewport[0]}x{viewport[1]}")
        portal.expect_clean()


def test_the_panels_stack_on_a_narrow_window_and_the_page_scrolls(browser: Browser, shots: Path, server: str) -> None:
    with portal_at(browser, shots, f"{server}/", (820, 900)) as portal:
        page = portal.page
        found = boxes(page)
        assert found["search"]["bottom"] <= found["sky"]["top"] <= found["sky"]["bottom"] <= found["results"]["top"]
        assert page.evaluate("document.documentElement.scrollHeight") > 900
        portal.screenshot("narrow")
        portal.expect_clean()
