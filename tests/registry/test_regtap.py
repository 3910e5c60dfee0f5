"""The local RegTAP: pyvo's registry search against the archive's own TAP service finds its
services and data (by keyword, service type, position), which then answer; the rows follow
RegTAP's normalisation rules; pyvo's query shapes use the indexes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import pyvo
from pyvo.registry import regtap

from tests.support.archive import Archive
from tests.support.registry import drop_catalog, publish_catalog, write_sxds_catalog
from tests.support.tap import sync
from tests.support.votable import rows

TABLE = "sxds.galaxies"


@pytest.fixture(scope="module")
def galaxies(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data, meta = write_sxds_catalog(tmp_path_factory.mktemp("regtap"), sources=300, seed=21)
    publish_catalog(archive.env, data, TABLE, meta)
    yield TABLE
    drop_catalog(archive.env, TABLE)


@pytest.fixture
def registry(tap_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """pyvo's registry searches go to this archive (pyvo.registry.choose_RegTAP_service), for one test."""
    monkeypatch.setattr(regtap, "REGISTRY_BASEURL", regtap.REGISTRY_BASEURL)
    pyvo.registry.choose_RegTAP_service(tap_url)
    return tap_url


def test_the_seed_example_finds_the_tap_service_which_answers(registry: str, galaxies: str) -> None:
    services = pyvo.regsearch(keywords=["Suprime-Cam"], servicetype="tap")
    found = {s.ivoid: s for s in services}
    assert "ivo://dalserver.demo/tap" in found
    service = found["ivo://dalserver.demo/tap"]
    assert service.res_title == "dalserver demo archive TAP service"
    assert service.access_url == registry
    result = service.get_service("tap").search("SELECT TOP 3 obs_id FROM ivoa.obscore")
    assert len(result) == 3


def test_sia2_and_cone_search_services_are_found_and_answer(registry: str, galaxies: str) -> None:
    (sia,) = [s for s in pyvo.regsearch(servicetype="sia2") if s.ivoid == "ivo://dalserver.demo/sia"]
    images = sia.get_service("sia2").search(pos=(34.5, -5.0, 0.05))
    assert len(images) > 0
    cones = {s.ivoid: s for s in pyvo.regsearch(servicetype="scs")}
    assert {"ivo://dalserver.demo/sxds/galaxies", "ivo://dalserver.demo/obscore"} <= set(cones)
    sources = cones["ivo://dalserver.demo/sxds/galaxies"].get_service("scs").search(pos=(34.5, -5.0), radius=0.1)
    assert len(sources) > 0


def test_spatial_constraints_find_the_archive_where_it_has_data_and_nowhere_else(registry: str, galaxies: str) -> None:
    here = {r.ivoid for r in pyvo.regsearch(pyvo.registry.Spatial((34.5, -5.0, 0.1)))}
    assert {
        "ivo://dalserver.demo/tap",
        "ivo://dalserver.demo/sia",
        "ivo://dalserver.demo/obscore",
        "ivo://dalserver.demo/subaru-suprime-cam",
        "ivo://dalserver.demo/sxds/galaxies",
    } <= here
    elsewhere = list(pyvo.regsearch(pyvo.registry.Spatial((200, 60, 0.1))))
    assert not [r.ivoid for r in elsewhere if r.ivoid.startswith("ivo://dalserver.demo")]
    overlapping = {r.ivoid for r in pyvo.regsearch(pyvo.registry.Spatial((34.5, -5.0, 3), intersect="overlaps"))}
    assert "ivo://dalserver.demo/subaru-suprime-cam" in overlapping


def test_words_match_by_their_stems(registry: str, galaxies: str) -> None:
    found = {r.ivoid for r in pyvo.regsearch(keywords=["galaxy"])}
    assert "ivo://dalserver.demo/sxds/galaxies" in found  # its description says "galaxies"


def test_ucd_and_waveband_constraints(registry: str, galaxies: str) -> None:
    assert "ivo://dalserver.demo/sxds/galaxies" in {r.ivoid for r in pyvo.regsearch(ucd="phot.mag%")}
    assert "ivo://dalserver.demo/subaru-suprime-cam" in {
        r.ivoid for r in pyvo.regsearch(pyvo.registry.Ivoid("ivo://dalserver.demo/subaru-suprime-cam"))
    }


def test_the_rows_follow_regtaps_normalisation(tap_url: str, galaxies: str) -> None:
    for query in (
        "SELECT COUNT(*) FROM rr.resource WHERE ivoid <> LOWER(ivoid) OR res_type <> LOWER(res_type)",
        "SELECT COUNT(*) FROM rr.capability WHERE standard_id <> LOWER(standard_id)",
        "SELECT COUNT(*) FROM rr.table_column WHERE ucd <> LOWER(ucd) OR name <> LOWER(name)",
        "SELECT COUNT(*) FROM rr.resource WHERE short_name = '' OR res_description = '' OR waveband = ''",
        "SELECT COUNT(*) FROM rr.interface WHERE intf_type <> LOWER(intf_type) OR access_url = ''",
    ):
        assert rows(sync(tap_url, query)) == [["0"]], query
    assert rows(
        sync(
            tap_url,
            "SELECT standard_id FROM rr.capability WHERE ivoid = 'ivo://dalserver.demo/sia' AND standard_id LIKE '%sia%'",
        )
    ) == [["ivo://ivoa.net/std/sia#query-2.0"]]
    (waveband,) = rows(
        sync(tap_url, "SELECT waveband FROM rr.resource WHERE ivoid = 'ivo://dalserver.demo/subaru-suprime-cam'")
    )
    assert waveband == ["optical#infrared"]
    related = rows(
        sync(
            tap_url,
            "SELECT relationship_type, related_id FROM rr.relationship WHERE ivoid = 'ivo://dalserver.demo/sxds/galaxies'",
        )
    )
    assert related == [["isservedby", "ivo://dalserver.demo/tap"]]


def test_the_coverage_is_an_smoc_and_comes_back_as_an_ascii_moc(tap_url: str, galaxies: str) -> None:
    (row,) = rows(
        sync(tap_url, "SELECT coverage FROM rr.stc_spatial WHERE ivoid = 'ivo://dalserver.demo/subaru-suprime-cam'")
    )
    assert row[0].startswith("6/")
    (hit,) = rows(sync(tap_url, "SELECT COUNT(*) FROM rr.stc_spatial WHERE 1 = CONTAINS(POINT(34.5, -5.0), coverage)"))
    assert int(hit[0]) >= 5


def test_a_dropped_catalogue_leaves_the_relational_registry(archive: Archive, tap_url: str, tmp_path: Path) -> None:
    data, meta = write_sxds_catalog(tmp_path, sources=20, seed=2)
    env = archive.env
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dalserver",
            "ingest",
            "catalog",
            str(data),
            "--table",
            "sxds.brief",
            "--meta",
            str(meta),
            "--quiet",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    query = "SELECT COUNT(*) FROM rr.resource WHERE ivoid = 'ivo://dalserver.demo/sxds/brief'"
    assert rows(sync(tap_url, query)) == [["1"]]
    subprocess.run(
        [sys.executable, "-m", "dalserver", "drop", "catalog", "sxds.brief"], env=env, check=True, capture_output=True
    )
    assert rows(sync(tap_url, query)) == [["0"]]
    assert rows(
        sync(tap_url, "SELECT COUNT(*) FROM rr.table_column WHERE ivoid = 'ivo://dalserver.demo/sxds/brief'")
    ) == [["0"]]


@pytest.mark.parametrize(
    ("adql", "index"),
    [
        (
            "SELECT ivoid FROM rr.resource WHERE 1 = ivo_hasword(res_description, 'galaxies')",
            "rr_resource_description_words",
        ),
        (
            "SELECT ivoid FROM rr.stc_spatial WHERE 1 = CONTAINS(MOC(6, CIRCLE(34.5, -5.0, 0.1)), coverage)",
            "rr_stc_spatial_coverage",
        ),
        ("SELECT ivoid FROM rr.capability WHERE standard_id IN ('ivo://ivoa.net/std/tap')", "rr_capability_standard"),
    ],
)
def test_pyvos_query_shapes_use_the_indexes(archive: Archive, db: psycopg.Connection, adql: str, index: str) -> None:
    from adql import to_postgres
    from tests.support.archive import load_catalog

    sql = to_postgres(adql, load_catalog(archive.url)).sql
    db.execute("SET enable_seqscan = off")  # a registry this small would be scanned; the index must be usable
    plan = "\n".join(r[0] for r in db.execute(f"EXPLAIN {sql}"))
    db.execute("RESET enable_seqscan")
    assert index in plan, plan


def test_the_capabilities_declare_moc_for_pyvo(tap_url: str) -> None:
    assert b"ivo://org.gavo.dc/std/exts#extra-adql-keywords" in httpx.get(f"{tap_url}/capabilities", timeout=30).content


def test_hasword_of_a_null_is_a_non_match_in_every_form(tap_url: str) -> None:
    """ivo_hasword(NULL, w) is 0, so 0 = ivo_hasword(...) holds for rows without the text."""
    total = rows(sync(tap_url, "SELECT COUNT(*) FROM rr.res_role"))
    assert rows(sync(tap_url, "SELECT COUNT(*) FROM rr.res_role WHERE 0 = ivo_hasword(email, 'nothing')")) == total
    (with_null,) = rows(sync(tap_url, "SELECT COUNT(*) FROM rr.res_role WHERE email IS NULL"))
    (misses,) = rows(sync(tap_url, "SELECT SUM(1 - ivo_hasword(email, 'example')) FROM rr.res_role"))
    assert int(misses[0]) >= int(with_null[0]) > 0


def test_an_ingest_run_with_another_public_url_leaves_the_records_with_the_servers(
    archive: Archive, tap_url: str, tmp_path: Path
) -> None:
    # An operator who ran the server with DALSERVER_PORT and an ingest without it: the refresh that
    # follows the ingest must not give RegTAP the default port's addresses, which nobody serves.
    elsewhere = {**archive.env, "DALSERVER_PORT": "1", "DALSERVER_BASE_URL": ""}
    data, meta = write_sxds_catalog(tmp_path, sources=50, seed=5)
    publish_catalog(elsewhere, data, "sxds.elsewhere", meta)
    try:
        urls = [r[0] for r in rows(sync(tap_url, "SELECT access_url FROM rr.interface"))]
        assert urls and all(not url.startswith("http://127.0.0.1:1/") for url in urls), urls
        assert any(url.startswith(tap_url.removesuffix("/tap")) for url in urls), urls
    finally:
        drop_catalog(elsewhere, "sxds.elsewhere")
