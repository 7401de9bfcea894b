"""``planstream serve``: the reference server, from ``PLANSTREAM_SERVER_*`` and flags.

Flags win over the environment. The server logs one line per WebSocket
connection at info when it ends (peer, outcome, close code, duration) through
:class:`ConnectionLogMiddleware`; uvicorn's own per-connection lines stay
below warning.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planstream.cli.failures import EXIT_OK
from planstream.server.runner import PlanStreamServer, serve_until_signal
from planstream.server.settings import SERVER_ENV_PREFIX, ServerSettings

__all__ = [
    "SERVE_DEFAULTS",
    "ConnectionLogMiddleware",
    "run_serve",
    "serve_settings",
    "server_settings",
]

#: Settings whose default differs for ``planstream serve`` (a server someone
#: opens in a browser) from the model's (an app mounted in another backend).
SERVE_DEFAULTS: Final[Mapping[str, Any]] = {"dashboard": True}

logger = logging.getLogger("planstream.cli.serve")


class ConnectionLogMiddleware:
    """ASGI middleware: one info line per WebSocket connection, when it ends."""

    def __init__(self, app: ASGIApp, *, log: logging.Logger = logger) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        peer = f"{client[0]}:{client[1]}" if client else "unknown peer"
        started = time.monotonic()
        seen: dict[str, Any] = {"accepted": False, "refused": None, "code": None, "by": ""}

        async def logged_send(message: Message) -> None:
            kind = message["type"]
            if kind == "websocket.accept":
                seen["accepted"] = True
            elif kind == "websocket.http.response.start":
                seen["refused"] = message.get("status")
            elif kind == "websocket.close" and seen["code"] is None:
                seen["code"], seen["by"] = message.get("code", 1000), "server"
            await send(message)

        async def logged_receive() -> Message:
            message = await receive()
            if message["type"] == "websocket.disconnect" and seen["code"] is None:
                seen["code"], seen["by"] = message.get("code", 1005), "client"
            return message

        try:
            await self.app(scope, logged_receive, logged_send)
        finally:
            if seen["refused"] is not None:
                outcome = f"refused with HTTP {seen['refused']}"
            else:
                code = "-" if seen["code"] is None else seen["code"]
                outcome = f"closed by the {seen['by'] or 'server'} with code {code}"
            self.log.info("websocket %s %s after %.1f s", peer, outcome, time.monotonic() - started)


def server_settings(**flags: Any) -> ServerSettings:
    """``ServerSettings`` from the environment, with the flags given (not None) on top."""
    return ServerSettings(**{name: value for name, value in flags.items() if value is not None})


def serve_settings(environ: Mapping[str, str] | None = None, **flags: Any) -> ServerSettings:
    """The settings of ``planstream serve``: flags, then the environment, then
    :data:`SERVE_DEFAULTS`, then the model's defaults.

    ``environ`` (default ``os.environ``) is only looked at to see which
    variables are set; ``ServerSettings`` reads and parses them.
    """
    environment = os.environ if environ is None else environ
    # pydantic-settings matches variable names without regard to case.
    set_names = {name.upper() for name in environment}
    defaults = {
        name: value
        for name, value in SERVE_DEFAULTS.items()
        if SERVER_ENV_PREFIX + name.upper() not in set_names
    }
    return server_settings(**(defaults | flags))


async def run_serve(settings: ServerSettings) -> int:
    """Serve until SIGTERM or SIGINT, then close every connection with 1001."""
    server = PlanStreamServer(settings, log_level="warning")
    server.app.add_middleware(ConnectionLogMiddleware)
    await serve_until_signal(server, log=logger)
    return EXIT_OK
