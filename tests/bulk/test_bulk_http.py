"""The cart's downloads over HTTP on the session's archive: one zip of the ticked products with
their recorded checksums, the script run by a real shell with curl and with wget, the lists, the
summary the page shows, cutouts of a region from every ticked image (the same pixels as SODA's
own cutout), and every refusal in DataLink's error document."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np
import psycopg
import pytest
from astropy.io import fits

from tests.support.archive import Archive
from tests.support.servers import another_server

FAR_AWAY = "ivo://dalserver.demo/nowhere?not-published"


@pytest.fixture(scope="module")
def ticked(archive: Archive) -> list[tuple[str, str, int, str, float, float]]:
    """(DID, path under the archive, bytes, SHA-256 as the ingest recorded it, s_ra, s_dec) of four
    images: three of one tile (different bands) and one of another tile."""
    with psycopg.connect(archive.url) as conn:
        rows = conn.execute(
            "SELECT o.obs_publisher_did, p.source_path, p.source_bytes, p.source_sha256, o.s_ra, o.s_dec "
            "FROM ivoa.obscore AS o JOIN ingest.provenance AS p USING (obs_publisher_did) "
            "ORDER BY o.s_ra, o.s_dec, o.obs_id"
        ).fetchall()
    first = rows[0]
    same_tile = [r for r in rows if abs(r[4] - first[4]) < 0.01 and abs(r[5] - first[5]) < 0.01][:3]
    other = next(r for r in rows if abs(r[4] - first[4]) > 0.1)
    return [*same_tile, other]


def ids(rows: list[tuple[str, str, int, str, float, float]]) -> list[tuple[str, str]]:
    return [("ID", r[0]) for r in rows]


def post(url: str, pairs: list[tuple[str, str]], timeout: float = 60) -> httpx.Response:
    """A POST of a form with repeated names, as a browser sends it."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return httpx.post(url, content=urlencode(pairs), headers=headers, timeout=timeout)


def dal_error(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/x-votable+xml")
    text = response.text
    start = text.index('<INFO name="QUERY_STATUS" value="ERROR">') + len('<INFO name="QUERY_STATUS" value="ERROR">')
    return text[start : text.index("</INFO>", start)]


def test_one_zip_holds_every_ticked_product_with_the_ingests_checksums(
    server: str, archive: Archive, ticked: list[tuple[str, str, int, str, float, float]]
) -> None:
    answer = httpx.post(f"{server}/bulk/zip", data={"ID": [r[0] for r in ticked]}, timeout=60)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"] == 'attachment; filename="products-4.zip"'
    assert int(answer.headers["content-length"]) == len(answer.content)  # known before the first byte
    archive_zip = zipfile.ZipFile(io.BytesIO(answer.content))
    assert archive_zip.testzip() is None
    names = archive_zip.namelist()
    assert names == [r[1] for r in ticked] + ["README.txt", "SHA256SUMS"]
    for _, path, size, digest, _, _ in ticked:
        data = archive_zip.read(path)
        assert data == (archive.settings.archive_root / path).read_bytes() and len(data) == size
        assert hashlib.sha256(data).hexdigest() == digest
        assert archive_zip.getinfo(path).compress_type == zipfile.ZIP_STORED
    sums = archive_zip.read("SHA256SUMS").decode().splitlines()
    assert sums == [f"{r[3]}  {r[1]}" for r in ticked]
    readme = archive_zip.read("README.txt").decode()
    assert "4 files" in readme and "sha256sum -c SHA256SUMS" in readme and server in readme


def test_a_zip_is_the_same_by_get_and_repeats_come_once(
    server: str, ticked: list[tuple[str, str, int, str, float, float]]
) -> None:
    did = ticked[0][0]
    answer = httpx.get(f"{server}/bulk/zip", params=[("ID", did), ("ID", did.upper().replace("IVO://", "ivo://"))])
    assert answer.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(answer.content)).namelist() == [ticked[0][1], "README.txt", "SHA256SUMS"]


def test_ids_that_name_nothing_published_are_refused_by_name(
    server: str, ticked: list[tuple[str, str, int, str, float, float]]
) -> None:
    for endpoint in ("zip", "script", "urls", "sha256"):
        answer = httpx.post(f"{server}/bulk/{endpoint}", data={"ID": [ticked[0][0], FAR_AWAY]}, timeout=60)
        assert answer.status_code == 404
        message = dal_error(answer)
        assert message.startswith("NotFoundFault: 1 of the requested IDs name no published dataset")
        assert FAR_AWAY in message and ticked[0][0] not in message


@pytest.mark.parametrize(
    ("endpoint", "params", "message"),
    [
        ("zip", [], "UsageFault: missing required parameter ID"),
        ("script", [("ID", " ")], "UsageFault: missing required parameter ID"),
        ("cutouts", "ids", "UsageFault: missing the region to cut"),
        ("cutouts", "ids+two regions", "UsageFault: one region per request"),
        ("cutouts", "ids+bad circle", "UsageFault: CIRCLE"),
        ("summary", "ids+bad polygon", "UsageFault: POLYGON"),
    ],
)
def test_bad_requests_get_a_usage_fault_naming_the_problem(
    server: str,
    ticked: list[tuple[str, str, int, str, float, float]],
    endpoint: str,
    params: str | list[tuple[str, str]],
    message: str,
) -> None:
    if isinstance(params, str):
        extra = {
            "ids": [],
            "ids+two regions": [("CIRCLE", "34.5 -5 0.01"), ("POS", "CIRCLE 34.5 -5 0.01")],
            "ids+bad circle": [("CIRCLE", "34.5 -5")],
            "ids+bad polygon": [("POLYGON", "1 2 3 4")],
        }[params]
        params = ids(ticked) + extra
    answer = post(f"{server}/bulk/{endpoint}", params)
    assert answer.status_code == 400
    assert dal_error(answer).startswith(message)


def test_the_summary_says_what_the_cart_holds_and_what_is_gone(
    server: str, ticked: list[tuple[str, str, int, str, float, float]]
) -> None:
    answer = httpx.post(f"{server}/bulk/summary", data={"ID": [*(r[0] for r in ticked), FAR_AWAY]}, timeout=60)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    summary = answer.json()
    assert [f["name"] for f in summary["files"]] == [r[1] for r in ticked]
    assert [f["sha256"] for f in summary["files"]] == [r[3] for r in ticked]
    assert summary["bytes"] == sum(r[2] for r in ticked)
    assert summary["unknown"] == [FAR_AWAY] and summary["elsewhere"] == []
    zipped = httpx.post(f"{server}/bulk/zip", data={"ID": [r[0] for r in ticked]}, timeout=60)
    assert summary["zip_bytes"] == len(zipped.content)
    assert all(f["url"].startswith(f"{server}/data/") for f in summary["files"])


def test_lists_name_every_file_by_its_url_and_checksum(
    server: str, ticked: list[tuple[str, str, int, str, float, float]]
) -> None:
    urls = httpx.post(f"{server}/bulk/urls", data={"ID": [r[0] for r in ticked]}, timeout=60)
    assert urls.headers["content-disposition"] == 'attachment; filename="urls.txt"'
    lines = urls.text.splitlines()
    assert len(lines) == 4 and all(httpx.get(u).content.startswith(b"SIMPLE  =") for u in lines)
    sums = httpx.post(f"{server}/bulk/sha256", data={"ID": [r[0] for r in ticked]}, timeout=60)
    assert sums.text.splitlines() == [f"{r[3]}  {r[1]}" for r in ticked]


def _tools_without(tmp_path: Path, missing: str) -> str:
    """A PATH holding the tools the script uses, but not ``missing``."""
    folder = tmp_path / f"bin-without-{missing}"
    folder.mkdir()
    for tool in ("sh", "curl", "wget", "sha256sum", "cut", "mkdir", "dirname"):
        found = shutil.which(tool)
        if tool != missing and found:
            (folder / tool).symlink_to(found)
    return str(folder)


@pytest.mark.parametrize("fetcher", ["curl", "wget"])
def test_the_script_fetches_every_file_and_checks_it(
    server: str, tmp_path: Path, ticked: list[tuple[str, str, int, str, float, float]], fetcher: str
) -> None:
    answer = httpx.post(f"{server}/bulk/script", data={"ID": [r[0] for r in ticked]}, timeout=60)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/x-shellscript")
    assert answer.headers["content-disposition"] == 'attachment; filename="download.sh"'
    script = tmp_path / "download.sh"
    script.write_text(answer.text)
    target = tmp_path / "here"
    target.mkdir()
    env = {**os.environ, "PATH": _tools_without(tmp_path, "wget" if fetcher == "curl" else "curl")}
    run = subprocess.run(["sh", str(script)], cwd=target, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "all 4 files are here" in run.stdout
    for _, path, size, digest, _, _ in ticked:
        data = (target / path).read_bytes()
        assert len(data) == size and hashlib.sha256(data).hexdigest() == digest
    # Run again: nothing is fetched twice; a damaged file is fetched anew.
    damaged = target / ticked[0][1]
    damaged.write_bytes(b"not the file")
    again = subprocess.run(["sh", str(script)], cwd=target, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already here: ") == 3 and f"ok: {ticked[0][1]}" in again.stdout
    assert hashlib.sha256(damaged.read_bytes()).hexdigest() == ticked[0][3]


def test_the_script_fails_loudly_when_a_file_is_not_what_the_archive_recorded(
    server: str, tmp_path: Path, ticked: list[tuple[str, str, int, str, float, float]]
) -> None:
    script = httpx.post(f"{server}/bulk/script", data={"ID": ticked[0][0]}, timeout=60).text
    assert ticked[0][3] in script
    wrong = "0" * 64
    (tmp_path / "download.sh").write_text(script.replace(ticked[0][3], wrong))
    run = subprocess.run(["sh", "download.sh"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert f"FAILED: {ticked[0][1]} does not have the SHA-256 the archive recorded ({wrong})" in run.stderr
    assert "1 of 1 files failed: run the script again to retry them" in run.stderr


def test_a_zip_past_the_servers_limit_is_refused_pointing_to_the_script(
    archive: Archive, tmp_path: Path, ticked: list[tuple[str, str, int, str, float, float]]
) -> None:
    limit = ticked[0][2] + 1  # one file fits, two do not
    with another_server(archive.env, tmp_path / "server.log", {"DALSERVER_BULK_MAX_BYTES": str(limit)}) as small:
        one = httpx.post(f"{small.base}/bulk/zip", data={"ID": ticked[0][0]}, timeout=60)
        assert one.status_code == 200
        answer = httpx.post(f"{small.base}/bulk/zip", data={"ID": [r[0] for r in ticked]}, timeout=60)
        assert answer.status_code == 413
        message = dal_error(answer)
        assert message.startswith("UsageFault: the 4 files are ") and "more than this server puts in one zip" in message
        assert "download them with the script" in message
        summary = httpx.post(f"{small.base}/bulk/summary", data={"ID": [r[0] for r in ticked]}, timeout=60).json()
        assert summary["max_zip_bytes"] == limit < summary["bytes"]


def test_cutouts_of_a_region_come_from_every_image_it_touches_and_list_the_others(
    server: str, ticked: list[tuple[str, str, int, str, float, float]]
) -> None:
    _, _, _, _, ra, dec = ticked[0]
    circle = f"{ra} {dec} 0.02"
    params = [*ids(ticked), ("CIRCLE", circle)]
    summary = post(f"{server}/bulk/summary", params).json()["cutouts"]
    assert summary["region"] == f"CIRCLE={circle}"
    assert [m["id"] for m in summary["made"]] == [r[0] for r in ticked[:3]]
    assert summary["missed"] == [{"id": ticked[3][0], "reason": "the region misses it"}]
    answer = post(f"{server}/bulk/cutouts", params, timeout=120)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"] == 'attachment; filename="cutouts-3.zip"'
    zipped = zipfile.ZipFile(io.BytesIO(answer.content))
    names = zipped.namelist()
    assert names == [m["name"] for m in summary["made"]] + ["cutouts.txt"]
    for (did, *_), name in zip(ticked[:3], names, strict=False):
        mine = fits.getdata(io.BytesIO(zipped.read(name)))
        sodas = httpx.get(f"{server}/soda/sync", params={"ID": did, "CIRCLE": circle}, timeout=60)
        assert np.array_equal(mine, fits.getdata(io.BytesIO(sodas.content)))  # the same pixels as SODA's
        assert fits.getheader(io.BytesIO(zipped.read(name)))["SODAID"] == did
    text = zipped.read("cutouts.txt").decode()
    assert text.startswith(f"Cutouts of CIRCLE={circle} from 4 datasets: 3 made, 1 not.")
    assert f"missed  {ticked[3][0]}  ({ticked[3][1]}): the region misses it" in text


def test_a_region_that_misses_every_image_has_no_content(
    server: str, ticked: list[tuple[str, str, int, str, float, float]]
) -> None:
    answer = post(f"{server}/bulk/cutouts", [*ids(ticked), ("CIRCLE", "200 40 0.1")])
    assert answer.status_code == 204 and answer.headers["x-bulk-reason"] == "the region misses all 4 images"


def test_the_landing_page_names_every_download(server: str) -> None:
    page = httpx.get(f"{server}/bulk", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for name in ("summary", "zip", "script", "urls", "sha256", "cutouts"):
        assert f"{server}/bulk/{name}" in page.text
