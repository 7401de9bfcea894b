"""Steps of the stream endpoint features about the handshake: raw clients
connecting, the hello, refused handshakes, and servers whose token verifier or
event log is special."""

from __future__ import annotations

import json
from typing import Any

from behave import given, then, when
from support.server_stream_support import (
    SuspendingLog,
    named_tap,
    open_tap,
    stream_url,
)
from support.servers import run, start_reference_server
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from planstream import __version__
from planstream.server import PlanScope, Principal

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
    assert named_tap(context, name).connection.subprotocol == protocol


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
    hello = named_tap(context, name).client.hello
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
    a = named_tap(context, first).client.hello
    b = named_tap(context, second).client.hello
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
            return Principal("watcher", read=PlanScope.nothing())
        return None


@given('a reference server whose token verifier accepts "{token}" as a principal that may not read')
def step_no_read_server(context: Any, token: str) -> None:
    start_reference_server(context, verifier=_NoReadVerifier(token))


@given("a reference server whose event log answers like a networked one, with settings")
@given("a reference server whose event log answers like a networked one")
def step_suspending_server(context: Any) -> None:
    settings: dict[str, Any] = {"port": 0}
    for row in context.table or []:
        settings[row["setting"]] = int(row["value"])
    start_reference_server(
        context, log=SuspendingLog(settings.get("retention", 10_000)), **settings
    )


@then("the reference server counted {count:d} auth failure")
@then("the reference server counted {count:d} auth failures")
def step_auth_failures(context: Any, count: int) -> None:
    assert context.server.state.metrics.auth_failures == count


@when("the reference server closes every stream connection")
def step_close_all(context: Any) -> None:
    run(context, context.server.state.close_connections())
