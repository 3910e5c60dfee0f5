"""Results of any size stream with bounded memory: 5 million rows through a real download, the
server's resident memory sampled all the while."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from archive_io.tap_schema import publish_schema, publish_table, unpublish_table
from schemas.model import ColumnDef, SchemaDef, TableDef
from tests.support.archive import Archive
from tests.support.servers import RunningServer

ROWS = 5_000_000
VIEW = TableDef(
    schema="stream_test",
    name="five_million",
    description="5 million generated rows (a view: nothing stored)",
    table_type="view",
    columns=(
        ColumnDef("id", "long"),
        ColumnDef("x", "double", unit="deg"),
        ColumnDef("k", "int"),
        ColumnDef("label", "char", arraysize="*"),
    ),
)


@pytest.fixture(scope="module")
def five_million(archive: Archive) -> Iterator[str]:
    with psycopg.connect(archive.url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS stream_test")
        conn.execute(
            "CREATE OR REPLACE VIEW stream_test.five_million AS SELECT g::bigint AS id, g * 0.001 AS x, "
            f"(g % 1000)::int AS k, 'row ' || g AS label FROM generate_series(1, {ROWS}) AS g"
        )
        publish_schema(conn, SchemaDef("stream_test", "generated rows for the streaming test"))
        publish_table(conn, VIEW)
    try:
        yield VIEW.qualified_name
    finally:
        with psycopg.connect(archive.url, autocommit=True) as conn:
            unpublish_table(conn, VIEW.qualified_name)
            conn.execute("DELETE FROM tap_schema.schemas WHERE schema_name = 'stream_test'")
            conn.execute("DROP SCHEMA stream_test CASCADE")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("fmt", ["csv", "votable"])
def test_five_million_rows_stream_with_server_memory_under_300_mb(
    running_server: RunningServer, five_million: str, fmt: str
) -> None:
    pid = running_server.process.pid
    peak = [_rss_mb(pid)]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak.append(_rss_mb(pid))

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
    assert max(peak) < 300, f"server RSS peaked at {max(peak):.0f} MB"


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
