"""SAMP in Chromium against astropy's real hub (Web Profile on, its consent dialog answered by
the test) and real astropy clients: the page sends the results table (the receiver loads the
VOTable and finds the page's rows), an image and the sky view's survey, and shows a table
another client sends from its own web server (fetched through the hub's URL translator)."""

from __future__ import annotations

import io
import queue
import socket
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from astropy.io.votable import parse_single_table
from astropy.samp import SAMPHubServer, SAMPIntegratedClient
from astropy.table import Table

from tests.support.browser import GuardedPage
from tests.web.test_portal import OBSCORE_QUERY, row_count, run_adql, search_images, wait_for_answer

WEB_PROFILE_PORT = 21012
NO_HUB = "ERR_CONNECTION_REFUSED"  # Chromium's console line when nothing listens on the hub's port


class Consent:
    """The hub's Web Profile dialog, answered yes, remembering who asked (astropy's hub puts
    each request on ``queue_request`` and waits for True or False on ``queue_result``)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.stop = threading.Event()
        self.queue_request: queue.Queue[tuple[dict[str, str], object, str]]
        self.queue_result: queue.Queue[bool]
        threading.Thread(target=self.answer, daemon=True).start()

    def answer(self) -> None:
        while not self.stop.is_set():
            try:
                identity, _, origin = self.queue_request.get(timeout=0.1)
            except (AttributeError, queue.Empty):
                continue
            self.asked.append((identity["samp.name"], origin))
            self.queue_result.put(True)


@pytest.fixture
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SAMPHubServer, Consent]]:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", WEB_PROFILE_PORT)) == 0:
            pytest.fail(f"port {WEB_PROFILE_PORT} is taken (another SAMP hub?): the Web Profile needs it")
    consent = Consent()
    lockfile = tmp_path_factory.mktemp("samp") / "samp"
    server = SAMPHubServer(web_profile=True, web_profile_dialog=consent, lockfile=str(lockfile), mode="multiple")
    server.start()
    assert server._web_profile, "the hub could not open the Web Profile port"
    try:
        yield server, consent
    finally:
        consent.stop.set()
        server.stop()


class Receiver:
    """A SAMP client like TOPCAT or Aladin: subscribed to tables, images and Aladin scripts."""

    def __init__(self, server: SAMPHubServer, name: str) -> None:
        self.client = SAMPIntegratedClient(name=name)
        self.client.connect(hub=server)
        self.received: queue.Queue[tuple[str, dict[str, str]]] = queue.Queue()
        for mtype in ("table.load.votable", "image.load.fits", "script.aladin.send"):
            self.client.bind_receive_notification(mtype, self.notified)
            self.client.bind_receive_call(mtype, self.called)

    def notified(
        self, private_key: str, sender_id: str, mtype: str, params: dict[str, str], extra: dict[str, Any]
    ) -> None:
        self.received.put((mtype, params))

    def called(
        self, private_key: str, sender_id: str, msg_id: str, mtype: str, params: dict[str, str], extra: dict[str, Any]
    ) -> None:
        self.received.put((mtype, params))
        self.client.reply(msg_id, {"samp.status": "samp.ok", "samp.result": {}})

    def next(self, timeout: float = 30) -> tuple[str, dict[str, str]]:
        return self.received.get(timeout=timeout)


@pytest.fixture
def receiver(hub: tuple[SAMPHubServer, Consent]) -> Iterator[Receiver]:
    client = Receiver(hub[0], "astropy-receiver")
    try:
        yield client
    finally:
        client.client.disconnect()


def connect(portal: GuardedPage, client_name: str) -> None:
    page = portal.page
    page.get_by_role("button", name="Connect to SAMP").click()
    status = page.locator("#samp-status")
    status.filter(has_text="Connected to the SAMP hub").wait_for(timeout=30_000)
    page.wait_for_function(
        f"[...document.getElementById('samp-target').options].some(o => o.text === '{client_name}')", timeout=30_000
    )


def test_the_page_sends_its_results_table_to_a_samp_client(
    portal: GuardedPage, hub: tuple[SAMPHubServer, Consent], receiver: Receiver, server: str
) -> None:
    page = portal.page
    connect(portal, "astropy-receiver")
    assert ("dalserver portal", server) in hub[1].asked  # the hub asked its user about this page
    run_adql(page, OBSCORE_QUERY)
    wait_for_answer(page)
    page.get_by_label("to", exact=True).select_option(label="astropy-receiver")
    page.get_by_role("button", name="Send table").click()
    mtype, params = receiver.next()
    assert mtype == "table.load.votable" and params["name"] == "the ADQL query"
    table = parse_single_table(io.BytesIO(httpx.get(params["url"], timeout=60).content)).to_table()
    assert len(table) == row_count(page) == 20 and table.colnames[0] == "obs_id"
    page.locator("#samp-status", has_text="Sent the table").wait_for()
    portal.screenshot("samp-table-sent")
    portal.expect_clean()


def test_the_page_sends_an_image_and_the_survey_to_aladin(
    served_surveys: object, portal: GuardedPage, receiver: Receiver
) -> None:
    page = portal.page
    connect(portal, "astropy-receiver")
    search_images(page, "34.5 -5.0", "0.05")
    wait_for_answer(page)
    page.locator("#results-table tbody tr[data-index]").first.click()
    page.get_by_role("button", name="Send image").click()
    mtype, params = receiver.next()
    assert mtype == "image.load.fits"
    assert httpx.get(params["url"], timeout=60).content.startswith(b"SIMPLE  =")
    page.get_by_role("button", name="Send HiPS").click()
    mtype, params = receiver.next()
    assert mtype == "script.aladin.send" and params["script"].startswith("load http")
    survey = params["script"].split()[1]
    assert httpx.get(f"{survey}/properties", timeout=30).status_code == 200
    portal.expect_clean()


def test_a_table_another_client_sends_appears_in_the_results(
    portal: GuardedPage, hub: tuple[SAMPHubServer, Consent], tmp_path: Path
) -> None:
    """The sender serves its VOTable from its own web server, as TOPCAT does: another origin, which
    the page reaches through the hub's URL translator."""
    page = portal.page
    Table({"ra": [34.1, 34.2, 34.3], "dec": [-5.1, -5.2, -5.3], "name": ["a", "b", "c"]}).write(
        tmp_path / "sent.vot", format="votable"
    )
    files = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=files.serve_forever, daemon=True).start()
    sender = SAMPIntegratedClient(name="astropy-sender")
    sender.connect(hub=hub[0])
    try:
        connect(portal, "astropy-sender")
        # this page is the portal registered last (pages of earlier tests may still be registered)
        portals = [
            i for i in sender.get_registered_clients() if sender.get_metadata(i).get("samp.name") == "dalserver portal"
        ]
        page_id = max(portals, key=lambda i: int(i.rsplit("#", 1)[-1]))
        url = f"http://127.0.0.1:{files.server_address[1]}/sent.vot"
        sender.notify(page_id, {"samp.mtype": "table.load.votable", "samp.params": {"url": url, "name": "sent"}})
        page.locator("#samp-status", has_text="Received the table").wait_for(timeout=30_000)
        wait_for_answer(page)
        assert row_count(page) == 3 and "astropy-sender" in page.locator("#results-status").inner_text()
        assert page.locator("#results-table thead th .name").all_inner_texts() == ["ra", "dec", "name"]
        portal.screenshot("samp-table-received")
        portal.expect_clean()
    finally:
        sender.disconnect()
        files.shutdown()


def test_without_a_hub_the_page_says_what_to_start(portal: GuardedPage) -> None:
    page = portal.page
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", WEB_PROFILE_PORT)) != 0, "a SAMP hub runs on this computer"
    page.get_by_role("button", name="Connect to SAMP").click()
    page.locator("#samp-status", has_text="no SAMP hub answers").wait_for(timeout=30_000)
    assert "start TOPCAT or Aladin" in page.locator("#samp-status").inner_text()
    assert page.get_by_role("button", name="Send table").is_disabled()
    portal.expect_clean(allowed_errors=(NO_HUB,))
