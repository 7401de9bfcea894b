"""``POST /v1/plans/{plan_id}/events``: publishing over HTTP (protocol §6).

In order: the token (401/403), the plan id (400, protocol §1), the token's
publish rate (429 with ``Retry-After``), the body's size (413), its content
(400), and the plan being still open (409 once it has a terminal status; the
log checks and appends in one atomic step).
"""

from __future__ import annotations

import json
import math
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from planstream.schema.limits import plan_id_problem
from planstream.server.auth import bearer_token
from planstream.server.event_log import PlanClosedError
from planstream.server.http_support import HttpError, authorize, server_state
from planstream.server.publishing import PublishError, parse_publish_body

# Internal to the HTTP endpoints: http_api routes to it.
__all__: list[str] = []

MAX_PUBLISH_BODY: Final = 8 * 1024 * 1024


async def post_plan_events(request: Request) -> Response:
    """Publish one event or an atomic list."""
    state = server_state(request)
    await authorize(request, publish=True)
    plan_id: str = request.path_params["plan_id"]
    problem = plan_id_problem(plan_id)
    if problem is not None:
        raise HttpError(400, "bad_request", problem)
    token = bearer_token(request.headers.get("authorization"))
    wait = state.publish_limiter.take(token, state.clock())
    if wait > 0:
        retry_after = max(1, math.ceil(wait))
        raise HttpError(
            429,
            "rate_limited",
            f"more than {state.settings.publish_rate:g} publish requests per second "
            f"with this token; retry in {retry_after} s",
            {"Retry-After": str(retry_after)},
        )
    body = await _read_body(request)
    try:
        events = parse_publish_body(body, allow_unknown_kinds=state.settings.allow_unknown_kinds)
    except PublishError as exc:
        raise HttpError(400, "bad_request", str(exc)) from None
    room = state.settings.max_frame_bytes // 2
    if any(len(json.dumps(event.data)) > room for event in events):
        raise HttpError(400, "bad_request", f"event data larger than {room} bytes")
    try:
        stored = await state.append(plan_id, events)
    except PlanClosedError as exc:
        raise HttpError(409, "conflict", str(exc)) from None
    return JSONResponse(
        {"events": [{"event_id": s.event.event_id, "seq": s.seq} for s in stored]}, 201
    )


async def _read_body(request: Request) -> bytes:
    too_large = HttpError(413, "too_large", f"body larger than {MAX_PUBLISH_BODY} bytes")
    declared = (request.headers.get("content-length") or "").lstrip("0")
    # ASCII digits only (int("²") raises), and few of them before int() reads them.
    digits = declared.isascii() and declared.isdigit()
    if digits and (len(declared) > len(str(MAX_PUBLISH_BODY)) or int(declared) > MAX_PUBLISH_BODY):
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_PUBLISH_BODY:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
