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
from collections.abc import Callable
from typing import Any

from behave import given, use_step_matcher, when
from support.connection_machine import (
    close_code_verdict,
    configure_machine,
    drive_machine,
    fail_machine,
    feed_input,
    new_machine,
    refusal_verdict,
    scenario_machine,
)

from planstream import ConnectionState
from planstream.close_codes import Verdict, VerdictKind, classify_close, classify_network_error
from planstream.connection_actions import (
    Connect,
    StartPolling,
)

use_step_matcher("parse")


# --- the machine: configuration and inputs --------------------------------------------


@given('a connection machine over transport "{transport}"')
def given_machine(context: Any, transport: str) -> None:
    new_machine(context, transport)


@given(
    "the connection machine backoff is initial {initial:g}, factor {factor:g},"
    ' max {maximum:g} and jitter "{jitter}"'
)
def given_backoff(context: Any, initial: float, factor: float, maximum: float, jitter: str) -> None:
    configure_machine(context, initial=initial, factor=factor, maximum=maximum, jitter=jitter)


@given("the connection machine randomness is seeded with {seed:d}")
def given_seed(context: Any, seed: int) -> None:
    configure_machine(context, seed=seed)


@given("the connection machine resets its attempts after {seconds:g} healthy seconds")
def given_reset_after(context: Any, seconds: float) -> None:
    configure_machine(context, reset_after=seconds)


@given("the connection machine gives up after {count:d} attempts")
def given_max_attempts(context: Any, count: int) -> None:
    configure_machine(context, max_attempts=count)


@given("the connection machine falls back after {count:d} refusal")
def given_fallback_after(context: Any, count: int) -> None:
    configure_machine(context, fallback_after=count)


@given("the connection machine has no token provider")
def given_no_provider(context: Any) -> None:
    configure_machine(context, provider=False)


@when("the connection machine starts at {now:g}")
def when_start(context: Any, now: float) -> None:
    feed_input(context, now, lambda m: m.start(now))


@when("the connection machine connects at {now:g}")
def when_connected(context: Any, now: float) -> None:
    feed_input(context, now, lambda m: m.connected(now))


@when("the connection machine's poll succeeds at {now:g}")
def when_poll_ok(context: Any, now: float) -> None:
    feed_input(context, now, lambda m: m.connected(now, websocket=False))


@when("the connection machine fails with close code {code:d} at {now:g}")
@when("the connection machine's WebSocket probe fails with close code {code:d} at {now:g}")
def when_fail_close(context: Any, code: int, now: float) -> None:
    fail_machine(context, close_code_verdict(scenario_machine(context), code), now)


@when("the connection machine fails with close code {code:d} and reason '{reason}' at {now:g}")
def when_fail_close_reason(context: Any, code: int, reason: str, now: float) -> None:
    fail_machine(context, close_code_verdict(scenario_machine(context), code, reason), now)


@when("the connection machine fails with upgrade refusal HTTP {status:d} at {now:g}")
@when(
    "the connection machine's WebSocket probe fails with upgrade refusal HTTP {status:d} at {now:g}"
)
def when_fail_refusal(context: Any, status: int, now: float) -> None:
    fail_machine(context, refusal_verdict(scenario_machine(context), status), now)


@when("the connection machine fails with a network error at {now:g}")
def when_fail_network(context: Any, now: float) -> None:
    fail_machine(context, classify_network_error(TimeoutError("timed out")), now)


@when(
    "the connection machine fails with a refresh_token verdict meant for a client"
    " with a provider at {now:g}"
)
def when_fail_foreign_refresh(context: Any, now: float) -> None:
    verdict = classify_close(4001, "", has_token_provider=True)
    assert verdict.kind is VerdictKind.REFRESH_TOKEN
    fail_machine(context, verdict, now)


@when("the connection machine's poll fails with HTTP {status:d} at {now:g}")
def when_poll_fails(context: Any, status: int, now: float) -> None:
    fail_machine(context, refusal_verdict(scenario_machine(context), status), now, websocket=False)


@when("the connection machine's poll fails with a network error at {now:g}")
def when_poll_fails_network(context: Any, now: float) -> None:
    fail_machine(
        context, classify_network_error(OSError("network unreachable")), now, websocket=False
    )


def _fail_attempts(context: Any, count: int, verdict: Callable[[], Verdict]) -> None:
    """Fail ``count`` attempts, each at the time the machine scheduled it."""
    for _ in range(count):
        action = context.cm_action
        assert isinstance(action, Connect | StartPolling), action
        fail_machine(context, verdict(), action.at)


@when("the connection machine's next {count:d} attempts all fail with close code {code:d}")
def when_attempts_close(context: Any, count: int, code: int) -> None:
    _fail_attempts(context, count, lambda: close_code_verdict(scenario_machine(context), code))


@when(
    "the connection machine's next {count:d} attempts all fail with upgrade refusal HTTP {status:d}"
)
def when_attempts_refused(context: Any, count: int, status: int) -> None:
    _fail_attempts(context, count, lambda: refusal_verdict(scenario_machine(context), status))


@when("the connection machine is closed")
def when_close(context: Any) -> None:
    feed_input(context, math.nan, lambda m: m.close())


@when('the connection machine is driven to state "{state}"')
def when_drive(context: Any, state: str) -> None:
    drive_machine(context, state)


@when("the connection machine's current channel fails with {failure}")
def when_current_channel_fails(context: Any, failure: str) -> None:
    machine = scenario_machine(context)
    kind, _, number = failure.rpartition(" ")
    websocket = machine.state is not ConnectionState.POLLING
    if kind == "close code":
        verdict = close_code_verdict(machine, int(number))
    elif kind == "upgrade refusal HTTP":
        verdict = refusal_verdict(machine, int(number))
    else:
        assert kind == "WebSocket probe refused with HTTP", failure
        verdict, websocket = refusal_verdict(machine, int(number)), True
    fail_machine(context, verdict, 500.0, websocket=websocket)
