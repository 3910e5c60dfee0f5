"""``dalserver hips build`` on the test archive (ObsCore in PostgreSQL), and the surveys as the
running server serves them: the HiPS list, media types, CORS, caching, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import httpx
import psycopg
import pytest
from astropy.io import fits
from lxml import etree

from archive_io import hips_properties as props
from hips_build.obscore_images import obscore_images
from tests.support.archive import Archive
from tests.support.hips import SERVED_BANDS as BANDS
from tests.support.schemas import schema_errors

NAME = "subaru-suprime-cam-n-b-l497"


def _cli(archive: Archive, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dalserver", "hips", *args], env=archive.env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def hips_built(served_surveys: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    return served_surveys


def test_obscore_lists_every_sample_image_with_its_file_and_checksum(archive: Archive, db: psycopg.Connection) -> None:
    images = obscore_images(db, archive.settings.archive_root)
    assert len(images) == 132
    assert all(i.path.is_file() and i.fingerprint.startswith("sha256:") and len(i.footprint) == 4 for i in images)
    assert {i.band for i in images} >= set(BANDS)


def test_the_build_command_makes_a_survey_per_band_and_a_colour_one(
    hips_built: subprocess.CompletedProcess[str], archive: Archive
) -> None:
    for band in BANDS:
        assert f"subaru-suprime-cam-{band.lower()}: built" in hips_built.stdout
    assert "subaru-suprime-cam-color: built" in hips_built.stdout
    again = _cli(archive, "build", *[a for b in BANDS for a in ("--band", b)], "--tile-width", "64", "--quiet")
    assert again.returncode == 0 and again.stdout.count("up to date") == 4, again.stdout
    listed = _cli(archive, "list")
    assert len(listed.stdout.splitlines()) == 4 and all(
        line.startswith("subaru-suprime-cam-") for line in listed.stdout.splitlines()
    )


def test_a_band_with_no_images_is_reported(hips_built: subprocess.CompletedProcess[str], archive: Archive) -> None:
    done = _cli(archive, "build", "--band", "W-C-IC", "--quiet")
    assert done.returncode == 1
    assert "band W-C-IC: no images in ivoa.obscore, so no survey" in done.stderr


def test_the_hipslist_names_every_survey_with_its_service_url(hips_built: object, server: str) -> None:
    answer = httpx.get(f"{server}/hips/hipslist")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["access-control-allow-origin"] == "*"
    blocks = [props.parse(b) for b in answer.text.split("\n\n")]
    blocks = [b for b in blocks if b]
    assert len(blocks) == 4
    for block in blocks:
        assert all(block.get(k) for k in props.HIPSLIST_REQUIRED)
        assert block["hips_service_url"].startswith(f"{server}/hips/subaru-suprime-cam-")
        properties = httpx.get(f"{block['hips_service_url']}/properties")
        assert properties.status_code == 200 and props.parse(properties.text)["creator_did"] == block["creator_did"]
    page = httpx.get(f"{server}/hips")
    assert page.status_code == 200 and NAME in page.text and page.headers["content-type"].startswith("text/html")
    assert f'href="/hips/{NAME}/index.html"' in page.text and f'href="/hips/{NAME}/properties"' in page.text


def test_survey_files_come_with_their_media_types_cors_and_caching(
    hips_built: object, server: str, archive: Archive
) -> None:
    base = f"{server}/hips/{NAME}"
    root = archive.settings.hips_root / NAME
    tile = next((root / "Norder9").glob("Dir*/Npix*.fits")).relative_to(root).as_posix()
    expected = {
        "properties": "text/plain; charset=utf-8",
        tile: "image/fits",
        tile.replace(".fits", ".png"): "image/png",
        "Norder3/Allsky.fits": "image/fits",
        "Norder3/Allsky.png": "image/png",
        "Moc.fits": "application/fits",
        "index.html": "text/html; charset=utf-8",
        "preview.jpg": "image/jpeg",
    }
    for relative, media in expected.items():
        answer = httpx.get(f"{base}/{relative}")
        assert answer.status_code == 200, relative
        assert answer.headers["content-type"] == media, relative
        assert answer.headers["access-control-allow-origin"] == "*"
        assert answer.headers["cache-control"].startswith("public, max-age=")
        assert answer.content == (root / relative).read_bytes()
    fetched = httpx.get(f"{base}/{tile}")
    again = httpx.get(f"{base}/{tile}", headers={"If-None-Match": fetched.headers["etag"]})
    assert again.status_code == 304 and again.headers["access-control-allow-origin"] == "*"
    assert httpx.head(f"{base}/{tile}").status_code == 200
    colour = httpx.get(f"{server}/hips/subaru-suprime-cam-color/{tile.replace('.fits', '.jpg')}")
    assert colour.status_code == 200 and colour.headers["content-type"] == "image/jpeg"
    for root_url in (base, f"{base}/"):  # a survey's base URL in a browser is its page (HiPS 1.0 sec. 4.4.5)
        redirect = httpx.get(root_url, follow_redirects=False)
        assert redirect.status_code == 307 and redirect.headers["location"].endswith(f"/hips/{NAME}/index.html")
    page = httpx.get(f"{base}/index.html")
    assert page.headers["cache-control"] == "public, max-age=60"
    # the page starts the Aladin Lite this server serves for its portal
    assert '"viewer": "../../portal/vendor/aladin-lite/aladin.js"' in page.text
    script = httpx.get(urljoin(f"{base}/index.html", "../../portal/vendor/aladin-lite/aladin.js"))
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    with fits.open(root / tile) as hdul:
        assert hdul[0].header["CTYPE1"] == "RA---HPX"


@pytest.mark.parametrize(
    "path",
    [
        "subaru-suprime-cam-n-b-l497/Norder9/Dir0/Npix1.fits",
        "no-such-survey/properties",
        "subaru-suprime-cam-n-b-l497/.dalserver-build.json",
        ".builds/x",
        "subaru-suprime-cam-n-b-l497/..%2F..%2Fserver.log",
    ],
)
def test_what_is_not_a_survey_file_is_a_plain_404(hips_built: object, server: str, path: str) -> None:
    answer = httpx.get(f"{server}/hips/{path}")
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "HiPS survey" in answer.text or "no HiPS survey" in answer.text or answer.text == "no such resource"


def test_the_default_hips_directory_is_under_home(archive: Archive) -> None:
    assert archive.settings.hips_root == (Path(archive.settings.home) / "hips").absolute()


def test_after_ingesting_new_images_a_rebuild_redoes_only_their_tiles(
    archive: Archive, db: psycopg.Connection, tmp_path: Path
) -> None:
    """On an archive of its own (a second database on the test cluster): ingest three stacks,
    build, ingest a fourth, build again."""
    name = "dalserver_hips_incremental"
    db.execute(f"DROP DATABASE IF EXISTS {name}")
    db.execute(f"CREATE DATABASE {name}")
    url = psycopg.conninfo.make_conninfo(archive.url, dbname=name)
    home = tmp_path / "home"
    stacks = home / "archive" / "stacks"
    stacks.mkdir(parents=True)
    sample = archive.settings.archive_root / "suprimecam"
    files = sorted(p for p in sample.glob("*.fits") if fits.getheader(p)["FILTER01"] == "N-B-L497")
    env = {**archive.env, "DALSERVER_DATABASE_URL": url, "DALSERVER_HOME": str(home)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "dalserver", *args], env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr
        return done

    try:
        for path in files[:3]:
            (stacks / path.name).write_bytes(path.read_bytes())
        run("ingest", "images", "--quiet", str(stacks))
        first = run("hips", "build", "--tile-width", "64", "--no-color", "--quiet")
        assert f"{NAME}: built" in first.stdout
        survey = home / "hips" / NAME
        before = {p.relative_to(survey): p.stat().st_ino for p in survey.rglob("Npix*.fits")}
        (stacks / files[3].name).write_bytes(files[3].read_bytes())
        run("ingest", "images", "--quiet", str(stacks / files[3].name))
        second = run("hips", "build", "--tile-width", "64", "--no-color", "--quiet")
        assert f"{NAME}: updated" in second.stdout
        after = {p.relative_to(survey): p.stat().st_ino for p in survey.rglob("Npix*.fits")}
        kept = [k for k in before if after.get(k) == before[k]]
        redone = [k for k in after if after[k] != before.get(k)]
        assert kept and redone and len(redone) < len(after)
        assert int(props.parse((survey / "properties").read_text())["hips_nb_tiles"]) == 2 * len(after)
    finally:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_every_survey_is_a_registry_record_with_the_hips_capability(
    hips_built: object, server: str, archive: Archive, registry_xsd: etree.XMLSchema, db: psycopg.Connection
) -> None:
    from tests.registry.test_oai_server import oai

    hipslist = [props.parse(b) for b in httpx.get(f"{server}/hips/hipslist").text.split("\n\n")]
    surveys = {b["creator_did"]: b["hips_service_url"] for b in hipslist if b}
    assert len(surveys) == 4
    ri = "http://www.ivoa.net/xml/RegistryInterface/v1.0"
    for ivoid, url in surveys.items():
        document = oai(server, verb="GetRecord", metadataPrefix="ivo_vor", identifier=ivoid)
        assert schema_errors(registry_xsd, document) == ""
        resource = document.find(f".//{{{ri}}}Resource")
        assert resource is not None and resource.findtext("identifier") == ivoid
        capability = resource.find("capability[@standardID='ivo://ivoa.net/std/hips#hips-1.0']")
        assert capability is not None and capability.findtext("interface/accessURL") == url
        assert resource.findtext("coverage/spatial")  # the survey's MOC, at the registry's order
    # `hips build` refreshed the relational registry: pyvo's RegTAP queries find the surveys too.
    found = db.execute(
        "SELECT ivoid, access_url FROM rr.capability NATURAL JOIN rr.interface "
        "WHERE standard_id = 'ivo://ivoa.net/std/hips#hips-1.0'"
    ).fetchall()
    assert {i: u for i, u in found} == {i.lower(): u for i, u in surveys.items()}
