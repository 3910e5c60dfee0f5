"""Which UPLOAD queries over a sharded catalogue are scattered to the shards (their merge is
exact), and the merge itself: PostgreSQL's order (NULLs last ascending and first descending, NaN
above every number), TOP and MAXREC applied after it. Pure functions: no database."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from adql import Catalog, ColumnMeta, PositionKey, TableMeta
from dalserver.tap.scatter import merged, scatter_plan
from dalserver.tap.upload_reach import UploadReach

STARS = TableMeta(
    "shd",
    "stars",
    (
        ColumnMeta("id", "long"),
        ColumnMeta("ra", "double", unit="deg"),
        ColumnMeta("dec", "double", unit="deg"),
        ColumnMeta("name", "char", arraysize="*"),
    ),
    position_key=PositionKey("ra", "dec"),
)
UPLOAD = TableMeta(
    "TAP_UPLOAD",
    "mine",
    (ColumnMeta("uid", "int"), ColumnMeta("ra", "double"), ColumnMeta("dec", "double")),
    sql_name="unnest_of_the_upload",
)
OBSCORE = TableMeta("ivoa", "obscore", (ColumnMeta("s_ra", "double"),), sql_name="visible_obscore(...)")
CATALOG = Catalog.of([STARS, UPLOAD, OBSCORE])
JOIN = "FROM TAP_UPLOAD.mine AS u JOIN shd.stars AS s ON 1 = CONTAINS(POINT(s.ra, s.dec), CIRCLE(u.ra, u.dec, 0.01))"


@pytest.mark.parametrize(
    ("query", "order"),
    [
        (f"SELECT u.uid, s.id {JOIN}", ()),
        (f"SELECT u.uid, s.id {JOIN} ORDER BY u.uid, s.id DESC", ((0, False), (1, True))),
        (f"SELECT s.id, DISTANCE(POINT(u.ra, u.dec), POINT(s.ra, s.dec)) AS d {JOIN} ORDER BY d", ((1, False),)),
    ],
)
def test_a_cross_match_of_select_list_and_numeric_order_is_scattered(
    query: str, order: tuple[tuple[int, bool], ...]
) -> None:
    plan = scatter_plan(query, CATALOG, 101)
    assert plan is not None
    assert plan.table == "shd.stars" and plan.order == order and plan.limit == 101
    shard_sql = plan.translate('"shd"."stars_abc"')
    assert '"shd"."stars_abc"' in shard_sql and "unnest_of_the_upload" in shard_sql


def test_top_and_maxrec_give_the_smaller_limit_after_the_merge() -> None:
    plan = scatter_plan(f"SELECT TOP 5 u.uid, s.id {JOIN} ORDER BY s.id", CATALOG, 101)
    assert plan is not None and plan.limit == 5


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT u.uid, COUNT(*) AS n {JOIN} GROUP BY u.uid",
        f"SELECT COUNT(*) AS n {JOIN}",
        f"SELECT DISTINCT u.uid {JOIN}",
        f"SELECT u.uid, s.name {JOIN} ORDER BY s.name",  # text: the servers' collations order it
        f"SELECT u.uid {JOIN} ORDER BY s.id",  # not an output column
        f"SELECT u.uid, s.id {JOIN} WHERE s.id IN (SELECT id FROM shd.stars WHERE dec > 80)",
        f"SELECT u.uid, s.id {JOIN} JOIN shd.stars AS t ON t.id = s.id",  # the sharded table twice
        f"SELECT u.uid, s.id {JOIN} JOIN ivoa.obscore AS o ON o.s_ra = s.ra",  # a table the shards lack
        # an outer join keeps an unmatched upload row on every shard: it would come back N times
        "SELECT u.uid, s.id FROM TAP_UPLOAD.mine AS u LEFT JOIN shd.stars AS s "
        "ON 1 = CONTAINS(POINT(s.ra, s.dec), CIRCLE(u.ra, u.dec, 0.01))",
    ],
)
def test_forms_whose_merge_is_not_exact_are_not_scattered(query: str) -> None:
    assert scatter_plan(query, CATALOG, 101) is None


@pytest.mark.parametrize(
    ("query", "reach"),
    [
        (f"SELECT u.uid, s.id {JOIN}", UploadReach("mine", "ra", "dec", 0.01)),
        (
            "SELECT u.uid, s.id FROM TAP_UPLOAD.mine AS u, shd.stars AS s "
            "WHERE s.id > 3 AND DISTANCE(POINT(u.ra, u.dec), POINT(s.ra, s.dec)) < 2/3600.0",
            UploadReach("mine", "ra", "dec", 2 / 3600),
        ),
        (
            "SELECT u.uid, s.id FROM shd.stars AS s JOIN TAP_UPLOAD.mine AS u "
            "ON CONTAINS(POINT(s.ra, s.dec), CIRCLE(u.ra, u.dec, 0.5)) = 1",
            UploadReach("mine", "ra", "dec", 0.5),
        ),
        # the radius a column: no single reach
        (
            "SELECT u.uid, s.id FROM TAP_UPLOAD.mine AS u JOIN shd.stars AS s "
            "ON 1 = CONTAINS(POINT(s.ra, s.dec), CIRCLE(u.ra, u.dec, u.uid))",
            None,
        ),  # fmt: skip
        # an alternative, not a condition every row meets
        (f"SELECT u.uid, s.id {JOIN.replace('ON 1 =', 'ON s.id = 7 OR 1 =')}", None),
        # the circle around the catalogue's position, the point the upload's: not the shard's key
        (
            "SELECT u.uid, s.id FROM TAP_UPLOAD.mine AS u JOIN shd.stars AS s "
            "ON 1 = CONTAINS(POINT(u.ra, u.dec), CIRCLE(s.ra, s.dec, 0.1))",
            None,
        ),  # fmt: skip
    ],
)
def test_a_positional_cross_match_sends_each_shard_only_the_upload_rows_it_can_match(
    query: str, reach: UploadReach | None
) -> None:
    plan = scatter_plan(query, CATALOG, 101)
    assert plan is not None and plan.reach == reach


def test_maxrec_zero_asks_for_metadata_only_and_is_not_scattered() -> None:
    assert scatter_plan(f"SELECT u.uid, s.id {JOIN}", CATALOG, 0) is None


def test_the_merge_orders_nulls_and_nan_as_postgresql_does() -> None:
    one = pa.table({"x": pa.array([3.0, None, math.nan], pa.float64()), "k": [1, 2, 3]})
    two = pa.table({"x": pa.array([1.0, 2.0], pa.float64()), "k": [4, 5]})
    ascending = merged([one, two], ((0, False),), None).column("k").to_pylist()
    descending = merged([one, two], ((0, True),), None).column("k").to_pylist()
    assert ascending == [4, 5, 1, 3, 2]  # numbers, NaN, NULL
    assert descending == [2, 3, 1, 5, 4]  # NULL, NaN, numbers


def test_the_merge_keeps_the_first_rows_by_every_key_then_cuts() -> None:
    one = pa.table({"a": [1, 1, 2], "b": [9, 3, 1]})
    two = pa.table({"a": [1, 0], "b": [5, 7]})
    result = merged([one, two], ((0, False), (1, True)), 3)
    assert list(zip(result.column("a").to_pylist(), result.column("b").to_pylist(), strict=True)) == [
        (0, 7),
        (1, 9),
        (1, 5),
    ]


def test_the_merge_without_order_concatenates_and_cuts() -> None:
    one = pa.table({"a": [1, 2]})
    two = pa.table({"a": [3]})
    assert merged([one, two], (), None).num_rows == 3
    assert merged([one, two], (), 2).num_rows == 2
