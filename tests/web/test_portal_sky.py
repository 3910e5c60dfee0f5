"""Selection and the sky agree, checked on the pixels Chromium draws: a row chosen in the table
brightens its footprint (white and thicker, where Aladin Lite alone made it vanish) while every
other footprint stays drawn, and the view centres on it and fits it; the pointer over a footprint
highlights its row and shows its ID, band and date; a click on the sky chooses the footprint's
row (again: the next one there); one colour per band, a legend that hides a band; "Fit to
results"; catalogue markers that stay apart and show the chosen one."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from tests.support.archive import Archive
from tests.support.browser import GuardedPage
from tests.support.portal import (
    bright_pixels,
    coloured_pixels,
    count_pixels,
    dark_pixels,
    polygon,
    portal_at,
    search_images,
    separation,
    sky_image,
    wait_for_answer,
    wait_for_sky,
)
from tests.support.registry import drop_catalog, publish_catalog, write_sxds_catalog

TABLE = "skytest.sources"
SELECTED_MARKER = "#ff3366"


@pytest.fixture
def portal(served_surveys: object, browser: Browser, shots: Path, server: str) -> Iterator[GuardedPage]:
    """The portal with the archive's HiPS surveys built, and the sky on a plain background
    ("none"), so that only the overlays (and the coverage) colour it."""
    with portal_at(browser, shots, f"{server}/", (1400, 1000)) as guarded:
        guarded.page.get_by_label("Survey").select_option("")
        guarded.page.wait_for_function("document.getElementById('aladin').dataset.survey === ''")
        yield guarded


@pytest.fixture(scope="module")
def sources(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data, meta = write_sxds_catalog(tmp_path_factory.mktemp("sky"), sources=3000, seed=9)
    publish_catalog(archive.env, data, TABLE, meta)
    yield TABLE
    drop_catalog(archive.env, TABLE)


def sia_rows(server: str, ra: float, dec: float, radius: float) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{server}/sia/query", params={"POS": f"CIRCLE {ra} {dec} {radius}", "RESPONSEFORMAT": "json"}, timeout=60
    ).json()
    names = [m["name"] for m in answer["metadata"]]
    return [dict(zip(names, row, strict=True)) for row in answer["data"]]


def band_colours(page: Page) -> dict[str, str]:
    """The legend's colour of each band."""
    return page.locator("#sky-legend button[data-band]").evaluate_all(
        "bs => Object.fromEntries(bs.map(b => [b.dataset.band, getComputedStyle(b.querySelector('.swatch')).borderTopColor]))"
    )


def hex_colour(css: str) -> str:
    r, g, b = (int(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def view(page: Page) -> tuple[float, float, float]:
    ra, dec, fov = (float(v) for v in (page.locator("#aladin").get_attribute("data-view") or "").split(","))
    return ra, dec, fov


def selected_row(page: Page) -> str:
    return page.locator("#results-table tbody tr[aria-selected=true]").get_attribute("data-index") or ""


def image_search(page: Page, radius: str = "0.05") -> None:
    search_images(page, "34.5 -5.0", radius)
    wait_for_answer(page)
    wait_for_sky(page)


def bright_box_centre(page: Page) -> tuple[float, float]:
    """Where the white pixels are, as fractions of the sky view's width and height."""
    shot = Image.open(io.BytesIO(page.locator("#aladin").screenshot())).convert("L")
    width, height = shot.size
    inner = shot.crop((int(width * 0.12), int(height * 0.2), int(width * 0.88), int(height * 0.84)))
    box = inner.point(lambda v: 255 if v >= 235 else 0).getbbox()
    assert box is not None
    return ((box[0] + box[2]) / 2 + width * 0.12) / width, ((box[1] + box[3]) / 2 + height * 0.2) / height


def test_a_chosen_row_brightens_its_footprint_and_the_others_stay_drawn(portal: GuardedPage, server: str) -> None:
    page = portal.page
    image_search(page)
    rows = sia_rows(server, 34.5, -5.0, 0.05)
    colours = band_colours(page)
    assert set(colours) == {r["em_band_name"] for r in rows} and len(set(colours.values())) == len(colours)
    before = sky_image(page)
    assert bright_pixels(before) == 0  # nothing is white before a row is chosen
    outlines = coloured_pixels(before)
    assert outlines > 500
    portal.screenshot("before")
    # choose the third row with the keyboard
    page.locator("#results-table tbody tr[data-index]").first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    chosen = selected_row(page)
    page.wait_for_function(f"document.getElementById('aladin').dataset.selected === '{chosen}'")
    after = sky_image(page)
    portal.screenshot("chosen")
    # the chosen footprint: white and thick, on top, in the middle of the view
    assert bright_pixels(after) > 300
    x, y = bright_box_centre(page)
    assert abs(x - 0.5) < 0.05 and abs(y - 0.5) < 0.08
    # the others are still drawn (the chosen one covers the outlines it lies on)
    assert coloured_pixels(after) > 0.4 * outlines
    # the view is centred on the chosen footprint's centre and fits it
    access = (
        page.locator(f"#results-table tbody tr[data-index='{chosen}']")
        .get_by_role("link", name="File")
        .get_attribute("href")
    )
    vertices = polygon(next(r["s_region"] for r in rows if r["access_url"] == access))
    ra = sum(v[0] for v in vertices) / len(vertices)
    dec = sum(v[1] for v in vertices) / len(vertices)
    centre_ra, centre_dec, fov = view(page)
    assert separation(ra, dec, centre_ra, centre_dec) < 0.002
    extent = max(separation(ra, dec, *v) for v in vertices)
    width, height = page.locator("#aladin").evaluate("a => [a.clientWidth, a.clientHeight]")
    assert 2 * extent * width / height < fov < 4 * extent * width / height  # all of it in view, and it fills it
    portal.expect_clean()


def test_a_click_on_a_footprint_chooses_its_row_and_a_second_click_the_next_one_there(
    portal: GuardedPage, server: str
) -> None:
    page = portal.page
    image_search(page)
    aladin = page.locator("#aladin")
    box = aladin.bounding_box()
    assert box is not None
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(*centre)
    page.wait_for_function("document.getElementById('aladin').dataset.picks === '1'")
    first = aladin.get_attribute("data-selected")
    assert first is not None and selected_row(page) == first
    # the view fits the results (the search's centre is the view's), so the point is 34.5, -5.0
    rows = sia_rows(server, 34.5, -5.0, 0.05)
    assert page.locator(f"#results-table tbody tr[data-index='{first}']").is_visible()
    page.mouse.click(*centre)
    page.wait_for_function("document.getElementById('aladin').dataset.picks === '2'")
    second = aladin.get_attribute("data-selected")
    assert second != first and selected_row(page) == second
    portal.screenshot("clicked-twice")
    under = [r for r in rows if contains(polygon(r["s_region"]), 34.5, -5.0)]
    assert len(under) >= 2  # several bands of one field are on top of each other there
    portal.expect_clean()


def contains(vertices: list[tuple[float, float]], ra: float, dec: float) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(vertices, vertices[1:] + vertices[:1], strict=True):
        if (y1 > dec) != (y2 > dec) and ra < (x2 - x1) * (dec - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def test_the_pointer_over_a_footprint_highlights_its_row_and_tells_id_band_and_date(portal: GuardedPage) -> None:
    page = portal.page
    image_search(page)
    box = page.locator("#aladin").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2 + 3, box["y"] + box["height"] / 2 + 3)
    page.wait_for_function("document.getElementById('aladin').dataset.hovered !== undefined")
    hovered = page.locator("#aladin").get_attribute("data-hovered")
    tooltip = page.get_by_role("tooltip")
    assert tooltip.is_visible()
    text = tooltip.inner_text()
    page.wait_for_function(  # the pointer rests there: the row is scrolled into sight, highlighted
        f"document.querySelector(\"#results-table tbody tr[data-index='{hovered}']\")?.classList.contains('hovered')"
    )
    row = page.locator(f"#results-table tbody tr[data-index='{hovered}']")
    cells = row.locator("td").all_inner_texts()
    identifier, band, observed = cells[2], cells[3], cells[4]  # after Actions and Preview
    assert identifier in text and band in text and observed in text
    assert "UTC" in text and "click again for the next" in text  # several footprints are there
    portal.screenshot("pointer-over-a-footprint")
    # and the other way round: the pointer on a row draws its footprint brighter
    page.mouse.move(0, 0)  # off the sky
    page.wait_for_function("document.getElementById('aladin').dataset.hovered === undefined")
    assert tooltip.is_hidden()
    page.locator("#results-scroll").evaluate("s => s.scrollTop = 0")
    first = page.locator("#results-table tbody tr[aria-rowindex='2']")
    index = first.get_attribute("data-index")
    first.hover()
    page.wait_for_function(f"document.getElementById('aladin').dataset.hovered === '{index}'")
    portal.expect_clean()


def test_the_legend_hides_a_band_and_fit_to_results_brings_everything_back(portal: GuardedPage) -> None:
    page = portal.page
    image_search(page, "0.3")
    colours = {band: hex_colour(css) for band, css in band_colours(page).items()}
    drawn = int(page.locator("#aladin").get_attribute("data-footprints") or 0)
    legend = page.locator("#sky-legend")
    # leave one band: its colour is what is on the sky (with the search's circle)
    kept = "W-J-V"
    for band in colours:
        if band != kept:
            legend.locator(f"button[data-band='{band}']").click()
    kept_button = legend.locator(f"button[data-band='{kept}']")
    alone = int(kept_button.locator(".count").inner_text())
    page.wait_for_function(f"document.getElementById('aladin').dataset.shown === '{alone}'")
    one_band = coloured_pixels(sky_image(page))
    assert [
        b for b in colours if legend.locator(f"button[data-band='{b}']").get_attribute("aria-pressed") == "true"
    ] == [kept]
    portal.screenshot("one-band")
    kept_button.focus()
    page.keyboard.press("Enter")  # the keyboard hides it too: only the search's circle is left
    page.wait_for_function("document.getElementById('aladin').dataset.shown === '0'")
    assert one_band > coloured_pixels(sky_image(page)) + 300
    for band in colours:
        legend.locator(f"button[data-band='{band}']").click()
    page.wait_for_function(f"document.getElementById('aladin').dataset.shown === '{drawn}'")
    # zoom far in, then Fit to results
    fitted = view(page)[2]
    page.wait_for_function(
        f"Math.abs(Number(new URL(location.href).searchParams.get('sky')?.split(',')[2]) / {fitted} - 1) < 0.01"
    )
    zoomed_in = f"Number(new URL(location.href).searchParams.get('sky')?.split(',')[2]) < {fitted / 2}"
    for _ in range(12):  # a click the sky view takes while it is still drawing may be lost: click until it shows
        page.locator("#aladin button.aladin-zoom-in").click()
        page.wait_for_timeout(250)
        if page.evaluate(zoomed_in):
            break
    page.wait_for_function(zoomed_in)
    page.get_by_role("button", name="Fit to results").click()
    page.wait_for_function(
        f"Math.abs(Number(new URL(location.href).searchParams.get('sky')?.split(',')[2]) / {fitted} - 1) < 0.01"
    )
    portal.screenshot("fitted")
    portal.expect_clean()


def test_catalogue_markers_stay_apart_and_the_chosen_one_is_marked(portal: GuardedPage, sources: str) -> None:
    page = portal.page
    page.get_by_role("tab", name="Catalogues").click()
    page.get_by_label("Catalogue", exact=True).select_option(sources)
    page.get_by_label("Centre", exact=True).fill("34.5 -5.0")
    page.get_by_label("Within").fill("0.2")
    page.get_by_role("button", name="Search catalogue").click()
    wait_for_answer(page)
    wait_for_sky(page)
    markers = int(page.locator("#aladin").get_attribute("data-markers") or 0)
    assert markers > 300
    shot = sky_image(page)
    portal.screenshot("markers")
    # many markers: small rings that leave the sky between them dark, not one blob
    assert dark_pixels(shot, ceiling=80) > 0.5 * shot.size[0] * shot.size[1]  # (the coverage is a faint blue)
    assert count_pixels(shot, SELECTED_MARKER) == 0
    page.locator("#results-table tbody tr[data-index]").nth(3).click()
    page.wait_for_function("document.getElementById('aladin').dataset.selected !== undefined")
    assert count_pixels(sky_image(page), SELECTED_MARKER) > 20
    portal.expect_clean()


def test_the_plain_background_hides_the_survey_and_the_survey_comes_back(portal: GuardedPage) -> None:
    page = portal.page
    plain = sky_image(page)
    survey = page.get_by_label("Survey")
    colour = survey.locator("option", has_text="colour").get_attribute("value") or ""
    survey.select_option(colour)
    page.wait_for_function(f"document.getElementById('aladin').dataset.survey === {colour!r}")
    # the survey's tiles arrive and are drawn: the field's stars where the sky was plain
    assert sky_until(page, lambda image: changed_pixels(plain, image) > 500)
    portal.screenshot("colour-survey")
    survey.select_option("")
    page.wait_for_function("document.getElementById('aladin').dataset.survey === ''")
    assert sky_until(page, lambda image: changed_pixels(plain, image) < 50)  # "none": plain again
    portal.expect_clean()


def changed_pixels(before: Image.Image, after: Image.Image) -> int:
    difference = np.abs(np.asarray(before, dtype=int) - np.asarray(after, dtype=int)).sum(axis=2)
    return int((difference > 60).sum())


def sky_until(page: Page, drawn: Callable[[Image.Image], bool], timeout: float = 30.0) -> bool:
    """Whether the sky view comes to look as ``drawn`` says within ``timeout`` seconds (tiles
    arrive over the network and are drawn frames later: its pixels are looked at until then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if drawn(sky_image(page)):
            return True
        page.evaluate("new Promise(requestAnimationFrame)")  # the next frame
    return False
