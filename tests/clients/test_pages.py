"""What a person in a browser meets: each service's page, a 404 page for a path that names
nothing (the VOTable for everyone else), SIA parameters answered at the service's base URL, and
/docs, which Chromium renders with no request leaving this machine."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest
from lxml import etree
from playwright.sync_api import Browser, Route, sync_playwright

from dalserver.http.landing import wants_html
from dalserver.sia.parameters import PARAMETERS
from tests.support.votable import query_status

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("text/html", True),
        ("*/*", False),
        (None, False),
        ("text/plain", False),
        ("application/x-votable+xml, text/html", False),
        ("text/html;q=0, */*", False),
    ],
)
def test_only_a_browser_accept_header_asks_for_html(accept: str | None, html: bool) -> None:
    assert wants_html(accept) is html


def test_an_unknown_path_is_an_html_page_for_a_browser_and_a_votable_otherwise(server: str) -> None:
    page = httpx.get(f"{server}/nothing/here", headers={"Accept": BROWSER_ACCEPT}, timeout=30)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "/nothing/here" in page.text and f'href="{server}/tap"' in page.text
    document = httpx.get(f"{server}/nothing/here", timeout=30)
    assert document.status_code == 404 and document.headers["content-type"].startswith("application/x-votable+xml")
    assert query_status(document) == ("ERROR", "no such resource: /nothing/here")


@pytest.mark.parametrize(("service", "names"), [("datalink", "/datalink/links"), ("soda", "/soda/sync")])
def test_datalink_and_soda_have_landing_pages_naming_the_url_to_give_a_client(
    server: str, service: str, names: str
) -> None:
    page = httpx.get(f"{server}/{service}", headers={"Accept": BROWSER_ACCEPT}, timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"{server}{names}" in page.text and f"{server}/{service}/capabilities" in page.text
    example = etree.HTML(page.text).xpath("//p[starts-with(., 'Example')]/a/@href")[0]
    assert httpx.get(example, timeout=60).status_code == 200  # the example on the page works


def test_sia_parameters_at_the_base_url_answer_the_query(server: str) -> None:
    params = {"POS": "CIRCLE 34.5 -5.0 0.02", "MAXREC": "3"}
    at_base = httpx.get(f"{server}/sia", params=params, timeout=60)
    at_query = httpx.get(f"{server}/sia/query", params=params, timeout=60)
    assert at_base.status_code == 200 and at_base.headers["content-type"].startswith("application/x-votable+xml")
    assert at_base.content == at_query.content
    page = httpx.get(f"{server}/sia", timeout=30)
    assert page.headers["content-type"].startswith("text/html") and f"{server}/sia/query" in page.text


def test_openapi_describes_the_dal_parameters_and_media_types(server: str) -> None:
    api = httpx.get(f"{server}/openapi.json", timeout=30).json()
    sync = api["paths"]["/tap/sync"]
    assert {"LANG", "QUERY", "MAXREC", "RESPONSEFORMAT", "UPLOAD"} <= {p["name"] for p in sync["get"]["parameters"]}
    assert "multipart/form-data" in sync["post"]["requestBody"]["content"]
    assert "application/x-votable+xml" in sync["get"]["responses"]["200"]["content"]
    sia = {p["name"] for p in api["paths"]["/sia/query"]["get"]["parameters"]}
    assert {p.name for p in PARAMETERS} <= sia  # derived from SIA's one table of parameters
    assert {"ID", "CIRCLE", "POLYGON", "POS", "BAND"} <= {
        p["name"] for p in api["paths"]["/soda/sync"]["get"]["parameters"]
    }
    for path, operations in api["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"].get("200", {}).get("content", {})
            if path != "/tap/sync" and method in ("get", "post") and "/tap/async" not in path:
                # JSON only where it is the answer: PROV-JSON, and the cart's summary for the portal
                assert "application/json" not in answers or "provenance" in path or path == "/bulk/summary", (
                    path,
                    method,
                )


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            yield browser
        finally:
            browser.close()


def test_chromium_renders_the_docs_offline_with_every_service_listed(server: str, chromium: Browser) -> None:
    outside: list[str] = []

    def only_this_machine(route: Route) -> None:
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page = chromium.new_page()
    page.route("**/*", only_this_machine)
    page.goto(f"{server}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert outside == [], f"/docs asked for {outside}"
    for expected in ("/tap/sync", "/tap/async", "/sia/query", "/datalink/links", "/soda/sync"):
        assert any(p.replace("\u200b", "") == expected for p in paths), (expected, paths)
    # SIA's GET operation lists its parameters, BAND among them.
    sia = page.locator(".opblock-get", has=page.locator(".opblock-summary-path", has_text="/sia/query")).first
    sia.locator(".opblock-summary").click()
    sia.locator(".parameters-col_name", has_text="BAND").first.wait_for(timeout=30_000)
    assert outside == []
    page.close()
