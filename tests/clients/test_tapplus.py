"""astroquery's TapPlus (the ESA archives' client, used generically by many) end to end: table
metadata (it reads ESA TAP+'s esatapplus:flags), one table by ``tables=``, sync and async queries
in VOTable and JSON, and a failed job's ADQL message. The TAP+ attributes go to TapPlus alone:
every other client gets plain VODataService, which taplint and the IVOA schemas accept."""

from __future__ import annotations

import httpx
import pytest
from astroquery.utils.tap.core import TapPlus
from lxml import etree

from dalserver.vosi.documents import ESATAPPLUS, tapplus_flags
from schemas.tableset import TapColumn
from tests.support.schemas import schema_errors

FLAGS = f"{{{ESATAPPLUS}}}flags"


@pytest.fixture(scope="module")
def tapplus(tap_url: str) -> TapPlus:
    return TapPlus(url=tap_url)


def test_load_tables_lists_every_published_table_with_its_columns(tapplus: TapPlus) -> None:
    tables = {t.get_qualified_name(): t for t in tapplus.load_tables()}
    assert {"ivoa.obscore", "tap_schema.tables", "tap_schema.columns"} <= set(tables)
    columns = {c.name: c for c in tables["ivoa.obscore"].columns}
    assert columns["s_ra"].unit == "deg" and columns["s_ra"].ucd == "pos.eq.ra"
    assert columns["s_ra"].flags is not None and int(columns["s_ra"].flags) & 1


def test_load_table_gets_the_table_asked_for(tapplus: TapPlus) -> None:
    table = tapplus.load_table("tap_schema.columns")
    assert table.get_qualified_name() == "tap_schema.columns"
    assert "column_name" in [c.name for c in table.columns]


def test_tables_parameter_keeps_only_the_named_tables_in_order(tap_url: str) -> None:
    response = httpx.get(f"{tap_url}/tables", params={"tables": "TAP_SCHEMA.columns,ivoa.obscore"}, timeout=30)
    names = [n.text for n in etree.fromstring(response.content).iterfind("schema/table/name")]
    assert sorted(names) == ["ivoa.obscore", "tap_schema.columns"]
    missing = httpx.get(f"{tap_url}/tables", params={"tables": "ivoa.nosuch"}, timeout=30)
    assert missing.status_code == 404 and "ivoa.nosuch" in missing.text


def test_only_tapplus_gets_the_tap_plus_attributes_and_its_document_is_valid(
    tap_url: str, ivoa_schema: etree.XMLSchema
) -> None:
    plain = etree.fromstring(httpx.get(f"{tap_url}/tables", timeout=30).content)
    assert not [c for c in plain.iter("column") if c.get(FLAGS) is not None]
    # TapPlus sends no User-Agent on GET; its document names the schema of the attributes.
    tapplus = etree.fromstring(httpx.get(f"{tap_url}/tables", headers={"User-Agent": ""}, timeout=30).content)
    assert all(c.get(FLAGS) is not None for c in tapplus.iter("column"))
    assert schema_errors(ivoa_schema, tapplus) == ""
    xsd = httpx.get(f"{tap_url}/esatapplus.xsd", timeout=30)
    assert xsd.status_code == 200 and etree.XMLSchema(etree.fromstring(xsd.content)) is not None


def _column(ucd: str | None, indexed: bool = False) -> TapColumn:
    return TapColumn("c", "double", ucd=ucd, indexed=indexed)


def test_tap_plus_flags_mark_main_positions_photometry_and_indexes() -> None:
    assert tapplus_flags(_column("pos.eq.ra;meta.main", indexed=True)) == 33
    assert tapplus_flags(_column("pos.eq.dec")) == 2 and tapplus_flags(_column("pos.eq.ra;meta.main")) == 1
    assert tapplus_flags(_column("phot.mag;em.opt.V")) == 8 and tapplus_flags(_column("phot.magnitude")) == 0
    assert tapplus_flags(_column(None)) == 0


@pytest.mark.parametrize("output_format", ["votable", "votable_plain", "csv", "json"])
def test_sync_queries_in_every_format_tapplus_reads(tapplus: TapPlus, output_format: str) -> None:
    job = tapplus.launch_job(
        "SELECT TOP 3 obs_id, s_ra, em_min, t_resolution FROM ivoa.obscore ORDER BY obs_id",
        output_format=output_format,
    )
    table = job.get_results()
    assert len(table) == 3 and list(table.colnames) == ["obs_id", "s_ra", "em_min", "t_resolution"]
    if output_format != "csv":  # CSV has no place for units
        assert str(table["s_ra"].unit) == "deg"


def test_async_query_returns_its_rows(tapplus: TapPlus) -> None:
    job = tapplus.launch_job_async("SELECT TOP 5 obs_id FROM ivoa.obscore ORDER BY obs_id")
    assert job.get_phase() == "COMPLETED" and len(job.get_results()) == 5


def test_a_failed_async_job_shows_its_adql_error(tapplus: TapPlus) -> None:
    with pytest.raises(Exception) as failure:
        tapplus.launch_job_async("SELECT nosuch_column FROM ivoa.obscore")
    assert "ADQL-UNKNOWN-COLUMN" in str(failure.value) and "nosuch_column" in str(failure.value)


def test_a_failed_jobs_result_is_its_error_document(tap_url: str) -> None:
    from tests.support.uws import submit, wait_for_phase

    job_url = submit(tap_url, "SELECT FROM WHERE")
    assert wait_for_phase(job_url, ("ERROR",)) == "ERROR"
    response = httpx.get(f"{job_url}/results/result", timeout=30)
    assert response.status_code == 404 and "ADQL-SYNTAX" in response.text and 'value="ERROR"' in response.text
