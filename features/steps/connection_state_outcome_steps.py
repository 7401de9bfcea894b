"""Steps of connection_state.feature about what the connection machine decides:
its actions, delays and states, the transition table, and building it."""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from behave import then
from support.connection_machine import (
    MachineConfig,
    close_code_verdict,
    delay_of,
    drive_machine,
    error_class,
    machine_attempts,
    new_machine,
    raised_by,
    refusal_verdict,
    scenario_machine,
)

import planstream
from planstream import ConnectionState, InvalidStateError, RetriesExhaustedError
from planstream.backoff import BackoffPolicy
from planstream.connection_actions import (
    Connect,
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
    assert scenario_machine(context).state is ConnectionState(state), scenario_machine(
        context
    ).state


@then("the connection machine attempt counter is {count:d}")
def then_attempt(context: Any, count: int) -> None:
    attempts = machine_attempts(scenario_machine(context))
    assert attempts == count, attempts


#: How a connect action connects, as the steps say it: over WebSocket or not.
_OVER_WEBSOCKET = {"over WebSocket": True, "by polling": False}


def _says_connect(context: Any, cls: type[Any], how: str, at: float) -> None:
    action = _action(context, cls)
    assert action.websocket is _OVER_WEBSOCKET[how], action
    _at(action.at, at)


@then("the connection machine says connect {how} at {at:g}")
def then_connect(context: Any, how: str, at: float) -> None:
    _says_connect(context, Connect, how, at)


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


@then("the connection machine says refresh the token then connect {how} at {at:g}")
def then_refresh(context: Any, how: str, at: float) -> None:
    _says_connect(context, RefreshTokenThenConnect, how, at)


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
    assert type(action.error) is error_class(error), action
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
        delay = delay_of(call(machine), now, failure)
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
    assert type(last) is error_class(error)
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
    machine = scenario_machine(context)
    attempt = machine_attempts(machine)
    for report in (
        lambda: machine.connected(99.0),
        lambda: machine.failed(close_code_verdict(machine, 1006), 99.0),
    ):
        assert raised_by(report, InvalidStateError).state == "polling"
        assert machine.state is ConnectionState.POLLING
        assert machine_attempts(machine) == attempt


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
    "failed with close code 1006": lambda m: m.failed(close_code_verdict(m, 1006), 5.0),
    "poll failed with HTTP 503": lambda m: m.failed(refusal_verdict(m, 503), 5.0, websocket=False),
}


@then("the connection machine refuses these inputs with an InvalidStateError:")
def then_refuses_inputs(context: Any) -> None:
    for row in context.table:
        new_machine(context, row["transport"])
        drive_machine(context, row["state"])
        machine = scenario_machine(context)
        before = (machine.state, machine_attempts(machine))
        call = _INPUTS[row["input"]]
        exc = raised_by(lambda: call(machine), InvalidStateError)  # noqa: B023 - called at once
        assert isinstance(exc, planstream.PlanStreamError)
        assert not isinstance(exc, planstream.FatalError | planstream.RetryableError)
        assert exc.state == row["state"], (row.cells, exc.state)
        assert row["state"] in str(exc), str(exc)
        assert (machine.state, machine_attempts(machine)) == before, row.cells


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

    raised_by(add_entry, TypeError)
    assert key not in CONNECTION_TRANSITIONS


# --- construction ---------------------------------------------------------------------------


@then("a connection machine with {parameter} {value:g} is refused with a ValueError")
def then_bad_parameter(context: Any, parameter: str, value: float) -> None:
    changes = {
        "fallback_after": {"fallback_after": int(value)},
        "reset_after": {"reset_after": value},
        "websocket_retry_interval": {"interval": value},
    }[parameter]
    exc = raised_by(replace(MachineConfig(), **changes).build, ValueError)
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
