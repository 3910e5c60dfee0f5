"""An HTTPS front for a test server, as an archive is served in production (a TLS-terminating
proxy before the workers, docs/operators-guide/production.md): TLS with a certificate of a
throw-away authority (trustme) on a port of its own, every byte passed on to the plain-HTTP server
and back. For the clients that speak only HTTPS once they log in (astroquery's TapPlus)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme

from tests.support.servers import free_port


@dataclass(frozen=True)
class TLSFront:
    base: str  # https://127.0.0.1:PORT
    ca_file: Path  # the authority's certificate (PEM), for the clients to trust


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, ssl.SSLError, RuntimeError):
            writer.close()


async def _front(context: ssl.SSLContext, port: int, backend: int) -> asyncio.Server:
    async def passed_on(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", backend)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))

    return await asyncio.start_server(passed_on, "127.0.0.1", port, ssl=context)


@contextmanager
def tls_front(backend_port: int, folder: Path) -> Iterator[TLSFront]:
    """HTTPS on a free port of 127.0.0.1 before the plain-HTTP server on ``backend_port``, in a
    thread of its own, for the length of a block."""
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    ca_file = folder / "test-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    port = free_port()
    # The loop lives in its thread alone: the test's own thread may be running one already
    # (Playwright's sync API does).
    loop = asyncio.new_event_loop()
    listening = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(_front(context, port, backend_port))
        listening.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            loop.close()

    thread = threading.Thread(target=run, name="tls-front", daemon=True)
    thread.start()
    assert listening.wait(timeout=30), "the TLS front did not start"
    try:
        yield TLSFront(f"https://127.0.0.1:{port}", ca_file)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
