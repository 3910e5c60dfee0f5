"""Load and soak: many concurrent clients mixing the requests an archive sees, for a fixed time,
against a real server with its workers; every answer checked, latencies and memory reported.

Usage:
  .venv/bin/python bench/load.py --quick                 # < 2 minutes: 8 clients, 30 s, 100,000 rows
  .venv/bin/python bench/load.py                         # 64 clients for 60 s (the load test)
  .venv/bin/python bench/load.py --clients 16 --seconds 600   # the soak

The mix, chosen at random per request (weights): cone searches over a 1-million-row catalogue
(TAP sync, about 5 rows: 35 %), SIA POS+BAND over 100,000 footprints (20 %), Simple Cone Search
over the same catalogue (10 %), HiPS (the list, a survey's properties and a tile: 10 %), OAI-PMH
(Identify, ListRecords: 5 %), the portal (its page and the JSON it asks for: 5 %), 100,000-row
CSV downloads (10 %), async jobs (create with PHASE=RUN, blocking WAIT, fetch the result: 5 %).
The HiPS surveys are the real ones of the synthetic sample, ingested and built by the command
line into an archive home of the run's own. Loopback only; the clients run in this process, on
the same two cores as the server.

Memory: every worker's and the parent's RSS (and the workers' PSS, USS and anonymous memory, /proc/PID/smaps_rollup)
sampled every --sample-every seconds while the clients run; each worker's slope in MB/min by
least squares over the samples, over the whole run and over its second half; the figures printed
against the goals of issue #28 (a worker <= 150 MB after the mixed session, flat; the parent of
the workers <= 50 MB), at the end of the load and again after the workers have idled for
IDLE_SECONDS. DaCHS's one process, after the same mix: 253 MB (measured once, not here).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import fresh_libraries  # noqa: F401  (first: before pyarrow is mapped, see its docstring)
import httpx
from common import bench_database, publish_catalogue, server_env, serving
from sia import fill as fill_obscore

CONE = (
    "SELECT source_id, ra, dec, mag_g FROM bench.load "
    "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, 0.25))"
)
DOWNLOAD = "SELECT TOP {rows} source_id, ra, dec, mag_g, mag_r FROM bench.load"
JOB = "SELECT COUNT(*) AS n, AVG(mag_g) AS g FROM bench.load WHERE dec BETWEEN {low} AND {low} + 1"
WORKER_GOAL_MB = 150.0
PARENT_GOAL_MB = 50.0
FLAT_MB_PER_MIN = 0.1  # what "flat" means here: under 1 MB over a 10-minute soak
DACHS_MB = 253.0
# After the session, the workers rest this long before their last sample: a worker gives back the
# heap it freed once no request has been in flight for a second, at most every
# DALSERVER_MEMORY_TRIM_SECONDS (5 s; dalserver/http/heap_trim.py).
IDLE_SECONDS = 6.0


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


@dataclass(frozen=True)
class Site:
    base: str
    download_rows: int
    survey: str  # a HiPS survey's name
    tile: str  # a tile of it, relative to the survey


async def cone(client: httpx.AsyncClient, site: Site, rng: random.Random) -> None:
    query = CONE.format(ra=rng.uniform(0, 360), dec=rng.uniform(-60, 60))
    response = await client.post(f"{site.base}/tap/sync", data={"LANG": "ADQL", "QUERY": query})
    _expect(response, b"</VOTABLE>")


async def sia(client: httpx.AsyncClient, site: Site, rng: random.Random) -> None:
    params = {"POS": f"CIRCLE {rng.uniform(2, 60):.4f} {rng.uniform(-14, 14):.4f} 0.2", "BAND": "5.5e-7"}
    _expect(await client.get(f"{site.base}/sia/query", params=params), b"</VOTABLE>")


async def scs(client: httpx.AsyncClient, site: Site, rng: random.Random) -> None:
    params = {"RA": f"{rng.uniform(0, 360):.4f}", "DEC": f"{rng.uniform(-60, 60):.4f}", "SR": "0.25"}
    _expect(await client.get(f"{site.base}/scs/bench.load", params=params), b"</VOTABLE>")


async def hips(client: httpx.AsyncClient, site: Site, rng: random.Random) -> None:
    _expect(await client.get(f"{site.base}/hips/hipslist"), b"hips_service_url")
    _expect(await client.get(f"{site.base}/hips/{site.survey}/properties"), b"hips_order")
    tile = await client.get(f"{site.base}/hips/{site.survey}/{site.tile}")
    if tile.status_code != 200 or not tile.content.startswith(b"\x89PNG"):
        raise RuntimeError(f"tile: HTTP {tile.status_code}")


async def oai(client: httpx.AsyncClient, site: Site, rng: random.Random) -> None:
    _expect(await client.get(f"{site.base}/oai", params={"verb": "Identify"}), b"</oai:OAI-PMH>")
    records = await client.get(f"{site.base}/oai", params={"verb": "ListRecords", "metadataPrefix": "ivo_vor"})
    _expect(records, b"</oai:OAI-PMH>")


async def portal(client: httpx.AsyncClient, site: Site, rng: random.Random) -> None:
    _expect(await client.get(f"{site.base}/"), b"</html>")
    for path in ("/portal/config.json", "/portal/catalogues.json", "/portal/targets.json"):
        response = await client.get(f"{site.base}{path}")
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
        response.json()


async def download(client: httpx.AsyncClient, site: Site, rng: random.Random) -> None:
    rows = site.download_rows
    data = {"LANG": "ADQL", "QUERY": DOWNLOAD.format(rows=rows), "RESPONSEFORMAT": "csv", "MAXREC": str(rows)}
    lines = 0
    async with client.stream(
        "POST", f"{site.base}/tap/sync", data=data, headers={"Accept-Encoding": "identity"}
    ) as response:
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")
        async for block in response.aiter_raw():
            lines += block.count(b"\n")
    if lines != rows + 1:
        raise RuntimeError(f"{lines} lines")


async def job(client: httpx.AsyncClient, site: Site, rng: random.Random) -> None:
    data = {"LANG": "ADQL", "QUERY": JOB.format(low=rng.randint(-60, 59)), "PHASE": "RUN"}
    created = await client.post(f"{site.base}/tap/async", data=data)
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
    if response.status_code != 200 or ending not in response.content[-2000:]:
        raise RuntimeError(f"HTTP {response.status_code}: {response.content[:200]!r}")


Kind = Callable[[httpx.AsyncClient, Site, random.Random], Awaitable[None]]
KINDS: tuple[tuple[Kind, int], ...] = (
    (cone, 35),
    (sia, 20),
    (scs, 10),
    (hips, 10),
    (oai, 5),
    (portal, 5),
    (download, 10),
    (job, 5),
)


async def client_loop(site: Site, seed: int, deadline: float, tally: Tally) -> None:
    rng = random.Random(seed)
    kinds, weights = zip(*KINDS, strict=True)
    async with httpx.AsyncClient(timeout=120, follow_redirects=False) as client:
        while time.perf_counter() < deadline:
            kind = rng.choices(kinds, weights)[0]
            start = time.perf_counter()
            try:
                await kind(client, site, rng)
            except Exception as exc:  # counted and reported: the goal is none
                tally.errors[kind.__name__].append(f"{type(exc).__name__}: {exc}")
                continue
            tally.latencies[kind.__name__].append((time.perf_counter() - start) * 1000)


async def every_kind_once(site: Site, clients: int, tally: Tally) -> None:
    """Each client (a connection of its own, spread over the workers by the kernel) asks for every
    kind once: what a worker loads on first use is in before the samples start."""

    async def one(seed: int) -> None:
        rng = random.Random(seed)
        async with httpx.AsyncClient(timeout=120) as client:
            for kind, _ in KINDS:
                try:
                    await kind(client, site, rng)
                except Exception as exc:
                    tally.errors[kind.__name__].append(f"(warm-up) {type(exc).__name__}: {exc}")

    await asyncio.gather(*(one(1000 + k) for k in range(clients)))


async def run(site: Site, clients: int, seconds: float) -> Tally:
    tally = Tally()
    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(client_loop(site, k, deadline, tally) for k in range(clients)))
    return tally


# --- memory -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Memory:
    rss: float
    pss: float
    uss: float  # private: what the process alone holds
    anon: float  # its own memory (heap, arenas, stacks): what the libraries' page cache does not change


def memory_mb(pid: int) -> Memory:
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    private = fields["Private_Clean"] + fields["Private_Dirty"]
    return Memory(fields["Rss"] / 1024, fields["Pss"] / 1024, private / 1024, fields["Anonymous"] / 1024)


def libraries(pid: int) -> list[str]:
    """The packages (site-packages' top level) whose shared objects ``pid`` has mapped."""
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        path = line.split()[-1]
        if ".so" in path and "/site-packages/" in path:
            found.add(path.split("/site-packages/", 1)[1].split("/", 1)[0])
    return sorted(found)


def workers_of(pid: int) -> list[int]:
    children = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [p for p in children if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()] or [pid]


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per minute."""
    if len(samples) < 3:
        return float("nan")
    times, values = zip(*samples, strict=True)
    return statistics.linear_regression(times, values).slope * 60


@dataclass
class Sampler:
    parent: int
    workers: list[int]
    every: float
    series: dict[int, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        began = time.monotonic()

        def sample() -> None:
            while True:
                now = time.monotonic() - began
                for pid in (self.parent, *self.workers):
                    self.series[pid].append((now, memory_mb(pid).rss))
                if self._stop.wait(self.every):
                    return

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


# --- the archive ----------------------------------------------------------------------------------
def _dalserver(env: dict[str, str], *arguments: str) -> None:
    """A dalserver command; what it says goes unprinted unless it fails (the HiPS build names every
    one of the bench's 100,000 footprints without a file)."""
    command = [sys.executable, "-m", "dalserver", "--log-level", "warning", *arguments]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"dalserver {' '.join(arguments)}: exit status {done.returncode}\n{done.stderr[-4000:]}")


def build_sample_surveys(env: dict[str, str]) -> tuple[str, str]:
    """The synthetic sample ingested and its HiPS surveys built, with the real command line, into
    the run's archive home; a survey's name and one of its tiles."""
    sample = Path(env["DALSERVER_HOME"]) / "archive" / "suprimecam"
    _dalserver(env, "sample", str(sample))
    _dalserver(env, "ingest", "images", str(sample), "--quiet")
    _dalserver(env, "hips", "build", "--quiet", "--no-color", "--band", "W-J-V")
    root = Path(env["DALSERVER_HOME"]) / "hips"
    survey = next(p for p in sorted(root.iterdir()) if (p / "properties").is_file())
    tile = sorted(survey.glob("Norder3/Dir0/*.png"))[0]
    return survey.name, str(tile.relative_to(survey))


def drop_sample(env: dict[str, str]) -> None:
    sample = Path(env["DALSERVER_HOME"]) / "archive" / "suprimecam"
    _dalserver(env, "drop", "images", str(sample), "--quiet")


# --- the report -----------------------------------------------------------------------------------
def report(
    args: argparse.Namespace,
    tally: Tally,
    elapsed: float,
    sampler: Sampler,
    final: dict[int, Memory],
    idle: dict[int, Memory],
    mapped: dict[int, list[str]],
) -> int:
    total = sum(len(v) for v in tally.latencies.values())
    failed = sum(len(v) for v in tally.errors.values())
    print(
        f"{args.clients} clients, {args.seconds:g} s, {args.workers} worker(s), {args.rows:,} rows: {total} requests "
        f"answered ({total / elapsed:.0f}/s), {failed} errors"
    )
    for kind, _ in KINDS:
        samples = tally.latencies.get(kind.__name__, [])
        if len(samples) >= 2:
            cuts = statistics.quantiles(samples, n=100)
            print(f"  {kind.__name__:9s} {len(samples):6d}   p50 {cuts[49]:8.1f} ms   p99 {cuts[98]:8.1f} ms")
        for error in tally.errors.get(kind.__name__, [])[:3]:
            print(f"    error: {error}")
    print(f"memory, sampled every {args.sample_every:g} s (figure / goal):")
    worst = worst_idle = 0.0
    for pid in sampler.workers:
        series = sampler.series[pid]
        half = [s for s in series if s[0] >= series[-1][0] / 2]
        end, rested = final[pid], idle[pid]
        worst, worst_idle = max(worst, end.rss), max(worst_idle, rested.rss)
        print(
            f"  worker {pid}: RSS {series[0][1]:.0f} MB after the warm-up, {end.rss:.0f} MB at the end "
            f"(PSS {end.pss:.0f}, USS {end.uss:.0f}, anonymous {end.anon:.0f}) / {WORKER_GOAL_MB:.0f} MB: {end.rss / WORKER_GOAL_MB:.2f} x; "
            f"{rested.rss:.0f} MB {IDLE_SECONDS:g} s later (anonymous {rested.anon:.0f}); DaCHS {DACHS_MB:.0f} MB"
        )
        print(
            f"    slope {slope_mb_per_min(series):+.3f} MB/min over the run, {slope_mb_per_min(half):+.3f} over its "
            f"second half / flat ({FLAT_MB_PER_MIN} MB/min); min {min(v for _, v in series):.0f}, "
            f"max {max(v for _, v in series):.0f} MB over {len(series)} samples"
        )
        print(f"    libraries mapped: {' '.join(mapped[pid])}")
    parent = [v for _, v in sampler.series[sampler.parent]]
    print(
        f"  parent {sampler.parent} (supervises the workers): RSS {min(parent):.0f}-{max(parent):.0f} MB "
        f"/ {PARENT_GOAL_MB:.0f} MB: {max(parent) / PARENT_GOAL_MB:.2f} x"
    )
    print(
        f"  the largest worker: {worst:.0f} MB against {WORKER_GOAL_MB:.0f} MB ({worst / WORKER_GOAL_MB:.2f} x); "
        f"{worst_idle:.0f} MB {IDLE_SECONDS:g} s later ({worst_idle / WORKER_GOAL_MB:.2f} x)"
    )
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between memory samples")
    parser.add_argument("--quick", action="store_true", help="8 clients, 30 s, 100,000 rows: under two minutes")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.seconds, args.rows, args.sample_every = 8, 30.0, 100_000, 2.0
    url = bench_database()
    with tempfile.TemporaryDirectory(prefix="dalserver-load-", dir=os.environ.get("TMPDIR", "/var/tmp")) as home:
        env, base = server_env(url, DALSERVER_WORKERS=str(args.workers), DALSERVER_ASYNC_WORKERS="4")
        env["DALSERVER_HOME"] = home  # the run's own archive files (images, HiPS, jobs); the bench database
        publish_catalogue(env, args.rows, "bench.load")
        fill_obscore(url, 100_000)
        survey, tile = build_sample_surveys(env)
        site = Site(base, min(100_000, args.rows), survey, tile)
        try:
            with serving(env, base, url) as server:
                workers = workers_of(server.pid)
                warm = Tally()
                asyncio.run(every_kind_once(site, 4 * len(workers), warm))
                for kind, errors in warm.errors.items():
                    print(f"warm-up {kind}: {errors[0]}")
                sampler = Sampler(server.pid, workers, args.sample_every)
                sampler.start()
                start = time.perf_counter()
                tally = asyncio.run(run(site, args.clients, args.seconds))
                elapsed = time.perf_counter() - start
                sampler.stop()
                final = {pid: memory_mb(pid) for pid in workers}
                time.sleep(IDLE_SECONDS)
                idle = {pid: memory_mb(pid) for pid in workers}
                mapped = {pid: libraries(pid) for pid in workers}
        finally:
            drop_sample(env)
    raise SystemExit(report(args, tally, elapsed, sampler, final, idle, mapped))


if __name__ == "__main__":
    main()
