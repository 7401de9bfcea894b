"""The reference server as an ASGI application (Starlette).

``create_app()`` returns an app serving the WebSocket ``/v1/stream`` and every
HTTP endpoint of protocol §6 on one port. Run it with uvicorn (see
:class:`~planstream.server.runner.PlanStreamServer`) or mount it in an
existing FastAPI/Starlette backend::

    stream_app = create_app(ServerSettings(tokens=["..."]))
    api.mount("/planstream", stream_app)       # ws://host/planstream/v1/stream
    ...
    await stream_app.state.planstream.aclose()  # in the host's shutdown
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from planstream.redaction import SERVER_LOGGERS, install_redaction
from planstream.schema.frames import STREAM_PATH, SUBPROTOCOL
from planstream.server.admission import ConnectionCap
from planstream.server.auth import Principal, TokenVerifier, bearer_token
from planstream.server.authorization import PlanAction, action_refusal
from planstream.server.browser_auth import OfferedAuth, read_offer
from planstream.server.dashboard import dashboard_routes
from planstream.server.event_log import EventLog
from planstream.server.http_api import http_routes
from planstream.server.settings import ServerSettings
from planstream.server.state import ServerState

__all__ = ["SUPPORTED_SUBPROTOCOLS", "create_app"]

#: Subprotocols this server speaks, best first (protocol §2).
SUPPORTED_SUBPROTOCOLS = (SUBPROTOCOL,)


async def stream_endpoint(websocket: WebSocket) -> None:
    """``/v1/stream``: check the offer and the token before the upgrade (§2)."""
    state: ServerState = websocket.app.state.planstream
    # The offered list may hold the browser form of the token: never log it.
    offer = read_offer(websocket.scope.get("subprotocols") or [])
    if not any(protocol in SUPPORTED_SUBPROTOCOLS for protocol in offer.protocols):
        await _deny(
            websocket,
            400,
            {"error": "incompatible_protocol", "supported": list(SUPPORTED_SUBPROTOCOLS)},
            {"X-Planstream-Protocols": ", ".join(SUPPORTED_SUBPROTOCOLS)},
        )
        return
    if state.shutting_down:
        await _deny(websocket, 503, {"error": "unavailable", "message": "shutting down"})
        return
    principal = await _principal(state, websocket, offer)
    if principal is None:
        state.metrics.auth_failures += 1
        body = {"error": "unauthorized", "message": "missing or invalid bearer token"}
        await _deny(websocket, 401, body, {"WWW-Authenticate": "Bearer"})
        return
    refusal = action_refusal(principal, PlanAction.READ)
    if refusal is not None:
        # Each subscribe is checked against the read scope (stream_session).
        state.metrics.auth_failures += 1
        await _deny(websocket, 403, {"error": "forbidden", "message": refusal})
        return
    await websocket.accept(subprotocol=SUBPROTOCOL)
    connection = state.new_connection(websocket, principal)
    try:
        await connection.run()
    finally:
        state.forget_connection(connection)


async def _principal(
    state: ServerState, websocket: WebSocket, offer: OfferedAuth
) -> Principal | None:
    """Who the upgrade request is: the header's token, else the subprotocol's (§2).

    A request carrying an ``Authorization`` header is judged by it alone; a
    malformed ``planstream.bearer.*`` offer is a bad token (401, even on a
    server without tokens), decided here without consulting the verifier.
    """
    authorization = websocket.headers.get("authorization")
    if authorization is not None:
        return await state.verifier.verify(bearer_token(authorization))
    if offer.problem is not None:
        return None
    return await state.verifier.verify(offer.token)


async def _deny(
    websocket: WebSocket,
    status: int,
    body: Mapping[str, object],
    headers: Mapping[str, str] | None = None,
) -> None:
    response = Response(
        json.dumps(body), status, dict(headers or {}), media_type="application/json"
    )
    await websocket.send_denial_response(response)


_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}


async def _json_http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer in the JSON error format of §6 too."""
    assert isinstance(exc, HTTPException)
    code = _ERROR_CODES.get(exc.status_code, "bad_request")
    return JSONResponse(
        {"error": code, "message": exc.detail}, exc.status_code, dict(exc.headers or {})
    )


def create_app(
    settings: ServerSettings | None = None,
    *,
    log: EventLog | None = None,
    verifier: TokenVerifier | None = None,
) -> Starlette:
    """Build the ASGI app; its :class:`ServerState` is ``app.state.planstream``."""
    state = ServerState(settings, log=log, verifier=verifier)
    # protocol §2: the token (header or subprotocol) never reaches a log, even
    # at DEBUG, whoever serves the app (process-wide and idempotent).
    install_redaction(SERVER_LOGGERS)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.warn_if_open()
        await state.log.start()
        yield
        await state.aclose()

    app = Starlette(
        routes=[
            WebSocketRoute(STREAM_PATH, stream_endpoint),
            *http_routes(),
            *(dashboard_routes() if state.settings.dashboard else ()),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: _json_http_error},
    )
    app.state.planstream = state
    # protocol §6: 503 + Retry-After beyond max_connections (admission.py).
    app.add_middleware(ConnectionCap, limit=state.settings.max_connections, metrics=state.metrics)
    return app
