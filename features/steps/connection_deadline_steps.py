"""Steps of client_loud.feature about the connect deadline of the pure
connection state machine: time is an argument, nothing sleeps."""

from __future__ import annotations

import random
from typing import Any

from behave import given, then, when

from planstream.backoff import BackoffPolicy
from planstream.close_codes import classify_http_status, classify_network_error
from planstream.connection_actions import Stop
from planstream.connection_state import ConnectionStateMachine, TransportMode
from planstream.errors import ConnectTimeoutError, InvalidStateError

_FORBIDDEN = b'{"error":"forbidden","message":"this token may not read"}'


def _machine(transport: str, connect_timeout: float | None, urls: tuple[str, ...] = ()) -> Any:
    return ConnectionStateMachine(
        policy=BackoffPolicy(initial_delay=1.0, max_delay=4.0, jitter="none"),  # type: ignore[arg-type]
        rng=random.Random(0),
        reset_after=30.0,
        transport=TransportMode(transport),
        has_token_provider=False,
        fallback_after=2,
        connect_timeout=connect_timeout,
        urls=urls,
    )


@given(
    'a deadline machine over transport "{transport}" with connect_timeout {seconds:g} for "{url}"'
)
def given_machine(context: Any, transport: str, seconds: float, url: str) -> None:
    context.dm = _machine(transport, seconds, (url,))
    context.dm_url = url


@given('a deadline machine over transport "{transport}" with no connect_timeout')
def given_machine_no_timeout(context: Any, transport: str) -> None:
    context.dm = _machine(transport, None)


@when("the deadline machine starts at {at:g} and {then}")
def when_start(context: Any, at: float, then: str) -> None:
    machine: ConnectionStateMachine = context.dm
    machine.start(at)
    url = getattr(context, "dm_url", "ws://a:1/v1/stream")
    if then == "nothing else happens":
        return
    if then.startswith("its first attempt is refused at "):
        moment = float(then.rsplit(" ", 1)[1])
        machine.failed(classify_network_error(ConnectionRefusedError("refused")), moment)
    elif then == "two upgrades are refused with 404":
        for moment in (at + 1, at + 2):
            verdict = classify_http_status(404, body=b"", has_token_provider=False, url=url)
            machine.failed(verdict, moment)
        assert machine.state.value == "polling", machine.state
    elif then.startswith("its first attempt is refused with 403 at "):
        moment = float(then.rsplit(" ", 1)[1])
        verdict = classify_http_status(403, body=_FORBIDDEN, has_token_provider=False, url=url)
        assert isinstance(machine.failed(verdict, moment), Stop)
    else:
        assert then.startswith("a poll is answered at "), then
        machine.connected(float(then.rsplit(" ", 1)[1]), websocket=False)


@when("the deadline machine connects at {at:g}")
def when_connects(context: Any, at: float) -> None:
    context.dm.connected(at)


@when("the deadline machine's connection fails at {at:g}")
def when_connection_fails(context: Any, at: float) -> None:
    context.dm.failed(classify_network_error(ConnectionResetError("reset")), at)


@when("the deadline machine is closed")
def when_closed(context: Any) -> None:
    context.dm.close()


@then("the deadline machine's deadline is {at:g}")
def then_deadline(context: Any, at: float) -> None:
    assert context.dm.deadline == at, context.dm.deadline


@then("the deadline machine has no deadline")
def then_no_deadline(context: Any) -> None:
    assert context.dm.deadline is None, context.dm.deadline


@then(
    'the deadline machine times out at {at:g} with ConnectTimeoutError naming "{url}" and "{last}"'
)
def then_times_out(context: Any, at: float, url: str, last: str) -> None:
    action = context.dm.timed_out(at)
    assert isinstance(action, Stop), action
    error = action.error
    assert isinstance(error, ConnectTimeoutError), repr(error)
    assert error.urls == (url,), error.urls
    assert error.timeout == context.dm.connect_timeout
    assert url in str(error), str(error)
    assert last in str(error), str(error)


@then('the deadline machine is "{state}" with no deadline')
def then_state_no_deadline(context: Any, state: str) -> None:
    assert context.dm.state.value == state, context.dm.state
    assert context.dm.deadline is None


@then("the deadline machine refuses timed_out at {at:g} {why}")
def then_refuses(context: Any, at: float, why: str) -> None:
    state = context.dm.state
    refusal: InvalidStateError | None = None
    try:
        context.dm.timed_out(at)
    except InvalidStateError as exc:
        refusal = exc
    assert refusal is not None, why
    assert context.dm.state is state  # a refused input changes nothing


@then('a deadline machine with connect_timeout {seconds:g} is refused with "{text}"')
def then_machine_refused(context: Any, seconds: float, text: str) -> None:
    refusal: ValueError | None = None
    try:
        _machine("websocket", seconds)
    except ValueError as exc:
        refusal = exc
    assert refusal is not None
    assert text in str(refusal), str(refusal)


# --- refusals classified with the URL tried ---------------------------------------------------

_BODIES = {
    "empty": b"",
    "a JSON not_found": b'{"error":"not_found","message":"Not Found"}',
    "a proxy's JSON": b'{"error":"edge","message":"edge proxy"}',
    "planstream's forbidden": _FORBIDDEN,
}


@when('an upgrade refusal with HTTP {status:d} and body "{body}" at "{url}" is classified')
def when_refusal_at(context: Any, status: int, body: str, url: str) -> None:
    context.cm_status = status
    context.cm_verdict = classify_http_status(
        status, body=_BODIES[body], has_token_provider=True, url=url
    )


@then('the connection machine verdict\'s error message never shows "{secret}"')
def then_never_shows(context: Any, secret: str) -> None:
    error = context.cm_verdict.error
    assert secret not in str(error), str(error)
    assert secret not in getattr(error, "url", ""), error
