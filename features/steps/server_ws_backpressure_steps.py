"""Steps of server_limits.feature about slow, stalled and vanishing clients: the
server's bounded per-connection queues and what it does when a client stops
reading or disappears."""

from __future__ import annotations

import asyncio
import json
import socket
import tracemalloc
from typing import Any
from urllib.parse import urlsplit

from behave import given, then, when
from support.server_stream_support import named_tap, open_tap, stream_url
from support.servers import run

from planstream.server import PublishError

# --- slow consumer --------------------------------------------------------------------------------


def _kilobyte_log(number: int) -> dict[str, Any]:
    message = f"{number:08d} " + "z" * 1000
    return {"level": "info", "message": message, "step_id": None, "stream": "stdout"}


@when(
    'raw client "{slow}" stops reading while {count:d} events of 1 kB are published to plan '
    '"{plan_id}" and raw client "{fast}" keeps reading'
)
def step_flood_slow(context: Any, slow: str, count: int, plan_id: str, fast: str) -> None:
    fast_tap = named_tap(context, fast)
    server = context.server

    async def flood() -> None:
        state = {"seq": 0, "bad": None}
        progressed = asyncio.Event()

        async def read_fast() -> None:
            # Keeps only the last seq: the test process must not hold the events.
            while state["seq"] < count:
                raw = await fast_tap.connection.recv()
                frame = json.loads(raw)
                events = frame["events"] if frame["type"] == "batch" else [frame]
                for event in events:
                    if event.get("type") != "event":
                        continue
                    if event["plan_id"] != plan_id or event["seq"] != state["seq"] + 1:
                        state["bad"] = state["bad"] or event["seq"]
                    state["seq"] = event["seq"]
                progressed.set()

        reader = asyncio.create_task(read_fast())
        tracemalloc.start()
        try:
            start, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for number in range(count):
                await server.publish(plan_id, "log", _kilobyte_log(number))
                # Pace the publisher on the reading client only: it must never
                # fall behind the retention window, the stalled one will.
                while number + 1 - state["seq"] > 100:
                    progressed.clear()
                    await progressed.wait()
                if number % 10 == 0:
                    await asyncio.sleep(0)
            await asyncio.wait_for(reader, 30)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            reader.cancel()
        context.flood_memory = (start, peak)
        context.flood_fast = state

    run(context, flood(), timeout=120)


@then('raw client "{name}" received every stream event of plan "{plan_id}" from seq 1 to {last:d}')
def step_fast_got_all(context: Any, name: str, plan_id: str, last: int) -> None:
    state = context.flood_fast
    assert state["bad"] is None, f"out of order or foreign event at seq {state['bad']}"
    assert state["seq"] == last, state


@then(
    "the traced memory of the test process (server included) peaked less than {limit:d} MB above "
    "its start while the events were published"
)
def step_memory(context: Any, limit: int) -> None:
    start, peak = context.flood_memory
    grown = (peak - start) / 1e6
    print(f"traced memory: start {start / 1e6:.1f} MB, peak {peak / 1e6:.1f} MB, +{grown:.1f} MB")
    assert grown < limit, f"grew by {grown:.1f} MB"


@then("the reference server counted {count:d} slow consumer close")
@then("the reference server counted {count:d} slow consumer closes")
def step_slow_closes(context: Any, count: int) -> None:
    assert context.server.state.metrics.slow_consumer_closes == count, context.server.state.metrics


@when('raw client "{name}" resumes reading')
def step_resume(context: Any, name: str) -> None:
    context.stream_slow_code = run(
        context, named_tap(context, name).read_until_closed(timeout=60), 90
    )


@then(
    'raw client "{name}" is closed by the server with code {code:d} after a gap-free prefix of '
    'plan "{plan_id}"'
)
def step_slow_closed(context: Any, name: str, code: int, plan_id: str) -> None:
    tap = named_tap(context, name)
    assert context.stream_slow_code == code, context.stream_slow_code
    seqs = []
    for frame in tap.frames:
        events = frame["events"] if frame["type"] == "batch" else [frame]
        seqs.extend(e["seq"] for e in events if e.get("type") == "event")
    assert seqs == list(range(1, len(seqs) + 1)), (seqs[:3], seqs[-3:])
    assert 0 < len(seqs) < context.server.state.metrics.events_published, len(seqs)


@when(
    'raw client "{name}" sends {subscribes:d} stream subscribes and {pings:d} stream pings at once, '
    "without reading"
)
def step_pipeline(context: Any, name: str, subscribes: int, pings: int) -> None:
    tap = named_tap(context, name)

    async def send() -> list[tuple[str, str]]:
        # Without awaiting anything but the sends: they reach the server together.
        sent = []
        for number in range(max(subscribes, pings)):
            if number < subscribes:
                frame = {"type": "subscribe", "plan_id": f"pipe-{number}", "last_event_id": None}
                sent.append(("subscribed", await tap.request(frame)))
            if number < pings:
                sent.append(("pong", await tap.request({"type": "ping"})))
        return sent

    context.stream_pipelined = run(context, send())


@then('raw client "{name}" receives the {count:d} stream answers in request order')
def step_pipeline_answers(context: Any, name: str, count: int) -> None:
    tap = named_tap(context, name)
    sent = context.stream_pipelined
    assert len(sent) == count

    async def receive() -> list[tuple[str, str]]:
        return [
            (frame["type"], frame["id"]) for frame in [await tap.next_item() for _ in range(count)]
        ]

    assert run(context, receive()) == sent


# --- stalled and vanishing clients ---------------------------------------------------------------


@given('raw client "{name}" connects to the stream with a tiny receive buffer')
def step_connect_tiny(context: Any, name: str) -> None:
    async def connect() -> None:
        # A small kernel receive buffer and a one-message client queue: once
        # this client stops reading, the server's sends to it block quickly.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        url = urlsplit(stream_url(context))
        await asyncio.get_running_loop().sock_connect(sock, (url.hostname, url.port))
        await open_tap(context, name, sock=sock, max_queue=1)

    run(context, connect())


@given(
    'raw client "{name}" has stalled the server\'s sends with a backlog of {count:d} events of 1 kB '
    'on plan "{plan_id}"'
)
def step_stalled(context: Any, name: str, count: int, plan_id: str) -> None:
    tap = named_tap(context, name)
    server = context.server

    async def stall() -> int:
        for number in range(count):
            await server.publish(plan_id, "log", _kilobyte_log(number))
        await tap.subscribe(plan_id, None)
        # Stalled: the server sent part of the backlog and has made no progress
        # for a while (its sender waits for the socket to drain).
        last, quiet = -1, 0
        for _ in range(1000):
            await asyncio.sleep(0.01)
            sent = server.state.metrics.events_sent
            quiet = quiet + 1 if sent == last else 0
            last = sent
            if quiet >= 20 and 0 < sent < count:
                return sent
        raise AssertionError(f"the server's sends did not stall (sent {last} of {count})")

    context.stream_stalled_at = run(context, stall())


@when('raw client "{name}" sends {count:d} stream pings without reading')
def step_pings_unread(context: Any, name: str, count: int) -> None:
    tap = named_tap(context, name)

    async def send() -> None:
        for _ in range(count):
            await tap.request({"type": "ping"})

    run(context, send())

    async def wait_for_close_request() -> None:
        # The server reads the pings while its sends are blocked.
        for _ in range(500):
            if context.server.state.metrics.slow_consumer_closes:
                return
            await asyncio.sleep(0.01)

    run(context, wait_for_close_request())


@when('raw client "{name}" vanishes without a close frame')
def step_vanish(context: Any, name: str) -> None:
    named_tap(context, name).connection.transport.abort()


@then("the reference server forgets every stream connection within {seconds:g} seconds")
def step_forgets(context: Any, seconds: float) -> None:
    state = context.server.state

    async def forgotten() -> None:
        for _ in range(int(seconds * 100)):
            if not state.connections:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"still open: {state.connections}")

    run(context, forgotten())


@then("the reference server's only stream connection shows {count:d} plans")
def step_connection_repr(context: Any, count: int) -> None:
    (connection,) = context.server.state.connections
    assert repr(connection).startswith("StreamConnection(session_id="), repr(connection)
    assert repr(connection).endswith(f"plans={count})"), repr(connection)


@when('an event whose log message is {size:d} bytes is published to the stream\'s plan "{plan_id}"')
def step_publish_big(context: Any, size: int, plan_id: str) -> None:
    data = {"level": "info", "message": "y" * size, "step_id": None, "stream": "stdout"}
    try:
        stored = run(context, context.server.publish(plan_id, "log", data))
    except PublishError as exc:
        context.stream_publish_error = exc
    else:
        context.stream_publish_error = None
        context.published.setdefault(plan_id, []).append((stored.seq, stored.event.event_id))


@then("publishing it was refused with a PublishError about its size")
def step_publish_refused(context: Any) -> None:
    error = context.stream_publish_error
    assert isinstance(error, PublishError), repr(error)
    assert "larger than" in str(error), error


@then('raw client "{name}" received no frame larger than {limit:d} bytes on the stream')
def step_no_big_frame(context: Any, name: str, limit: int) -> None:
    sizes = named_tap(context, name).frame_sizes
    assert sizes, sizes
    assert max(size for _, size, _ in sizes) <= limit, sizes
