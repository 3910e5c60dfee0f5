"""UWS 1.1 documents (job, job list, results, parameters) from jobs built by hand, validated
against the UWS 1.1 schema STILTS ships: no database and no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree

from dalserver.uws.documents import job_document, job_list, parameters_document, results_document
from dalserver.uws.jobs import ACTIVE, FINAL, PHASES, Job, Result
from tests.support.schemas import schema_errors

UWS = "{http://www.ivoa.net/xml/UWS/v1.0}"
XLINK = "{http://www.w3.org/1999/xlink}"
NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
JOBS_URL = "http://example.org/tap/async"
CREATED = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def job(phase: str = "PENDING", **changes: object) -> Job:
    fields: dict[str, object] = {
        "job_id": "j-0001",
        "phase": phase,
        "creation_time": CREATED,
        "execution_duration": 600,
        "destruction": CREATED + timedelta(days=7),
        "parameters": [("LANG", "ADQL"), ("QUERY", "SELECT TOP 1 * FROM ivoa.obscore WHERE a < 1 & b > 'x'")],
    }
    return Job(**{**fields, **changes})  # type: ignore[arg-type]  # the fields of a Job, by name


COMPLETED = job(
    "COMPLETED",
    run_id="my run <1>",
    owner_id="anonymous",
    start_time=CREATED + timedelta(seconds=1),
    end_time=CREATED + timedelta(seconds=3),
    results=[Result("result", "result.vot", "application/x-votable+xml", 12345)],
    parameters=[("LANG", "ADQL"), ("QUERY", "SELECT 1"), ("UPLOAD", "t,param:t1"), ("MAXREC", "10")],
)
FAILED = job(
    "ERROR",
    start_time=CREATED,
    end_time=CREATED + timedelta(seconds=1),
    error_message="Unknown column 'nothing' at line 1, column 8 <&>",
    error_type="fatal",
)


def element(document: bytes) -> etree._Element:
    return etree.fromstring(document)


@pytest.mark.parametrize("phase", PHASES)
def test_a_job_document_in_every_phase_is_valid_uws_1_1(ivoa_schema: etree.XMLSchema, phase: str) -> None:
    assert schema_errors(ivoa_schema, job_document(job(phase), f"{JOBS_URL}/j-0001")) == ""


@pytest.mark.parametrize("done", [COMPLETED, FAILED], ids=["completed", "error"])
def test_finished_jobs_are_valid_uws_1_1(ivoa_schema: etree.XMLSchema, done: Job) -> None:
    assert schema_errors(ivoa_schema, job_document(done, f"{JOBS_URL}/j-0001")) == ""


def test_a_pending_job_says_nil_for_what_it_does_not_have_yet() -> None:
    doc = element(job_document(job(), f"{JOBS_URL}/j-0001"))
    assert doc.get("version") == "1.1" and doc.findtext(f"{UWS}jobId") == "j-0001"
    for name in ("ownerId", "quote", "startTime", "endTime"):
        assert doc.find(f"{UWS}{name}").get(NIL) == "true", name
    assert doc.find(f"{UWS}runId") is None and doc.find(f"{UWS}errorSummary") is None
    assert doc.findtext(f"{UWS}creationTime") == "2024-05-06T07:08:09.123Z"
    assert doc.findtext(f"{UWS}destruction") == "2024-05-13T07:08:09.123Z"
    assert doc.findtext(f"{UWS}executionDuration") == "600"


def test_times_are_written_in_utc_whatever_zone_they_come_in() -> None:
    tokyo = timezone(timedelta(hours=9))
    doc = element(job_document(job(creation_time=datetime(2024, 5, 6, 16, 8, 9, tzinfo=tokyo)), JOBS_URL + "/j"))
    assert doc.findtext(f"{UWS}creationTime") == "2024-05-06T07:08:09.000Z"


def test_parameters_are_listed_with_lower_case_ids_and_values_as_given() -> None:
    doc = element(job_document(job(), f"{JOBS_URL}/j-0001"))
    params = [(p.get("id"), p.text) for p in doc.iter(f"{UWS}parameter")]
    assert params == [("lang", "ADQL"), ("query", "SELECT TOP 1 * FROM ivoa.obscore WHERE a < 1 & b > 'x'")]


def test_results_link_to_the_job_with_their_size_and_type() -> None:
    doc = element(job_document(COMPLETED, f"{JOBS_URL}/j-0001"))
    (result,) = doc.iter(f"{UWS}result")
    assert result.get("id") == "result" and result.get(f"{XLINK}href") == f"{JOBS_URL}/j-0001/results/result"
    assert result.get(f"{XLINK}type") == "simple"
    assert (result.get("size"), result.get("mime-type")) == ("12345", "application/x-votable+xml")
    assert doc.findtext(f"{UWS}runId") == "my run <1>" and doc.findtext(f"{UWS}ownerId") == "anonymous"


def test_a_failed_job_has_an_error_summary_with_its_message() -> None:
    doc = element(job_document(FAILED, f"{JOBS_URL}/j-0001"))
    summary = doc.find(f"{UWS}errorSummary")
    assert summary.get("type") == "fatal" and summary.get("hasDetail") == "true"
    assert summary.findtext(f"{UWS}message") == "Unknown column 'nothing' at line 1, column 8 <&>"


def test_an_error_without_a_type_is_fatal() -> None:
    doc = element(job_document(job("ERROR", error_message="lost"), f"{JOBS_URL}/j"))
    assert doc.find(f"{UWS}errorSummary").get("type") == "fatal"


@pytest.mark.parametrize("jobs", [[], [job(), COMPLETED, FAILED]], ids=["none", "three"])
def test_job_lists_are_valid_uws_1_1(ivoa_schema: etree.XMLSchema, jobs: list[Job]) -> None:
    assert schema_errors(ivoa_schema, job_list(jobs, JOBS_URL)) == ""


def test_a_job_list_refers_to_each_job_with_its_phase_and_creation_time() -> None:
    jobs = [job(), job("EXECUTING", job_id="j-2", run_id="second")]
    doc = element(job_list(jobs, JOBS_URL))
    refs = [(r.get("id"), r.get(f"{XLINK}href"), r.findtext(f"{UWS}phase"), r.findtext(f"{UWS}runId")) for r in doc]
    assert refs == [
        ("j-0001", f"{JOBS_URL}/j-0001", "PENDING", None),
        ("j-2", f"{JOBS_URL}/j-2", "EXECUTING", "second"),
    ]
    assert all(r.findtext(f"{UWS}creationTime") == "2024-05-06T07:08:09.123Z" for r in doc)


def test_results_and_parameters_documents_are_valid_uws_1_1(ivoa_schema: etree.XMLSchema) -> None:
    results = results_document(COMPLETED, f"{JOBS_URL}/j-0001")
    parameters = parameters_document(COMPLETED)
    assert schema_errors(ivoa_schema, results) == "" and schema_errors(ivoa_schema, parameters) == ""
    assert [r.get("id") for r in element(results)] == ["result"]
    assert [p.get("id") for p in element(parameters)] == ["lang", "query", "upload", "maxrec"]


def test_every_phase_is_either_active_or_final_but_unknown() -> None:
    assert set(ACTIVE) | set(FINAL) | {"UNKNOWN"} == set(PHASES) and not set(ACTIVE) & set(FINAL)


def test_a_job_row_and_its_results_round_trip_through_their_stored_forms() -> None:
    row = {
        "job_id": "j-0001",
        "phase": "COMPLETED",
        "creation_time": CREATED,
        "execution_duration": 600,
        "destruction": CREATED,
        "parameters": [["LANG", "ADQL"], ["MAXREC", "5"], ["MAXREC", "7"]],
        "run_id": None,
        "owner_id": None,
        "start_time": None,
        "end_time": None,
        "uploads": {"t1": "upload-1.vot"},
        "results": [r.as_json() for r in COMPLETED.results],
        "error_message": None,
        "error_type": None,
        "attempts": 1,
        "backend_pid": None,
    }
    stored = Job.from_row(row)
    assert stored.results == COMPLETED.results and stored.uploads == {"t1": "upload-1.vot"}
    assert stored.parameter("maxrec") == "7" and stored.parameter("RUNID") is None
