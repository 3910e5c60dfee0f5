"""Debian's Chromium driven by Playwright (never a downloaded browser): headless, WebGL 2 through
SwiftShader (Aladin Lite needs it), and pages that fail their test if they ask for anything but
their own server (and a SAMP hub on this computer) or log a console error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Route, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# The one other origin a page may reach: a SAMP hub's Web Profile on this computer (SAMP 1.3 sec.
# 5.2 fixes its port). The portal talks to it to send tables and images to TOPCAT and Aladin,
# and fetches tables other clients send through its URL translator. Anything else a page asks
# for must come from the server that served it.
SAMP_HUB_ORIGINS = frozenset({"http://127.0.0.1:21012", "http://localhost:21012"})


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


# Chromium's line for a 404 of a HiPS tile: ".../hips/<survey>/Norder6/Dir0/Npix17.png)"
MISSING_HIPS_TILE = re.compile(r"status of 404 .*/hips/[^/]+/Norder\d+/Dir\d+/Npix\d+\.(png|jpg|fits)\)$")


@dataclass
class GuardedPage:
    """A page with what it asked of other hosts and what it logged as errors."""

    page: Page
    shots: Path
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    step: int = 0
    home: str | None = None  # the origin of the server the page came from

    def screenshot(self, name: str) -> Path:
        self.step += 1
        path = self.shots / f"{self.step:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def expect_clean(self, allowed_errors: tuple[str, ...] = ()) -> None:
        """Nothing fetched from elsewhere; no console error but the browser's report of a request
        the test made fail on purpose (``allowed_errors``: substrings of such messages), or of a
        HiPS tile that does not exist: Aladin asks for the tiles around what it shows, and a HiPS
        server answers 404 where there are no data (HiPS 1.0), which Chromium logs as an error."""
        assert self.outside == [], f"the page asked for {self.outside}"
        unexpected = [
            e for e in self.errors if not any(a in e for a in allowed_errors) and not MISSING_HIPS_TILE.search(e)
        ]
        assert unexpected == [], f"console errors: {unexpected}"
        self.errors.clear()


@contextmanager
def guarded_page(browser: Browser, shots: Path, viewport: tuple[int, int] = (1400, 1000)) -> Iterator[GuardedPage]:
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True)
    page = context.new_page()
    guarded = GuardedPage(page, shots)

    def only_this_machine(route: Route) -> None:
        url = urlparse(route.request.url)
        origin = f"{url.scheme}://{url.netloc}"
        if guarded.home is None and url.hostname in LOCAL_HOSTS:
            guarded.home = origin  # the page's own server: the first thing the page asks for
        if origin in (guarded.home, *SAMP_HUB_ORIGINS) or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            guarded.outside.append(route.request.url)
            route.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            guarded.errors.append(f"{message.text} ({message.location.get('url', '')})")

    page.route("**/*", only_this_machine)
    page.on("console", console)
    page.on("pageerror", lambda error: guarded.errors.append(f"uncaught: {error}"))
    try:
        yield guarded
    finally:
        context.close()


def chromium_browser() -> Iterator[Browser]:
    """Chromium through Playwright, for a fixture of the packages with page tests. Playwright's
    sync API keeps an event loop running until it stops, and asyncio refuses to start another
    meanwhile: a session-wide browser would break every later test that runs a loop (the formats,
    the spool, pyvo's...). So tests/web/ has one for its package and tests/access/ one per module
    that asks for it."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()
