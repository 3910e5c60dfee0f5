"""What a small query costs against a trivial request to the same server (issue #28's goals), and
where its microseconds go.

Usage: .venv/bin/python bench/small_queries.py [--rows 1000000] [--obscore-rows 100000]
           [--queries 400] [--seconds 10] [--quick]

Publishes a catalogue of N rows with its position index (the real ingest command), fills ObsCore
with image footprints around (34.5, -5) (bench/sia.py's), publishes a HiPS survey's properties,
then starts a real server (1 worker) and, interleaved request by request with one keep-alive
httpx client:

- the floor: GET /tap/availability (answered without the database);
- a cone, ``SELECT TOP 50 ... CONTAINS(... CIRCLE(..., 0.02))`` via POST /tap/sync;
- SCS at /scs/<table> with SR=0.02;
- SIA 2.0 ``POS=CIRCLE 34.5 -5 0.05&MAXREC=1``;
- /hips/hipslist.

Each prints p50, the floor's p50 and the ratio next to its goal. Then 8 keep-alive clients
(bench/rawhttp.py) send cones, then ask /tap/availability, for ``--seconds`` each: the ratio of
their rates against its goal, with 1 worker and again with a server of 2 (the machine's cores).
The goal holds per worker (bench/serving.py): the ratio is judged for each, the 1-worker figure
being the one that compares over rounds (the floor and the cones then share the same process). Last, a second server with DALSERVER_STAGE_LOG (dalserver.http.
stages) answers the same requests once more, and the median microseconds of each stage are
printed per path: the stage breakdown. ``--quick`` (100,000 rows, 150 queries, 4 s) finishes in
under two minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from common import (
    bench_database,
    children_cpu,
    cpu_seconds,
    cpu_since,
    own_cpu_seconds,
    postmaster,
    publish_catalogue,
    server_env,
    serving,
)
from rawhttp import Connection, get, post_form
from sia import fill as fill_obscore

TABLE = "bench.small"
CONE = (
    "SELECT TOP 50 source_id, ra, dec, mag_g, mag_r FROM bench.small "
    "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra:.6f}, {dec:.6f}, 0.02))"
)
PROPERTIES = """creator_did = ivo://bench.invalid/P/small
obs_title = Bench survey
dataproduct_type = image
hips_version = 1.4
hips_release_date = 2026-01-01T00:00Z
hips_status = public master clonableOnce
hips_tile_format = fits
hips_order = 3
hips_frame = equatorial
"""
GOALS = {"cone": 2.0, "scs": 2.0, "sia": 2.0, "hipslist": 1.5}
Send = Callable[[httpx.Client, str, int], httpx.Response]


def publish_hips(root: Path, surveys: int) -> None:
    """``surveys`` published survey directories with their properties (all /hips/hipslist reads)."""
    for k in range(surveys):
        build = root / ".builds" / f"bench{k}@1"
        build.mkdir(parents=True)
        (build / "properties").write_text(PROPERTIES.replace("small", f"small{k}"))
        (root / f"bench{k}").symlink_to(Path(".builds") / build.name)


def requests(cones: list[tuple[float, float]]) -> dict[str, Send]:
    """The requests measured, by name; each takes the client, the base URL and the request's number."""

    def cone(client: httpx.Client, base: str, i: int) -> httpx.Response:
        ra, dec = cones[i % len(cones)]
        return client.post(f"{base}/tap/sync", data={"LANG": "ADQL", "QUERY": CONE.format(ra=ra, dec=dec)})

    def scs(client: httpx.Client, base: str, i: int) -> httpx.Response:
        ra, dec = cones[i % len(cones)]
        return client.get(f"{base}/scs/{TABLE}", params={"RA": f"{ra:.6f}", "DEC": f"{dec:.6f}", "SR": "0.02"})

    return {
        "trivial": lambda client, base, _: client.get(f"{base}/tap/availability"),
        "cone": cone,
        "scs": scs,
        "sia": lambda client, base, _: client.get(
            f"{base}/sia/query", params={"POS": "CIRCLE 34.5 -5 0.05", "MAXREC": "1"}
        ),
        "hipslist": lambda client, base, _: client.get(f"{base}/hips/hipslist"),
    }


def latencies(
    base: str, sends: dict[str, Send], count: int, warm_up: int = 30, first: int = 0
) -> dict[str, list[float]]:
    """Milliseconds per request of each kind, the kinds interleaved request by request; the
    cones are the ``first``-th on, each asked once."""
    found: dict[str, list[float]] = defaultdict(list)
    with httpx.Client(timeout=30) as client:
        for i in range(warm_up + count):
            for name, send in sends.items():
                start = time.perf_counter()
                response = send(client, base, first + i)
                elapsed = (time.perf_counter() - start) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{name}: HTTP {response.status_code}: {response.text[:500]}")
                if i >= warm_up:
                    found[name].append(elapsed)
    return found


async def hammer(base: str, clients: int, seconds: float, payloads: list[bytes]) -> int:
    """How many requests ``clients`` keep-alive clients sending ``payloads`` in turn had answered
    200 in ``seconds``."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def one(k: int) -> None:
        nonlocal done
        connection = await Connection.open(base)
        i = k
        try:
            while time.perf_counter() < deadline:
                status = await connection.send(payloads[i % len(payloads)])
                if status != 200:
                    raise SystemExit(f"HTTP {status} from {base}")
                done += 1
                i += clients
        finally:
            await connection.close()

    await asyncio.gather(*(one(k) for k in range(clients)))
    return done


@dataclass
class Spent:
    """What one kind of request cost over the throughput runs: how many were answered in how many
    seconds, and the CPU seconds of the server's processes, the database cluster's and this client."""

    requests: int = 0
    seconds: float = 0.0
    server: float = 0.0
    database: float = 0.0
    client: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def per_request_ms(self) -> tuple[float, float, float]:
        n = max(1, self.requests)
        return self.server * 1000 / n, self.database * 1000 / n, self.client * 1000 / n


def _process_cpu(pid: int | None) -> dict[int, float]:
    """CPU seconds so far of ``pid`` and its children (a server and its workers; a postmaster and
    its backends); nothing when it is not on this machine."""
    return {} if pid is None else {pid: cpu_seconds(pid), **children_cpu(pid)}


def measured(spent: Spent, server: int, database: int | None, run: Callable[[], int]) -> None:
    """``run()`` (which returns how many requests were answered), its time and CPU added to ``spent``."""
    server_before, database_before = _process_cpu(server), _process_cpu(database)
    client_before, start = own_cpu_seconds(), time.perf_counter()
    spent.requests += run()
    spent.seconds += time.perf_counter() - start
    spent.client += own_cpu_seconds() - client_before
    spent.server += cpu_since(server_before, _process_cpu(server))
    spent.database += cpu_since(database_before, _process_cpu(database))


def throughput(
    base: str, cones: list[tuple[float, float]], seconds: float, server: int, database: int | None
) -> tuple[Spent, Spent]:
    """Cones and trivial requests, 8 clients each, in alternating halves: what each kind cost."""
    cone_payloads = [
        post_form(base, "/tap/sync", {"LANG": "ADQL", "QUERY": CONE.format(ra=ra, dec=dec)}) for ra, dec in cones
    ]
    trivial_payloads = [get(base, "/tap/availability")]
    cone, trivial = Spent(), Spent()
    for _ in range(2):  # interleaved halves: a neighbour's burst weighs on both alike
        measured(cone, server, database, lambda: asyncio.run(hammer(base, 8, seconds / 2, cone_payloads)))
        measured(trivial, server, database, lambda: asyncio.run(hammer(base, 8, seconds / 2, trivial_payloads)))
    return cone, trivial


def stage_table(log: Path) -> dict[str, dict[str, float]]:
    """Median microseconds per stage, per kind of request, from a DALSERVER_STAGE_LOG file."""
    kinds = {
        "/tap/availability": "trivial",
        "/tap/sync": "cone",
        f"/scs/{TABLE}": "scs",
        "/sia/query": "sia",
        "/hips/hipslist": "hipslist",
    }
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        kind = kinds.get(entry["path"])
        if kind is not None:
            for stage, us in entry["us"].items():
                samples[kind][stage].append(us)
            samples[kind]["(server total)"].append(sum(entry["us"].values()))
    return {kind: {s: statistics.median(v) for s, v in stages.items()} for kind, stages in samples.items()}


def print_stages(stages: dict[str, dict[str, float]], client_ms: dict[str, list[float]]) -> None:
    print("\nStage breakdown (median microseconds per request, real server with DALSERVER_STAGE_LOG):")
    for kind, spent in stages.items():
        client = statistics.median(client_ms[kind]) * 1000
        parts = ", ".join(f"{stage} {us:.0f}" for stage, us in spent.items() if stage != "(server total)")
        total = spent["(server total)"]
        print(f"  {kind:9s} client {client:6.0f} = server {total:5.0f} [{parts}] + HTTP/client {client - total:5.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--obscore-rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--surveys", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 150 queries, 4 s of throughput")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.obscore_rows, args.queries, args.seconds = 100_000, 20_000, 150, 4.0
    url = bench_database()
    rng = random.Random(11)
    # Every cone asked once per server: a cone seen before would be answered by the exact-text
    # translation cache, and what is measured is a new cone of a known shape.
    staged_count = min(args.queries, 200)
    cones = [(rng.uniform(0, 360), rng.uniform(-60, 60)) for _ in range(args.queries + 30 + 2 * staged_count)]
    hammer_cones = [(rng.uniform(0, 360), rng.uniform(-60, 60)) for _ in range(int(3000 * args.seconds))]
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as tmp:
        hips = Path(tmp) / "hips"
        publish_hips(hips, args.surveys)
        env, base = server_env(url, DALSERVER_HIPS_DIR=str(hips))
        publish_catalogue(env, args.rows, TABLE)
        fill_obscore(url, args.obscore_rows)
        sends = requests(cones)
        try:
            database = postmaster(url)
            with serving(env, base, url, drop=False) as server:
                found = latencies(base, sends, args.queries)
                rates = {1: throughput(base, hammer_cones, args.seconds, server.pid, database)}
            env, base = server_env(url, DALSERVER_HIPS_DIR=str(hips), DALSERVER_WORKERS="2")
            with serving(env, base, url, drop=False) as server:
                rates[2] = throughput(base, hammer_cones, args.seconds, server.pid, database)
            stage_log = Path(tmp) / "stages.jsonl"
            env, base = server_env(url, DALSERVER_HIPS_DIR=str(hips), DALSERVER_STAGE_LOG=str(stage_log))
            with serving(env, base, url, drop=True):
                latencies(base, sends, staged_count, warm_up=0)
                stage_log.write_text("")  # the warm-up's lines are not counted
                staged = latencies(base, sends, staged_count, warm_up=0, first=staged_count)
            stages = stage_table(stage_log)
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("DELETE FROM ivoa.obscore WHERE obs_collection = 'bench'")
    trivial = statistics.median(found["trivial"])
    print(
        f"{args.queries} requests of each kind, interleaved, over {args.rows:,} catalogue rows and "
        f"{args.obscore_rows:,} ObsCore rows, 1 worker, one keep-alive httpx client:"
    )
    print(f"  {'trivial (/tap/availability)':34s} p50 {trivial:6.2f} ms (the floor)")
    labels = {
        "cone": "cone TOP 50 r=0.02 deg (/tap/sync)",
        "scs": "SCS SR=0.02",
        "sia": "SIA POS=CIRCLE 34.5 -5 0.05 MAXREC=1",
        "hipslist": "/hips/hipslist",
    }
    for name, label in labels.items():
        p50 = statistics.median(found[name])
        ratio = p50 / trivial
        verdict = "ok" if ratio <= GOALS[name] else "MISSED"
        print(f"  {label:34s} p50 {p50:6.2f} ms = {ratio:5.2f} x trivial (goal <= {GOALS[name]:g}) {verdict}")
    for workers, (cone_spent, trivial_spent) in rates.items():
        cone_rate, trivial_rate = cone_spent.rate, trivial_spent.rate
        ratio = cone_rate / trivial_rate
        verdict = "ok" if ratio >= 0.6 else "MISSED"
        print(
            f"  8 keep-alive clients, {workers} worker{'s' if workers > 1 else ''}, {args.seconds:g} s each: "
            f"cones {cone_rate:.0f}/s, trivial {trivial_rate:.0f}/s = {ratio:.2f} x trivial (goal >= 0.6) {verdict}"
        )
        for kind, cpu in (("cone", cone_spent), ("trivial", trivial_spent)):
            server_ms, database_ms, client_ms = cpu.per_request_ms()
            print(
                f"    CPU per {kind:7s} request: server {server_ms:.3f} ms, PostgreSQL {database_ms:.3f} ms, "
                f"clients {client_ms:.3f} ms"
            )
    print_stages(stages, staged)


if __name__ == "__main__":
    main()
