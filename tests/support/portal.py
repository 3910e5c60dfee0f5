"""Driving the portal in Chromium as a person does (searches, queries, waiting for answers) and
reading what it shows: rows, headers, the sky view's pixels. Shared by the tests in tests/web/."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import Browser, Page

from tests.support.browser import GuardedPage, guarded_page

VIEWPORTS = {"13-inch laptop": (1280, 800), "1440 px": (1440, 900), "1920 px": (1920, 1080)}


@contextmanager
def portal_at(
    browser: Browser, shots: Path, url: str, viewport: tuple[int, int] = (1400, 1000)
) -> Iterator[GuardedPage]:
    """The portal at ``url`` in a window of ``viewport``, loaded, its sky view started."""
    with guarded_page(browser, shots, viewport) as guarded:
        guarded.page.goto(url)
        guarded.page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        guarded.page.wait_for_selector("#aladin[data-ready=true]", timeout=60_000)
        yield guarded


def wait_for_answer(page: Page, timeout: float = 60_000) -> None:
    page.wait_for_function(
        "(() => { const s = document.getElementById('results-status').textContent;"
        " return / rows? from /.test(s) || !document.getElementById('results-error').hidden; })()",
        timeout=timeout,
    )


def wait_for_sky(page: Page, answers: int = 1) -> None:
    """Until the sky view has drawn the ``answers``-th answer (and fitted the view on it)."""
    page.wait_for_function(f"Number(document.getElementById('aladin').dataset.answer) >= {answers}")


def search_images(page: Page, position: str, radius: str) -> None:
    page.get_by_role("tab", name="Images").click()
    page.get_by_label("Position or name").fill(position)
    page.get_by_label("Radius").fill(radius)
    page.get_by_role("button", name="Search images").click()


def run_adql(page: Page, query: str, maxrec: int | None = None) -> None:
    page.get_by_role("tab", name="ADQL").click()
    page.get_by_label("ADQL query").fill(query)
    if maxrec is not None:
        page.get_by_label("Max rows (MAXREC)").fill(str(maxrec))
    page.get_by_role("button", name="Run query").click()


def row_count(page: Page) -> int:
    text = page.locator("#results-status").inner_text()
    match = re.match(r"([\d,]+) rows?", text)
    assert match, text
    return int(match.group(1).replace(",", ""))


def column_keys(page: Page) -> list[str]:
    """The columns shown, by the name of the column they show (data-column)."""
    keys: list[str] = page.locator("#results-table thead th[data-column]").evaluate_all(
        "ths => ths.map(th => th.dataset.column)"
    )
    return keys


def cells(page: Page, key: str) -> list[str]:
    """The text of column ``key``'s cells in the rows now in the DOM, top to bottom."""
    texts: list[str] = page.evaluate(
        """key => {
            const at = [...document.querySelectorAll('#results-table thead th')].findIndex(th => th.dataset.column === key);
            return [...document.querySelectorAll('#results-table tbody tr[data-index]')].map(tr => tr.children[at].textContent);
        }""",
        key,
    )
    return texts


def exact_cells(page: Page, key: str) -> list[str]:
    """The stored value of column ``key``'s cells (a cell's tooltip where the text is rounded)."""
    texts: list[str] = page.evaluate(
        """key => {
            const at = [...document.querySelectorAll('#results-table thead th')].findIndex(th => th.dataset.column === key);
            return [...document.querySelectorAll('#results-table tbody tr[data-index]')].map(
                tr => tr.children[at].getAttribute('title') ?? tr.children[at].textContent);
        }""",
        key,
    )
    return texts


def sky_image(page: Page) -> Image.Image:
    """The sky view as drawn (RGB), without Aladin's controls at its edges."""
    shot = Image.open(io.BytesIO(page.locator("#aladin").screenshot())).convert("RGB")
    width, height = shot.size
    return shot.crop((int(width * 0.12), int(height * 0.2), int(width * 0.88), int(height * 0.84)))


def count_pixels(image: Image.Image, wanted: str, tolerance: int = 60) -> int:
    """Pixels within ``tolerance`` (summed over R, G, B) of the colour ``wanted`` (#rrggbb)."""
    target = np.array([int(wanted[k : k + 2], 16) for k in (1, 3, 5)])
    return int((np.abs(np.asarray(image, dtype=int) - target).sum(axis=2) <= tolerance).sum())


def bright_pixels(image: Image.Image, floor: int = 235) -> int:
    """Near-white pixels: the selected footprint's outline (nothing else on the sky is white)."""
    return int((np.asarray(image).min(axis=2) >= floor).sum())


def coloured_pixels(image: Image.Image) -> int:
    """Pixels of an outline in a band's colour: neither the dark sky nor white."""
    pixels = np.asarray(image)
    return int(((pixels.max(axis=2) > 90) & (pixels.min(axis=2) < 200)).sum())


def dark_pixels(image: Image.Image, ceiling: int = 60) -> int:
    return int((np.asarray(image).max(axis=2) < ceiling).sum())


def separation(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """Degrees between two positions (haversine)."""
    r = math.radians
    s = math.sin(r(dec2 - dec1) / 2) ** 2 + math.cos(r(dec1)) * math.cos(r(dec2)) * math.sin(r(ra2 - ra1) / 2) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(s))))


def polygon(stcs: str) -> list[tuple[float, float]]:
    numbers = [float(v) for v in stcs.split()[2:]]
    return list(zip(numbers[0::2], numbers[1::2], strict=True))


def sky_param(page: Page) -> tuple[float, float, float]:
    """The view the URL records (ra, dec, fov), once the page has written it."""
    value = page.evaluate("new URL(location.href).searchParams.get('sky')")
    ra, dec, fov = (float(v) for v in value.split(","))
    return ra, dec, fov
