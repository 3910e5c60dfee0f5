"""The portal's look-ups tell nobody of proprietary data: the archive's target names (suggestions
and the name resolver) come from public rows only, and the cone form's catalogues are those the
caller may read."""

from __future__ import annotations

import pytest

from tests.access.conftest import CATALOGUE, SECRET_TARGET, ProprietaryArchive, client


@pytest.mark.parametrize("user", [None, "other1", "granted1"])
def test_a_proprietary_target_is_neither_suggested_nor_resolved_from_the_archive(
    proprietary: ProprietaryArchive, user: str | None
) -> None:
    with client(proprietary, user) as http:
        names = http.get("/portal/targets.json").json()
        assert "SXDS" in names and SECRET_TARGET not in names
        assert http.get("/portal/resolve", params={"name": "sxds"}).json()["resolver"] == "archive"
        answer = http.get("/portal/resolve", params={"name": SECRET_TARGET})
        assert answer.status_code in (404, 503) and "is not a target of this archive" in answer.text


@pytest.mark.parametrize(("user", "listed"), [(None, False), ("other1", False), ("granted1", True)])
def test_the_cone_form_lists_a_group_catalogue_to_its_members_only(
    proprietary: ProprietaryArchive, user: str | None, listed: bool
) -> None:
    with client(proprietary, user) as http:
        names = [c["name"] for c in http.get("/portal/catalogues.json").json()]
    assert (CATALOGUE in names) is listed
