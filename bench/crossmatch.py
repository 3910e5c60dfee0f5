"""Cross-match an uploaded list of positions against a published catalogue, through TAP UPLOAD.

Usage: .venv/bin/python bench/crossmatch.py [--rows 1000000] [--upload 10000] [--repeat 5]
Publishes a catalogue of N rows over the whole sky with its position index (the real ingest
command) and starts a real server. The upload is M positions, each 1 arcsec from a catalogue
star, as a BINARY2 VOTable. The match (2 arcsec) runs four ways, each repeated and the median kept:

  direct     the same SQL straight on PostgreSQL: hand the positions to the session as arrays
             (set_config, as the server does), run the translated query, fetch all rows (the floor)
  sync       POST /tap/sync with UPLOAD=mine,param:mine (multipart), result as BINARY2
  async      the same as a UWS job: create with PHASE=RUN, blocking WAIT, fetch the result
Prints wall times, rows matched, and each service path as a ratio to the direct one.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import httpx
import numpy as np
import psycopg
from astropy.io.votable import from_table
from astropy.table import Table
from common import bench_database, load_catalog, publish_catalogue, server_env, serving

from adql import to_postgres
from dalserver.settings import Settings
from dalserver.tap.upload import UploadTable, array_text, read_upload
from pgsql_text.session import SPHERE_OUTPUT_DEGREES

ADQL = (
    "SELECT u.up_id, s.source_id, s.mag_g FROM TAP_UPLOAD.mine AS u JOIN bench.xmatch AS s "
    "ON CONTAINS(POINT('ICRS', s.ra, s.dec), CIRCLE('ICRS', u.ra, u.dec, 2/3600.0)) = 1"
)

# The same request for /tap/sync and for creating a job.
FORM = {"LANG": "ADQL", "QUERY": ADQL, "UPLOAD": "mine,param:mine", "RESPONSEFORMAT": "votable/b2", "MAXREC": "1000000"}


def upload_table(url: str, count: int) -> Table:
    """``count`` positions 1 arcsec east of random catalogue stars."""
    with psycopg.connect(url) as conn:
        picked = conn.execute(
            "SELECT ra, dec FROM bench.xmatch WHERE abs(dec) < 80 ORDER BY source_id LIMIT %s", (count,)
        ).fetchall()
    ra = np.array([p[0] for p in picked])
    dec = np.array([p[1] for p in picked])
    table = Table()
    table["up_id"] = np.arange(len(picked), dtype=np.int64)
    table["ra"] = ra + (1 / 3600) / np.cos(np.radians(dec))
    table["dec"] = dec
    return table


def votable_bytes(table: Table) -> bytes:
    buffer = io.BytesIO()
    from_table(table).to_xml(buffer, tabledata_format="binary2")
    return buffer.getvalue()


def direct(url: str, sql: str, upload: UploadTable) -> tuple[float, int]:
    start = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute(SPHERE_OUTPUT_DEGREES)
        for index in range(len(upload.columns)):
            value = array_text(upload.data.column(index))
            conn.execute("SELECT set_config(%s, %s, false)", (upload.setting(index), value))
        found = len(conn.execute(sql).fetchall())
        conn.rollback()
    return time.perf_counter() - start, found


def sync(client: httpx.Client, base: str, body: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    response = client.post(
        f"{base}/tap/sync",
        data=FORM,
        files={"mine": ("mine.vot", body)},
    )
    response.raise_for_status()
    elapsed = time.perf_counter() - start
    return elapsed, len(Table.read(io.BytesIO(response.content), format="votable"))


def asynchronous(client: httpx.Client, base: str, body: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    created = client.post(
        f"{base}/tap/async",
        data={**FORM, "PHASE": "RUN"},
        files={"mine": ("mine.vot", body)},
        follow_redirects=False,
    )
    job = created.headers["location"]
    while client.get(f"{job}/phase").text not in ("COMPLETED", "ERROR", "ABORTED"):
        client.get(job, params={"WAIT": "30"})
    result = client.get(f"{job}/results/result")
    result.raise_for_status()
    elapsed = time.perf_counter() - start
    client.delete(job)
    return elapsed, len(Table.read(io.BytesIO(result.content), format="votable"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--upload", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = bench_database()
    env, base = server_env(url)
    print(f"publishing {args.rows:,} rows ...", flush=True)
    publish_catalogue(env, args.rows, "bench.xmatch")
    mine = upload_table(url, args.upload)
    body = votable_bytes(mine)
    path = Settings().home.absolute() / "bench-upload.vot"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    upload = read_upload("mine", path, Settings())
    path.unlink()
    sql = to_postgres(ADQL, load_catalog(url).with_tables([upload.meta()]), row_limit=1_000_001).sql
    with serving(env, base, url):
        timings: dict[str, list[float]] = {"direct": [], "sync": [], "async": []}
        counts: dict[str, int] = {}
        with httpx.Client(timeout=600) as client:
            sync(client, base, body)  # warm caches on both paths
            direct(url, sql, upload)
            for _ in range(args.repeat):
                for name, run in (
                    ("direct", lambda: direct(url, sql, upload)),
                    ("sync", lambda: sync(client, base, body)),
                    ("async", lambda: asynchronous(client, base, body)),
                ):
                    elapsed, found = run()
                    timings[name].append(elapsed)
                    counts[name] = found
        floor = statistics.median(timings["direct"])
        print(f"\n{args.upload:,} uploaded positions x {args.rows:,} catalogue rows, 2 arcsec, median of {args.repeat}")
        print(f"{'path':8} {'wall s':>8} {'rows':>8} {'x direct':>9}")
        for name, samples in timings.items():
            median = statistics.median(samples)
            print(f"{name:8} {median:8.3f} {counts[name]:8,} {median / floor:9.2f}")


if __name__ == "__main__":
    main()
