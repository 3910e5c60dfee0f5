"""What the server costs per request, and what several workers buy, against floors measured in the
same run.

Usage: .venv/bin/python bench/serving.py [--rows 1000000] [--queries 400] [--seconds 15]

1. Latency: a small indexed cone (about 5 rows) through /tap/sync, against its floor: the same SQL
   straight on PostgreSQL plus a trivial HTTP round trip to the same server (VOSI availability,
   answered without the database). Goal: p50 at most 1.5 x the floor.
2. Throughput: 8 concurrent clients sending cones for a fixed time, against 8 clients asking the
   trivial endpoint, with 1 worker and with 2 (the machine's cores). Goal: cones >= 0.6 x trivial,
   per worker.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

import httpx
import psycopg
from common import bench_database, load_catalog, publish_catalogue, server_env, serving
from rawhttp import Connection, get, post_form

from adql import to_postgres
from pgsql_text.session import SPHERE_OUTPUT_DEGREES

ADQL = (
    "SELECT source_id, ra, dec, mag_g FROM bench.serving "
    "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, 0.25))"
)


def _cones(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [ADQL.format(ra=rng.uniform(0, 360), dec=rng.uniform(-60, 60)) for _ in range(count)]


def _p50(samples: list[float]) -> float:
    return statistics.median(samples)


def latency(url: str, base: str, queries: list[str]) -> tuple[float, float, float]:
    """p50 (ms) of the SQL direct, of a trivial request, and of the cone through /tap/sync."""
    catalog = load_catalog(url)
    sqls = [to_postgres(q, catalog, row_limit=10_001).sql for q in queries]
    direct, trivial, service = [], [], []
    with psycopg.connect(url, autocommit=True) as conn, httpx.Client(timeout=30) as client:
        conn.execute(SPHERE_OUTPUT_DEGREES)
        for sql, query in list(zip(sqls, queries, strict=True))[:20]:  # warm caches on every path
            conn.execute(sql).fetchall()
            client.get(f"{base}/tap/availability")
            client.post(f"{base}/tap/sync", data={"LANG": "ADQL", "QUERY": query})
        for sql, query in zip(sqls, queries, strict=True):
            start = time.perf_counter()
            conn.execute(sql).fetchall()
            direct.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            client.get(f"{base}/tap/availability")
            trivial.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            response = client.post(f"{base}/tap/sync", data={"LANG": "ADQL", "QUERY": query})
            service.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(response.text)
    return _p50(direct), _p50(trivial), _p50(service)


async def _hammer(base: str, clients: int, seconds: float, cone: bool, queries: list[str]) -> float:
    """Requests per second answered 200 by ``clients`` concurrent keep-alive clients (rawhttp's,
    which cost the shared cores far less than httpx)."""
    done = 0
    deadline = time.perf_counter() + seconds
    if cone:
        requests = [post_form(base, "/tap/sync", {"LANG": "ADQL", "QUERY": q}) for q in queries]
    else:
        requests = [get(base, "/tap/availability")]

    async def one(k: int) -> None:
        nonlocal done
        connection = await Connection.open(base)
        i = k
        try:
            while time.perf_counter() < deadline:
                status = await connection.send(requests[i % len(requests)])
                if status != 200:
                    raise SystemExit(f"HTTP {status} from {base}")
                done += 1
                i += clients
        finally:
            await connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(one(k) for k in range(clients)))
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    url = bench_database()
    env, _ = server_env(url)
    publish_catalogue(env, args.rows, "bench.serving")
    queries = _cones(args.queries, seed=5)
    results: dict[int, tuple[float, float]] = {}
    for workers in (1, 2):
        env, base = server_env(url, DALSERVER_WORKERS=str(workers))
        with serving(env, base, url, drop=workers == 2):
            if workers == 1:
                direct, trivial, service = latency(url, base, queries)
                floor = direct + trivial
                print(f"{args.queries} cones of 0.25 deg over {args.rows:,} rows, 1 worker, one client:")
                print(
                    f"  PostgreSQL direct p50 {direct:.2f} ms + trivial HTTP p50 {trivial:.2f} ms = floor {floor:.2f} ms"
                )
                print(f"  /tap/sync cone    p50 {service:.2f} ms = {service / floor:.2f} x floor (goal <= 1.5)")
            cones = asyncio.run(_hammer(base, 8, args.seconds, True, queries))
            plain = asyncio.run(_hammer(base, 8, args.seconds, False, queries))
            results[workers] = (cones, plain)
            print(
                f"{workers} worker(s), 8 clients for {args.seconds:g} s: cones {cones:.0f}/s, trivial {plain:.0f}/s: "
                f"{cones / plain:.2f} x trivial (goal >= 0.6)"
            )
    (c1, t1), (c2, t2) = results[1], results[2]
    print(f"2 workers vs 1: cones {c2 / c1:.2f} x, trivial {t2 / t1:.2f} x")


if __name__ == "__main__":
    main()
