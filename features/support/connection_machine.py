"""Helpers of the connection_state.feature steps: refusal bodies, the machine's
configuration (built lazily at its first input), feeding it inputs and
recording what it decided."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import planstream
from planstream import ConnectionState
from planstream.backoff import BackoffPolicy
from planstream.close_codes import Verdict, classify_close, classify_http_status
from planstream.connection_actions import Connect, ConnectionAction
from planstream.connection_state import ConnectionStateMachine, TransportMode

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


def raised_by(call: Callable[[], object], cls: type[_E]) -> _E:
    """The ``cls`` exception ``call`` raises (failing when it raises none)."""
    try:
        call()
    except cls as exc:
        return exc
    raise AssertionError(f"no {cls.__name__} raised")


def yes_or_no(text: str) -> bool:
    assert text in {"yes", "no"}, text
    return text == "yes"


def error_class(name: str) -> type[BaseException]:
    cls = getattr(planstream, name)
    assert isinstance(cls, type), name
    assert issubclass(cls, planstream.PlanStreamError), name
    return cls


@dataclass(frozen=True)
class MachineConfig:
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


def machine_attempts(machine: ConnectionStateMachine) -> int:
    """Failures that drew a backoff delay since the last reset: the count of the
    backoff schedule the machine owns (the machine itself does not publish it)."""
    return machine._schedule.attempt


def new_machine(context: Any, transport: str) -> None:
    """Start a new machine's configuration; the machine is built at its first input."""
    context.cm_machine = None
    context.cm_config = MachineConfig(transport=transport)


def configure_machine(context: Any, **changes: Any) -> None:
    assert getattr(context, "cm_machine", None) is None, "configure before the first input"
    context.cm_config = replace(context.cm_config, **changes)


def scenario_machine(context: Any) -> ConnectionStateMachine:
    if getattr(context, "cm_machine", None) is None:
        context.cm_machine = context.cm_config.build()
        context.cm_script = []
        context.cm_actions = []
        context.cm_delays = []
    machine: ConnectionStateMachine = context.cm_machine
    return machine


def delay_of(action: ConnectionAction, now: float, failure: bool) -> float | None:
    return action.at - now if failure and isinstance(action, Connect) else None


def feed_input(context: Any, now: float, call: Input, *, failure: bool = False) -> ConnectionAction:
    """Apply one input, record it for replays, keep its action and retry delay."""
    action = call(scenario_machine(context))
    context.cm_script.append((now, call, failure))
    context.cm_actions.append(action)
    context.cm_action = action
    delay = delay_of(action, now, failure)
    if delay is not None:
        context.cm_delays.append(delay)
    return action


def fail_machine(context: Any, verdict: Verdict, now: float, *, websocket: bool = True) -> None:
    context.cm_verdict = verdict
    feed_input(context, now, lambda m: m.failed(verdict, now, websocket=websocket), failure=True)


def refusal_verdict(machine: ConnectionStateMachine, status: int) -> Verdict:
    body = BODIES[DEFAULT_BODY.get(status, "html")]
    return classify_http_status(status, body=body, has_token_provider=machine.has_token_provider)


def close_code_verdict(machine: ConnectionStateMachine, code: int, reason: str = "") -> Verdict:
    return classify_close(code, reason, has_token_provider=machine.has_token_provider)


def drive_machine(context: Any, state: str) -> None:
    """Bring a fresh machine to ``state`` through ordinary inputs."""
    machine = scenario_machine(context)
    polling_only = machine.transport is TransportMode.POLLING
    target = ConnectionState(state)
    if target is not ConnectionState.CLOSED:
        feed_input(context, 0.0, lambda m: m.start(0.0))
    if target is ConnectionState.OPEN:
        feed_input(context, 0.0, lambda m: m.connected(0.0))
    elif target is ConnectionState.RECONNECTING:
        fail_machine(context, close_code_verdict(machine, 1006), 0.0)
    elif target is ConnectionState.POLLING and not polling_only:
        fail_machine(context, refusal_verdict(machine, 502), 0.0)
        fail_machine(context, refusal_verdict(machine, 502), 1.0)
    assert machine.state is target, (machine.state, target)
