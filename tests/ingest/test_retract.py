"""Retracting images: ``dalserver drop images PATH|DID...`` and ``ingest images --prune`` take the
images out of everything that publishes them (TAP, SIA, DataLink and its previews, SODA, /data,
the MOCs, the registry records and RegTAP, the next HiPS build), and a drop that names anything
the archive does not hold drops nothing.

On an archive of its own (a database beside the session's, its own home and server), so that the
session archive's tests keep counting the same rows and records: Suprime-Cam V stacks in two
corners of the SXDS field, and one image of another instrument, a collection of its own.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import httpx
import psycopg
import pytest
from astropy.io import fits
from lxml import etree

from archive_io.coverage import moc_from_ascii
from archive_io.hips_properties import parse
from data_ingest.sample import StackSpec, make_wcs, render_image, sky_sources, stack_header, stack_specs
from hips_build.geometry import footprint_tiles, tile_path
from pgsql_text.pgsphere import spoly_vertices
from tests.support.archive import Archive, fresh_database
from tests.support.servers import RunningServer, free_port, start_server, stop_server
from tests.support.votable import fields, rows

NS = {"o": "http://www.openarchives.org/OAI/2.0/"}
SUPRIMECAM = "ivo://dalserver.demo/subaru-suprime-cam"
OTHERCAM = "ivo://dalserver.demo/othercam"
V_SURVEY = "subaru-suprime-cam-w-j-v"
OTHER_SURVEY = "othercam-w-j-v"
UNKNOWN = f"{SUPRIMECAM}?SUPM99999999C000000F00"


@dataclass
class Image:
    did: str
    path: Path  # under the archive directory
    footprint: tuple[tuple[float, float], ...]
    centre: tuple[float, float]


@dataclass
class Own:
    """The test's own archive and server, and what it served before the drop."""

    home: Path
    url: str
    env: dict[str, str]
    server: RunningServer
    images: dict[str, Image]  # kept, kept2, prunable, far, other
    before: dict[str, object]
    dropped: subprocess.CompletedProcess[str] | None = None

    @property
    def base(self) -> str:
        return self.server.base

    @property
    def archive_root(self) -> Path:
        return self.home / "archive"


def drop_database(archive: Archive, name: str) -> None:
    with psycopg.connect(archive.url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _stack(path: Path, spec: StackSpec, instrument: str | None = None) -> None:
    w = make_wcs(spec.ra, spec.dec, 110, 6.0)
    header = stack_header(spec, w)
    if instrument:  # an instrument without a profile: a collection of its own, named after it
        header["INSTRUME"] = instrument
        header["FRAMEID"] = f"{instrument}-{spec.tile_i}{spec.tile_j}"
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.PrimaryHDU(render_image(spec, w, 110, 6.0, sky_sources(), seed=7), header).writeto(path)


def dalserver(own: Own | dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = own if isinstance(own, dict) else own.env
    return subprocess.run(
        [sys.executable, "-m", "dalserver", *args], env=env, capture_output=True, text=True, timeout=600, cwd=cwd
    )


def oai_headers(base: str) -> dict[str, etree._Element]:
    doc = etree.fromstring(
        httpx.get(f"{base}/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "ivo_vor"}, timeout=30).content
    )
    return {h.findtext("o:identifier", namespaces=NS): h for h in doc.iterfind("o:ListIdentifiers/o:header", NS)}


def collection_moc(base: str, name: str) -> httpx.Response:
    return httpx.get(f"{base}/moc/collection/{name}.txt", timeout=30)


def covers(moc_text: str, point: tuple[float, float]) -> bool:
    moc = moc_from_ascii(moc_text)
    return bool(moc.contains_lonlat(point[0] * u.deg, point[1] * u.deg)[0])


def deepest_tiles(survey: Path, image: Image) -> list[Path]:
    """The FITS tiles of the survey's deepest order over the image's footprint."""
    order = int(parse((survey / "properties").read_text())["hips_order"])
    return [tile_path(survey, order, int(t), "fits") for t in footprint_tiles(image.footprint, order)]


def previews(home: Path) -> set[Path]:
    return set((home / "cache" / "previews").rglob("*.png"))


@pytest.fixture(scope="module")
def own(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Own]:
    home = tmp_path_factory.mktemp("retract-home")
    url = fresh_database(archive, "dalserver_retract_test")
    port = free_port()
    env = {**archive.env, "DALSERVER_HOME": str(home), "DALSERVER_DATABASE_URL": url, "DALSERVER_PORT": str(port)}
    v_stacks = {(s.tile_i, s.tile_j): s for s in stack_specs() if s.band == "W-J-V"}
    files = {
        "kept": (home / "archive" / "suprimecam" / "kept.fits", v_stacks[(0, 0)], None),
        "kept2": (home / "archive" / "suprimecam" / "kept 2.fits", v_stacks[(1, 0)], None),
        "prunable": (home / "archive" / "suprimecam" / "prunable.fits", v_stacks[(2, 0)], None),
        "far": (home / "archive" / "suprimecam" / "far.fits", v_stacks[(5, 5)], None),
        "other": (home / "archive" / "othercam" / "other.fits", v_stacks[(0, 5)], "OtherCam"),
    }
    for path, spec, instrument in files.values():
        _stack(path, spec, instrument)
    ingested = dalserver(env, "ingest", "images", "--quiet", str(home / "archive"))
    assert ingested.returncode == 0, ingested.stderr
    images = {}
    with psycopg.connect(url) as conn:
        conn.execute("SELECT set_sphere_output('DEG')")
        for name, (path, _, _) in files.items():
            did, region, ra, dec = conn.execute(
                "SELECT o.obs_publisher_did, CAST(o.s_region AS text), o.s_ra, o.s_dec FROM ivoa.obscore AS o "
                "JOIN ingest.provenance AS p USING (obs_publisher_did) WHERE p.source_path = %s",
                (path.relative_to(home / "archive").as_posix(),),
            ).fetchone()
            images[name] = Image(did, path, spoly_vertices(region), (ra, dec))
    built = dalserver(env, "hips", "build", "--tile-width", "64", "--workers", "1", "--quiet")
    assert built.returncode == 0, built.stderr
    server = start_server(env, f"http://127.0.0.1:{port}", home / "server.log")
    own = Own(home, url, env, server, images, {})
    try:
        far = images["far"]
        assert httpx.get(f"{own.base}/datalink/preview", params={"ID": far.did}, timeout=60).status_code == 200
        own.before = {
            "oai": {k: h.findtext("o:datestamp", namespaces=NS) for k, h in oai_headers(own.base).items()},
            "previews": previews(home),
            "moc": collection_moc(own.base, "subaru-suprime-cam").text,
            "other_moc": collection_moc(own.base, "othercam").status_code,
            "far_tiles": [t for t in deepest_tiles(home / "hips" / V_SURVEY, far) if t.exists()],
        }
        assert own.before["previews"] and own.before["far_tiles"] and own.before["other_moc"] == 200
        time.sleep(1.1)  # datestamps have second granularity
        # A DID (in other letter case: IVOIDs compare case-insensitively), and a folder given
        # relative to the working directory.
        shouted = far.did.upper().replace("IVO://", "ivo://")
        own.dropped = dalserver(own, "drop", "images", shouted, "othercam", cwd=home / "archive")
        yield own
    finally:
        stop_server(server)
        drop_database(archive, "dalserver_retract_test")


def test_the_drop_says_what_it_removed_and_succeeds(own: Own) -> None:
    assert own.dropped is not None and own.dropped.returncode == 0, own.dropped.stderr
    out = own.dropped.stdout
    far, other = own.images["far"], own.images["other"]
    assert f"removed {far.did} (suprimecam/far.fits)" in out and f"removed {other.did} (othercam/other.fits)" in out
    assert "removed 2 images of OtherCam, Subaru/Suprime-Cam from ivoa.obscore" in out and "1 cached preview" in out
    assert "dalserver hips build" in out  # the surveys still show them until the next build


def test_tap_and_sia_no_longer_find_the_dropped_images(own: Own) -> None:
    found = httpx.post(
        f"{own.base}/tap/sync",
        data={"LANG": "ADQL", "FORMAT": "csv", "QUERY": "SELECT obs_publisher_did FROM ivoa.obscore"},
        timeout=60,
    ).text.split()[1:]
    dids = {d.strip('"') for d in found}
    assert {own.images["kept"].did, own.images["kept2"].did} <= dids
    assert not {own.images["far"].did, own.images["other"].did} & dids
    for image in (own.images["far"], own.images["other"]):
        by_id = httpx.get(f"{own.base}/sia/query", params={"ID": image.did}, timeout=60)
        ra, dec = image.centre
        by_pos = httpx.get(f"{own.base}/sia/query", params={"POS": f"CIRCLE {ra} {dec} 0.01"}, timeout=60)
        assert by_id.status_code == by_pos.status_code == 200
        assert rows(by_id) == rows(by_pos) == []


def _links(base: str, did: str) -> list[dict[str, str | None]]:
    response = httpx.get(f"{base}/datalink/links", params={"ID": did}, timeout=60)
    names = [f["name"] for f in fields(response)]
    return [dict(zip(names, row, strict=True)) for row in rows(response)]


def _links_of_any_id(base: str, did: str) -> list[dict[str, str | None]]:
    """The {links} rows of ``did`` with the ID itself taken out, to compare with another ID's."""
    return [
        {**r, "ID": None, "error_message": (r["error_message"] or "").replace(did, "ID")} for r in _links(base, did)
    ]


def _same_answer(dropped: httpx.Response, unknown: httpx.Response, did: str) -> None:
    assert dropped.status_code == unknown.status_code == 404
    assert dropped.headers["content-type"] == unknown.headers["content-type"]
    assert dropped.text.replace(did, "ID") == unknown.text.replace(UNKNOWN, "ID")


def test_datalink_previews_provenance_and_soda_answer_as_for_an_unknown_id(own: Own) -> None:
    did = own.images["far"].did
    dropped, as_unknown = _links_of_any_id(own.base, did), _links_of_any_id(own.base, UNKNOWN)
    assert dropped == as_unknown and str(dropped[0]["error_message"]).startswith("NotFoundFault: ")
    for path, extra in (
        ("datalink/preview", {}),
        ("datalink/provenance", {}),
        ("soda/sync", {"CIRCLE": "34.9 -4.6 0.01"}),
    ):
        _same_answer(
            httpx.get(f"{own.base}/{path}", params={"ID": did, **extra}, timeout=60),
            httpx.get(f"{own.base}/{path}", params={"ID": UNKNOWN, **extra}, timeout=60),
            did,
        )
    with psycopg.connect(own.url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM ingest.provenance WHERE obs_publisher_did = %s", (did,)
        ).fetchone() == (0,)


def test_data_no_longer_serves_the_dropped_files_which_stay_in_the_archive(own: Own) -> None:
    for name in ("far", "other"):
        path = own.images[name].path
        assert path.is_file()
        relative = path.relative_to(own.archive_root).as_posix()
        dropped = httpx.get(f"{own.base}/data/{relative}", timeout=30)
        missing = httpx.get(f"{own.base}/data/{relative}.missing", timeout=30)
        assert dropped.status_code == missing.status_code == 404 and dropped.content == missing.content
    kept = own.images["kept2"].path.relative_to(own.archive_root).as_posix()
    assert httpx.get(f"{own.base}/data/{kept}", timeout=30).status_code == 200  # "kept 2.fits", a space and all


def test_the_cached_previews_of_the_dropped_images_are_removed(own: Own) -> None:
    before = own.before["previews"]
    assert isinstance(before, set) and before and not before & previews(own.home)


def test_the_mocs_no_longer_cover_what_only_the_dropped_images_covered(own: Own) -> None:
    before, after = str(own.before["moc"]), collection_moc(own.base, "subaru-suprime-cam")
    assert after.status_code == 200
    far, kept = own.images["far"].centre, own.images["kept"].centre
    assert covers(before, far) and not covers(after.text, far)
    assert covers(before, kept) and covers(after.text, kept)
    assert not covers(httpx.get(f"{own.base}/moc/all.txt", timeout=30).text, own.images["other"].centre)
    gone = collection_moc(own.base, "othercam")
    assert gone.status_code == 404 and b"no collection" in gone.content


def test_the_records_datestamps_move_and_an_emptied_collection_is_a_deleted_record(own: Own) -> None:
    before = own.before["oai"]
    assert isinstance(before, dict)
    after = oai_headers(own.base)
    stamp = after[SUPRIMECAM].findtext("o:datestamp", namespaces=NS)
    assert after[SUPRIMECAM].get("status") is None and stamp > before[SUPRIMECAM]
    assert (
        after[OTHERCAM].get("status") == "deleted"
        and after[OTHERCAM].findtext("o:datestamp", namespaces=NS) > before[OTHERCAM]
    )
    for service in ("ivo://dalserver.demo/obscore", "ivo://dalserver.demo/sia", "ivo://dalserver.demo/tap"):
        assert after[service].findtext("o:datestamp", namespaces=NS) > before[service]
    # The relational registry (pyvo.regsearch) follows.
    with psycopg.connect(own.url) as conn:
        ivoids = {i for (i,) in conn.execute("SELECT ivoid FROM rr.resource")}
    assert SUPRIMECAM in ivoids and OTHERCAM not in ivoids


def test_the_next_hips_build_removes_the_tiles_only_the_dropped_images_made(own: Own) -> None:
    survey = own.home / "hips" / V_SURVEY
    assert all(t.exists() for t in own.before["far_tiles"])  # type: ignore[attr-defined]  # the drop touched no HiPS file
    built = dalserver(own, "hips", "build", "--tile-width", "64", "--workers", "1", "--quiet")
    assert built.returncode == 0, built.stderr
    assert f"{V_SURVEY}: updated" in built.stdout and f"{OTHER_SURVEY}: removed" in built.stdout
    assert not any(t.exists() for t in own.before["far_tiles"])  # type: ignore[attr-defined]  # paths, stored as objects
    assert all(any(t.exists() for t in deepest_tiles(survey, own.images[k])) for k in ("kept", "kept2"))
    served = httpx.get(f"{own.base}/hips/{V_SURVEY}/Moc.fits", timeout=30)
    assert served.status_code == 200
    assert httpx.get(f"{own.base}/hips/{OTHER_SURVEY}/properties", timeout=30).status_code == 404


def test_a_drop_naming_anything_the_archive_does_not_hold_drops_nothing(own: Own) -> None:
    kept = own.images["kept"]
    outside = own.home / "elsewhere.fits"
    done = dalserver(own, "drop", "images", kept.did, UNKNOWN, str(own.archive_root / "nothing-here"), str(outside))
    assert done.returncode == 1
    assert f"error: {UNKNOWN}: no published image has this publisher DID" in done.stderr
    assert "nothing-here: no published image's file is at or under this path" in done.stderr
    assert f"{outside}: outside the archive directory" in done.stderr
    assert "nothing was dropped" in done.stderr
    assert len(_links(own.base, kept.did)) == 4  # still published: #this, #auxiliary, #preview, #cutout


def test_ingest_prune_retracts_the_images_whose_files_are_gone(own: Own) -> None:
    prunable = own.images["prunable"]
    relative = prunable.path.relative_to(own.archive_root).as_posix()
    prunable.path.unlink()
    done = dalserver(own, "ingest", "images", "--prune", "--quiet", str(own.archive_root / "suprimecam"))
    assert done.returncode == 0, done.stderr
    assert (
        "pruned 1 images whose files are gone" in done.stdout and f"removed {prunable.did} ({relative})" in done.stdout
    )
    assert _links(own.base, prunable.did)[0]["error_message"].startswith("NotFoundFault: ")
    assert len(_links(own.base, own.images["kept"].did)) == 4
    again = dalserver(own, "ingest", "images", "--prune", "--quiet", str(own.archive_root / "suprimecam"))
    assert again.returncode == 0 and "pruned 0 images" in again.stdout
