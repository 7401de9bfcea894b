"""Steps of server_hostile_ws.feature on WebSocket frames: items 1, 2 and 4 of issue 10."""

from __future__ import annotations

import json
from typing import Any

from behave import given, then, use_step_matcher, when
from support.hostile_ws_support import FailingLog, capture_server_log
from support.server_stream_support import StreamTap, named_tap, open_tap, publish_logs
from support.servers import run, start_reference_server
from websockets.exceptions import ConnectionClosed

use_step_matcher("parse")


@given("the server's log is captured")
def step_capture_log(context: Any) -> None:
    capture_server_log(context)


@given('a reference server whose event log fails to locate plan "{plan_id}"')
def step_failing_server(context: Any, plan_id: str) -> None:
    start_reference_server(context, log=FailingLog(plan_id))


@given('raw client "{name}" connects to the stream accepting frames of any size')
def step_connect_any_size(context: Any, name: str) -> None:
    run(context, open_tap(context, name, max_size=None))


# --- item 1 --------------------------------------------------------------------------


@when('raw client "{name}" sends a frame of {count:d} "{char}" characters')
def step_send_chars(context: Any, name: str, count: int, char: str) -> None:
    run(context, named_tap(context, name).send(char * count))


@when(
    'raw client "{name}" sends a frame with id "{request_id}" whose payload nests {depth:d} arrays'
)
def step_send_nested(context: Any, name: str, request_id: str, depth: int) -> None:
    frame = f'{{"type": "ping", "id": "{request_id}", "x": ' + "[" * depth + "]" * depth + "}"
    run(context, named_tap(context, name).send(frame))


@when(
    'raw client "{name}" subscribes to plan "{plan_id}" after this server\'s incarnation '
    'followed by "{suffix}"'
)
def step_subscribe_incarnation(context: Any, name: str, plan_id: str, suffix: str) -> None:
    incarnation = context.server.state.log.incarnation
    run(context, named_tap(context, name).subscribe(plan_id, f"{incarnation}.{suffix}"))


@then('raw client "{name}" next receives a stream error "{code}" or a resync for plan "{plan_id}"')
def step_error_or_resync(context: Any, name: str, code: str, plan_id: str) -> None:
    frame = run(context, named_tap(context, name).next_item())
    if frame["type"] == "resync":
        assert frame["plan_id"] == plan_id, frame
        assert frame["reason"] == "unknown_event_id", frame
        return
    assert frame["type"] == "error", frame
    assert frame["code"] == code, frame
    assert frame["plan_id"] == plan_id, frame
    assert frame["id"] is not None, frame


@when('raw client "{name}" subscribes to plan "{plan_id}" {count:d} times')
def step_subscribe_times(context: Any, name: str, plan_id: str, count: int) -> None:
    tap = named_tap(context, name)

    async def send() -> list[str]:
        return [await tap.subscribe(plan_id, None) for _ in range(count)]

    context.hostile_request_ids = run(context, send())


@then(
    'raw client "{name}" receives {count:d} stream errors "{code}" for plan "{plan_id}", '
    "each with the id of its subscribe"
)
def step_errors_with_ids(context: Any, name: str, count: int, code: str, plan_id: str) -> None:
    tap = named_tap(context, name)
    for request_id in context.hostile_request_ids[:count]:
        frame = run(context, tap.next_item())
        assert frame["type"] == "error", frame
        assert frame["code"] == code, frame
        assert frame["id"] == request_id, frame
        assert frame["plan_id"] == plan_id, frame


@then(
    'raw client "{name}" is closed by the server with code {code:d} after at most {count:d} stream errors "{kind}"'
)
def step_closed_after_errors(context: Any, name: str, code: int, count: int, kind: str) -> None:
    tap = named_tap(context, name)
    start = len(tap.frames)  # the frames of this round are all unread
    got = run(context, tap.read_until_closed())
    assert got == code, got
    errors = [f for f in tap.frames[start:] if f.get("type") == "error"]
    assert all(f["code"] == kind for f in errors), errors
    assert len(errors) <= count, errors


@then("the captured server log has no traceback and at most {count:d} lines")
def step_log_small(context: Any, count: int) -> None:
    text = context.log_capture.text
    assert "Traceback" not in text, text[:3000]
    lines = text.splitlines()
    assert len(lines) <= count, lines[:20]


@then("the captured server log has exactly {count:d} line about {topic}, with no traceback")
def step_log_about(context: Any, count: int, topic: str) -> None:
    text = context.log_capture.text
    assert "Traceback" not in text, text[:3000]
    needle = {
        "an internal error": "internal error",
        "max_connections": "max_connections",
        "a failed accept": "out of system resource",
        "a malformed request": "Invalid HTTP request received",
    }[topic]
    lines = context.log_capture.lines(needle)
    assert len(lines) == count, text[:3000]


@when('the event loop reports {count:d} failed accepts with "{text}" while the server runs')
def step_accept_errors(context: Any, count: int, text: str) -> None:
    # What asyncio's selector loop does when accept() fails with EMFILE
    # (base_events / selector_events._accept_connection), a thousand times.
    for _ in range(count):
        context.loop.call_exception_handler(
            {
                "message": "socket.accept() out of system resource",
                "exception": OSError(24, text),
            }
        )


@then("the reference server counted {count:d} internal errors")
def step_internal_count(context: Any, count: int) -> None:
    metrics = context.server.state.metrics
    assert metrics.internal_errors == count, metrics


# --- item 2 --------------------------------------------------------------------------


@when(
    'raw client "{name}" subscribes with request id "{request_id}" to a plan id of {count:d} "{char}" characters'
)
def step_subscribe_long(context: Any, name: str, request_id: str, count: int, char: str) -> None:
    frame = {"type": "subscribe", "id": request_id, "plan_id": char * count, "last_event_id": None}
    run(context, named_tap(context, name).send(frame))


@when('raw client "{name}" subscribes with request id "{request_id}" to the plan id "{plan_id}"')
def step_subscribe_odd(context: Any, name: str, request_id: str, plan_id: str) -> None:
    # The plan id is written as the inside of a JSON string: "a\u0000b" is a NUL.
    frame = {
        "type": "subscribe",
        "id": request_id,
        "plan_id": json.loads(f'"{plan_id}"'),
        "last_event_id": None,
    }
    run(context, named_tap(context, name).send(frame))


@when('raw client "{name}" pings with an id of {count:d} characters')
def step_ping_long(context: Any, name: str, count: int) -> None:
    run(context, named_tap(context, name).send({"type": "ping", "id": "i" * count}))


@when(
    'raw client "{name}" subscribes to {count:d} plans with ids of {length:d} characters, '
    "{events:d} event published to each"
)
def step_subscribe_long_plans(
    context: Any, name: str, count: int, length: int, events: int
) -> None:
    tap = named_tap(context, name)
    plans = [f"{number:03d}".ljust(length, "x") for number in range(count)]
    context.hostile_plans = plans
    for plan_id in plans:
        publish_logs(context, plan_id, events)

    async def subscribe() -> None:
        for plan_id in plans:
            await tap.subscribe(plan_id, None)
        answers = 0
        while answers < count:
            item = await tap.next_item()
            answers += item["type"] == "subscribed"

    run(context, subscribe())


@then(
    'raw client "{name}" receives heartbeats with one ts that together name all {count:d} plans '
    "with their heads"
)
def step_split_heartbeats(context: Any, name: str, count: int) -> None:
    tap = named_tap(context, name)

    async def collect() -> dict[str, dict[str, Any]]:
        # Heartbeats sent after the events; the parts of one heartbeat share a ts.
        by_ts: dict[str, dict[str, Any]] = {}
        while True:
            frame = await tap.next_of_type("heartbeat", timeout=10)
            heads = by_ts.setdefault(frame["ts"], {})
            assert not set(heads) & set(frame["heads"]), "a plan named twice in one heartbeat"
            heads.update(frame["heads"])
            if len(heads) == count and all(heads.values()):
                return heads

    heads = run(context, collect())
    assert set(heads) == set(context.hostile_plans), sorted(heads)[:3]
    for plan_id, head in heads.items():
        assert head["seq"] == 1, (plan_id, head)
        assert head["event_id"] == dict(context.published[plan_id])[1], head
    sizes = [size for kind, size, _ in tap.frame_sizes if kind == "heartbeat"]
    assert max(sizes) <= context.server.settings.max_frame_bytes, sizes


# --- item 4 --------------------------------------------------------------------------


@when('raw client "{name}" sends {count:d} stream pings without waiting')
def step_ping_flood(context: Any, name: str, count: int) -> None:
    tap = named_tap(context, name)

    async def send() -> list[str]:
        sent = []
        try:
            for _ in range(count):
                sent.append(await tap.request({"type": "ping"}))
        except ConnectionClosed:
            pass  # closed for the flood: what the scenario checks next
        return sent

    context.hostile_request_ids = run(context, send())


@when('raw client "{name}" subscribes to {count:d} different plans without waiting')
def step_subscribe_flood(context: Any, name: str, count: int) -> None:
    tap = named_tap(context, name)

    async def send() -> None:
        try:
            for number in range(count):
                await tap.subscribe(f"plan-{number}", None)
        except ConnectionClosed:
            pass

    run(context, send())


def _answers_until_closed(context: Any, tap: StreamTap) -> list[dict[str, Any]]:
    if not tap.closed:
        run(context, tap.read_until_closed())
    return [frame for frame in tap.frames if frame.get("type") != "heartbeat"]


@then(
    'raw client "{name}" gets at least {low:d} and at most {high:d} pongs, then errors '
    '"rate_limited" echoing the ids of its pings'
)
def step_pongs_then_limited(context: Any, name: str, low: int, high: int) -> None:
    answers = _answers_until_closed(context, named_tap(context, name))
    kinds = [frame["type"] for frame in answers]
    pongs = kinds.count("pong")
    assert low <= pongs <= high, kinds
    limited = [frame for frame in answers if frame["type"] == "error"]
    assert limited, kinds
    assert all(frame["code"] == "rate_limited" for frame in limited), limited[:3]
    assert kinds.index("error") >= low, kinds
    sent = context.hostile_request_ids
    assert all(frame["id"] in sent for frame in limited), limited[:3]
    assert len({frame["id"] for frame in limited}) == len(limited), limited


@then(
    'raw client "{name}" got {subscribed:d} "subscribed", at most {refused:d} errors '
    '"too_many_subscriptions", then errors "rate_limited"'
)
def step_refusals_limited(context: Any, name: str, subscribed: int, refused: int) -> None:
    answers = _answers_until_closed(context, named_tap(context, name))
    assert [f["type"] for f in answers[:subscribed]] == ["subscribed"] * subscribed, answers[:3]
    codes = [f.get("code") for f in answers[subscribed:]]
    assert set(codes) == {"too_many_subscriptions", "rate_limited"}, codes
    assert codes.count("too_many_subscriptions") <= refused, codes
    first_limited = codes.index("rate_limited")
    assert "too_many_subscriptions" not in codes[first_limited:], codes


@then(
    'raw client "{name}" is closed by the server with code {code:d} and a retry_after of at least '
    "{seconds:g} second"
)
def step_closed_retry_after(context: Any, name: str, code: int, seconds: float) -> None:
    tap = named_tap(context, name)
    if not tap.closed:
        run(context, tap.read_until_closed())
    assert tap.close_code == code, tap.close_code
    reason = json.loads(tap.connection.close_reason)
    assert reason["retry_after"] >= seconds, reason


@then("the reference server counted {count:d} rate-limit close")
def step_rate_limit_closes(context: Any, count: int) -> None:
    metrics = context.server.state.metrics
    assert metrics.rate_limit_closes == count, metrics
    assert metrics.rate_limited_frames > 0, metrics


@then('raw client "{name}" was closed with code {code:d} and a reason mentioning "{text}"')
def step_closed_reason(context: Any, name: str, code: int, text: str) -> None:
    tap = named_tap(context, name)
    assert context.stream_slow_code == code, context.stream_slow_code
    reason = tap.connection.close_reason
    assert text in reason, reason
    assert "retention" not in reason, reason
