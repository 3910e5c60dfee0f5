"""Running the app in N worker processes on one port: uvicorn's process manager (a worker that
dies or hangs is replaced; SIGTERM stops them all cleanly), over a listening socket made here.

uvicorn's own shared socket is created without its protocol number, and asyncio then never sets
TCP_NODELAY on the connections it accepts (it checks ``sock.proto == IPPROTO_TCP``): every
response waited out Nagle and a delayed ACK, 40-50 ms, whenever there was more than one worker.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "dalserver.app:app_from_environment"


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(host: str, port: int, workers: int, log_level: str) -> None:
    config = uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
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
