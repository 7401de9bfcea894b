"""Steps of client_multi_node.feature: the connection machine over several nodes, fed
times and verdicts (pure, no event loop)."""

from __future__ import annotations

import random
from typing import Any

from behave import given, then, when

from planstream.backoff import BackoffPolicy, JitterMode
from planstream.close_codes import (
    Verdict,
    classify_close,
    classify_http_status,
    classify_network_error,
)
from planstream.connection_actions import Connect, ConnectionAction, StartPolling, Stop
from planstream.connection_state import ConnectionStateMachine, TransportMode
from planstream.errors import RetriesExhaustedError

# --- the pure machine ----------------------------------------------------------------------


@given(
    "a multi-node machine over {nodes:d} nodes, backoff initial {initial:g} and factor {factor:g}"
)
def given_machine(context: Any, nodes: int, initial: float, factor: float) -> None:
    context.mn_config = {
        "nodes": nodes,
        "policy": {"initial_delay": initial, "factor": factor, "max_delay": 60.0},
        "reset_after": 30.0,
    }
    context.mn_machine = None


@given("the multi-node machine resets its attempts after {seconds:g} healthy seconds")
def given_reset_after(context: Any, seconds: float) -> None:
    context.mn_config["reset_after"] = seconds


@given("the multi-node machine gives up after {count:d} attempt")
def given_max_attempts(context: Any, count: int) -> None:
    context.mn_config["policy"]["max_attempts"] = count


def _attempts(machine: ConnectionStateMachine) -> int:
    """Failures that drew a backoff delay since the last reset: the count of the
    backoff schedule the machine owns (the machine itself does not publish it)."""
    return machine._schedule.attempt


def _machine(context: Any) -> ConnectionStateMachine:
    if context.mn_machine is None:
        config = context.mn_config
        context.mn_machine = ConnectionStateMachine(
            policy=BackoffPolicy(jitter=JitterMode.NONE, **config["policy"]),
            rng=random.Random(7),
            reset_after=config["reset_after"],
            transport=TransportMode.AUTO,
            has_token_provider=False,
            nodes=config["nodes"],
        )
    machine: ConnectionStateMachine = context.mn_machine
    return machine


def _fail(context: Any, verdict: Verdict, now: float, websocket: bool = True) -> None:
    context.mn_action = _machine(context).failed(verdict, now, websocket=websocket)


@when("the multi-node machine starts at {now:g}")
def when_start(context: Any, now: float) -> None:
    context.mn_action = _machine(context).start(now)


@when("the multi-node machine fails with close code {code:d} at {now:g}")
def when_close(context: Any, code: int, now: float) -> None:
    _fail(context, classify_close(code, "", has_token_provider=False), now)


@when("the multi-node machine fails with close code {code:d} and reason '{reason}' at {now:g}")
def when_close_reason(context: Any, code: int, reason: str, now: float) -> None:
    _fail(context, classify_close(code, reason, has_token_provider=False), now)


@when("the multi-node machine fails with an upgrade refusal HTTP {status:d} at {now:g}")
def when_refusal(context: Any, status: int, now: float) -> None:
    _fail(context, classify_http_status(status, body=None, has_token_provider=False), now)


@when(
    "the multi-node machine fails with an upgrade refusal HTTP {status:d}"
    " with Retry-After {seconds:g} at {now:g}"
)
def when_refusal_retry_after(context: Any, status: int, seconds: float, now: float) -> None:
    verdict = classify_http_status(
        status, body=None, has_token_provider=False, retry_after=str(seconds)
    )
    _fail(context, verdict, now)


@when("a multi-node poll fails with a refused connection at {now:g}")
def when_poll_fails(context: Any, now: float) -> None:
    _fail(context, classify_network_error(ConnectionRefusedError()), now, websocket=False)


@when("the multi-node probe fails with a refused connection at {now:g}")
def when_probe_fails(context: Any, now: float) -> None:
    _fail(context, classify_network_error(ConnectionRefusedError()), now)


@when("the multi-node machine connects at {now:g}")
@when("the multi-node probe connects at {now:g}")
def when_connects(context: Any, now: float) -> None:
    context.mn_action = _machine(context).connected(now)


def _connect(context: Any) -> Connect:
    action: ConnectionAction = context.mn_action
    assert isinstance(action, Connect), action
    return action


@then("the multi-node machine says connect to node {node:d} at {at:g}")
@then("the multi-node machine says probe node {node:d} at {at:g}")
def then_connect(context: Any, node: int, at: float) -> None:
    action = _connect(context)
    assert action.websocket, action
    assert (action.node, action.at) == (node, at), action


@then("the multi-node machine says poll node {node:d} again at {at:g}")
def then_poll_again(context: Any, node: int, at: float) -> None:
    action = _connect(context)
    assert not action.websocket, action
    assert (action.node, action.at) == (node, at), action


@then(
    "the multi-node machine says poll node {node:d} from {at:g}, probing node {probe:d} at {probe_at:g}"
)
def then_start_polling(context: Any, node: int, at: float, probe: int, probe_at: float) -> None:
    action = context.mn_action
    assert action == StartPolling(at=at, probe_at=probe_at, node=node, probe_node=probe), action


@then("the multi-node machine says stop with a RetriesExhaustedError")
def then_stop(context: Any) -> None:
    action = context.mn_action
    assert isinstance(action, Stop), action
    assert isinstance(action.error, RetriesExhaustedError), action


@then("the multi-node machine attempt counter is {count:d}")
def then_attempts(context: Any, count: int) -> None:
    assert _attempts(_machine(context)) == count, _attempts(_machine(context))


@then("the multi-node machine's node is {node:d}")
def then_node(context: Any, node: int) -> None:
    assert _machine(context).node == node, _machine(context).node


@then('the multi-node machine is "{state}"')
def then_state(context: Any, state: str) -> None:
    assert _machine(context).state.value == state, _machine(context).state


@then('a multi-node machine over {nodes:d} nodes is refused with "{message}"')
def then_no_nodes(context: Any, nodes: int, message: str) -> None:
    problem = None
    try:
        ConnectionStateMachine(
            policy=BackoffPolicy(),
            rng=random.Random(1),
            reset_after=1.0,
            transport=TransportMode.AUTO,
            has_token_provider=False,
            nodes=nodes,
        )
    except ValueError as exc:
        problem = str(exc)
    assert problem is not None, "a machine without nodes was built"
    assert message in problem, problem
