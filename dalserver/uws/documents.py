"""UWS 1.1 XML documents (job, job list, results, parameters), built with lxml in the element
order the UWS 1.1 schema prescribes."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from dalserver.uws.jobs import ABORTED, ERROR, Job
from ivoa.vocabulary import Namespace

UWS = Namespace.UWS
XLINK = Namespace.XLINK
XSI = Namespace.XSI
NSMAP = {"uws": UWS, "xlink": XLINK, "xsi": XSI}
MEDIA_TYPE = "text/xml"


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _el(parent: etree._Element, name: str, text: str | None = None, nil: bool = False) -> etree._Element:
    element = etree.SubElement(parent, f"{{{UWS}}}{name}")
    if nil:
        element.set(f"{{{XSI}}}nil", "true")
    elif text is not None:
        element.text = text
    return element


def _time(parent: etree._Element, name: str, when: datetime | None) -> None:
    _el(parent, name, iso(when) if when else None, nil=when is None)


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _root(name: str) -> etree._Element:
    root = etree.Element(f"{{{UWS}}}{name}", nsmap=NSMAP)
    root.set("version", "1.1")
    return root


def _fill_parameters(params: etree._Element, job: Job) -> None:
    for name, value in job.parameters:
        _el(params, "parameter", value).set("id", name.lower())


def _fill_results(results: etree._Element, job: Job, job_url: str) -> None:
    for result in job.results:
        ref = _el(results, "result")
        ref.set("id", result.id)
        ref.set(f"{{{XLINK}}}type", "simple")
        ref.set(f"{{{XLINK}}}href", f"{job_url}/results/{result.id}")
        ref.set("size", str(result.size))
        ref.set("mime-type", result.mime)


def job_document(job: Job, job_url: str) -> bytes:
    root = _root("job")
    _el(root, "jobId", job.job_id)
    if job.run_id is not None:
        _el(root, "runId", job.run_id)
    _el(root, "ownerId", job.owner_id, nil=job.owner_id is None)
    _el(root, "phase", job.phase)
    _el(root, "quote", nil=True)  # no estimate is offered
    _time(root, "creationTime", job.creation_time)
    _time(root, "startTime", job.start_time)
    _time(root, "endTime", job.end_time)
    _el(root, "executionDuration", str(job.execution_duration))
    _time(root, "destruction", job.destruction)
    _fill_parameters(_el(root, "parameters"), job)
    _fill_results(_el(root, "results"), job, job_url)
    # UWS 1.1 (sec. 2.2.3.4) allows an error summary in ABORTED too: who stopped the job, and when.
    if job.phase in (ERROR, ABORTED) and job.error_message:
        summary = _el(root, "errorSummary")
        summary.set("type", job.error_type or "fatal")
        summary.set("hasDetail", "true")  # the error VOTable at /error
        _el(summary, "message", job.error_message)
    return _serialise(root)


def job_list(jobs: list[Job], jobs_url: str) -> bytes:
    root = _root("jobs")
    for job in jobs:
        ref = _el(root, "jobref")
        ref.set("id", job.job_id)
        ref.set(f"{{{XLINK}}}type", "simple")
        ref.set(f"{{{XLINK}}}href", f"{jobs_url}/{job.job_id}")
        _el(ref, "phase", job.phase)
        if job.run_id is not None:
            _el(ref, "runId", job.run_id)
        _el(ref, "ownerId", job.owner_id, nil=job.owner_id is None)
        _time(ref, "creationTime", job.creation_time)
    return _serialise(root)


def results_document(job: Job, job_url: str) -> bytes:
    root = etree.Element(f"{{{UWS}}}results", nsmap=NSMAP)
    _fill_results(root, job, job_url)
    return _serialise(root)


def parameters_document(job: Job) -> bytes:
    root = etree.Element(f"{{{UWS}}}parameters", nsmap=NSMAP)
    _fill_parameters(root, job)
    return _serialise(root)
