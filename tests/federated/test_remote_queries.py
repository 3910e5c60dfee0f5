"""What a live service is asked: ADQL over its ObsCore table built from the SIA parameters it can
be trusted with (the rest is filtered here afterwards), SIA 2.0's parameters as given, and SIA
1.0's box around the region."""

from __future__ import annotations

from dalserver.dali.values import Circle
from dalserver.federated.remote_queries import (
    constrained_columns,
    obscore_adql,
    sia1_request,
    sia2_request,
    tap_request,
)


def test_an_obscore_service_is_asked_for_images_in_the_circles_with_the_other_constraints() -> None:
    adql = obscore_adql(
        "ivoa.obscore",
        ["obs_publisher_did", "access_url"],
        {"BAND": ["5e-7 6e-7"], "TIME": ["50000 +Inf"], "COLLECTION": ["A", "B's"], "POL": ["I"], "CALIB": ["2"]},
        [Circle(10.0, 20.0, 0.5)],
    )
    assert adql == (
        "SELECT obs_publisher_did, access_url FROM ivoa.obscore WHERE dataproduct_type IN ('image', 'cube') "
        "AND 1=INTERSECTS(CIRCLE('ICRS', 10.0, 20.0, 0.5), s_region) "
        "AND (em_min <= 6e-07 AND em_max >= 5e-07) AND (t_min IS NOT NULL AND t_max >= 50000.0) "
        "AND pol_states LIKE '%/I/%' AND (obs_collection = 'A' OR obs_collection = 'B''s') AND calib_level = 2"
    )


def test_what_a_service_might_not_understand_is_left_to_the_local_filter() -> None:
    # A facility may match by another spelling here (SUBARU for Subaru), a release date be text there.
    adql = obscore_adql("t", [], {"RELEASEDATE": ["2020-01-01 2021-01-01"], "FACILITY": ["SUBARU"]}, None)
    assert adql == "SELECT * FROM t WHERE dataproduct_type IN ('image', 'cube')"
    several = obscore_adql("t", [], {}, [Circle(1.0, 2.0, 3.0), Circle(4.0, 5.0, 6.0)])
    assert "(1=INTERSECTS(CIRCLE('ICRS', 1.0, 2.0, 3.0), s_region) OR 1=INTERSECTS(" in several


def test_the_constrained_columns_are_those_a_service_must_have() -> None:
    assert constrained_columns({"BAND": ["1 2"], "POS": ["CIRCLE 1 2 3"], "ID": []}) == {
        "dataproduct_type",
        "em_min",
        "em_max",
        "s_region",
    }


def test_requests_of_each_kind() -> None:
    tap = tap_request("http://x/tap/", "ivoa.obscore", ["s_ra"], {}, None, 100, None)
    assert tap.url == "http://x/tap/sync"
    assert dict(tap.params) == {
        "REQUEST": "doQuery",
        "LANG": "ADQL",
        "QUERY": "SELECT s_ra FROM ivoa.obscore WHERE dataproduct_type IN ('image', 'cube')",
        "MAXREC": "100",
        "RESPONSEFORMAT": "votable",
    }
    sia2 = sia2_request("http://y/sia/query", {"POS": ["CIRCLE 1 2 3", "RANGE 0 1 0 1"], "BAND": ["5e-7"]}, 50)
    assert sia2.params == [("POS", "CIRCLE 1 2 3"), ("POS", "RANGE 0 1 0 1"), ("BAND", "5e-7"), ("MAXREC", "50")]
    sia1 = sia1_request("http://z/sia1?", Circle(10.0, -5.0, 0.25), 20)
    assert sia1.params == [("POS", "10.0,-5.0"), ("SIZE", "0.5"), ("FORMAT", "ALL"), ("MAXREC", "20")]
