"""The planstream reference server mounted inside an existing FastAPI backend.

Needs FastAPI: ``pip install 'planstream[fastapi]'``.

The host keeps its own routes (``GET /api/ping``); planstream lives under
``/planstream``: the WebSocket at ``ws://HOST:PORT/planstream/v1/stream`` and
the HTTP endpoints at ``/planstream/v1/...``. The host's own routes publish
through the mounted server's state, in process (no HTTP hop, no publish
token): ``POST /api/builds/{build_id}/log`` with ``{"message": "..."}`` and
``POST /api/builds/{build_id}/status`` with ``{"status": "succeeded"}``
become events of plan ``build_id`` that watchers of the mounted server see.
Starlette does not run a mounted app's lifespan, so the host closes
planstream's connections (1001) in its own.

Run: ``python examples/fastapi_mount.py [--port 8000] [--token SECRET]``, then
``planstream watch build-1 --url ws://127.0.0.1:8000/planstream/v1/stream``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import uvicorn
from pydantic import BaseModel

from planstream import LogData, LogLevel, LogStream, PlanStatus, PlanStatusData
from planstream.server import (
    PlanClosedError,
    PublishError,
    ServerSettings,
    ServerState,
    create_app,
)

try:
    from fastapi import Depends, FastAPI, HTTPException, Request
except ModuleNotFoundError:  # the extra is not installed
    sys.exit("examples/fastapi_mount.py needs FastAPI: pip install 'planstream[fastapi]'")

MOUNT_PATH = "/planstream"


class LogLine(BaseModel):
    """The body of ``POST /api/builds/{build_id}/log``."""

    message: str
    level: LogLevel = LogLevel.INFO


class StatusChange(BaseModel):
    """The body of ``POST /api/builds/{build_id}/status``."""

    status: PlanStatus
    reason: str | None = None


class Published(BaseModel):
    """Where the event landed in its plan's stream."""

    seq: int
    event_id: str


def planstream_state(request: Request) -> ServerState:
    """The mounted server's state (``build_app`` keeps it on the host app), for any route."""
    state: ServerState = request.app.state.planstream
    return state


#: A route parameter that receives the mounted server's state.
Stream = Annotated[ServerState, Depends(planstream_state)]


async def publish(stream: ServerState, build_id: str, data: LogData | PlanStatusData) -> Published:
    """Publish one event of plan ``build_id``; a refusal becomes the host's HTTP error."""
    try:
        stored = await stream.publish(build_id, data)
    except PlanClosedError as exc:  # the build already ended
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except PublishError as exc:  # e.g. a build id that is no valid plan id
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return Published(seq=stored.seq, event_id=stored.event_id)


def build_app(settings: ServerSettings | None = None) -> FastAPI:
    """A FastAPI app with its own routes and planstream mounted at ``/planstream``."""
    stream_app = create_app(settings)
    stream_state: ServerState = stream_app.state.planstream

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stream_state.warn_if_open()
        yield
        await stream_state.aclose()  # WebSockets get 1001, long-polls answer now

    api = FastAPI(title="host backend", lifespan=lifespan)
    api.state.planstream = stream_state  # what planstream_state() hands to the routes

    @api.get("/api/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    @api.post("/api/builds/{build_id}/log")
    async def build_log(build_id: str, line: LogLine, stream: Stream) -> Published:
        data = LogData(level=line.level, message=line.message, stream=LogStream.STDOUT)
        return await publish(stream, build_id, data)

    @api.post("/api/builds/{build_id}/status")
    async def build_status(build_id: str, change: StatusChange, stream: Stream) -> Published:
        data = PlanStatusData(status=change.status, reason=change.reason)
        return await publish(stream, build_id, data)

    api.mount(MOUNT_PATH, stream_app)
    return api


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
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
