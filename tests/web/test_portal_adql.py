"""Writing ADQL in the portal's editor: the columns of the tables in FROM are offered by their bare
names (and after a table's alias), tables after FROM, functions before keywords, none of the SQL-92
words ADQL reserves but does not use, the list closed when the query runs, long lines wrapped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.support.browser import GuardedPage
from tests.support.portal import portal_at, row_count, wait_for_answer

POPUP = ".cm-tooltip-autocomplete"


@pytest.fixture
def portal(browser: Browser, shots: Path, server: str) -> Iterator[GuardedPage]:
    with portal_at(browser, shots, f"{server}/") as guarded:
        guarded.page.get_by_role("tab", name="ADQL").click()
        yield guarded


def write(page: Page, text: str, cursor: int) -> None:
    """Put ``text`` in the editor and the cursor ``cursor`` characters into it."""
    editor = page.get_by_label("ADQL query")
    editor.fill(text)
    editor.press("Control+Home")
    for _ in range(cursor):
        page.keyboard.press("ArrowRight")


def offered(page: Page) -> list[str]:
    page.wait_for_selector(POPUP)
    return page.locator(f"{POPUP} .cm-completionLabel").all_inner_texts()


def test_the_columns_of_the_table_in_from_are_offered_by_their_bare_names(portal: GuardedPage) -> None:
    page = portal.page
    write(page, "SELECT  FROM ivoa.obscore", len("SELECT "))
    page.keyboard.type("s_r")
    options = offered(page)
    assert {"s_ra", "s_region", "s_resolution"} <= set(options)
    assert options[0] in {"s_ra", "s_region", "s_resolution"}  # columns first
    detail = page.locator(f"{POPUP} li[aria-selected=true] .cm-completionDetail").inner_text()
    assert "ivoa.obscore" in detail
    portal.screenshot("columns")
    page.keyboard.press("Enter")
    assert page.get_by_label("ADQL query").inner_text().startswith("SELECT s_ra")
    portal.expect_clean()


def test_an_alias_offers_its_tables_columns_and_from_offers_tables(portal: GuardedPage) -> None:
    page = portal.page
    write(page, "SELECT o. FROM ivoa.obscore AS o", len("SELECT o."))
    page.keyboard.type("em_")
    assert {"em_min", "em_max", "em_band_name"} <= set(offered(page))
    page.keyboard.press("Escape")
    write(page, "SELECT * FROM ", len("SELECT * FROM "))
    page.keyboard.type("ivo")
    options = offered(page)
    assert options[0] in {"ivoa.obscore", "ivoa"} and "ivoa.obscore" in options
    portal.expect_clean()


def test_functions_come_before_keywords_and_unused_sql92_words_never_come(portal: GuardedPage) -> None:
    page = portal.page
    write(page, "SELECT  FROM ivoa.obscore", len("SELECT "))
    page.keyboard.type("DI")
    options = offered(page)
    assert options.index("DISTANCE") < options.index("DISTINCT")
    page.keyboard.press("Escape")
    for _ in range(2):
        page.keyboard.press("Backspace")
    page.keyboard.type("ABS")
    assert offered(page) == ["ABS"]  # the function; not ABSOLUTE, an SQL-92 word ADQL reserves
    page.keyboard.press("Escape")
    for _ in range(3):
        page.keyboard.press("Backspace")
    page.keyboard.type("cascad")
    page.keyboard.press("Control+Space")  # asked for explicitly: still nothing to offer
    page.wait_for_function("!document.querySelector('.cm-tooltip-autocomplete')")
    assert page.locator(POPUP).count() == 0
    portal.expect_clean()


def test_running_closes_the_list_and_long_lines_wrap(portal: GuardedPage) -> None:
    page = portal.page
    write(page, "SELECT TOP 3 s_ra FROM ivoa.obscore", len("SELECT TOP 3 s_ra"))
    page.keyboard.press("Control+Space")
    assert "s_ra" in offered(page)
    page.keyboard.press("Control+Enter")
    wait_for_answer(page)
    assert page.locator(POPUP).count() == 0 and row_count(page) == 3
    long = "SELECT TOP 1 obs_id FROM ivoa.obscore WHERE " + " OR ".join(f"obs_id = 'image-{k:04d}'" for k in range(40))
    page.get_by_label("ADQL query").fill(long)
    scroller = page.locator("#editor .cm-scroller")
    assert scroller.evaluate("s => s.scrollWidth <= s.clientWidth")  # no sideways scrolling
    line = page.locator("#editor .cm-line").first
    assert page.locator("#editor .cm-line").count() == 1 and line.evaluate(
        "l => l.getClientRects().length > 1 || l.offsetHeight > 40"
    )
    portal.screenshot("wrapped")
    portal.expect_clean()
