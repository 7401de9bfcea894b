"""The upgrade-gating proxy of the client API features, on 127.0.0.1.

:class:`UpgradeGateProxy` — a TCP proxy (a :class:`~support.scripted_servers.ScriptedTcpServer`)
in front of a real server. It reads the first request of each connection: a
WebSocket upgrade is answered ``502`` while ``refuse_upgrades`` is on (a proxy
that does not pass WebSockets); anything else is piped both ways, bytes
untouched, so HTTP long-polls and (when allowed) WebSockets reach the server
behind it. The scripted stream server lives in support/scripted_servers.py.
"""

from __future__ import annotations

import asyncio

from support.scripted_servers import ScriptedTcpServer, answer_http, pipe

__all__ = ["UpgradeGateProxy"]


class UpgradeGateProxy(ScriptedTcpServer):
    """A TCP proxy that answers WebSocket upgrades ``502`` while ``refuse_upgrades``."""

    def __init__(self, upstream_port: int, *, refuse_upgrades: bool = True) -> None:
        super().__init__()
        self.upstream_port = upstream_port
        self.refuse_upgrades = refuse_upgrades
        self.upgrades_refused = 0
        self.upgrades_passed = 0
        self.connections_piped = 0

    async def _answer_upgrade(self, writer: asyncio.StreamWriter) -> bool:
        """Answer a WebSocket upgrade here (True) or let it through (False)."""
        if not self.refuse_upgrades:
            self.upgrades_passed += 1
            return False
        self.upgrades_refused += 1
        await answer_http(writer, 502, b"bad gateway: no WebSockets here", "text/plain")
        return True

    def _piped(self, upstream: asyncio.StreamWriter) -> None:
        """A connection to the server behind the proxy was opened."""
        self.connections_piped += 1

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").lower().split("\r\n")
            upgrade = any(line.replace(" ", "") == "upgrade:websocket" for line in lines)
            if upgrade and await self._answer_upgrade(writer):
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.upstream_port
            )
            self._writers.add(upstream_writer)
            self._piped(upstream_writer)
            upstream_writer.write(head)
            async with asyncio.TaskGroup() as pipes:
                pipes.create_task(pipe(reader, upstream_writer))
                pipes.create_task(pipe(upstream_reader, writer))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            for each in (writer, upstream_writer):
                if each is not None:
                    self._writers.discard(each)
                    each.close()
