"""STILTS votlint (schema validation plus VOTable semantics) finds nothing to say about our
VOTables: results in both serialisations, with nulls, geometry and non-ASCII text, overflow
documents and error documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.tap import sync
from tests.support.votable import votlint_messages

QUERY = (
    "SELECT TOP 5 obs_id, obs_publisher_did, s_ra, calib_level, t_resolution, pol_states, s_region, access_estsize, "
    "POINT('ICRS', s_ra, s_dec) AS p, CIRCLE('ICRS', s_ra, s_dec, 0.1) AS c, "
    "'Ωμέγα <&> \"q\"' AS txt, 1 = 1 AS yes FROM ivoa.obscore ORDER BY obs_id"
)
CASES = {
    "tabledata": {"QUERY": QUERY},
    "binary2": {"QUERY": QUERY, "RESPONSEFORMAT": "votable/b2"},
    "overflow": {"QUERY": "SELECT obs_id FROM ivoa.obscore", "MAXREC": "2"},
    "metadata-only": {"QUERY": QUERY, "MAXREC": "0"},
    "error": {"QUERY": "SELECT nothing FROM ivoa.obscore"},
}


@pytest.mark.parametrize("case", list(CASES))
def test_votlint_is_silent(tap_url: str, tmp_path: Path, case: str) -> None:
    params = dict(CASES[case])
    response = sync(tap_url, params.pop("QUERY"), **params)
    assert votlint_messages(response.content, tmp_path) == ""
