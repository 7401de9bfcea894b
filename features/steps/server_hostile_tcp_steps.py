"""Steps of server_hostile_ws.feature on TCP connections: item 3 of issue 10.

Half-open peers are raw asyncio streams; the open-file limit scenario runs
``python -m planstream.server`` with a low ``RLIMIT_NOFILE`` set in the child.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
from behave import given, then, use_step_matcher, when
from support.server_stream_support import open_tap, taps
from support.servers import free_port, on_cleanup, run
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

use_step_matcher("parse")

_HALF_UPGRADE = b"GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"


def _port(context: Any) -> int:
    port: int = context.server.port
    return port


async def _open_peer(context: Any, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def close() -> None:
        writer.close()

    on_cleanup(context, close)
    return reader, writer


@when("a TCP peer sends half a WebSocket upgrade and another sends nothing")
def step_half_open(context: Any) -> None:
    async def open_peers() -> list[asyncio.StreamReader]:
        half_reader, half_writer = await _open_peer(context, _port(context))
        half_writer.write(_HALF_UPGRADE)
        await half_writer.drain()
        silent_reader, _ = await _open_peer(context, _port(context))
        return [half_reader, silent_reader]

    context.tcp_peers = run(context, open_peers())


@when("a third TCP peer connects and leaves at once")
def step_peer_leaves(context: Any) -> None:
    async def visit() -> None:
        _reader, writer = await asyncio.open_connection("127.0.0.1", _port(context))
        writer.close()
        await writer.wait_closed()

    run(context, visit())


@then("both TCP peers are closed by the server within {seconds:d} seconds")
def step_peers_closed(context: Any, seconds: int) -> None:
    async def wait_closed() -> list[bytes]:
        async with asyncio.timeout(seconds):
            return [await reader.read() for reader in context.tcp_peers]

    answers = run(context, wait_closed())
    assert answers == [b"", b""], answers  # closed, not answered


@then("the reference server counted {count:d} handshake timeouts")
def step_handshake_timeouts(context: Any, count: int) -> None:
    metrics = context.server.state.metrics
    assert metrics.handshake_timeouts == count, metrics


# --- max_connections -----------------------------------------------------------------


@given("{count:d} raw clients connect to the stream")
def step_many_clients(context: Any, count: int) -> None:
    for number in range(count):
        run(context, open_tap(context, f"held-{number}"))


@when("{count:d} more raw clients try to open the stream")
def step_try_open(context: Any, count: int) -> None:
    async def attempt() -> list[Any]:
        refusals = []
        for _ in range(count):
            try:
                connection = await connect(
                    context.server.url, subprotocols=["planstream.v1"], open_timeout=10
                )
            except InvalidStatus as refused:
                refusals.append(refused.response)
            else:
                await connection.close()
                refusals.append(None)
        return refusals

    context.tcp_refusals = run(context, attempt())


def _assert_unavailable(status: int, headers: Any, body: bytes) -> None:
    assert status == 503, (status, body)
    assert float(headers["Retry-After"]) >= 1, headers
    assert headers["Content-Type"].startswith("application/json"), headers
    payload = json.loads(bytes(body))
    assert payload["error"] == "unavailable", payload
    assert payload["message"], payload


@then(
    'each of them is refused with HTTP 503, a Retry-After header and the JSON error "unavailable"'
)
def step_refused_503(context: Any) -> None:
    assert all(response is not None for response in context.tcp_refusals), context.tcp_refusals
    for response in context.tcp_refusals:
        _assert_unavailable(response.status_code, response.headers, response.body)


@then(
    'an HTTP request for plan "{plan_id}" is refused with HTTP 503, a Retry-After header and '
    'the JSON error "unavailable"'
)
def step_http_503(context: Any, plan_id: str) -> None:
    async def get() -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.get(f"{context.server.http_url}/v1/plans/{plan_id}")

    response = run(context, get())
    _assert_unavailable(response.status_code, response.headers, response.content)


@when("one of the {count:d} raw clients closes its connection")
def step_close_one(context: Any, count: int) -> None:
    state = context.server.state

    async def close() -> None:
        await taps(context)["held-0"].close()
        for _ in range(1000):  # at most 10 s for the server to notice the close frame
            if len(state.connections) < count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"the server still holds {len(state.connections)} connections")

    run(context, close())


@then("a new raw client can open the stream")
def step_new_client(context: Any) -> None:
    tap = run(context, open_tap(context, "newcomer"))
    assert tap.client.hello is not None
    assert tap.client.hello["type"] == "hello", tap.client.hello


# --- the open-file limit -----------------------------------------------------------------


@given("a reference server subprocess with an open-file limit of {limit:d} and settings")
def step_low_fd_server(context: Any, limit: int) -> None:
    port = free_port()
    env = {**os.environ, "PLANSTREAM_SERVER_PORT": str(port)}
    for row in context.table:
        env[f"PLANSTREAM_SERVER_{row['setting'].upper()}"] = row["value"]

    def lower_limit() -> None:
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))

    process = subprocess.Popen(
        [sys.executable, "-m", "planstream.server"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lower_limit,
    )
    context.fd_server = {"process": process, "port": port, "output": ""}

    async def stop() -> None:
        _terminate(context)

    on_cleanup(context, stop)
    _wait_healthy(port, 15)


def _terminate(context: Any) -> str:
    server = context.fd_server
    process: subprocess.Popen[str] = server["process"]
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None and not process.stdout.closed:
        server["output"] = process.stdout.read()
        process.stdout.close()
    return str(server["output"])


def _wait_healthy(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


@when("{count:d} TCP peers connect and send nothing")
def step_idle_peers(context: Any, count: int) -> None:
    port = context.fd_server["port"]

    async def open_peers() -> None:
        for _ in range(count):
            await _open_peer(context, port)

    run(context, open_peers())


@then("the server process answers /healthz within {seconds:d} seconds")
def step_fd_healthz(context: Any, seconds: int) -> None:
    _wait_healthy(context.fd_server["port"], seconds)


@then("the server process counted at least {count:d} refused connections")
def step_fd_refused(context: Any, count: int) -> None:
    port = context.fd_server["port"]
    status = httpx.get(f"http://127.0.0.1:{port}/v1/status", timeout=5).json()
    assert status["refused_connections"] >= count, status


@then("the server process output warns that max_connections does not fit under the open-file limit")
def step_fd_warning(context: Any) -> None:
    output = _terminate(context)
    assert "does not fit under the open-file limit" in output, output[-3000:]


@then("the server process output has no traceback and at most {count:d} lines")
def step_fd_output(context: Any, count: int) -> None:
    output = _terminate(context)
    assert "Traceback" not in output, output[-3000:]
    assert "Too many open files" not in output, output[-3000:]
    assert len(output.splitlines()) <= count, output[-3000:]


@when("{count:d} TCP peers each send a request line that is not HTTP")
def step_garbage_requests(context: Any, count: int) -> None:
    async def send_all() -> list[bytes]:
        answers = []
        for _ in range(count):
            reader, writer = await _open_peer(context, _port(context))
            writer.write(b"\x16\x03\x01 NOT HTTP AT ALL\r\n\r\n")
            await writer.drain()
            answers.append(await asyncio.wait_for(reader.read(), 10))
        return answers

    context.garbage_answers = run(context, send_all())


@then("each gets a 400 whose body is the JSON error bad_request")
def step_garbage_answers(context: Any) -> None:
    for answer in context.garbage_answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 "), answer[:200]
        assert b"content-type: application/json" in head.lower(), head
        assert json.loads(body)["error"] == "bad_request", body
