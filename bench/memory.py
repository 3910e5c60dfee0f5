"""What each kind of request costs a worker in memory: one keep-alive client asks a running demo
server for each kind in turn, and after each the worker that answered is read from /proc (RSS,
PSS, USS, anonymous memory from smaps_rollup; the shared objects it has mapped: the libraries
that kind of request loaded first).

Usage (against the demo, which has the sample's images and HiPS surveys; a fresh start, so that
the worker has answered nothing else; same machine, as it reads /proc and ``ss``):
  ./dev demo &                        # or: .venv/bin/dalserver serve, on an archive with the demo's data
  .venv/bin/python bench/memory.py http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

Request = tuple[str, str, dict[str, str] | None]
ONE_IMAGE = "ivo://dalserver.demo/subaru-suprime-cam?SUPM00030627C062600F00"
CONE = "SELECT TOP 50 * FROM ivoa.obscore WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 34.5, -5, 0.5))"


def _download(fmt: str) -> list[Request]:
    return [("POST", "/tap/sync", {"LANG": "ADQL", "QUERY": "SELECT * FROM ivoa.obscore", "RESPONSEFORMAT": fmt})]


SURVEY = "/hips/subaru-suprime-cam-w-j-v"
KINDS: list[tuple[str, list[Request]]] = [
    ("trivial", [("GET", "/tap/availability", None)]),
    ("TAP cone", [("POST", "/tap/sync", {"LANG": "ADQL", "QUERY": CONE})]),
    (
        "TAP metadata",
        [("GET", "/tap/tables", None), ("GET", "/tap/capabilities", None), ("GET", "/tap/examples", None)],
    ),
    ("SIA", [("GET", "/sia/query?POS=CIRCLE+34.5+-5+0.05&MAXREC=5", None)]),
    ("SCS", [("GET", "/scs/ivoa.obscore?RA=34.5&DEC=-5&SR=0.5", None)]),
    ("download CSV", _download("csv")),
    ("download BINARY2", _download("votable/b2")),
    ("download JSON", _download("json")),
    (
        "HiPS",
        [
            ("GET", "/hips/hipslist", None),
            ("GET", f"{SURVEY}/properties", None),
            ("GET", f"{SURVEY}/Norder3/Allsky.png", None),
            ("GET", f"{SURVEY}/Moc.fits", None),
        ],
    ),
    (
        "portal",
        [
            ("GET", "/", None),
            ("GET", "/portal/config.json", None),
            ("GET", "/portal/targets.json", None),
            ("GET", "/portal/catalogues.json", None),
        ],
    ),
    ("OAI-PMH", [("GET", "/oai?verb=Identify", None), ("GET", "/oai?verb=ListRecords&metadataPrefix=ivo_vor", None)]),
    ("RegTAP", [("POST", "/tap/sync", {"LANG": "ADQL", "QUERY": "SELECT ivoid, res_title FROM rr.resource"})]),
    ("MOC", [("GET", "/moc/all.json", None)]),
    ("download FITS", _download("fits")),
    ("download Parquet", _download("parquet")),
    ("DataLink", [("GET", f"/datalink/links?ID={ONE_IMAGE}", None)]),
    ("preview", [("GET", f"/datalink/preview?ID={ONE_IMAGE}", None)]),
    ("SODA cutout", [("GET", f"/soda/sync?ID={ONE_IMAGE}&CIRCLE=34.5+-5+0.01", None)]),
]


@dataclass(frozen=True)
class Memory:
    rss: float
    pss: float
    uss: float
    anonymous: float


def memory_mb(pid: int) -> Memory:
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    private = fields["Private_Clean"] + fields["Private_Dirty"]
    return Memory(fields["Rss"] / 1024, fields["Pss"] / 1024, private / 1024, fields["Anonymous"] / 1024)


def libraries(pid: int) -> set[str]:
    """The packages (site-packages' top level) whose shared objects ``pid`` has mapped."""
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        path = line.split()[-1]
        if ".so" in path and "/site-packages/" in path:
            found.add(path.split("/site-packages/", 1)[1].split("/", 1)[0])
    return found


def serving_pid(port: int) -> int:
    """The process on the server's side of this client's connection (``ss -p``)."""
    listing = subprocess.run(["ss", "-tnpH", "state", "established"], capture_output=True, text=True, check=True)
    for line in listing.stdout.splitlines():
        local = line.split()[2]
        if local.endswith(f":{port}") and (found := re.search(r"pid=(\d+)", line)):
            return int(found.group(1))
    raise SystemExit("no server process found on the client's connection (same machine? ss installed?)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="the server's base URL, e.g. http://127.0.0.1:8000")
    args = parser.parse_args()
    port = httpx.URL(args.base).port or 80
    with httpx.Client(base_url=args.base, timeout=120) as client:
        client.get("/tap/availability")
        pid = serving_pid(port)
        seen = libraries(pid)
        start = memory_mb(pid)
        print(
            f"worker {pid}, MB: RSS {start.rss:.1f}, PSS {start.pss:.1f}, USS {start.uss:.1f}, anonymous {start.anonymous:.1f}"
        )
        print(f"{'after':18s} {'RSS':>6s} {'PSS':>6s} {'USS':>6s} {'anon':>6s}  statuses; libraries loaded first")
        for name, requests in KINDS:
            statuses = [client.request(method, path, data=data).status_code for method, path, data in requests]
            if serving_pid(port) != pid:
                raise SystemExit("the connection moved to another worker")
            now = memory_mb(pid)
            new = libraries(pid) - seen
            seen |= new
            print(
                f"{name:18s} {now.rss:6.1f} {now.pss:6.1f} {now.uss:6.1f} {now.anonymous:6.1f}  "
                f"{statuses}; {' '.join(sorted(new))}"
            )


if __name__ == "__main__":
    main()
