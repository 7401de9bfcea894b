"""Steps of client_transport.feature: the client WebSocket transport against
the real reference server on 127.0.0.1.

Every step text contains "transport" so it never collides with the server
features' steps. ``context.transport_session`` is the open
:class:`WebSocketSession`; ``context.transport_failure`` the last
:class:`TransportFailedError` raised by an attempt, a ``recv`` or a ``send``.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from behave import then, when
from support.servers import free_port, on_cleanup, run

from planstream.close_codes import VerdictKind
from planstream.transport.websocket import TransportFailedError, WebSocketSession, open_websocket

#: How long a step waits for one frame or one failure.
_WAIT = 10.0


def _connect(
    context: Any,
    url: str,
    *,
    token: str | None = None,
    has_token_provider: bool = False,
    compression: bool = False,
) -> None:
    """Run ``open_websocket``; keep the session or the failure, and the time it took."""
    context.transport_session = None
    context.transport_failure = None
    started = time.monotonic()
    try:
        session = run(
            context,
            open_websocket(
                url,
                token=token,
                has_token_provider=has_token_provider,
                max_frame_bytes=1_048_576,
                ping_interval=None,
                ping_timeout=None,
                open_timeout=5.0,
                compression=compression,
            ),
        )
    except TransportFailedError as exc:
        context.transport_failure = exc
    else:
        context.transport_session = session
        on_cleanup(context, session.close)
    context.transport_elapsed = time.monotonic() - started


def _session(context: Any) -> WebSocketSession:
    session = getattr(context, "transport_session", None)
    if session is None:
        failure = getattr(context, "transport_failure", None)
        raise AssertionError(f"the transport is not connected (failure: {failure!r})")
    assert isinstance(session, WebSocketSession), session
    return session


def _failure(context: Any) -> TransportFailedError:
    failure = getattr(context, "transport_failure", None)
    if failure is None:
        raise AssertionError(
            f"no transport failure was raised (session: {context.transport_session!r})"
        )
    assert isinstance(failure, TransportFailedError), failure
    return failure


def _assert_verdict(failure: TransportFailedError, kind: str, error: str) -> None:
    verdict = failure.verdict
    assert verdict.kind == VerdictKind(kind), (verdict.kind, verdict.error)
    assert type(verdict.error).__name__ == error, (type(verdict.error).__name__, verdict.error)
    # The exception raised carries the verdict error's message.
    assert str(failure) == str(verdict.error), (str(failure), str(verdict.error))


async def _next_json(session: WebSocketSession) -> dict[str, Any]:
    raw = await asyncio.wait_for(session.recv(), _WAIT)
    frame = json.loads(raw)
    assert isinstance(frame, dict), frame
    return frame


# --- servers -------------------------------------------------------------------------


# --- connecting ----------------------------------------------------------------------


@when("the client transport connects to the reference server")
def step_transport_connect(context: Any) -> None:
    _connect(context, context.server.url)


@when("the client transport connects to the reference server with compression")
def step_transport_connect_compressed(context: Any) -> None:
    _connect(context, context.server.url, compression=True)


@when(
    'the client transport connects to the reference server with the token "{token}" and {provider}'
)
def step_transport_connect_token(context: Any, token: str, provider: str) -> None:
    assert provider in {"a token provider", "no token provider"}, provider
    has_provider = provider == "a token provider"
    _connect(context, context.server.url, token=token, has_token_provider=has_provider)


@when("the client transport connects to the reference server with no token and {provider}")
def step_transport_connect_no_token(context: Any, provider: str) -> None:
    assert provider in {"a token provider", "no token provider"}, provider
    has_provider = provider == "a token provider"
    _connect(context, context.server.url, token=None, has_token_provider=has_provider)


@when("the client transport connects to a free port where nothing listens")
def step_transport_connect_nothing(context: Any) -> None:
    _connect(context, f"ws://127.0.0.1:{free_port()}/v1/stream")


@when('the client transport connects to the URL "{url}"')
def step_transport_connect_url(context: Any, url: str) -> None:
    _connect(context, url)


@then("the transport hello names the reference server with heartbeat {seconds:g} seconds")
def step_transport_hello(context: Any, seconds: float) -> None:
    hello = _session(context).hello
    assert hello.protocol == 1, hello
    assert hello.schema_version.split(".")[0] == "1", hello
    assert hello.server.startswith("planstream-reference"), hello
    assert hello.session_id, hello
    assert hello.heartbeat_s == seconds, hello
    assert hello.max_frame_bytes == context.server.settings.max_frame_bytes, hello
    assert hello.session_id in repr(_session(context)), repr(_session(context))


@then('the transport attempt fails with verdict "{kind}" and error "{error}"')
def step_transport_attempt_fails(context: Any, kind: str, error: str) -> None:
    assert context.transport_session is None, context.transport_session
    _assert_verdict(_failure(context), kind, error)


@then("the transport attempt failed within {seconds:g} seconds")
def step_transport_attempt_quick(context: Any, seconds: float) -> None:
    assert context.transport_elapsed < seconds, context.transport_elapsed


@then('the transport failure mentions "{text}"')
def step_transport_failure_mentions(context: Any, text: str) -> None:
    failure = _failure(context)
    assert text in str(failure), str(failure)


@then('the transport failure never mentions the token "{token}"')
def step_transport_no_token_leak(context: Any, token: str) -> None:
    failure = _failure(context)
    texts = [str(failure), repr(failure), repr(failure.verdict)]
    cause: BaseException | None = failure.verdict.error
    while cause is not None:
        texts += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    if context.transport_session is not None:
        texts.append(repr(context.transport_session))
    leaks = [text for text in texts if token in text]
    assert not leaks, leaks


# --- moving frames -------------------------------------------------------------------


@when('the transport sends a raw subscribe to plan "{plan_id}" from the start')
def step_transport_subscribe(context: Any, plan_id: str) -> None:
    frame = {"type": "subscribe", "id": "transport-1", "plan_id": plan_id, "last_event_id": None}
    run(context, _session(context).send(json.dumps(frame)))


@then('the transport receives "subscribed" for plan "{plan_id}"')
def step_transport_subscribed(context: Any, plan_id: str) -> None:
    async def until_subscribed() -> dict[str, Any]:
        while True:
            frame = await _next_json(_session(context))
            if frame["type"] != "heartbeat":
                return frame

    frame = run(context, until_subscribed())
    assert frame == {
        "type": "subscribed",
        "id": "transport-1",
        "plan_id": plan_id,
        "head": None,
    }, frame


@then('the transport receives the {count:d} published events of plan "{plan_id}" in order')
def step_transport_events(context: Any, count: int, plan_id: str) -> None:
    async def collect() -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        while len(events) < count:
            frame = await _next_json(_session(context))
            if frame["type"] == "event":
                events.append(frame)
            elif frame["type"] == "batch":
                events.extend(frame["events"])
            else:
                assert frame["type"] == "heartbeat", frame
        return events

    events = run(context, collect())
    assert [e["plan_id"] for e in events] == [plan_id] * count, events
    assert [(e["seq"], e["event_id"]) for e in events] == context.published[plan_id], events
    assert [e["data"]["message"] for e in events] == [f"line {n}" for n in range(count)]


@when("the reference server stops while the transport waits to receive")
def step_transport_server_stops(context: Any) -> None:
    session = _session(context)

    async def recv_during_stop() -> None:
        receiving = asyncio.ensure_future(session.recv())
        await asyncio.sleep(0.05)
        assert not receiving.done(), receiving
        await context.server.stop()
        try:
            raw = await asyncio.wait_for(receiving, _WAIT)
        except TransportFailedError as exc:
            context.transport_failure = exc
        else:
            raise AssertionError(f"recv returned {raw!r} after the server stopped")

    context.transport_failure = None
    run(context, recv_during_stop())


@when("the transport sends {count:d} frames that are not JSON")
def step_transport_bad_frames(context: Any, count: int) -> None:
    async def send_all() -> None:
        for number in range(count):
            await _session(context).send(f"transport garbage {number}")

    run(context, send_all())


def _recv_until_failure(context: Any) -> None:
    context.transport_failure = None
    context.transport_received = []

    async def receive() -> None:
        while True:
            try:
                raw = await asyncio.wait_for(_session(context).recv(), _WAIT)
            except TransportFailedError as exc:
                context.transport_failure = exc
                return
            context.transport_received.append(json.loads(raw))

    run(context, receive())


@then('transport recv fails with verdict "{kind}" and error "{error}"')
def step_transport_recv_fails(context: Any, kind: str, error: str) -> None:
    if getattr(context, "transport_failure", None) is None:
        _recv_until_failure(context)
    _assert_verdict(_failure(context), kind, error)


@then('the transport received {count:d} "{code}" error frames before failing')
def step_transport_error_frames(context: Any, count: int, code: str) -> None:
    errors = [f for f in context.transport_received if f["type"] == "error"]
    assert len(errors) == count, context.transport_received
    assert {f["code"] for f in errors} == {code}, errors


@when("the transport session is closed twice")
def step_transport_close_twice(context: Any) -> None:
    session = _session(context)
    run(context, session.close())
    run(context, session.close())  # must not raise
    context.transport_failure = None


@then('sending through the transport fails with verdict "{kind}" and error "{error}"')
def step_transport_send_fails(context: Any, kind: str, error: str) -> None:
    try:
        run(context, _session(context).send('{"type": "ping", "id": "transport-ping"}'))
    except TransportFailedError as exc:
        _assert_verdict(exc, kind, error)
    else:
        raise AssertionError("send succeeded on a closed transport")
