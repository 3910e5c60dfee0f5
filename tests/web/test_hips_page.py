"""A HiPS survey's own page (``/hips/<survey>/``, its index.html) in Chromium: Aladin Lite from this
server draws the survey at its initial view, and nothing is asked of another host (no CDS)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageStat
from playwright.sync_api import Browser, Response

from archive_io import hips_properties as props
from tests.support.browser import guarded_page


def _centre_stddev(png: bytes) -> float:
    """The largest standard deviation of a channel in the middle of a screenshot (Aladin's
    controls and logo lie along the edges): 0 for a plain background."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    middle = image.crop((width // 4, height // 4, 3 * width // 4, 3 * height // 4))
    return max(ImageStat.Stat(middle).stddev)


@pytest.mark.parametrize("survey", ["subaru-suprime-cam-color", "subaru-suprime-cam-n-b-l497"])
def test_a_surveys_page_draws_it_with_aladin_lite_from_this_server(
    served_surveys: object, browser: Browser, shots: Path, server: str, survey: str
) -> None:
    properties = props.parse(httpx.get(f"{server}/hips/{survey}/properties", timeout=30).text)
    with guarded_page(browser, shots) as guarded:
        page = guarded.page
        tiles: list[tuple[str, int]] = []
        scripts: list[str] = []

        def seen(response: Response) -> None:
            if f"/hips/{survey}/Norder" in response.url:
                tiles.append((response.url, response.status))
            if response.url.endswith(".js"):
                scripts.append(response.url)

        page.on("response", seen)
        page.goto(f"{server}/hips/{survey}/")
        assert page.url == f"{server}/hips/{survey}/index.html"
        page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        assert page.title() == properties["obs_title"]
        assert page.locator("#base-url").inner_text() == f"{server}/hips/{survey}"
        assert scripts == [f"{server}/portal/vendor/aladin-lite/aladin.js"]
        view = page.locator("#aladin")
        deadline = time.monotonic() + 60
        while _centre_stddev(view.screenshot()) < 3:
            assert time.monotonic() < deadline, f"Aladin drew nothing of the survey; tiles asked: {tiles}"
            page.wait_for_timeout(500)
        guarded.screenshot(survey)
        assert any(status == 200 for _, status in tiles), tiles
        assert not any("//" in url.split("://", 1)[1] for url, _ in tiles), tiles
        # It opened where the properties say.
        ra, dec = page.evaluate("() => window.aladin.getRaDec()")
        assert (ra, dec) == pytest.approx(
            (float(properties["hips_initial_ra"]), float(properties["hips_initial_dec"])), abs=1e-3
        )
        assert page.evaluate("() => window.aladin.getFov()[0]") == pytest.approx(
            float(properties["hips_initial_fov"]), rel=0.01
        )
        guarded.expect_clean()
