"""Steps of the stream endpoint features: handshake, subscribe/replay/live, resync, shutdown.

Raw clients are :class:`~support.server_stream_support.StreamTap` objects
named in the step text (``raw client "a"``); every step text mentions the
stream or a raw client so it never collides with the HTTP features' steps.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import parse
from behave import given, register_type, then, use_step_matcher, when
from support.server_stream_support import (
    StreamTap,
    SuspendingLog,
    assert_exact_events,
    log_data,
    open_tap,
    publish_logs,
    published_id,
    stream_url,
    taps,
)
from support.servers import on_cleanup, run, start_embedded, start_process
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from planstream import __version__
from planstream.server import MemoryEventLog, PlanStreamServer, Principal, ServerSettings

use_step_matcher("parse")


@parse.with_pattern(r'[^"]*')
def _parse_any_text(text: str) -> str:
    return text


register_type(StreamAnyText=_parse_any_text)


def _tap(context: Any, name: str) -> StreamTap:
    return taps(context)[name]


def _requests(tap: StreamTap) -> dict[str, Any]:
    if not hasattr(tap, "requests"):
        tap.requests = {}  # type: ignore[attr-defined]
    result: dict[str, Any] = tap.requests  # type: ignore[attr-defined]
    return result


def _utc(ts: str) -> datetime:
    parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    offset = parsed.utcoffset()
    assert offset is not None, ts
    assert offset.total_seconds() == 0, ts
    return parsed.astimezone(UTC)


# --- connecting ------------------------------------------------------------------


@given('raw client "{name}" connects to the stream')
@when('raw client "{name}" connects to the stream')
def step_connect(context: Any, name: str) -> None:
    run(context, open_tap(context, name))


@when('raw client "{name}" connects to the stream with token "{token}"')
def step_connect_token(context: Any, name: str, token: str) -> None:
    run(context, open_tap(context, name, token=token))


@when('raw client "{name}" connects to the stream offering the subprotocols "{offer}"')
def step_connect_offer(context: Any, name: str, offer: str) -> None:
    protocols = [p.strip() for p in offer.split(",")]
    run(context, open_tap(context, name, subprotocols=protocols))


@given('raw client "{name}" connects to the second server\'s stream')
def step_connect_second(context: Any, name: str) -> None:
    run(context, open_tap(context, name, url=context.server.url))


@then('raw client "{name}" selected the stream subprotocol "{protocol}"')
def step_selected(context: Any, name: str, protocol: str) -> None:
    assert _tap(context, name).connection.subprotocol == protocol


@then(
    'raw client "{name}" got a stream hello with protocol {protocol:d}, schema "{schema}", '
    'server "{server}", heartbeat_s {heartbeat:g} and max_frame_bytes {max_bytes:d}'
)
def step_hello(
    context: Any,
    name: str,
    protocol: int,
    schema: str,
    server: str,
    heartbeat: float,
    max_bytes: int,
) -> None:
    hello = _tap(context, name).client.hello
    assert hello is not None
    assert hello["type"] == "hello", hello
    assert hello["protocol"] == protocol, hello
    assert type(hello["protocol"]) is int, hello
    assert hello["schema"] == schema, hello
    assert hello["server"] == server.replace("<version>", __version__), hello
    assert isinstance(hello["session_id"], str), hello
    assert hello["session_id"], hello
    assert hello["heartbeat_s"] == heartbeat, hello
    assert hello["max_frame_bytes"] == max_bytes, hello
    assert type(hello["max_frame_bytes"]) is int, hello


@then('raw clients "{first}" and "{second}" got different stream session ids')
def step_sessions(context: Any, first: str, second: str) -> None:
    a = _tap(context, first).client.hello
    b = _tap(context, second).client.hello
    assert a is not None
    assert b is not None
    assert a["session_id"] != b["session_id"], (a, b)


# --- refused handshakes -------------------------------------------------------------


async def _refusal(
    url: str, *, token: str | None = None, subprotocols: list[str] | None
) -> tuple[int, Any, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        connection = await connect(
            url,
            subprotocols=subprotocols,  # type: ignore[arg-type]
            additional_headers=headers,
            open_timeout=10,
        )
    except InvalidStatus as exc:
        response = exc.response
        return response.status_code, response.headers, bytes(response.body or b"")
    await connection.close()
    raise AssertionError("the stream handshake was accepted")


def _try_open(context: Any, token: str | None, subprotocols: list[str] | None) -> None:
    context.stream_refusal = run(
        context, _refusal(stream_url(context), token=token, subprotocols=subprotocols)
    )


@when('a raw client offering the subprotocols "{offer}" tries to open the stream')
def step_try_offer(context: Any, offer: str) -> None:
    _try_open(context, None, [p.strip() for p in offer.split(",")])


@when("a raw client offering no subprotocol tries to open the stream")
def step_try_no_offer(context: Any) -> None:
    _try_open(context, None, None)


@when("a raw client without a token tries to open the stream")
def step_try_no_token(context: Any) -> None:
    _try_open(context, None, ["planstream.v1"])


@when('a raw client with token "{token}" tries to open the stream')
def step_try_token(context: Any, token: str) -> None:
    _try_open(context, token, ["planstream.v1"])


@then("the stream handshake is refused with HTTP {status:d}")
def step_refused(context: Any, status: int) -> None:
    got, _, body = context.stream_refusal
    assert got == status, (got, body)


@then('the refusal has header "{header}" listing "{value}"')
def step_refusal_header(context: Any, header: str, value: str) -> None:
    _, headers, _ = context.stream_refusal
    listed = [part.strip() for part in headers.get(header, "").split(",")]
    assert value in listed, dict(headers)


@then("the refusal body is {body}")
def step_refusal_body(context: Any, body: str) -> None:
    _, headers, raw = context.stream_refusal
    assert headers.get("Content-Type", "").startswith("application/json"), dict(headers)
    assert json.loads(raw) == json.loads(body), raw


@then('the refusal body has error "{code}"')
def step_refusal_error(context: Any, code: str) -> None:
    _, headers, raw = context.stream_refusal
    assert headers.get("Content-Type", "").startswith("application/json"), dict(headers)
    body = json.loads(raw)
    assert body["error"] == code, body
    assert isinstance(body.get("message"), str), body
    assert body["message"], body


class _NoReadVerifier:
    """Accepts one token as a principal without the read right; nothing else."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def verify(self, token: str | None) -> Principal | None:
        if token == self.token:
            return Principal("watcher", can_read=False, can_publish=False)
        return None


@given('a reference server whose token verifier accepts "{token}" as a principal that may not read')
def step_no_read_server(context: Any, token: str) -> None:
    server = PlanStreamServer(ServerSettings(port=0), verifier=_NoReadVerifier(token))
    run(context, server.start())
    on_cleanup(context, server.stop)
    context.server = server
    context.published = {}


@given("a reference server whose event log answers like a networked one, with settings")
@given("a reference server whose event log answers like a networked one")
def step_suspending_server(context: Any) -> None:
    settings: dict[str, Any] = {"port": 0}
    for row in context.table or []:
        settings[row["setting"]] = int(row["value"])
    server = PlanStreamServer(
        ServerSettings(**settings), log=SuspendingLog(settings.get("retention", 10_000))
    )
    run(context, server.start())
    on_cleanup(context, server.stop)
    context.server = server
    context.published = {}


@then("the embedded server counted {count:d} auth failure")
@then("the embedded server counted {count:d} auth failures")
def step_auth_failures(context: Any, count: int) -> None:
    assert context.server.state.metrics.auth_failures == count


@when("the embedded server closes every stream connection")
def step_close_all(context: Any) -> None:
    run(context, context.server.state.close_connections())


# --- subscribing ---------------------------------------------------------------------


def _subscribe(context: Any, name: str, plan_id: str, last_event_id: str | None) -> None:
    tap = _tap(context, name)
    _requests(tap)[plan_id] = run(context, tap.subscribe(plan_id, last_event_id))


@when('raw client "{name}" subscribes to plan "{plan_id}" from the start of the stream')
def step_subscribe_start(context: Any, name: str, plan_id: str) -> None:
    _subscribe(context, name, plan_id, None)


@given('raw client "{name}" subscribes to plan "{plan_id}" after event {seq:d} of the stream')
@when('raw client "{name}" subscribes to plan "{plan_id}" after event {seq:d} of the stream')
def step_subscribe_after(context: Any, name: str, plan_id: str, seq: int) -> None:
    _subscribe(context, name, plan_id, published_id(context, plan_id, seq))


@when(
    'raw client "{name}" subscribes to plan "{plan_id}" '
    'after the event id "{event_id:StreamAnyText}" of the stream'
)
def step_subscribe_literal(context: Any, name: str, plan_id: str, event_id: str) -> None:
    _subscribe(context, name, plan_id, event_id)


@when(
    'raw client "{name}" subscribes to plan "{plan_id}" after a forged event id "{suffix}" of this stream'
)
def step_subscribe_forged(context: Any, name: str, plan_id: str, suffix: str) -> None:
    # The reference server's ids are "<incarnation>.<seq>" (memory_log.py).
    _subscribe(context, name, plan_id, f"{context.server.state.log.incarnation}.{suffix}")


@when(
    'raw client "{name}" subscribes to plan "{plan_id}" after event {seq:d} '
    "of the first server's stream"
)
def step_subscribe_first_server(context: Any, name: str, plan_id: str, seq: int) -> None:
    ids = dict(context.first_published[plan_id])
    _subscribe(context, name, plan_id, ids[seq])


@when(
    'raw client "{name}" subscribes to plan "{plan_id}" after event {seq:d} '
    "of the previous run of the stream"
)
def step_subscribe_previous_run(context: Any, name: str, plan_id: str, seq: int) -> None:
    ids = dict(context.previous_published[plan_id])
    _subscribe(context, name, plan_id, ids[seq])


@when(
    'raw clients "{first}" and "{second}" subscribe to plan "{plan_id}" from the start of the stream'
)
def step_subscribe_both(context: Any, first: str, second: str, plan_id: str) -> None:
    for name in (first, second):
        _subscribe(context, name, plan_id, None)


@when('raw client "{name}" unsubscribes from stream plan "{plan_id}"')
def step_unsubscribe(context: Any, name: str, plan_id: str) -> None:
    tap = _tap(context, name)
    _requests(tap)[plan_id] = run(context, tap.request({"type": "unsubscribe", "plan_id": plan_id}))


def _next(context: Any, name: str) -> dict[str, Any]:
    item: dict[str, Any] = run(context, _tap(context, name).next_item())
    return item


@then(
    'raw client "{name}" next receives stream "subscribed" for plan "{plan_id}" with head seq {seq:d}'
)
def step_subscribed_head(context: Any, name: str, plan_id: str, seq: int) -> None:
    frame = _next(context, name)
    assert frame["type"] == "subscribed", frame
    assert frame["plan_id"] == plan_id, frame
    assert frame["id"] == _requests(_tap(context, name))[plan_id], frame
    assert frame["head"]["seq"] == seq, frame
    assert frame["head"]["event_id"] == published_id(context, plan_id, seq), frame


@then('raw client "{name}" next receives stream "subscribed" for plan "{plan_id}" with head null')
def step_subscribed_null(context: Any, name: str, plan_id: str) -> None:
    frame = _next(context, name)
    assert frame["type"] == "subscribed", frame
    assert frame["plan_id"] == plan_id, frame
    assert frame["id"] == _requests(_tap(context, name))[plan_id], frame
    assert frame["head"] is None, frame


@then('raw client "{name}" next receives stream "unsubscribed" for plan "{plan_id}"')
def step_unsubscribed(context: Any, name: str, plan_id: str) -> None:
    frame = _next(context, name)
    assert frame == {
        "type": "unsubscribed",
        "id": _requests(_tap(context, name))[plan_id],
        "plan_id": plan_id,
    }, frame


# --- receiving events ------------------------------------------------------------------


@then(
    'raw client "{name}" receives the stream events of plan "{plan_id}" from seq {first:d} to {last:d}'
)
def step_events(context: Any, name: str, plan_id: str, first: int, last: int) -> None:
    events = run(context, _tap(context, name).plan_events(plan_id, last))
    assert_exact_events(context, events, plan_id, first, last)


_RANGE = re.compile(r'plan "([^"]+)" from seq (\d+) to (\d+)')


async def _read_ranges(tap: StreamTap, ranges: dict[str, tuple[int, int]]) -> dict[str, list[Any]]:
    got: dict[str, list[Any]] = {plan_id: [] for plan_id in ranges}

    def done() -> bool:
        return all(
            (got[p][-1]["seq"] if got[p] else first - 1) >= last
            for p, (first, last) in ranges.items()
        )

    async with asyncio.timeout(30):
        while not done():
            item = await tap.next_item()
            assert item.get("plan_id") in ranges, item
            if item["type"] == "subscribed":
                # A plan's events come after its subscribed frame, never before.
                assert not got[item["plan_id"]], item
                continue
            assert item["type"] == "event", item
            got[item["plan_id"]].append(item)
    return got


@then('raw client "{name}" receives every stream event of {ranges}')
def step_every_event(context: Any, name: str, ranges: str) -> None:
    wanted = {p: (int(a), int(b)) for p, a, b in _RANGE.findall(ranges)}
    assert wanted, ranges
    got = run(context, _read_ranges(_tap(context, name), wanted))
    for plan_id, (first, last) in wanted.items():
        assert_exact_events(context, got[plan_id], plan_id, first, last)


def _all_events(tap: StreamTap) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for frame in tap.frames:
        if frame["type"] == "event":
            events.append(frame)
        elif frame["type"] == "batch":
            events.extend(frame["events"])
    return events


@then('the stream events raw client "{name}" received have RFC 3339 UTC timestamps and log data')
def step_event_shape(context: Any, name: str) -> None:
    events = _all_events(_tap(context, name))
    assert events
    for event in events:
        _utc(event["ts"])
        assert event["kind"] == "log", event
        assert event["data"] == log_data(event["seq"] - 1), event


@then('raw client "{name}" received no stream event of plan "{plan_id}"')
def step_no_event(context: Any, name: str, plan_id: str) -> None:
    tap = _tap(context, name)
    leaked = [e for e in _all_events(tap) if e["plan_id"] == plan_id]
    assert not leaked, leaked[:3]


@then(
    'raw client "{name}" received stream batch frames, none larger than {limit:d} bytes and none with more than {most:d} events'
)
def step_batches(context: Any, name: str, limit: int, most: int) -> None:
    sizes = _tap(context, name).frame_sizes
    batches = [(size, count) for kind, size, count in sizes if kind == "batch"]
    assert batches, sizes
    assert max(size for _, size, _ in sizes) <= limit, sorted(sizes, key=lambda s: -s[1])[:3]
    assert max(count for _, count in batches) <= most, batches
    assert min(count for _, count in batches) >= 1, batches
    # The limits bind: some batch is full by count or close to the byte limit.
    assert any(count == most or size > limit // 2 for size, count in batches), batches


@then('raw client "{name}" received no stream batch frame')
def step_no_batch(context: Any, name: str) -> None:
    sizes = _tap(context, name).frame_sizes
    assert all(kind != "batch" for kind, _, _ in sizes), sizes


@given(
    '{count:d} events of {low:d} to {high:d} bytes with non-ASCII text were published to plan "{plan_id}"'
)
def step_publish_sized(context: Any, count: int, low: int, high: int, plan_id: str) -> None:
    async def publish() -> list[tuple[int, str]]:
        appended = []
        for number in range(count):
            size = low + (number * 7919) % (high - low + 1)
            # "é" is 2 UTF-8 bytes: the frame budget must count bytes, not characters.
            message = ("é" * (size // 2))[: max(1, size // 2)]
            stored = await context.server.publish(
                plan_id,
                "log",
                {"level": "info", "message": message, "step_id": None, "stream": "stdout"},
            )
            appended.append((stored.seq, stored.event.event_id))
        return appended

    context.published.setdefault(plan_id, []).extend(run(context, publish()))


@when('raw client "{name}" drops its stream connection')
def step_drop(context: Any, name: str) -> None:
    tap = _tap(context, name)
    tap.connection.transport.abort()

    async def wait_gone() -> None:
        # The server notices the drop and forgets the connection.
        for _ in range(1000):
            if len(context.server.state.connections) < len(taps(context)):
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the server did not notice the dropped connection")

    run(context, wait_gone(), timeout=10)


@then("the embedded server has {count:d} stream subscription")
@then("the embedded server has {count:d} stream subscriptions")
def step_subscriptions(context: Any, count: int) -> None:
    assert context.server.state.metrics.subscriptions == count, context.server.state.metrics


@then(
    "the embedded server has {connections:d} stream connections and {subscriptions:d} stream subscriptions"
)
def step_connections(context: Any, connections: int, subscriptions: int) -> None:
    state = context.server.state
    assert len(state.connections) == connections, state.connections
    assert state.metrics.connections == connections, state.metrics
    assert state.metrics.subscriptions == subscriptions, state.metrics


@then('raw client "{name}" is closed by the server with code {code:d}')
def step_closed(context: Any, name: str, code: int) -> None:
    got = run(context, _tap(context, name).read_until_closed())
    assert got == code, got


# --- resync ------------------------------------------------------------------------------


@given('plan "{plan_id}" ran {steps:d} steps on the stream, then logged {lines:d} lines')
def step_plan_ran(context: Any, plan_id: str, steps: int, lines: int) -> None:
    async def publish() -> list[tuple[int, str]]:
        appended = []

        async def one(kind: str, data: dict[str, Any]) -> None:
            stored = await context.server.publish(plan_id, kind, data)
            appended.append((stored.seq, stored.event.event_id))

        await one("plan.status", {"status": "running", "reason": None})
        for index in range(steps):
            step = {"step_id": f"s{index}", "index": index, "name": f"step {index}"}
            await one("step.status", {**step, "status": "running", "error": None})
            await one("step.status", {**step, "status": "succeeded", "error": None})
            await one(
                "plan.progress",
                {
                    "completed_steps": index + 1,
                    "total_steps": steps,
                    "percent": 100.0 * (index + 1) / steps,
                    "message": None,
                },
            )
        for number in range(lines):
            await one("log", log_data(number))
        return appended

    context.published.setdefault(plan_id, []).extend(run(context, publish()))


@then(
    'raw client "{name}" next receives a stream resync for plan "{plan_id}" with reason "{reason}"'
)
def step_resync(context: Any, name: str, plan_id: str, reason: str) -> None:
    tap = _tap(context, name)
    frame = _next(context, name)
    assert frame["type"] == "resync", frame
    assert frame["id"] == _requests(tap)[plan_id], frame
    assert frame["plan_id"] == plan_id, frame
    assert frame["reason"] == reason, frame
    assert frame["snapshot"]["plan_id"] == plan_id, frame
    tap.last_resync = frame  # type: ignore[attr-defined]


def _snapshot(context: Any, name: str) -> dict[str, Any]:
    snapshot: dict[str, Any] = _tap(context, name).last_resync["snapshot"]  # type: ignore[attr-defined]
    return snapshot


def _assert_newest_head(context: Any, snapshot: dict[str, Any]) -> None:
    seq, event_id = context.published[snapshot["plan_id"]][-1]
    assert snapshot["head"] == {"seq": seq, "event_id": event_id}, snapshot
    _utc(snapshot["updated_at"])


@then(
    'the stream resync snapshot of raw client "{name}" has status "{status}", progress {done:d} '
    "of {total:d} steps, {succeeded:d} succeeded steps and the plan's newest event as head"
)
def step_snapshot_full(
    context: Any, name: str, status: str, done: int, total: int, succeeded: int
) -> None:
    snapshot = _snapshot(context, name)
    assert snapshot["status"] == status, snapshot
    progress = snapshot["progress"]
    assert (progress["completed_steps"], progress["total_steps"]) == (done, total), snapshot
    assert progress["percent"] == 100.0 * done / total, snapshot
    steps = snapshot["steps"]
    assert [s["index"] for s in steps] == list(range(len(steps))), steps
    assert sum(s["status"] == "succeeded" for s in steps) == succeeded == len(steps), steps
    _assert_newest_head(context, snapshot)


@then('the stream resync snapshot of raw client "{name}" has the plan\'s newest event as head')
def step_snapshot_head(context: Any, name: str) -> None:
    _assert_newest_head(context, _snapshot(context, name))


@then('the stream resync snapshot of raw client "{name}" has no head and no status')
def step_snapshot_empty(context: Any, name: str) -> None:
    snapshot = _snapshot(context, name)
    assert snapshot["head"] is None, snapshot
    assert snapshot["status"] is None, snapshot
    assert snapshot["steps"] == [], snapshot
    assert snapshot["progress"] is None, snapshot


@then('the stream resync snapshot of raw client "{name}" has head seq {seq:d}')
def step_snapshot_seq(context: Any, name: str, seq: int) -> None:
    snapshot = _snapshot(context, name)
    assert snapshot["head"]["seq"] == seq, snapshot
    assert snapshot["head"]["event_id"] == published_id(context, snapshot["plan_id"], seq)


@given(
    'a second reference server, a new incarnation of the stream, where plan "{plan_id}" has {count:d} events'
)
def step_second_server(context: Any, plan_id: str, count: int) -> None:
    context.first_server, context.first_published = context.server, context.published
    context.server = start_embedded(context)
    context.published = {}
    publish_logs(context, plan_id, count)


@when('{count:d} events are published to plan "{plan_id}" on the second server')
def step_publish_second(context: Any, count: int, plan_id: str) -> None:
    publish_logs(context, plan_id, count)


# --- shutdown and subprocess servers -----------------------------------------------------


@when("the embedded stream server is stopped")
def step_stop_embedded(context: Any) -> None:
    run(context, context.server.stop())


@given(
    '{count:d} events were published over HTTP to the subprocess stream server\'s plan "{plan_id}"'
)
@when(
    '{count:d} events were published over HTTP to the subprocess stream server\'s plan "{plan_id}"'
)
def step_publish_http(context: Any, count: int, plan_id: str) -> None:
    if not hasattr(context, "published"):
        context.published = {}
    body = [{"kind": "log", "data": log_data(n)} for n in range(count)]
    response = httpx.post(
        f"{context.server_process.http_url}/v1/plans/{plan_id}/events", json=body, timeout=10
    )
    assert response.status_code == 201, response.text
    appended = [(e["seq"], e["event_id"]) for e in response.json()["events"]]
    context.published.setdefault(plan_id, []).extend(appended)


@when("the subprocess stream server receives SIGTERM")
def step_sigterm(context: Any) -> None:
    async def terminate() -> int:
        # In a thread, so the raw clients in this loop answer the close handshake.
        code: int = await asyncio.get_running_loop().run_in_executor(
            None, context.server_process.terminate
        )
        return code

    context.stream_exit_code = run(context, terminate())


@then("the subprocess stream server exited with code {code:d}")
def step_exit_code(context: Any, code: int) -> None:
    assert context.stream_exit_code == code, (
        context.stream_exit_code,
        context.server_process.output,
    )


@when("the subprocess stream server is started again on the same port")
def step_restart(context: Any) -> None:
    port = context.server_process.port
    context.previous_published, context.published = context.published, {}
    context.server_process = start_process(context, port=port)


@when("the embedded stream server is stopped, which takes less than {seconds:g} seconds")
def step_stop_bounded(context: Any, seconds: float) -> None:
    started = time.monotonic()
    run(context, context.server.stop(), timeout=seconds + 30)
    took = time.monotonic() - started
    assert took < seconds, f"stopping took {took:.1f} s"


@given("a TCP port on 127.0.0.1 that is already in use")
def step_port_in_use(context: Any) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    context.busy_port = sock.getsockname()[1]

    async def close() -> None:
        sock.close()

    on_cleanup(context, close)


@when("an embedded stream server is started on that port")
def step_start_busy(context: Any) -> None:
    server = PlanStreamServer(ServerSettings(port=context.busy_port))
    on_cleanup(context, server.stop)
    try:
        run(context, server.start())
    except Exception as exc:
        context.stream_start_error = exc
    else:
        context.stream_start_error = None


@then("starting the embedded stream server failed with an OSError naming the port")
def step_start_failed(context: Any) -> None:
    error = context.stream_start_error
    assert isinstance(error, OSError), repr(error)
    assert str(context.busy_port) in str(error), error


@then("the scenario's event loop still runs")
def step_loop_runs(context: Any) -> None:
    assert run(context, asyncio.sleep(0, "alive")) == "alive"


@given("an embedded stream server that is not started")
def step_unstarted(context: Any) -> None:
    context.server = PlanStreamServer(ServerSettings(port=0))
    context.published = {}


@then("asking the unstarted stream server for its URL raises RuntimeError")
def step_no_url(context: Any) -> None:
    for attribute in ("url", "http_url"):
        try:
            getattr(context.server, attribute)
        except RuntimeError:
            continue
        raise AssertionError(f"{attribute} of an unstarted server did not raise")
    assert repr(context.server) == "PlanStreamServer(host='127.0.0.1', port=None)"


@when("the embedded stream server is started")
def step_start(context: Any) -> None:
    run(context, context.server.start())
    on_cleanup(context, context.server.stop)


@then('its stream URL is "{url}" and its repr names the port')
def step_url(context: Any, url: str) -> None:
    port = context.server.port
    assert isinstance(port, int), port
    assert port > 0, port
    assert context.server.url == url.replace("<port>", str(port)), context.server.url
    assert context.server.http_url == f"http://127.0.0.1:{port}", context.server.http_url
    assert repr(context.server) == f"PlanStreamServer(host='127.0.0.1', port={port})"


@then("starting the embedded stream server again raises RuntimeError")
def step_start_twice(context: Any) -> None:
    try:
        run(context, context.server.start())
    except RuntimeError:
        return
    raise AssertionError("a second start() did not raise")


@then('the stream\'s event log retains plan "{plan_id}" from seq {first:d} to {last:d}')
def step_log_retains(context: Any, plan_id: str, first: int, last: int) -> None:
    log = context.server.state.log
    head = run(context, log.head(plan_id))
    assert head.seq == last, head
    events = run(context, log.read(plan_id, 0, 1000))
    assert [e.seq for e in events] == list(range(first, last + 1))


@then('the stream\'s event log retains nothing for plan "{plan_id}"')
def step_log_empty(context: Any, plan_id: str) -> None:
    log = context.server.state.log
    assert run(context, log.head(plan_id)) is None
    assert run(context, log.read(plan_id, 0, 10)) == []


@then(
    'appending no events to the stream\'s plan "{plan_id}" appends nothing and keeps its head at '
    "seq {seq:d}"
)
def step_append_nothing(context: Any, plan_id: str, seq: int) -> None:
    log = context.server.state.log
    assert run(context, log.append(plan_id, [], ts=datetime.now(UTC))) == []
    assert run(context, log.head(plan_id)).seq == seq


@then("a memory event log with a retention of {retention:d} is refused")
def step_log_refused(context: Any, retention: int) -> None:
    try:
        MemoryEventLog(retention)
    except ValueError as exc:
        message = str(exc)
    else:
        raise AssertionError("the log accepted it")
    assert "retention" in message, message


@when(
    'raw client "{name}" subscribes to plan "{plan_id}" from the start of the stream, then at once '
    "again after event {seq:d} of the stream"
)
def step_subscribe_twice_at_once(context: Any, name: str, plan_id: str, seq: int) -> None:
    tap = _tap(context, name)

    async def send() -> tuple[str, str]:
        first = await tap.subscribe(plan_id, None)
        second = await tap.subscribe(plan_id, published_id(context, plan_id, seq))
        return first, second

    context.stream_pipelined_ids = run(context, send())


@when(
    'raw client "{name}" subscribes to plan "{plan_id}" from the start of the stream, then at once '
    "unsubscribes from it"
)
def step_subscribe_unsubscribe(context: Any, name: str, plan_id: str) -> None:
    tap = _tap(context, name)

    async def send() -> tuple[str, str]:
        first = await tap.subscribe(plan_id, None)
        second = await tap.request({"type": "unsubscribe", "plan_id": plan_id})
        return first, second

    context.stream_pipelined_ids = run(context, send())


async def _prefix_then(
    tap: StreamTap, plan_id: str, first_id: str, frame_type: str, second_id: str
) -> dict[str, Any]:
    """Read ``subscribed`` (first id), a gap-free prefix of events, then ``frame_type``."""
    frame = await tap.next_item()
    assert frame["type"] == "subscribed", frame
    assert frame["id"] == first_id, frame
    seqs = []
    while True:
        frame = await tap.next_item()
        if frame["type"] != "event":
            break
        assert frame["plan_id"] == plan_id, frame
        seqs.append(frame["seq"])
    assert seqs == list(range(1, len(seqs) + 1)), seqs
    assert frame["type"] == frame_type, frame
    assert frame["id"] == second_id, frame
    return frame


@then(
    'raw client "{name}" gets a prefix of plan "{plan_id}" from seq 1, then stream "subscribed" '
    "with head seq {head:d}, then exactly seq {first:d} to {last:d}"
)
def step_prefix_then_replay(
    context: Any, name: str, plan_id: str, head: int, first: int, last: int
) -> None:
    tap = _tap(context, name)
    first_id, second_id = context.stream_pipelined_ids
    frame = run(context, _prefix_then(tap, plan_id, first_id, "subscribed", second_id))
    assert frame["head"]["seq"] == head, frame
    events = run(context, tap.plan_events(plan_id, last))
    assert_exact_events(context, events, plan_id, first, last)


@then(
    'raw client "{name}" gets a prefix of plan "{plan_id}" from seq 1, then stream "unsubscribed", '
    'then no event of plan "{other}" up to a stream pong'
)
def step_prefix_then_unsubscribed(context: Any, name: str, plan_id: str, other: str) -> None:
    tap = _tap(context, name)
    first_id, second_id = context.stream_pipelined_ids
    run(context, _prefix_then(tap, plan_id, first_id, "unsubscribed", second_id))

    async def ping() -> None:
        request_id = await tap.request({"type": "ping"})
        frame = await tap.next_item()
        assert frame == {"type": "pong", "id": request_id, "ts": frame.get("ts")}, frame

    run(context, ping())
    assert context.server.state.metrics.subscriptions == 0, context.server.state.metrics
