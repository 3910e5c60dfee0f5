"""Running the app in N worker processes on one port: uvicorn's process manager (a worker that
dies or hangs is replaced; SIGTERM stops them all cleanly), over a listening socket made here.

uvicorn's own shared socket is created without its protocol number, and asyncio then never sets
TCP_NODELAY on the connections it accepts (it checks ``sock.proto == IPPROTO_TCP``): every
response waited out Nagle and a delayed ACK, 40-50 ms, whenever there was more than one worker.

Nor do the workers share one listening socket: the worker whose event loop wakes first accepts
every connection waiting (asyncio accepts up to the backlog at a time), so keep-alive clients that
connect together all landed on one worker, and a second worker added no throughput. Each worker
listens on a socket of its own with SO_REUSEPORT, and the kernel spreads new connections over
them. The supervisor binds one too (so a port in use is reported before any worker starts) but
never listens on it; what it hands each worker is made again in the worker (``_PortShare``).
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "dalserver.app:app_from_environment"
HTTP_PROTOCOL = "dalserver.http.head_with_body:HeadWithBodyProtocol"


def _bound(sock: socket.socket, address: tuple[str, int]) -> socket.socket:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def worker_socket(family: int, address: tuple[str, int]) -> socket.socket:
    """A worker's own listening socket on the shared port."""
    return _bound(socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP), address)


class _PortShare(socket.socket):
    """The supervisor's socket: passed to a worker (pickled, as uvicorn starts workers by spawning
    them), it becomes a new socket on the same port there instead of a copy of this one."""

    def __reduce__(self) -> tuple[object, tuple[int, tuple[str, int]]]:
        host, port = self.getsockname()[:2]
        return worker_socket, (int(self.family), (host, port))


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return _bound(_PortShare(family, socket.SOCK_STREAM, socket.IPPROTO_TCP), (host, port))


def serve(host: str, port: int, workers: int, log_level: str) -> None:
    config = uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        http=HTTP_PROTOCOL,  # a response's head goes out with its body (head_with_body.py)
        timeout_graceful_shutdown=30,
        # A worker that does not answer the supervisor's ping in time is killed and replaced.
        # Starting (imports, pools, the parser) takes seconds, more on a busy machine: 5 s
        # (uvicorn's default) had workers killed in a loop under load.
        timeout_worker_healthcheck=30,
    )
    if workers == 1:
        uvicorn.Server(config).run()  # in this process: asyncio makes its own socket, with TCP_NODELAY
        return
    sock = listening_socket(host, port)
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
