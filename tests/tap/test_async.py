"""TAP async through UWS 1.1, driven the way clients drive it: pyvo's job API, and plain HTTP for
every UWS resource. Documents are validated against the UWS 1.1 schema that taplint uses."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
import pyvo
from lxml import etree

from tests.support.archive import Archive
from tests.support.uws import slow_query, submit, wait_for_phase
from tests.support.votable import query_status, rows

UWS = {"uws": "http://www.ivoa.net/xml/UWS/v1.0", "xlink": "http://www.w3.org/1999/xlink"}


def job_doc(job_url: str, **params: str) -> etree._Element:
    response = httpx.get(job_url, params=params, timeout=90)
    assert response.status_code == 200, response.text
    return etree.fromstring(response.content)


def text_of(doc: etree._Element, path: str) -> str | None:
    element = doc.find(path, UWS)
    return None if element is None else element.text


# --- clients -------------------------------------------------------------------------------------
def test_pyvo_run_async_returns_the_rows(tap_url: str) -> None:
    result = pyvo.dal.TAPService(tap_url).run_async("SELECT TOP 5 obs_id, s_ra FROM ivoa.obscore ORDER BY obs_id")
    assert len(result) == 5
    assert list(result["obs_id"]) == sorted(result["obs_id"])


def test_pyvo_submit_wait_fetch_and_delete(tap_url: str) -> None:
    service = pyvo.dal.TAPService(tap_url)
    job = service.submit_job("SELECT COUNT(*) AS n FROM ivoa.obscore")
    assert job.phase == "PENDING"
    job.run()
    job.wait(timeout=60)
    assert job.phase == "COMPLETED"
    assert int(job.fetch_result().to_table()["n"][0]) > 0
    url = job.url
    job.delete()
    assert httpx.get(url).status_code == 404


def test_pyvo_reports_the_error_of_a_failed_job(tap_url: str) -> None:
    job = pyvo.dal.TAPService(tap_url).submit_job("SELECT nosuchcolumn FROM ivoa.obscore")
    job.run()
    job.wait(timeout=60)
    assert job.phase == "ERROR"
    with pytest.raises(pyvo.dal.DALQueryError, match="nosuchcolumn"):
        job.raise_if_error()


# --- UWS resources -------------------------------------------------------------------------------
def test_job_creation_answers_303_and_the_job_waits_in_pending(tap_url: str, ivoa_schema: etree.XMLSchema) -> None:
    job_url = submit(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore", run=False, RUNID="my-label")
    assert job_url.startswith(f"{tap_url}/async/")
    doc = job_doc(job_url)
    ivoa_schema.assertValid(doc)
    assert doc.get("version") == "1.1"
    assert text_of(doc, "uws:phase") == "PENDING"
    assert text_of(doc, "uws:runId") == "my-label"
    assert text_of(doc, "uws:jobId") == job_url.rsplit("/", 1)[1]
    params = {p.get("id"): p.text for p in doc.findall("uws:parameters/uws:parameter", UWS)}
    assert params == {"lang": "ADQL", "query": "SELECT TOP 1 obs_id FROM ivoa.obscore"}
    time.sleep(1)
    assert httpx.get(f"{job_url}/phase").text == "PENDING"  # nothing runs it until PHASE=RUN


def test_a_completed_job_lists_its_result_and_serves_it(tap_url: str, ivoa_schema: etree.XMLSchema) -> None:
    job_url = submit(tap_url, "SELECT TOP 3 obs_id FROM ivoa.obscore ORDER BY obs_id")
    assert wait_for_phase(job_url, ("COMPLETED", "ERROR")) == "COMPLETED"
    doc = job_doc(job_url)
    ivoa_schema.assertValid(doc)
    for name in ("uws:creationTime", "uws:startTime", "uws:endTime", "uws:destruction"):
        assert datetime.fromisoformat(text_of(doc, name).replace("Z", "+00:00"))
    (result,) = doc.findall("uws:results/uws:result", UWS)
    assert result.get("id") == "result"
    href = result.get(f"{{{UWS['xlink']}}}href")
    assert href == f"{job_url}/results/result"
    response = httpx.get(href)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-votable+xml")
    assert int(result.get("size")) == len(response.content)
    assert len(rows(response)) == 3 and query_status(response)[0] == "OK"
    results = etree.fromstring(httpx.get(f"{job_url}/results").content)
    ivoa_schema.assertValid(results)


def test_the_result_comes_in_the_requested_format(tap_url: str) -> None:
    job_url = submit(tap_url, "SELECT TOP 2 obs_id FROM ivoa.obscore ORDER BY obs_id", RESPONSEFORMAT="csv")
    wait_for_phase(job_url, ("COMPLETED",))
    response = httpx.get(f"{job_url}/results/result")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0] == "obs_id" and len(response.text.splitlines()) == 3


def test_maxrec_cuts_an_async_result_and_says_overflow(tap_url: str) -> None:
    job_url = submit(tap_url, "SELECT obs_id FROM ivoa.obscore", MAXREC="4")
    wait_for_phase(job_url, ("COMPLETED",))
    response = httpx.get(f"{job_url}/results/result")
    assert len(rows(response)) == 4 and query_status(response)[0] == "OVERFLOW"


def test_a_bad_query_ends_in_error_with_its_position(tap_url: str, ivoa_schema: etree.XMLSchema) -> None:
    job_url = submit(tap_url, "SELECT raa FROM ivoa.obscore")
    assert wait_for_phase(job_url, ("COMPLETED", "ERROR")) == "ERROR"
    doc = job_doc(job_url)
    ivoa_schema.assertValid(doc)
    summary = doc.find("uws:errorSummary", UWS)
    assert summary is not None and summary.get("type") == "fatal" and summary.get("hasDetail") == "true"
    message = text_of(summary, "uws:message") or ""
    assert "raa" in message and "line 1, column 8" in message
    error = httpx.get(f"{job_url}/error")
    assert error.status_code == 200 and error.headers["content-type"].startswith("application/x-votable+xml")
    assert query_status(error) == ("ERROR", message)
    missing = httpx.get(f"{job_url}/results/result")
    assert missing.status_code == 404 and query_status(missing)[0] == "ERROR"


def test_bad_request_parameters_end_the_job_in_error(tap_url: str) -> None:
    job_url = submit(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore", RESPONSEFORMAT="text/nonsense")
    assert wait_for_phase(job_url, ("COMPLETED", "ERROR")) == "ERROR"
    assert "text/nonsense" in query_status(httpx.get(f"{job_url}/error"))[1]


def test_text_resources_answer_plain_text(tap_url: str) -> None:
    job_url = submit(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore", run=False)
    for resource, expected in (("phase", "PENDING"), ("quote", ""), ("owner", ""), ("executionduration", "3600")):
        response = httpx.get(f"{job_url}/{resource}")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        assert response.text == expected, resource
    destruction = datetime.fromisoformat(httpx.get(f"{job_url}/destruction").text.replace("Z", "+00:00"))
    assert timedelta(days=6) < destruction - datetime.now(UTC) < timedelta(days=8)  # the 7-day default


def test_parameters_change_while_pending_and_not_after(tap_url: str, ivoa_schema: etree.XMLSchema) -> None:
    job_url = submit(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore", run=False)
    changed = httpx.post(f"{job_url}/parameters", data={"QUERY": "SELECT TOP 2 obs_id FROM ivoa.obscore"})
    assert changed.status_code == 303 and changed.headers["location"] == job_url
    params = etree.fromstring(httpx.get(f"{job_url}/parameters").content)
    ivoa_schema.assertValid(params)
    assert {p.get("id"): p.text for p in params} == {"lang": "ADQL", "query": "SELECT TOP 2 obs_id FROM ivoa.obscore"}
    httpx.post(f"{job_url}/phase", data={"PHASE": "RUN"})
    wait_for_phase(job_url, ("COMPLETED",))
    assert len(rows(httpx.get(f"{job_url}/results/result"))) == 2
    refused = httpx.post(f"{job_url}/parameters", data={"QUERY": "SELECT 1 FROM ivoa.obscore"})
    assert refused.status_code == 409 and "PENDING" in query_status(refused)[1]


def test_execution_duration_and_destruction_are_kept_within_the_limits(tap_url: str) -> None:
    job_url = submit(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore", run=False)
    httpx.post(f"{job_url}/executionduration", data={"EXECUTIONDURATION": "120"})
    assert httpx.get(f"{job_url}/executionduration").text == "120"
    httpx.post(f"{job_url}/executionduration", data={"EXECUTIONDURATION": "0"})  # "unlimited"
    assert httpx.get(f"{job_url}/executionduration").text == str(4 * 3600)  # the hard limit
    bad = httpx.post(f"{job_url}/executionduration", data={"EXECUTIONDURATION": "soon"})
    assert bad.status_code == 400 and "EXECUTIONDURATION" in query_status(bad)[1]
    wanted = datetime.now(UTC) + timedelta(days=2)
    httpx.post(f"{job_url}/destruction", data={"DESTRUCTION": wanted.strftime("%Y-%m-%dT%H:%M:%SZ")})
    got = datetime.fromisoformat(httpx.get(f"{job_url}/destruction").text.replace("Z", "+00:00"))
    assert abs((got - wanted).total_seconds()) < 1
    httpx.post(f"{job_url}/destruction", data={"DESTRUCTION": "2999-01-01T00:00:00Z"})
    got = datetime.fromisoformat(httpx.get(f"{job_url}/destruction").text.replace("Z", "+00:00"))
    assert got - datetime.now(UTC) < timedelta(days=31)  # cut to the 30-day retention limit


def test_job_list_filters_by_phase_after_and_last(tap_url: str, ivoa_schema: etree.XMLSchema) -> None:
    before = datetime.now(UTC)
    pending = [submit(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore", run=False) for _ in range(3)]
    ids = [url.rsplit("/", 1)[1] for url in pending]
    listing = etree.fromstring(httpx.get(f"{tap_url}/async").content)
    ivoa_schema.assertValid(listing)
    assert set(ids) <= {ref.get("id") for ref in listing.findall("uws:jobref", UWS)}
    only_pending = etree.fromstring(httpx.get(f"{tap_url}/async", params={"PHASE": "PENDING"}).content)
    assert {text_of(ref, "uws:phase") for ref in only_pending.findall("uws:jobref", UWS)} == {"PENDING"}
    after = etree.fromstring(
        httpx.get(f"{tap_url}/async", params={"AFTER": before.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}).content
    )
    assert [ref.get("id") for ref in after.findall("uws:jobref", UWS)] == ids
    last = etree.fromstring(httpx.get(f"{tap_url}/async", params={"LAST": "2"}).content)
    assert [ref.get("id") for ref in last.findall("uws:jobref", UWS)] == ids[:0:-1]  # newest first
    for params in ({"PHASE": "RUNNING"}, {"LAST": "-1"}, {"AFTER": "yesterday"}):
        assert httpx.get(f"{tap_url}/async", params=params).status_code == 400


def test_wait_blocks_until_the_phase_changes(tap_url: str) -> None:
    job_url = submit(tap_url, slow_query(15), run=False)
    started = time.monotonic()
    assert text_of(job_doc(job_url, WAIT="2"), "uws:phase") == "PENDING"  # PENDING waits too (UWS 1.1)
    assert 1.8 < time.monotonic() - started < 10
    httpx.post(f"{job_url}/phase", data={"PHASE": "RUN"})
    wait_for_phase(job_url, ("EXECUTING", "COMPLETED"))
    started = time.monotonic()
    doc = job_doc(job_url, WAIT="60", PHASE="EXECUTING")
    assert text_of(doc, "uws:phase") == "COMPLETED"
    assert time.monotonic() - started < 30  # woken by the change, not by the 60 s limit


def test_wait_returns_at_once_when_the_job_cannot_change_or_is_in_another_phase(tap_url: str) -> None:
    done = submit(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore")
    wait_for_phase(done, ("COMPLETED",))
    pending = submit(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore", run=False)
    for job_url, params in ((done, {"WAIT": "30"}), (pending, {"WAIT": "30", "PHASE": "EXECUTING"})):
        started = time.monotonic()
        job_doc(job_url, **params)
        assert time.monotonic() - started < 3


def test_abort_cancels_the_database_query(tap_url: str, archive: Archive) -> None:
    job_url = submit(tap_url, slow_query(132 * 20))  # minutes of work if nobody stops it
    wait_for_phase(job_url, ("EXECUTING",))
    with psycopg.connect(archive.url, autocommit=True) as conn:

        def running() -> int:
            return conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                "AND application_name = 'dalserver-query' AND query LIKE %s",
                ("%LIMIT 2640%",),
            ).fetchone()[0]

        deadline = time.monotonic() + 10
        while running() == 0 and time.monotonic() < deadline:  # the worker may still be connecting
            time.sleep(0.1)
        assert running() == 1
        response = httpx.post(f"{job_url}/phase", data={"PHASE": "ABORT"}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == job_url
        assert job_doc(job_url).find("uws:phase", UWS).text == "ABORTED"
        deadline = time.monotonic() + 5
        while running() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert running() == 0
    time.sleep(1)
    assert httpx.get(f"{job_url}/phase").text == "ABORTED"  # the cancelled worker did not overwrite it


def test_a_job_past_its_execution_duration_ends_in_error(tap_url: str) -> None:
    job_url = submit(tap_url, slow_query(132 * 20), EXECUTIONDURATION="1")
    assert wait_for_phase(job_url, ("COMPLETED", "ERROR"), timeout=30) == "ERROR"
    message = query_status(httpx.get(f"{job_url}/error"))[1]
    assert "execution duration (1 s)" in message


def test_delete_removes_the_job_and_its_files(tap_url: str, archive: Archive) -> None:
    job_url = submit(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore")
    wait_for_phase(job_url, ("COMPLETED",))
    job_dir = Path(archive.settings.home) / "jobs" / job_url.rsplit("/", 1)[1]
    assert (job_dir / "result.vot").is_file()
    response = httpx.delete(job_url, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"{tap_url}/async"
    assert httpx.get(job_url).status_code == 404
    assert not job_dir.exists()
    again = submit(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore", run=False)
    response = httpx.post(again, data={"ACTION": "DELETE"}, follow_redirects=False)
    assert response.status_code == 303 and httpx.get(again).status_code == 404


def test_an_unknown_job_is_a_404_error_document(tap_url: str) -> None:
    for path in ("", "/phase", "/parameters", "/results", "/results/result", "/error"):
        response = httpx.get(f"{tap_url}/async/0123456789abcdef{path}")
        assert response.status_code == 404, path
        assert query_status(response)[0] == "ERROR"


def test_bad_phase_actions_get_an_error_document(tap_url: str) -> None:
    job_url = submit(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore", run=False)
    for data in ({"PHASE": "SUSPEND"}, {}):
        response = httpx.post(f"{job_url}/phase", data=data)
        assert response.status_code == 400 and "RUN or ABORT" in query_status(response)[1]
    response = httpx.post(job_url, data={"ACTION": "EXPLODE"})
    assert response.status_code == 400 and "ACTION=DELETE" in query_status(response)[1]


def test_the_job_store_is_not_reachable_from_adql(tap_url: str) -> None:
    job_url = submit(tap_url, "SELECT job_id FROM uws.job")
    assert wait_for_phase(job_url, ("COMPLETED", "ERROR")) == "ERROR"
    assert "not published" in query_status(httpx.get(f"{job_url}/error"))[1]
