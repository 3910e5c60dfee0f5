"""Products are downloadable, and nothing else is: not a file under the archive directory that no
ObsCore row publishes, nor anything outside it."""

from __future__ import annotations

import shutil

import httpx
import pytest

from tests.support.archive import Archive


def test_a_product_downloads_with_fits_type_and_length(server: str, archive: Archive) -> None:
    path = next((archive.settings.archive_root / "suprimecam").glob("*.fits"))
    response = httpx.get(f"{server}/data/suprimecam/{path.name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fits"
    assert response.content == path.read_bytes()


@pytest.mark.parametrize(
    "raw_path",
    [
        "/data/../conftest.py",
        "/data/%2e%2e/%2e%2e/etc/passwd",
        "/data/suprimecam/%2e%2e%2f%2e%2e%2fdb%2fpgdata%2fPG_VERSION",
        "/data//etc/passwd",
        "/data/suprimecam/missing.fits",
    ],
)
def test_paths_outside_the_archive_are_not_found(server: str, raw_path: str) -> None:
    with httpx.Client() as client:
        request = client.build_request("GET", server)
        request.url = request.url.copy_with(raw_path=raw_path.encode())
        response = client.send(request)
    assert response.status_code == 404
    assert b"QUERY_STATUS" in response.content


def test_a_file_no_row_publishes_is_not_found_like_a_missing_one(server: str, archive: Archive) -> None:
    published = sorted((archive.settings.archive_root / "suprimecam").glob("*.fits"))[0]
    staged = archive.settings.archive_root / "staged"  # e.g. waiting for an ingest, or rejected by one
    staged.mkdir()
    try:
        shutil.copy(published, staged / published.name)
        unpublished = httpx.get(f"{server}/data/staged/{published.name}")
        missing = httpx.get(f"{server}/data/staged/missing.fits")
        assert unpublished.status_code == missing.status_code == 404
        assert unpublished.content == missing.content and b"no such product" in unpublished.content
        assert httpx.get(f"{server}/data/suprimecam/{published.name}").status_code == 200
    finally:
        shutil.rmtree(staged)
