"""Robot keywords for ``robot/dashboard_scopes.robot``: the dashboard with a scoped token.

A reference server app (``create_app``, dashboard on, the memory log) runs in
a thread of this process under uvicorn on a free port of 127.0.0.1, with a
token verifier handing out scoped principals (issue 16; API keys and JWTs
end in the same principals): ``team-a`` reads ``team-a:*``; ``feeder``
reads and publishes everything. Plans are published over HTTP as ``feeder``.
"""

from __future__ import annotations

from typing import Any

import httpx
from dashboard_processes import ThreadServer

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
        self._server: ThreadServer | None = None
        self._base = ""

    def start_scoped_dashboard_server(self) -> str:
        """Start the server; return the dashboard's URL (``http://127.0.0.1:PORT/``)."""
        app = create_app(ServerSettings(dashboard=True), verifier=_TeamVerifier())
        self._server = ThreadServer(app, "scoped dashboard server")
        self._base = self._server.url
        return self._base

    def stop_scoped_dashboard_server(self) -> None:
        """Stop the server (safe when it is not running)."""
        if self._server is not None:
            self._server.stop()
        self._server = None

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
