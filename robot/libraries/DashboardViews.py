"""Robot keywords for the dashboard views suite (``robot/dashboard_views.robot``).

They start real reference servers with the dashboard on (``python -m
planstream.server`` in a subprocess, on a free port of 127.0.0.1), publish
over HTTP with a publish token, read what the HTTP API lists, and check the
browser console while allowing exactly the refusals a token test provokes.
For what the reference server never does (a hello of another schema major, a
subscription refused), a small scripted server serves the real dashboard
under a mount prefix per behaviour (``/incompatible/``, ``/refusing/``).
The browser itself is driven by SeleniumLibrary and ``DashboardBrowser``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from dashboard_processes import ServerProcess, ThreadServer
from dashboard_scripted import (
    HELLO,
    forgotten_snapshot,
    log_event,
    progress_event,
    scripted_answer,
    status_event,
    stream_then_restart,
)
from robot.api import logger
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from planstream.server.dashboard import dashboard_routes

__all__ = ["DashboardViews"]

_ROOT = Path(__file__).resolve().parents[2]
#: Plan statuses in the order the list tests give them to their plans.
PLAN_STATUSES = ("queued", "running", "paused", "succeeded", "failed", "cancelled")
LOG_LEVELS = ("debug", "info", "warning", "error")
#: Events per publish request (the reference server accepts up to 1000).
PUBLISH_CHUNK = 500
#: What Chromium logs when the server answers a refused token with 401: a
#: fetch of ``v1/...`` and the WebSocket upgrade. A token test expects these.


@dataclass
class _Server:
    process: ServerProcess
    read_token: str | None
    publish_token: str | None
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.process.base_url, timeout=10)


class DashboardViews:
    """Servers to show in the dashboard, and publishing to them."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._servers: dict[str, _Server] = {}
        self._scripted: ThreadServer | None = None
        #: WebSockets the page opened, per behaviour of the scripted server.
        self.scripted_connections: Counter[str] = Counter()

    # --- servers --------------------------------------------------------------

    def start_dashboard_server(
        self,
        name: str,
        read_token: str | None = None,
        publish_token: str | None = None,
        retention: int | None = None,
    ) -> str:
        """Start a reference server with the dashboard on; return its page URL.

        Without tokens the server is open (anonymous readers and publishers).
        ``retention``: events kept per plan (older ones make a subscriber resync).
        Its log is ``build/dashboard/views-NAME.log``.
        """
        env = {
            "PLANSTREAM_SERVER_TOKENS": read_token or "",
            "PLANSTREAM_SERVER_PUBLISH_TOKENS": publish_token or "",
        }
        if retention is not None:
            env["PLANSTREAM_SERVER_RETENTION"] = str(int(retention))
        process = ServerProcess(f"views-{name}", env)
        process.start()
        self._servers[name] = _Server(process, read_token, publish_token)
        logger.info(f"server {name} on port {process.port}, log {process.log_path}")
        return process.base_url

    def stop_dashboard_servers(self) -> None:
        """SIGTERM every server started (so coverage can write its data) and wait."""
        for server in self._servers.values():
            server.http.close()
            server.process.stop()
        self._servers.clear()

    def start_scripted_dashboard_server(self) -> str:
        """Start the scripted server (a thread of this process); return its root URL.

        ``<root>incompatible/`` says hello with schema 2.0; ``<root>refusing/``
        answers ``subscribe`` with ``error`` ``forbidden`` for ``secret-*`` plans
        and ``not_found`` for ``ghost-*`` plans, ``subscribed`` otherwise;
        ``<root>restarting/`` closes every connection with 1012 after its hello;
        ``<root>forgetful/`` streams three events on the first connection, closes
        it with 1012, and then answers the resume with a head behind them (a
        stream reset it does not announce) and ``GET v1/plans/{id}`` with a
        snapshot at that head.
        """
        app = Starlette(
            routes=[
                Mount(f"/{behaviour}", app=self._scripted_app(behaviour))
                for behaviour in ("incompatible", "refusing", "restarting", "forgetful")
            ]
        )
        self._scripted = ThreadServer(app, "scripted dashboard server", lifespan="off")
        return self._scripted.url

    def stop_scripted_dashboard_server(self) -> None:
        """Stop the scripted server (safe when it is not running)."""
        if self._scripted is not None:
            self._scripted.stop()
        self._scripted = None

    def _scripted_app(self, behaviour: str) -> Starlette:
        async def plans(request: Request) -> JSONResponse:
            return JSONResponse({"plans": [], "next_cursor": None})

        async def stream(websocket: WebSocket) -> None:
            self.scripted_connections[behaviour] += 1
            await websocket.accept(subprotocol="planstream.v1")
            schema = "2.0" if behaviour == "incompatible" else "1.0"
            await websocket.send_text(json.dumps({**HELLO, "schema": schema}))
            if behaviour == "restarting":
                await websocket.close(code=1012)  # protocol §4: service restart, reconnect
                return
            if behaviour == "forgetful" and self.scripted_connections[behaviour] == 1:
                await stream_then_restart(websocket)
                return
            try:
                while True:
                    frame = json.loads(await websocket.receive_text())
                    answer = scripted_answer(frame)
                    if answer is not None:
                        await websocket.send_text(json.dumps(answer))
            except WebSocketDisconnect:
                return

        async def snapshot(request: Request) -> JSONResponse:
            return JSONResponse(forgotten_snapshot(request.path_params["plan_id"]))

        return Starlette(
            routes=[
                *dashboard_routes(),
                Route("/v1/plans", plans),
                Route("/v1/plans/{plan_id}", snapshot),
                WebSocketRoute("/v1/stream", stream),
            ]
        )

    def scripted_connections_should_be(self, behaviour: str, expected: int) -> None:
        """Fail unless the page opened ``expected`` WebSockets to ``behaviour``."""
        seen = self.scripted_connections[behaviour]
        if seen != int(expected):
            raise AssertionError(f"{behaviour}: {seen} WebSocket connections, expected {expected}")

    # --- publishing -----------------------------------------------------------

    def publish_events(self, name: str, plan_id: str, *events: dict[str, Any]) -> list[int]:
        """POST ``events`` (``{"kind", "data"}`` each) atomically; return their ``seq``s."""
        server = self._servers[name]
        headers = {}
        if server.publish_token:
            headers["Authorization"] = f"Bearer {server.publish_token}"
        answer = server.http.post(f"/v1/plans/{plan_id}/events", json=list(events), headers=headers)
        if answer.status_code != 201:
            status = answer.status_code
            raise AssertionError(f"publish to {plan_id} answered {status}: {answer.text}")
        return [event["seq"] for event in answer.json()["events"]]

    def publish_plan_status(
        self, name: str, plan_id: str, status: str, reason: str | None = None
    ) -> None:
        """Publish one ``plan.status`` (with its ``reason``, if any)."""
        self.publish_events(name, plan_id, status_event(status, reason))

    def publish_progress(self, name: str, plan_id: str, completed: int, total: int) -> None:
        """Publish one ``plan.progress`` (``completed`` of ``total`` steps)."""
        self.publish_events(name, plan_id, progress_event(int(completed), int(total)))

    def publish_step(
        self, name: str, plan_id: str, index: int, step_name: str, status: str
    ) -> None:
        """Publish one ``step.status`` of step ``s<index>``."""
        index = int(index)
        data = {"step_id": f"s{index}", "index": index, "name": step_name, "status": status}
        self.publish_events(name, plan_id, {"kind": "step.status", "data": {**data, "error": None}})

    def publish_log(self, name: str, plan_id: str, message: str, level: str = "info") -> int:
        """Publish one ``log`` line; return its ``seq``."""
        return self.publish_events(name, plan_id, log_event(message, level))[0]

    def publish_log_lines(self, name: str, plan_id: str, count: int) -> list[int]:
        """Publish ``count`` log lines, levels cycling debug..error; return their ``seq``s.

        Requests carry at most PUBLISH_CHUNK lines (the server takes 1000 at most).
        """
        lines = [
            log_event(f"line {number}", LOG_LEVELS[number % len(LOG_LEVELS)])
            for number in range(int(count))
        ]
        seqs: list[int] = []
        for start in range(0, len(lines), PUBLISH_CHUNK):
            seqs.extend(self.publish_events(name, plan_id, *lines[start : start + PUBLISH_CHUNK]))
        return seqs

    def publish_plans_with_statuses(self, name: str, prefix: str, count: int) -> list[str]:
        """Publish ``count`` plans ``<prefix>-NN``: a progress, then a status cycling
        through PLAN_STATUSES (so some are terminal). Return their ids in order."""
        plan_ids = []
        for number in range(int(count)):
            plan_id = f"{prefix}-{number:02d}"
            status = PLAN_STATUSES[number % len(PLAN_STATUSES)]
            self.publish_events(name, plan_id, progress_event(number % 5, 4), status_event(status))
            plan_ids.append(plan_id)
        return plan_ids

    # --- reading the API ------------------------------------------------------

    def listed_plan_pages(self, name: str, limit: int = 20) -> list[list[dict[str, Any]]]:
        """Every page of ``GET /v1/plans`` (``limit`` a page), as the server gives them."""
        server = self._servers[name]
        headers = {"Authorization": f"Bearer {server.read_token}"} if server.read_token else {}
        pages: list[list[dict[str, Any]]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": int(limit)}
            if cursor:
                params["cursor"] = cursor
            body = server.http.get("/v1/plans", params=params, headers=headers).json()
            pages.append(body["plans"])
            cursor = body["next_cursor"]
            if cursor is None:
                return pages
