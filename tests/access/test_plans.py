"""The row filter keeps the indexes: PostgreSQL pulls the filtered derived table up into the query,
so a cone over ObsCore still uses the position index and an INTERSECTS the footprint index, for an
anonymous caller and for a granted user alike (the session archive's plans)."""

from __future__ import annotations

import psycopg
import pytest

from adql import Catalog, to_postgres
from archive_io.product_urls import with_public_urls
from dalserver.access.identity import ANONYMOUS, Grant, Identity
from dalserver.access.visibility import catalog_for
from dalserver.sia.query import build_query, obscore_table

GRANTED = Identity("granted1", frozenset({"s20a"}), frozenset({Grant("Subaru/Suprime-Cam", "S20A-001")}))
CONE = (
    "SELECT access_url FROM ivoa.obscore WHERE CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 34.5, -5, 0.1)) = 1"
)
INTERSECTS = "SELECT access_url FROM ivoa.obscore WHERE INTERSECTS(s_region, CIRCLE('ICRS', 34.5, -5, 0.1)) = 1"


@pytest.mark.parametrize("who", [ANONYMOUS, GRANTED], ids=["anonymous", "granted1"])
def test_the_filtered_obscore_keeps_its_spatial_indexes(
    catalog: Catalog, db: psycopg.Connection, who: Identity
) -> None:
    served = catalog_for(with_public_urls(catalog, "http://proxy.example/archive"), who, {})
    sia = build_query({"POS": ["CIRCLE 34.5 -5.0 0.1"]}, obscore_table(served.tables), 100).sql
    for sql, index in (
        (to_postgres(CONE, served).sql, "obscore_position"),
        (to_postgres(INTERSECTS, served).sql, "obscore_s_region"),
        (sia, "obscore_s_region"),
    ):
        assert "obs_release_date <= now()" in sql
        with db.transaction():
            db.execute("SET LOCAL enable_seqscan = off")  # 132 rows: make the planner show what it can use
            plan = "\n".join(r[0] for r in db.execute(f"EXPLAIN {sql}"))
        assert index in plan, plan
        assert "Subquery Scan" not in plan, plan  # pulled up, not evaluated apart
