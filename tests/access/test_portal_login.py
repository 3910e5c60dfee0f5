"""The portal's login in Chromium, as a person uses it (the keyboard): anonymous, the image search
and an ADQL count show the public rows; granted1 logged in through the form sees three more, with
their previews, a quick look and a cutout; after logging out the page says so and shows the public
rows again. A wrong password is told in the form, and no answer to the portal's own requests asks
the browser for a password (no Basic challenge, so no dialog). other1 sees the public rows; the
canary DID is nowhere in the page of anonymous or other1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Response

from tests.access.conftest import PASSWORDS, ProprietaryArchive
from tests.support.browser import GuardedPage, chromium_browser
from tests.support.portal import cells, portal_at, row_count, run_adql, search_images, wait_for_answer

HIDDEN = 3
POSITION, RADIUS = "34.5 -5.0", "2"  # around the proprietary copies (sample images' footprints)
COUNT = "SELECT COUNT(*) AS n FROM ivoa.obscore"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """This module's own Chromium (see chromium_browser: a session-wide one would outlive it)."""
    yield from chromium_browser()


@pytest.fixture
def portal(browser: Browser, shots: Path, proprietary: ProprietaryArchive) -> Iterator[GuardedPage]:
    """The proprietary archive's portal, with a record of every Basic challenge its answers made."""
    with portal_at(browser, shots, f"{proprietary.base}/") as guarded:
        yield guarded


@pytest.fixture(scope="module")
def public_images(proprietary: ProprietaryArchive) -> int:
    """The images of the search anybody finds (SIA, anonymous)."""
    ra, dec = POSITION.split()
    answer = httpx.get(
        f"{proprietary.base}/sia/query",
        params={"POS": f"CIRCLE {ra} {dec} {RADIUS}", "RESPONSEFORMAT": "json", "MAXREC": 10_000},
        timeout=60,
    )
    return len(answer.json()["data"])


def basic_challenges(page: Page) -> list[str]:
    """Collects, from now on, the URLs whose answers would make a browser ask for a password."""
    challenged: list[str] = []

    def note(response: Response) -> None:
        if any(v.lower().startswith("basic") for k, v in response.headers_array() if k.lower() == "www-authenticate"):
            challenged.append(response.url)

    page.on("response", note)
    return challenged


def count_in_page(page: Page) -> int:
    run_adql(page, COUNT)
    wait_for_answer(page)
    return int(cells(page, "n")[0])


def images_in_page(page: Page) -> int:
    search_images(page, POSITION, RADIUS)
    wait_for_answer(page)
    return row_count(page)


def log_in(page: Page, user: str, password: str) -> None:
    """Through the form, with the keyboard only."""
    page.locator("#login-username").focus()
    page.keyboard.type(user)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def wait_until_ready(page: Page) -> None:
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    page.wait_for_selector("#aladin[data-ready=true]", timeout=60_000)


def proprietary_rows(page: Page) -> list[int]:
    """The proprietary rows now in the DOM (the table draws the rows in sight only)."""
    return page.locator("#results-table tbody tr[data-index]").evaluate_all(
        "rows => rows.filter(r => r.textContent.includes('S20A-')).map(r => Number(r.dataset.index))"
    )


def scroll_results(page: Page) -> Iterator[list[int]]:
    """Scrolls the results from the top to the bottom, a screenful at a time, giving the
    proprietary rows in sight at each step."""
    page.evaluate("document.getElementById('results-scroll').scrollTop = 0")
    while True:
        page.wait_for_timeout(50)  # a frame for the table to draw the rows in sight
        yield proprietary_rows(page)
        moved = page.evaluate(
            """(() => { const s = document.getElementById('results-scroll'); const before = s.scrollTop;
                s.scrollTop += s.clientHeight * 0.8; return s.scrollTop !== before; })()"""
        )
        if not moved:
            return


def previews_of_proprietary_rows(page: Page) -> list[int]:
    """The proprietary rows of the results, each once its preview (thumbnail) has loaded."""
    seen: list[int] = []
    for rows in scroll_results(page):
        for index in (i for i in rows if i not in seen):
            page.wait_for_function(
                """i => { const img = document.querySelector(
                    `#results-table tbody tr[data-index='${i}'] td.thumbnail img`);
                    return img && img.complete && img.naturalWidth > 0; }""",
                arg=index,
                timeout=60_000,
            )
            seen.append(index)
    return seen


def bring_into_sight(page: Page, index: int) -> None:
    for rows in scroll_results(page):
        if index in rows:
            page.locator(f"#results-table tbody tr[data-index='{index}']").scroll_into_view_if_needed()
            return
    raise AssertionError(f"row {index} never came into sight")


def test_granted1_logs_in_through_the_portal_sees_the_proprietary_images_and_logs_out(
    portal: GuardedPage, proprietary: ProprietaryArchive, public_images: int
) -> None:
    page = portal.page
    challenged = basic_challenges(page)
    assert count_in_page(page) == proprietary.public
    assert images_in_page(page) == public_images
    assert proprietary.canary not in page.content()
    portal.screenshot("anonymous")

    log_in(page, "granted1", PASSWORDS["granted1"])
    page.wait_for_selector("#account-user", timeout=60_000)
    wait_until_ready(page)
    assert page.locator("#account-user").inner_text() == "Logged in as granted1"
    assert images_in_page(page) == public_images + HIDDEN
    # their previews load (the thumbnails are the DataLink #preview PNGs, sent with the cookie)
    hidden = previews_of_proprietary_rows(page)
    assert len(hidden) == HIDDEN
    bring_into_sight(page, hidden[0])
    portal.screenshot("granted1-images")
    row = page.locator(f"#results-table tbody tr[data-index='{hidden[0]}']")
    cutout = row.get_by_role("link", name="Cutout").get_attribute("href") or ""
    fetched = page.evaluate(
        """async url => { const r = await fetch(url);
            const head = new Uint8Array(await r.arrayBuffer()).slice(0, 9);
            return [r.status, String.fromCharCode(...head)]; }""",
        cutout,
    )
    assert fetched == [200, "SIMPLE  ="]
    assert httpx.get(cutout, timeout=60).status_code == 401  # the same link without the session
    row.get_by_role("button", name="Quick look").click()
    page.wait_for_selector("#viewer-dialog[data-first-paint-ms]", timeout=60_000)
    portal.screenshot("granted1-quick-look")
    page.keyboard.press("Escape")
    assert count_in_page(page) == proprietary.public + HIDDEN

    page.get_by_role("button", name="Log out").click()
    page.wait_for_selector("#login-form", timeout=60_000)
    wait_until_ready(page)
    assert "Logged out" in page.locator("#account").inner_text()
    assert count_in_page(page) == proprietary.public
    assert images_in_page(page) == public_images
    portal.screenshot("logged-out")
    assert challenged == []
    portal.expect_clean()


def test_a_wrong_password_is_told_in_the_form_without_a_browser_password_dialog(portal: GuardedPage) -> None:
    page = portal.page
    challenged = basic_challenges(page)
    log_in(page, "granted1", "not the password")
    status = page.locator("#login-form [role=status]")
    page.wait_for_function("document.querySelector('#login-form [role=status]').textContent !== ''")
    assert status.inner_text() == "Wrong user name or password"
    assert page.locator("#account-user").count() == 0
    portal.screenshot("wrong-password")
    assert challenged == []
    # the browser reports the refused login (401) on its console; that is all it does
    portal.expect_clean(allowed_errors=("status of 401",))


def test_other1_logged_in_sees_only_the_public_rows_and_never_the_canary(
    portal: GuardedPage, proprietary: ProprietaryArchive, public_images: int
) -> None:
    page = portal.page
    log_in(page, "other1", PASSWORDS["other1"])
    page.wait_for_selector("#account-user", timeout=60_000)
    wait_until_ready(page)
    assert page.locator("#account-user").inner_text() == "Logged in as other1"
    assert count_in_page(page) == proprietary.public
    assert images_in_page(page) == public_images
    assert not any(scroll_results(page))
    assert proprietary.canary not in page.content()
    portal.screenshot("other1")
    portal.expect_clean()
