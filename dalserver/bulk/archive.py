"""One zip of many products, streamed as it is made: files stored as they are (FITS barely
compresses, and the CPU is better spent serving), read 64 KiB at a time, so a worker's memory
stays where it was whatever the archive's size. The size is known before the first byte (stored
entries), so the client gets a Content-Length and a real progress bar."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dalserver.bulk.selection import Product, Selection

if TYPE_CHECKING:
    from zipstream import ZipStream

CHUNK_BYTES = 1 << 20  # the zip's small pieces are passed on in chunks of about this size


def checksum_lines(products: Iterable[Product]) -> str:
    """``sha256sum -c`` input: one line per product whose checksum the ingest recorded."""
    return "".join(f"{p.sha256}  {p.name}\n" for p in products if p.sha256)


def readme(selection: Selection, title: str, base_url: str, what: str) -> str:
    """What the zip holds, where from, when; and what it could not hold."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [
        f"{title}: {what}",
        f"made {when} by {base_url}",
        "",
        f"{len(selection.products)} files, {selection.total_bytes:,} bytes, under their paths in the archive.",
        "SHA256SUMS has the checksum the ingest recorded for each file: check them with",
        "    sha256sum -c SHA256SUMS        (macOS: shasum -a 256 -c SHA256SUMS)",
    ]
    missing = [p.name for p in selection.products if not p.sha256]
    if missing:
        lines += ["", "No checksum was recorded for:", *(f"    {name}" for name in missing)]
    if selection.elsewhere:
        lines += ["", "Published, but not stored in this archive (fetch them from their URL):"]
        lines += [f"    {d.did}  {d.access_url or '(no access URL)'}" for d in selection.elsewhere]
    return "\n".join(lines) + "\n"


def _extra_name(wanted: str, taken: set[str]) -> str:
    name = wanted
    while name in taken:
        name = f"_{name}"
    return name


def products_zip(selection: Selection, readme_text: str) -> ZipStream:
    """The zip of ``selection``'s files, with README.txt and SHA256SUMS beside them."""
    from zipstream import ZIP_STORED, ZipStream  # imported by a zip download, not at start (2 MB)

    stream = ZipStream(compress_type=ZIP_STORED, sized=True)
    taken = {p.name for p in selection.products}
    for product in selection.products:
        stream.add_path(str(product.path), product.name)
    stream.add(readme_text, _extra_name("README.txt", taken))
    stream.add(checksum_lines(selection.products), _extra_name("SHA256SUMS", taken))
    return stream


def in_chunks(pieces: Iterable[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """``pieces`` regrouped into chunks of at least ``size`` bytes (the last may be smaller)."""
    buffer: list[bytes] = []
    held = 0
    for piece in pieces:
        buffer.append(piece)
        held += len(piece)
        if held >= size:
            yield b"".join(buffer)
            buffer.clear()
            held = 0
    if buffer:
        yield b"".join(buffer)
