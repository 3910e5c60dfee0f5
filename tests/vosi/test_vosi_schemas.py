"""Every VOSI document of every service validates against the IVOA schemas (the copies STILTS
ships). taplint validates TAP's own; SIA, SODA and DataLink have no linter that does."""

from __future__ import annotations

import httpx
import pytest
from lxml import etree

SERVICES = ("tap", "sia", "soda", "datalink", "federated/sia")


@pytest.mark.parametrize(
    "path",
    [f"{s}/{r}" for s in SERVICES for r in ("capabilities", "availability")]
    + ["tap/tables", "tap/tables/ivoa.obscore", "tap/tables?detail=min"],
)
def test_vosi_documents_are_valid_against_the_ivoa_schemas(
    server: str, ivoa_schema: etree.XMLSchema, path: str
) -> None:
    response = httpx.get(f"{server}/{path}", timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    document = etree.fromstring(response.content)
    assert ivoa_schema.validate(document), "\n".join(str(e) for e in ivoa_schema.error_log)


@pytest.mark.parametrize("service", SERVICES)
def test_capabilities_point_every_interface_at_this_server(server: str, service: str) -> None:
    document = etree.fromstring(httpx.get(f"{server}/{service}/capabilities", timeout=30).content)
    urls = [u.text for u in document.iter("accessURL")]
    assert urls and all(u.startswith(f"{server}/{service}") for u in urls)
