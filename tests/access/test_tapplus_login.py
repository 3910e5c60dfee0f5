"""astroquery's TapPlus (ESA's TAP+ client) logged in end to end. TapPlus logs in over HTTPS
only, and once logged in sends every request over HTTPS, so the archive is served as in
production: a server whose public URL is https, behind a TLS front (tests/support/tls_proxy.py)
with a certificate the test trusts. ``login()`` posts to ``/tap/login`` and keeps the ``SESSION``
cookie; ``logout()`` posts to ``/tap/logout`` and keeps sending the cookie, which then reads as
anonymous."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from astroquery.utils.tap.core import TapPlus

from tests.access.conftest import CATALOGUE, PASSWORDS, ProprietaryArchive
from tests.support.servers import free_port, start_server, stop_server
from tests.support.tls_proxy import TLSFront, tls_front

COUNT = "SELECT COUNT(*) AS n FROM ivoa.obscore"
HIDDEN = 3


@pytest.fixture(scope="module")
def https(proprietary: ProprietaryArchive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSFront]:
    """The proprietary archive at an https URL: a second server (public URL https://...) behind a
    TLS front."""
    folder = tmp_path_factory.mktemp("tapplus-https")
    port = free_port()
    with tls_front(port, folder) as front:
        env = {**proprietary.archive.env, "DALSERVER_PORT": str(port), "DALSERVER_BASE_URL": front.base}
        server = start_server(env, f"http://127.0.0.1:{port}", folder / "server.log")
        try:
            yield front
        finally:
            stop_server(server)


@pytest.fixture
def tapplus(https: TLSFront, monkeypatch: pytest.MonkeyPatch) -> TapPlus:
    # TapPlus connects with http.client and Python's default context, which trusts the
    # authorities of SSL_CERT_FILE: the test's own, here.
    monkeypatch.setenv("SSL_CERT_FILE", str(https.ca_file))
    return TapPlus(url=f"{https.base}/tap")


def _counts(tap: TapPlus) -> tuple[int, int]:
    sync = int(tap.launch_job(COUNT).get_results()["n"][0])
    job = tap.launch_job_async(COUNT)
    return sync, int(job.get_results()["n"][0])


def _tables(tap: TapPlus) -> set[str]:
    return {t.get_qualified_name() for t in tap.load_tables()}


def test_tapplus_sees_the_proprietary_rows_and_catalogue_while_logged_in_and_not_after_logout(
    proprietary: ProprietaryArchive, tapplus: TapPlus
) -> None:
    public = proprietary.public
    assert _counts(tapplus) == (public, public)
    assert CATALOGUE not in _tables(tapplus)

    tapplus.login(user="granted1", password=PASSWORDS["granted1"])
    assert _counts(tapplus) == (public + HIDDEN, public + HIDDEN)
    assert CATALOGUE in _tables(tapplus)

    tapplus.logout()
    assert _counts(tapplus) == (public, public)
    assert CATALOGUE not in _tables(tapplus)


def test_tapplus_logged_in_as_another_user_sees_only_the_public_rows(
    proprietary: ProprietaryArchive, tapplus: TapPlus
) -> None:
    tapplus.login(user="other1", password=PASSWORDS["other1"])
    assert _counts(tapplus) == (proprietary.public, proprietary.public)
    assert CATALOGUE not in _tables(tapplus)
    tapplus.logout()


def test_tapplus_is_told_of_a_wrong_password(tapplus: TapPlus) -> None:
    with pytest.raises(requests.exceptions.HTTPError, match="wrong user name or password"):
        tapplus.login(user="granted1", password="not the password")


def test_the_session_cookie_behind_https_is_secure(https: TLSFront) -> None:
    login = requests.post(
        f"{https.base}/tap/login",
        data={"username": "other1", "password": PASSWORDS["other1"]},
        verify=str(https.ca_file),
        timeout=60,
    )
    assert login.status_code == 200
    assert "Secure" in login.headers["set-cookie"] and "HttpOnly" in login.headers["set-cookie"]
