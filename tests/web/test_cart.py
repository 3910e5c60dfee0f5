"""The cart in Chromium: image rows ticked across two searches (and kept over a reload) come
down as one zip with the ingest's checksums, as a script that a real shell runs, and as cutouts
of one region from every ticked image; datasets no longer published are named and dropped; the
keyboard does it all."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Page

from tests.support.archive import Archive
from tests.support.browser import GuardedPage
from tests.web.test_portal import row_count, search_images, wait_for_answer

CENTRE = "34.5 -5.0"  # the four central tiles meet here: many bands
CORNER = "34.0833 -5.4167"  # the first tile's centre: three bands


@pytest.fixture(scope="module")
def checksums(archive: Archive) -> dict[str, tuple[str, str]]:
    """The ingest's (path, SHA-256) of every image, by publisher DID."""
    with psycopg.connect(archive.url) as conn:
        rows = conn.execute("SELECT obs_publisher_did, source_path, source_sha256 FROM ingest.provenance").fetchall()
    return {did: (path, digest) for did, path, digest in rows}


def tick(page: Page, n: int) -> None:
    page.locator("#results-table tbody tr[data-index]").nth(n).locator("input.cart-tick").check()


def ticked_ids(page: Page) -> list[str]:
    return [item["id"] for item in json.loads(page.evaluate("localStorage.getItem('dalserver.cart') || '[]'"))]


def open_cart(page: Page) -> None:
    page.get_by_role("tab", name=re.compile(r"^Cart")).click()


def wait_for_summary(page: Page, files: int) -> None:
    page.wait_for_function(
        f"document.getElementById('cart-status').textContent.startsWith('{files} file')", timeout=30_000
    )


def test_rows_ticked_in_two_searches_come_down_as_one_zip_with_checksums(
    portal: GuardedPage, archive: Archive, checksums: dict[str, tuple[str, str]], tmp_path: Path
) -> None:
    page = portal.page
    search_images(page, CENTRE, "0.05")
    wait_for_answer(page)
    tick(page, 0)
    tick(page, 1)
    search_images(page, CORNER, "0.02")
    page.wait_for_function("!document.getElementById('results-status').textContent.startsWith('Searching')")
    wait_for_answer(page)
    assert row_count(page) == 3
    tick(page, 0)
    ids = ticked_ids(page)
    assert len(set(ids)) == 3
    tab = page.get_by_role("tab", name=re.compile(r"^Cart"))
    assert tab.inner_text() == "Cart (3)"
    # the cart outlives a reload (localStorage)
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    assert page.get_by_role("tab", name=re.compile(r"^Cart")).inner_text() == "Cart (3)"
    open_cart(page)
    wait_for_summary(page, 3)
    assert page.get_by_role("table", name="The cart").locator("tbody tr").count() == 3
    portal.screenshot("cart")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download ZIP").click()
    assert download.value.suggested_filename == "products-3.zip"
    saved = tmp_path / "cart.zip"
    download.value.save_as(saved)
    archive_zip = zipfile.ZipFile(saved)
    expected = [checksums[i][0] for i in ids]
    assert archive_zip.namelist() == [*expected, "README.txt", "SHA256SUMS"]
    for did in ids:
        path, digest = checksums[did]
        assert hashlib.sha256(archive_zip.read(path)).hexdigest() == digest
    assert archive_zip.read("SHA256SUMS").decode().splitlines() == [
        f"{checksums[i][1]}  {checksums[i][0]}" for i in ids
    ]
    portal.expect_clean()


def test_the_carts_script_fetches_and_checks_every_file(
    portal: GuardedPage, checksums: dict[str, tuple[str, str]], tmp_path: Path
) -> None:
    page = portal.page
    search_images(page, CORNER, "0.02")
    wait_for_answer(page)
    page.get_by_label("Tick every image row for the cart").check()
    ids = ticked_ids(page)
    assert len(ids) == row_count(page) == 3
    open_cart(page)
    wait_for_summary(page, 3)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download script").click()
    assert download.value.suggested_filename == "download.sh"
    download.value.save_as(tmp_path / "download.sh")
    run = subprocess.run(["sh", "download.sh"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    for did in ids:
        path, digest = checksums[did]
        assert hashlib.sha256((tmp_path / path).read_bytes()).hexdigest() == digest
    with page.expect_download() as download:
        page.get_by_role("button", name="Checksums").click()
    assert download.value.suggested_filename == "SHA256SUMS"
    portal.expect_clean()


def test_cutouts_of_the_search_circle_come_from_every_ticked_image(portal: GuardedPage, tmp_path: Path) -> None:
    page = portal.page
    search_images(page, CENTRE, "0.05")
    wait_for_answer(page)
    n = row_count(page)
    page.get_by_label("Tick every image row for the cart").check()
    search_images(page, CORNER, "0.02")  # a far tile: the first search's circle misses it
    page.wait_for_function("!document.getElementById('results-status').textContent.startsWith('Searching')")
    wait_for_answer(page)
    tick(page, 0)
    open_cart(page)
    wait_for_summary(page, n + 1)
    # the region is the last search's circle (made smaller): set the first one's centre instead
    page.get_by_label("Cutout centre").fill(CENTRE)
    page.get_by_label("Cutout extent").fill("1'")
    page.get_by_role("button", name="Check the region").click()
    note = page.locator("#cutout-note")
    note.filter(has_text=re.compile("^The region touches")).wait_for(timeout=30_000)
    assert (
        note.inner_text().startswith(f"The region touches {n} of {n + 1} images")
        and "the region misses it" in note.inner_text()
    )
    portal.screenshot("cutouts-checked")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download cutouts").click()
    assert download.value.suggested_filename == f"cutouts-{n}.zip"
    download.value.save_as(tmp_path / "cutouts.zip")
    names = zipfile.ZipFile(tmp_path / "cutouts.zip").namelist()
    assert len(names) == n + 1 and all(name.endswith("-cutout.fits") for name in names[:-1])
    report = zipfile.ZipFile(tmp_path / "cutouts.zip").read("cutouts.txt").decode()
    assert f"{n} made, 1 not." in report
    portal.expect_clean()


def test_datasets_no_longer_published_are_named_and_removed(portal: GuardedPage) -> None:
    page = portal.page
    search_images(page, CORNER, "0.02")
    wait_for_answer(page)
    tick(page, 0)
    page.evaluate(
        """() => { const items = JSON.parse(localStorage.getItem('dalserver.cart'));
        items.push({id: 'ivo://dalserver.demo/gone?retracted', obs_id: 'retracted'});
        localStorage.setItem('dalserver.cart', JSON.stringify(items)); }"""
    )
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    open_cart(page)
    status = page.locator("#cart-status")
    status.filter(has_text="no longer published").wait_for(timeout=30_000)
    assert "1 no longer published: remove them to download" in status.inner_text()
    assert page.get_by_role("button", name="Download ZIP").is_disabled()
    assert "no longer published" in page.get_by_role("table", name="The cart").inner_text()
    page.get_by_role("button", name="Remove the 1 no longer published").click()
    wait_for_summary(page, 1)
    assert page.get_by_role("button", name="Download ZIP").is_enabled()
    assert page.get_by_role("tab", name=re.compile(r"^Cart")).inner_text() == "Cart (1)"
    portal.expect_clean()


def test_the_keyboard_ticks_a_row_and_downloads_the_cart(portal: GuardedPage) -> None:
    page = portal.page
    search_images(page, CORNER, "0.02")
    wait_for_answer(page)
    box = page.locator("#results-table tbody tr[data-index]").first.locator("input.cart-tick")
    box.focus()
    page.keyboard.press("Space")
    assert box.is_checked() and len(ticked_ids(page)) == 1
    page.get_by_role("tab", name="Images").focus()
    page.keyboard.press("End")  # the last tab: Jobs
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.id") == "tab-cart"
    wait_for_summary(page, 1)
    page.get_by_role("button", name="Download ZIP").focus()
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "products-1.zip"
    assert zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())).testzip() is None
    portal.expect_clean()
