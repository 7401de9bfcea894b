"""Steps of client_metrics.feature: the client's OpenTelemetry metrics, read with
the SDK's InMemoryMetricReader, against the reference server on 127.0.0.1.

The server, fault proxy and publishing steps are client_resilience.feature's
(support/client_resilience_scenario.py). Context: ``meter_reader`` and
``meter_provider`` (the scenario's SDK provider, made at ``meter_made``, a
``time.time()``), ``metered`` (name -> :class:`MeteredClient`: "the" and
"second"), ``client_metrics`` and ``client_metrics_before`` (the last two
:class:`MetricsReading` s), ``metered_waiting`` (a subscription not read).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

import parse
from behave import given, register_type, then, when
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, PeriodicExportingMetricReader
from support.client_metrics_support import (
    ATTRIBUTES,
    CountingExporter,
    ErrorRecords,
    MeteredClient,
    MetricsReading,
    UnreferenceableProvider,
)
from support.client_resilience_scenario import check_no_task_leaks, client_settings
from support.client_resilience_support import ItemCollector, wait_until
from support.servers import on_cleanup, run

from planstream import ClientSettings, PlanStreamClient, Resync
from planstream.server import MemoryEventLog

PROGRAM = Path(__file__).resolve().parent.parent / "support" / "metrics_program.py"


@parse.with_pattern(r'[^"]*')
def _parse_metric_text(text: str) -> str:
    return text


# Registered before the decorators below compile their patterns: a quoted
# value never holds a quote, so one pattern cannot swallow a longer step's text.
register_type(MetricText=_parse_metric_text)


def _metered(context: Any, which: str = "the") -> MeteredClient:
    client: MeteredClient = context.metered[which]
    return client


def _start_metered(context: Any, which: str, url: str, table: Any) -> None:
    check_no_task_leaks(context)
    settings = ClientSettings(**client_settings(url, table))
    metered = MeteredClient(
        settings, rng=random.Random(2026), meter_provider=context.meter_provider
    )
    run(context, metered.start())
    on_cleanup(context, metered.aclose)
    context.metered = {**getattr(context, "metered", {}), which: metered}


# --- the meter provider and the clients ---------------------------------------------------


@given("a meter provider with an in-memory metric reader")
def step_meter_provider(context: Any) -> None:
    context.meter_made = time.time()
    context.meter_reader = InMemoryMetricReader()
    context.meter_provider = MeterProvider(metric_readers=[context.meter_reader])

    async def shut_down() -> None:
        context.meter_provider.shutdown()

    on_cleanup(context, shut_down)


@given("a meter provider whose periodic reader exports every {interval:d} ms from its own thread")
def step_periodic_provider(context: Any, interval: int) -> None:
    context.meter_made = time.time()
    context.meter_exporter = CountingExporter()
    reader = PeriodicExportingMetricReader(context.meter_exporter, export_interval_millis=interval)
    context.meter_provider = MeterProvider(metric_readers=[reader])
    # The SDK logs (and swallows) an exception of an instrument's callback here.
    sdk_logger = logging.getLogger("opentelemetry.sdk.metrics._internal.instrument")
    context.meter_errors = ErrorRecords()
    sdk_logger.addHandler(context.meter_errors)

    async def shut_down() -> None:
        sdk_logger.removeHandler(context.meter_errors)
        await asyncio.to_thread(context.meter_provider.shutdown)

    on_cleanup(context, shut_down)


@given("a metered client connected to the reference server")
def step_metered_direct(context: Any) -> None:
    _start_metered(context, "the", context.server.url, None)


@given("a second metered client on the same meter provider")
def step_metered_second(context: Any) -> None:
    _start_metered(context, "second", context.server.url, None)


@given("a metered client connected through the resilience fault proxy")
def step_metered_proxy(context: Any) -> None:
    _start_metered(context, "the", context.resilience_proxy.url, None)


@given("a metered client connected through the resilience fault proxy with settings")
def step_metered_proxy_settings(context: Any) -> None:
    _start_metered(context, "the", context.resilience_proxy.url, context.table)


# --- reading -------------------------------------------------------------------------------


@when('the metered client reads plan "{plan_id}" to its end')
def step_metered_reads(context: Any, plan_id: str) -> None:
    _read_to_end(context, "the", plan_id)


@when('the second metered client reads plan "{plan_id}" to its end')
def step_second_metered_reads(context: Any, plan_id: str) -> None:
    _read_to_end(context, "second", plan_id)


async def _collect(metered: MeteredClient, plan_id: str) -> ItemCollector:
    return metered.collect(plan_id)  # its task starts in the scenario's loop


def _read_to_end(context: Any, which: str, plan_id: str) -> None:
    collector = run(context, _collect(_metered(context, which), plan_id))
    run(context, collector.wait_finished())
    assert collector.error is None, collector


@when('the metered client starts reading plan "{plan_id}"')
def step_metered_starts(context: Any, plan_id: str) -> None:
    run(context, _collect(_metered(context), plan_id))


@when('the metered client has taken {count:d} items of plan "{plan_id}"')
def step_metered_taken(context: Any, count: int, plan_id: str) -> None:
    (collector,) = _metered(context).collectors
    run(context, collector.wait_for_items(count))


@when("the reference server restarts on the same port with an empty memory log")
def step_server_fresh_log(context: Any) -> None:
    server = context.server
    port = server.port
    run(context, server.stop())
    server.log = MemoryEventLog()  # a new incarnation: the client's position is unknown
    run(context, server.start())
    assert server.port == port, (server.port, port)


@then('the metered client takes a Resync of plan "{plan_id}"')
def step_metered_resync(context: Any, plan_id: str) -> None:
    (collector,) = _metered(context).collectors
    resync = run(context, collector.wait_for_resync())
    assert isinstance(resync, Resync), resync


@when('the metered client subscribes to plan "{plan_id}" without reading it')
def step_metered_waiting(context: Any, plan_id: str) -> None:
    subscription = _metered(context).client.subscribe(plan_id)
    context.metered_waiting = subscription
    on_cleanup(context, subscription.aclose)


@when('the metered client has {count:d} items waiting for plan "{plan_id}"')
def step_metered_items_waiting(context: Any, count: int, plan_id: str) -> None:
    client = _metered(context).client
    delivered = lambda: client.stats.events_delivered  # noqa: E731
    run(context, wait_until(lambda: delivered() == count, lambda: f"{delivered()} delivered"))


@when("the metered client takes {count:d} items of its waiting subscription")
def step_metered_takes_waiting(context: Any, count: int) -> None:
    async def take() -> None:
        for _ in range(count):
            await anext(context.metered_waiting)

    run(context, take())


@when("both metered clients are closed")
def step_metered_closed(context: Any) -> None:
    for metered in context.metered.values():
        run(context, metered.aclose())


# --- collecting and judging ------------------------------------------------------------------


@when("the client metrics are collected")
def step_collect(context: Any) -> None:
    before = time.monotonic()
    data = context.meter_reader.get_metrics_data()
    context.client_metrics_before = getattr(context, "client_metrics", None)
    context.client_metrics = MetricsReading(data, (before, time.monotonic()))


def _value(context: Any, name: str, attribute: str | None = None, value: str = "") -> float:
    attributes = None if attribute is None else {ATTRIBUTES[attribute]: value}
    reading: MetricsReading = context.client_metrics
    return reading.value(name, attributes)


def _stat(context: Any, stat: str) -> int:
    figure: int = getattr(_metered(context).client.stats, stat)
    return figure


@then('the client metric "{name:MetricText}" is {value:d}')
def step_metric_is(context: Any, name: str, value: int) -> None:
    assert _value(context, name) == value, context.client_metrics.points(name)


@then(
    'the client metric "{name:MetricText}" is at least {minimum:d}'
    ' and equals the metered client\'s stat "{stat}"'
)
def step_metric_equals_stat(context: Any, name: str, minimum: int, stat: str) -> None:
    figure = _value(context, name)
    assert figure >= minimum, (name, figure)
    assert figure == _stat(context, stat), (name, figure, _metered(context).client.stats)


@then('the client metric "{name:MetricText}" with {attribute} "{value:MetricText}" is {count:d}')
def step_metric_attribute_is(
    context: Any, name: str, attribute: str, value: str, count: int
) -> None:
    assert _value(context, name, attribute, value) == count, context.client_metrics.points(name)


@then(
    'the client metric "{name:MetricText}" with {attribute} "{value:MetricText}"'
    " is at least {minimum:d}"
)
def step_metric_attribute_at_least(
    context: Any, name: str, attribute: str, value: str, minimum: int
) -> None:
    figure = _value(context, name, attribute, value)
    assert figure >= minimum, context.client_metrics.points(name)


@then(
    'the client metric "{name:MetricText}" with {attribute} "{value:MetricText}"'
    ' is at least the metered client\'s stat "{stat}"'
)
def step_metric_attribute_at_least_stat(
    context: Any, name: str, attribute: str, value: str, stat: str
) -> None:
    figure = _value(context, name, attribute, value)
    assert figure >= _stat(context, stat), (figure, _metered(context).client.stats)


@then('the client metric "{name:MetricText}" has no data point')
def step_metric_absent(context: Any, name: str) -> None:
    assert context.client_metrics.points(name) == [], context.client_metrics.points(name)


@then(
    "the lag histogram counted the {count:d} events taken,"
    " each lag between 0 and the time since the meter provider was made"
)
def step_lag_histogram(context: Any, count: int) -> None:
    bound = time.time() - context.meter_made
    point = context.client_metrics.histogram("planstream.client.delivery.lag")
    assert point.count == count, point
    assert 0.0 <= point.min <= point.max <= bound, (point, bound)
    assert point.min * count <= point.sum <= point.max * count, point
    assert sum(point.bucket_counts) == count, point


@then("the connection times add up to the metered client's lifetime")
def step_state_times_add_up(context: Any) -> None:
    metered = _metered(context)
    reading: MetricsReading = context.client_metrics
    total = math.fsum(reading.state_times().values())
    # The client measures from inside its entry to inside the collection.
    shortest = reading.between[0] - metered.entered_between[1]
    longest = reading.between[1] - metered.entered_between[0]
    assert shortest <= total <= longest, (shortest, total, longest, reading.state_times())


@then('the connection spent some time "{first}" and some time "{second}"')
def step_state_times_positive(context: Any, first: str, second: str) -> None:
    times = context.client_metrics.state_times()
    assert times.get(first, 0) > 0, times
    assert times.get(second, 0) > 0, times


@then("the connection times no longer grow once both clients are closed")
def step_state_times_frozen(context: Any) -> None:
    step_collect(context)
    before: MetricsReading = context.client_metrics_before
    after: MetricsReading = context.client_metrics
    assert before.state_times() == after.state_times(), (before.state_times(), after.state_times())
    assert set(after.state_times()) >= {"connecting", "open", "closed"}, after.state_times()


@when("the periodic reader exports once more")
def step_periodic_flush(context: Any) -> None:
    assert context.meter_provider.force_flush(10_000)


@then("the periodic reader exported at least {count:d} times and no instrument callback failed")
def step_periodic_exports(context: Any, count: int) -> None:
    exporter: CountingExporter = context.meter_exporter
    assert exporter.exports >= count, exporter.exports
    failures = [record.getMessage() for record in context.meter_errors.records]
    assert failures == [], failures


@then(
    "its last export counted {events:d} events delivered, {lags:d} lags"
    " and the metered client's reconnects"
)
def step_periodic_last_export(context: Any, events: int, lags: int) -> None:
    reading = MetricsReading(context.meter_exporter.last, (0.0, 0.0))
    assert reading.value("planstream.client.events_delivered") == events, reading
    assert reading.histogram("planstream.client.delivery.lag").count == lags, reading
    reconnects = reading.value("planstream.client.reconnects")
    assert reconnects == _stat(context, "reconnects") >= 1, reconnects


# --- providers that record nothing, or cannot be shared ---------------------------------------


async def _read_with(url: str, plan_id: str, provider: Any) -> tuple[int, int]:
    """(items taken, delivery observers) of a client with ``provider``."""
    async with PlanStreamClient(url, meter_provider=provider) as client:
        taken = 0
        async with client.subscribe(plan_id) as stream:
            async for _item in stream:
                taken += 1
        return taken, len(client._observing.durable)


@when('a client with OpenTelemetry\'s no-op meter provider reads plan "{plan_id}" to its end')
def step_noop_provider(context: Any, plan_id: str) -> None:
    taken, context.metered_observers = run(
        context, _read_with(context.server.url, plan_id, NoOpMeterProvider())
    )
    assert taken == len(context.resilience_published[plan_id]), taken


@then("that client had no delivery observer")
def step_no_observer(context: Any) -> None:
    assert context.metered_observers == 0, context.metered_observers


@when(
    'a client with a meter provider that takes no weak reference reads plan "{plan_id}" to its end'
)
def step_unreferenceable_provider(context: Any, plan_id: str) -> None:
    reader = InMemoryMetricReader()
    inner = MeterProvider(metric_readers=[reader])
    provider = UnreferenceableProvider(inner)
    run(context, _read_with(context.server.url, plan_id, provider))
    context.client_metrics = MetricsReading(reader.get_metrics_data(), (0.0, 0.0))
    inner.shutdown()


@then("that provider's reader saw {events:d} events delivered and {lags:d} lags")
def step_unreferenceable_saw(context: Any, events: int, lags: int) -> None:
    reading: MetricsReading = context.client_metrics
    assert reading.value("planstream.client.events_delivered") == events, reading
    assert reading.histogram("planstream.client.delivery.lag").count == lags, reading


# --- programs in subprocesses: the global provider, no OpenTelemetry at all --------------------


def _run_program(context: Any, mode: str, plan_id: str) -> None:
    async def program() -> dict[str, Any]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(PROGRAM),
            mode,
            context.server.url,
            plan_id,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        result: dict[str, Any] = json.loads(out.decode().splitlines()[-1])
        return result

    context.metrics_program = run(context, program(), timeout=60)


@when(
    'a program reads plan "{plan_id}" with one client entered before it sets'
    " the global meter provider and one after"
)
def step_program_global(context: Any, plan_id: str) -> None:
    _run_program(context, "global", plan_id)


@then("the program's client entered before had no delivery observer")
def step_program_before(context: Any) -> None:
    assert context.metrics_program["observers"] == [0, 1], context.metrics_program


@then("the program's global meter provider saw {events:d} events delivered and {lags:d} lags")
def step_program_global_saw(context: Any, events: int, lags: int) -> None:
    figures = context.metrics_program["figures"]
    assert figures["planstream.client.events_delivered"] == events, figures
    assert figures["planstream.client.delivery.lag"] == lags, figures
    assert context.metrics_program["taken"] == 2 * events, context.metrics_program


@when(
    'a program that cannot import opentelemetry, though a provider is named, reads plan "{plan_id}"'
    " with a client"
)
def step_program_no_otel(context: Any, plan_id: str) -> None:
    _run_program(context, "no-otel", plan_id)


@when(
    'a program that never imports opentelemetry nor names a provider reads plan "{plan_id}"'
    " with a client"
)
def step_program_otel_unused(context: Any, plan_id: str) -> None:
    _run_program(context, "unused", plan_id)


@then(
    "the program took {count:d} items, had no delivery observer and loaded no opentelemetry module"
)
def step_program_no_otel_result(context: Any, count: int) -> None:
    result = context.metrics_program
    assert result["taken"] == count, result
    assert result["observers"] == [0], result
    assert result["opentelemetry_modules"] == [], result
