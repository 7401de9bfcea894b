"""The HTTP half of the protocol (§6): polling, snapshots, plans, publishing.

Errors are ``{"error": code, "message": ...}`` with the matching status.
Event lists are assembled from each event's stored JSON, never re-encoded.
"""

from __future__ import annotations

import json
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from planstream.codec import encode_frame
from planstream.schema.events import Head
from planstream.server.auth import Principal, bearer_token
from planstream.server.event_log import ResyncNeeded
from planstream.server.metrics import PROMETHEUS_CONTENT_TYPE
from planstream.server.publishing import PublishError, parse_publish_body
from planstream.server.state import ServerState

__all__ = ["http_routes"]

DEFAULT_LIMIT: Final = 500
MAX_LIMIT: Final = 1000
MAX_PUBLISH_BODY: Final = 8 * 1024 * 1024
_JSON: Final = "application/json"


class _HttpError(Exception):
    """An HTTP error answer (protocol §6)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> JSONResponse:
        # RFC 9110 §11.6.1: a 401 names the scheme it wants, as the WebSocket denial does.
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse({"error": self.code, "message": self.message}, self.status, headers)


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.planstream
    return state


async def _authorize(request: Request, *, publish: bool = False) -> Principal:
    state = _state(request)
    principal = await state.verifier.verify(bearer_token(request.headers.get("authorization")))
    if principal is None:
        state.metrics.auth_failures += 1
        raise _HttpError(401, "unauthorized", "missing or invalid bearer token")
    if not (principal.can_publish if publish else principal.can_read):
        state.metrics.auth_failures += 1
        right = "publish" if publish else "read"
        raise _HttpError(403, "forbidden", f"this token may not {right}")
    return principal


def _head_json(head: Head | None) -> str:
    return "null" if head is None else encode_frame(head)


def _number(request: Request, name: str, default: float, low: float, high: float) -> float:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise _HttpError(400, "bad_request", f"{name} must be a number") from None
    if not low <= value <= high:
        raise _HttpError(400, "bad_request", f"{name} must be between {low:g} and {high:g}")
    return value


async def get_plan_events(request: Request) -> Response:
    """``GET /v1/plans/{plan_id}/events?after=&limit=&wait=``: the polling fallback."""
    try:
        await _authorize(request)
        state = _state(request)
        plan_id: str = request.path_params["plan_id"]
        after = request.query_params.get("after") or None
        limit = int(_number(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT))
        wait = _number(request, "wait", 0.0, 0.0, state.settings.max_poll_wait)
    except _HttpError as exc:
        return exc.response()
    return await _poll(state, plan_id, after, limit, wait)


async def _poll(
    state: ServerState, plan_id: str, after: str | None, limit: int, wait: float
) -> Response:
    headers = {"X-Poll-Interval": f"{state.settings.poll_interval:g}"}
    position = await state.log.locate(plan_id, after)
    if isinstance(position, ResyncNeeded):
        resync = json.dumps(
            {
                "reason": position.reason.value,
                "snapshot": json.loads(encode_frame(position.snapshot)),
            }
        )
        body = (
            f'{{"plan_id":{json.dumps(plan_id)},"events":[],'
            f'"head":{_head_json(position.snapshot.head)},"resync":{resync}}}'
        )
        return Response(body, 200, headers, media_type=_JSON)
    events = await state.log.read(plan_id, position.after_seq, limit)
    if not events and wait > 0:
        await state.fanout.wait_for_change(plan_id, wait)
        events = await state.log.read(plan_id, position.after_seq, limit)
    if events and events[0].seq != position.after_seq + 1:
        # Trimmed while we waited: resync rather than skip (protocol §1).
        return await _poll(state, plan_id, after, limit, 0.0)
    head = await state.log.head(plan_id)
    body = (
        f'{{"plan_id":{json.dumps(plan_id)},"events":[{",".join(e.json for e in events)}],'
        f'"head":{_head_json(head)},"resync":null}}'
    )
    return Response(body, 200, headers, media_type=_JSON)


async def get_plan(request: Request) -> Response:
    """``GET /v1/plans/{plan_id}``: the plan's snapshot."""
    try:
        await _authorize(request)
    except _HttpError as exc:
        return exc.response()
    plan_id = request.path_params["plan_id"]
    snapshot = await _state(request).log.snapshot(plan_id)
    if snapshot is None:
        return _HttpError(404, "not_found", f"no plan {plan_id!r}").response()
    return Response(encode_frame(snapshot), 200, media_type=_JSON)


async def list_plans(request: Request) -> Response:
    """``GET /v1/plans``: plans with at least one event."""
    try:
        await _authorize(request)
    except _HttpError as exc:
        return exc.response()
    plans = ",".join(
        snapshot.model_dump_json(include={"plan_id", "status", "head", "updated_at"})
        for snapshot in await _state(request).log.snapshots()
    )
    return Response(f'{{"plans":[{plans}]}}', 200, media_type=_JSON)


async def post_plan_events(request: Request) -> Response:
    """``POST /v1/plans/{plan_id}/events``: publish one event or an atomic list."""
    state = _state(request)
    try:
        await _authorize(request, publish=True)
        body = await _read_body(request)
        events = parse_publish_body(body, allow_unknown_kinds=state.settings.allow_unknown_kinds)
        room = state.settings.max_frame_bytes // 2
        plan_id: str = request.path_params["plan_id"]
        if not plan_id.strip():
            raise _HttpError(400, "bad_request", "plan_id must not be blank")
        if any(len(json.dumps(event.data)) > room for event in events):
            raise _HttpError(400, "bad_request", f"event data larger than {room} bytes")
    except PublishError as exc:
        return _HttpError(400, "bad_request", str(exc)).response()
    except _HttpError as exc:
        return exc.response()
    stored = await state.append(plan_id, events)
    return JSONResponse(
        {"events": [{"event_id": s.event.event_id, "seq": s.seq} for s in stored]}, 201
    )


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_PUBLISH_BODY:
        raise _HttpError(400, "bad_request", f"body larger than {MAX_PUBLISH_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_PUBLISH_BODY:
            raise _HttpError(400, "bad_request", f"body larger than {MAX_PUBLISH_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def healthz(request: Request) -> Response:
    """``GET /healthz``: liveness, no token needed."""
    return JSONResponse({"status": "ok"})


async def status(request: Request) -> Response:
    """``GET /v1/status``: the server's counters as JSON."""
    try:
        await _authorize(request)
    except _HttpError as exc:
        return exc.response()
    state = _state(request)
    state.metrics.plans = await state.log.plan_count()
    return JSONResponse(state.metrics.status())


async def metrics(request: Request) -> Response:
    """``GET /metrics``: the same counters in Prometheus text format (no token)."""
    state = _state(request)
    state.metrics.plans = await state.log.plan_count()
    return Response(state.metrics.prometheus(), 200, media_type=PROMETHEUS_CONTENT_TYPE)


async def plan_events(request: Request) -> Response:
    """``/v1/plans/{plan_id}/events``: GET polls, POST publishes."""
    if request.method == "POST":
        return await post_plan_events(request)
    return await get_plan_events(request)


def http_routes() -> list[Route]:
    """The HTTP endpoints of protocol §6 (and ``/v1/status``, ``/metrics``)."""
    return [
        Route("/v1/plans", list_plans, methods=["GET"]),
        Route("/v1/plans/{plan_id}", get_plan, methods=["GET"]),
        # One route for both methods, so a 405 lists them both in Allow.
        Route("/v1/plans/{plan_id}/events", plan_events, methods=["GET", "POST"]),
        Route("/v1/status", status, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
