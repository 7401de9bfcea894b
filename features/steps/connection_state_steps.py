"""Steps for connection_state.feature: failure verdicts and the pure connection state machine.

Every step text says "connection machine", "close code" or "upgrade refusal",
so these steps cannot collide with other features' steps (behave's step
registry is global). Time is a plain number passed to the machine. The
machine is built lazily from ``context.cm_config`` at its first input, so
``Given`` steps can adjust the configuration first. Each input is recorded in
``context.cm_script`` so that another machine (with another seed) can be fed
the very same inputs.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from behave import given, then, use_step_matcher, when

import planstream
from planstream import (
    ConnectionLostError,
    ConnectionState,
    IncompatibleProtocolError,
    InvalidStateError,
    RetriesExhaustedError,
)
from planstream.backoff import BackoffPolicy
from planstream.close_codes import (
    Verdict,
    VerdictKind,
    classify_close,
    classify_heartbeat_timeout,
    classify_http_status,
    classify_network_error,
)
from planstream.connection_actions import (
    Connect,
    ConnectionAction,
    RefreshTokenThenConnect,
    StartPolling,
    Stop,
    StopPolling,
    Wait,
)
from planstream.connection_state import (
    CONNECTION_TRANSITIONS,
    ConnectionStateMachine,
    ConnectionTrigger,
    TransportMode,
)

use_step_matcher("parse")


def _attempts(machine: ConnectionStateMachine) -> int:
    """Failures that drew a backoff delay since the last reset: the count of the
    backoff schedule the machine owns (the machine itself does not publish it)."""
    return machine._schedule.attempt


_E = TypeVar("_E", bound=BaseException)

#: Response bodies of upgrade refusals, by the name the feature uses.
BODIES: dict[str, bytes | None] = {
    "none": None,
    "empty": b"",
    "incompatible": b'{"error":"incompatible_protocol","supported":["planstream.v2","planstream.v3"]}',
    "incompatible_unlisted": b'{"error":"incompatible_protocol"}',
    "unauthorized": b'{"error":"unauthorized","message":"missing or invalid bearer token"}',
    "forbidden": b'{"error":"forbidden","message":"this token may not read"}',
    "unavailable": b'{"error":"unavailable","message":"shutting down"}',
    "bad_request": b'{"error":"bad_request","message":"not a WebSocket request"}',
    "html": b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    "garbage": b"\xff\xfe{not json",
    "long_message": b'{"error":"forbidden","message":"' + b"x" * 5000 + b'"}',
}

#: The body a machine-level "upgrade refusal HTTP <status>" comes with.
DEFAULT_BODY = {400: "incompatible", 401: "unauthorized", 403: "forbidden", 503: "unavailable"}


def _raised(call: Callable[[], object], cls: type[_E]) -> _E:
    """The ``cls`` exception ``call`` raises (failing when it raises none)."""
    try:
        call()
    except cls as exc:
        return exc
    raise AssertionError(f"no {cls.__name__} raised")


def _yes(text: str) -> bool:
    assert text in {"yes", "no"}, text
    return text == "yes"


def _error_class(name: str) -> type[BaseException]:
    cls = getattr(planstream, name)
    assert isinstance(cls, type), name
    assert issubclass(cls, planstream.PlanStreamError), name
    return cls


# --- classification --------------------------------------------------------------------


def _keep(context: Any, verdict: Verdict) -> Verdict:
    assert isinstance(verdict, Verdict), verdict
    assert isinstance(verdict.kind, VerdictKind)
    assert isinstance(verdict.error, planstream.PlanStreamError)
    context.cm_verdict = verdict
    return verdict


@when("close code {code:d} with an empty reason is classified, with a token provider: {provider}")
def when_close_empty(context: Any, code: int, provider: str) -> None:
    _keep(context, classify_close(code, "", has_token_provider=_yes(provider)))


@when('close code {code:d} with reason "{reason}" is classified, with a token provider: {provider}')
def when_close_reason(context: Any, code: int, reason: str, provider: str) -> None:
    _keep(context, classify_close(code, reason, has_token_provider=_yes(provider)))


@when("close code {code:d} with a reason of {depth:d} nested JSON arrays is classified")
def when_close_deep(context: Any, code: int, depth: int) -> None:
    context.cm_reason = "[" * depth + "]" * depth
    _keep(context, classify_close(code, context.cm_reason, has_token_provider=False))


@when(
    'an upgrade refusal with HTTP {status:d} and body "{body}" is classified,'
    " with a token provider: {provider}"
)
def when_refusal(context: Any, status: int, body: str, provider: str) -> None:
    context.cm_status = status
    verdict = classify_http_status(status, body=BODIES[body], has_token_provider=_yes(provider))
    _keep(context, verdict)


@when(
    "an upgrade refusal with HTTP {status:d}, no body and"
    ' X-Planstream-Protocols "{header}" is classified'
)
def when_refusal_header(context: Any, status: int, header: str) -> None:
    context.cm_status = status
    verdict = classify_http_status(
        status, body=None, has_token_provider=False, protocols_header=header
    )
    _keep(context, verdict)


@when("a refused connection is classified for the connection machine")
def when_refused_connection(context: Any) -> None:
    context.cm_cause = ConnectionRefusedError(111, "connection refused")
    _keep(context, classify_network_error(context.cm_cause))


@when("a network error without a cause is classified for the connection machine")
def when_network_no_cause(context: Any) -> None:
    verdict = _keep(context, classify_network_error())
    assert verdict.error.__cause__ is None


@when(
    "a heartbeat silence of {silent:g} s over a limit of {limit:g} s"
    " is classified for the connection machine"
)
def when_heartbeat(context: Any, silent: float, limit: float) -> None:
    verdict = _keep(context, classify_heartbeat_timeout(silent, limit))
    error = verdict.error
    assert isinstance(error, planstream.HeartbeatTimeoutError)
    assert (error.silent_for, error.limit) == (silent, limit)


@then('the connection machine verdict is "{kind}" with error class {error}')
def then_verdict(context: Any, kind: str, error: str) -> None:
    verdict: Verdict = context.cm_verdict
    assert verdict.kind is VerdictKind(kind), verdict
    assert type(verdict.error) is _error_class(error), verdict
    if isinstance(verdict.error, planstream.UpgradeRefusedError):
        assert verdict.error.status == context.cm_status
    # The classes follow the verdict: fatal errors are FatalErrors, retries RetryableErrors.
    if verdict.kind in (VerdictKind.RETRY, VerdictKind.FALLBACK):
        assert isinstance(verdict.error, planstream.RetryableError), verdict
    else:
        assert isinstance(verdict.error, planstream.FatalError), verdict


@then(
    "the connection machine verdict's error class derives from {base}"
    " and its message names close code {code:d}"
)
def then_verdict_base(context: Any, base: str, code: int) -> None:
    error = context.cm_verdict.error
    assert isinstance(error, _error_class(base)), type(error).__mro__
    assert str(code) in str(error), str(error)


@then("the connection machine verdict carries no retry_after hint")
def then_no_hint(context: Any) -> None:
    verdict: Verdict = context.cm_verdict
    assert verdict.retry_after is None, verdict
    assert getattr(verdict.error, "retry_after", None) is None


def _hint(cell: str) -> float | None:
    return None if cell == "none" else float(cell)


@then("close code reasons give these retry_after hints:")
def then_close_hints(context: Any) -> None:
    context.cm_hinted = []
    for row in context.table:
        verdict = classify_close(int(row["code"]), row["reason"], has_token_provider=False)
        expected = _hint(row["retry_after"])
        assert verdict.kind is VerdictKind.RETRY, (row.cells, verdict)
        assert verdict.retry_after == expected, (row.cells, verdict.retry_after)
        context.cm_hinted.append(verdict)


@then("the error of every close code verdict with a hint carries the same retry_after")
def then_close_hint_errors(context: Any) -> None:
    hinted = [verdict for verdict in context.cm_hinted if verdict.retry_after is not None]
    assert len(hinted) >= 3, hinted
    for verdict in context.cm_hinted:
        assert getattr(verdict.error, "retry_after", None) == verdict.retry_after, verdict


@then("the error message quotes at most {limit:d} characters of the close code reason")
def then_reason_cut(context: Any, limit: int) -> None:
    message = str(context.cm_verdict.error)
    assert "[[[[" in message, message
    assert len(message) < limit + 80, len(message)
    assert "…" in message


@then(
    'the connection machine verdict\'s error says the server has "{server}" and the client "{client}"'
)
def then_both_sides(context: Any, server: str, client: str) -> None:
    error = context.cm_verdict.error
    assert isinstance(error, IncompatibleProtocolError), error
    assert error.server == server, error.server
    assert error.client == client, error.client
    assert server in str(error), str(error)
    assert client in str(error), str(error)


@then('the connection machine verdict\'s error message mentions "{first}" and "{second}"')
def then_mentions(context: Any, first: str, second: str) -> None:
    message = str(context.cm_verdict.error)
    assert first in message, message
    assert second in message, message


@then('the connection machine verdict\'s error message includes "{text}"')
def then_includes(context: Any, text: str) -> None:
    message = str(context.cm_verdict.error)
    assert text in message, message


@then("the connection machine verdict's error message is shorter than {limit:d} characters")
def then_short(context: Any, limit: int) -> None:
    message = str(context.cm_verdict.error)
    assert len(message) < limit, len(message)
    assert "xxxx" in message


def _retry_after_cell(cell: str) -> float | str | None:
    if cell == "none":
        return None
    if cell.startswith("float "):
        return float(cell.removeprefix("float "))
    return cell.strip('"')


@then("upgrade refusals with these Retry-After headers give these retry_after hints:")
def then_refusal_hints(context: Any) -> None:
    for row in context.table:
        status = int(row["status"])
        verdict = classify_http_status(
            status,
            body=None,
            has_token_provider=False,
            retry_after=_retry_after_cell(row["retry_after"]),
        )
        expected = _hint(row["hint"])
        assert verdict.retry_after == expected, (row.cells, verdict)
        if status in (429, 503):
            assert verdict.kind is VerdictKind.RETRY
            assert getattr(verdict.error, "retry_after", "missing") == expected, row.cells
        else:
            assert verdict.kind is VerdictKind.FALLBACK


@then("the connection machine verdict's error has the foreign error as its cause")
def then_cause(context: Any) -> None:
    error = context.cm_verdict.error
    assert isinstance(error, ConnectionLostError)
    assert error.__cause__ is context.cm_cause


# --- the machine: configuration and inputs --------------------------------------------


@dataclass(frozen=True)
class _Config:
    transport: str = "auto"
    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0
    jitter: str = "none"
    max_attempts: int | None = None
    seed: int = 0
    reset_after: float = 30.0
    provider: bool = True
    fallback_after: int = 2
    interval: float = 30.0

    def build(self) -> ConnectionStateMachine:
        policy = BackoffPolicy(
            initial_delay=self.initial,
            max_delay=self.maximum,
            factor=self.factor,
            jitter=self.jitter,  # type: ignore[arg-type]  # text is accepted
            max_attempts=self.max_attempts,
        )
        return ConnectionStateMachine(
            policy=policy,
            rng=random.Random(self.seed),
            reset_after=self.reset_after,
            transport=TransportMode(self.transport),
            has_token_provider=self.provider,
            fallback_after=self.fallback_after,
            websocket_retry_interval=self.interval,
        )


Input = Callable[[ConnectionStateMachine], ConnectionAction]


def _configure(context: Any, **changes: Any) -> None:
    assert getattr(context, "cm_machine", None) is None, "configure before the first input"
    context.cm_config = replace(context.cm_config, **changes)


def _machine(context: Any) -> ConnectionStateMachine:
    if getattr(context, "cm_machine", None) is None:
        context.cm_machine = context.cm_config.build()
        context.cm_script = []
        context.cm_actions = []
        context.cm_delays = []
    machine: ConnectionStateMachine = context.cm_machine
    return machine


def _delay_of(action: ConnectionAction, now: float, failure: bool) -> float | None:
    return action.at - now if failure and isinstance(action, Connect) else None


def _do(context: Any, now: float, call: Input, *, failure: bool = False) -> ConnectionAction:
    """Apply one input, record it for replays, keep its action and retry delay."""
    action = call(_machine(context))
    context.cm_script.append((now, call, failure))
    context.cm_actions.append(action)
    context.cm_action = action
    delay = _delay_of(action, now, failure)
    if delay is not None:
        context.cm_delays.append(delay)
    return action


def _fail(context: Any, verdict: Verdict, now: float, *, websocket: bool = True) -> None:
    context.cm_verdict = verdict
    _do(context, now, lambda m: m.failed(verdict, now, websocket=websocket), failure=True)


def _refusal(machine: ConnectionStateMachine, status: int) -> Verdict:
    body = BODIES[DEFAULT_BODY.get(status, "html")]
    return classify_http_status(status, body=body, has_token_provider=machine.has_token_provider)


def _close_code(machine: ConnectionStateMachine, code: int, reason: str = "") -> Verdict:
    return classify_close(code, reason, has_token_provider=machine.has_token_provider)


@given('a connection machine over transport "{transport}"')
def given_machine(context: Any, transport: str) -> None:
    context.cm_machine = None
    context.cm_config = _Config(transport=transport)


@given(
    "the connection machine backoff is initial {initial:g}, factor {factor:g},"
    ' max {maximum:g} and jitter "{jitter}"'
)
def given_backoff(context: Any, initial: float, factor: float, maximum: float, jitter: str) -> None:
    _configure(context, initial=initial, factor=factor, maximum=maximum, jitter=jitter)


@given("the connection machine randomness is seeded with {seed:d}")
def given_seed(context: Any, seed: int) -> None:
    _configure(context, seed=seed)


@given("the connection machine resets its attempts after {seconds:g} healthy seconds")
def given_reset_after(context: Any, seconds: float) -> None:
    _configure(context, reset_after=seconds)


@given("the connection machine gives up after {count:d} attempts")
def given_max_attempts(context: Any, count: int) -> None:
    _configure(context, max_attempts=count)


@given("the connection machine falls back after {count:d} refusal")
def given_fallback_after(context: Any, count: int) -> None:
    _configure(context, fallback_after=count)


@given("the connection machine has no token provider")
def given_no_provider(context: Any) -> None:
    _configure(context, provider=False)


@when("the connection machine starts at {now:g}")
def when_start(context: Any, now: float) -> None:
    _do(context, now, lambda m: m.start(now))


@when("the connection machine connects at {now:g}")
def when_connected(context: Any, now: float) -> None:
    _do(context, now, lambda m: m.connected(now))


@when("the connection machine's poll succeeds at {now:g}")
def when_poll_ok(context: Any, now: float) -> None:
    _do(context, now, lambda m: m.connected(now, websocket=False))


@when("the connection machine fails with close code {code:d} at {now:g}")
def when_fail_close(context: Any, code: int, now: float) -> None:
    _fail(context, _close_code(_machine(context), code), now)


@when("the connection machine fails with close code {code:d} and reason '{reason}' at {now:g}")
def when_fail_close_reason(context: Any, code: int, reason: str, now: float) -> None:
    _fail(context, _close_code(_machine(context), code, reason), now)


@when("the connection machine fails with upgrade refusal HTTP {status:d} at {now:g}")
def when_fail_refusal(context: Any, status: int, now: float) -> None:
    _fail(context, _refusal(_machine(context), status), now)


@when("the connection machine fails with a network error at {now:g}")
def when_fail_network(context: Any, now: float) -> None:
    _fail(context, classify_network_error(TimeoutError("timed out")), now)


@when(
    "the connection machine fails with a refresh_token verdict meant for a client"
    " with a provider at {now:g}"
)
def when_fail_foreign_refresh(context: Any, now: float) -> None:
    verdict = classify_close(4001, "", has_token_provider=True)
    assert verdict.kind is VerdictKind.REFRESH_TOKEN
    _fail(context, verdict, now)


@when("the connection machine's poll fails with HTTP {status:d} at {now:g}")
def when_poll_fails(context: Any, status: int, now: float) -> None:
    _fail(context, _refusal(_machine(context), status), now, websocket=False)


@when("the connection machine's poll fails with a network error at {now:g}")
def when_poll_fails_network(context: Any, now: float) -> None:
    _fail(context, classify_network_error(OSError("network unreachable")), now, websocket=False)


@when(
    "the connection machine's WebSocket probe fails with upgrade refusal HTTP {status:d} at {now:g}"
)
def when_probe_refused(context: Any, status: int, now: float) -> None:
    _fail(context, _refusal(_machine(context), status), now)


@when("the connection machine's WebSocket probe fails with close code {code:d} at {now:g}")
def when_probe_closed(context: Any, code: int, now: float) -> None:
    _fail(context, _close_code(_machine(context), code), now)


def _fail_attempts(context: Any, count: int, verdict: Callable[[], Verdict]) -> None:
    """Fail ``count`` attempts, each at the time the machine scheduled it."""
    for _ in range(count):
        action = context.cm_action
        assert isinstance(action, Connect | StartPolling), action
        _fail(context, verdict(), action.at)


@when("the connection machine's next {count:d} attempts all fail with close code {code:d}")
def when_attempts_close(context: Any, count: int, code: int) -> None:
    _fail_attempts(context, count, lambda: _close_code(_machine(context), code))


@when(
    "the connection machine's next {count:d} attempts all fail with upgrade refusal HTTP {status:d}"
)
def when_attempts_refused(context: Any, count: int, status: int) -> None:
    _fail_attempts(context, count, lambda: _refusal(_machine(context), status))


@when("the connection machine is closed")
def when_close(context: Any) -> None:
    _do(context, math.nan, lambda m: m.close())


def _drive(context: Any, state: str) -> None:
    """Bring a fresh machine to ``state`` through ordinary inputs."""
    machine = _machine(context)
    polling_only = machine.transport is TransportMode.POLLING
    target = ConnectionState(state)
    if target is not ConnectionState.CLOSED:
        _do(context, 0.0, lambda m: m.start(0.0))
    if target is ConnectionState.OPEN:
        _do(context, 0.0, lambda m: m.connected(0.0))
    elif target is ConnectionState.RECONNECTING:
        _fail(context, _close_code(machine, 1006), 0.0)
    elif target is ConnectionState.POLLING and not polling_only:
        _fail(context, _refusal(machine, 502), 0.0)
        _fail(context, _refusal(machine, 502), 1.0)
    assert machine.state is target, (machine.state, target)


@when('the connection machine is driven to state "{state}"')
def when_drive(context: Any, state: str) -> None:
    _drive(context, state)


@when("the connection machine's current channel fails with {failure}")
def when_current_channel_fails(context: Any, failure: str) -> None:
    machine = _machine(context)
    kind, _, number = failure.rpartition(" ")
    websocket = machine.state is not ConnectionState.POLLING
    if kind == "close code":
        verdict = _close_code(machine, int(number))
    elif kind == "upgrade refusal HTTP":
        verdict = _refusal(machine, int(number))
    else:
        assert kind == "WebSocket probe refused with HTTP", failure
        verdict, websocket = _refusal(machine, int(number)), True
    _fail(context, verdict, 500.0, websocket=websocket)


# --- the machine: outcomes ---------------------------------------------------------------


def _action(context: Any, cls: type[Any]) -> Any:
    action = context.cm_action
    assert isinstance(action, cls), action
    return action


def _at(actual: float | None, expected: float) -> None:
    assert actual is not None, expected
    assert math.isclose(actual, expected, abs_tol=1e-9), (actual, expected)


@then('the connection machine is "{state}"')
def then_state(context: Any, state: str) -> None:
    assert _machine(context).state is ConnectionState(state), _machine(context).state


@then("the connection machine attempt counter is {count:d}")
def then_attempt(context: Any, count: int) -> None:
    assert _attempts(_machine(context)) == count, _attempts(_machine(context))


@then("the connection machine says connect over WebSocket at {at:g}")
def then_connect_ws(context: Any, at: float) -> None:
    action = _action(context, Connect)
    assert action.websocket is True, action
    _at(action.at, at)


@then("the connection machine says connect by polling at {at:g}")
def then_connect_poll(context: Any, at: float) -> None:
    action = _action(context, Connect)
    assert action.websocket is False, action
    _at(action.at, at)


@then("the connection machine says start polling at {at:g} with a WebSocket probe at {probe:g}")
def then_start_polling_probe(context: Any, at: float, probe: float) -> None:
    action = _action(context, StartPolling)
    _at(action.at, at)
    _at(action.probe_at, probe)


@then("the connection machine says start polling at {at:g} with no WebSocket probe")
def then_start_polling_only(context: Any, at: float) -> None:
    action = _action(context, StartPolling)
    _at(action.at, at)
    assert action.probe_at is None, action


@then("the connection machine says refresh the token then connect over WebSocket at {at:g}")
def then_refresh_ws(context: Any, at: float) -> None:
    action = _action(context, RefreshTokenThenConnect)
    assert action.websocket is True, action
    _at(action.at, at)


@then("the connection machine says refresh the token then connect by polling at {at:g}")
def then_refresh_poll(context: Any, at: float) -> None:
    action = _action(context, RefreshTokenThenConnect)
    assert action.websocket is False, action
    _at(action.at, at)


@then("the connection machine says carry on until {until:g}")
def then_wait_until(context: Any, until: float) -> None:
    _at(_action(context, Wait).until, until)


@then("the connection machine says carry on with nothing scheduled")
def then_wait(context: Any) -> None:
    assert _action(context, Wait).until is None


@then("the connection machine says stop polling")
def then_stop_polling(context: Any) -> None:
    assert _action(context, StopPolling) == StopPolling()


@then("the connection machine says stop with no error")
def then_stop_clean(context: Any) -> None:
    assert _action(context, Stop).error is None


@then("the connection machine says stop with error class {error}")
def then_stop_error(context: Any, error: str) -> None:
    action = _action(context, Stop)
    assert type(action.error) is _error_class(error), action
    assert isinstance(action.error, planstream.FatalError), action


@then("the connection machine retry delays are {delays}")
def then_delays(context: Any, delays: str) -> None:
    expected = [float(delay) for delay in delays.split(",")]
    assert context.cm_delays == expected, context.cm_delays


@then(
    "every connection machine retry delay n lies within [0, min({maximum:g}, {initial:g} * {factor:g}^n)]"
)
def then_envelope(context: Any, maximum: float, initial: float, factor: float) -> None:
    assert context.cm_delays, "no delays drawn"
    for n, delay in enumerate(context.cm_delays):
        assert 0 <= delay <= min(maximum, initial * factor**n) + 1e-12, (n, delay)


@then("the connection machine drew retry delays that are not all equal")
def then_delays_vary(context: Any) -> None:
    assert len(set(context.cm_delays)) == len(context.cm_delays) > 1, context.cm_delays


def _replay(context: Any, seed: int) -> list[float]:
    """Feed the recorded inputs to a fresh machine seeded with ``seed``."""
    machine = replace(context.cm_config, seed=seed).build()
    delays = []
    for now, call, failure in context.cm_script:
        delay = _delay_of(call(machine), now, failure)
        if delay is not None:
            delays.append(delay)
    return delays


@then(
    "another connection machine seeded with {seed:d} and fed the same failures"
    " draws exactly the same delays"
)
def then_same_seed(context: Any, seed: int) -> None:
    assert seed == context.cm_config.seed
    assert _replay(context, seed) == context.cm_delays


@then(
    "another connection machine seeded with {seed:d} and fed the same failures"
    " draws different delays"
)
def then_other_seed(context: Any, seed: int) -> None:
    assert seed != context.cm_config.seed
    other = _replay(context, seed)
    assert len(other) == len(context.cm_delays)
    assert other != context.cm_delays


@then(
    "the connection machine's RetriesExhaustedError carries the {error} of close code {code:d}"
    " after {count:d} attempts"
)
def then_exhausted(context: Any, error: str, code: int, count: int) -> None:
    stop = _action(context, Stop)
    assert isinstance(stop.error, RetriesExhaustedError)
    last = stop.error.last_error
    assert last is context.cm_verdict.error
    assert type(last) is _error_class(error)
    assert str(code) in str(last)
    assert stop.error.attempts == count
    assert stop.error.__cause__ is last
    assert f"after {count} reconnect attempts" in str(stop.error)


@then("every connection machine action so far was a connect over WebSocket")
def then_all_websocket(context: Any) -> None:
    assert context.cm_actions
    for action in context.cm_actions:
        assert isinstance(action, Connect), action
        assert action.websocket is True, action


@then("no connection machine action so far asked for a WebSocket")
def then_never_websocket(context: Any) -> None:
    assert context.cm_actions
    for action in context.cm_actions:
        assert not getattr(action, "websocket", False), action
        assert getattr(action, "probe_at", None) is None, action


@then("the connection machine refuses a WebSocket report while polling with an InvalidStateError")
def then_no_websocket_reports(context: Any) -> None:
    machine = _machine(context)
    attempt = _attempts(machine)
    for report in (
        lambda: machine.connected(99.0),
        lambda: machine.failed(_close_code(machine, 1006), 99.0),
    ):
        assert _raised(report, InvalidStateError).state == "polling"
        assert machine.state is ConnectionState.POLLING
        assert _attempts(machine) == attempt


@then(
    "the connection machine's stop error mentions the refresh and is caused by the second refusal"
)
def then_refresh_fatal(context: Any) -> None:
    error = _action(context, Stop).error
    assert "refresh" in str(error), str(error)
    assert error.__cause__ is context.cm_verdict.error
    assert "HTTP 401" in str(error)


_INPUTS: dict[str, Callable[[ConnectionStateMachine], object]] = {
    "start": lambda m: m.start(5.0),
    "connected": lambda m: m.connected(5.0),
    "poll succeeded": lambda m: m.connected(5.0, websocket=False),
    "failed with close code 1006": lambda m: m.failed(_close_code(m, 1006), 5.0),
    "poll failed with HTTP 503": lambda m: m.failed(_refusal(m, 503), 5.0, websocket=False),
}


@then("the connection machine refuses these inputs with an InvalidStateError:")
def then_refuses_inputs(context: Any) -> None:
    for row in context.table:
        given_machine(context, row["transport"])
        _drive(context, row["state"])
        machine = _machine(context)
        before = (machine.state, _attempts(machine))
        call = _INPUTS[row["input"]]
        exc = _raised(lambda: call(machine), InvalidStateError)  # noqa: B023 - called at once
        assert isinstance(exc, planstream.PlanStreamError)
        assert not isinstance(exc, planstream.FatalError | planstream.RetryableError)
        assert exc.state == row["state"], (row.cells, exc.state)
        assert row["state"] in str(exc), str(exc)
        assert (machine.state, _attempts(machine)) == before, row.cells


# --- the transition table -----------------------------------------------------------------


@then(
    "every connection machine state has a transition for close,"
    ' and close always leads to "{closed}"'
)
def then_table_close(context: Any, closed: str) -> None:
    for (state, trigger), target in CONNECTION_TRANSITIONS.items():
        assert isinstance(state, ConnectionState), state
        assert isinstance(trigger, ConnectionTrigger), trigger
        assert isinstance(target, ConnectionState), target
    for state in ConnectionState:
        assert CONNECTION_TRANSITIONS[(state, ConnectionTrigger.CLOSE)] is ConnectionState(closed)


@then(
    'every connection machine state except "{closed}" has a transition for stop'
    ' leading to "{target}"'
)
def then_table_stop(context: Any, closed: str, target: str) -> None:
    for state in ConnectionState:
        key = (state, ConnectionTrigger.STOP)
        if state is ConnectionState(closed):
            assert key not in CONNECTION_TRANSITIONS
        else:
            assert CONNECTION_TRANSITIONS[key] is ConnectionState(target), state


@then('every connection machine state is reachable from "{start}" through the transition table')
def then_table_reachable(context: Any, start: str) -> None:
    seen = {ConnectionState(start)}
    todo = deque(seen)
    while todo:
        state = todo.popleft()
        for (source, _), target in CONNECTION_TRANSITIONS.items():
            if source is state and target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen == set(ConnectionState), seen


@then("every connection machine trigger appears in the transition table")
def then_table_triggers(context: Any) -> None:
    used = {trigger for _, trigger in CONNECTION_TRANSITIONS}
    assert used == set(ConnectionTrigger), set(ConnectionTrigger) - used


@then("the connection machine transition table cannot be modified")
def then_table_frozen(context: Any) -> None:
    key = (ConnectionState.OPEN, ConnectionTrigger.START)

    def add_entry() -> None:
        CONNECTION_TRANSITIONS[key] = ConnectionState.OPEN  # type: ignore[index]

    _raised(add_entry, TypeError)
    assert key not in CONNECTION_TRANSITIONS


# --- construction ---------------------------------------------------------------------------


@then("a connection machine with {parameter} {value:g} is refused with a ValueError")
def then_bad_parameter(context: Any, parameter: str, value: float) -> None:
    changes = {
        "fallback_after": {"fallback_after": int(value)},
        "reset_after": {"reset_after": value},
        "websocket_retry_interval": {"interval": value},
    }[parameter]
    exc = _raised(replace(_Config(), **changes).build, ValueError)
    assert parameter in str(exc), str(exc)


@then('a connection machine built with transport "{transport}" as text starts by polling')
def then_transport_text(context: Any, transport: str) -> None:
    machine = ConnectionStateMachine(
        policy=BackoffPolicy(),
        rng=random.Random(1),
        reset_after=0,
        transport=transport,  # type: ignore[arg-type]  # the text of a TransportMode
        has_token_provider=False,
    )
    assert machine.transport is TransportMode.POLLING
    assert machine.start(3.0) == StartPolling(at=3.0, probe_at=None)
    assert machine.state is ConnectionState.POLLING
