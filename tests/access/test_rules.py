"""The rules as pure functions (no database): which rows and tables an identity sees, how tokens
and passwords are kept, when an image is released, how failed logins are slowed down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adql import to_postgres
from adql.catalog import Catalog
from dalserver.access.credentials import hash_password, new_token, parse_token, password_matches, secret_matches
from dalserver.access.identity import ANONYMOUS, Grant, Identity
from dalserver.access.throttle import FREE_FAILURES, FailedLogins
from dalserver.access.visibility import catalog_for, row_filter, tableset_for
from dalserver.access_commands import lifetime
from data_ingest.release_policy import ReleaseOverride, ReleasePolicy, add_months, release_columns
from schemas.model import builtin_schemas, catalog_of
from schemas.tableset import tableset_of

GRANTED = Identity("granted1", frozenset({"s20a"}), frozenset({Grant("Subaru/Suprime-Cam", "S20A-001")}))
WHOLE = Identity(
    "staff", frozenset({"staff"}), frozenset({Grant("Subaru/Suprime-Cam"), Grant("Subaru/Suprime-Cam", "X")})
)
RESTRICTED = {"s20a.sources": "s20a"}


def _catalog() -> Catalog:
    base = catalog_of(builtin_schemas())
    return base.with_tables([])


def test_anonymous_rows_are_those_released() -> None:
    assert row_filter(ANONYMOUS, "o") == '("o".obs_release_date <= now())'


def test_a_proposal_grant_adds_that_proposals_rows() -> None:
    assert row_filter(GRANTED, "o") == (
        '("o".obs_release_date <= now() OR ("o".obs_collection, "o".proposal_id) IN ((\'Subaru/Suprime-Cam\', \'S20A-001\')))'
    )


def test_a_collection_grant_covers_its_proposals() -> None:
    assert row_filter(WHOLE, "o") == '("o".obs_release_date <= now() OR "o".obs_collection IN (\'Subaru/Suprime-Cam\'))'


def test_grant_names_are_quoted_as_sql_strings() -> None:
    who = Identity("x", frozenset(), frozenset({Grant("it's", "a'b")}))
    assert "('it''s', 'a''b')" in row_filter(who, "o")


@pytest.mark.parametrize(
    "query",
    [
        "SELECT COUNT(*) FROM ivoa.obscore",
        "SELECT * FROM TAP_SCHEMA.schemas AS s LEFT JOIN ivoa.obscore AS o ON s.schema_name = 'ivoa'",
        "WITH x AS (SELECT * FROM ivoa.obscore) SELECT * FROM x",
        "SELECT obs_id FROM ivoa.obscore UNION SELECT obs_id FROM ivoa.obscore AS b",
        "SELECT * FROM ivoa.obscore WHERE obs_id IN (SELECT obs_id FROM ivoa.obscore)",
    ],
)
def test_every_mention_of_obscore_in_a_query_is_filtered(query: str) -> None:
    sql = to_postgres(query, catalog_for(_catalog(), GRANTED, RESTRICTED)).sql
    mentions = query.count("ivoa.obscore")
    assert sql.count("obs_release_date <= now()") == mentions
    assert sql.count("'S20A-001'") == mentions
    bare = sql.replace('"', "")
    assert bare.count("ivoa.obscore") == bare.count("FROM ivoa.obscore AS visible WHERE") == mentions


def test_a_groups_table_is_gone_for_others_and_tap_schema_does_not_name_it() -> None:
    catalog = _catalog().with_tables([_catalog().tables[0].__class__("s20a", "sources", _catalog().tables[0].columns)])
    assert "s20a.sources" in catalog_for(catalog, GRANTED, RESTRICTED).table_names()
    others = catalog_for(catalog, ANONYMOUS, RESTRICTED)
    assert "s20a.sources" not in others.table_names()
    listings = {t.name: t.sql_name or "" for t in others.tables if t.schema == "tap_schema"}
    for name in ("tables", "columns", "keys"):
        assert "'s20a.sources'" in listings[name]
    assert "'s20a'" in listings["schemas"] and "key_id IN" in listings["key_columns"]


def test_the_vosi_tableset_drops_a_groups_table_and_its_empty_schema() -> None:
    tableset = tableset_of(builtin_schemas())
    assert tableset_for(tableset, ANONYMOUS, {"ivoa.obscore": "staff"}).table("ivoa.obscore") is None
    assert "ivoa" not in [s.name for s in tableset_for(tableset, ANONYMOUS, {"ivoa.obscore": "staff"}).schemas]
    assert tableset_for(tableset, WHOLE, {"ivoa.obscore": "staff"}).table("ivoa.obscore") is not None


def test_a_token_is_found_by_its_key_and_proved_by_its_secret_whose_hash_alone_is_kept() -> None:
    token = new_token()
    parsed = parse_token(token.text)
    assert parsed == token and token.text.startswith("dal-")
    assert len(token.secret) >= 43  # 256 random bits, base64
    assert token.secret not in token.secret_sha256
    assert secret_matches(token.secret_sha256, token.secret)
    assert not secret_matches(token.secret_sha256, token.secret[:-1] + "x")
    for text in ("", "dal-", "dal-key", "Bearer dal-a.b", "x" * 300, "dal-.secret"):
        assert parse_token(text) is None


def test_passwords_are_kept_as_argon2id_hashes() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert password_matches(stored, "correct horse")
    assert not password_matches(stored, "wrong horse")
    assert not password_matches(None, "")  # an account without a password


def test_token_lifetimes_read_as_operators_write_them() -> None:
    assert lifetime("90d") == timedelta(days=90)
    assert lifetime("12h") == timedelta(hours=12)
    assert lifetime("never") is None
    with pytest.raises(Exception, match="not a lifetime"):
        lifetime("soon")


NOW = datetime(2025, 6, 1, tzinfo=UTC)
MJD_2024_01_31 = 60340.0


def test_the_release_date_is_the_observation_plus_the_proprietary_months() -> None:
    columns = release_columns(
        ReleasePolicy(18, "PROP-ID"), ReleaseOverride(), MJD_2024_01_31, {"PROP-ID": "S24A-7"}, NOW
    )
    assert columns == {
        "obs_release_date": datetime(2025, 7, 31, tzinfo=UTC),
        "data_rights": "proprietary",
        "proposal_id": "S24A-7",
    }
    assert add_months(datetime(2024, 1, 31, tzinfo=UTC), 1) == datetime(2024, 2, 29, tzinfo=UTC)


def test_by_default_an_image_is_public_at_once() -> None:
    dated = release_columns(ReleasePolicy(), ReleaseOverride(), MJD_2024_01_31, {}, NOW)
    assert dated["data_rights"] == "public" and dated["obs_release_date"] == datetime(2024, 1, 31, tzinfo=UTC)
    undated = release_columns(ReleasePolicy(), ReleaseOverride(), None, {}, NOW)
    assert undated["obs_release_date"] == NOW and undated["proposal_id"] is None


def test_an_undated_image_of_a_proprietary_collection_has_no_release_date() -> None:
    columns = release_columns(ReleasePolicy(18), ReleaseOverride(), None, {}, NOW)
    assert columns["obs_release_date"] is None and columns["data_rights"] == "proprietary"


def test_the_runs_overrides_win_over_the_policy() -> None:
    later = datetime(2099, 1, 1, tzinfo=UTC)
    columns = release_columns(ReleasePolicy(18, "PROP-ID"), ReleaseOverride(later, "P"), None, {"PROP-ID": "Q"}, NOW)
    assert columns == {"obs_release_date": later, "data_rights": "proprietary", "proposal_id": "P"}


def test_repeated_failed_logins_wait_longer_each_time() -> None:
    failures = FailedLogins()
    for _ in range(FREE_FAILURES - 1):
        failures.failed("user:a")
    assert failures.delay("user:a") == 0
    failures.failed("user:a")
    first = failures.delay("user:a")
    failures.failed("user:a")
    assert 0 < first < failures.delay("user:a")
    assert failures.delay("user:b") == 0
    failures.succeeded("user:a")
    assert failures.delay("user:a") == 0
