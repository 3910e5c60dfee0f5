"""How clients get in, and how they are told: capabilities anybody may read (GET and HEAD) with
challenges and security methods, X-VO-Authenticated, a TOPCAT-style cookie login, astroquery
TapPlus's login URL, bearer tokens; wrong, revoked and disabled credentials refused with 401,
never answered as anonymous; jobs that belong to their owners; a release date that passes without
a restart; the operator's explanation; and a canary no answer to others names."""

from __future__ import annotations

import time

import httpx
import psycopg
import pytest
from lxml import etree

from ivoa.vocabulary import StandardID
from tests.access.conftest import PASSWORDS, ProprietaryArchive, basic

COUNT = {"LANG": "ADQL", "QUERY": "SELECT COUNT(*) FROM ivoa.obscore", "RESPONSEFORMAT": "csv"}


def _count(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    return int(response.text.splitlines()[1])


@pytest.mark.parametrize("service", ["tap", "sia", "datalink", "soda"])
def test_capabilities_answer_anybody_on_head_and_get_with_challenges_and_security_methods(
    proprietary: ProprietaryArchive, service: str
) -> None:
    head = httpx.head(f"{proprietary.base}/{service}/capabilities", timeout=30)
    assert head.status_code == 200
    challenges = head.headers.get_list("www-authenticate")
    assert any(c.startswith("ivoa_cookie ") and f'access_url="{proprietary.base}/login"' in c for c in challenges)
    assert any(c.startswith("Basic realm=") for c in challenges) and any(c.startswith("Bearer ") for c in challenges)
    assert "x-vo-authenticated" not in head.headers
    document = etree.fromstring(httpx.get(f"{proprietary.base}/{service}/capabilities", timeout=30).content)
    methods = [m.get("standardID") for m in document.iter("securityMethod")]
    assert methods[:3] == [None, StandardID.SSO_BASIC, StandardID.SSO_COOKIE]
    authenticated = httpx.get(f"{proprietary.base}/{service}/capabilities", auth=basic("other1"), timeout=30)
    assert authenticated.headers["x-vo-authenticated"] == "other1"
    assert "www-authenticate" not in authenticated.headers
    assert httpx.head(f"{proprietary.base}/{service}/availability", timeout=30).status_code == 200


def test_a_topcat_style_client_logs_in_with_a_cookie_and_sees_the_proprietary_rows(
    proprietary: ProprietaryArchive,
) -> None:
    with httpx.Client(base_url=proprietary.base, timeout=60, follow_redirects=False) as client:
        probe = client.head("/tap/capabilities")
        cookie_challenge = next(c for c in probe.headers.get_list("www-authenticate") if c.startswith("ivoa_cookie"))
        login_url = cookie_challenge.split('access_url="')[1].split('"')[0]
        login = client.post(login_url, data={"username": "granted1", "password": PASSWORDS["granted1"]})
        assert login.status_code == 200  # TOPCAT does not follow a redirect from its login
        set_cookie = login.headers["set-cookie"]
        assert set_cookie.startswith("SESSION=dal-")
        assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie and "Path=/" in set_cookie
        assert client.get("/tap/capabilities").headers["x-vo-authenticated"] == "granted1"
        assert _count(client.get("/tap/sync", params=COUNT)) == proprietary.public + 3
        assert client.get("/whoami").json() == {"user": "granted1", "groups": ["s20a"]}
        assert client.post("/logout").status_code == 200
        assert client.get("/whoami").json()["user"] is None
        assert _count(client.get("/tap/sync", params=COUNT)) == proprietary.public


def test_a_session_cookie_gives_nothing_but_anonymous_answers_after_logout(proprietary: ProprietaryArchive) -> None:
    login = httpx.post(
        proprietary.base + "/tap/login", data={"username": "granted1", "password": PASSWORDS["granted1"]}, timeout=60
    )
    cookie = {"SESSION": login.cookies["SESSION"]}
    assert _count(httpx.get(proprietary.base + "/tap/sync", params=COUNT, cookies=cookie, timeout=60)) > 0
    httpx.post(proprietary.base + "/tap/logout", cookies=cookie, timeout=60)
    time.sleep(proprietary.archive.settings.auth_cache_seconds + 0.5)
    # Its holder asked to be anonymous (TapPlus keeps sending the cookie after logout()); whoever
    # else holds it (a stolen copy) gets no more than anybody.
    after = httpx.get(proprietary.base + "/tap/sync", params=COUNT, cookies=cookie, timeout=60)
    assert _count(after) == proprietary.public
    assert "x-vo-authenticated" not in after.headers
    assert httpx.get(proprietary.base + "/whoami", cookies=cookie, timeout=60).json()["user"] is None


def test_an_expired_session_is_refused_asking_to_log_in_again(proprietary: ProprietaryArchive) -> None:
    login = httpx.post(
        proprietary.base + "/login", data={"username": "granted1", "password": PASSWORDS["granted1"]}, timeout=60
    )
    cookie = login.cookies["SESSION"]
    with psycopg.connect(proprietary.archive.url, autocommit=True) as conn:
        conn.execute(
            "UPDATE auth.credentials SET expires = now() - interval '1 second' WHERE credential_key = %s",
            (cookie.removeprefix("dal-").split(".")[0],),
        )
    refused = httpx.get(proprietary.base + "/tap/sync", params=COUNT, cookies={"SESSION": cookie}, timeout=60)
    assert refused.status_code == 401 and "log in again" in refused.text


def test_another_sites_form_cannot_use_the_session(proprietary: ProprietaryArchive) -> None:
    login = httpx.post(proprietary.base + "/login", data={"username": "other1", "password": PASSWORDS["other1"]})
    posted = httpx.post(
        proprietary.base + "/tap/sync",
        data=COUNT,
        cookies={"SESSION": login.cookies["SESSION"]},
        headers={"Origin": "https://evil.example"},
        timeout=60,
    )
    assert posted.status_code == 403


def test_the_portals_form_is_sent_back_to_the_page(proprietary: ProprietaryArchive) -> None:
    form = {"username": "other1", "password": PASSWORDS["other1"], "next": "/"}
    assert httpx.post(proprietary.base + "/login", data=form).headers["location"] == "/"
    elsewhere = httpx.post(proprietary.base + "/login", data={**form, "next": "https://evil.example/"})
    assert elsewhere.status_code == 200  # never sent off the site


@pytest.mark.parametrize(
    ("auth", "headers", "says"),
    [
        (("granted1", "wrong password"), {}, "wrong user name or password"),
        (("nobody", "whatever"), {}, "wrong user name or password"),
        (basic("disabled1"), {}, "wrong user name or password"),
        (None, {"Authorization": "Bearer dal-nokey.nosecret"}, "unknown token"),
        (None, {"Authorization": "Bearer not-ours"}, "not one of this service's"),
        (None, {"Authorization": "Negotiate abc"}, "not offered"),
        (None, {"Cookie": "SESSION=dal-old.session"}, "log in again"),
    ],
)
def test_credentials_that_prove_nothing_are_refused_never_taken_as_anonymous(
    proprietary: ProprietaryArchive, auth: tuple[str, str] | None, headers: dict[str, str], says: str
) -> None:
    refused = httpx.get(proprietary.base + "/tap/sync", params=COUNT, auth=auth, headers=headers, timeout=60)
    assert refused.status_code == 401
    assert says in refused.text
    assert refused.headers.get_list("www-authenticate")
    if headers.get("Authorization", "").startswith("Bearer"):
        assert any('error="invalid_token"' in c for c in refused.headers.get_list("www-authenticate"))


def test_a_revoked_token_is_refused_within_the_cache_time(proprietary: ProprietaryArchive) -> None:
    token = proprietary.command("user", "token", "other1", "--expires", "1d").stdout.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    assert _count(httpx.get(proprietary.base + "/tap/sync", params=COUNT, headers=bearer, timeout=60)) > 0
    listed = proprietary.command("token", "list", "--user", "other1").stdout
    assert token.split(".")[1] not in listed and token.split(".")[0].removeprefix("dal-") in listed
    proprietary.command("token", "revoke", token)
    time.sleep(proprietary.archive.settings.auth_cache_seconds + 0.5)
    refused = httpx.get(proprietary.base + "/tap/sync", params=COUNT, headers=bearer, timeout=60)
    assert refused.status_code == 401 and "revoked" in refused.text


def test_only_the_hash_of_a_token_is_stored(proprietary: ProprietaryArchive) -> None:
    key, secret = proprietary.token.removeprefix("dal-").split(".")
    with psycopg.connect(proprietary.archive.url) as conn:
        stored = conn.execute("SELECT * FROM auth.credentials WHERE credential_key = %s", (key,)).fetchone()
        dump = repr(conn.execute("SELECT * FROM auth.credentials").fetchall())
    assert stored is not None and secret not in dump


def test_jobs_belong_to_their_owners(proprietary: ProprietaryArchive) -> None:
    base = proprietary.base
    created = httpx.post(base + "/tap/async", data={**COUNT, "PHASE": "RUN"}, auth=basic("granted1"), timeout=60)
    job = created.headers["location"]
    assert httpx.get(job, auth=basic("granted1"), timeout=60).status_code == 200
    assert httpx.get(job + "/owner", auth=basic("granted1"), timeout=60).text == "granted1"
    assert httpx.get(job, auth=basic("other1"), timeout=60).status_code == 403
    assert httpx.get(job + "/results/result", auth=basic("other1"), timeout=60).status_code == 403
    anonymous = httpx.get(job, timeout=60)
    assert anonymous.status_code == 401 and anonymous.headers.get_list("www-authenticate")
    assert job.rsplit("/", 1)[1] in httpx.get(base + "/tap/async", auth=basic("granted1"), timeout=60).text
    assert job.rsplit("/", 1)[1] not in httpx.get(base + "/tap/async", auth=basic("other1"), timeout=60).text
    assert job.rsplit("/", 1)[1] not in httpx.get(base + "/tap/async", timeout=60).text
    httpx.delete(job, auth=basic("granted1"), timeout=60)


def test_a_queued_job_runs_with_its_owners_rights_as_they_are_when_it_runs(proprietary: ProprietaryArchive) -> None:
    base = proprietary.base
    job = httpx.post(base + "/tap/async", data=COUNT, auth=basic("granted1"), timeout=60).headers["location"]
    proprietary.command("group", "revoke", "s20a", "--collection", "Subaru/Suprime-Cam", "--proposal", "S20A-001")
    try:
        time.sleep(proprietary.archive.settings.auth_cache_seconds + 0.5)
        httpx.post(job + "/phase", data={"PHASE": "RUN"}, auth=basic("granted1"), timeout=60)
        done = httpx.get(job, params={"WAIT": "30"}, auth=basic("granted1"), timeout=60)
        assert "COMPLETED" in done.text
        result = httpx.get(job + "/results/result", auth=basic("granted1"), timeout=60)
        assert _count(result) == proprietary.public
    finally:
        proprietary.command("group", "grant", "s20a", "--collection", "Subaru/Suprime-Cam", "--proposal", "S20A-001")
        httpx.delete(job, auth=basic("granted1"), timeout=60)


def test_a_row_becomes_public_when_its_release_date_passes_without_a_restart(proprietary: ProprietaryArchive) -> None:
    did = proprietary.hidden_dids[1]
    with psycopg.connect(proprietary.archive.url, autocommit=True) as conn:
        conn.execute(
            "UPDATE ivoa.obscore SET obs_release_date = now() + interval '2 seconds' WHERE obs_publisher_did = %s",
            (did,),
        )
        try:
            assert _count(httpx.get(proprietary.base + "/tap/sync", params=COUNT, timeout=60)) == proprietary.public
            time.sleep(2.5)
            assert _count(httpx.get(proprietary.base + "/tap/sync", params=COUNT, timeout=60)) == proprietary.public + 1
            rights = httpx.get(
                proprietary.base + "/tap/sync",
                params={**COUNT, "QUERY": f"SELECT data_rights FROM ivoa.obscore WHERE obs_publisher_did = '{did}'"},
                timeout=60,
            )
            assert rights.text.splitlines()[1].strip('"') == "public"
        finally:
            conn.execute("UPDATE ivoa.obscore SET obs_release_date = '2099-01-01' WHERE obs_publisher_did = %s", (did,))


def test_the_operator_is_told_why_a_user_does_or_does_not_see_a_dataset(proprietary: ProprietaryArchive) -> None:
    granted = proprietary.command("access", "explain", "granted1", proprietary.canary).stdout
    assert "no release date" in granted and "visible to granted1" in granted and "S20A-001" in granted
    other = proprietary.command("access", "explain", "other1", proprietary.canary).stdout
    assert "not visible to other1" in other and "dalserver group grant" in other
    anonymous = proprietary.command("access", "explain", "anonymous", proprietary.hidden_dids[0]).stdout
    assert "not visible to anonymous users until its release date" in anonymous and "2099-01-01" in anonymous


def test_no_answer_to_anonymous_or_other1_names_the_canary(proprietary: ProprietaryArchive) -> None:
    canary = proprietary.canary
    base = proprietary.base
    asked = [
        ("/tap/sync", {**COUNT, "QUERY": "SELECT * FROM ivoa.obscore"}),
        ("/tap/sync", {**COUNT, "QUERY": "SELECT * FROM ivoa.obscore WHERE obs_id = 'S20A-UNDATED-3'"}),
        ("/tap/sync", {**COUNT, "QUERY": "SELECT * FROM TAP_SCHEMA.tables"}),
        ("/tap/tables", {}),
        ("/tap/examples", {}),
        ("/sia/query", {"POS": "CIRCLE 34.5 -5.0 5", "MAXREC": "10000"}),
        ("/sia/query", {"ID": canary}),
        ("/sia/capabilities", {}),
        ("/scs/ivoa.obscore", {"RA": "34.5", "DEC": "-5.0", "SR": "5"}),
        ("/tap/async", {}),
        ("/oai", {"verb": "ListRecords", "metadataPrefix": "ivo_vor"}),
        ("/moc/table/ivoa.obscore.txt", {}),
        ("/", {}),
        ("/portal/config.json", {}),
    ]
    for auth in (None, basic("other1")):
        for path, params in asked:
            answer = httpx.get(base + path, params=params, auth=auth, timeout=60)
            assert canary not in answer.text, (path, auth)
            assert "S20A" not in answer.text or path in ("/tap/sync", "/sia/query"), (path, auth)
    granted = httpx.get(
        base + "/tap/sync", params={**COUNT, "QUERY": "SELECT * FROM ivoa.obscore"}, auth=basic("granted1")
    )
    assert canary in granted.text


def test_no_answer_offers_credentials_to_every_origin(proprietary: ProprietaryArchive) -> None:
    for path in ("/tap/capabilities", "/hips/hipslist", "/datalink/links?ID=x"):
        answer = httpx.get(
            proprietary.base + path, headers={"Origin": "https://elsewhere.example"}, auth=basic("granted1")
        )
        assert not (
            answer.headers.get("access-control-allow-origin") == "*"
            and answer.headers.get("access-control-allow-credentials") == "true"
        )


def test_the_nightly_release_command_brings_data_rights_and_coverage_up_to_date(
    proprietary: ProprietaryArchive,
) -> None:
    with psycopg.connect(proprietary.archive.url, autocommit=True) as conn:
        conn.execute(
            "UPDATE ivoa.obscore SET data_rights = 'stale' WHERE obs_publisher_did = %s", (proprietary.canary,)
        )
    done = proprietary.command("release", "--no-hips")
    assert "1 rows changed data_rights" in done.stdout
    with psycopg.connect(proprietary.archive.url) as conn:
        stored = conn.execute(
            "SELECT data_rights FROM ivoa.obscore WHERE obs_publisher_did = %s", (proprietary.canary,)
        ).fetchone()
        counted = conn.execute(
            "SELECT row_count FROM registry.resource_state WHERE resource_key = 'collection:Subaru/Suprime-Cam'"
        ).fetchone()
    assert stored == ("proprietary",)
    assert counted == (proprietary.public,)  # the collection's coverage counts its public rows only
