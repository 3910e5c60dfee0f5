"""The portal in Chromium, as a person uses it: an ADQL query and its rows (the same as TAP's),
an ADQL error at its line and column, the tables browser, the image search with footprints and
previews, the sky view, bad input explained, cancelling, OVERFLOW, 100,000 rows, downloads and a
link that reproduces the view. Every page is guarded: nothing may be asked of another host and
nothing may be logged as an error. Screenshots of each step: see tests/web/conftest.py."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from astropy.io.votable import parse_single_table
from PIL import Image, ImageStat
from playwright.sync_api import Browser, Page

from tests.support.archive import Archive, fresh_database
from tests.support.browser import GuardedPage
from tests.support.servers import another_server
from tests.web.conftest import open_portal

OBSCORE_QUERY = "SELECT TOP 20 obs_id, s_ra, s_dec, em_band_name, t_exptime FROM ivoa.obscore ORDER BY obs_id"
BROWSER_400 = "status of 400"  # Chromium's own console line for a request answered 400
BROWSER_404 = "status of 404"


def run_adql(page: Page, query: str, maxrec: int | None = None, mode: str = "sync", keyboard: bool = False) -> None:
    page.get_by_role("tab", name="ADQL").click()
    editor = page.get_by_label("ADQL query")
    editor.fill(query)
    if maxrec is not None:
        page.get_by_label("Max rows (MAXREC)").fill(str(maxrec))
    page.get_by_label("now (sync)" if mode == "sync" else "as a job (async)").check()
    if keyboard:
        editor.press("Control+Enter")
    else:
        page.get_by_role("button", name="Run query").click()


def wait_for_answer(page: Page, timeout: float = 60_000) -> None:
    page.wait_for_function(
        "(() => { const s = document.getElementById('results-status').textContent;"
        " return / rows? from /.test(s) || !document.getElementById('results-error').hidden; })()",
        timeout=timeout,
    )


def row_count(page: Page) -> int:
    text = page.locator("#results-status").inner_text()
    match = re.match(r"([\d,]+) rows?", text)
    assert match, text
    return int(match.group(1).replace(",", ""))


def headers(page: Page) -> list[str]:
    return page.locator("#results-table thead th .name").all_inner_texts()


def rendered_rows(page: Page) -> list[list[str]]:
    """The cells of the rows now in the DOM (the actions column left out)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('#results-table tbody tr[data-index]')].map(
            tr => [...tr.children].filter(td => !td.classList.contains('actions')).map(td => td.textContent))"""
    )


def pixels_vary(png: bytes) -> float:
    """The largest standard deviation of a channel of the image: 0 for a blank picture."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return max(ImageStat.Stat(image).stddev)


def contains(stcs: str, ra: float, dec: float) -> bool:
    """Whether a small STC-S polygon holds (ra, dec), on the tangent plane."""
    numbers = [float(v) for v in stcs.split()[2:]]
    xy = [((numbers[i] - ra) * math.cos(math.radians(dec)), numbers[i + 1] - dec) for i in range(0, len(numbers), 2)]
    inside = False
    for (x1, y1), (x2, y2) in zip(xy, xy[1:] + xy[:1], strict=True):
        if (y1 > 0) != (y2 > 0) and (x2 - x1) * -y1 / (y2 - y1) + x1 > 0:
            inside = not inside
    return inside


def polygon_centre(stcs: str) -> tuple[float, float]:
    """The mean of a small STC-S polygon's vertices."""
    numbers = [float(v) for v in stcs.split()[2:]]
    return sum(numbers[0::2]) / (len(numbers) // 2), sum(numbers[1::2]) / (len(numbers) // 2)


def search_images(page: Page, position: str, radius: str) -> None:
    page.get_by_role("tab", name="Images").click()
    page.get_by_label("Position").fill(position)
    page.get_by_label("Radius").fill(radius)
    page.get_by_role("button", name="Search images").click()


def test_the_portal_is_served_at_the_root_with_nothing_from_outside(portal: GuardedPage, server: str) -> None:
    page = portal.page
    assert page.url.startswith(f"{server}/") and urlparse(page.url).path == "/"
    assert page.title() == "dalserver demo archive"
    assert page.get_by_role("region", name="Sky view").is_visible()
    assert page.get_by_role("grid", name="Results").count() == 1
    portal.screenshot("loaded")
    portal.expect_clean()


def test_an_adql_query_shows_the_rows_tap_returns(portal: GuardedPage, tap_url: str) -> None:
    page = portal.page
    run_adql(page, OBSCORE_QUERY)
    wait_for_answer(page)
    portal.screenshot("adql-rows")
    expected = parse_single_table(
        io.BytesIO(httpx.get(f"{tap_url}/sync", params={"LANG": "ADQL", "QUERY": OBSCORE_QUERY}, timeout=60).content)
    ).to_table()
    assert headers(page) == expected.colnames
    shown = rendered_rows(page)
    assert row_count(page) == len(expected) == len(shown) == 20
    for cells, row in zip(shown, expected, strict=True):
        assert cells[0] == row["obs_id"] and cells[3] == row["em_band_name"]
        # shown to 15 significant digits (no float noise); the stored values are in the copy path
        assert [float(c) for c in (cells[1], cells[2], cells[4])] == [
            float(f"{v:.15g}") for v in (row["s_ra"], row["s_dec"], row["t_exptime"])
        ]
    # units in the header, descriptions on hover
    s_ra = page.locator("#results-table thead th button", has_text="s_ra")
    assert "[deg]" in s_ra.inner_text() and "Central right ascension" in (s_ra.get_attribute("title") or "")
    portal.expect_clean()


def test_columns_sort_and_hide(portal: GuardedPage) -> None:
    page = portal.page
    run_adql(page, OBSCORE_QUERY, keyboard=True)  # Ctrl-Enter runs it too
    wait_for_answer(page)
    page.locator("#results-table thead th button", has_text="s_ra").click()
    values = [float(r[1]) for r in rendered_rows(page)]
    assert values == sorted(values)
    assert page.locator("#results-table thead th", has_text="s_ra").get_attribute("aria-sort") == "ascending"
    page.locator("#results-table thead th button", has_text="s_ra").click()
    values = [float(r[1]) for r in rendered_rows(page)]
    assert values == sorted(values, reverse=True)
    page.locator("summary", has_text="Columns").click()
    page.locator("#column-toggles").get_by_label("em_band_name").uncheck()
    assert "em_band_name" not in headers(page) and len(rendered_rows(page)[0]) == 4
    portal.screenshot("sorted-and-hidden")
    portal.expect_clean()


def test_an_adql_error_shows_its_line_and_column_and_puts_the_cursor_there(portal: GuardedPage) -> None:
    page = portal.page
    run_adql(page, "SELECT TOP 5 obs_id\nFROM ivoa.obscorex")
    page.wait_for_selector("#results-error:not([hidden])")
    message = page.locator("#results-error").inner_text()
    assert "ADQL-UNKNOWN-TABLE" in message and "(line 2, column 6)" in message and "Traceback" not in message
    # The caret is on line 2, after "FROM ", and the word is marked.
    line, column = page.evaluate(
        """() => {
            const selection = document.getSelection();
            const line = selection.anchorNode.parentElement.closest('.cm-line');
            const lines = [...document.querySelectorAll('#editor .cm-line')];
            const range = document.createRange();
            range.setStart(line, 0);
            range.setEnd(selection.anchorNode, selection.anchorOffset);
            return [lines.indexOf(line) + 1, range.toString().length + 1];
        }"""
    )
    assert (line, column) == (2, 6)
    assert page.locator("#editor .cm-lintRange-error").count() == 1
    portal.screenshot("adql-error")
    portal.expect_clean(allowed_errors=(BROWSER_400,))


def test_the_tables_browser_shows_obscore_columns_with_units(portal: GuardedPage, tap_url: str) -> None:
    page = portal.page
    page.get_by_role("tab", name="Tables").click()
    page.get_by_role("navigation", name="Schemas and tables").get_by_role(
        "button", name="ivoa.obscore", exact=True
    ).click()
    columns = page.get_by_role("table", name="Columns of ivoa.obscore")
    rows = columns.locator("tbody tr")
    published = httpx.get(
        f"{tap_url}/sync",
        params={
            "LANG": "ADQL",
            "RESPONSEFORMAT": "json",
            "QUERY": "SELECT column_name, unit, ucd FROM tap_schema.columns WHERE table_name = 'ivoa.obscore'",
        },
        timeout=60,
    ).json()["data"]
    assert rows.count() == len(published) > 30
    s_ra = columns.locator("tr", has=page.locator("td", has_text=re.compile("^s_ra$")))
    ucd = next(c[2] for c in published if c[0] == "s_ra")
    assert s_ra.locator("td").all_inner_texts()[:4] == ["s_ra", "double", "deg", ucd]
    assert "right ascension" in s_ra.locator("td").nth(4).inner_text().lower()
    assert "table=ivoa.obscore" in page.url
    portal.screenshot("tables-browser")
    portal.expect_clean()


def test_search_images_lists_images_draws_footprints_and_previews(portal: GuardedPage, server: str) -> None:
    page = portal.page
    blank = page.get_by_role("region", name="Sky view").locator("#aladin").screenshot()
    search_images(page, "34.5 -5.0", "0.05")
    wait_for_answer(page)
    sia = httpx.get(f"{server}/sia/query", params={"POS": "CIRCLE 34.5 -5 0.05", "RESPONSEFORMAT": "json"}, timeout=60)
    expected = sia.json()["data"]
    assert row_count(page) == len(expected) > 0
    aladin = page.locator("#aladin")
    page.wait_for_function(f"document.getElementById('aladin').dataset.footprints == {len(expected)}")
    assert f"{len(expected)} image footprints" in page.locator("#sky-legend").inner_text()
    page.wait_for_timeout(500)  # a frame or two for the overlay
    drawn = aladin.screenshot()
    assert pixels_vary(drawn) > 10 and drawn != blank  # the footprints are on the sky
    portal.screenshot("image-search")
    # a row chosen in the table is highlighted on the sky, the view centred on its footprint
    page.locator("#results-table tbody tr[data-index]").nth(2).click()
    selected = page.locator("#results-table tbody tr[aria-selected=true]")
    assert aladin.get_attribute("data-selected") == selected.get_attribute("data-index")
    names = [m["name"] for m in sia.json()["metadata"]]
    regions = {r[names.index("access_url")]: r[names.index("s_region")] for r in expected}
    centre = polygon_centre(regions[selected.get_by_role("link", name="File").get_attribute("href") or ""])
    # a click on the sky (the view's centre: that footprint's centre) selects the row of a footprint there
    box = aladin.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("document.getElementById('aladin').dataset.picks === '1'")
    chosen = aladin.get_attribute("data-selected")
    row = page.locator(f"#results-table tbody tr[data-index='{chosen}']")
    assert row.get_attribute("aria-selected") == "true"
    assert contains(regions[row.get_by_role("link", name="File").get_attribute("href") or ""], *centre)
    portal.screenshot("row-selected")
    # Preview: the DataLink #preview PNG
    page.get_by_role("button", name="Preview").first.click()
    dialog = page.get_by_role("dialog")
    dialog.locator("img:not([hidden])").wait_for(timeout=60_000)
    width = page.evaluate("document.getElementById('preview-image').naturalWidth")
    assert width > 0 and pixels_vary(dialog.locator("img").screenshot()) > 1
    portal.screenshot("preview")
    page.get_by_role("button", name="Close").click()
    # the cutout and the file of a row
    row = page.locator("#results-table tbody tr[data-index]").first
    cutout = httpx.get(row.get_by_role("link", name="Cutout").get_attribute("href") or "", timeout=60)
    assert cutout.status_code == 200 and cutout.content.startswith(b"SIMPLE  =")
    file = httpx.get(row.get_by_role("link", name="File").get_attribute("href") or "", timeout=60)
    assert file.status_code == 200 and file.content.startswith(b"SIMPLE  =")
    portal.expect_clean()


def test_sexagesimal_positions_find_the_same_images(portal: GuardedPage) -> None:
    page = portal.page
    search_images(page, "34.5 -5.0", "0.05")
    wait_for_answer(page)
    decimal = row_count(page)
    search_images(page, "02:18:00 -05:00:00", "3'")
    page.wait_for_function("!document.getElementById('results-status').textContent.startsWith('Searching')")
    wait_for_answer(page)
    assert row_count(page) == decimal
    portal.expect_clean()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("Position or name", "nowhere", "is not a position"),
        ("Position or name", "400 -5", "outside 0 to 360"),
        ("Position or name", "34.5 -95", "outside -90 to +90"),
        ("Position or name", "25:00:00 -05:00:00", "outside 0 to 360"),
        ("Radius", "-1", "is not a radius"),
        ("Radius", "0", "more than 0"),
        ("Radius", "wide", "is not a radius"),
        ("Band", "blue-ish", "is not a band"),
    ],
)
def test_bad_positions_radii_and_bands_are_explained_next_to_the_field(
    portal: GuardedPage, field: str, value: str, message: str
) -> None:
    page = portal.page
    page.get_by_label("Position").fill("34.5 -5.0")
    page.get_by_label(field, exact=True).fill(value)
    page.get_by_role("button", name="Search images").click()
    note = page.locator(f"#{page.get_by_label(field, exact=True).get_attribute('id')}-error")
    note.wait_for()
    assert message in note.inner_text()
    assert page.get_by_label(field, exact=True).get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == page.get_by_label(field, exact=True).get_attribute("id")
    assert page.locator("#results-status").inner_text().startswith("Search images")  # nothing was asked
    portal.screenshot("bad-input")
    portal.expect_clean(allowed_errors=(BROWSER_404,))  # a name no resolver knows is a 404 of /portal/resolve


def test_overflow_is_a_banner_saying_first_n_rows(portal: GuardedPage) -> None:
    page = portal.page
    run_adql(page, "SELECT obs_id FROM ivoa.obscore", maxrec=7)
    wait_for_answer(page)
    banner = page.locator("#results-overflow")
    assert banner.is_visible() and "first 7 rows" in banner.inner_text() and "OVERFLOW" in banner.inner_text()
    assert row_count(page) == 7
    portal.screenshot("overflow")
    portal.expect_clean()


def test_an_async_query_shows_its_phase_and_its_rows(portal: GuardedPage) -> None:
    page = portal.page
    run_adql(page, OBSCORE_QUERY, mode="async")
    wait_for_answer(page)
    assert row_count(page) == 20 and page.locator("#job-phase").inner_text() == "Job phase: COMPLETED"
    portal.expect_clean()


# Minutes of work however the shared archive's ObsCore grows or shrinks (four tables took only ~10 s
# once the row filter of access control came in); every test that runs it cancels it.
SLOW = (
    "SELECT COUNT(*) FROM ivoa.obscore AS a, ivoa.obscore AS b, ivoa.obscore AS c, ivoa.obscore AS d, ivoa.obscore AS e"
)


def test_a_slow_async_query_can_be_cancelled(portal: GuardedPage) -> None:
    page = portal.page
    run_adql(page, SLOW, mode="async")
    page.wait_for_function("document.getElementById('job-phase').dataset.phase === 'EXECUTING'", timeout=60_000)
    job = page.locator("#job-phase").get_attribute("title") or ""
    portal.screenshot("executing")
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_selector("#results-error:not([hidden])")
    assert "cancelled" in page.locator("#results-error").inner_text()
    assert httpx.get(f"{job}/phase", timeout=30).text.strip() == "ABORTED"
    assert page.get_by_role("button", name="Run query").is_enabled()
    portal.screenshot("cancelled")
    portal.expect_clean()


def test_a_slow_sync_query_can_be_cancelled(portal: GuardedPage) -> None:
    page = portal.page
    run_adql(page, SLOW)
    page.wait_for_function("!document.getElementById('cancel').disabled")
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_selector("#results-error:not([hidden])")
    assert page.locator("#results-error").inner_text() == "The query was cancelled."
    portal.expect_clean()


def test_an_example_runs_with_one_click(portal: GuardedPage) -> None:
    page = portal.page
    page.get_by_role("tab", name="ADQL").click()
    examples = page.locator("#examples button")
    assert examples.count() >= 5
    examples.first.click()
    wait_for_answer(page)
    assert row_count(page) > 0 and page.locator("#results-error").is_hidden()
    assert page.get_by_label("ADQL query").inner_text().strip().upper().startswith(("SELECT", "WITH"))
    portal.expect_clean()


def test_every_download_format_is_offered_and_answers(portal: GuardedPage) -> None:
    page = portal.page
    run_adql(page, OBSCORE_QUERY)
    wait_for_answer(page)
    formats = page.locator("#download-format option").evaluate_all("options => options.map(o => o.value)")
    assert formats == ["votable", "votable/b2", "csv", "tsv", "json", "fits", "parquet"]
    types = {}
    for value in formats:
        page.get_by_label("Format").select_option(value)
        href = page.get_by_role("link", name="Download").get_attribute("href") or ""
        answer = httpx.get(href, timeout=60)
        assert answer.status_code == 200, (value, answer.text[:200])
        types[value] = answer.headers["content-type"].split(";")[0]
    assert types == {
        "votable": "application/x-votable+xml",
        "votable/b2": "application/x-votable+xml",
        "csv": "text/csv",
        "tsv": "text/tab-separated-values",
        "json": "application/json",
        "fits": "application/fits",
        "parquet": "application/vnd.apache.parquet",
    }
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename == "result.parquet"
    portal.expect_clean()


def test_a_link_reproduces_the_search_and_the_view(portal: GuardedPage, browser: Browser, shots: Path) -> None:
    page = portal.page
    page.get_by_label("Band", exact=True).fill("600 700 nm")
    search_images(page, "34.5 -5.0", "0.05")
    wait_for_answer(page)
    count = row_count(page)
    page.wait_for_function("new URL(location.href).searchParams.has('sky')")
    link = page.url
    state = parse_qs(urlparse(link).query)
    assert state["search"] == ["images"] and state["pos"] == ["34.5 -5.0"] and state["band"] == ["600 700 nm"]
    for opened in open_portal(browser, shots, link):
        wait_for_answer(opened.page)
        assert row_count(opened.page) == count
        assert opened.page.get_by_label("Band", exact=True).input_value() == "600 700 nm"
        view = parse_qs(urlparse(opened.page.url).query)["sky"][0].split(",")
        assert [round(float(v), 2) for v in view[:2]] == [34.5, -5.0]
        opened.screenshot("from-a-link")
        opened.expect_clean()
    portal.expect_clean()


def test_the_keyboard_reaches_the_search_and_moves_through_rows(portal: GuardedPage) -> None:
    page = portal.page
    page.get_by_role("tab", name="Images").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.textContent") == "Catalogues"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "pos"
    page.keyboard.type("34.5 -5.0")
    page.keyboard.press("Enter")  # submits the form
    wait_for_answer(page)
    first = page.locator("#results-table tbody tr[data-index]").first
    first.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    selected = page.locator("#results-table tbody tr[aria-selected=true]")
    assert selected.get_attribute("aria-rowindex") == "3"
    assert page.evaluate("document.activeElement.getAttribute('aria-rowindex')") == "3"
    portal.expect_clean()


def test_the_sky_view_shows_the_archives_hips_and_its_moc(
    served_surveys: object, portal: GuardedPage, server: str
) -> None:
    """The archive's surveys are the sky view's layers (and "none"), the colour survey its base."""
    page = portal.page
    listing = httpx.get(f"{server}/hips/hipslist", timeout=30)
    assert listing.status_code == 200 and listing.text.count("hips_service_url") == 4
    surveys = page.get_by_label("Survey")
    names = surveys.locator("option").all_inner_texts()
    assert len(names) == listing.text.count("hips_service_url") + 1  # and "none"
    assert surveys.is_enabled() and "colour" in (surveys.locator("option:checked").inner_text() or "")
    assert "publishes no HiPS survey" not in page.locator("#sky-note").inner_text()
    portal.screenshot("sky-with-hips")
    portal.expect_clean()


def test_the_config_names_the_servers_hips_list_and_moc(served_surveys: object, server: str) -> None:
    config = httpx.get(f"{server}/portal/config.json", timeout=30).json()
    assert config["hipslist"] is not None and config["moc"] is not None
    assert httpx.get(f"{server}/{config['hipslist']}", timeout=30).status_code == 200
    moc = httpx.get(f"{server}/{config['moc']}", timeout=30)
    assert moc.status_code == 200 and moc.json()  # the archive's coverage, MOC 2.0 JSON
    assert {"SELECT", "TOP", "CONTAINS", "IVO_HEALPIX_INDEX"} <= {
        *config["adql"]["keywords"],
        *config["adql"]["functions"],
    }


def test_100000_rows_scroll_with_a_bounded_dom(portal: GuardedPage, five_million: str) -> None:
    page = portal.page
    run_adql(page, f"SELECT TOP 100000 id, x, k, label FROM {five_million} ORDER BY id", maxrec=100000)
    wait_for_answer(page, timeout=120_000)
    assert row_count(page) == 100_000
    assert page.get_by_role("grid", name="Results").get_attribute("aria-rowcount") == "100001"
    assert len(rendered_rows(page)) < 200
    page.locator("#results-scroll").evaluate("s => s.scrollTop = s.scrollHeight")
    page.wait_for_function(
        # ?. : while the grid redraws its rows, tbody is empty for a moment, which means "not yet"
        "document.querySelector('#results-table tbody tr[data-index]:last-child')?.getAttribute('aria-rowindex') === '100001'"
    )
    last = rendered_rows(page)[-1]
    assert last[0] == "100000" and last[3] == "row 100000"
    assert len(rendered_rows(page)) < 200
    portal.screenshot("scrolled-to-row-100000")
    page.locator("#results-table thead th button", has_text="k").click()  # sort 100,000 rows
    page.locator("#results-scroll").evaluate("s => s.scrollTop = 0")
    page.wait_for_function(
        "document.querySelector('#results-table tbody tr[data-index]')?.getAttribute('aria-rowindex') === '2'"
    )
    assert rendered_rows(page)[0][2] == "0"
    portal.expect_clean()


def test_a_server_failure_shows_its_message_not_a_trace(
    archive: Archive, browser: Browser, shots: Path, tmp_path: Path
) -> None:
    """A real failure of the service: a server whose jobs directory was replaced by a file cannot
    store a job (a 500); the page shows the service's message."""
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    url = fresh_database(archive, "dalserver_portal_failure_test")  # no other server claims its jobs
    with another_server(
        {**archive.env, "DALSERVER_DATABASE_URL": url}, tmp_path / "server.log", {"DALSERVER_JOBS_DIR": str(jobs)}
    ) as failing:
        jobs.rmdir()
        jobs.write_text("not a directory")
        for opened in open_portal(browser, shots, f"{failing.base}/"):
            page = opened.page
            run_adql(page, "SELECT TOP 3 table_name FROM tap_schema.tables", mode="async")
            page.wait_for_selector("#results-error:not([hidden])", timeout=60_000)
            message = page.locator("#results-error").inner_text()
            assert message.startswith("The service failed (500): ") and "could not be stored on the server" in message
            assert "Traceback" not in message and str(jobs) not in message
            assert page.get_by_role("button", name="Run query").is_enabled()
            opened.screenshot("server-failure")
            # This server's database is new and empty (no coverage: /moc/all answers 404), while it
            # shares the session's HiPS directory (surveys exist, so the page asks for the MOC).
            opened.expect_clean(allowed_errors=("status of 500", "/moc/all.json"))
