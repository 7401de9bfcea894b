"""A fault proxy for client_edges.feature: chosen answers to WebSocket upgrades,
and a way to stop the server's bytes reaching the client (a silent peer)."""

from __future__ import annotations

import asyncio
from typing import cast

from support.client_api_servers import UpgradeGateProxy
from support.scripted_servers import answer_http

__all__ = ["EdgeProxy"]

_FORBIDDEN = b'{"error": "forbidden", "message": "edge proxy: this token may not read"}'


class EdgeProxy(UpgradeGateProxy):
    """An :class:`UpgradeGateProxy` that answers WebSocket upgrades with any status:
    those queued in ``script`` first, then ``upgrade_status`` (None: passed to the
    server). :meth:`hold` stops reading the server's bytes on the connections open now."""

    def __init__(self, upstream_port: int, upgrade_status: int | None) -> None:
        super().__init__(upstream_port, refuse_upgrades=False)
        self.upgrade_status = upgrade_status
        self.script: list[int] = []
        self.answered: list[int] = []  # the statuses upgrades were answered with
        self._upstreams: list[asyncio.Transport] = []

    def hold(self, held: bool) -> None:
        for upstream in self._upstreams:
            upstream.pause_reading() if held else upstream.resume_reading()

    async def _answer_upgrade(self, writer: asyncio.StreamWriter) -> bool:
        status = self.script.pop(0) if self.script else self.upgrade_status
        if status is None:
            return False
        self.answered.append(status)
        # A 403 plays the planstream server's own refusal (protocol §2: its JSON
        # body); any other 403 means no planstream endpoint answers there.
        body = _FORBIDDEN if status == 403 else b'{"error": "edge", "message": "edge proxy"}'
        await answer_http(writer, status, body)
        return True

    def _piped(self, upstream: asyncio.StreamWriter) -> None:
        self._upstreams.append(cast(asyncio.Transport, upstream.transport))
