"""The server's listening sockets, bound before uvicorn starts (issue 13 item 7).

uvicorn binds its own sockets and, when it cannot, logs the ``OSError`` and
calls ``sys.exit(1)``: the one who started it learns only an exit status.
Binding here first turns the reason into a :class:`ServerStartError` whose
message says it in words ("port 8765 on 127.0.0.1 is already in use"), before
uvicorn or the app's lifespan has started anything. The sockets are bound the
way ``asyncio``'s ``create_server`` binds them (every address the host
resolves to, ``SO_REUSEADDR``, IPv6 sockets IPv6-only) and handed to
uvicorn, which listens on them and closes them when it stops.
"""

from __future__ import annotations

import asyncio
import errno
import socket

from planstream.errors import PlanStreamError

__all__ = ["ServerStartError", "bind_listeners"]


class ServerStartError(PlanStreamError, OSError):
    """The server could not start: its port is taken, not allowed, its host unknown,
    or its TLS certificate unreadable; the message says which, in one line.

    Also an ``OSError``, as the failure to bind it reports is one.
    """


async def bind_listeners(host: str, port: int) -> list[socket.socket]:
    """Sockets bound to every address ``host`` resolves to, on ``port`` (0: a free one).

    Raises:
        ServerStartError: the host is unknown or an address cannot be bound
            (no socket is left open then).
    """
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(
            host or None,  # "" listens on every interface, as in asyncio
            port,
            family=socket.AF_UNSPEC,
            type=socket.SOCK_STREAM,
            flags=socket.AI_PASSIVE,
        )
    except socket.gaierror as exc:
        raise ServerStartError(
            f"cannot listen on {host!r}: the host name does not resolve ({exc.strerror})"
        ) from None
    bound: list[socket.socket] = []
    try:
        for family, kind, proto, _name, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            bound.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                # One socket per family, as asyncio does: "::" must not take IPv4 too.
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise ServerStartError(_bind_problem(exc, host, port)) from None
    except BaseException:
        for sock in bound:
            sock.close()
        raise
    return bound


def _bind_problem(exc: OSError, host: str, port: int) -> str:
    """One line saying why ``port`` on ``host`` cannot be bound."""
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use (another server listens there)"
    if exc.errno == errno.EACCES:
        why = " (ports below 1024 need privileges)" if 0 < port < 1024 else ""
        return f"no permission to listen on port {port} on {host}{why}"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}: it is not an address of this machine"
    return f"cannot listen on port {port} on {host}: {exc.strerror or exc}"
