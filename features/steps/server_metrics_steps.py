"""Steps of server_metrics.feature: scrape /metrics and check the issue 15 figures.

The scrape is parsed with ``prometheus_client.parser``; each sample is keyed
``name{label="value",...}`` (labels sorted), so a table row names one series.
Subscribers are raw WebSocket clients (support/wsclient.py): the figures are
checked against the protocol, not against the SDK's client.
"""

from __future__ import annotations

import asyncio
from typing import Any

from behave import given, then, when
from prometheus_client.parser import text_string_to_metric_families
from support.server_http_client import call, json_of, request, ws_url
from support.server_stream_support import publish_logs
from support.servers import on_cleanup, run, start_reference_server
from support.wsclient import RawClient, flatten

from planstream.server.redis_log import RedisEventLog


def _key(name: str, labels: dict[str, str]) -> str:
    shown = ",".join(f'{label}="{value}"' for label, value in sorted(labels.items()))
    return f"{name}{{{shown}}}" if shown else name


async def _subscriber(context: Any) -> RawClient:
    subscriber = await RawClient.open(ws_url(context))
    on_cleanup(context, subscriber.close)
    context.raw_subscriber = subscriber
    return subscriber


def _follow(
    context: Any, plan_id: str, last_event_id: str | None, expected: str, count: int = 0
) -> dict[str, Any]:
    """Subscribe on a new connection; the answer must be ``expected``; read ``count`` events."""

    async def follow() -> dict[str, Any]:
        subscriber = await _subscriber(context)
        await subscriber.subscribe(plan_id, last_event_id)
        answer = await subscriber.recv()
        assert answer["type"] == expected, answer
        events = await _events(subscriber, count)
        assert all(event["plan_id"] == plan_id for event in events), events
        return answer

    answer: dict[str, Any] = run(context, follow())
    return answer


async def _events(subscriber: RawClient, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while len(events) < count:
        events.extend(flatten(await subscriber.recv()))
    return events


@given("a reference server on that Redis")
def given_server_on_redis(context: Any) -> None:
    server = start_reference_server(context, redis_url=context.redis_url, plan_ttl=60.0)
    log = server.state.log
    assert isinstance(log, RedisEventLog), log
    run(context, asyncio.wait_for(log.reader.subscribed.wait(), 10))


@when('a raw subscriber follows plan "{plan_id}" from the start and reads {count:d} events')
def when_follow_from_start(context: Any, plan_id: str, count: int) -> None:
    _follow(context, plan_id, None, "subscribed", count)


@when('a raw subscriber follows plan "{plan_id}" from the start and is resynced')
def when_follow_resynced(context: Any, plan_id: str) -> None:
    _follow(context, plan_id, None, "resync")


@when(
    'a raw subscriber follows plan "{plan_id}" after its event {seq:d} and reads {count:d} events'
)
def when_follow_after(context: Any, plan_id: str, seq: int, count: int) -> None:
    event_id = dict(context.published[plan_id])[seq]
    _follow(context, plan_id, event_id, "subscribed", count)


@when('a raw subscriber follows plan "{plan_id}" after the event id "{event_id}" and is resynced')
def when_follow_unknown(context: Any, plan_id: str, event_id: str) -> None:
    answer = _follow(context, plan_id, event_id, "resync")
    assert answer["reason"] == "unknown_event_id", answer


@when("the raw subscriber reads {count:d} more events")
def when_read_more(context: Any, count: int) -> None:
    run(context, _events(context.raw_subscriber, count))


@when('plan "{plan_id}" is forgotten by the server and published to again {count:d} time')
def when_forgotten(context: Any, plan_id: str, count: int) -> None:
    head = context.published[plan_id][-1][1]
    assert run(context, context.server.state.log.evict(plan_id, head))
    context.published[plan_id] = []
    publish_logs(context, plan_id, count)


@when('the raw subscriber receives a resync "{reason}" and {count:d} more event')
def when_resync_then_events(context: Any, reason: str, count: int) -> None:
    async def receive() -> None:
        subscriber = context.raw_subscriber
        frame = await subscriber.recv_until("resync")
        assert frame["reason"] == reason, frame
        events = await _events(subscriber, count)
        assert [event["seq"] for event in events] == list(range(1, count + 1)), events

    run(context, receive())


@when('plan "{plan_id}" is polled over HTTP after its event {seq:d}')
def when_polled(context: Any, plan_id: str, seq: int) -> None:
    event_id = dict(context.published[plan_id])[seq]
    response = call(context, "GET", f"/v1/plans/{plan_id}/events", params={"after": event_id})
    assert response.status_code == 200, response.text
    assert json_of(response)["resync"]["reason"] == "history_expired", response.text


@when("a raw subscriber sends {count:d} pings at once")
def when_pings(context: Any, count: int) -> None:
    async def flood() -> None:
        subscriber = await _subscriber(context)
        for number in range(count):
            await subscriber.send({"type": "ping", "id": f"p{number}"})
        answers = [await subscriber.recv() for _ in range(count)]
        kinds = [answer.get("code", answer["type"]) for answer in answers]
        assert "rate_limited" in kinds, kinds

    run(context, flood())


@when('{count:d} events are POSTed to plan "{plan_id}" at once')
def when_posted(context: Any, count: int, plan_id: str) -> None:
    body = {"kind": "log", "data": {"level": "info", "message": "m", "stream": "stdout"}}

    async def post() -> list[int]:
        path = f"/v1/plans/{plan_id}/events"
        answers = await asyncio.gather(
            *(request(context, "POST", path, json=body) for _ in range(count))
        )
        return [answer.status_code for answer in answers]

    statuses = run(context, post())
    assert sorted(statuses) == [201] + [429] * (count - 1), statuses


@when("the server's metrics are scraped")
def when_scraped(context: Any) -> None:
    response = call(context, "GET", "/metrics")
    assert response.status_code == 200, response.text
    samples: dict[str, float] = {}
    families: dict[str, Any] = {}
    for family in text_string_to_metric_families(response.text):
        assert family.name not in families, f"two families named {family.name}"
        families[family.name] = family
        for sample in family.samples:
            samples[_key(sample.name, sample.labels)] = sample.value
    status = call(context, "GET", "/v1/status")
    assert status.status_code == 200, status.text
    context.scrape, context.scrape_families, context.scrape_status = samples, families, status


@then("the scraped figures are:")
def then_figures(context: Any) -> None:
    wrong = {
        row["figure"]: context.scrape.get(row["figure"])
        for row in context.table
        if context.scrape.get(row["figure"]) != float(row["value"])
    }
    assert not wrong, wrong


@then('the scraped figure "{figure}" is at least {least:d}')
def then_figure_at_least(context: Any, figure: str, least: int) -> None:
    assert context.scrape[figure] >= least, (figure, context.scrape[figure])


@then('the scrape has no "{name}" family')
def then_no_family(context: Any, name: str) -> None:
    assert name not in context.scrape_families, sorted(context.scrape_families)


@then('/v1/status says the same as the scrape for "{a}", "{b}", "{c}" and "{d}"')
def then_status_agrees(context: Any, a: str, b: str, c: str, d: str) -> None:
    status = json_of(context.scrape_status)
    names = {
        "events_replayed": "planstream_events_replayed_total",
        "events_live": "planstream_events_live_total",
        "resumes_exact": 'planstream_resumes_total{outcome="exact"}',
        "resyncs_unknown_event_id": 'planstream_resyncs_sent_total{reason="unknown_event_id"}',
    }
    for key in (a, b, c, d):
        assert status[key] == context.scrape[names[key]], (key, status[key])
    assert status["events_sent"] == status["events_replayed"] + status["events_live"], status


@then('the Redis latency histogram counts at least {least:d} "{operation}" calls')
def then_redis_count(context: Any, least: int, operation: str) -> None:
    count = context.scrape.get(_key("planstream_redis_seconds_count", {"op": operation}), 0)
    assert count >= least, (operation, count, sorted(context.scrape))


@then(
    "every Redis latency histogram is cumulative, ends at +Inf with its count and has a positive sum"
)
def then_redis_histograms(context: Any) -> None:
    family = context.scrape_families["planstream_redis_seconds"]
    assert family.type == "histogram", family.type
    buckets: dict[str, list[tuple[float, float]]] = {}
    for sample in family.samples:
        if sample.name.endswith("_bucket"):
            bound = float(sample.labels["le"])
            buckets.setdefault(sample.labels["op"], []).append((bound, sample.value))
    assert buckets, family.samples
    for operation, rows in buckets.items():
        counts = [count for _, count in sorted(rows)]
        assert counts == sorted(counts), (operation, rows)
        assert sorted(rows)[-1][0] == float("inf"), rows
        total = context.scrape[_key("planstream_redis_seconds_count", {"op": operation})]
        assert counts[-1] == total, (operation, counts, total)
        assert context.scrape[_key("planstream_redis_seconds_sum", {"op": operation})] > 0


@then('the Redis log\'s latency record shows the count of its "{operation}" calls')
def then_latency_repr(context: Any, operation: str) -> None:
    latency = context.server.state.log.latency
    count = latency.operations[operation].count
    assert f"'{operation}': {count}" in repr(latency), repr(latency)
    assert count == context.scrape[_key("planstream_redis_seconds_count", {"op": operation})]
