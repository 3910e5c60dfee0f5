"""Harvesting another registry's records (OAI-PMH, ``ivo_vor``) into this archive's relational
registry, so that pyvo.regsearch here finds other publishers' resources too.

* Incremental: the next harvest of a source asks ``from=`` the source's own responseDate at the
  start of the last complete harvest (its clock, not ours).
* Deleted records (header ``status="deleted"``) are removed; this archive's own records are never
  replaced or removed by a harvest.
* Resumable: each page is loaded in its own transaction together with the resumption token
  that follows it, so an interrupted harvest (network, a killed process) goes on from the next
  page when run again.
* A record that is not valid VOResource is skipped with a message naming it; the rest go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
from lxml import etree
from tqdm import tqdm

from dalserver.records.regtap import RecordError, delete_record, record_digest, rows_of, write_record
from dalserver.records.validation import RecordValidator
from ivoa.vocabulary import Namespace

OAI = Namespace.OAI
RI = Namespace.RI
NS = {"o": OAI}
TIMEOUT = 120.0  # seconds for one page of records


class HarvestError(RuntimeError):
    """The harvest could not go on; what was loaded so far stays, and a new run resumes."""


@dataclass
class HarvestReport:
    source: str
    loaded: int = 0
    deleted: int = 0
    skipped: list[str] = field(default_factory=list)
    pages: int = 0
    resumed: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class _State:
    harvested_until: datetime | None
    resume_token: str | None
    resume_started: datetime | None


def _read_state(conn: psycopg.Connection, source: str) -> _State:
    row = conn.execute(
        "SELECT harvested_until, resume_token, resume_started FROM registry.harvest WHERE source = %s", (source,)
    ).fetchone()
    conn.commit()
    return _State(*row) if row else _State(None, None, None)


def _save_state(
    cur: psycopg.Cursor[tuple[Any, ...]],
    source: str,
    *,
    token: str | None,
    started: datetime | None,
    until: datetime | None = None,
    report: HarvestReport | None = None,
) -> None:
    cur.execute(
        "INSERT INTO registry.harvest (source, harvested_until, resume_token, resume_started, records, skipped, updated) "
        "VALUES (%s, %s, %s, %s, %s, %s, now()) ON CONFLICT (source) DO UPDATE SET "
        "harvested_until = COALESCE(EXCLUDED.harvested_until, registry.harvest.harvested_until), "
        "resume_token = EXCLUDED.resume_token, resume_started = EXCLUDED.resume_started, "
        "records = COALESCE(EXCLUDED.records, registry.harvest.records), "
        "skipped = COALESCE(EXCLUDED.skipped, registry.harvest.skipped), updated = now()",
        (
            source,
            until,
            token,
            started,
            report.loaded if report else None,
            len(report.skipped) if report else None,
        ),
    )


def _stamp(text: str | None) -> datetime:
    value = (text or "").strip()
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise HarvestError(f"the source sent the date {value!r}, which is not an OAI-PMH UTC date")


def _fetch(client: httpx.Client, source: str, params: dict[str, str]) -> etree._Element:
    try:
        response = client.get(source, params=params, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise HarvestError(f"{source} could not be reached ({exc}); run the harvest again to resume") from None
    if response.status_code != 200:
        raise HarvestError(f"{source} answered HTTP {response.status_code}; run the harvest again to resume")
    try:
        return etree.fromstring(response.content)
    except etree.XMLSyntaxError as exc:
        raise HarvestError(f"{source} sent a page that is not XML ({exc}); run the harvest again to resume") from None


def harvest(
    database_url: str,
    source: str,
    *,
    full: bool = False,
    progress: bool = True,
    warn: Callable[[str], None] | None = None,
    client: httpx.Client | None = None,
    validator: RecordValidator | None = None,
) -> HarvestReport:
    """Harvest ``source`` (an OAI-PMH base URL) into rr; ``full`` ignores the last harvest's date."""
    started_clock = time.monotonic()
    report = HarvestReport(source)
    validator = validator or RecordValidator()
    own_client = client is None
    http = client or httpx.Client(follow_redirects=True)
    try:
        with psycopg.connect(database_url) as conn:
            state = _read_state(conn, source)
            if state.resume_token and not full:
                params = {"verb": "ListRecords", "resumptionToken": state.resume_token}
                started = state.resume_started
                report.resumed = True
            else:
                params = {"verb": "ListRecords", "metadataPrefix": "ivo_vor"}
                if state.harvested_until and not full:
                    params["from"] = state.harvested_until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                started = None
            bar = tqdm(desc=f"harvesting {source}", unit="record", disable=not progress)
            try:
                while True:
                    page = _fetch(http, source, params)
                    response_date = _stamp(page.findtext("o:responseDate", namespaces=NS))
                    started = started or response_date
                    error = page.find("o:error", NS)
                    if error is not None:
                        if error.get("code") == "noRecordsMatch":
                            with conn.transaction(), conn.cursor() as cur:
                                _save_state(cur, source, token=None, started=None, until=started, report=report)
                            break
                        if error.get("code") == "badResumptionToken" and report.resumed:
                            raise HarvestError(
                                f"{source} no longer accepts the resumption token of the interrupted harvest; "
                                "run with --full to harvest everything again"
                            )
                        raise HarvestError(
                            f"{source} refused the harvest: {error.get('code')}: {(error.text or '').strip()}"
                        )
                    listing = page.find("o:ListRecords", NS)
                    if listing is None:
                        raise HarvestError(f"{source} did not answer ListRecords with records")
                    token_element = listing.find("o:resumptionToken", NS)
                    token = (token_element.text or "").strip() if token_element is not None else ""
                    size = token_element.get("completeListSize") if token_element is not None else None
                    if token_element is not None and size and bar.total is None:
                        bar.total = int(size) - int(token_element.get("cursor") or 0)
                    with conn.transaction(), conn.cursor() as cur:
                        for record in listing.iterfind("o:record", NS):
                            _load(cur, record, source, validator, report, warn)
                            bar.update(1)
                        if token:
                            _save_state(cur, source, token=token, started=started)
                        else:
                            _save_state(cur, source, token=None, started=None, until=started, report=report)
                    report.pages += 1
                    if not token:
                        break
                    params = {"verb": "ListRecords", "resumptionToken": token}
            finally:
                bar.close()
    finally:
        if own_client:
            http.close()
    report.seconds = time.monotonic() - started_clock
    return report


def _load(
    cur: psycopg.Cursor[tuple[Any, ...]],
    record: etree._Element,
    source: str,
    validator: RecordValidator,
    report: HarvestReport,
    warn: Callable[[str], None] | None,
) -> None:
    header = record.find("o:header", NS)
    identifier = (header.findtext("o:identifier", namespaces=NS) or "").strip() if header is not None else ""

    def skip(why: str) -> None:
        message = f"skipped {identifier or 'a record without identifier'} from {source}: {why}"
        report.skipped.append(message)
        if warn:
            warn(message)

    if header is None or not identifier:
        skip("its OAI-PMH header has no identifier")
        return
    if header.get("status") == "deleted":
        owner = cur.execute("SELECT origin FROM registry.rr_origin WHERE ivoid = %s", (identifier.lower(),)).fetchone()
        if owner is not None and owner[0] != "local":
            delete_record(cur, identifier)
            report.deleted += 1
        return
    resource = record.find(f"o:metadata/{{{RI}}}Resource", NS)
    if resource is None:
        skip("it carries no ri:Resource (not ivo_vor metadata)")
        return
    problems = validator.problems(resource)
    if problems:
        skip(f"not valid VOResource ({problems})")
        return
    if (resource.get("status") or "active") != "active":
        owner = cur.execute("SELECT origin FROM registry.rr_origin WHERE ivoid = %s", (identifier.lower(),)).fetchone()
        if owner is not None and owner[0] != "local":
            delete_record(cur, identifier)
            report.deleted += 1
        return
    datestamp = _stamp(header.findtext("o:datestamp", namespaces=NS))
    try:
        write_record(cur, rows_of(resource), source, datestamp, record_digest(resource))
    except RecordError as exc:
        skip(str(exc))
        return
    report.loaded += 1
