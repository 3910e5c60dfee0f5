"""One Chromium for the portal's tests (a session fixture), a fresh page per test, and a folder
for the screenshots of every step: ``<pytest's basetemp>/portal-screenshots0/<test>/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.support.browser import GuardedPage, guarded_page, launch_chromium


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("portal-screenshots")


@pytest.fixture
def shots(screenshots: Path, request: pytest.FixtureRequest) -> Path:
    folder: Path = screenshots / request.node.name.replace("/", "_")[:120]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_portal(browser: Browser, shots: Path, url: str) -> Iterator[GuardedPage]:
    with guarded_page(browser, shots) as guarded:
        guarded.page.goto(url)
        guarded.page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        guarded.page.wait_for_selector("#aladin[data-ready=true]", timeout=60_000)
        yield guarded


@pytest.fixture
def portal(browser: Browser, shots: Path, server: str) -> Iterator[GuardedPage]:
    """The portal at ``/``, loaded, its sky view started."""
    yield from open_portal(browser, shots, f"{server}/")
