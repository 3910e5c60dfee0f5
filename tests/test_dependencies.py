"""Handlers receive what they share through FastAPI dependencies (dalserver.services), so a test
can swap one with ``app.dependency_overrides`` and leave the rest of the app as it is: here an
app of its own, served by uvicorn in this process with no database (its lifespan, which opens the
pools, is off; the handlers asked for touch none), and asked over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from lxml import etree

from dalserver.app import build_services, create_app
from dalserver.dali.params import DALIParams
from dalserver.services import Services, form_params, services
from dalserver.settings import Settings
from tests.support.threaded_server import serving_in_thread

NOWHERE = "postgresql://nobody@127.0.0.1:1/none"  # never connected to: the pools stay closed


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served on a free local port for the block; its base URL."""
    with serving_in_thread(app, lifespan="off") as (port, _):
        yield f"http://127.0.0.1:{port}"


def _services(tmp_path: Path, **settings: Any) -> Services:
    return build_services(Settings(home=tmp_path, **settings), NOWHERE)


def test_a_test_swaps_the_services_of_every_handler_with_dependency_overrides(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path), NOWHERE)
    swapped = _services(tmp_path, title="Swapped archive", base_url="http://swapped.example", maxrec_hard=42)
    app.dependency_overrides[services] = lambda: swapped
    with serving(app) as base:
        config = httpx.get(f"{base}/portal/config.json", timeout=30).json()
        capabilities = httpx.get(f"{base}/tap/capabilities", timeout=30)
        sia = httpx.get(f"{base}/sia/capabilities", timeout=30)
    assert (config["title"], config["maxrec_hard"]) == ("Swapped archive", 42)
    urls = etree.fromstring(capabilities.content).xpath("//accessURL/text()")
    assert urls and all(u.startswith("http://swapped.example/") for u in urls)
    assert sia.status_code == 200 and b"http://swapped.example/sia/query" in sia.content


def test_a_test_swaps_the_dali_parameters_a_handler_reads(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path), NOWHERE)
    app.dependency_overrides[services] = lambda: _services(tmp_path)
    # SODA takes one ID per request: two, given by the override, are refused before any lookup.
    app.dependency_overrides[form_params] = lambda: DALIParams([("ID", "ivo://a?1"), ("id", "ivo://a?2")])
    with serving(app) as base:
        answer = httpx.post(f"{base}/soda/sync", timeout=30)  # sends no parameters at all
    assert answer.status_code == 400
    assert answer.text.startswith("MultiValuedParamNotSupported: one ID per request")
