"""SIA 2.0 {query} over the sample archive, through pyvo's SIA2Service and plain HTTP.

Expected answers come from the sample's own description of its stacks (data_ingest.sample):
tile centres, bands through the instrument profile, dates and exposure times, never from the
service's SQL.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import psycopg
import pytest
import pyvo
from astropy.time import Time

from adql import Catalog
from dalserver.sia.query import build_query, obscore_table
from data_ingest.instruments import shipped_profile
from data_ingest.sample import StackSpec, stack_specs, tile_centres
from tests.support.votable import NS, fields, query_status, rows, votlint_messages

SUPRIMECAM = shipped_profile("Suprime-Cam")

SPECS = stack_specs()


def ids_of(response: httpx.Response) -> set[str]:
    names = [f["name"] for f in fields(response)]
    column = names.index("obs_id")
    return {row[column] for row in rows(response)}


def sia(base: str, *pairs: tuple[str, str], method: str = "GET") -> httpx.Response:
    if method == "POST":
        form: dict[str, list[str]] = {}
        for name, value in pairs:
            form.setdefault(name, []).append(value)
        return httpx.post(f"{base}/sia/query", data=form, timeout=60)
    return httpx.get(f"{base}/sia/query", params=list(pairs), timeout=60)


def tile(i: int, j: int) -> tuple[float, float]:
    return next((ra, dec) for ti, tj, ra, dec in tile_centres() if (ti, tj) == (i, j))


def on_tile(i: int, j: int) -> set[str]:
    return {s.data_id for s in SPECS if (s.tile_i, s.tile_j) == (i, j)}


def band_overlaps(spec: StackSpec, low: float, high: float) -> bool:
    f = SUPRIMECAM.filters[spec.band]
    return f.em_min <= high and f.em_max >= low


def test_sia2service_finds_a_tiles_stacks_by_position_band_and_instrument(server: str) -> None:
    service = pyvo.dal.SIA2Service(f"{server}/sia")
    ra, dec = tile(2, 3)
    found = service.search(
        pos=(ra, dec, 0.01),
        band=(6e-7, 7e-7),
        instrument="Suprime-Cam",
        facility="Subaru",
        collection="Subaru/Suprime-Cam",
    )
    expected = {s.data_id for s in SPECS if (s.tile_i, s.tile_j) == (2, 3) and band_overlaps(s, 6e-7, 7e-7)}
    assert expected and {r.obs_id for r in found} == expected
    assert all(r.dataproduct_type == "image" and r.access_url.endswith(".fits") for r in found)


def test_sia2service_finds_suprime_cam_images_by_the_spellings_headers_use(server: str) -> None:
    # Subaru's headers say SuprimeCam; the archive publishes Suprime-Cam (the profile's name).
    service = pyvo.dal.SIA2Service(f"{server}/sia")
    ra, dec = tile(2, 3)
    found = service.search(pos=(ra, dec, 0.01), instrument="SuprimeCam", facility="SUBARU")
    assert {r.obs_id for r in found} == on_tile(2, 3)
    assert {(r["instrument_name"], r["facility_name"]) for r in found} == {("Suprime-Cam", "Subaru")}


@pytest.mark.parametrize(
    ("parameter", "spelling"),
    [
        ("INSTRUMENT", "Suprime-Cam"),
        ("INSTRUMENT", "SuprimeCam"),
        ("INSTRUMENT", "SUPRIME-CAM"),
        ("FACILITY", "Subaru"),
        ("FACILITY", "SUBARU"),
        ("FACILITY", "Subaru Telescope"),
    ],
)
def test_instrument_and_facility_accept_every_spelling_the_profile_lists(
    server: str, parameter: str, spelling: str
) -> None:
    everything = {s.data_id for s in SPECS}
    assert ids_of(sia(server, (parameter, spelling))) == everything
    assert ids_of(sia(server, (parameter, spelling), method="POST")) == everything


def test_instrument_spellings_are_exact_and_other_names_find_nothing(server: str) -> None:
    assert rows(sia(server, ("INSTRUMENT", "suprimecam"))) == []  # listed spellings match as written
    assert rows(sia(server, ("INSTRUMENT", "Hyper Suprime-Cam"))) == []
    assert rows(sia(server, ("FACILITY", "SuprimeCam"))) == []  # an instrument's spelling is no facility's


def test_sia2service_time_interval_selects_stacks_whose_nights_overlap_it(server: str) -> None:
    service = pyvo.dal.SIA2Service(f"{server}/sia")
    start = SPECS[10].mjd_start
    window = (Time(start, format="mjd"), Time(start + 0.5, format="mjd"))
    found = {r.obs_id for r in service.search(time=window)}
    assert SPECS[10].data_id in found
    # Every stack found starts before the window ends (t_min <= high) and none is far away.
    by_id = {s.data_id: s for s in SPECS}
    assert all(by_id[i].mjd_start <= start + 0.5 for i in found)
    assert all(by_id[i].mjd_start + by_id[i].nights >= start for i in found)


def test_sia2service_maxrec_cuts_the_answer_and_reports_the_overflow(server: str) -> None:
    service = pyvo.dal.SIA2Service(f"{server}/sia")
    found = service.search(pos=(34.5, -5.0, 1.0), maxrec=3)
    assert len(found) == 3 and found.status[0] == "OVERFLOW"  # pyvo warns only when it did not ask


def test_values_of_one_parameter_are_or_ed_and_different_parameters_and_ed(server: str) -> None:
    (ra1, dec1), (ra2, dec2) = tile(0, 0), tile(5, 5)
    both = sia(server, ("POS", f"CIRCLE {ra1} {dec1} 0.01"), ("POS", f"CIRCLE {ra2} {dec2} 0.01"))
    assert ids_of(both) == on_tile(0, 0) | on_tile(5, 5)
    vband = SUPRIMECAM.filters["W-J-V"]
    narrowed = sia(
        server,
        ("POS", f"CIRCLE {ra1} {dec1} 0.01"),
        ("POS", f"CIRCLE {ra2} {dec2} 0.01"),
        ("BAND", f"{vband.centre} {vband.centre}"),
    )
    expected = {s.data_id for s in SPECS if (s.tile_i, s.tile_j) in ((0, 0), (5, 5)) and s.band == "W-J-V"}
    assert ids_of(narrowed) == expected


def test_pos_range_and_polygon_select_the_tiles_they_cover(server: str) -> None:
    ra, dec = tile(1, 4)
    # A column of tiles: RA within tile column 1 only (tiles overlap by 1 arcmin at their edges).
    column = sia(server, ("POS", f"RANGE {ra - 0.02} {ra + 0.02} -Inf +Inf"))
    assert ids_of(column) == {s.data_id for s in SPECS if s.tile_i == 1}
    triangle = sia(server, ("POS", f"POLYGON {ra - 0.01} {dec - 0.01} {ra + 0.01} {dec - 0.01} {ra} {dec + 0.01}"))
    assert ids_of(triangle) == on_tile(1, 4)
    band_of_sky = sia(server, ("POS", "RANGE 0 360 -4.6 +Inf"))  # a band of declination, wrapping RA
    assert ids_of(band_of_sky) == {s.data_id for s in SPECS if s.tile_j == 5}
    wrapping = sia(server, ("POS", "RANGE 350 10 -90 90"))  # RA 350 through 0 to 10: nothing there
    assert ids_of(wrapping) == set()


@pytest.mark.parametrize(
    ("name", "column", "value", "test"),
    [
        ("EXPTIME", "exptime", "3600 5400", lambda v: 3600 <= v <= 5400),
        ("EXPTIME", "exptime", "-Inf 1800", lambda v: v <= 1800),
        ("EXPTIME", "exptime", "7200", lambda v: v == 7200),
        ("SPATRES", "seeing", "0.9 +Inf", lambda v: v >= 0.9),
    ],
)
def test_interval_parameters_contain_the_value_with_open_ends(
    server: str, name: str, column: str, value: str, test: Callable[[float], bool]
) -> None:
    expected = {s.data_id for s in SPECS if test(round(getattr(s, column), 3))}
    assert ids_of(sia(server, (name, value))) == expected


def test_band_interval_with_open_ends_overlaps_the_filter_coverage(server: str) -> None:
    expected = {s.data_id for s in SPECS if band_overlaps(s, 8e-7, math.inf)}
    assert ids_of(sia(server, ("BAND", "8e-7 +Inf"))) == expected
    expected = {s.data_id for s in SPECS if band_overlaps(s, -math.inf, 4.5e-7)}
    assert ids_of(sia(server, ("BAND", "-Inf 4.5e-7"))) == expected


def test_string_parameters_match_exactly_and_id_ignores_case(server: str, db: psycopg.Connection) -> None:
    did = db.execute("SELECT obs_publisher_did FROM ivoa.obscore ORDER BY obs_id LIMIT 1").fetchone()[0]
    assert len(rows(sia(server, ("ID", did.upper())))) == 1
    assert len(rows(sia(server, ("COLLECTION", "Subaru/Suprime-Cam")))) == len(SPECS)
    assert rows(sia(server, ("COLLECTION", "subaru/suprime-cam"))) == []  # case-sensitive
    assert len(rows(sia(server, ("DPTYPE", "image"), ("CALIB", "3"), ("FORMAT", "image/fits")))) == len(SPECS)
    assert len(rows(sia(server, ("TARGET", "SXDS")))) == len(SPECS)
    assert rows(sia(server, ("DPTYPE", "cube"))) == []
    assert rows(sia(server, ("POL", "I"))) == []  # images without polarization states never match
    assert rows(sia(server, ("TIMERES", "-Inf +Inf"))) == []  # null t_resolution never matches
    # Public at once: each image was released when it was taken (the default policy).
    assert len(rows(sia(server, ("RELEASEDATE", "1990-01-01 2030-01-01")))) == len(SPECS)
    assert rows(sia(server, ("RELEASEDATE", "2031-01-01 2040-01-01"))) == []


def test_get_and_post_give_the_same_answer(server: str) -> None:
    pairs = (("POS", "CIRCLE 34.5 -5.0 0.1"), ("BAND", "4e-7 6e-7"), ("MAXREC", "50"))
    assert ids_of(sia(server, *pairs)) == ids_of(sia(server, *pairs, method="POST"))


def test_every_parameter_at_once_is_accepted(server: str) -> None:
    response = sia(
        server,
        ("POS", "CIRCLE 34.5 -5.0 0.5"),
        ("BAND", "-Inf +Inf"),
        ("TIME", "50000 +Inf"),
        ("FOV", "0 1"),
        ("SPATRES", "0 2"),
        ("EXPTIME", "0 +Inf"),
        ("ID", "ivo://nowhere/x"),
        ("COLLECTION", "Subaru/Suprime-Cam"),
        ("FACILITY", "Subaru"),
        ("INSTRUMENT", "Suprime-Cam"),
        ("DPTYPE", "image"),
        ("CALIB", "3"),
        ("TARGET", "SXDS"),
        ("TIMERES", "0 10"),
        ("SPECRP", "1 +Inf"),
        ("FORMAT", "image/fits"),
        ("POL", "I"),
        ("MAXREC", "10"),
        ("RESPONSEFORMAT", "votable"),
    )
    assert response.status_code == 200 and query_status(response)[0] == "OK"


def test_the_answer_is_the_obscore_votable_with_datalink_soda_and_self_descriptors(server: str) -> None:
    from lxml import etree

    response = sia(server, ("POS", "CIRCLE 34.5 -5.0 0.05"))
    assert response.headers["content-type"].startswith("application/x-votable+xml")
    names = {f["name"]: f for f in fields(response)}
    for required in (
        "dataproduct_type",
        "calib_level",
        "obs_collection",
        "obs_id",
        "obs_publisher_did",
        "access_url",
        "access_format",
        "s_ra",
        "s_dec",
        "s_region",
        "em_min",
        "t_min",
    ):
        assert required in names
    assert names["obs_publisher_did"]["utype"] == "obscore:Curation.publisherDID"
    assert names["obs_publisher_did"]["ID"] == "obs_publisher_did"
    doc = etree.fromstring(response.content)
    services = {
        r.find("v:PARAM[@name='standardID']", NS).get("value"): r for r in doc.findall("v:RESOURCE[@type='meta']", NS)
    }
    assert set(services) == {
        "ivo://ivoa.net/std/SIA#query-2.0",
        "ivo://ivoa.net/std/DataLink#links-1.1",
        "ivo://ivoa.net/std/SODA#sync-1.0",
    }
    assert services["ivo://ivoa.net/std/SIA#query-2.0"].get("name") == "this"
    options = services["ivo://ivoa.net/std/SIA#query-2.0"].findall(".//v:PARAM[@name='INSTRUMENT']//v:OPTION", NS)
    assert [o.get("value") for o in options] == ["Suprime-Cam"]
    ref = services["ivo://ivoa.net/std/DataLink#links-1.1"].find(".//v:PARAM[@name='ID']", NS).get("ref")
    assert ref == "obs_publisher_did"
    region = rows(response)[0][list(names).index("s_region")]
    assert region.startswith("Polygon ICRS ")


def test_maxrec_zero_answers_metadata_only(server: str) -> None:
    response = sia(server, ("MAXREC", "0"))
    assert query_status(response)[0] == "OK" and rows(response) == [] and len(fields(response)) >= 30


def test_other_response_formats_are_served(server: str) -> None:
    response = sia(server, ("POS", "CIRCLE 34.5 -5.0 0.05"), ("RESPONSEFORMAT", "csv"))
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0].startswith("dataproduct_type,calib_level")


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ((("POS", "CIRCLE 34.5 -5.0"),), "three numbers"),
        ((("POS", "SQUARE 1 2 3"),), "unknown shape 'SQUARE'"),
        ((("POS", "CIRCLE 34.5 north 1"),), "'north' is not a number"),
        ((("POS", "POLYGON 34 -5 35 -5"),), "at least 3 vertices"),
        ((("POS", "CIRCLE 400 -5 1"),), "outside [0, 360]"),
        ((("POS", "POLYGON 0 0 10 10 10 0 0 10"),), "not a valid spherical polygon"),
        ((("BAND", "7e-7 6e-7"),), "greater than the upper bound"),
        ((("TIME", "55000 soon"),), "'soon' is not a number"),
        ((("CALIB", "high"),), "CALIB"),
        ((("CALIB", "7"),), "calibration level"),
        ((("POL", "Z"),), "polarization state"),
        ((("DPTYPE", "picture"),), "data product type"),
        ((("MAXREC", "-1"),), "MAXREC"),
        ((("RESPONSEFORMAT", "text/nonsense"),), "RESPONSEFORMAT"),
        ((("RELEASEDATE", "yesterday"),), "ISO 8601"),
    ],
)
def test_invalid_parameters_get_a_usagefault_error_document(
    server: str, pairs: tuple[tuple[str, str], ...], message: str
) -> None:
    response = sia(server, *pairs)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/x-votable+xml")
    status, text = query_status(response)
    assert status == "ERROR" and text.startswith("UsageFault: ") and message in text, text


def test_pos_uses_the_footprint_index(catalog: Catalog, db: psycopg.Connection) -> None:
    table = obscore_table(catalog.tables)
    for pos in ("CIRCLE 34.5 -5.0 0.1", "POLYGON 34.4 -5.1 34.6 -5.1 34.5 -4.9", "RANGE 34.4 34.6 -5.1 -4.9"):
        query = build_query({"POS": [pos], "BAND": ["6e-7 7e-7"]}, table, 100)
        with db.transaction():
            db.execute("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in db.execute("EXPLAIN " + query.sql))
        assert "obscore_s_region" in plan, plan


def test_sia_capabilities_and_availability_per_vosi(server: str) -> None:
    from lxml import etree

    caps = etree.fromstring(httpx.get(f"{server}/sia/capabilities", timeout=10).content)
    standards = {c.get("standardID"): c for c in caps.findall("capability")}
    assert "ivo://ivoa.net/std/SIA#query-2.0" in standards
    assert standards["ivo://ivoa.net/std/SIA#query-2.0"].findtext("interface/accessURL") == f"{server}/sia/query"
    assert {"ivo://ivoa.net/std/VOSI#capabilities", "ivo://ivoa.net/std/VOSI#availability"} <= set(standards)
    available = etree.fromstring(httpx.get(f"{server}/sia/availability", timeout=10).content)
    assert available.findtext("{http://www.ivoa.net/xml/VOSIAvailability/v1.0}available") == "true"


@pytest.mark.parametrize("pairs", [(("POS", "CIRCLE 34.5 -5.0 0.05"),), (("MAXREC", "0"),), (("POS", "CIRCLE 1 2"),)])
def test_votlint_is_silent_on_sia_answers(server: str, tmp_path: Path, pairs: tuple[tuple[str, str], ...]) -> None:
    assert votlint_messages(sia(server, *pairs).content, tmp_path) == ""


def test_positions_of_found_images_lie_near_the_search_circle(server: str) -> None:
    response = sia(server, ("POS", "CIRCLE 34.25 -4.75 0.05"))
    names = [f["name"] for f in fields(response)]
    ra = np.array([float(r[names.index("s_ra")]) for r in rows(response)])
    dec = np.array([float(r[names.index("s_dec")]) for r in rows(response)])
    assert ra.size and np.all(np.hypot((ra - 34.25) * np.cos(np.radians(dec)), dec + 4.75) < 0.05 + 0.131)
