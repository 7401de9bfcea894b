"""Steps for the HTTP half of the reference server: polling (protocol §6).

Every step text mentions HTTP, poll, publisher or metrics, so none collides
with the WebSocket steps. Requests are real: httpx over loopback sockets.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl

import httpx
from behave import then, when
from support.server_http_client import (
    authorization_headers,
    call,
    check_error,
    json_of,
    log_events,
    record_published,
    request,
    server_state,
    ws_collect,
    ws_url,
)
from support.servers import run

from planstream import PlanSnapshot, UnknownEvent
from planstream.codec import decode_event
from planstream.schema import EventBase

# --- When: polls ---------------------------------------------------------------


def _event_id(context: Any, plan_id: str, seq: int) -> str:
    for published_seq, event_id in context.published.get(plan_id, []):
        if published_seq == seq:
            return str(event_id)
    raise AssertionError(f"no event of seq {seq} was published to plan {plan_id!r}")


def _poll_params(context: Any, plan_id: str, query: str) -> dict[str, str]:
    """``after=#3`` is the id of the event of seq 3 published to the plan;
    ``{stream}`` the plan's id prefix (its event 1's id without the seq);
    ``{resync_head}`` the id of the last poll's resync snapshot head."""
    query = re.sub(r"#(\d+)", lambda m: _event_id(context, plan_id, int(m.group(1))), query)
    if "{stream}" in query:
        query = query.replace("{stream}", _event_id(context, plan_id, 1).rpartition(".")[0])
    if "{resync_head}" in query:
        head = context.poll_body["resync"]["snapshot"]["head"]
        query = query.replace("{resync_head}", head["event_id"])
    return dict(parse_qsl(query, keep_blank_values=True))


def _poll(context: Any, plan_id: str, query: str = "") -> httpx.Response:
    params = _poll_params(context, plan_id, query)
    response = call(context, "GET", f"/v1/plans/{plan_id}/events", params=params)
    context.poll_elapsed = context.http_elapsed
    context.poll_response = response
    context.poll_body = json_of(response)
    return response


@when('plan "{plan_id}" is polled over HTTP')
def when_poll(context: Any, plan_id: str) -> None:
    _poll(context, plan_id)


@when('plan "{plan_id}" is polled over HTTP with "{query}"')
def when_poll_with(context: Any, plan_id: str, query: str) -> None:
    _poll(context, plan_id, query)


async def _post_later(
    context: Any, delay: float, plan_id: str, count: int
) -> tuple[float, httpx.Response]:
    await asyncio.sleep(delay)
    posted_at = time.monotonic()
    response = await request(
        context, "POST", f"/v1/plans/{plan_id}/events", json=log_events(count, "late")
    )
    assert response.status_code == 201, response.text
    return posted_at, response


async def _timed_get(
    context: Any, path: str, params: dict[str, str]
) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = await request(context, "GET", path, params=params)
    return time.monotonic() - started, response


@when(
    'plan "{plan_id}" is long-polled over HTTP with "{query}"'
    ' while a publisher POSTs {count:d} log events to plan "{other}" after {delay:g} seconds'
)
def when_long_poll_with_publish(
    context: Any, plan_id: str, query: str, count: int, other: str, delay: float
) -> None:
    context.long_polls = _long_polls(context, 1, plan_id, query, count, other, delay)
    context.poll_elapsed, response = context.long_polls[0]
    context.http_response = context.poll_response = response
    context.poll_body = json_of(response)


@when(
    '{polls:d} HTTP long-polls of plan "{plan_id}" with "{query}" run'
    ' while a publisher POSTs {count:d} log events to plan "{other}" after {delay:g} seconds'
)
def when_many_long_polls(
    context: Any, polls: int, plan_id: str, query: str, count: int, other: str, delay: float
) -> None:
    context.long_polls = _long_polls(context, polls, plan_id, query, count, other, delay)


def _long_polls(
    context: Any, polls: int, plan_id: str, query: str, count: int, other: str, delay: float
) -> list[tuple[float, httpx.Response]]:
    params = _poll_params(context, plan_id, query)
    path = f"/v1/plans/{plan_id}/events"

    async def scenario() -> list[tuple[float, httpx.Response]]:
        publisher = asyncio.create_task(_post_later(context, delay, other, count))
        answers = await asyncio.gather(*(_timed_get(context, path, params) for _ in range(polls)))
        _, published = await publisher
        record_published(context, other, published)
        return list(answers)

    answers: list[tuple[float, httpx.Response]] = run(context, scenario())
    return answers


@when(
    'plan "{plan_id}" is long-polled over HTTP with "{query}" while the server stops after {delay:g} seconds'
)
def when_long_poll_while_stopping(context: Any, plan_id: str, query: str, delay: float) -> None:
    params = _poll_params(context, plan_id, query)

    async def stop_later() -> float:
        await asyncio.sleep(delay)
        started = time.monotonic()
        await context.server.stop()
        return time.monotonic() - started

    async def scenario() -> tuple[tuple[float, httpx.Response], float]:
        stopper = asyncio.create_task(stop_later())
        answer = await _timed_get(context, f"/v1/plans/{plan_id}/events", params)
        return answer, await stopper

    (context.poll_elapsed, response), context.poll_stop_took = run(context, scenario())
    context.http_response = context.poll_response = response
    context.poll_body = json_of(response)


@when("the HTTP server begins shutting down")
def when_shutdown_begins(context: Any) -> None:
    run(context, server_state(context).close_connections(wait=2))


# --- Then: poll answers --------------------------------------------------------


def _head_json(head: Any) -> dict[str, Any] | None:
    return None if head is None else head.model_dump(mode="json")


def _log_head(context: Any, plan_id: str) -> dict[str, Any] | None:
    return _head_json(run(context, server_state(context).log.head(plan_id)))


def _check_polled_events(
    context: Any, body: dict[str, Any], plan_id: str, first: int, last: int
) -> None:
    events = body["events"]
    assert [event["seq"] for event in events] == list(range(first, last + 1)), [
        event["seq"] for event in events
    ]
    stored = run(context, server_state(context).log.read(plan_id, first - 1, last - first + 1))
    assert [event["event_id"] for event in events] == [s.event.event_id for s in stored]
    for event in events:
        assert event["type"] == "event", event
        assert event["plan_id"] == plan_id, event
        assert isinstance(decode_event(event), EventBase)


@then('the poll answered 200 with the events of plan "{plan_id}" from seq {first:d} to {last:d}')
def then_poll_events(context: Any, plan_id: str, first: int, last: int) -> None:
    assert context.poll_response.status_code == 200, context.poll_response.text
    assert context.poll_body["plan_id"] == plan_id
    _check_polled_events(context, context.poll_body, plan_id, first, last)


@then("the poll answered 200 with no events")
def then_poll_empty(context: Any) -> None:
    assert context.poll_response.status_code == 200, context.poll_response.text
    assert context.poll_body["events"] == [], context.poll_body


@then('the poll head is the head of plan "{plan_id}"')
def then_poll_head(context: Any, plan_id: str) -> None:
    expected = _log_head(context, plan_id)
    assert expected is not None, f"plan {plan_id!r} has no events"
    assert context.poll_body["head"] == expected, (context.poll_body["head"], expected)


@then("the poll head is null")
def then_poll_head_null(context: Any) -> None:
    assert context.poll_body["head"] is None, context.poll_body


@then("the poll resync is null")
def then_poll_no_resync(context: Any) -> None:
    assert context.poll_body["resync"] is None, context.poll_body
    assert set(context.poll_body) == {"plan_id", "events", "head", "resync"}, context.poll_body


@then("the poll answer advertises an X-Poll-Interval of {seconds:g} seconds")
def then_poll_interval(context: Any, seconds: float) -> None:
    header = context.poll_response.headers.get("x-poll-interval")
    assert header is not None, dict(context.poll_response.headers)
    assert float(header) == seconds, header


@then('each of these polls of plan "{plan_id}" over HTTP is refused with 400 bad_request naming:')
def then_each_poll_refused(context: Any, plan_id: str) -> None:
    """Columns: query, name (the parameter the message must name)."""
    for row in context.table:
        response = call(
            context,
            "GET",
            f"/v1/plans/{plan_id}/events",
            params=_poll_params(context, plan_id, row["query"]),
        )
        try:
            check_error(response, 400, "bad_request", row["name"])
        except AssertionError as exc:
            raise AssertionError(f"{row['query']!r}: {exc}") from None


@then("the poll took between {low:g} and {high:g} seconds")
def then_poll_took(context: Any, low: float, high: float) -> None:
    assert low <= context.poll_elapsed <= high, context.poll_elapsed


@then("stopping the server during the poll took less than {seconds:g} seconds")
def then_stop_took(context: Any, seconds: float) -> None:
    assert context.poll_stop_took < seconds, context.poll_stop_took


@then(
    "each of the {polls:d} long-polls answered within {seconds:g} seconds"
    ' with the events of plan "{plan_id}" from seq {first:d} to {last:d}'
)
def then_each_long_poll(
    context: Any, polls: int, seconds: float, plan_id: str, first: int, last: int
) -> None:
    assert len(context.long_polls) == polls
    for elapsed, response in context.long_polls:
        assert response.status_code == 200, response.text
        assert elapsed < seconds, elapsed
        _check_polled_events(context, json_of(response), plan_id, first, last)


@then('the poll resync reason is "{reason}" with the snapshot of plan "{plan_id}"')
def then_poll_resync(context: Any, reason: str, plan_id: str) -> None:
    body = context.poll_body
    assert context.poll_response.status_code == 200, context.poll_response.text
    assert body["events"] == [], body
    resync = body["resync"]
    assert set(resync) == {"reason", "snapshot"}, resync
    assert resync["reason"] == reason, resync["reason"]
    snapshot = PlanSnapshot.model_validate_json(json.dumps(resync["snapshot"]))
    assert snapshot.plan_id == plan_id
    # when resync is set, head is the snapshot's head (protocol §6)
    assert body["head"] == _head_json(snapshot.head), (body["head"], snapshot.head)
    expected = run(context, server_state(context).log.snapshot(plan_id))
    if expected is None:
        assert snapshot.head is None, snapshot
        assert snapshot.status is None, snapshot
    else:
        assert snapshot == expected, (snapshot, expected)
    context.poll_resync_snapshot = snapshot


@then('the poll resync snapshot has status "{status}" and head seq {seq:d}')
def then_resync_snapshot(context: Any, status: str, seq: int) -> None:
    snapshot: PlanSnapshot = context.poll_resync_snapshot
    assert snapshot.status == (None if status == "null" else status), snapshot.status
    assert snapshot.head is not None, snapshot
    assert snapshot.head.seq == seq, snapshot.head


@then('every polled event equals what a WebSocket subscriber of plan "{plan_id}" receives')
def then_polled_equal_ws(context: Any, plan_id: str) -> None:
    polled = context.poll_body["events"]
    assert polled, "nothing was polled"
    _, streamed = run(
        context,
        ws_collect(ws_url(context), plan_id, len(polled), authorization_headers(context)),
    )
    assert streamed == polled, (streamed, polled)


@then('the polled event {seq:d} is an unknown-kind event "{kind}" with data {data}')
def then_polled_unknown(context: Any, seq: int, kind: str, data: str) -> None:
    (event,) = [e for e in context.poll_body["events"] if e["seq"] == seq]
    decoded = decode_event(event)
    assert isinstance(decoded, UnknownEvent), type(decoded)
    assert decoded.kind == kind, decoded
    assert decoded.data == json.loads(data), decoded
