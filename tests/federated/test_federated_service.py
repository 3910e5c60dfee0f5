"""The federated search as a service of its own: SIA error documents naming the parameter at
fault, a landing page, its place in the OpenAPI description, its self-description in every
answer (votlint-clean), and the politeness of its client before any other archive is asked: no
loopback address without the operator's leave, no answer larger than the limit."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from dalserver.federated.live_client import LiveClient, LiveFailure
from dalserver.federated.remote_queries import RemoteRequest
from tests.support.votable import query_status, votlint_messages


def _search(server: str, *pairs: tuple[str, str]) -> httpx.Response:
    return httpx.get(f"{server}/federated/sia/query", params=list(pairs), timeout=60)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ((("POS", "CIRCLE 10 20"),), "POS CIRCLE: a circle is 'ra dec radius'"),
        ((("POS", "POLYGON 0 0 10 10 10 0 0 10"),), "not a valid spherical polygon"),
        ((("BAND", "7e-7 6e-7"),), "BAND: the lower bound"),
        ((("TIME", "55000 soon"),), "TIME: 'soon' is not a number"),
        ((("CALIB", "high"),), "CALIB"),
        ((("DPTYPE", "picture"),), "data product type"),
        ((("LIVE", "maybe"),), "LIVE: 'maybe' is not a boolean"),
        ((("MAXREC", "-1"),), "MAXREC"),
        ((("RESPONSEFORMAT", "text/nonsense"),), "RESPONSEFORMAT"),
        ((("POS", "CIRCLE 10 20 1"), ("LIVE", "true"), ("BAND", "x")), "BAND: 'x' is not a number"),
    ],
)
def test_bad_parameters_get_sia_error_documents_naming_them(
    server: str, pairs: tuple[tuple[str, str], ...], message: str
) -> None:
    response = _search(server, *pairs)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/x-votable+xml")
    status, text = query_status(response)
    assert status == "ERROR" and text.startswith("UsageFault: ") and message in text, text


def test_an_answer_describes_the_service_and_passes_votlint(server: str, tmp_path: Path) -> None:
    response = _search(server, ("POS", "CIRCLE 10 20 1"), ("MAXREC", "0"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'value="{server}/federated/sia/query"' in body and '<PARAM name="LIVE"' in body
    assert '<INFO name="cache" value="ok">0 rows' in body
    assert votlint_messages(response.content, tmp_path) == ""


def test_the_landing_page_examples_and_openapi_name_the_service(server: str) -> None:
    page = httpx.get(f"{server}/federated/sia", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and "LIVE=true" in page.text and f"{server}/federated/sia/capabilities" in page.text
    examples = httpx.get(f"{server}/federated/sia/examples", timeout=30)
    assert examples.status_code == 200 and examples.headers["content-type"].startswith("application/xhtml+xml")
    paths = httpx.get(f"{server}/openapi.json", timeout=30).json()["paths"]
    names = {p["name"] for p in paths["/federated/sia/query"]["get"]["parameters"]}
    assert {"POS", "BAND", "TIME", "COLLECTION", "FACILITY", "MAXREC", "LIVE"} <= names


def test_the_live_client_refuses_loopback_unless_allowed_and_large_answers(server: str) -> None:
    async def ask(allow_private: bool, max_bytes: int) -> None:
        client = LiveClient("dalserver/test (IVOA-copy https://x.example/)", max_bytes, 10.0, allow_private)
        try:
            await client.get(RemoteRequest(f"{server}/tap/capabilities", []))
        finally:
            await client.close()

    with pytest.raises(LiveFailure, match="is at a loopback address") as refused:
        asyncio.run(ask(False, 1 << 20))
    assert refused.value.reason == "private address"
    with pytest.raises(LiveFailure, match="larger than 1000 bytes") as large:
        asyncio.run(ask(True, 1000))
    assert large.value.reason == "answer too large"
