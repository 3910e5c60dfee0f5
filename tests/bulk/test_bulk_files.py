"""The cart's files without a server: the zip's size known before it is made, chunks regrouped,
and the download script run by a real shell on files with awkward names (spaces, quotes,
dollars), fetched by curl from file:// URLs."""

from __future__ import annotations

import hashlib
import io
import subprocess
import zipfile
from pathlib import Path

from dalserver.bulk.archive import in_chunks, products_zip, readme
from dalserver.bulk.lists import checksum_list, download_script, url_list
from dalserver.bulk.selection import Product, Selection

AWKWARD = ["plain.fits", "with space/it's here.fits", "dollars/$HOME `x`.fits"]


def products(root: Path, names: list[str], sizes: list[int]) -> Selection:
    found = []
    for number, (name, size) in enumerate(zip(names, sizes, strict=True)):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        path.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest() if number != 1 else None  # one without a checksum
        found.append(Product(f"ivo://test/{number}", f"obs{number}", "image", path, name, path.as_uri(), size, digest))
    return Selection(tuple(found))


def test_the_zip_is_as_long_as_announced_and_holds_each_file(tmp_path: Path) -> None:
    selection = products(tmp_path / "archive", AWKWARD, [0, 70_000, 3])
    stream = products_zip(selection, readme(selection, "Test archive", "http://test", "3 products"))
    announced = len(stream)
    body = b"".join(in_chunks(iter(stream), 4096))
    assert len(body) == announced
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.namelist() == [*AWKWARD, "README.txt", "SHA256SUMS"]
    for product in selection.products:
        assert archive.read(product.name) == product.path.read_bytes()
    readme_text = archive.read("README.txt").decode()
    assert "No checksum was recorded for:\n    with space/it's here.fits" in readme_text


def test_extra_files_never_replace_a_product_of_the_same_name(tmp_path: Path) -> None:
    selection = products(tmp_path / "archive", ["README.txt", "SHA256SUMS"], [5, 6])
    body = b"".join(products_zip(selection, "about"))
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert names == ["README.txt", "SHA256SUMS", "_README.txt", "_SHA256SUMS"]


def test_chunks_are_regrouped_to_at_least_the_size_asked() -> None:
    pieces = [b"a" * 3] * 10
    chunks = list(in_chunks(iter(pieces), 7))
    assert [len(c) for c in chunks] == [9, 9, 9, 3] and b"".join(chunks) == b"a" * 30


def test_the_script_copes_with_awkward_names(tmp_path: Path) -> None:
    selection = products(tmp_path / "archive", AWKWARD, [1000, 2000, 3000])
    script = tmp_path / "download.sh"
    script.write_text(download_script(selection, "Test archive", "http://test"))
    subprocess.run(["sh", "-n", str(script)], check=True)  # it parses
    target = tmp_path / "target"
    target.mkdir()
    run = subprocess.run(["sh", str(script)], cwd=target, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    for product in selection.products:
        assert (target / product.name).read_bytes() == product.path.read_bytes()
    assert "all 3 files are here" in run.stdout


def test_the_lists_name_each_file_once() -> None:
    selection = Selection(
        (
            Product("ivo://t/a", "a", "image", Path("/x/a.fits"), "d/a.fits", "http://h/data/d/a.fits", 1, "ab" * 32),
            Product("ivo://t/b", "b", "image", Path("/x/b.fits"), "d/b.fits", "http://h/data/d/b.fits", 1, None),
        )
    )
    assert url_list(selection) == "http://h/data/d/a.fits\nhttp://h/data/d/b.fits\n"
    assert checksum_list(selection) == f"{'ab' * 32}  d/a.fits\n"
