"""gzip for clients that ask: text answers (VOTable, CSV, JSON, XML) compressed as they stream,
binary ones (FITS, Parquet, PNG) and clients that do not ask left alone. Driven with httpx, curl
and STILTS (which asks for gzip)."""

from __future__ import annotations

import asyncio
import gzip
import random
import shutil
import subprocess
import zlib
from typing import Any

import httpx
import pytest

from dalserver.http.compression import Compress, accepts_gzip, compressible

QUERY = "SELECT TOP 500 * FROM ivoa.obscore ORDER BY obs_publisher_did"


@pytest.mark.parametrize(
    ("header", "gzip_ok"),
    [
        ("gzip, deflate, br", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0, *", False),
        ("identity", False),
        ("deflate, *;q=0", False),
        ("br;q=1.0, gzip;q=0.5", True),
        (None, False),
    ],
)
def test_accept_encoding_is_read_with_its_qualities(header: str | None, gzip_ok: bool) -> None:
    assert accepts_gzip(header) is gzip_ok


@pytest.mark.parametrize(
    ("media", "worth_it"),
    [
        ("application/x-votable+xml", True),
        ("application/x-votable+xml;content=datalink", True),
        ("text/csv;header=present", True),
        ("text/tab-separated-values", True),
        ("application/json", True),
        ("text/xml", True),
        ("text/html; charset=utf-8", True),
        ("application/fits", False),
        ("application/vnd.apache.parquet", False),
        ("image/png", False),
        (None, False),
    ],
)
def test_only_text_like_answers_are_compressed(media: str | None, worth_it: bool) -> None:
    assert compressible(media) is worth_it


def test_each_chunk_is_compressed_and_sent_as_it_arrives_not_at_the_end() -> None:
    """A streamed answer stays streamed: every body message yields bytes that decompress to what
    has been sent so far, before the next chunk exists."""
    chunks = [b"<TR><TD>%d</TD></TR>\n" % i * 200 for i in range(5)]
    sent: list[dict[str, Any]] = []
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    seen = b""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal seen
        headers = [(b"content-type", b"application/x-votable+xml")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            seen += decoder.decompress(sent[-1]["body"])  # what the client can read now
            assert seen == b"".join(chunks[: i + 1])
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "headers": [(b"accept-encoding", b"gzip")]}
    asyncio.run(Compress(app, level=1)(scope, None, send))
    start = dict(sent[0]["headers"])
    assert start[b"content-encoding"] == b"gzip" and b"content-length" not in start
    assert gzip.decompress(b"".join(m.get("body", b"") for m in sent[1:])) == b"".join(chunks)


def _compressed_as_streamed(chunk_sizes: list[int], level: int) -> tuple[bytes, bytes]:
    """A text of chunks of these sizes, and what the middleware sends for it, gzip'ed."""
    rng = random.Random(28)
    rows = b"".join(b"<TR><TD>%d</TD><TD>%.17g</TD></TR>\n" % (i, rng.random()) for i in range(sum(chunk_sizes) // 30))
    text = (rows * 2)[: sum(chunk_sizes)]
    edges = [sum(chunk_sizes[:k]) for k in range(len(chunk_sizes) + 1)]
    chunks = [text[a:b] for a, b in zip(edges, edges[1:], strict=False)]
    sent: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/csv")]})
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "headers": [(b"accept-encoding", b"gzip")]}
    asyncio.run(Compress(app, level=level)(scope, None, send))
    return text, b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize("level", [1, 6, 9])
def test_large_chunks_compressed_in_parts_on_every_core_decode_to_the_same_text(level: int) -> None:
    # Small chunks (one stream), then chunks large enough to be cut into parts, then small again,
    # the last large: every switch between the two ways must leave a valid gzip member.
    sizes = [700, 3 << 20, 100, 5, (1 << 20) + 7, 2000, 3 << 20]
    text, packed = _compressed_as_streamed(sizes, level)
    assert gzip.decompress(packed) == text  # the CRC-32 and size in the trailer checked too
    plain = zlib.compress(text, level)
    assert len(packed) < len(plain) * 1.02  # the parts lose next to nothing of the level's ratio


@pytest.mark.parametrize("size", [500, 511, 512, 513, 3000, 14000, 32767, 32768, 32769, 100_000])
def test_a_small_answer_sent_whole_with_a_window_of_its_size_compresses_as_with_the_full_window(size: int) -> None:
    text, packed = _compressed_as_streamed([size], 1)
    assert gzip.decompress(packed) == text
    assert subprocess.run(["gzip", "-t"], input=packed, check=False).returncode == 0
    full = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert packed[10:-8] == full.compress(text) + full.flush()  # the same deflate stream, byte for byte


def test_a_whole_answer_in_one_large_chunk_is_one_valid_gzip_member() -> None:
    text, packed = _compressed_as_streamed([4 << 20], 1)
    assert packed[:3] == b"\x1f\x8b\x08" and gzip.decompress(packed) == text
    assert subprocess.run(["gzip", "-t"], input=packed, check=False).returncode == 0


def test_a_votable_result_comes_gzipped_to_a_client_that_asks(tap_url: str) -> None:
    params = {"LANG": "ADQL", "QUERY": QUERY}
    plain = httpx.get(f"{tap_url}/sync", params=params, headers={"Accept-Encoding": "identity"}, timeout=60)
    with httpx.stream(
        "GET", f"{tap_url}/sync", params=params, headers={"Accept-Encoding": "gzip"}, timeout=60
    ) as packed:
        raw = b"".join(packed.iter_raw())
        assert packed.headers["content-encoding"] == "gzip" and "accept-encoding" in packed.headers["vary"].lower()
    assert "content-encoding" not in plain.headers
    assert gzip.decompress(raw) == plain.content
    assert len(raw) * 3 < len(plain.content)  # TABLEDATA shrinks several times


def test_a_small_answer_sent_whole_is_gzipped_with_its_length_not_chunked(tap_url: str) -> None:
    params = {"LANG": "ADQL", "QUERY": "SELECT TOP 5 * FROM ivoa.obscore ORDER BY obs_publisher_did"}
    plain = httpx.get(f"{tap_url}/sync", params=params, headers={"Accept-Encoding": "identity"}, timeout=60)
    with httpx.stream(
        "GET", f"{tap_url}/sync", params=params, headers={"Accept-Encoding": "gzip"}, timeout=60
    ) as packed:
        raw = b"".join(packed.iter_raw())
        assert packed.headers["content-encoding"] == "gzip" and "transfer-encoding" not in packed.headers
        assert int(packed.headers["content-length"]) == len(raw)
    assert gzip.decompress(raw) == plain.content


@pytest.mark.parametrize("fmt", ["csv", "json", "tsv"])
def test_text_formats_are_compressed(tap_url: str, fmt: str) -> None:
    params = {"LANG": "ADQL", "QUERY": QUERY, "RESPONSEFORMAT": fmt}
    response = httpx.get(f"{tap_url}/sync", params=params, headers={"Accept-Encoding": "gzip"}, timeout=60)
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert len(response.content) > 10_000  # httpx decoded it


@pytest.mark.parametrize("fmt", ["fits", "parquet"])
def test_binary_formats_are_sent_as_they_are(tap_url: str, fmt: str) -> None:
    params = {"LANG": "ADQL", "QUERY": QUERY, "RESPONSEFORMAT": fmt}
    response = httpx.get(f"{tap_url}/sync", params=params, headers={"Accept-Encoding": "gzip"}, timeout=60)
    assert response.status_code == 200 and "content-encoding" not in response.headers


def test_a_client_that_does_not_ask_gets_no_compression(tap_url: str) -> None:
    response = httpx.get(f"{tap_url}/tables", headers={"Accept-Encoding": "identity"}, timeout=60)
    assert response.status_code == 200 and "content-encoding" not in response.headers


def test_an_async_result_file_is_compressed_too(tap_url: str) -> None:
    from tests.support.uws import submit, wait_for_phase

    job_url = submit(tap_url, QUERY)
    assert wait_for_phase(job_url, ("COMPLETED", "ERROR")) == "COMPLETED"
    response = httpx.get(f"{job_url}/results/result", headers={"Accept-Encoding": "gzip"}, timeout=60)
    assert response.headers["content-encoding"] == "gzip" and b"<TABLEDATA>" in response.content


def test_curl_compressed_downloads_a_votable(tap_url: str) -> None:
    curl = shutil.which("curl")
    assert curl
    result = subprocess.run(
        [
            curl,
            "-sS",
            "--compressed",
            "-D",
            "-",
            "-G",
            f"{tap_url}/sync",
            "--data-urlencode",
            "LANG=ADQL",
            "--data-urlencode",
            f"QUERY={QUERY}",
        ],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert b"content-encoding: gzip" in head.lower() and body.rstrip().endswith(b"</VOTABLE>")


def test_stilts_reads_a_compressed_answer(tap_url: str) -> None:
    stilts = shutil.which("stilts")
    assert stilts, "stilts is not installed: ./dev test installs Debian's stilts package"
    result = subprocess.run(
        [stilts, "tapquery", f"tapurl={tap_url}", f"adql={QUERY}", "ofmt=csv"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 133  # header and every image (132 < TOP 500)
