"""An aborted job says who stopped it and when (UWS 1.1 allows an error summary in ABORTED), so
pyvo's raise_if_error() has something to say; the job document stays valid UWS 1.1."""

from __future__ import annotations

import re

import httpx
import pytest
import pyvo
from lxml import etree

from tests.support.schemas import schema_errors
from tests.support.uws import slow_query, submit, wait_for_phase

UWS = {"uws": "http://www.ivoa.net/xml/UWS/v1.0"}
WHEN = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def test_pyvo_raise_if_error_says_a_client_aborted_the_job_and_when(tap_url: str) -> None:
    job = pyvo.dal.TAPService(tap_url).submit_job("SELECT TOP 1 obs_id FROM ivoa.obscore")
    job.abort()
    assert job.phase == "ABORTED"
    with pytest.raises(pyvo.dal.DALQueryError) as failure:
        job.raise_if_error()
    assert re.search(f"aborted by a client, by PHASE=ABORT at {WHEN}", str(failure.value)), str(failure.value)


def test_an_executing_job_aborted_has_a_valid_document_with_its_error_summary(
    tap_url: str, ivoa_schema: etree.XMLSchema
) -> None:
    job_url = submit(tap_url, slow_query(400))
    wait_for_phase(job_url, ("EXECUTING",))
    httpx.post(f"{job_url}/phase", data={"PHASE": "ABORT"}, timeout=30)
    assert wait_for_phase(job_url, ("ABORTED",)) == "ABORTED"
    document = httpx.get(job_url, timeout=30).content
    assert schema_errors(ivoa_schema, document) == ""
    summary = etree.fromstring(document).find("uws:errorSummary", UWS)
    assert summary is not None and summary.get("type") == "transient"
    assert re.fullmatch(f"aborted by a client, by PHASE=ABORT at {WHEN}", summary.findtext("uws:message", None, UWS))
    error = httpx.get(f"{job_url}/error", timeout=30)
    assert error.status_code == 200 and "aborted by a client" in error.text
    result = httpx.get(f"{job_url}/results/result", timeout=30)
    assert result.status_code == 404 and "is ABORTED and has no result: aborted by a client" in result.text


def test_a_completed_job_has_no_error_summary(tap_url: str) -> None:
    job_url = submit(tap_url, "SELECT TOP 1 obs_id FROM ivoa.obscore")
    wait_for_phase(job_url, ("COMPLETED",))
    assert etree.fromstring(httpx.get(job_url, timeout=30).content).find("uws:errorSummary", UWS) is None
    assert httpx.get(f"{job_url}/error", timeout=30).status_code == 404
