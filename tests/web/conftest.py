"""The portal's page at ``/`` for the tests in tests/web/: one Chromium for the package, stopped when
it ends (see tests.support.browser.chromium_browser), a fresh page per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.support.browser import GuardedPage, chromium_browser, guarded_page


def open_portal(browser: Browser, shots: Path, url: str) -> Iterator[GuardedPage]:
    with guarded_page(browser, shots) as guarded:
        guarded.page.goto(url)
        guarded.page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        guarded.page.wait_for_selector("#aladin[data-ready=true]", timeout=60_000)
        yield guarded


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    yield from chromium_browser()


@pytest.fixture
def portal(browser: Browser, shots: Path, server: str) -> Iterator[GuardedPage]:
    """The portal at ``/``, loaded, its sky view started."""
    yield from open_portal(browser, shots, f"{server}/")
