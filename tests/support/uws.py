"""Driving TAP async jobs through UWS over plain HTTP: create (and start) a job, read its phase,
wait for one; and a query slow enough to catch a job while it executes."""

from __future__ import annotations

import time

import httpx


def slow_query(fourth: int = 40) -> str:
    """A COUNT over a four-way self-join of ObsCore: about 2.5 s for fourth=40 on a 2-core machine."""
    return (
        "SELECT COUNT(*) AS n FROM ivoa.obscore AS a, ivoa.obscore AS b, ivoa.obscore AS c, "
        f"(SELECT TOP {fourth} obs_id FROM ivoa.obscore) AS d"
    )


def submit(tap_url: str, query: str, run: bool = True, **params: str) -> str:
    """Create an async job (and start it); its URL."""
    data = {"LANG": "ADQL", "QUERY": query, **params}
    if run:
        data["PHASE"] = "RUN"
    response = httpx.post(f"{tap_url}/async", data=data, follow_redirects=False, timeout=30)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def job_phase(job_url: str) -> str:
    return httpx.get(f"{job_url}/phase", timeout=30).text


def wait_for_phase(job_url: str, phases: tuple[str, ...], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while (phase := job_phase(job_url)) not in phases:
        assert time.monotonic() < deadline, f"job stayed {phase}, expected one of {phases}"
        time.sleep(0.1)
    return phase
