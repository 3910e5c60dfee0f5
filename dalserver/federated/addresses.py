"""Where a live request may go: the addresses of a host, checked before any byte is sent.

A server that fetches URLs for its users must not become their way into its own network: a host
that resolves to a loopback, private, link-local or otherwise non-global address is refused,
unless the operator allows it (``DALSERVER_FEDERATED_PRIVATE_ADDRESSES``: a private network of
archives, or the tests on 127.0.0.1). The request then goes to the address that was checked,
never to a second lookup of the name, so a name that changes its answer in between (DNS
rebinding) cannot lead elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult


class AddressRefused(Exception):
    """The host cannot be asked; ``reason`` is short and stable, ``message`` says why."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Target:
    """One address to connect to for a URL, and what the request says of the host it meant."""

    url: str  # the URL with the checked address in place of the host name
    host_header: str
    sni_hostname: str | None  # for https: the name the certificate must carry


def refused_address(address: str, allow_private: bool) -> str | None:
    """Why ``address`` may not be asked (None: it may)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.is_global or allow_private:
        return None
    kind = "loopback" if ip.is_loopback else "private" if ip.is_private else "non-public"
    return f"a {kind} address ({ip})"


async def resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host``, in the order the system prefers them."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused("cannot resolve", f"{host} cannot be resolved ({exc})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def targets(parts: SplitResult, allow_private: bool) -> list[Target]:
    """Where to send a request for the URL ``parts``: one target per address of its host, each
    checked; AddressRefused if any address of the host is refused (a host must not be half inside)."""
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise AddressRefused("bad URL", f"{parts.geturl()} is not an http(s) URL with a host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await resolve(host, port)
    for address in addresses:
        why = refused_address(address, allow_private)
        if why is not None:
            raise AddressRefused("private address", f"{host} is at {why}: not asked")
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if parts.port is None else f"{shown}:{parts.port}"
    found = []
    for address in addresses:
        literal = f"[{address.split('%', 1)[0]}]" if ":" in address else address
        url = parts._replace(netloc=f"{literal}:{port}").geturl()
        found.append(Target(url, host_header, host if parts.scheme == "https" else None))
    return found
