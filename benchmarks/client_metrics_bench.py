"""What the client's OpenTelemetry metrics cost per event (docs/guide/observability.md).

The client of ``benchmarks/client_bench.py`` (``async for`` over a subscription,
against ``frame_server.py`` in its own process) is run three ways, in
interleaved rounds so each sees the same machine load:

* ``none``: no ``meter_provider`` and no global one set: no observer is added;
* ``sdk``: an SDK ``MeterProvider`` with an ``InMemoryMetricReader``, collected
  once at the end of the run (the counters are read then; the lag histogram
  records every event as the user takes it);
* ``sdk-drop``: the same with a View that drops ``planstream.client.delivery.lag``
  (what an application that does not want the per-event histogram can do).

For each: events/s (wall clock) and CPU time per event of the client's process
(steadier on a loaded machine), best of the rounds.

Run: ``python benchmarks/client_metrics_bench.py [ROUNDS]`` (default 3), with the
``test`` extra installed (it has the OpenTelemetry SDK).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from planstream import ClientSettings, PlanStreamClient

try:  # asv imports this module as benchmarks.client_metrics_bench (it has no asv benchmark)
    from .client_bench import EVENTS, PLAN_ID, frame_server
except ImportError:  # run as a script: benchmarks/ is on sys.path
    from client_bench import EVENTS, PLAN_ID, frame_server  # type: ignore[no-redef]

MODES = ("none", "sdk", "sdk-drop")


def provider_of(mode: str) -> tuple[Any, Any]:
    """(meter provider, its reader) of ``mode``: the SDK (the ``test`` extra) only here,
    so asv, which imports every module of benchmarks/, needs no OpenTelemetry."""
    if mode == "none":
        return None, None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.metrics.view import DropAggregation, View

    reader = InMemoryMetricReader()
    views = []
    if mode == "sdk-drop":
        lag = "planstream.client.delivery.lag"
        views = [View(instrument_name=lag, aggregation=DropAggregation())]
    return MeterProvider(metric_readers=[reader], views=views), reader


async def run_client(url: str, events: int, mode: str) -> tuple[float, float]:
    """(events/s, CPU µs per event) of one run."""
    provider, reader = provider_of(mode)
    settings = ClientSettings(url=url)
    cpu_started = time.process_time()
    async with PlanStreamClient(settings=settings, meter_provider=provider) as client:
        received = 0
        started = 0.0
        async for _item in client.subscribe(PLAN_ID):
            if not received:
                started = time.perf_counter()
            received += 1
        elapsed = time.perf_counter() - started
        if reader is not None:
            data = reader.get_metrics_data()
            if data is None or not data.resource_metrics:
                raise AssertionError("nothing was collected")
    cpu = time.process_time() - cpu_started
    if received != events:
        raise AssertionError(f"received {received} of {events} events")
    return (events - 1) / elapsed, cpu / events * 1e6


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for batch in (1, 64):
        events = EVENTS[batch]
        best: dict[str, tuple[float, float]] = {mode: (0.0, float("inf")) for mode in MODES}
        for _ in range(rounds):
            for mode in MODES:
                with frame_server(events, batch) as url:
                    rate, cpu = asyncio.run(run_client(url, events, mode))
                best[mode] = (max(best[mode][0], rate), min(best[mode][1], cpu))
        base_rate, base_cpu = best["none"]
        for mode, (rate, cpu) in best.items():
            print(
                f"{batch:>2} event(s)/frame  {mode:<9} {rate:>9,.0f} events/s "
                f"({rate / base_rate:.2f}x)  {cpu:5.2f} µs CPU/event (+{cpu - base_cpu:.2f})"
            )


if __name__ == "__main__":
    main()
