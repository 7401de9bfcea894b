"""``POST /v1/plans/{plan_id}/events``: publishing over HTTP (protocol §6).

In order: the token (401/403), the plan id (400, protocol §1), the token's
publish scope for that plan (403, ``authorization.py``), the
``Idempotency-Key`` header's form (400), the token's publish rate (429 with
``Retry-After``), the body's size (413), its content (400), then, in the log's
one atomic step with the append, the idempotency key (a replay of the first
``201``, or 422 for another body) and the plan being still open (409 once it
has a terminal status). A request refused at any step stores no key.

protocol §6, "Idempotent publishing": the log checks the key and appends in
one atomic step (the memory log with no ``await`` in between), so of two
identical requests racing, one appends and the other, strictly after it, is
answered the replay: no request has to wait for another, and none gets a
``409`` for a publish still in progress.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from operator import attrgetter
from typing import Final

from pydantic_core import to_json
from starlette.requests import Request
from starlette.responses import Response

from planstream.schema.events import Head
from planstream.schema.limits import plan_id_problem
from planstream.server.auth import bearer_token
from planstream.server.authorization import PlanAction
from planstream.server.event_log import (
    IdempotencyKey,
    IdempotencyKeyReusedError,
    IdempotentReplay,
    PlanClosedError,
    StoredEvent,
)
from planstream.server.http_support import HttpError, authorize, authorize_plan, server_state
from planstream.server.publishing import (
    PublishError,
    body_digest,
    idempotency_key_problem,
    parse_publish_body,
)

# Internal to the HTTP endpoints: http_api routes to it.
__all__: list[str] = []

MAX_PUBLISH_BODY: Final = 8 * 1024 * 1024

_EVENT_ID: Final = attrgetter("event_id")
_SEQ: Final = attrgetter("seq")
#: What JSON must escape in a string (RFC 8259 §7); to_json writes other characters as they are.
_NEEDS_ESCAPING: Final = re.compile(r'[\x00-\x1f"\\]')


async def post_plan_events(request: Request) -> Response:
    """Publish one event or an atomic list."""
    state = server_state(request)
    principal = await authorize(request, publish=True)
    plan_id: str = request.path_params["plan_id"]
    problem = plan_id_problem(plan_id)
    if problem is not None:
        raise HttpError(400, "bad_request", problem)
    authorize_plan(request, principal, PlanAction.PUBLISH, plan_id)
    key = _idempotency_key(request)
    token = bearer_token(request.headers.get("authorization"))
    wait = state.publish_limiter.take(token, state.clock())
    if wait > 0:
        state.metrics.http_rate_limited += 1
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
        events = parse_publish_body(
            body,
            allow_unknown_kinds=state.settings.allow_unknown_kinds,
            max_data_bytes=state.settings.max_frame_bytes // 2,
        )
    except PublishError as exc:
        raise HttpError(400, "bad_request", str(exc)) from None
    idempotency = None if key is None else IdempotencyKey(key, body_digest(body))
    try:
        stored = await state.append(plan_id, events, idempotency=idempotency)
    except IdempotentReplay as replay:
        # protocol §6: the first answer again, byte for byte, and nothing appended.
        return _created(replay.events, {"Idempotent-Replayed": "true"})
    except IdempotencyKeyReusedError as exc:
        raise HttpError(422, "idempotency_key_reused", str(exc)) from None
    except PlanClosedError as exc:
        raise HttpError(409, "conflict", str(exc)) from None
    return _created(stored)


def _created(
    events: Sequence[Head | StoredEvent], headers: dict[str, str] | None = None
) -> Response:
    """The ``201`` answer: each appended event's id and seq, in request order.

    Written as text, one f-string per event: the ids a log makes need no JSON
    escaping (checked once over all of them; any other id goes through the
    encoder). The same bytes as ``to_json({"events": [...]})``.
    """
    ids, seqs = list(map(_EVENT_ID, events)), list(map(_SEQ, events))
    if _NEEDS_ESCAPING.search("".join(ids)) is None:
        items = ",".join(
            [f'{{"event_id":"{i}","seq":{s}}}' for i, s in zip(ids, seqs, strict=True)]
        )
        body = f'{{"events":[{items}]}}'.encode()
    else:
        positions = zip(ids, seqs, strict=True)
        body = to_json({"events": [{"event_id": i, "seq": s} for i, s in positions]})
    return Response(body, 201, headers, media_type="application/json")


def _idempotency_key(request: Request) -> str | None:
    """The request's ``Idempotency-Key`` (protocol §6), None without one; 400 when malformed."""
    values = request.headers.getlist("idempotency-key")
    if not values:
        return None
    if len(values) > 1:
        raise HttpError(400, "bad_request", "Idempotency-Key: one header, not several")
    problem = idempotency_key_problem(values[0])
    if problem is not None:
        raise HttpError(400, "bad_request", problem)
    return values[0]


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
