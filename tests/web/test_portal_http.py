"""The portal over HTTP: the page at /, its assets with cache headers and ETags, the config, and
a 404 in the usual error document for a file the portal does not have."""

from __future__ import annotations

import re

import httpx

from tests.support.votable import query_status


def test_the_root_is_the_portal_page_with_the_archives_title(server: str) -> None:
    page = httpx.get(f"{server}/", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<title>dalserver demo archive</title>" in page.text and "%TITLE%" not in page.text
    assert page.headers["cache-control"] == "no-cache"
    again = httpx.get(f"{server}/", headers={"If-None-Match": page.headers["etag"]}, timeout=30)
    assert again.status_code == 304


def test_versioned_assets_are_cached_for_a_year_and_others_revalidated(server: str) -> None:
    page = httpx.get(f"{server}/", timeout=30).text
    script = re.search(r'src="(portal/portal\.js\?v=[0-9a-f]+)"', page)
    assert script
    js = httpx.get(f"{server}/{script.group(1)}", timeout=30)
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert js.headers["cache-control"] == "public, max-age=31536000, immutable"
    aladin = httpx.get(f"{server}/portal/vendor/aladin-lite/aladin.js", timeout=30)
    assert aladin.status_code == 200 and aladin.headers["cache-control"] == "public, max-age=3600"
    assert httpx.get(aladin.url, headers={"If-None-Match": aladin.headers["etag"]}, timeout=30).status_code == 304
    zipped = httpx.get(aladin.url, headers={"Accept-Encoding": "gzip"}, timeout=30)
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == aladin.content


def test_a_file_the_portal_does_not_have_is_a_404_document(server: str) -> None:
    for path in ("portal/nothing.js", "portal/../pyproject.toml", "portal/build.json"):
        answer = httpx.get(f"{server}/{path}", timeout=30)
        assert answer.status_code == 404, path
        assert query_status(answer)[0] == "ERROR"
