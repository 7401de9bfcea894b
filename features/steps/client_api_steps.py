"""Steps of the client API features: servers, subscribing, what the iterators and
the callbacks received. The connection's life (state, fatal stops, polling,
closing) is in client_auth_polling_steps.py; both features use both files.

Every step text contains "api" so it never collides with other features'
steps. The scenario's client, consumers and servers live on ``context`` as
:mod:`support.client_api_scenario` describes; ``context.api_scripted`` is the
scripted server.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from behave import given, then, when
from support.client_api_checks import (
    assert_clean_stats,
    assert_last_snapshot,
    assert_seqs,
    assert_subscription_error,
    assert_watch_snapshots,
    publish_events,
    publish_plan_run,
)
from support.client_api_scenario import (
    CallbackRecorder,
    connect_and_subscribe,
    consumers,
    host,
    start_run,
)
from support.client_api_support import WAIT, seqs_of, until
from support.scripted_servers import ScriptedStreamServer
from support.server_stream_support import log_data, published_id
from support.servers import on_cleanup, run

from planstream import Resync
from planstream.client import Subscription

# --- servers and published plans -----------------------------------------------------


def _start_scripted(context: Any, server: ScriptedStreamServer) -> None:
    run(context, server.start())
    on_cleanup(context, server.stop)
    context.api_scripted = server


@given("an api scripted stream server")
def step_scripted(context: Any) -> None:
    _start_scripted(context, ScriptedStreamServer())


@given('an api scripted stream server answering not_found for plan "{plan_id:ApiText}"')
def step_scripted_not_found(context: Any, plan_id: str) -> None:
    _start_scripted(context, ScriptedStreamServer(not_found=frozenset({plan_id})))


@when('the api scripted server publishes {count:d} events to plan "{plan_id:ApiText}"')
def step_scripted_publish(context: Any, count: int, plan_id: str) -> None:
    async def publish() -> None:
        for number in range(count):
            await context.api_scripted.publish(plan_id, "log", log_data(number))

    run(context, publish())


@given('an api plan "{plan_id:ApiText}" ran {steps:d} steps to "{final:ApiText}"')
def step_plan_ran(context: Any, plan_id: str, steps: int, final: str) -> None:
    publish_plan_run(context, plan_id, steps, final)


# --- connecting and subscribing ----------------------------------------------------


@when('an api client connects {target:ApiTarget} and subscribes to plan "{plan_id:ApiText}"')
def step_connect_subscribe(context: Any, target: str, plan_id: str) -> None:
    connect_and_subscribe(context, target, [plan_id])


@when(
    "an api client connects {target:ApiTarget} "
    'and subscribes to plans "{first:ApiText}" and "{second:ApiText}"'
)
def step_connect_two_plans(context: Any, target: str, first: str, second: str) -> None:
    connect_and_subscribe(context, target, [first, second])


@when('an api client connects {target:ApiTarget} and follows plan "{plan_id:ApiText}"')
def step_connect_follow(context: Any, target: str, plan_id: str) -> None:
    connect_and_subscribe(context, target, [plan_id], follow=True)


@when(
    'an api client connects {target:ApiTarget} and subscribes to plan "{plan_id:ApiText}" '
    "after its event with seq {seq:d}"
)
def step_connect_resume(context: Any, target: str, plan_id: str, seq: int) -> None:
    after = published_id(context, plan_id, seq)
    connect_and_subscribe(context, target, [plan_id], last_event_id=after)


@when(
    'an api client connects {target:ApiTarget} and subscribes to plan "{plan_id:ApiText}" '
    'as "{first:ApiText}" and as "{second:ApiText}"'
)
def step_connect_twice(context: Any, target: str, plan_id: str, first: str, second: str) -> None:
    connect_and_subscribe(context, target, [plan_id, plan_id], names=[first, second])


@when(
    "an api client with queue_size {size:d} connects {target:ApiTarget} and subscribes "
    'to plan "{slow:ApiText}" without reading it and to plan "{fast:ApiText}"'
)
def step_connect_stalled(context: Any, size: int, target: str, slow: str, fast: str) -> None:
    connect_and_subscribe(
        context, target, [slow, fast], settings={"queue_size": size}, stalled=frozenset({slow})
    )


@when('an api client connects {target:ApiTarget} and watches plan "{plan_id:ApiText}"')
def step_connect_watch(context: Any, target: str, plan_id: str) -> None:
    connect_and_subscribe(context, target, [])
    api_host = host(context)
    consumers(context)[plan_id] = api_host.consume(api_host.client.watch(plan_id), plan_id=plan_id)


@when(
    'an api client connects {target:ApiTarget}, takes {count:d} events of plan "{plan_id:ApiText}" '
    "and breaks out of its loop"
)
def step_connect_break(context: Any, target: str, count: int, plan_id: str) -> None:
    connect_and_subscribe(context, target, [])
    client = host(context).client
    metrics = context.server.state.metrics

    async def take_and_break() -> list[Any]:
        taken = []
        async for item in client.subscribe(plan_id):
            taken.append(item)
            if len(taken) == count:
                assert metrics.subscriptions == 1, metrics
                break
        return taken

    assert_seqs(context, run(context, take_and_break(), timeout=WAIT), plan_id, 1, count)


@when('the api consumer of plan "{name:ApiText}" starts reading')
def step_start_reading(context: Any, name: str) -> None:
    context.api_gates[name].set()


# --- what the consumers received -----------------------------------------------------


@then(
    'the api consumer of plan "{name:ApiText}" has received seq {first:d} to {last:d} '
    "exactly once in order"
)
def step_received(context: Any, name: str, first: int, last: int) -> None:
    consumer = consumers(context)[name]
    count = last - first + 1
    run(
        context,
        until(lambda: len(consumer.items) >= count or consumer.done, f"{count} items of {name}"),
    )
    assert_seqs(context, consumer.items, consumer.plan_id, first, last)


@then(
    'the api consumers "{first:ApiText}" and "{second:ApiText}" have each received '
    "seq {low:d} to {high:d} "
    "exactly once in order"
)
def step_both_received(context: Any, first: str, second: str, low: int, high: int) -> None:
    for name in (first, second):
        step_received(context, name, low, high)


@then('the api consumer of plan "{name:ApiText}" is still running')
def step_still_running(context: Any, name: str) -> None:
    consumer = consumers(context)[name]
    assert not consumer.done, f"the consumer ended: {consumer.ending!r}"


@then('the api consumer of plan "{name:ApiText}" ended with "{error:ApiText}"')
def step_ended_with(context: Any, name: str, error: str) -> None:
    consumer = consumers(context)[name]
    run(context, consumer.wait_done())
    assert type(consumer.ending).__name__ == error, repr(consumer.ending)


@then(
    'the api subscription to plan "{plan_id:ApiText}" ended after every published event of the plan'
)
def step_ended_after_all(context: Any, plan_id: str) -> None:
    consumer = consumers(context)[plan_id]
    run(context, consumer.wait_done())
    assert consumer.ending == "end", repr(consumer.ending)
    assert_seqs(context, consumer.items, plan_id, 1, len(context.published[plan_id]))


@then(
    'the api subscription to plan "{plan_id:ApiText}" ended with a SubscriptionError '
    '"{code:ApiText}" naming the plan'
)
def step_subscription_error(context: Any, plan_id: str, code: str) -> None:
    consumer = consumers(context)[plan_id]
    run(context, consumer.wait_done())
    assert_subscription_error(consumer.ending, consumer.items, plan_id, code)


@then('the api subscription to plan "{plan_id:ApiText}" resumes after the event with seq {seq:d}')
def step_resumes_after(context: Any, plan_id: str, seq: int) -> None:
    subscription = consumers(context)[plan_id].iterator
    assert isinstance(subscription, Subscription), subscription
    assert subscription.last_event_id == published_id(context, plan_id, seq), subscription


@then('the api watch of plan "{plan_id:ApiText}" ended after one snapshot per published event')
def step_watch_ended(context: Any, plan_id: str) -> None:
    consumer = consumers(context)[plan_id]
    run(context, consumer.wait_done())
    assert consumer.ending == "end", repr(consumer.ending)
    assert_watch_snapshots(consumer.items, plan_id, len(context.published[plan_id]))


@then(
    'the last api snapshot of plan "{plan_id:ApiText}" is "{status:ApiText}" at its last seq '
    'with steps "{steps:ApiText}" all "{step_status:ApiText}"'
)
def step_last_snapshot(
    context: Any, plan_id: str, status: str, steps: str, step_status: str
) -> None:
    last = consumers(context)[plan_id].items[-1]
    head = context.published[plan_id][-1]
    names = [name.strip() for name in steps.split(",")]
    assert_last_snapshot(last, head, status, names, step_status)


@then(
    'the api stalled subscription to plan "{plan_id:ApiText}" holds at most {size:d} items '
    "and has overflowed"
)
def step_stalled_bounded(context: Any, plan_id: str, size: int) -> None:
    consumer = consumers(context)[plan_id]
    subscription = consumer.iterator
    assert isinstance(subscription, Subscription), subscription
    run(context, until(lambda: subscription.overflows >= 1, f"{plan_id} to overflow"))
    assert consumer.items == [], "the stalled consumer read"
    queued = len(subscription._inbox.items or ())  # the bound itself is what this checks
    assert queued <= size, queued


# --- the client as a whole -----------------------------------------------------------


@then(
    "the api client stats count {connects:d} connect, {reconnects:d} reconnects, "
    '{delivered:d} events delivered, an rtt and state "{state:ApiText}"'
)
def step_stats(context: Any, connects: int, reconnects: int, delivered: int, state: str) -> None:
    stats = host(context).client.stats
    assert_clean_stats(
        stats, connects=connects, reconnects=reconnects, delivered=delivered, state=state
    )


@then('the api client stats say state "{state:ApiText}"')
def step_stats_state(context: Any, state: str) -> None:
    assert host(context).client.stats.state.value == state


@then("the api client stats count at least {count:d} slow consumer rewind")
def step_stats_rewinds(context: Any, count: int) -> None:
    stats = host(context).client.stats
    assert stats.slow_consumer_rewinds >= count, stats


@then("the reference server holds {count:d} subscription")
@then("the reference server holds {count:d} subscriptions")
def step_server_subscriptions(context: Any, count: int) -> None:
    metrics = context.server.state.metrics
    run(context, until(lambda: metrics.subscriptions == count, f"{count} subscriptions"))


# --- callbacks -----------------------------------------------------------------------


@when(
    'an api client runs plan "{plan_id:ApiText}" with a sync callback raising '
    'on "{kind:ApiText}" events '
    "and an async callback recording everything"
)
def step_run_raising(context: Any, plan_id: str, kind: str) -> None:
    connect_and_subscribe(context, "to the reference server", [])
    recorder = context.api_callbacks = CallbackRecorder()
    client = host(context).client
    client.on_any(recorder.raising(kind))
    client.on_any(recorder.asynchronous("everything"))
    start_run(context, plan_id)


@when(
    "an api client registers callbacks on LogEvent, on StepStatusEvent, on Resync, on every item, "
    "a decorated one on PlanStatusEvent and one removed with off()"
)
def step_register_callbacks(context: Any) -> None:
    connect_and_subscribe(context, "to the reference server", [])
    context.api_callbacks = CallbackRecorder()
    context.api_callbacks.register_every_target(host(context).client)


@when('the api client runs plan "{plan_id:ApiText}" in the background until a resync was delivered')
def step_run_until_resync(context: Any, plan_id: str) -> None:
    start_run(context, plan_id)
    seen = context.api_callbacks.seen["Resync"]
    run(context, until(lambda: bool(seen) or context.api_run.done(), "a resync"))


@when(
    'an api step "{step_id:ApiText}" succeeded, a log line '
    'and a terminal status "{status:ApiText}" '
    'are published to plan "{plan_id:ApiText}"'
)
def step_publish_tail(context: Any, step_id: str, status: str, plan_id: str) -> None:
    step = {"step_id": step_id, "index": 1, "name": step_id, "status": "succeeded", "error": None}
    log = {"level": "info", "message": "tail", "step_id": step_id, "stream": "stdout"}
    final = {"status": status, "reason": None}
    publish_events(context, plan_id, [("step.status", step), ("log", log), ("plan.status", final)])


@then('the api run of plan "{plan_id:ApiText}" completed')
def step_run_completed(context: Any, plan_id: str) -> None:
    run(context, asyncio.wait_for(asyncio.shield(context.api_run), WAIT))
    assert host(context).client.state.value == "open", host(context).client.state


@then(
    "the api recording callback saw every published event "
    'of plan "{plan_id:ApiText}" once, in order'
)
def step_recorder_saw_all(context: Any, plan_id: str) -> None:
    seen = context.api_callbacks.seen["everything"]
    assert_seqs(context, seen, plan_id, 1, len(context.published[plan_id]))


@then("the api client stats count {count:d} callback errors")
def step_callback_errors(context: Any, count: int) -> None:
    assert context.api_callbacks.raised == count, context.api_callbacks.raised
    assert host(context).client.stats.callback_errors == count, host(context).client.stats


@then("the api log holds {count:d} error records with a traceback naming the raising callback")
def step_callback_logged(context: Any, count: int) -> None:
    records = [
        record
        for record in context.api_logs.records
        if record.levelno >= logging.ERROR and "raise_on_kind" in record.getMessage()
    ]
    assert len(records) == count, [r.getMessage() for r in context.api_logs.records]
    for record in records:
        assert record.exc_info is not None, record
        assert record.exc_info[0] is RuntimeError, record
        assert record.name.startswith("planstream"), record.name


@then('the api callback on "{name:ApiText}" saw a "{reason:ApiText}" resync at seq {seq:d}')
def step_callback_resync(context: Any, name: str, reason: str, seq: int) -> None:
    seen = context.api_callbacks.seen[name]
    assert len(seen) == 1, seen
    resync = seen[0]
    assert isinstance(resync, Resync), resync
    assert resync.reason.value == reason, resync
    assert resync.snapshot.head is not None, resync
    assert resync.snapshot.head.seq == seq, resync


@then('the api callback on "{name:ApiText}" saw seq {seqs}')
def step_callback_seqs(context: Any, name: str, seqs: str) -> None:
    seen = seqs_of(context.api_callbacks.seen[name])
    assert seen == [int(seq) for seq in seqs.split(",")], seen


@then('the api callback on "{name:ApiText}" saw nothing')
def step_callback_nothing(context: Any, name: str) -> None:
    assert context.api_callbacks.seen[name] == [], context.api_callbacks.seen[name]
