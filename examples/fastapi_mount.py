"""The planstream reference server mounted inside an existing FastAPI backend.

The host keeps its own routes (``GET /api/ping``); planstream lives under
``/planstream``: the WebSocket at ``ws://HOST:PORT/planstream/v1/stream`` and
the HTTP endpoints at ``/planstream/v1/...``. Starlette does not run a mounted
app's lifespan, so the host closes planstream's connections (1001) in its own.

Run: ``python examples/fastapi_mount.py [--port 8000] [--token SECRET]``
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from planstream.server import ServerSettings, ServerState, create_app

MOUNT_PATH = "/planstream"


def build_app(settings: ServerSettings | None = None) -> FastAPI:
    """A FastAPI app with its own route and planstream mounted at ``/planstream``."""
    stream_app = create_app(settings)
    stream_state: ServerState = stream_app.state.planstream

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stream_state.warn_if_open()
        yield
        await stream_state.aclose()  # WebSockets get 1001, long-polls answer now

    api = FastAPI(title="host backend", lifespan=lifespan)

    @api.get("/api/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    api.mount(MOUNT_PATH, stream_app)
    return api


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--token", action="append", default=[], help="a bearer token (repeat)")
    arguments = parser.parse_args()
    # PLANSTREAM_SERVER_* env vars apply too; --token overrides their tokens.
    settings = ServerSettings(**({"tokens": arguments.token} if arguments.token else {}))
    uvicorn.run(
        build_app(settings),
        host=arguments.host,
        port=arguments.port,
        ws="websockets-sansio",
        ws_max_size=settings.max_frame_bytes,
    )


if __name__ == "__main__":
    main()
