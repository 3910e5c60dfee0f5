"""Limits as configured: statement timeout, MAXREC default and hard limit, on a second server
started with small ones (the same archive, so only the settings differ)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from lxml import etree

from tests.support.archive import Archive
from tests.support.servers import another_server
from tests.support.tap import sync
from tests.support.votable import query_status, rows

SLOW = "SELECT COUNT(*) FROM ivoa.obscore AS a, ivoa.obscore AS b, ivoa.obscore AS c, ivoa.obscore AS d"


@pytest.fixture(scope="module")
def strict_tap(archive: Archive) -> Iterator[str]:
    settings = {
        "DALSERVER_STATEMENT_TIMEOUT_SECONDS": "0.5",
        "DALSERVER_MAXREC_DEFAULT": "7",
        "DALSERVER_MAXREC_HARD": "50",
        "DALSERVER_ASYNC_EXECUTION_DEFAULT_SECONDS": "60",
        "DALSERVER_ASYNC_EXECUTION_MAX_SECONDS": "120",
        "DALSERVER_JOB_RETENTION_DEFAULT_SECONDS": "3600",
        "DALSERVER_JOB_RETENTION_MAX_SECONDS": "7200",
        "DALSERVER_UPLOAD_MAX_BYTES": "1000000",
    }
    with another_server(archive.env, archive.settings.home / "strict-server.log", settings) as server:
        yield f"{server.base}/tap"


def test_a_query_past_the_statement_timeout_gets_an_error_document(strict_tap: str) -> None:
    response = sync(strict_tap, SLOW)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/x-votable+xml")
    status, message = query_status(response)
    assert status == "ERROR"
    assert "time limit" in message and "asynchronous" in message


def test_the_server_still_answers_after_a_timeout(strict_tap: str) -> None:
    sync(strict_tap, SLOW)
    response = sync(strict_tap, "SELECT TOP 3 obs_id FROM ivoa.obscore")
    assert response.status_code == 200 and len(rows(response)) == 3


def test_maxrec_default_applies_when_the_client_sends_none(strict_tap: str) -> None:
    response = sync(strict_tap, "SELECT obs_id FROM ivoa.obscore")
    assert len(rows(response)) == 7 and query_status(response)[0] == "OVERFLOW"


def test_maxrec_above_the_hard_limit_is_cut_to_it(strict_tap: str) -> None:
    response = sync(strict_tap, "SELECT obs_id FROM ivoa.obscore", MAXREC="100000")
    assert len(rows(response)) == 50 and query_status(response)[0] == "OVERFLOW"


def test_capabilities_advertise_the_configured_limits(strict_tap: str) -> None:
    doc = etree.fromstring(httpx.get(f"{strict_tap}/capabilities").content)
    limits = {str(el.getparent().tag).split("}")[-1] + "/" + str(el.tag): el.text for el in doc.iter("default", "hard")}
    assert limits["outputLimit/default"] == "7" and limits["outputLimit/hard"] == "50"
    # TAPRegExt's executionDuration and retentionPeriod describe async jobs
    assert limits["executionDuration/default"] == "60" and limits["executionDuration/hard"] == "120"
    assert limits["retentionPeriod/default"] == "3600" and limits["retentionPeriod/hard"] == "7200"
    assert limits["uploadLimit/hard"] == "1000000"


def test_an_async_job_gets_the_configured_execution_duration_and_no_more(strict_tap: str) -> None:
    job = httpx.post(
        f"{strict_tap}/async",
        data={"LANG": "ADQL", "QUERY": "SELECT 1 AS x FROM ivoa.obscore", "EXECUTIONDURATION": "100000"},
        follow_redirects=False,
    ).headers["location"]
    assert httpx.get(f"{job}/executionduration").text == "120"
    httpx.delete(job)
