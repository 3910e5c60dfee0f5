"""Results of any size stream with bounded memory: 5 million rows through a real download, the
server's resident memory sampled all the while."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.support.archive import Archive
from tests.support.generated import ROWS
from tests.support.servers import RunningServer, resident_mb, start_server_on_free_port, stop_server


@pytest.fixture
def fresh_server(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A worker that has answered nothing else, for each format: the session's server has loaded
    the libraries of SODA cutouts, previews and coverage maps by now (tens of MB each, loaded on
    first use), which a worker that streams tables never needs, and the growth over idle is
    measured from a worker's idle, not from what an earlier download left behind."""
    # It runs no async jobs: the session's archive has a queue other tests' servers left jobs in
    # (handed back at a stop, or orphaned by a kill), which a new worker would otherwise take up.
    log = tmp_path_factory.mktemp("fresh") / "server.log"
    server = start_server_on_free_port(archive.env, log, {"DALSERVER_ASYNC_WORKERS": "0"})
    try:
        yield server
    finally:
        stop_server(server)


@pytest.mark.parametrize("fmt", ["csv", "votable"])
def test_five_million_rows_stream_within_200_mb_and_50_mb_over_idle(
    fresh_server: RunningServer, five_million: str, fmt: str
) -> None:
    running_server = fresh_server
    pid = running_server.process.pid
    idle = resident_mb(pid)
    peak = [idle]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak.append(resident_mb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines = records = 0
    tail = b""
    params = {"LANG": "ADQL", "QUERY": f"SELECT * FROM {five_million}", "MAXREC": str(ROWS), "RESPONSEFORMAT": fmt}
    # CSV goes gzip'ed (httpx asks for it, and decodes): compression must stream in bounded
    # memory too. TABLEDATA goes as it is, as to a client that does not ask.
    encoding = "gzip" if fmt == "csv" else "identity"
    try:
        with httpx.stream(
            "POST", f"{running_server.base}/tap/sync", data=params, headers={"Accept-Encoding": encoding}, timeout=300
        ) as response:
            assert response.status_code == 200
            assert response.headers.get("content-encoding", "identity") == encoding
            for block in response.iter_bytes(1 << 20):
                lines += block.count(b"\n")
                records += (tail[-4:] + block).count(b"</TR>")  # 4 bytes cannot hold a whole </TR>
                tail = (tail + block)[-400:]
    finally:
        done.set()
        sampler.join()
    if fmt == "csv":
        assert lines == ROWS + 1  # the header, then every row
        assert tail.endswith(b'5000000,5000,0,"row 5000000"\r\n')
    else:
        assert records == ROWS
        assert b"<TR><TD>5000000</TD><TD>5000</TD><TD>0</TD><TD>row 5000000</TD></TR>" in tail
        assert b'value="OK"' not in tail  # the status was OK at the start; no OVERFLOW after the table
    assert max(peak) <= 200 and max(peak) - idle <= 50, f"server RSS {idle:.0f} MB idle, peaked at {max(peak):.0f} MB"


def _active_queries_on(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE %s",
        (f"%{table.split('.')[-1]}%",),
    ).fetchone()[0]


def test_a_client_that_hangs_up_mid_stream_stops_the_database_query(
    running_server: RunningServer, five_million: str, archive: Archive
) -> None:
    params = {"LANG": "ADQL", "QUERY": f"SELECT * FROM {five_million}", "MAXREC": str(ROWS), "RESPONSEFORMAT": "csv"}
    with psycopg.connect(archive.url, autocommit=True) as conn:
        with httpx.stream("POST", f"{running_server.base}/tap/sync", data=params, timeout=60) as response:
            next(response.iter_raw(1 << 16))  # the rows have started
            assert _active_queries_on(conn, five_million) == 1
        # hung up
        deadline = time.monotonic() + 10
        while (running := _active_queries_on(conn, five_million)) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert running == 0, "the query kept running after the client went away"
