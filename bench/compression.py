"""What gzip costs and saves on result downloads, to choose DALSERVER_GZIP_LEVEL.

Usage: .venv/bin/python bench/compression.py [--rows 300000] [--formats votable,csv,json]
Publishes a catalogue of N rows x 7 columns with the real ingest command and starts a real
server. For each text format it downloads ``SELECT * FROM bench.gzip`` twice with httpx, once
without and once with ``Accept-Encoding: gzip`` (at the server's level, DALSERVER_GZIP_LEVEL),
and prints the wall-time ratio and the size ratio: loopback is the worst case for compression,
since the network costs nothing. Then it compresses the downloaded bytes again in-process, in the
server's 1 MiB chunks with a sync flush each, at levels 1, 3, 6 and 9, and prints the CPU time per
MB and the size each level reaches: over a link of B MB/s a level pays when it compresses faster
than B / (1 - size ratio) MB/s.
"""

from __future__ import annotations

import argparse
import os
import time
import zlib

import httpx
from common import bench_database, publish_catalogue, server_env, serving

QUERY = "SELECT * FROM bench.gzip"
CHUNK = 1 << 20


def download(base: str, fmt: str, rows: int, encoding: str) -> tuple[float, int, bytes]:
    """Seconds, bytes on the wire, and the decoded document."""
    params = {"LANG": "ADQL", "QUERY": QUERY, "MAXREC": str(rows + 10), "RESPONSEFORMAT": fmt}
    start = time.perf_counter()
    wire = 0
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    parts = []
    with httpx.stream(
        "POST", f"{base}/tap/sync", data=params, headers={"Accept-Encoding": encoding}, timeout=600
    ) as response:
        if response.status_code != 200:
            raise SystemExit(f"{fmt}: HTTP {response.status_code}")
        if (response.headers.get("content-encoding") == "gzip") != (encoding == "gzip"):
            raise SystemExit(f"{fmt}: Content-Encoding {response.headers.get('content-encoding')!r} for {encoding}")
        for block in response.iter_raw(CHUNK):
            wire += len(block)
            parts.append(decoder.decompress(block) if decoder else block)
    return time.perf_counter() - start, wire, b"".join(parts)


def cpu_per_level(document: bytes, level: int) -> tuple[float, int]:
    """CPU seconds and compressed size for ``document`` in 1 MiB chunks, sync-flushed, as the server does."""
    z = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    size = 0
    start = time.process_time()
    for offset in range(0, len(document), CHUNK):
        size += len(z.compress(document[offset : offset + CHUNK])) + len(z.flush(zlib.Z_SYNC_FLUSH))
    size += len(z.flush())
    return time.process_time() - start, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--formats", default="votable,csv,json")
    args = parser.parse_args()
    url = bench_database()
    env, base = server_env(url, DALSERVER_MAXREC_HARD=str(args.rows + 10), DALSERVER_STATEMENT_TIMEOUT_SECONDS="600")
    level = os.environ.get("DALSERVER_GZIP_LEVEL", "1 (default)")
    publish_catalogue(env, args.rows, "bench.gzip")
    print(f"{args.rows:,} rows x 7 columns; server gzip level {level}; loopback")
    with serving(env, base, url):
        for fmt in args.formats.split(","):
            download(base, fmt, args.rows, "identity")  # warm-up: caches, the query plan
            plain_s, plain_bytes, document = download(base, fmt, args.rows, "identity")
            packed_s, packed_bytes, decoded = download(base, fmt, args.rows, "gzip")
            if decoded != document:
                raise SystemExit(f"{fmt}: the gzip'ed download does not decode to the plain one")
            mb = plain_bytes / 1e6
            print(
                f"{fmt:8s} plain {plain_s:6.2f} s {mb:7.1f} MB; gzip {packed_s:6.2f} s {packed_bytes / 1e6:7.1f} MB: "
                f"time {packed_s / plain_s:.2f} x plain, size {packed_bytes / plain_bytes:.3f} x"
            )
            for each in (1, 3, 6, 9):
                cpu, size = cpu_per_level(document, each)
                print(
                    f"         level {each}: {cpu / mb * 1000:6.2f} ms CPU per MB ({mb / cpu:6.0f} MB/s), "
                    f"size {size / plain_bytes:.3f} x"
                )


if __name__ == "__main__":
    main()
