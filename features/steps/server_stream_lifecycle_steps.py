"""Steps of the stream endpoint features about the server's life: stopping the
embedded server, SIGTERM to a subprocess, starting on a busy port or twice,
and what the stream's event log retains."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from behave import given, then, when
from support.server_stream_support import (
    log_data,
)
from support.servers import on_cleanup, run, start_embedded, start_process

from planstream.server import MemoryEventLog, PlanStreamServer, ServerSettings

# --- shutdown and subprocess servers -----------------------------------------------------


@given(
    '{count:d} events were published over HTTP to the reference server process\'s plan "{plan_id}"'
)
@when(
    '{count:d} events were published over HTTP to the reference server process\'s plan "{plan_id}"'
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


@when("the reference server process receives SIGTERM")
def step_sigterm(context: Any) -> None:
    async def terminate() -> int:
        # In a thread, so the raw clients in this loop answer the close handshake.
        code: int = await asyncio.get_running_loop().run_in_executor(
            None, context.server_process.terminate
        )
        return code

    context.stream_exit_code = run(context, terminate())


@then("the reference server process exited with code {code:d}")
def step_exit_code(context: Any, code: int) -> None:
    assert context.stream_exit_code == code, (
        context.stream_exit_code,
        context.server_process.output,
    )


@when("the reference server process is started again on the same port")
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
    start_embedded(context, PlanStreamServer(ServerSettings(port=context.busy_port)))


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
