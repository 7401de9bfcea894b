"""The HTTP half of the protocol (§6): polling, snapshots, plans, publishing.

Errors are ``{"error": code, "message": ...}`` with the matching status, on
every route and for any input: each endpoint is wrapped so that a fault of the
server's own is answered ``503 unavailable`` (with ``Retry-After``) and logged
as one rate-limited line, never a 500 with a traceback (protocol §6: "no
request, however malformed, gets a 500"). Plan ids are checked with the same
rule on every route (protocol §1); a path whose plan id would hold a ``/``
(raw or ``%2F``) is that rule's ``400`` too (reading 20). Event lists are
assembled from each event's stored JSON, never re-encoded.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Final

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from planstream.codec import encode_frame
from planstream.schema.events import Head
from planstream.schema.limits import event_id_problem, plan_id_problem
from planstream.server.authorization import PlanAction, readable_plans
from planstream.server.event_log import BadCursorError, LogUnavailableError, ResyncNeeded
from planstream.server.http_publish import post_plan_events
from planstream.server.http_support import (
    JSON_MEDIA_TYPE,
    HttpError,
    authorize,
    authorize_plan,
    server_state,
)
from planstream.server.metrics import PROMETHEUS_CONTENT_TYPE

__all__ = ["http_routes"]

DEFAULT_LIMIT: Final = 500
DEFAULT_PLAN_LIMIT: Final = 100
MAX_LIMIT: Final = 1000
#: Longest ``cursor`` of ``GET /v1/plans`` (the server's own are far shorter).
MAX_CURSOR_LENGTH: Final = 128
#: Seconds a client is told to wait after a fault of the server's own.
FAULT_RETRY_AFTER: Final = 1

_Endpoint = Callable[[Request], Awaitable[Response]]


def _answering(route: str, endpoint: _Endpoint) -> _Endpoint:
    """``endpoint`` answering every failure as JSON (protocol §6), never a 500."""

    @functools.wraps(endpoint)
    async def answer(request: Request) -> Response:
        try:
            return await endpoint(request)
        except HttpError as exc:
            return exc.response()
        except LogUnavailableError as exc:
            # issue 11: Redis is down; clients retry (protocol §6: 503 + Retry-After).
            body = {"error": "unavailable", "message": str(exc)}
            return JSONResponse(body, 503, {"Retry-After": str(exc.retry_after)})
        except ClientDisconnect:
            # Nobody is left to read the answer; not a fault of the server's.
            return HttpError(400, "bad_request", "the request body ended early").response()
        except Exception as exc:
            state = server_state(request)
            # One line naming the route template (never the request's own data).
            state.http_faults.report(f"{request.method} {route}", exc, state.clock())
            return JSONResponse(
                {
                    "error": "unavailable",
                    "message": "the server failed to answer this request; try again later",
                },
                503,
                {"Retry-After": str(FAULT_RETRY_AFTER)},
            )

    return answer


def _plan_id(request: Request) -> str:
    """The path's plan id, checked against protocol §1 (400 otherwise)."""
    plan_id: str = request.path_params["plan_id"]
    problem = plan_id_problem(plan_id)
    if problem is not None:
        raise HttpError(400, "bad_request", problem)
    return plan_id


def _head_json(head: Head | None) -> str:
    return "null" if head is None else encode_frame(head)


def _number(request: Request, name: str, default: float, low: float, high: float) -> float:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise HttpError(400, "bad_request", f"{name} must be a number") from None
    if not low <= value <= high:  # NaN fails this too
        raise HttpError(400, "bad_request", f"{name} must be between {low:g} and {high:g}")
    return value


async def get_plan_events(request: Request) -> Response:
    """``GET /v1/plans/{plan_id}/events?after=&limit=&wait=``: the polling fallback."""
    principal = await authorize(request)
    state = server_state(request)
    plan_id = _plan_id(request)
    authorize_plan(request, principal, PlanAction.READ, plan_id)
    after = request.query_params.get("after") or None
    if after is not None:
        problem = event_id_problem(after)  # protocol §1: longer than 128 is bad_request
        if problem is not None:
            raise HttpError(400, "bad_request", problem.replace("last_event_id", "after"))
    limit = int(_number(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT))
    wait = _number(request, "wait", 0.0, 0.0, state.settings.max_poll_wait)
    return await _poll(request, plan_id, after, limit, wait)


async def _poll(
    request: Request, plan_id: str, after: str | None, limit: int, wait: float
) -> Response:
    state = server_state(request)
    headers = {"X-Poll-Interval": f"{state.settings.poll_interval:g}"}
    position = await state.log.locate(plan_id, after)
    if isinstance(position, ResyncNeeded):
        state.metrics.resync_sent(position.reason)
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
        return Response(body, 200, headers, media_type=JSON_MEDIA_TYPE)
    events = await state.log.read(plan_id, position.after_seq, limit)
    if not events and wait > 0:
        await state.fanout.wait_for_change(plan_id, wait)
        events = await state.log.read(plan_id, position.after_seq, limit)
    if events and events[0].seq != position.after_seq + 1:
        # Trimmed while we waited: resync rather than skip (protocol §1).
        return await _poll(request, plan_id, after, limit, 0.0)
    head = await state.log.head(plan_id)
    body = (
        f'{{"plan_id":{json.dumps(plan_id)},"events":[{",".join(e.json for e in events)}],'
        f'"head":{_head_json(head)},"resync":null}}'
    )
    return Response(body, 200, headers, media_type=JSON_MEDIA_TYPE)


async def get_plan(request: Request) -> Response:
    """``GET /v1/plans/{plan_id}``: the plan's snapshot."""
    principal = await authorize(request)
    plan_id = _plan_id(request)
    authorize_plan(request, principal, PlanAction.READ, plan_id)
    snapshot = await server_state(request).log.snapshot(plan_id)
    if snapshot is None:
        raise HttpError(404, "not_found", f"no plan {plan_id!r}")
    return Response(encode_frame(snapshot), 200, media_type=JSON_MEDIA_TYPE)


async def list_plans(request: Request) -> Response:
    """``GET /v1/plans?limit=&cursor=``: plans with at least one event, a page at a time.

    Only the plans the principal may read; a page may end short of ``limit``
    (even empty) with a ``next_cursor`` when the log's scan bound was reached
    first (the log's ``plan_scan_limit``).
    """
    principal = await authorize(request)
    limit = int(_number(request, "limit", DEFAULT_PLAN_LIMIT, 1, MAX_LIMIT))
    cursor = request.query_params.get("cursor") or None
    if cursor is not None and len(cursor) > MAX_CURSOR_LENGTH:
        raise HttpError(400, "bad_request", f"cursor is longer than {MAX_CURSOR_LENGTH}")
    try:
        page = await server_state(request).log.plan_page(
            limit, cursor, readable=readable_plans(principal)
        )
    except BadCursorError as exc:
        raise HttpError(400, "bad_request", str(exc)) from None
    plans = ",".join(
        snapshot.model_dump_json(include={"plan_id", "status", "head", "updated_at"})
        for snapshot in page.snapshots
    )
    body = f'{{"plans":[{plans}],"next_cursor":{json.dumps(page.next_cursor)}}}'
    return Response(body, 200, media_type=JSON_MEDIA_TYPE)


async def plan_id_with_slash(request: Request) -> Response:
    """``/v1/plans/<anything with a slash>``: a plan id that breaks protocol §1.

    Starlette's ``{plan_id}`` never matches ``/`` (``%2F`` is decoded before
    routing), so these paths would be a bare 404; the plan id rule answers
    them instead, as on the WebSocket (reading 20).
    """
    await authorize(request, publish=request.method == "POST")
    rest: str = request.path_params["rest"]
    # Only ids with a "/" (or empty) get here: the other routes take the rest.
    problem = plan_id_problem(rest.removesuffix("/events")) or "plan_id may not hold '/'"
    raise HttpError(400, "bad_request", problem)


async def healthz(request: Request) -> Response:
    """``GET /healthz``: liveness, no token needed."""
    return JSONResponse({"status": "ok"})


async def status(request: Request) -> Response:
    """``GET /v1/status``: the server's counters as JSON."""
    await authorize(request)
    state = server_state(request)
    state.metrics.plans = await state.log.plan_count()
    return JSONResponse(state.metrics.status())


async def metrics(request: Request) -> Response:
    """``GET /metrics``: the same counters in Prometheus text format (no token)."""
    state = server_state(request)
    state.metrics.plans = await state.log.plan_count()
    return Response(state.metrics.prometheus(), 200, media_type=PROMETHEUS_CONTENT_TYPE)


async def plan_events(request: Request) -> Response:
    """``/v1/plans/{plan_id}/events``: GET polls, POST publishes."""
    if request.method == "POST":
        return await post_plan_events(request)
    return await get_plan_events(request)


def http_routes() -> list[Route]:
    """The HTTP endpoints of protocol §6 (and ``/v1/status``, ``/metrics``)."""
    routes: list[tuple[str, _Endpoint, list[str]]] = [
        ("/v1/plans", list_plans, ["GET"]),
        ("/v1/plans/{plan_id}", get_plan, ["GET"]),
        # One route for both methods, so a 405 lists them both in Allow.
        ("/v1/plans/{plan_id}/events", plan_events, ["GET", "POST"]),
        # Last of the plan routes: whatever they did not match has a "/" in its id.
        ("/v1/plans/{rest:path}", plan_id_with_slash, ["GET", "POST"]),
        ("/v1/status", status, ["GET"]),
        ("/healthz", healthz, ["GET"]),
        ("/metrics", metrics, ["GET"]),
    ]
    return [
        Route(path, _answering(path, endpoint), methods=methods)
        for path, endpoint, methods in routes
    ]
