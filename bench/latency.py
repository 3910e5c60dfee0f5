"""Latency of a small indexed cone query through /tap/sync, against the same SQL straight on PostgreSQL.

Usage: .venv/bin/python bench/latency.py [--rows 1000000] [--queries 500]
Publishes a catalogue of N rows with its position index (the real ingest command), starts a real
server, then runs the same sequence of random cones of 0.25 degree radius (about 5 rows each) two ways:
the SQL the service would run, on one psycopg connection (the floor), and the ADQL through
/tap/sync with a keep-alive httpx client (parse, resolve, translate, run, write a VOTable, HTTP).
Prints p50/p95 of both and of the difference, which is the service's overhead.
"""

from __future__ import annotations

import argparse
import random

from common import bench_database, load_catalog, paired_latencies, percentiles, publish_catalogue, server_env, serving

from adql import to_postgres

ADQL = (
    "SELECT source_id, ra, dec, mag_g FROM bench.latency "
    "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, 0.25))"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    url = bench_database()
    env, base = server_env(url)
    publish_catalogue(env, args.rows, "bench.latency")
    rng = random.Random(3)
    cones = [(rng.uniform(0, 360), rng.uniform(-60, 60)) for _ in range(args.queries)]
    queries = [ADQL.format(ra=ra, dec=dec) for ra, dec in cones]
    catalog = load_catalog(url)
    sqls = [to_postgres(q, catalog, row_limit=10_001).sql for q in queries]  # as the service would run them
    with serving(env, base, url):
        timings = paired_latencies(
            url,
            [
                (sql, lambda client, q=query: client.post(f"{base}/tap/sync", data={"LANG": "ADQL", "QUERY": q}))
                for query, sql in zip(queries, sqls, strict=True)
            ],
        )
    direct, service, found = timings.direct, timings.service, timings.rows
    overhead = [s - d for s, d in zip(service, direct, strict=True)]
    print(f"{args.queries} cones of 0.25 deg over {args.rows:,} rows, {found / args.queries:.1f} rows each on average")
    for label, samples in (("PostgreSQL direct", direct), ("/tap/sync", service), ("overhead", overhead)):
        p50, p95 = percentiles(samples)
        print(f"{label:18s} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")


if __name__ == "__main__":
    main()
