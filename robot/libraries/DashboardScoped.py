"""Robot keywords for ``robot/dashboard_scopes.robot``: the dashboard with a scoped token.

A reference server app (``create_app``, dashboard on, the memory log) runs in
a thread of this process under uvicorn on a free port of 127.0.0.1, with a
token verifier handing out scoped principals (issue 16; API keys and JWTs
end in the same principals): ``team-a`` reads ``team-a:*``; ``feeder``
reads and publishes everything. Plans are published over HTTP as ``feeder``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import httpx
import uvicorn

from planstream.server import PlanScope, Principal, ServerSettings, create_app

__all__ = ["DashboardScoped"]

_PRINCIPALS = {
    "team-a": Principal("team-a", read=PlanScope.of(["team-a:*"])),
    "feeder": Principal("feeder", publish=PlanScope.everything()),
}


class _TeamVerifier:
    async def verify(self, token: str | None) -> Principal | None:
        return _PRINCIPALS.get(token) if token else None


class DashboardScoped:
    """A scoped reference server for the dashboard, and publishing to it."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._base = ""

    def start_scoped_dashboard_server(self) -> str:
        """Start the server; return the dashboard's URL (``http://127.0.0.1:PORT/``)."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        app = create_app(ServerSettings(dashboard=True), verifier=_TeamVerifier())
        config = uvicorn.Config(app, ws="websockets-sansio", log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[listener])),
            name="scoped-dashboard-server",
            daemon=True,
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            raise AssertionError("the scoped dashboard server did not start")
        self._server, self._thread = server, thread
        self._base = f"http://127.0.0.1:{port}/"
        return self._base

    def stop_scoped_dashboard_server(self) -> None:
        """Stop the server (safe when it is not running)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = None

    def publish_running_plan(self, plan_id: str) -> None:
        """Publish ``plan.status`` ``running`` to ``plan_id`` as ``feeder``."""
        event: dict[str, Any] = {"kind": "plan.status", "data": {"status": "running"}}
        response = httpx.post(
            f"{self._base}v1/plans/{plan_id}/events",
            json=event,
            headers={"Authorization": "Bearer feeder"},
            timeout=10,
        )
        if response.status_code != 201:
            raise AssertionError(f"publish to {plan_id}: {response.status_code} {response.text}")
