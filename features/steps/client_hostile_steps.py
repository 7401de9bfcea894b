"""Steps of client_hostile.feature: the SDK against scripted hostile servers.

Every step text contains "hostile". ``context.hostile_http`` is a
:class:`~support.hostile_servers.PollFloodServer`, ``context.hostile_stream`` a
:class:`~support.hostile_servers.HostileStreamServer`; the client is held by a
:class:`~support.client_api_support.ClientHost` (``context.api_host``) whose
log capture (``context.api_logs``) records every ``planstream`` line.
"""

from __future__ import annotations

import resource
from typing import Any

from behave import given, then, when
from support.client_api_support import WAIT, Consumer, fast_settings, start_host, until
from support.hostile_servers import FAR_SEQ, HostileStreamServer, PollFloodServer
from support.servers import on_cleanup, run

import planstream.errors
from planstream import PlanStreamError

_LOG = {"level": "info", "message": "fine", "step_id": None, "stream": "stdout"}


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


# --- servers ------------------------------------------------------------------------


@given(
    "a hostile HTTP server refusing upgrades with 404 and flooding every poll with an endless body"
)
@given(
    "a hostile HTTP server refusing upgrades with 404 and trickling 64 KB every {every:g} s "
    "into every poll"
)
@given(
    "a hostile HTTP server refusing upgrades with 404 and announcing {declared:d} bytes "
    "in every poll answer"
)
def step_http_server(context: Any, every: float | None = None, declared: int | None = None) -> None:
    # The trickle would last 20 s; the flood is capped at 64 MiB so that a
    # client without a cap fails the scenario instead of exhausting the machine.
    body_limit = 100 * 65_536 if every is not None or declared else 64 * 1024 * 1024
    trickle = every if declared is None else 0.2
    server = PollFloodServer(trickle_every=trickle, body_limit=body_limit, declared=declared)
    run(context, server.start())
    on_cleanup(context, server.stop)
    context.hostile_http = server
    context.hostile_url = server.url


def _stream_server(context: Any, **options: Any) -> HostileStreamServer:
    server = HostileStreamServer(**options)
    run(context, server.start())
    on_cleanup(context, server.stop)
    context.hostile_stream = server
    context.hostile_url = server.url
    return server


@given(
    'a hostile stream server answering every subscribe to plan "{plan_id}" with an event at seq 10**15'
)
def step_far_server(context: Any, plan_id: str) -> None:
    _stream_server(context, far=frozenset({plan_id}))


@given('a hostile stream server replaying plan "{plan_id}" with an invalid step.status at seq 2')
def step_invalid_server(context: Any, plan_id: str) -> None:
    _stream_server(context, invalid=frozenset({plan_id}))


@given("a hostile stream server whose hello says heartbeat_s 1e300 and then stays silent")
def step_silent_server(context: Any) -> None:
    _stream_server(context, hello={"heartbeat_s": 1e300}, silent=True)


@given(
    "a hostile stream server sending {count:d} garbage frames and {errors:d} error frames "
    "after its hello"
)
def step_flood_server(context: Any, count: int, errors: int) -> None:
    _stream_server(context, flood=count, error_flood=errors)


@then("the hostile client handled {count:d} server errors tied to no plan")
def step_errors_handled(context: Any, count: int) -> None:
    throttle = context.api_host.client._router.error_lines

    def handled() -> int:
        return len(_lines(context, "WARNING", "server error")) + throttle.suppressed

    run(context, until(lambda: handled() >= count, f"{count} server errors handled"))


@given("a hostile stream server sending a frame of {size:d} bytes after its hello")
def step_oversize_server(context: Any, size: int) -> None:
    _stream_server(context, oversize=size)


@given('the hostile stream server has {count:d} events of plan "{plan_id}"')
@when('the hostile stream server publishes an event to plan "{plan_id}"')
def step_publish(context: Any, plan_id: str, count: int = 1) -> None:
    for _ in range(count):
        run(context, context.hostile_stream.publish(plan_id, "log", _LOG))


# --- the client ---------------------------------------------------------------------


def _start(context: Any, **overrides: Any) -> None:
    context.hostile_rss_before = _rss()
    start_host(context, fast_settings(context.hostile_url, **overrides))


@given('a hostile client in transport "{transport}" aimed at it, polling with the default cap')
def step_client_cap(context: Any, transport: str) -> None:
    _start(context, transport=transport, polling={"fallback_after": 1, "wait": 0.2})


@given(
    'a hostile client in transport "{transport}" aimed at it, polling with wait {wait:g} s '
    "and request timeout {timeout:g} s"
)
def step_client_deadline(context: Any, transport: str, wait: float, timeout: float) -> None:
    polling = {"fallback_after": 1, "wait": wait, "request_timeout": timeout}
    _start(context, transport=transport, polling=polling)


@given('a hostile client in transport "{transport}" aimed at it')
def step_client(context: Any, transport: str) -> None:
    # Default repair limits; the reconnect delays (which repairs back off
    # with) are the small ones of fast_settings.
    sequencer = {"gap_timeout": 0.1, "resubscribe_timeout": 1.0}
    _start(context, transport=transport, sequencer=sequencer)


@given(
    'a hostile client in transport "{transport}" aimed at it, trusting heartbeats of at most '
    "{seconds:g} s"
)
def step_client_heartbeat(context: Any, transport: str, seconds: float) -> None:
    heartbeat = {"max_interval": seconds, "dead_after_factor": 1.0, "ping_interval": 60.0}
    _start(context, transport=transport, heartbeat=heartbeat)


@when('the hostile client subscribes to plan "{plan_id}"')
@when('the hostile client follows plan "{follow_id}" and subscribes to plan "{plan_id}"')
@when('the hostile client follows plan "{follow_id}" alone')
def step_subscribe(context: Any, plan_id: str | None = None, follow_id: str | None = None) -> None:
    host = context.api_host
    context.hostile_consumers = getattr(context, "hostile_consumers", {})
    if follow_id is not None:
        stream = host.client.subscribe(follow_id, follow=True)
        context.hostile_consumers[follow_id] = host.consume(stream, plan_id=follow_id)
    if plan_id is not None:
        context.hostile_consumers[plan_id] = host.consume(
            host.client.subscribe(plan_id), plan_id=plan_id
        )


# --- outcomes -----------------------------------------------------------------------


def _failures(context: Any, text: str) -> list[str]:
    errors = [str(change.error) for change in context.api_host.changes if change.error]
    return [error for error in errors if text in error]


@then('the hostile client reports {count:d} failures mentioning "{text}"')
def step_failures(context: Any, count: int, text: str) -> None:
    run(
        context,
        until(lambda: len(_failures(context, text)) >= count, f"{count} failures: {text}"),
        WAIT + 5,
    )


@then("the hostile HTTP server fed no poll more than {mib:d} MiB")
def step_fed_bytes(context: Any, mib: int) -> None:
    server: PollFloodServer = context.hostile_http
    run(context, until(lambda: server.bytes_sent, "a poll to end"))
    assert max(server.bytes_sent) <= mib * 2**20, server.bytes_sent


@then("the hostile HTTP server fed no poll for more than {seconds:g} s")
def step_fed_time(context: Any, seconds: float) -> None:
    server: PollFloodServer = context.hostile_http
    run(context, until(lambda: server.poll_durations, "a poll to end"))
    assert max(server.poll_durations) <= seconds, server.poll_durations


@then("the hostile client's RSS grew by less than {mib:d} MiB")
def step_rss(context: Any, mib: int) -> None:
    grown = _rss() - context.hostile_rss_before
    assert grown < mib * 2**20, f"RSS grew by {grown / 2**20:.0f} MiB"


def _consumer(context: Any, plan_id: str) -> Consumer:
    consumer: Consumer = context.hostile_consumers[plan_id]
    return consumer


@then('the hostile subscription to plan "{plan_id}" fails with {error} mentioning "{text}"')
def step_subscription_fails(context: Any, plan_id: str, error: str, text: str) -> None:
    consumer = _consumer(context, plan_id)
    run(context, consumer.wait_done(), WAIT + 5)
    ending = consumer.ending
    assert isinstance(ending, getattr(planstream.errors, error)), repr(ending)
    assert text in str(ending), str(ending)
    assert isinstance(ending, planstream.errors.SubscriptionError)
    assert ending.plan_id == plan_id, repr(ending)
    assert ending.code == "repair_failed", repr(ending)
    if plan_id == "far":
        assert str(FAR_SEQ) in str(ending)


@then('the hostile subscription to plan "{plan_id}" received seq {first:d} to {last:d}')
def step_received(context: Any, plan_id: str, first: int, last: int) -> None:
    consumer = _consumer(context, plan_id)
    wanted = list(range(first, last + 1))
    run(context, until(lambda: [i.seq for i in consumer.items] == wanted, f"seqs {wanted}"))


@then(
    'the hostile subscription to plan "{plan_id}" received seq {first:d} to {last:d} '
    "and is still open"
)
def step_received_open(context: Any, plan_id: str, first: int, last: int) -> None:
    step_received(context, plan_id, first, last)
    consumer = _consumer(context, plan_id)
    assert not consumer.done, consumer.ending


@then(
    'the hostile stream server saw at most {count:d} subscribes to plan "{plan_id}" on 1 connection'
)
def step_subscribes(context: Any, count: int, plan_id: str) -> None:
    server: HostileStreamServer = context.hostile_stream
    frames = [f for f in server.frames_of_type("subscribe") if f["plan_id"] == plan_id]
    assert 1 < len(frames) <= count, len(frames)
    assert len(server.connections) == 1, len(server.connections)


@then('the hostile stream server saw subscribes only to plan "{plan_id}", on 1 connection')
def step_subscribes_only(context: Any, plan_id: str) -> None:
    server: HostileStreamServer = context.hostile_stream
    plans = {f["plan_id"] for f in server.frames_of_type("subscribe")}
    assert plans == {plan_id}, plans
    assert len(server.connections) == 1, len(server.connections)


def _lines(context: Any, level: str, text: str) -> list[str]:
    return [
        record.getMessage()
        for record in context.api_logs.records
        if record.levelname == level and text in record.getMessage()
    ]


@then('the hostile client logged at most {count:d} lines re-subscribing plan "{plan_id}"')
def step_resubscribe_lines(context: Any, count: int, plan_id: str) -> None:
    lines = _lines(context, "INFO", f"re-subscribing plan {plan_id!r}")
    assert len(lines) <= count, lines


@then('the hostile client logged at most {count:d} warnings mentioning "{text}"')
def step_warning_count(context: Any, count: int, text: str) -> None:
    lines = _lines(context, "WARNING", text)
    assert 0 < len(lines) <= count, f"{len(lines)} lines: {lines[:3]}"


@then('the hostile client logged a warning mentioning "{text}"')
def step_warning(context: Any, text: str) -> None:
    run(context, until(lambda: _lines(context, "WARNING", text), f"a warning: {text}"))


@then("the hostile client rejects {count:d} frames")
def step_rejected(context: Any, count: int) -> None:
    client = context.api_host.client
    run(context, until(lambda: client.stats.frames_rejected >= count, f"{count} rejected"))


def _raises(context: Any, action: Any, error: str, text: str) -> None:
    raised: PlanStreamError | None = None
    try:
        action()
    except PlanStreamError as exc:
        raised = exc
    assert raised is not None, f"no {error} raised"
    assert isinstance(raised, getattr(planstream.errors, error)), repr(raised)
    assert isinstance(raised, ValueError), repr(raised)
    assert text in str(raised), str(raised)
    assert "7777" not in str(raised), str(raised)  # the id is never echoed
    assert "a/b" not in str(raised), str(raised)


@then('subscribing with a last_event_id of 5000 digits raises {error} mentioning "{text}"')
def step_bad_resume(context: Any, error: str, text: str) -> None:
    client = context.api_host.client
    _raises(context, lambda: client.subscribe("ok2", last_event_id="7" * 5000), error, text)


@then('subscribing to the plan id "{plan_id}" raises {error} mentioning "{text}"')
def step_bad_plan(context: Any, plan_id: str, error: str, text: str) -> None:
    client = context.api_host.client
    _raises(context, lambda: client.subscribe(plan_id), error, text)


@then('watching with a last_event_id of 5000 digits raises {error} mentioning "{text}"')
def step_bad_watch(context: Any, error: str, text: str) -> None:
    client = context.api_host.client
    _raises(context, lambda: client.watch("ok2", last_event_id="7" * 5000), error, text)


@then('running the plan id "{plan_id}" raises {error} mentioning "{text}"')
def step_bad_run(context: Any, plan_id: str, error: str, text: str) -> None:
    client = context.api_host.client

    def call() -> None:
        run(context, client.run("ok", plan_id))

    _raises(context, call, error, text)


@then('the hostile client stops with {error} mentioning "{text}"')
def step_stops(context: Any, error: str, text: str) -> None:
    client = context.api_host.client
    run(context, until(lambda: client.error is not None, "the client to stop"))
    assert isinstance(client.error, getattr(planstream.errors, error)), repr(client.error)
    assert text in str(client.error), str(client.error)
    assert "the server closed" not in str(client.error), str(client.error)


@then('the hostile client\'s error was refused by the "{side}"')
def step_refused_by(context: Any, side: str) -> None:
    assert context.api_host.client.error.refused_by == side


@when("the hostile client is closed")
def step_close(context: Any) -> None:
    run(context, context.api_host.leave())
