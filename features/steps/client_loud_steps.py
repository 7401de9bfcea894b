"""Steps of client_loud.feature on real sockets: clients aimed at closed ports,
silent and 404 servers, the reference server (plain or mounted under a prefix),
and the CLI's stderr story."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from typing import Any

import httpx
from behave import given, then, when
from support.cli_support import plan_events, run_cli
from support.loud_servers import MountedServer, NotFoundServer, SilentServer
from support.servers import free_port, on_cleanup, run, start_reference_server

from planstream import (
    ClientSettings,
    ConnectTimeoutError,
    EndpointNotFoundError,
    ForbiddenError,
    PlanStreamClient,
    PlanStreamError,
    StateChange,
)

_PUBLISHER = "loud-writer"
_READER = "loud-reader"

# --- servers --------------------------------------------------------------------------------


@given('a reference server with a plan "{plan_id}" of {count:d} events')
def given_server_with_plan(context: Any, plan_id: str, count: int) -> None:
    server = start_reference_server(context)

    async def publish() -> None:
        for number in range(count):
            await server.publish(
                plan_id,
                "log",
                {"level": "info", "message": f"m{number}", "step_id": None, "stream": "stdout"},
            )

    run(context, publish())


@given('the reference server mounted under "{prefix}" in a host app served by uvicorn')
def given_mounted(context: Any, prefix: str) -> None:
    mounted = MountedServer(prefix, tokens=[_READER], publish_tokens=[_PUBLISHER])
    run(context, mounted.start())
    on_cleanup(context, mounted.stop)
    context.mounted = mounted


@given(
    'plan "{plan_id}" was published through the mounted server\'s prefix: {steps:d} steps, then "{final}"'
)
def given_mounted_plan(context: Any, plan_id: str, steps: int, final: str) -> None:
    async def publish() -> None:
        body = [{"kind": kind, "data": data} for kind, data in plan_events(steps, final)]
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                f"{context.mounted.http_url}/v1/plans/{plan_id}/events",
                json=body,
                headers={"Authorization": f"Bearer {_PUBLISHER}"},
            )
        assert answer.status_code == 201, answer.text

    run(context, publish())


@given("a silent TCP server that accepts connections and never answers")
def given_silent(context: Any) -> None:
    context.loud_server = SilentServer()
    run(context, context.loud_server.start())
    on_cleanup(context, context.loud_server.stop)


@given("a plain HTTP server answering 404 to every request")
def given_not_found(context: Any) -> None:
    context.loud_server = NotFoundServer()
    run(context, context.loud_server.start())
    on_cleanup(context, context.loud_server.stop)


# --- clients ---------------------------------------------------------------------------------


def _client(context: Any, url: str, **settings: Any) -> None:
    values: dict[str, Any] = {"url": url, "reconnect": {"initial_delay": 0.05, "max_delay": 0.3}}
    values.update(settings)
    context.loud_changes = []
    context.loud_client = PlanStreamClient(
        settings=ClientSettings(**values), on_state_change=context.loud_changes.append
    )


@given("a loud client with connect_timeout {seconds:g} aimed at a closed port")
def given_client_closed_port(context: Any, seconds: float) -> None:
    _client(context, f"ws://127.0.0.1:{free_port()}", connect_timeout=seconds)


@given("a loud client with max_attempts {attempts:d} and no connect_timeout aimed at a closed port")
def given_client_max_attempts(context: Any, attempts: int) -> None:
    reconnect = {"initial_delay": 0.05, "max_delay": 0.3, "max_attempts": attempts}
    _client(context, f"ws://127.0.0.1:{free_port()}", connect_timeout=0, reconnect=reconnect)


@given(
    "a loud client with connect_timeout {seconds:g} and open_timeout {open_s:g} "
    "aimed at the silent server"
)
def given_client_silent(context: Any, seconds: float, open_s: float) -> None:
    url = f"ws://127.0.0.1:{context.loud_server.port}"
    _client(context, url, connect_timeout=seconds, open_timeout=open_s)


@given(
    'a loud client with connect_timeout {seconds:g} in transport "{transport}" '
    'aimed at the 404 server under "{prefix}"'
)
def given_client_404(context: Any, seconds: float, transport: str, prefix: str) -> None:
    url = f"http://127.0.0.1:{context.loud_server.port}{prefix}"
    polling = {"fallback_after": 2, "wait": 0.2}
    _client(context, url, connect_timeout=seconds, transport=transport, polling=polling)


@when(
    'a loud client in transport "{transport}" with connect_timeout {seconds:g} '
    'aims at the reference server under "{prefix}"'
)
def when_client_prefix(context: Any, transport: str, seconds: float, prefix: str) -> None:
    url = context.server.http_url + prefix
    _client(context, url, connect_timeout=seconds, transport=transport)


@given("a loud client with connect_timeout {seconds:g} aimed at the reference server")
def given_client_reference(context: Any, seconds: float) -> None:
    _client(context, context.server.url, connect_timeout=seconds)


@given(
    'a loud client with connect_timeout {seconds:g} in transport "{transport}" '
    "aimed at the reference server"
)
def given_client_reference_transport(context: Any, seconds: float, transport: str) -> None:
    polling = {"wait": 0.2}
    _client(
        context, context.server.url, connect_timeout=seconds, transport=transport, polling=polling
    )


async def _stream(context: Any, plan_id: str, seconds: float) -> None:
    """Subscribe, collect until the subscription ends or ``seconds`` pass; then
    ask wait_open() too, and keep the client open for later steps."""
    client: PlanStreamClient = context.loud_client
    context.loud_items = []
    context.loud_error = None
    context.loud_wait_error = None
    await client.__aenter__()
    on_cleanup(context, client.aclose)
    started = time.monotonic()
    try:
        async with client.subscribe(plan_id) as stream:
            async for item in stream:
                context.loud_items.append(item)
                if time.monotonic() - started > seconds:
                    break
    except PlanStreamError as exc:
        context.loud_error = exc
    context.loud_seconds = time.monotonic() - started
    if context.loud_error is not None:
        try:
            await client.wait_open()
        except PlanStreamError as exc:
            context.loud_wait_error = exc


@when('the loud client subscribes to plan "{plan_id}" and waits at most {seconds:g} seconds')
def when_subscribe(context: Any, plan_id: str, seconds: float) -> None:
    # A stream that ends by itself (a terminal status or an error) ends the wait;
    # one that does not is bounded by the step.
    async def bounded() -> None:
        try:
            async with asyncio.timeout(seconds):
                await _stream(context, plan_id, seconds)
        except TimeoutError:
            context.loud_seconds = seconds

    run(context, bounded(), timeout=seconds + 30)


@when('a loud client built with the server\'s http:// base streams plan "{plan_id}"')
def when_client_http_streams(context: Any, plan_id: str) -> None:
    _client(context, context.server.http_url, connect_timeout=10.0)
    when_subscribe(context, plan_id, 2.0)


@when(
    'a loud client in transport "{transport}" built with the mounted URL streams plan "{plan_id}"'
)
def when_client_mounted_streams(context: Any, transport: str, plan_id: str) -> None:
    url = context.mounted.http_url
    _client(
        context,
        url,
        token=_READER,
        connect_timeout=10.0,
        transport=transport,
        polling={"wait": 0.2},
    )
    when_subscribe(context, plan_id, 10.0)


# --- what happened ------------------------------------------------------------------------------


@then('the loud client received seq 1 to {last:d} of plan "{plan_id}"')
def then_received(context: Any, last: int, plan_id: str) -> None:
    assert context.loud_error is None, repr(context.loud_error)
    seqs = [item.seq for item in context.loud_items if item.plan_id == plan_id]
    assert seqs == list(range(1, last + 1)), seqs


@then('the loud subscription ended with ConnectTimeoutError naming the URL and "{text}"')
def then_connect_timeout(context: Any, text: str) -> None:
    error = context.loud_error
    assert isinstance(error, ConnectTimeoutError), repr(error)
    url = context.loud_client.settings.url
    assert error.urls == (url,), error.urls
    assert url in str(error), str(error)
    assert text in str(error), str(error)
    assert error.timeout == context.loud_client.settings.connect_timeout
    assert error.__cause__ is error.last_error


@then("the ConnectTimeoutError has no last failure")
def then_no_last_failure(context: Any) -> None:
    assert context.loud_error.last_error is None, repr(context.loud_error.last_error)
    # The attempt cut short by the deadline is not reported as a failure of its own.
    assert [c.error for c in _changes(context) if c.error is not None] == [context.loud_error]


@then("the silent server saw {count:d} connection")
def then_silent_connections(context: Any, count: int) -> None:
    assert context.loud_server.connections == count, context.loud_server.connections


@then("the loud client's wait_open() raised ConnectTimeoutError too")
def then_wait_open_failed(context: Any) -> None:
    assert context.loud_wait_error is context.loud_error, repr(context.loud_wait_error)


@then("the loud client gave up after at least {low:g} and at most {high:g} seconds")
def then_gave_up_within(context: Any, low: float, high: float) -> None:
    assert low <= context.loud_seconds <= high, context.loud_seconds


@then("the loud subscription ended with the error {error}")
def then_ended_with(context: Any, error: str) -> None:
    assert type(context.loud_error).__name__ == error, repr(context.loud_error)


def _changes(context: Any) -> list[StateChange]:
    changes: list[StateChange] = context.loud_changes
    return changes


@then('the loud client\'s state changes end with "{last}" and none is "closed -> closed"')
def then_last_change(context: Any, last: str) -> None:
    moves = [f"{c.previous.value} -> {c.state.value}" for c in _changes(context)]
    assert moves[-1] == last, moves
    assert "closed -> closed" not in moves, moves
    assert _changes(context)[-1].error is context.loud_error, moves


@then('the loud client\'s state changes reported EndpointNotFoundError for "{url}"')
def then_reported_not_found(context: Any, url: str) -> None:
    url = url.replace("{port}", str(context.loud_server.port))
    seen = [c.error for c in _changes(context) if isinstance(c.error, EndpointNotFoundError)]
    assert any(error.url == url and url in str(error) for error in seen), seen
    assert all(error.status == 404 for error in seen), seen


@then(
    "the ConnectTimeoutError's last failure is an EndpointNotFoundError with status 403, "
    "not a ForbiddenError"
)
def then_last_failure_403(context: Any) -> None:
    last = context.loud_error.last_error
    assert isinstance(last, EndpointNotFoundError), repr(last)
    assert last.status == 403, repr(last)
    assert not isinstance(last, ForbiddenError)
    assert "/wrong/v1/stream" in last.url, last.url


@then('the loud client is still "{state}" after {seconds:g} seconds')
def then_still(context: Any, state: str, seconds: float) -> None:
    run(context, asyncio.sleep(seconds))
    client: PlanStreamClient = context.loud_client
    assert client.state.value == state, (client.state, _changes(context))
    assert all(not isinstance(c.error, ConnectTimeoutError) for c in _changes(context))


# --- the CLI ---------------------------------------------------------------------------------------


@when('the planstream command runs "{arguments}" against the mounted server')
def when_cli_mounted(context: Any, arguments: str) -> None:
    filled = arguments.replace("{mount_url}", context.mounted.http_url)
    context.cli = run_cli(context, *filled.split(), "--token", _READER)


@then("the planstream command's stdout is empty")
def then_stdout_empty(context: Any) -> None:
    assert context.cli.stdout == "", str(context.cli)


@then("the planstream command's stderr starts with these lines:")
def then_stderr_starts(context: Any) -> None:
    lines = context.cli.stderr.splitlines()
    for number, row in enumerate(context.table):
        assert lines[number].startswith(row["line"]), str(context.cli)


@then(
    'every "{state}" line on the planstream command\'s stderr says "{text}" with at most 3 decimals'
)
def then_retry_lines(context: Any, state: str, text: str) -> None:
    lines = [line for line in context.cli.stderr.splitlines() if f"-> {state}:" in line]
    assert lines, str(context.cli)
    for line in lines:
        match = re.search(r"; retry in (\d+(?:\.(\d+))?) s$", line)
        assert text in line, line
        assert match, line
        assert len(match.group(2) or "") <= 3, line


@then('the planstream command\'s last stderr line contains "{first}" and "{second}"')
def then_last_stderr(context: Any, first: str, second: str) -> None:
    last = context.cli.stderr.splitlines()[-1]
    assert last.startswith("planstream: error: "), str(context.cli)
    assert first in last, str(context.cli)
    assert second in last, str(context.cli)


@then('the planstream command\'s stdout mentions "{text}"')
def then_stdout_mentions(context: Any, text: str) -> None:
    assert text in context.cli.stdout, str(context.cli)


# --- a background watch through an outage -------------------------------------------------------


@when("the background planstream command is interrupted with SIGINT after {seconds:g} seconds")
def when_background_interrupted(context: Any, seconds: float) -> None:
    time.sleep(seconds)  # the server is another process: nothing here needs the loop
    context.cli_background_status = context.cli_background.stop(sig=signal.SIGINT)


@then("the background planstream command's stdout is {count:d} JSON line")
def then_background_json(context: Any, count: int) -> None:
    lines = context.cli_background.stdout.splitlines()
    assert len(lines) == count, lines
    assert all(json.loads(line)["type"] == "event" for line in lines), lines


@then("the background planstream command's stderr has the lines, in order:")
def then_background_stderr(context: Any) -> None:
    lines = context.cli_background.stderr.splitlines()
    position = 0
    for row in context.table:
        while position < len(lines) and not lines[position].startswith(row["line"]):
            position += 1
        assert position < len(lines), (row["line"], lines)
        position += 1


@then('every reconnecting line of the background planstream command says "{text}" and a delay')
def then_background_retry(context: Any, text: str) -> None:
    lines = [
        line for line in context.cli_background.stderr.splitlines() if "-> reconnecting" in line
    ]
    assert lines, context.cli_background.stderr
    assert all(re.search(r"; retry in \d+(\.\d{1,3})? s$", line) for line in lines), lines
    assert all(text in line for line in lines), lines
