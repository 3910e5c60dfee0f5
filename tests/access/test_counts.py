"""The same rows through every way of asking: each ADQL form (joins, outer joins, subqueries, set
operations, WITH, GROUP BY, an uploaded table, a cone), SIA and cone search, sync and async. The
anonymous user and other1 see the public rows, granted1 three more, whatever credential pyvo
sends (a password, a token as the password, a bearer token)."""

from __future__ import annotations

import io

import pytest
import pyvo
import requests
from astropy.table import Table
from pyvo.auth import AuthSession, securitymethods

from tests.access.conftest import CATALOGUE, PASSWORDS, ProprietaryArchive

# Around the three proprietary copies' positions (they repeat sample images' footprints).
CONE = "CIRCLE(34.5, -5.0, 2.0)"

QUERIES = {
    "plain": "SELECT COUNT(*) FROM ivoa.obscore",
    "join": "SELECT COUNT(*) FROM ivoa.obscore AS a JOIN ivoa.obscore AS b ON a.obs_publisher_did = b.obs_publisher_did",
    "left join": "SELECT COUNT(o.obs_id) FROM TAP_SCHEMA.schemas AS s LEFT JOIN ivoa.obscore AS o ON s.schema_name = 'ivoa'",
    "derived table": "SELECT COUNT(*) FROM (SELECT obs_id FROM ivoa.obscore) AS d",
    "IN subquery": "SELECT COUNT(*) FROM ivoa.obscore WHERE obs_publisher_did IN (SELECT obs_publisher_did FROM ivoa.obscore)",
    "EXISTS": "SELECT COUNT(*) FROM TAP_SCHEMA.schemas AS s, ivoa.obscore AS o WHERE s.schema_name = 'ivoa' "
    "AND EXISTS (SELECT 1 FROM ivoa.obscore AS x WHERE x.obs_publisher_did = o.obs_publisher_did)",
    "WITH": "WITH o AS (SELECT * FROM ivoa.obscore) SELECT COUNT(*) FROM o",
    "cone": f"SELECT COUNT(*) FROM ivoa.obscore WHERE 1 = CONTAINS(POINT(s_ra, s_dec), {CONE})",
    "intersects": f"SELECT COUNT(*) FROM ivoa.obscore WHERE 1 = INTERSECTS(s_region, {CONE})",
}
# Queries whose answer has one row per visible ObsCore row (or adds up to their number).
ROWS = {
    "UNION": "SELECT obs_publisher_did FROM ivoa.obscore UNION SELECT obs_publisher_did FROM ivoa.obscore",
    "GROUP BY": "SELECT obs_collection, COUNT(*) AS n FROM ivoa.obscore GROUP BY obs_collection",
}
HIDDEN = 3


def _session(proprietary: ProprietaryArchive, how: str) -> AuthSession | None:
    if how == "anonymous":
        return None
    session = AuthSession()
    if how == "token as password":
        session.credentials.set_password("granted1", proprietary.token)
    elif how == "bearer":
        bearer = requests.Session()
        bearer.headers["Authorization"] = f"Bearer {proprietary.token}"
        session.credentials.set("bearer", bearer)
        session.add_security_method_for_url(proprietary.base + "/", "bearer")
    else:
        session.credentials.set_password(how, PASSWORDS[how])
    return session


WHO = {"anonymous": 0, "other1": 0, "granted1": HIDDEN, "token as password": HIDDEN, "bearer": HIDDEN}


@pytest.fixture(scope="module")
def public_counts(proprietary: ProprietaryArchive) -> dict[str, int]:
    """Each count as anybody sees it (no credentials)."""
    tap = pyvo.dal.TAPService(proprietary.base + "/tap")
    counts = {name: int(tap.run_sync(query).to_table()[0][0]) for name, query in QUERIES.items()}
    counts["UNION"] = len(tap.run_sync(ROWS["UNION"]).to_table())
    counts["GROUP BY"] = int(sum(tap.run_sync(ROWS["GROUP BY"]).to_table()["n"]))
    return counts


def test_anonymous_users_see_only_the_released_rows(
    proprietary: ProprietaryArchive, public_counts: dict[str, int]
) -> None:
    assert public_counts["plain"] == proprietary.public
    for name in ("join", "left join", "derived table", "IN subquery", "EXISTS", "WITH", "UNION", "GROUP BY"):
        assert public_counts[name] == proprietary.public, name
    assert public_counts["cone"] >= 3 and public_counts["intersects"] >= 3


@pytest.mark.parametrize("how", list(WHO))
def test_every_adql_form_counts_the_rows_the_user_may_see(
    proprietary: ProprietaryArchive, public_counts: dict[str, int], how: str
) -> None:
    tap = pyvo.dal.TAPService(proprietary.base + "/tap", session=_session(proprietary, how))
    extra = WHO[how]
    for name, query in QUERIES.items():
        assert int(tap.run_sync(query).to_table()[0][0]) == public_counts[name] + extra, (how, name)
    assert len(tap.run_sync(ROWS["UNION"]).to_table()) == public_counts["UNION"] + extra, how
    assert int(sum(tap.run_sync(ROWS["GROUP BY"]).to_table()["n"])) == public_counts["GROUP BY"] + extra, how


@pytest.mark.parametrize("how", ["anonymous", "other1", "granted1"])
def test_an_uploaded_table_joins_only_the_rows_the_user_may_see(
    proprietary: ProprietaryArchive, public_counts: dict[str, int], how: str
) -> None:
    tap = pyvo.dal.TAPService(proprietary.base + "/tap", session=_session(proprietary, how))
    everything = pyvo.dal.TAPService(proprietary.base + "/tap", session=_session(proprietary, "granted1"))
    dids = Table(
        {"did": list(everything.run_sync("SELECT obs_publisher_did FROM ivoa.obscore").to_table()["obs_publisher_did"])}
    )
    buffer = io.BytesIO()
    dids.write(buffer, format="votable")
    query = "SELECT COUNT(*) FROM TAP_UPLOAD.ids AS u JOIN ivoa.obscore AS o ON o.obs_publisher_did = u.did"
    buffer.seek(0)
    counted = int(tap.run_sync(query, uploads={"ids": buffer}).to_table()[0][0])
    assert counted == public_counts["plain"] + WHO[how]


@pytest.mark.parametrize("how", ["anonymous", "other1", "granted1"])
def test_sia_and_cone_search_find_the_rows_the_user_may_see(
    proprietary: ProprietaryArchive, public_counts: dict[str, int], how: str
) -> None:
    session = _session(proprietary, how)
    sia = pyvo.dal.SIA2Service(proprietary.base + "/sia", session=session)
    found = sia.search(pos=(34.5, -5.0, 2.0), maxrec=10_000).to_table()
    assert len(found) == public_counts["intersects"] + WHO[how]
    if session is not None:
        # pyvo reads no capabilities for cone search: the session is told the method for its URL.
        session.add_security_method_for_url(proprietary.base + "/scs/", securitymethods.BASIC)
    scs = pyvo.dal.SCSService(proprietary.base + "/scs/ivoa.obscore", session=session)
    cone = scs.search(pos=(34.5, -5.0), radius=2.0, maxrec=10_000).to_table()
    assert len(cone) == public_counts["cone"] + WHO[how]


@pytest.mark.parametrize("how", ["token as password", "bearer"])
def test_sia_finds_the_proprietary_images_with_a_token(
    proprietary: ProprietaryArchive, public_counts: dict[str, int], how: str
) -> None:
    sia = pyvo.dal.SIA2Service(proprietary.base + "/sia", session=_session(proprietary, how))
    found = sia.search(pos=(34.5, -5.0, 2.0), maxrec=10_000).to_table()
    assert len(found) == public_counts["intersects"] + HIDDEN


def test_an_async_job_counts_with_its_owners_rights(proprietary: ProprietaryArchive) -> None:
    tap = pyvo.dal.TAPService(proprietary.base + "/tap", session=_session(proprietary, "granted1"))
    job = tap.submit_job(QUERIES["plain"])
    job.run().wait(timeout=60)
    assert job.phase == "COMPLETED"
    assert int(job.fetch_result().to_table()[0][0]) == proprietary.public + HIDDEN
    assert job.owner == "granted1"
    job.delete()


@pytest.mark.parametrize(("how", "listed"), [("anonymous", 0), ("other1", 0), ("granted1", 1)])
def test_tap_schema_lists_a_groups_catalogue_to_its_members_only(
    proprietary: ProprietaryArchive, how: str, listed: int
) -> None:
    tap = pyvo.dal.TAPService(proprietary.base + "/tap", session=_session(proprietary, how))
    for query in (
        f"SELECT COUNT(*) FROM TAP_SCHEMA.tables WHERE table_name = '{CATALOGUE}'",
        f"SELECT COUNT(*) FROM TAP_SCHEMA.columns WHERE table_name = '{CATALOGUE}'",
        "SELECT COUNT(*) FROM TAP_SCHEMA.schemas WHERE schema_name = 's20a'",
    ):
        assert min(int(tap.run_sync(query).to_table()[0][0]), 1) == listed, query
    names = [t.name for t in tap.tables]
    assert (CATALOGUE in names) == bool(listed)
    if listed:
        assert len(tap.run_sync(f"SELECT * FROM {CATALOGUE}").to_table()) == 2
    else:
        with pytest.raises(pyvo.dal.DALQueryError, match="not published"):
            tap.run_sync(f"SELECT * FROM {CATALOGUE}")
