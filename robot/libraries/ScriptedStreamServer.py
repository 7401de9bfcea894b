"""A scripted planstream server for the browser protocol client's tests.

One real uvicorn server on 127.0.0.1 (in a thread with its own event loop)
serves, per script name, under ``/s/<script>/``:

* ``/s/<script>/`` a blank test page (same origin as the stream, the strict
  CSP of the dashboard, no ``main.js``), and ``dashboard/...`` the shipped
  assets, so the page imports ``./dashboard/js/protocol/stream_client.js``;
* ``v1/stream`` (WebSocket), ``v1/plans`` and ``v1/plans/{id}/events``,
  answered by the script (:mod:`ProtocolScenarios`).

``Load Script Page`` starts a fresh run of a script and opens its page.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import uvicorn
from ProtocolScenarios import SCRIPTS
from ProtocolScripts import Script
from robot.libraries.BuiltIn import BuiltIn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from planstream.server.dashboard import CONTENT_SECURITY_POLICY, STATIC_DIRECTORY

__all__ = ["ScriptedStreamServer"]

TEST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>protocol client test</title>
<link rel="icon" href="dashboard/favicon.svg" type="image/svg+xml"></head>
<body><p>planstream protocol client under test</p></body></html>
"""
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


class _Assets:
    """The shipped assets with the dashboard's headers."""

    def __init__(self) -> None:
        self.files = StaticFiles(directory=STATIC_DIRECTORY / "assets")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.files(scope, receive, with_headers)


class ScriptedStreamServer:
    """Robot keywords: start the scripted server, load a script's page, read what it saw."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._scripts: dict[str, Script] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    # --- lifecycle ------------------------------------------------------------------

    def start_scripted_server(self) -> str:
        """Start the server on a free port of 127.0.0.1; return its root URL."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        config = uvicorn.Config(
            self._app(),
            ws="websockets-sansio",
            log_level="warning",
            lifespan="off",
            ws_ping_interval=None,
        )
        self._server = uvicorn.Server(config)
        self._loop = asyncio.new_event_loop()
        server, loop = self._server, self._loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(server.serve(sockets=[listener]))

        self._thread = threading.Thread(target=run, name="scripted-stream-server", daemon=True)
        self._thread.start()
        started = threading.Event()
        while not server.started and self._thread.is_alive():
            started.wait(0.01)
        if not server.started:
            raise AssertionError("the scripted server did not start")
        return f"http://127.0.0.1:{self.port}/"

    def stop_scripted_server(self) -> None:
        """Stop the server (safe when it is not running)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = self._loop = None

    # --- scripts ------------------------------------------------------------------

    def load_script_page(self, name: str) -> str:
        """Start a fresh run of script ``name`` and open its page in the browser."""
        if name not in SCRIPTS:
            raise AssertionError(f"no script {name!r}; known: {', '.join(SCRIPTS)}")
        self._run(self._reset(name))
        url = f"http://127.0.0.1:{self.port}/s/{name}/"
        BuiltIn().run_keyword("Go To", url)
        return url

    def script_connections(self, name: str) -> int:
        """How many WebSockets the page opened to script ``name``."""
        return len(self._script(name).recording.connections)

    def script_should_have_seen_connections(self, name: str, count: int) -> None:
        seen = self.script_connections(name)
        if seen != int(count):
            raise AssertionError(
                f"script {name} saw {seen} WebSocket connections, expected {count}"
            )

    def subscribe_frames(self, name: str, connection: int) -> list[dict[str, Any]]:
        """The subscribe frames the page sent on connection ``connection`` (1-based)."""
        return self._script(name).recording.subscribes(int(connection))

    def offered_subprotocols(self, name: str, connection: int = 1) -> list[str]:
        """The subprotocols the page offered on connection ``connection``."""
        return self._script(name).recording.connections[int(connection) - 1].offered

    def pause_between_connections(self, name: str, first: int = 1) -> float:
        """Seconds from the end of connection ``first`` to the opening of the next one."""
        connections = self._script(name).recording.connections
        ended = connections[int(first) - 1].closed_at
        if ended is None or len(connections) <= int(first):
            raise AssertionError(f"connection {first} of {name} did not end and get a successor")
        return connections[int(first)].opened_at - ended

    def client_close_code(self, name: str, connection: int = 1) -> int | None:
        """The close code the page sent on connection ``connection`` (None: not closed by it)."""
        return self._script(name).recording.connections[int(connection) - 1].close_code

    def http_requests(self, name: str) -> list[str]:
        """The polls script ``name`` answered, as ``poll after=<id> wait=<s>``."""
        return list(self._script(name).recording.http)

    # --- internals ------------------------------------------------------------------

    def _script(self, name: str) -> Script:
        try:
            return self._scripts[name]
        except KeyError:
            raise AssertionError(f"script {name!r} was not loaded") from None

    async def _reset(self, name: str) -> None:
        self._scripts[name] = SCRIPTS[name]()  # created in the server's loop (asyncio.Event)

    def _run(self, coroutine: Any) -> Any:
        if self._loop is None:
            raise AssertionError("the scripted server is not started")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def _app(self) -> Starlette:
        async def page(request: Request) -> Response:
            self._script(request.path_params["script"])
            return HTMLResponse(TEST_PAGE, headers=SECURITY_HEADERS)

        async def stream(websocket: WebSocket) -> None:
            await self._script(websocket.path_params["script"]).play(websocket)

        async def plans(request: Request) -> Response:
            return await self._script(request.path_params["script"]).list_plans(request)

        async def events(request: Request) -> Response:
            script = self._script(request.path_params["script"])
            return await script.poll_events(request, request.path_params["plan_id"])

        return Starlette(
            routes=[
                Route("/s/{script}/", page),
                Mount("/s/{script}/dashboard", app=_Assets()),
                WebSocketRoute("/s/{script}/v1/stream", stream),
                Route("/s/{script}/v1/plans", plans),
                Route("/s/{script}/v1/plans/{plan_id}/events", events),
            ]
        )
