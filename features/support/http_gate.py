"""A proxy on 127.0.0.1 that passes WebSockets and plays faults on plain HTTP.

:class:`HttpGate` stands in front of the reference server like a gateway that
routes only some paths: every WebSocket upgrade is piped to the server, bytes
untouched, so the stream works; every other request is recorded and played
as the gate's ``action`` says (the actions of
:class:`~support.http_fault_proxy.HttpFaultProxy`: ``forward``, ``withhold``
to never answer, ``404`` to answer that status without asking the server).
Each answer closes its connection, so every HTTP request the client makes is
seen here, even when its pool would have reused a connection.
"""

from __future__ import annotations

import asyncio

from support.http_fault_proxy import HttpFaultProxy, ProxiedRequest
from support.scripted_servers import pipe

__all__ = ["HttpGate"]


class HttpGate(HttpFaultProxy):
    """Pipes WebSocket upgrades to ``upstream_port``; plays ``action`` on the rest."""

    def __init__(self, upstream_port: int, action: str) -> None:
        super().__init__(upstream_port)
        self.action = action
        self.upgrades = 0

    def gets_of(self, path: str) -> list[ProxiedRequest]:
        """The ``GET`` requests of ``path`` (query left out) the gate saw."""
        return [r for r in self.requests if r.method == "GET" and r.path.split("?")[0] == path]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines if ":" in line)
            }
            if headers.get("upgrade", "").lower() != "websocket":
                method, path, _version = request_line.split(" ", 2)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(ProxiedRequest(method, path, headers, body))
                await self._play(self.action, method, path, headers, body, writer)
                return
            self.upgrades += 1
            upstream_reader, upstream = await asyncio.open_connection(
                "127.0.0.1", self.upstream_port
            )
            self._writers.add(upstream)
            upstream.write(head)
            async with asyncio.TaskGroup() as pipes:
                pipes.create_task(pipe(reader, upstream))
                pipes.create_task(pipe(upstream_reader, writer))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            for each in (writer, upstream):
                if each is not None:
                    self._writers.discard(each)
                    each.close()
