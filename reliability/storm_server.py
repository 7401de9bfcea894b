"""The reconnect storm's server: ``planstream serve``, plus a clock on every handshake.

The reference server exactly as ``python -m planstream.server`` runs it (the
same :class:`~planstream.server.PlanStreamServer`, serving loop and "listening"
line; the event log from ``PLANSTREAM_SERVER_REDIS_URL``), with one ASGI
middleware more: :class:`HandshakeClock` writes the ``time.monotonic()`` of
every WebSocket upgrade the server accepted, one line each, to ``--handshakes``
(line-buffered: a SIGKILL loses nothing written). These are the storm's
completed handshakes, timed where they complete: on the server, whatever the
clients' processes are busy with.

Run: ``python reliability/storm_server.py --port PORT --handshakes FILE``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planstream.server import PlanStreamServer, ServerSettings
from planstream.server.runner import serve_until_signal

__all__ = ["HandshakeClock", "main"]

_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class HandshakeClock:
    """ASGI middleware: one line per accepted WebSocket upgrade, its monotonic time."""

    def __init__(self, app: ASGIApp, *, sink: TextIO) -> None:
        self.app = app
        self.sink = sink

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "websocket.accept":
                self.sink.write(f"{time.monotonic()!r}\n")

        await self.app(scope, receive, timed_send)


async def serve(port: int, sink: TextIO) -> None:
    """Serve on ``port`` until SIGTERM or SIGINT (then close every WebSocket with 1001)."""
    server = PlanStreamServer(ServerSettings(port=port), log_level="warning")
    server.app.add_middleware(HandshakeClock, sink=sink)
    await serve_until_signal(server)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    parser.add_argument("--handshakes", required=True, help="file the handshake times go to")
    args = parser.parse_args(argv)
    # Warnings and errors (an `internal` answer, a lost Redis) to stderr: the storm's server.log.
    logging.basicConfig(level=logging.WARNING, format=_LOG_FORMAT)
    with open(args.handshakes, "w", buffering=1, encoding="utf-8") as sink:
        asyncio.run(serve(args.port, sink))
    return 0


if __name__ == "__main__":
    sys.exit(main())
