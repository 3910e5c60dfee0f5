"""Registry and cone search latency.

Usage: .venv/bin/python bench/registry.py [--rows 1000000] [--queries 500] [--searches 30]

1. Simple Cone Search: publishes a catalogue of N rows (the real ingest command, position index),
   starts a real server, and runs the same random cones of 0.25 degree (about 5 rows each) two
   ways: the SQL /scs runs, on one psycopg connection (the floor), and GET /scs/bench.scs with a
   keep-alive client. Prints p50/p95 of both and the ratio at p50.
2. Registry search: ingests the Suprime-Cam sample into the bench archive and times the seed
   example, ``pyvo.regsearch(keywords=['Suprime-Cam'], servicetype='tap')`` against the server's
   RegTAP (pyvo reads the capabilities and tables it needs on every search, as users see it),
   and the registry query alone through /tap/sync.

The server runs one worker process (DALSERVER_WORKERS=1), as bench/latency.py's numbers were taken.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pyvo
from common import bench_database, load_catalog, paired_latencies, percentiles, publish_catalogue, server_env, serving
from pyvo.registry import regtap, rtcons

from dalserver.scs.query import Cone, ConeTable, prepare_cone

TABLE = "bench.scs"


def _ingest_sample(env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as home:
        sample = Path(home) / "archive" / "suprimecam"
        run_env = {**env, "DALSERVER_HOME": home}
        for command in (["sample", str(sample)], ["ingest", "images", "--quiet", str(sample)]):
            subprocess.run(
                [sys.executable, "-m", "dalserver", *command], env=run_env, check=True, stdout=subprocess.DEVNULL
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--searches", type=int, default=30)
    args = parser.parse_args()
    url = bench_database()
    # One server process: with several (dalserver serve's default, one per core) every request on
    # this machine took about 50 ms more, whatever the endpoint (see the report of issue #12).
    env, base = server_env(url, DALSERVER_WORKERS="1")
    publish_catalogue(env, args.rows, TABLE)
    _ingest_sample(env)
    rng = random.Random(5)
    cones = [(rng.uniform(0, 360), rng.uniform(-60, 60)) for _ in range(args.queries)]
    table = ConeTable(TABLE, "ra", "dec", "source_id", ("ra", "dec"), ())
    catalog = load_catalog(url)
    sqls = [prepare_cone(table, Cone(ra, dec, 0.25, 2, 10_000), catalog).sql for ra, dec in cones]
    with serving(env, base, url):
        timings = paired_latencies(
            url,
            [
                (
                    sql,
                    lambda client, ra=ra, dec=dec: client.get(
                        f"{base}/scs/{TABLE}", params={"RA": ra, "DEC": dec, "SR": 0.25}
                    ),
                )
                for (ra, dec), sql in zip(cones, sqls, strict=True)
            ],
        )
        regtap.REGISTRY_BASEURL = f"{base}/tap"
        searches, found = [], set()
        for _ in range(args.searches + 3):
            start = time.perf_counter()
            found = {r.ivoid for r in pyvo.regsearch(keywords=["Suprime-Cam"], servicetype="tap")}
            searches.append((time.perf_counter() - start) * 1000)
        searches = searches[3:]
        service = pyvo.dal.TAPService(f"{base}/tap")
        query = rtcons.build_regtap_query(
            rtcons.keywords_to_constraints({"keywords": ["Suprime-Cam"], "servicetype": "tap"}), service
        )
        plain = []
        with httpx.Client(timeout=30) as client:
            for _ in range(args.searches + 3):
                start = time.perf_counter()
                response = client.post(f"{base}/tap/sync", data={"LANG": "ADQL", "QUERY": query})
                plain.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text
        plain = plain[3:]
    print(
        f"{args.queries} cones of 0.25 deg over {args.rows:,} rows, {timings.rows / args.queries:.1f} rows each on average"
    )
    direct50, direct95 = percentiles(timings.direct)
    scs50, scs95 = percentiles(timings.service)
    print(f"PostgreSQL direct  p50 {direct50:6.2f} ms   p95 {direct95:6.2f} ms")
    print(f"/scs               p50 {scs50:6.2f} ms   p95 {scs95:6.2f} ms   ({scs50 / direct50:.1f} x direct at p50)")
    assert "ivo://dalserver.demo/tap" in found, found
    print(
        f"regsearch(keywords=['Suprime-Cam'], servicetype='tap'): p50 {statistics.median(searches):6.1f} ms "
        f"(pyvo, {args.searches} searches, found {sorted(found)}); the RegTAP query alone through /tap/sync "
        f"p50 {statistics.median(plain):6.1f} ms"
    )


if __name__ == "__main__":
    main()
