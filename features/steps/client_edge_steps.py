"""Steps of client_edges.feature: API misuse, fatal stops, watch() over a resync,
failing hooks and token providers, and polling failures, on real sockets.

Every step text contains "edge". ``context.server`` is an embedded
reference server, ``context.edge_proxy`` an :class:`EdgeProxy` in front of it,
``context.edge_client`` the client (entered by its step, closed after the
scenario), ``context.edge_changes`` what its state hook saw and
``context.edge_consumers`` a :class:`~support.client_api_support.Consumer` per plan.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from behave import given, then, when
from support.client_api_support import Consumer, LogCapture, until
from support.edge_proxy import EdgeProxy
from support.servers import on_cleanup, run

from planstream import ClientSettings, LogEvent, PlanStreamClient, Resync, StateChange
from planstream.client.callbacks import CallbackRegistry

_ELSEWHERE = "ws://elsewhere.invalid:1/v1/stream"


@given(
    "an edge proxy in front of the reference server answering WebSocket upgrades with {status:d}"
)
@given("an edge proxy in front of the reference server passing WebSocket upgrades")
def step_proxy(context: Any, status: int | None = None) -> None:
    proxy = EdgeProxy(context.server.port, status)
    run(context, proxy.start())
    on_cleanup(context, proxy.stop)
    context.edge_proxy = proxy


def _logs(count: int) -> list[tuple[str, dict[str, Any]]]:
    data = {"level": "info", "step_id": None, "stream": "stdout"}
    return [("log", {**data, "message": f"edge line {n}"}) for n in range(count)]


@given('the reference server publishes {count:d} log events to plan "{plan_id}"')
@when('the reference server publishes {count:d} log events to plan "{plan_id}"')
@given(
    'the reference server publishes {count:d} log events and a "{status}" status to plan "{plan_id}"'
)
@when(
    'the reference server publishes {count:d} log events and a "{status}" status to plan "{plan_id}"'
)
@given(
    'the reference server publishes plan "{plan_id}" running, step "{step}" succeeded '
    "and {count:d} log events"
)
def step_publish(
    context: Any, count: int, plan_id: str, status: str | None = None, step: str | None = None
) -> None:
    events = _logs(count)
    if step is not None:
        step_data = {"step_id": step, "index": 0, "name": step, "status": "succeeded"}
        events = [("plan.status", {"status": "running"}), ("step.status", step_data), *events]
    if status is not None:
        events.append(("plan.status", {"status": status}))
    for kind, data in events:
        run(context, context.server.publish(plan_id, kind, data))


# --- clients ------------------------------------------------------------------------


def _settings(url: str, transport: str = "auto", **extra: Any) -> ClientSettings:
    polling = {"wait": 0.2, "request_timeout": 2.0, "websocket_retry_interval": 0.2}
    reconnect = {"initial_delay": 0.01, "max_delay": 0.05}
    return ClientSettings(
        url=url, transport=transport, reconnect=reconnect, polling=polling, **extra
    )


def _enter(context: Any, client: PlanStreamClient, *, enter: bool = True) -> None:
    logs = LogCapture()
    logs.install()

    async def remove_logs() -> None:
        logs.remove()

    on_cleanup(context, remove_logs)
    context.edge_logs, context.edge_client = logs, client
    if enter:
        run(context, client.__aenter__())
        on_cleanup(context, client.aclose)


@given('an edge client in transport "{transport}" aimed at the {owner:w} {target:w}')
@given(
    'an edge client in transport "{transport}" aimed at the {owner:w} {target:w}, '
    "whose first state hook {raises:w}"
)
@given(
    'an edge client in transport "{transport}" aimed at the {owner:w} {target:w}, '
    "pinging every {interval:g} s with a {timeout:g} s pong timeout"
)
def step_client(context: Any, transport: str, owner: str, target: str, **options: Any) -> None:
    assert (owner, target) in {("reference", "server"), ("edge", "proxy")}, (owner, target)
    context.edge_changes: list[StateChange] = []

    def bad_hook(change: StateChange) -> None:
        raise RuntimeError(f"edge hook broke on {change.state.value}")

    url = (context.edge_proxy if target == "proxy" else context.server).url
    heartbeat = {
        "ping_interval": options.get("interval", 20.0),
        "ping_timeout": options.get("timeout", 20.0),
    }
    client = PlanStreamClient(
        token=getattr(context, "edge_token", None),
        token_provider=getattr(context, "edge_provider", None),
        settings=_settings(url, transport, heartbeat=heartbeat),
        on_state_change=bad_hook if options.get("raises") == "raises" else None,
    )
    client.on_state_change(context.edge_changes.append)  # called after a raising hook
    _enter(context, client)


@given("an edge client that was never entered")
def step_client_never_entered(context: Any) -> None:
    _enter(context, PlanStreamClient(settings=_settings(_ELSEWHERE)), enter=False)


@when(
    'an edge client is built with the reference server\'s url and the token "{token}" '
    "over settings aimed elsewhere with queue size {size:d}"
)
def step_client_override(context: Any, token: str, size: int) -> None:
    context.edge_given = _settings(_ELSEWHERE, queue_size=size)
    client = PlanStreamClient(context.server.url, token=token, settings=context.edge_given)
    _enter(context, client)


@then(
    "the edge client's settings name the reference server's url, "
    'the token "{token}" and queue size {size:d}'
)
def step_settings_override(context: Any, token: str, size: int) -> None:
    settings = context.edge_client.settings
    assert settings.url == context.server.url, settings.url
    assert settings.token is not None
    assert settings.token.get_secret_value() == token
    assert settings.queue_size == size, settings.queue_size
    assert settings.reconnect == context.edge_given.reconnect, settings.reconnect
    assert (context.edge_given.url, context.edge_given.token) == (_ELSEWHERE, None)  # untouched
    assert token not in repr(context.edge_client), repr(context.edge_client)


# --- streams ------------------------------------------------------------------------


@when('the edge client subscribes to plan "{plan_id}"')
@when('the edge client {watches:w} plan "{plan_id}"')
def step_subscribe(context: Any, plan_id: str, watches: str = "") -> None:
    assert watches in ("", "watches"), watches
    client = context.edge_client
    stream = client.watch(plan_id) if watches else client.subscribe(plan_id, follow=True)
    consumer = Consumer(stream, loop=context.loop, plan_id=plan_id, name=plan_id, gate=None)
    on_cleanup(context, consumer.cancel)
    context.edge_consumers = {**getattr(context, "edge_consumers", {}), plan_id: consumer}


@then('the edge subscription to plan "{plan_id}" receives seq 1 to {last:d}')
def step_received(context: Any, plan_id: str, last: int) -> None:
    consumer = context.edge_consumers[plan_id]
    run(context, until(lambda: len(consumer.items) >= last, f"seq 1 to {last} of {plan_id}"))
    assert [item.seq for item in consumer.items] == list(range(1, last + 1)), consumer.items
    assert consumer.ending is None, consumer.ending


def _ending(context: Any, plan_id: str) -> Any:
    consumer = context.edge_consumers[plan_id]
    run(context, consumer.wait_done())
    return consumer.ending


@then('the edge subscription to plan "{plan_id}" ends with {error} mentioning "{text}"')
@then(
    'the edge subscription to plan "{plan_id}" ends with {error} mentioning "{text}" '
    "before any {item:w}"
)
def step_ends_with(context: Any, plan_id: str, error: str, text: str, item: str = "") -> None:
    ending = _ending(context, plan_id)
    assert (type(ending).__name__, text in str(ending)) == (error, True), repr(ending)
    assert ending is context.edge_client.error, (ending, context.edge_client.error)
    assert not (item and context.edge_consumers[plan_id].items), "items before the error"


@then(
    'the first edge snapshot of plan "{plan_id}" is "{status}" '
    'with step "{step}" "{step_status}" at seq {seq:d}'
)
def step_first_snapshot(
    context: Any, plan_id: str, status: str, step: str, step_status: str, seq: int
) -> None:
    consumer = context.edge_consumers[plan_id]
    run(context, until(lambda: bool(consumer.items), "the first snapshot"))
    first = consumer.items[0]
    assert first.status == status, first
    assert first.head is not None
    assert first.head.seq == seq, first
    assert [(s.step_id, s.status) for s in first.steps] == [(step, step_status)], first.steps


@then('the edge watch of plan "{plan_id}" ends with a "{status}" snapshot at seq {seq:d}')
def step_watch_ends(context: Any, plan_id: str, status: str, seq: int) -> None:
    assert _ending(context, plan_id) == "end"
    snapshots = context.edge_consumers[plan_id].items
    assert [s.head.seq for s in snapshots] == list(range(seq - len(snapshots) + 1, seq + 1))
    assert (snapshots[-1].status, len(snapshots[-1].steps)) == (status, 1), snapshots[-1]
    assert context.edge_client.stats.resyncs == 1, context.edge_client.stats


# --- API misuse and the client's state -------------------------------------------------

_MISUSES = {
    "subscribing to plan p": lambda c: c.subscribe("p"),
    "subscribing to an empty plan id": lambda c: c.subscribe(""),
    "entered": lambda c: c.__aenter__(),
    "given a callback that is not callable": lambda c: c.on(LogEvent, "not callable"),
    "given a callback for the target 123": lambda c: c.on(123, print),
    "run with no plan ids": lambda c: c.run(),
}


@then('the edge client raises {error} mentioning "{text}" when {misuse}')
def step_misuse(context: Any, error: str, text: str, misuse: str) -> None:
    raised: Exception | None = None
    try:
        result = _MISUSES[misuse](context.edge_client)
        if isinstance(result, Awaitable):
            run(context, result)
    except Exception as exc:
        raised = exc
    assert (type(raised).__name__, text in str(raised)) == (error, True), repr(raised)


@then("an edge callback registry counts 2 registrations of one callback, and 0 after removing it")
def step_registry_len(context: Any) -> None:
    registry = CallbackRegistry()
    registry.add(LogEvent, print)
    registry.add(Resync, print)
    assert len(registry) == 2
    registry.remove(print)
    assert len(registry) == 0


@when("the edge client is closed twice")
def step_close_twice(context: Any) -> None:
    run(context, context.edge_client.aclose())
    run(context, context.edge_client.aclose())


@then('the edge client state becomes "{state}"')
@then('the edge client is "{state}" with no error and {connects:d} connections')
@then("the edge client stopped with {error}")
def step_client_state(
    context: Any, state: str = "closed", connects: int | None = None, error: str = "NoneType"
) -> None:
    """Wait for ``state``; the client's error (None unless stopped) must be ``error``."""
    client = context.edge_client
    run(context, until(lambda: client.state.value == state, f"state {state}"))
    assert type(client.error).__name__ == error, repr(client.error)
    assert connects is None or client.stats.connects == connects, client.stats
