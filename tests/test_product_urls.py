"""The archive's own products are addressed under the public URL of whichever server answers:
ObsCore stores ``data/<path>`` (archive_io.product_urls), so two servers on one archive (another
port, a proxy in front) each give their own URLs in TAP, SIA, DataLink and SODA, an operator's
external URL comes back as stored, and archives ingested with absolute URLs are brought over at
bootstrap."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg
import pytest
import pyvo
from astropy.table import Table
from lxml import etree

from adql import Catalog, to_postgres
from archive_io.product_urls import (
    archive_path,
    public_url,
    public_url_sql,
    published_obscore_function_sql,
    stored_url,
    with_public_urls,
)
from dalserver.db.bootstrap import bootstrap
from dalserver.db.migrations import relative_access_urls
from dalserver.sia.query import build_query, obscore_table
from schemas.model import builtin_schemas, catalog_of
from tests.support.archive import Archive, fresh_database
from tests.support.servers import another_server
from tests.support.votable import NS, fields, rows

PROXY = "http://proxy.example.org/archive"


# --- the stored form, without a database --------------------------------------------------------
@pytest.mark.parametrize("relative", ["suprimecam/SUPM1.fits", "a b/c#1.fits", "100%/ü.fits", "x+y/z?.fits"])
def test_an_archive_file_is_stored_as_its_encoded_data_path_and_read_back(relative: str) -> None:
    stored = stored_url(relative)
    assert stored.startswith("data/") and " " not in stored and "#" not in stored and "?" not in stored
    assert archive_path(stored) == relative
    assert public_url(stored, "http://h:1/") == public_url(stored, "http://h:1") == f"http://h:1/{stored}"


@pytest.mark.parametrize("value", ["https://elsewhere.org/data/x.fits", "ftp://x/y", "", None])
def test_any_other_access_url_is_neither_an_archive_file_nor_rewritten(value: str | None) -> None:
    assert archive_path(value) is None
    assert public_url(value, PROXY) == value


def test_the_server_reads_obscore_through_the_function_that_renders_its_urls() -> None:
    catalog = catalog_of(builtin_schemas())
    served = with_public_urls(catalog, PROXY)
    sql = to_postgres("SELECT access_url, obs_id FROM ivoa.obscore", served).sql
    assert sql.endswith(f"FROM dalserver.published_obscore('{PROXY}/') AS t0")
    # Only ObsCore changes; the catalogue given is left as it was.
    others = [t for t in served.tables if t.name != "obscore"]
    assert others == [t for t in catalog.tables if t.name != "obscore"]
    assert to_postgres("SELECT access_url FROM ivoa.obscore", catalog).sql.endswith('FROM "ivoa"."obscore" AS t0')
    function = published_obscore_function_sql(["obs_id", "access_url", "s_ra"])
    assert 'RETURNS SETOF "ivoa"."obscore" LANGUAGE sql STABLE' in function and "STRICT" not in function
    assert '"obs_id", (CASE WHEN starts_with("access_url", \'data/\') THEN base || "access_url"' in function


# --- in the database ----------------------------------------------------------------------------
def test_the_sql_rendering_gives_what_the_python_one_gives(db: psycopg.Connection) -> None:
    values = ["data/suprimecam/a%20b.fits", "https://elsewhere.org/data/x.fits", "datax/y", "", None]
    got = db.execute(
        f"SELECT {public_url_sql('v', PROXY)} FROM unnest(%s::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
        (values,),
    ).fetchall()
    assert [g for (g,) in got] == [public_url(v, PROXY) for v in values]


def test_the_function_gives_the_tables_rows_with_their_urls_rendered(archive: Archive, db: psycopg.Connection) -> None:
    stored: dict[str, str] = dict(db.execute("SELECT obs_publisher_did, access_url FROM ivoa.obscore").fetchall())
    served: dict[str, str] = dict(
        db.execute("SELECT obs_publisher_did, access_url FROM dalserver.published_obscore(%s)", (f"{PROXY}/",))
    )
    assert served == {did: public_url(url, PROXY) for did, url in stored.items()}
    table = db.execute("SELECT count(*), sum(hashtext(obs_id || s_ra::text)) FROM ivoa.obscore").fetchone()
    function = db.execute(
        "SELECT count(*), sum(hashtext(obs_id || s_ra::text)) FROM dalserver.published_obscore('x/')"
    ).fetchone()
    assert function == table


def test_queries_over_the_published_obscore_keep_their_indexes(catalog: Catalog, db: psycopg.Connection) -> None:
    served = with_public_urls(catalog, PROXY)  # as the server behind PROXY resolves queries
    cone = "SELECT access_url FROM ivoa.obscore WHERE CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 34.5, -5, 0.1)) = 1"
    footprint = "SELECT access_url FROM ivoa.obscore WHERE CONTAINS(POINT('ICRS', 34.5, -5.0), s_region) = 1"
    sia = build_query({"POS": ["CIRCLE 34.5 -5.0 0.1"]}, obscore_table(served.tables), 100).sql
    for sql, index in (
        (to_postgres(cone, served).sql, "obscore_position"),
        (to_postgres(footprint, served).sql, "obscore_s_region"),
        (sia, "obscore_s_region"),
    ):
        with db.transaction():
            db.execute("SET LOCAL enable_seqscan = off")  # 132 rows: make the planner show what it can use
            plan = "\n".join(r[0] for r in db.execute(f"EXPLAIN {sql}"))
        assert index in plan, plan


def _links(base: str, did: str) -> tuple[dict[str, dict[str, str | None]], etree._Element]:
    response = httpx.get(f"{base}/datalink/links", params={"ID": did}, timeout=60)
    assert response.status_code == 200, response.text
    names = [f["name"] for f in fields(response)]
    found = {r["semantics"]: r for r in (dict(zip(names, row, strict=True)) for row in rows(response))}
    return found, etree.fromstring(response.content)


def _descriptor_url(document: etree._Element, ref: str) -> str:
    resource = document.find(f".//v:RESOURCE[@ID='{ref}']", NS)
    assert resource is not None
    return resource.find("v:PARAM[@name='accessURL']", NS).get("value")


def test_a_server_with_another_public_url_gives_its_own_urls_and_the_session_server_its_own(
    archive: Archive, server: str, tmp_path: Path
) -> None:
    with psycopg.connect(archive.url) as conn:
        did, stored = conn.execute(
            "SELECT obs_publisher_did, access_url FROM ivoa.obscore ORDER BY obs_id LIMIT 1"
        ).fetchone()
    assert stored.startswith("data/suprimecam/")  # nothing of any server's address is stored
    with another_server(archive.env, tmp_path / "proxy.log", {"DALSERVER_BASE_URL": PROXY}) as proxied:
        for base, public in ((proxied.base, PROXY), (server, server)):
            expected = f"{public}/{stored}"
            tap = pyvo.dal.TAPService(f"{base}/tap")
            # SELECT, WHERE, a function and ORDER BY all see the URL the client is given.
            found = tap.run_sync(
                f"SELECT obs_publisher_did, access_url, LOWER(access_url) AS low FROM ivoa.obscore "
                f"WHERE access_url = '{expected}' ORDER BY access_url"
            )
            assert [(r["obs_publisher_did"], r["access_url"], r["low"]) for r in found] == [
                (did, expected, expected.lower())
            ]
            # A cross-match of an uploaded list of URLs finds the product by its URL.
            joined = tap.run_sync(
                "SELECT o.obs_publisher_did FROM TAP_UPLOAD.mine AS m JOIN ivoa.obscore AS o ON o.access_url = m.url",
                uploads={"mine": Table({"url": [expected, f"{public}/data/elsewhere.fits"]})},
            )
            assert [r["obs_publisher_did"] for r in joined] == [did]
            # SIA, by the dataset's ID.
            sia = httpx.get(f"{base}/sia/query", params={"ID": did}, timeout=60)
            names = [f["name"] for f in fields(sia)]
            assert [dict(zip(names, row, strict=True))["access_url"] for row in rows(sia)] == [expected]
            # DataLink: the file and the preview on the same host; SODA's descriptor too.
            links, document = _links(base, did)
            assert links["#this"]["access_url"] == expected
            assert links["#preview"]["access_url"].startswith(f"{public}/datalink/preview?")
            assert _descriptor_url(document, links["#cutout"]["service_def"]) == f"{public}/soda/sync"
    # The session server's answers went to its own URL: download through it.
    assert httpx.get(f"{server}/{stored}", timeout=30).status_code == 200


def test_absolute_access_urls_of_older_ingests_become_relative_at_bootstrap(archive: Archive, tmp_path: Path) -> None:
    url = fresh_database(archive, "dalserver_url_migration_test")
    try:
        _migrate_older_urls(archive, url, tmp_path)
    finally:
        with psycopg.connect(archive.url, autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "dalserver_url_migration_test" WITH (FORCE)')


def _migrate_older_urls(archive: Archive, url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = home / "archive" / "suprimecam"
    folder.mkdir(parents=True)
    sample = sorted((archive.settings.archive_root / "suprimecam").glob("*.fits"))
    shutil.copy(sample[0], folder / "stack one.fits")  # a name a URL must encode
    shutil.copy(sample[1], folder / sample[1].name)
    shutil.copy(sample[2], folder / sample[2].name)
    env = {**archive.env, "DALSERVER_HOME": str(home), "DALSERVER_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "dalserver", "ingest", "images", "--quiet", str(folder)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    with psycopg.connect(url, autocommit=True) as conn:
        ingested: dict[str, str] = dict(
            conn.execute(
                "SELECT p.source_path, o.access_url FROM ivoa.obscore AS o JOIN ingest.provenance AS p "
                "USING (obs_publisher_did)"
            ).fetchall()
        )
        assert ingested == {path: stored_url(path) for path in ingested}
        spaced, plain, external = _three(ingested)
        # As older versions stored them: the public URL of the day (unencoded), and an operator's own URL.
        old = {
            spaced: f"http://old-host:8000/data/{spaced}",
            plain: f"https://proxy.example.org/archive/data/{plain}",
            external: "https://elsewhere.org/products/x.fits",
        }
        for path, value in old.items():
            conn.execute(
                "UPDATE ivoa.obscore SET access_url = %s FROM ingest.provenance AS p "
                "WHERE p.obs_publisher_did = obscore.obs_publisher_did AND p.source_path = %s",
                (value, path),
            )
        bootstrap(url)
        now: dict[str, str] = dict(
            conn.execute(
                "SELECT p.source_path, o.access_url FROM ivoa.obscore AS o JOIN ingest.provenance AS p "
                "USING (obs_publisher_did)"
            ).fetchall()
        )
        assert now == {spaced: stored_url(spaced), plain: stored_url(plain), external: old[external]}
        assert now[spaced] == "data/suprimecam/stack%20one.fits"
        assert relative_access_urls(conn) == 0  # nothing left to do the next time


def _three(ingested: dict[str, str]) -> tuple[str, str, str]:
    """(the file with a space in its name, another, a third) of the three ingested."""
    spaced = next(p for p in ingested if " " in p)
    plain, external = sorted(p for p in ingested if p != spaced)
    return spaced, plain, external
