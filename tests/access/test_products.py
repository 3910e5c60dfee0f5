"""A proprietary dataset's file, preview, cutout, links, provenance, cart and quick look: served
to granted1 (privately), not found for other1, and for an anonymous caller a 401 that asks to log
in, the same whether the dataset exists or not (no oracle for guessing identifiers)."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from tests.access.conftest import ProprietaryArchive, basic

UNKNOWN = "ivo://dalserver.demo/subaru-suprime-cam?NO-SUCH-FRAME"


def _file_path(proprietary: ProprietaryArchive) -> str:
    return "/data/undated/s20a-3.fits"


def _requests(proprietary: ProprietaryArchive, did: str) -> dict[str, tuple[str, dict[str, str]]]:
    with psycopg.connect(proprietary.archive.url) as conn:
        ra, dec = conn.execute(
            "SELECT s_ra, s_dec FROM ivoa.obscore WHERE obs_publisher_did = %s", (proprietary.canary,)
        ).fetchone()
    circle = f"{ra} {dec} 0.01"
    return {
        "preview": ("/datalink/preview", {"ID": did}),
        "cutout": ("/soda/sync", {"ID": did, "CIRCLE": circle}),
        "quick look": ("/quicklook/pixels", {"ID": did}),
    }


@pytest.mark.parametrize("what", ["preview", "cutout", "quick look"])
def test_a_proprietary_image_is_served_to_the_granted_user_only(proprietary: ProprietaryArchive, what: str) -> None:
    path, params = _requests(proprietary, proprietary.canary)[what]
    granted = httpx.get(proprietary.base + path, params=params, auth=basic("granted1"), timeout=60)
    assert granted.status_code == 200, granted.text
    assert granted.headers["cache-control"] == "private"
    assert granted.headers["x-vo-authenticated"] == "granted1"
    assert "Authorization" in granted.headers["vary"]
    other = httpx.get(proprietary.base + path, params=params, auth=basic("other1"), timeout=60)
    assert other.status_code == 404 and proprietary.canary in other.text  # it repeats what was asked, no more
    anonymous = httpx.get(proprietary.base + path, params=params, timeout=60)
    unknown_path, unknown_params = _requests(proprietary, UNKNOWN)[what]
    unknown = httpx.get(proprietary.base + unknown_path, params=unknown_params, timeout=60)
    assert anonymous.status_code == unknown.status_code == 401
    assert anonymous.headers.get_list("www-authenticate") == unknown.headers.get_list("www-authenticate")
    assert any(c.startswith("Basic ") for c in anonymous.headers.get_list("www-authenticate"))
    assert anonymous.text.replace(proprietary.canary, UNKNOWN) == unknown.text


def test_the_preview_is_checked_on_every_request_not_only_when_it_is_rendered(proprietary: ProprietaryArchive) -> None:
    params = {"ID": proprietary.hidden_dids[0]}
    warm = httpx.get(proprietary.base + "/datalink/preview", params=params, auth=basic("granted1"), timeout=60)
    assert warm.status_code == 200
    again = httpx.get(proprietary.base + "/datalink/preview", params=params, timeout=60)
    assert again.status_code == 401 and again.content != warm.content


def test_a_proprietary_file_is_downloaded_by_the_granted_user_only(proprietary: ProprietaryArchive) -> None:
    path = _file_path(proprietary)
    granted = httpx.get(proprietary.base + path, auth=basic("granted1"), timeout=60)
    assert granted.status_code == 200 and granted.content[:6] == b"SIMPLE"
    assert granted.headers["cache-control"] == "private"
    assert httpx.get(proprietary.base + path, auth=basic("other1"), timeout=60).status_code == 404
    anonymous = httpx.get(proprietary.base + path, timeout=60)
    missing = httpx.get(proprietary.base + "/data/undated/no-such-file.fits", timeout=60)
    assert anonymous.status_code == missing.status_code == 401
    assert anonymous.text == missing.text
    public = httpx.get(proprietary.base + "/data/suprimecam/" + _public_file(proprietary), timeout=60)
    assert public.status_code == 200 and "x-vo-authenticated" not in public.headers


def _public_file(proprietary: ProprietaryArchive) -> str:
    return sorted(p.name for p in (proprietary.archive.settings.archive_root / "suprimecam").glob("*.fits"))[0]


def test_datalink_answers_a_hidden_id_exactly_as_an_unknown_one(proprietary: ProprietaryArchive) -> None:
    for auth in (None, basic("other1")):
        hidden = httpx.get(
            proprietary.base + "/datalink/links", params={"ID": proprietary.canary}, auth=auth, timeout=60
        )
        unknown = httpx.get(proprietary.base + "/datalink/links", params={"ID": UNKNOWN}, auth=auth, timeout=60)
        assert hidden.status_code == unknown.status_code == 200
        assert hidden.text.replace(proprietary.canary, UNKNOWN) == unknown.text
        assert "NotFoundFault" in hidden.text
    granted = httpx.get(
        proprietary.base + "/datalink/links", params={"ID": proprietary.canary}, auth=basic("granted1"), timeout=60
    )
    for semantics in ("#this", "#preview", "#cutout"):
        assert semantics in granted.text


def test_provenance_of_a_hidden_dataset_is_unknown(proprietary: ProprietaryArchive) -> None:
    params = {"ID": proprietary.canary}
    assert httpx.get(proprietary.base + "/datalink/provenance", params=params, timeout=60).status_code == 404
    granted = httpx.get(proprietary.base + "/datalink/provenance", params=params, auth=basic("granted1"), timeout=60)
    assert granted.status_code == 200 and "s20a-3.fits" in granted.text


def test_the_cart_holds_only_what_the_user_may_see(proprietary: ProprietaryArchive) -> None:
    params = {"ID": [proprietary.canary]}
    anonymous = httpx.get(proprietary.base + "/bulk/summary", params=params, timeout=60).json()
    assert anonymous["unknown"] == [proprietary.canary] and anonymous["files"] == []
    granted = httpx.get(proprietary.base + "/bulk/summary", params=params, auth=basic("granted1"), timeout=60).json()
    assert granted["unknown"] == [] and len(granted["files"]) == 1
    assert httpx.get(proprietary.base + "/bulk/zip", params=params, timeout=60).status_code == 404
    zipped = httpx.get(proprietary.base + "/bulk/zip", params=params, auth=basic("granted1"), timeout=60)
    assert zipped.status_code == 200 and zipped.headers["cache-control"] == "private"
