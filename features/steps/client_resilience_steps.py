"""Steps of client_resilience.feature: the client's delivery guarantees against
the real reference server on 127.0.0.1, directly or through the fault proxy.

The server steps speak of "a reference server" like every feature's (the
server is ``context.server``, a :class:`RestartableServer` or
:class:`RestartableProcess` from support/servers.py); the other step texts say
"resilience" or "resilient" so they never collide. Context:
``resilience_proxy`` (a :class:`FaultProxy`), ``resilient`` (the
:class:`ResilientClient`), ``resilience_collectors`` (plan id ->
:class:`ItemCollector`), ``resilience_published`` (plan id -> ``(seq,
event_id)`` in publication order).
"""

from __future__ import annotations

import asyncio
import math
import random
from typing import Any

from behave import given, then, when
from support.client_resilience_scenario import (
    bound_closed_port,
    client_settings,
    collector_of,
    fault_plan,
    publish_logs,
    publish_status,
    server_settings,
    start_client,
    start_server,
    table_value,
)
from support.client_resilience_support import (
    ResilientClient,
    check_stream,
    parse_expected_stream,
    wait_until,
)
from support.fault_proxy import FaultProxy
from support.servers import RestartableProcess, RestartableServer, on_cleanup, run

from planstream import Resync
from planstream.errors import AuthenticationError, HeartbeatTimeoutError, RetriesExhaustedError

# --- servers ---------------------------------------------------------------------------


@given("a reference server whose memory log survives restarts")
def step_resilience_server(context: Any) -> None:
    start_server(context, RestartableServer())


@given("a reference server whose memory log survives restarts, with settings")
def step_resilience_server_settings(context: Any) -> None:
    start_server(context, RestartableServer(**server_settings(context.table)))


@given("a reference server running as a subprocess that can be killed and replaced")
def step_resilience_server_process(context: Any) -> None:
    start_server(context, RestartableProcess())


@when("the reference server starts again on the same port with the same log")
def step_resilience_server_restarts(context: Any) -> None:
    server: RestartableServer = context.server
    port = server.port
    run(context, server.start())
    assert server.port == port, (server.port, port)


@when("the reference server process is killed with SIGKILL")
def step_resilience_process_killed(context: Any) -> None:
    exit_code = run(context, context.server.kill())
    assert exit_code == -9, exit_code


@when("a new reference server process starts on the same port")
def step_resilience_process_replaced(context: Any) -> None:
    run(context, context.server.start())


# --- publishing ------------------------------------------------------------------------


@given('{count:d} resilience log events are published to plan "{plan_id}"')
@when('{count:d} resilience log events are published to plan "{plan_id}"')
def step_resiliencepublish_logs(context: Any, count: int, plan_id: str) -> None:
    run(context, publish_logs(context, plan_id, count))


@given('{count:d} resilience log events and a "{status}" status are published to plan "{plan_id}"')
@when('{count:d} resilience log events and a "{status}" status are published to plan "{plan_id}"')
def step_resilience_publish_logs_and_status(
    context: Any, count: int, status: str, plan_id: str
) -> None:
    async def publish() -> None:
        await publish_logs(context, plan_id, count)
        await publish_status(context, plan_id, status)

    run(context, publish())


@when(
    '{count:d} resilience log events and a "{status}" status are published to plan "{plan_id}"'
    " in chunks of {chunk:d} while it streams"
)
def step_resilience_publish_in_chunks(
    context: Any, count: int, status: str, plan_id: str, chunk: int
) -> None:
    async def publish() -> None:
        for start in range(0, count, chunk):
            await publish_logs(context, plan_id, min(chunk, count - start))
            await asyncio.sleep(0.01)  # let the stream flow between chunks
        await publish_status(context, plan_id, status)

    run(context, publish())


@given('plan "{plan_id}" is running {steps:d} resilience steps and logged {lines:d} lines')
def step_resilience_plan_running(context: Any, plan_id: str, steps: int, lines: int) -> None:
    async def publish() -> None:
        server = context.server
        published = context.resilience_published.setdefault(plan_id, [])
        published.append(
            await server.publish(plan_id, "plan.status", {"status": "running", "reason": None})
        )
        for index in range(steps):
            data = {
                "step_id": f"step-{index}",
                "index": index,
                "name": f"step {index}",
                "status": "succeeded",
                "error": None,
            }
            published.append(await server.publish(plan_id, "step.status", data))
        await publish_logs(context, plan_id, lines)

    run(context, publish())


# --- the fault proxy ---------------------------------------------------------------------


@given("a resilience fault proxy in front of the server with faults")
def step_resilience_proxy(context: Any) -> None:
    proxy = FaultProxy(context.server.url, fault_plan(context.table))
    run(context, proxy.start())
    on_cleanup(context, proxy.aclose)
    context.resilience_proxy = proxy


@when("the resilience fault proxy stalls its open connections")
def step_resilience_proxy_stalls(context: Any) -> None:
    stalled = context.resilience_proxy.stall_open_links()
    assert stalled == 1, f"{stalled} connections were open, expected the client's one"


@then('the resilience fault proxy\'s "{counter}" count is at least {minimum:d}')
def step_resilience_proxy_count(context: Any, counter: str, minimum: int) -> None:
    proxy: FaultProxy = context.resilience_proxy
    assert getattr(proxy.stats, counter) >= minimum, proxy.stats


@then('the resilience fault proxy\'s "{counter}" count is {value:d}')
def step_resilience_proxy_count_is(context: Any, counter: str, value: int) -> None:
    proxy: FaultProxy = context.resilience_proxy
    assert getattr(proxy.stats, counter) == value, proxy.stats


# --- the client ------------------------------------------------------------------------


@given("a resilient client connected to the reference server")
def step_resilient_client_direct(context: Any) -> None:
    start_client(context, client_settings(context.server.url, None))


@given("a resilient client connected through the resilience fault proxy")
def step_resilient_client_proxy(context: Any) -> None:
    start_client(context, client_settings(context.resilience_proxy.url, None))


@given("a resilient client connected through the resilience fault proxy with settings")
def step_resilient_client_proxy_settings(context: Any) -> None:
    start_client(context, client_settings(context.resilience_proxy.url, context.table))


@given(
    "a resilient client with seed {seed:d} aimed at a port where nothing listens,"
    " with reconnect settings"
)
def step_resilient_client_refused(context: Any, seed: int) -> None:
    port = bound_closed_port(context)
    settings = client_settings(f"ws://127.0.0.1:{port}/v1/stream", None)
    settings["reconnect"] = {row["setting"]: table_value(row["value"]) for row in context.table}
    context.resilience_seed = seed
    resilient = start_client(context, settings, seed)
    context.resilience_policy = resilient.client.settings.reconnect.policy()


@when('the resilient client subscribes to plan "{plan_id}" from the start')
def step_resilient_subscribe(context: Any, plan_id: str) -> None:
    async def subscribe() -> None:
        context.resilience_collectors[plan_id] = context.resilient.collect(plan_id)

    run(context, subscribe())


@when('the resilient client subscribes to plan "{plan_id}" after its event with seq {seq:d}')
def step_resilient_subscribe_after(context: Any, plan_id: str, seq: int) -> None:
    (event_id,) = [eid for s, eid in context.resilience_published[plan_id] if s == seq]

    async def subscribe() -> None:
        context.resilience_collectors[plan_id] = context.resilient.collect(plan_id, event_id)

    run(context, subscribe())


@when('the resilient client has received {count:d} items of plan "{plan_id}"')
def step_resilient_received(context: Any, count: int, plan_id: str) -> None:
    run(context, collector_of(context, plan_id).wait_for_items(count))


# --- what the client delivered ---------------------------------------------------------------


@then('the resilient stream of plan "{plan_id}" ends as "{expected}"')
def step_resilient_stream_ends_as(context: Any, plan_id: str, expected: str) -> None:
    collector = collector_of(context, plan_id)
    run(context, collector.wait_finished())
    assert collector.error is None, f"the stream failed: {collector!r}"
    check_stream(collector.items, parse_expected_stream(expected))
    event_ids = [event.event_id for event in collector.events]
    assert len(set(event_ids)) == len(event_ids), "an event id was delivered twice"
    stats = context.resilient.client.stats
    assert stats.events_delivered == len(collector.events), (stats, len(collector.events))


@then('the resilient client delivers a Resync "{reason}" for plan "{plan_id}"')
def step_resilient_delivers_resync(context: Any, reason: str, plan_id: str) -> None:
    resync = run(context, collector_of(context, plan_id).wait_for_resync())
    assert resync.reason.value == reason, resync
    assert resync.plan_id == plan_id, resync


@then(
    'the resilient Resync of plan "{plan_id}" has a "{status}" snapshot'
    " with {steps:d} succeeded steps at seq {seq:d}"
)
def step_resilient_resync_snapshot(
    context: Any, plan_id: str, status: str, steps: int, seq: int
) -> None:
    collector = collector_of(context, plan_id)
    assert isinstance(collector.items[0], Resync), f"the first item is not a Resync: {collector!r}"
    snapshot = collector.items[0].snapshot
    assert snapshot.plan_id == plan_id, snapshot
    assert snapshot.status is not None, snapshot
    assert snapshot.status.value == status, snapshot
    assert [step.status.value for step in snapshot.steps] == ["succeeded"] * steps, snapshot
    assert snapshot.head is not None, snapshot
    assert snapshot.head.seq == seq, snapshot
    (expected_id,) = [eid for s, eid in context.resilience_published[plan_id] if s == seq]
    assert snapshot.head.event_id == expected_id, (snapshot.head, expected_id)


@then(
    'the resilient events of plan "{plan_id}" after the Resync come from a new incarnation'
    " of the stream"
)
def step_resilient_new_incarnation(context: Any, plan_id: str) -> None:
    items = collector_of(context, plan_id).items
    cut = next(index for index, item in enumerate(items) if isinstance(item, Resync))
    before = {
        item.event_id.rpartition(".")[0] for item in items[:cut] if not isinstance(item, Resync)
    }
    after = {
        item.event_id.rpartition(".")[0]
        for item in items[cut + 1 :]
        if not isinstance(item, Resync)
    }
    assert len(before) == 1, before
    assert len(after) == 1, after
    assert before != after, (before, after)


@then(
    'the resilient stream of plan "{plan_id}" fails with RetriesExhaustedError'
    " after {attempts:d} attempts"
)
def step_resilient_stream_exhausted(context: Any, plan_id: str, attempts: int) -> None:
    collector = collector_of(context, plan_id)
    run(context, collector.wait_finished())
    assert collector.items == [], collector
    assert isinstance(collector.error, RetriesExhaustedError), collector
    assert collector.error.attempts == attempts, collector.error


@then('the resilient stream of plan "{plan_id}" fails with AuthenticationError')
def step_resilient_stream_unauthorized(context: Any, plan_id: str) -> None:
    collector = collector_of(context, plan_id)
    run(context, collector.wait_finished())
    assert collector.items == [], collector
    assert isinstance(collector.error, AuthenticationError), collector
    assert context.resilient.client.error is collector.error, context.resilient.client.error


@then("the resilient client made no retry")
def step_resilient_no_retry(context: Any) -> None:
    resilient: ResilientClient = context.resilient
    assert resilient.retry_delays() == [], resilient.changes
    assert resilient.client.stats.connects == 0, resilient.client.stats


@then("the resilient client's error is {name} caused by {cause}")
def step_resilient_client_error(context: Any, name: str, cause: str) -> None:
    error = context.resilient.client.error
    assert type(error).__name__ == name, repr(error)
    assert type(error.__cause__).__name__ == cause, repr(error.__cause__)


@then('the resilient client\'s first failure was a {name} mentioning "{text}"')
def step_resilient_first_failure(context: Any, name: str, text: str) -> None:
    failures = context.resilient.failures()
    assert failures, "no failure was reported"
    assert type(failures[0]).__name__ == name, failures
    assert text in str(failures[0]), failures[0]


@then("the resilient client reports a HeartbeatTimeoutError after {limit:g} s of silence")
def step_resilient_heartbeat_timeout(context: Any, limit: float) -> None:
    resilient: ResilientClient = context.resilient

    def timeouts() -> list[HeartbeatTimeoutError]:
        return [error for error in resilient.failures() if isinstance(error, HeartbeatTimeoutError)]

    run(context, wait_until(lambda: bool(timeouts()), lambda: repr(resilient.changes)))
    timeout = timeouts()[0]
    assert math.isclose(timeout.limit, limit), timeout.limit  # heartbeat_s x dead_after_factor
    assert timeout.silent_for >= timeout.limit, timeout


# --- stats, states and delays ------------------------------------------------------------


@then('the resilient client\'s stat "{name}" is at least {minimum:d}')
def step_resilient_stat_at_least(context: Any, name: str, minimum: int) -> None:
    stats = context.resilient.client.stats
    assert getattr(stats, name) >= minimum, stats


@then('the resilient client\'s stat "{name}" is {value:d}')
def step_resilient_stat_is(context: Any, name: str, value: int) -> None:
    stats = context.resilient.client.stats
    assert getattr(stats, name) == value, stats


@then("the resilient client went from reconnecting to open at least {minimum:d} time")
@then("the resilient client went from reconnecting to open at least {minimum:d} times")
def step_resilient_reconnections(context: Any, minimum: int) -> None:
    resilient: ResilientClient = context.resilient
    assert resilient.reconnections() >= minimum, [state.value for state in resilient.state_path()]


@then("the resilient client's retry delays are the seeded schedule to within {tolerance:g} s")
def step_resilient_delays_seeded(context: Any, tolerance: float) -> None:
    delays = context.resilient.retry_delays()
    expected = list(context.resilience_policy.schedule(random.Random(context.resilience_seed)))
    assert len(delays) == len(expected), (delays, expected)
    for got, wanted in zip(delays, expected, strict=True):
        assert abs(got - wanted) <= tolerance, (delays, expected)


@then("each resilient retry delay n lies within 0 and min(max_delay, initial_delay x factor^n)")
def step_resilient_delays_envelope(context: Any) -> None:
    policy = context.resilience_policy
    for attempt, delay in enumerate(context.resilient.retry_delays()):
        ceiling = min(policy.max_delay, policy.initial_delay * policy.factor**attempt)
        assert 0 <= delay <= ceiling + 1e-9, (attempt, delay, ceiling)


@then("the resilient client gave up within {seconds:g} s")
def step_resilient_gave_up_within(context: Any, seconds: float) -> None:
    resilient: ResilientClient = context.resilient
    assert resilient.client.state.value == "closed", resilient.client.state
    took = resilient.change_times[-1] - resilient.change_times[0]
    assert took <= seconds, took
