"""``max_connections``: open WebSockets and HTTP requests in flight, 503 beyond (protocol §6).

An ASGI middleware, so the cap holds wherever the app runs (served by
:class:`~planstream.server.runner.PlanStreamServer` or mounted in a host
app). uvicorn's own ``limit_concurrency`` is no substitute: it lets every
WebSocket upgrade through, and answers HTTP with a plain-text 503 without
``Retry-After``, where protocol §6 asks for ``{"error":"unavailable",...}``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from planstream.log_limiter import LogLimiter
from planstream.server.metrics import FAULT_LOG_INTERVAL, ServerMetrics

__all__ = ["ConnectionCap"]

logger = logging.getLogger("planstream.server")

#: ``Retry-After`` of a 503 for ``max_connections``: a slot frees up as soon
#: as any connection ends, so a short hint (the client adds its backoff).
RETRY_AFTER_S: Final = 1


class ConnectionCap:
    """Admits at most ``limit`` WebSockets and HTTP requests at a time.

    Args:
        app: the wrapped ASGI app.
        limit: ``max_connections``.
        metrics: counts refusals (``refused_connections``).
    """

    def __init__(self, app: ASGIApp, *, limit: int, metrics: ServerMetrics) -> None:
        self.app = app
        self.limit = limit
        self.metrics = metrics
        self.active = 0
        self._lines = LogLimiter(FAULT_LOG_INTERVAL)

    def __repr__(self) -> str:
        return f"ConnectionCap(limit={self.limit}, active={self.active})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.active >= self.limit:
            await self._refuse(scope, send)
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1

    async def _refuse(self, scope: Scope, send: Send) -> None:
        self.metrics.refused_connections += 1
        silenced = self._lines.allow(time.monotonic())
        if silenced is not None:
            logger.warning(
                "refused a connection: max_connections (%d) reached (%d such lines silenced)",
                self.limit,
                silenced,
            )
        body = json.dumps(
            {"error": "unavailable", "message": f"too many connections (max {self.limit})"}
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(RETRY_AFTER_S).encode()),
        ]
        # A WebSocket is refused before the upgrade (the denial-response
        # extension, as for 401/403 in app.py): the client sees an HTTP 503.
        prefix = "websocket.http." if scope["type"] == "websocket" else "http."
        await send({"type": prefix + "response.start", "status": 503, "headers": headers})
        await send({"type": prefix + "response.body", "body": body})
