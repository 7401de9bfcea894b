"""Steps of the stream endpoint features: handshake, subscribe/replay/live, resync, shutdown.

Raw clients are :class:`~support.server_stream_support.StreamTap` objects
named in the step text (``raw client "a"``); every step text mentions the
stream or a raw client so it never collides with the HTTP features' steps.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from behave import given, then, use_step_matcher, when
from support.server_stream_support import (
    StreamTap,
    assert_exact_events,
    log_data,
    named_tap,
    next_frame,
    parse_utc,
    published_id,
    tap_requests,
    taps,
)
from support.servers import run

use_step_matcher("parse")


# --- subscribing ---------------------------------------------------------------------


def _subscribe(context: Any, name: str, plan_id: str, last_event_id: str | None) -> None:
    tap = named_tap(context, name)
    tap_requests(tap)[plan_id] = run(context, tap.subscribe(plan_id, last_event_id))


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
    tap = named_tap(context, name)
    tap_requests(tap)[plan_id] = run(
        context, tap.request({"type": "unsubscribe", "plan_id": plan_id})
    )


@then(
    'raw client "{name}" next receives stream "subscribed" for plan "{plan_id}" with head seq {seq:d}'
)
def step_subscribed_head(context: Any, name: str, plan_id: str, seq: int) -> None:
    frame = next_frame(context, name)
    assert frame["type"] == "subscribed", frame
    assert frame["plan_id"] == plan_id, frame
    assert frame["id"] == tap_requests(named_tap(context, name))[plan_id], frame
    assert frame["head"]["seq"] == seq, frame
    assert frame["head"]["event_id"] == published_id(context, plan_id, seq), frame


@then('raw client "{name}" next receives stream "subscribed" for plan "{plan_id}" with head null')
def step_subscribed_null(context: Any, name: str, plan_id: str) -> None:
    frame = next_frame(context, name)
    assert frame["type"] == "subscribed", frame
    assert frame["plan_id"] == plan_id, frame
    assert frame["id"] == tap_requests(named_tap(context, name))[plan_id], frame
    assert frame["head"] is None, frame


@then('raw client "{name}" next receives stream "unsubscribed" for plan "{plan_id}"')
def step_unsubscribed(context: Any, name: str, plan_id: str) -> None:
    frame = next_frame(context, name)
    assert frame == {
        "type": "unsubscribed",
        "id": tap_requests(named_tap(context, name))[plan_id],
        "plan_id": plan_id,
    }, frame


# --- receiving events ------------------------------------------------------------------


@then(
    'raw client "{name}" receives the stream events of plan "{plan_id}" from seq {first:d} to {last:d}'
)
def step_events(context: Any, name: str, plan_id: str, first: int, last: int) -> None:
    events = run(context, named_tap(context, name).plan_events(plan_id, last))
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
    got = run(context, _read_ranges(named_tap(context, name), wanted))
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
    events = _all_events(named_tap(context, name))
    assert events
    for event in events:
        parse_utc(event["ts"])
        assert event["kind"] == "log", event
        assert event["data"] == log_data(event["seq"] - 1), event


@then('raw client "{name}" received no stream event of plan "{plan_id}"')
def step_no_event(context: Any, name: str, plan_id: str) -> None:
    tap = named_tap(context, name)
    leaked = [e for e in _all_events(tap) if e["plan_id"] == plan_id]
    assert not leaked, leaked[:3]


@then(
    'raw client "{name}" received stream batch frames, none larger than {limit:d} bytes and none with more than {most:d} events'
)
def step_batches(context: Any, name: str, limit: int, most: int) -> None:
    sizes = named_tap(context, name).frame_sizes
    batches = [(size, count) for kind, size, count in sizes if kind == "batch"]
    assert batches, sizes
    assert max(size for _, size, _ in sizes) <= limit, sorted(sizes, key=lambda s: -s[1])[:3]
    assert max(count for _, count in batches) <= most, batches
    assert min(count for _, count in batches) >= 1, batches
    # The limits bind: some batch is full by count or close to the byte limit.
    assert any(count == most or size > limit // 2 for size, count in batches), batches


@then('raw client "{name}" received no stream batch frame')
def step_no_batch(context: Any, name: str) -> None:
    sizes = named_tap(context, name).frame_sizes
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
    tap = named_tap(context, name)
    tap.connection.transport.abort()

    async def wait_gone() -> None:
        # The server notices the drop and forgets the connection.
        for _ in range(1000):
            if len(context.server.state.connections) < len(taps(context)):
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the server did not notice the dropped connection")

    run(context, wait_gone(), timeout=10)


@then("the reference server has {count:d} stream subscription")
@then("the reference server has {count:d} stream subscriptions")
def step_subscriptions(context: Any, count: int) -> None:
    assert context.server.state.metrics.subscriptions == count, context.server.state.metrics


@then(
    "the reference server has {connections:d} stream connections and {subscriptions:d} stream subscriptions"
)
def step_connections(context: Any, connections: int, subscriptions: int) -> None:
    state = context.server.state
    assert len(state.connections) == connections, state.connections
    assert state.metrics.connections == connections, state.metrics
    assert state.metrics.subscriptions == subscriptions, state.metrics


@then('raw client "{name}" is closed by the server with code {code:d}')
def step_closed(context: Any, name: str, code: int) -> None:
    got = run(context, named_tap(context, name).read_until_closed())
    assert got == code, got


@when(
    'raw client "{name}" subscribes to plan "{plan_id}" from the start of the stream, then at once '
    "again after event {seq:d} of the stream"
)
def step_subscribe_twice_at_once(context: Any, name: str, plan_id: str, seq: int) -> None:
    tap = named_tap(context, name)

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
    tap = named_tap(context, name)

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
    tap = named_tap(context, name)
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
    tap = named_tap(context, name)
    first_id, second_id = context.stream_pipelined_ids
    run(context, _prefix_then(tap, plan_id, first_id, "unsubscribed", second_id))

    async def ping() -> None:
        request_id = await tap.request({"type": "ping"})
        frame = await tap.next_item()
        assert frame == {"type": "pong", "id": request_id, "ts": frame.get("ts")}, frame

    run(context, ping())
    assert context.server.state.metrics.subscriptions == 0, context.server.state.metrics
