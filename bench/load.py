"""Load and soak: many concurrent clients mixing the requests an archive sees, for a fixed time,
against a real server with its workers; every answer checked, latencies and worker memory reported.

Usage:
  .venv/bin/python bench/load.py                         # 64 clients for 60 s (the load test)
  .venv/bin/python bench/load.py --clients 16 --seconds 600   # the soak: RSS of every worker, start and end

The mix, chosen at random per request (weights): cone searches over a 1-million-row catalogue
(TAP sync, about 5 rows: 50 %), SIA POS+BAND over 100,000 footprints (30 %), 100,000-row CSV
downloads (10 %), async jobs (create with PHASE=RUN, blocking WAIT, fetch the result: 10 %).
Loopback only; the clients run in this process, on the same two cores as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from common import bench_database, publish_catalogue, server_env, serving
from sia import fill as fill_obscore

CONE = (
    "SELECT source_id, ra, dec, mag_g FROM bench.load "
    "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, 0.25))"
)
DOWNLOAD = "SELECT TOP 100000 source_id, ra, dec, mag_g, mag_r FROM bench.load"
JOB = "SELECT COUNT(*) AS n, AVG(mag_g) AS g FROM bench.load WHERE dec BETWEEN {low} AND {low} + 1"


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


async def cone(client: httpx.AsyncClient, base: str, rng: random.Random) -> None:
    query = CONE.format(ra=rng.uniform(0, 360), dec=rng.uniform(-60, 60))
    response = await client.post(f"{base}/tap/sync", data={"LANG": "ADQL", "QUERY": query})
    _expect(response, b"</VOTABLE>")


async def sia(client: httpx.AsyncClient, base: str, rng: random.Random) -> None:
    params = {"POS": f"CIRCLE {rng.uniform(2, 60):.4f} {rng.uniform(-14, 14):.4f} 0.2", "BAND": "5.5e-7"}
    _expect(await client.get(f"{base}/sia/query", params=params), b"</VOTABLE>")


async def download(client: httpx.AsyncClient, base: str, rng: random.Random) -> None:
    data = {"LANG": "ADQL", "QUERY": DOWNLOAD, "RESPONSEFORMAT": "csv", "MAXREC": "100000"}
    lines = 0
    async with client.stream(
        "POST", f"{base}/tap/sync", data=data, headers={"Accept-Encoding": "identity"}
    ) as response:
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")
        async for block in response.aiter_raw():
            lines += block.count(b"\n")
    if lines != 100_001:
        raise RuntimeError(f"{lines} lines")


async def job(client: httpx.AsyncClient, base: str, rng: random.Random) -> None:
    data = {"LANG": "ADQL", "QUERY": JOB.format(low=rng.randint(-60, 59)), "PHASE": "RUN"}
    created = await client.post(f"{base}/tap/async", data=data)
    if created.status_code != 303:
        raise RuntimeError(f"create: HTTP {created.status_code}")
    url = created.headers["location"]
    for _ in range(60):
        document = (await client.get(url, params={"WAIT": "10"})).text
        if "COMPLETED" in document:
            break
        if "ERROR" in document or "ABORTED" in document:
            raise RuntimeError("job failed")
    else:
        raise RuntimeError("job never finished")
    _expect(await client.get(f"{url}/results/result"), b"</VOTABLE>")
    await client.delete(url)


def _expect(response: httpx.Response, ending: bytes) -> None:
    if response.status_code != 200 or ending not in response.content[-200:]:
        raise RuntimeError(f"HTTP {response.status_code}: {response.content[:200]!r}")


KINDS = ((cone, 50), (sia, 30), (download, 10), (job, 10))


async def client_loop(base: str, seed: int, deadline: float, tally: Tally) -> None:
    rng = random.Random(seed)
    kinds, weights = zip(*KINDS, strict=True)
    async with httpx.AsyncClient(timeout=120, follow_redirects=False) as client:
        while time.perf_counter() < deadline:
            kind = rng.choices(kinds, weights)[0]
            start = time.perf_counter()
            try:
                await kind(client, base, rng)
            except Exception as exc:  # counted and reported: the goal is none
                tally.errors[kind.__name__].append(f"{type(exc).__name__}: {exc}")
                continue
            tally.latencies[kind.__name__].append((time.perf_counter() - start) * 1000)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def workers_of(pid: int) -> list[int]:
    children = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [p for p in children if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()] or [pid]


async def run(base: str, clients: int, seconds: float) -> Tally:
    tally = Tally()
    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(client_loop(base, k, deadline, tally) for k in range(clients)))
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    url = bench_database()
    env, base = server_env(url, DALSERVER_WORKERS=str(args.workers), DALSERVER_ASYNC_WORKERS="4")
    publish_catalogue(env, args.rows, "bench.load")
    fill_obscore(url, 100_000)
    with serving(env, base, url) as server:
        workers = workers_of(server.pid)
        asyncio.run(run(base, 4, 5))  # warm every worker's caches
        series: dict[int, list[float]] = {pid: [rss_mb(pid)] for pid in workers}
        stop = threading.Event()

        def sample() -> None:  # ten more samples over the run: flat, or growing all along?
            while not stop.wait(args.seconds / 10):
                for pid in workers:
                    series[pid].append(rss_mb(pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        tally = asyncio.run(run(base, args.clients, args.seconds))
        elapsed = time.perf_counter() - start
        stop.set()
        sampler.join()
        for pid in workers:
            series[pid].append(rss_mb(pid))
    total = sum(len(v) for v in tally.latencies.values())
    failed = sum(len(v) for v in tally.errors.values())
    print(
        f"{args.clients} clients, {args.seconds:g} s, {args.workers} worker(s): {total} requests answered "
        f"({total / elapsed:.0f}/s), {failed} errors"
    )
    for kind, _ in KINDS:
        samples = tally.latencies.get(kind.__name__, [])
        if len(samples) >= 2:
            cuts = statistics.quantiles(samples, n=100)
            print(f"  {kind.__name__:9s} {len(samples):6d}   p50 {cuts[49]:8.1f} ms   p99 {cuts[98]:8.1f} ms")
        for error in tally.errors.get(kind.__name__, [])[:3]:
            print(f"    error: {error}")
    for pid in workers:
        rss = series[pid]
        print(f"  worker {pid}: RSS {rss[0]:.0f} MB at start, {rss[-1]:.0f} MB at the end")
        print(f"    every {args.seconds / 10:g} s: {' '.join(f'{r:.0f}' for r in rss)} MB")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
