"""A TAP client call as the tests make it: a synchronous ADQL query over plain HTTP."""

from __future__ import annotations

import httpx


def sync(tap_url: str, query: str, **params: str) -> httpx.Response:
    return httpx.get(f"{tap_url}/sync", params={"LANG": "ADQL", "QUERY": query, **params}, timeout=60)
