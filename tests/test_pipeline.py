"""One pipeline, one behaviour: MAXREC and OVERFLOW, statement timeouts, cancellation and a failure
after the first byte are the same through TAP sync, TAP async and SIA.

The servers here use a database of their own: 60,000 small ObsCore footprints (enough rows that
an answer cannot sit in the socket buffers while its reader pauses) and a published view of
generated rows whose 40,000th row divides by zero.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psycopg
import pytest

from archive_io.tap_schema import publish_schema, publish_table
from dalserver.db.bootstrap import bootstrap
from schemas.model import ColumnDef, SchemaDef, TableDef
from tests.support.archive import Archive, fresh_database
from tests.support.servers import RunningServer, start_server_on_free_port, stop_server
from tests.support.uws import submit, wait_for_phase
from tests.support.votable import query_status, rows
from tests.support.waiting import eventually

FOOTPRINTS = 60_000
GENERATED = TableDef(
    schema="pipeline_test",
    name="generated",
    description="generated rows: a view, in generate_series order",
    table_type="view",
    columns=(ColumnDef("id", "long"), ColumnDef("label", "char", arraysize="*")),
)
ALL_OF_THEM = "RANGE 0 360 -90 90"  # an SIA POS matching every footprint
# The fetch batch is small, so that a failure at row 40,000 comes long after the first bytes.
BATCH_BYTES = "16384"


@dataclass
class PipelineArchive:
    url: str
    quick: RunningServer  # statement timeout 2 s
    patient: RunningServer  # statement timeout 120 s


def _fill(url: str) -> None:
    bootstrap(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE ivoa.obscore")
        conn.execute(
            "INSERT INTO ivoa.obscore (dataproduct_type, calib_level, obs_collection, obs_id, obs_publisher_did, "
            "s_ra, s_dec, s_region, em_min, em_max, obs_release_date) "  # released: a NULL date is proprietary
            "SELECT 'image', 2, 'pipeline', 'p' || g, 'ivo://pipeline.test/p?' || g, ra, dec, "
            "CAST('{(' || ra - 0.01 || 'd,' || dec - 0.01 || 'd),(' || ra + 0.01 || 'd,' || dec - 0.01 || 'd),('"
            " || ra + 0.01 || 'd,' || dec + 0.01 || 'd),(' || ra - 0.01 || 'd,' || dec + 0.01 || 'd)}' AS spoly), "
            "5e-7, 6e-7, TIMESTAMPTZ '2020-01-01' "
            f"FROM (SELECT g, 10 + (g % 300) * 0.05 AS ra, -20 + (g / 300) * 0.05 AS dec "
            f"FROM generate_series(1, {FOOTPRINTS}) AS g) AS s"
        )
        conn.execute("ANALYZE ivoa.obscore")
        conn.execute("CREATE SCHEMA IF NOT EXISTS pipeline_test")
        conn.execute(
            "CREATE OR REPLACE VIEW pipeline_test.generated AS "
            "SELECT g::bigint AS id, 'row ' || g AS label FROM generate_series(1, 100000) AS g"
        )
        publish_schema(conn, SchemaDef("pipeline_test", "generated rows for the pipeline tests"))
        publish_table(conn, GENERATED)


@pytest.fixture(scope="module")
def pipeline(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineArchive]:
    name = "dalserver_pipeline_test"
    url = fresh_database(archive, name)  # no other test server claims its jobs
    _fill(url)
    home = tmp_path_factory.mktemp("pipeline")
    env = {
        **archive.env,
        "DALSERVER_DATABASE_URL": url,
        "DALSERVER_JOBS_DIR": str(home / "jobs"),
        "DALSERVER_FETCH_BATCH_BYTES": BATCH_BYTES,
    }
    # The quick server's spool takes 1 MiB at most: a reader that pauses then holds the query up
    # (the default 2 GiB would let a fast query finish whatever its reader does).
    quick_settings = {
        "DALSERVER_STATEMENT_TIMEOUT_SECONDS": "2",
        "DALSERVER_SPOOL_MEMORY_BYTES": str(256 << 10),
        "DALSERVER_SPOOL_MAX_BYTES": str(1 << 20),
    }
    quick = start_server_on_free_port(env, home / "quick.log", quick_settings)
    patient = start_server_on_free_port(env, home / "patient.log", {"DALSERVER_STATEMENT_TIMEOUT_SECONDS": "120"})
    try:
        yield PipelineArchive(url, quick, patient)
    finally:
        stop_server(quick)
        stop_server(patient)


def _tap(server: RunningServer, query: str, **params: str) -> httpx.Response:
    return httpx.post(f"{server.base}/tap/sync", data={"LANG": "ADQL", "QUERY": query, **params}, timeout=60)


def _sia(server: RunningServer, **params: str) -> httpx.Response:
    return httpx.get(f"{server.base}/sia/query", params=params, timeout=60)


def _async(server: RunningServer, query: str, **params: str) -> tuple[str, str]:
    """Run a job to its end: (phase, job URL)."""
    job = submit(f"{server.base}/tap", query, run=True, **params)
    return wait_for_phase(job, ("COMPLETED", "ERROR", "ABORTED"), timeout=60), job


def _infos(body: bytes) -> list[tuple[str, str]]:
    from lxml import etree

    root = etree.fromstring(body)
    ns = {"v": "http://www.ivoa.net/xml/VOTable/v1.3"}
    return [
        (i.get("value"), (i.text or "").strip())
        for i in root.iterfind(".//v:RESOURCE/v:INFO[@name='QUERY_STATUS']", ns)
    ]


# --- MAXREC and OVERFLOW --------------------------------------------------------------------------
def test_tap_sync_cuts_at_maxrec_and_says_overflow(pipeline: PipelineArchive) -> None:
    response = _tap(pipeline.patient, "SELECT obs_id FROM ivoa.obscore", MAXREC="7")
    assert len(rows(response)) == 7 and ("OVERFLOW", "") in _infos(response.content)


def test_tap_async_cuts_at_maxrec_and_says_overflow(pipeline: PipelineArchive) -> None:
    phase, job = _async(pipeline.patient, "SELECT obs_id FROM ivoa.obscore", MAXREC="7")
    result = httpx.get(f"{job}/results/result")
    assert phase == "COMPLETED" and len(rows(result)) == 7 and ("OVERFLOW", "") in _infos(result.content)


def test_sia_cuts_at_maxrec_and_says_overflow(pipeline: PipelineArchive) -> None:
    response = _sia(pipeline.patient, POS=ALL_OF_THEM, MAXREC="7")
    assert len(rows(response)) == 7 and ("OVERFLOW", "") in _infos(response.content)


@pytest.mark.parametrize("how", ["sync", "async", "sia"])
def test_an_exact_fit_at_maxrec_is_not_an_overflow(pipeline: PipelineArchive, how: str) -> None:
    did = "ivo://pipeline.test/p?17"
    if how == "sia":
        body = _sia(pipeline.patient, ID=did, MAXREC="1").content
    elif how == "sync":
        body = _tap(
            pipeline.patient, f"SELECT obs_id FROM ivoa.obscore WHERE obs_publisher_did = '{did}'", MAXREC="1"
        ).content
    else:
        _, job = _async(
            pipeline.patient, f"SELECT obs_id FROM ivoa.obscore WHERE obs_publisher_did = '{did}'", MAXREC="1"
        )
        body = httpx.get(f"{job}/results/result").content
    assert len(rows(httpx.Response(200, content=body))) == 1 and "OVERFLOW" not in [v for v, _ in _infos(body)]


# --- statement timeouts -----------------------------------------------------------------------------
@pytest.fixture
def obscore_locked(pipeline: PipelineArchive) -> Iterator[None]:
    """ivoa.obscore locked against reading: every query on it waits until its timeout (or cancel)."""
    conn = psycopg.connect(pipeline.url)
    conn.execute("LOCK TABLE ivoa.obscore IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def test_tap_sync_timeout_is_an_error_document(pipeline: PipelineArchive, obscore_locked: None) -> None:
    response = _tap(pipeline.quick, "SELECT obs_id FROM ivoa.obscore")
    status, message = query_status(response)
    assert response.status_code == 400 and status == "ERROR" and "ran longer than the service's time limit" in message


def test_tap_async_timeout_ends_the_job_in_error(pipeline: PipelineArchive, obscore_locked: None) -> None:
    phase, job = _async(pipeline.patient, "SELECT obs_id FROM ivoa.obscore", EXECUTIONDURATION="2")
    assert phase == "ERROR" and "execution duration (2 s)" in query_status(httpx.get(f"{job}/error"))[1]


def test_sia_timeout_is_an_error_document(pipeline: PipelineArchive, obscore_locked: None) -> None:
    response = _sia(pipeline.quick, POS="CIRCLE 12 -19 0.1")
    status, message = query_status(response)
    assert response.status_code == 400 and status == "ERROR"
    assert message.startswith("UsageFault: ") and "ran longer than the service's time limit" in message


# --- cancellation -----------------------------------------------------------------------------------
def _waiting_queries(url: str) -> int:
    """Users' queries of the servers that are waiting for the lock."""
    with psycopg.connect(url) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dalserver-query' "
            "AND state = 'active' AND wait_event_type = 'Lock'"
        ).fetchone()
    return int(count)


def _ask_and_leave(url: str, params: dict[str, str]) -> None:
    """Send a request and go away after a second, before any answer."""
    with contextlib.suppress(httpx.TimeoutException):
        httpx.get(url, params=params, timeout=1)


@pytest.mark.parametrize("how", ["sync", "sia"])
def test_a_client_that_leaves_cancels_its_query(pipeline: PipelineArchive, obscore_locked: None, how: str) -> None:
    base = pipeline.patient.base
    if how == "sync":
        url, params = f"{base}/tap/sync", {"LANG": "ADQL", "QUERY": "SELECT obs_id FROM ivoa.obscore"}
    else:
        url, params = f"{base}/sia/query", {"POS": "CIRCLE 12 -19 0.1"}
    client = threading.Thread(target=_ask_and_leave, args=(url, params))
    client.start()
    assert eventually(lambda: _waiting_queries(pipeline.url) == 1), "the query never started"
    client.join()
    # The server's timeout is two minutes: only the cancel ends the query this soon.
    assert eventually(lambda: _waiting_queries(pipeline.url) == 0, 5), "the query ran on after its client left"


def test_abort_cancels_an_async_query(pipeline: PipelineArchive, obscore_locked: None) -> None:
    job = submit(f"{pipeline.patient.base}/tap", "SELECT obs_id FROM ivoa.obscore")
    assert eventually(lambda: _waiting_queries(pipeline.url) == 1), "the job's query never started"
    httpx.post(f"{job}/phase", data={"PHASE": "ABORT"})
    assert eventually(lambda: _waiting_queries(pipeline.url) == 0, 5), "the job's query ran on after ABORT"
    assert httpx.get(f"{job}/phase").text == "ABORTED"


# --- a failure after the first byte -----------------------------------------------------------------
LATE_ZERO = "SELECT id, 1 / (id - 40000) AS x FROM pipeline_test.generated"


def test_tap_sync_failure_after_the_first_byte_ends_the_document_with_an_error(pipeline: PipelineArchive) -> None:
    response = _tap(pipeline.patient, LATE_ZERO, MAXREC="100000")
    assert response.status_code == 200  # the status line was gone when the failure came
    infos = _infos(response.content)
    assert infos[-1][0] == "ERROR" and "division by zero" in infos[-1][1], infos
    assert 0 < len(rows(response)) < 40000


def test_tap_async_failure_after_the_first_byte_ends_the_job_in_error(pipeline: PipelineArchive) -> None:
    phase, job = _async(pipeline.patient, LATE_ZERO, MAXREC="100000")
    assert phase == "ERROR" and "division by zero" in query_status(httpx.get(f"{job}/error"))[1]
    assert httpx.get(f"{job}/results").text.count("uws:result ") == 0  # no partial result is offered


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_tap_sync_csv_and_tsv_failing_after_the_first_byte_are_cut_off_not_ended(
    pipeline: PipelineArchive, fmt: str
) -> None:
    # Neither has a place for ERROR: the response must break off, or the rows would pass for all of them.
    received = bytearray()
    params = {"LANG": "ADQL", "QUERY": LATE_ZERO, "MAXREC": "100000", "RESPONSEFORMAT": fmt}
    with (
        pytest.raises(httpx.RemoteProtocolError, match="incomplete"),
        httpx.stream("POST", f"{pipeline.patient.base}/tap/sync", data=params, timeout=60) as response,
    ):
        assert response.status_code == 200
        for chunk in response.iter_bytes():
            received += chunk
    lines = received.decode().splitlines()
    assert lines[0].replace("\t", ",") == "id,x" and 1 < len(lines) < 40000


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_tap_async_csv_and_tsv_failing_after_the_first_byte_end_the_job_in_error(
    pipeline: PipelineArchive, fmt: str
) -> None:
    phase, job = _async(pipeline.patient, LATE_ZERO, MAXREC="100000", RESPONSEFORMAT=fmt)
    assert phase == "ERROR" and "division by zero" in query_status(httpx.get(f"{job}/error"))[1]
    assert httpx.get(f"{job}/results").text.count("uws:result ") == 0


def test_sia_failure_after_the_first_byte_ends_the_document_with_an_error(pipeline: PipelineArchive) -> None:
    # The reader pauses longer than the statement timeout after the first bytes, and the quick
    # server's spool is full long before: the database cancels the query while the answer is on
    # its way, and the document has to say so. The answer (23 MB) must not fit in the buffers
    # between the server and the paused reader, or a fast server finishes within the time limit
    # whatever its reader does: it goes uncompressed (gzip made it small enough), and the reader's
    # socket takes 64 KiB (Linux grows a loopback receive buffer up to net.ipv4.tcp_rmem's
    # maximum, 32 MB on some machines).
    small_window = httpx.HTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)])
    with (
        httpx.Client(transport=small_window, timeout=60, headers={"Accept-Encoding": "identity"}) as client,
        client.stream(
            "GET", f"{pipeline.quick.base}/sia/query", params={"POS": ALL_OF_THEM, "MAXREC": "100000"}
        ) as response,
    ):
        assert response.status_code == 200
        chunks = response.iter_bytes()
        body = next(chunks)
        time.sleep(4)
        body += b"".join(chunks)
    infos = _infos(body)
    assert infos[-1][0] == "ERROR" and "ran longer than the service's time limit" in infos[-1][1], infos
