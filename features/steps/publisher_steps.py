"""Steps of features/publisher.feature: ``PlanPublisher`` against the reference
server, directly or through an :class:`~support.http_fault_proxy.HttpFaultProxy`.

``context.placed`` lists the positions the publisher got back, in order;
``context.publish_error`` is what the last publish raised (None if nothing);
``context.publish_seconds`` how long it took.
"""

from __future__ import annotations

import json
from typing import Any

from behave import given, then, when
from support.http_fault_proxy import HttpFaultProxy
from support.publisher_support import _log, _placed, attempt, publisher
from support.servers import on_cleanup, run

import planstream
from planstream import PlanStreamClient
from planstream.schema import DATA_KINDS, EventData

_MODELS = {kind.value: model for model, kind in DATA_KINDS.items()}


@when('the publisher publishes to plan "{plan_id}" with token "{token}":')
def when_publish_table(context: Any, plan_id: str, token: str) -> None:
    models: list[EventData] = [
        _MODELS[row["kind"]].model_validate(json.loads(row["data"])) for row in context.table
    ]
    context.sent_models = models
    made = publisher(context, token=token)
    for data in models:
        _placed(context, attempt(context, lambda data=data: made.publish(plan_id, data)))
        assert context.publish_error is None, context.publish_error


@when('the publisher publishes {count:d} log lines to plan "{plan_id}" in one publish_many')
def when_publish_many(context: Any, plan_id: str, count: int) -> None:
    made = publisher(context)
    lines = [_log(f"line {n}") for n in range(count)]
    _placed(context, attempt(context, lambda: made.publish_many(plan_id, lines)))
    assert context.publish_error is None, context.publish_error


@then('publish_many of no event returns no position and publishes nothing to plan "{plan_id}"')
def then_publish_nothing(context: Any, plan_id: str) -> None:
    made = publisher(context)
    before = run(context, context.server.state.log.read(plan_id, 0, 100))
    assert run(context, made.publish_many(plan_id, [])) == ()
    assert run(context, context.server.state.log.read(plan_id, 0, 100)) == before


@then("the publisher got seqs {first:d} to {last:d} back, each with an event id")
def then_seqs(context: Any, first: int, last: int) -> None:
    assert [placed.seq for placed in context.placed] == list(range(first, last + 1)), context.placed
    assert all(placed.event_id for placed in context.placed), context.placed


@then(
    'a client subscribed to plan "{plan_id}" with token "{token}" receives exactly those '
    "events, typed"
)
def then_client_receives(context: Any, plan_id: str, token: str) -> None:
    async def collect() -> list[Any]:
        async with PlanStreamClient(context.server.url, token=token) as client:
            return [item async for item in client.subscribe(plan_id)]

    items = run(context, collect())
    assert [(item.seq, item.event_id) for item in items] == [
        (placed.seq, placed.event_id) for placed in context.placed
    ], items
    for item, sent in zip(items, context.sent_models, strict=True):
        assert type(item.data) is type(sent), (item, sent)
        assert item.data == sent, (item, sent)
        assert item.kind == DATA_KINDS[type(sent)].value, item


# --- faults and retries --------------------------------------------------------------


@given('an HTTP fault proxy in front of it that plays "{script}"')
def given_proxy(context: Any, script: str) -> None:
    proxy = HttpFaultProxy(context.server.port, [step.strip() for step in script.split(",")])
    run(context, proxy.start())
    on_cleanup(context, proxy.stop)
    context.proxy = proxy


@when(
    'the publisher publishes a log line to plan "{plan_id}" through the proxy with a request '
    "timeout of {seconds:g} s"
)
def when_publish_proxied(context: Any, plan_id: str, seconds: float) -> None:
    context.proxy_plan = plan_id
    made = publisher(context, context.proxy.http_url, request_timeout=seconds)
    _placed(context, attempt(context, lambda: made.publish(plan_id, _log())))
    assert context.publish_error is None, context.publish_error


@when(
    'the publisher publishes a log line to plan "{plan_id}" through the proxy, {n:d} attempts at most'
)
def when_publish_attempts(context: Any, plan_id: str, n: int) -> None:
    made = publisher(context, context.proxy.http_url, max_attempts=n)
    attempt(context, lambda: made.publish(plan_id, _log()))


@when(
    'the publisher publishes a log line to plan "{plan_id}" through the proxy with a deadline '
    "of {deadline:g} s and a request timeout of {seconds:g} s"
)
def when_publish_deadline(context: Any, plan_id: str, deadline: float, seconds: float) -> None:
    made = publisher(
        context, context.proxy.http_url, deadline=deadline, request_timeout=seconds, max_attempts=50
    )
    attempt(context, lambda: made.publish(plan_id, _log()))


@then("the proxy saw {count:d} POST requests carrying the same Idempotency-Key")
def then_proxy_keys(context: Any, count: int) -> None:
    posts = [request for request in context.proxy.requests if request.method == "POST"]
    assert len(posts) == count, posts
    keys = {request.headers.get("idempotency-key") for request in posts}
    assert len(keys) == 1, keys
    assert None not in keys, keys
    bodies = {request.body for request in posts}
    assert len(bodies) == 1, bodies


@then("the publisher got seq {seq:d} back, the position the server gave the first request")
def then_first_position(context: Any, seq: int) -> None:
    (stored,) = run(context, context.server.state.log.read(context.proxy_plan, 0, 10))
    (placed,) = context.placed
    assert (placed.seq, placed.event_id) == (seq, stored.event_id), (placed, stored)


@then("the second request came at least {seconds:g} s after the first")
def then_waited(context: Any, seconds: float) -> None:
    first, second = context.proxy.requests[:2]
    assert second.arrived - first.arrived >= seconds, second.arrived - first.arrived


@then("the publish failed with RequestRetriesExhaustedError after {n:d} attempts, a RetryableError")
def then_exhausted(context: Any, n: int) -> None:
    error = context.publish_error
    assert isinstance(error, planstream.RequestRetriesExhaustedError), repr(error)
    assert isinstance(error, planstream.RetryableError), repr(error)
    assert error.attempts == n, error.attempts


@then("the error's last error is a ServerUnavailableError and its text names the idempotency key")
def then_last_error(context: Any) -> None:
    error = context.publish_error
    assert isinstance(error.last_error, planstream.ServerUnavailableError), repr(error)
    key = context.proxy.requests[0].headers["idempotency-key"]
    assert error.idempotency_key == key, error.idempotency_key
    assert repr(key) in str(error), str(error)


@then("the publish failed with RequestRetriesExhaustedError, its last error a ConnectionLostError")
def then_exhausted_timeout(context: Any) -> None:
    error = context.publish_error
    assert isinstance(error, planstream.RequestRetriesExhaustedError), repr(error)
    assert isinstance(error.last_error, planstream.ConnectionLostError), repr(error)
    assert "deadline" in str(error), str(error)


@then("the publish took less than {seconds:g} s")
def then_took(context: Any, seconds: float) -> None:
    assert context.publish_seconds < seconds, context.publish_seconds
