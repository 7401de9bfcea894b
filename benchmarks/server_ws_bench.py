"""asv benchmarks of the reference server's WebSocket stream on loopback.

The embedded server (:class:`PlanStreamServer` on port 0) and raw ``websockets``
clients run in one asyncio event loop in asv's benchmark process. Each client
connects with the ``planstream.v1`` subprotocol, reads ``hello``, subscribes to
a plan from its start and counts the events it receives, flattening ``batch``
frames. A gap or a repeated ``seq`` fails the benchmark, and so does a
server ``events_sent`` counter that does not match the deliveries.

* ``FanoutSuite.track_fanout_events_per_s``: delivered events/s over all
  connections (1, 10, 100), best of a few runs;
* ``LatencySuite.track_p50_ms`` / ``track_p99_ms``: publish-to-receive latency
  with 1 and 10 subscribers, from one measurement per subscriber count
  (``setup_cache``).

Because the clients share the server's loop and CPU, the figures are for
comparing commits, not for capacity planning. ``server_fanout.py`` runs the
server in its own process. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import ClassVar

from websockets.asyncio.client import ClientConnection

from planstream.server import PlanStreamServer, ServerSettings

from .server_fanout import (
    LATENCY_WARMUP,
    TOKEN,
    expect_no_more_events,
    log_data,
    open_client,
    percentile,
    receive_events,
    receive_latencies,
    subscribe,
)

#: Events published per fan-out run, by number of connections (a run takes ~1 s).
FANOUT_EVENTS = {1: 10_000, 10: 5_000, 100: 2_000}
#: Fan-out runs per benchmark; the best one counts.
FANOUT_REPEAT = 3
#: The publisher yields to the event loop after this many events. This lets
#: the server send while the publisher works. Otherwise everything published
#: would wait until the publisher finished.
PUBLISH_BURST = 100
#: Measured events per latency run, and the pause between them.
LATENCY_EVENTS = 500
LATENCY_GAP_S = 0.002
#: Longest wait for a run's deliveries before the benchmark fails.
DELIVERY_TIMEOUT_S = 60.0


@asynccontextmanager
async def embedded_server() -> AsyncIterator[PlanStreamServer]:
    """The reference server on a free loopback port, with one token."""
    settings = ServerSettings(
        host="127.0.0.1", port=0, tokens=(TOKEN,), retention=max(FANOUT_EVENTS.values())
    )
    async with PlanStreamServer(settings) as server:
        yield server


# --- fan-out ----------------------------------------------------------------------


async def _fanout_run(
    server: PlanStreamServer, clients: list[ClientConnection], plan_id: str
) -> float:
    """Publish one plan's events; seconds until every client received all of them."""
    events = FANOUT_EVENTS[len(clients)]
    await asyncio.gather(*(subscribe(ws, plan_id, plan_id) for ws in clients))
    data = [log_data(index) for index in range(events)]
    sent_before = server.state.metrics.events_sent
    receivers = [asyncio.create_task(receive_events(ws, events)) for ws in clients]
    start = time.perf_counter()
    for index, item in enumerate(data, start=1):
        await server.publish(plan_id, "log", item)
        if index % PUBLISH_BURST == 0:
            await asyncio.sleep(0)
    async with asyncio.timeout(DELIVERY_TIMEOUT_S):
        finished = await asyncio.gather(*receivers)
    seconds = max(finished) - start
    sent = server.state.metrics.events_sent - sent_before
    if sent != events * len(clients):
        raise AssertionError(f"the server sent {sent} events, expected {events * len(clients)}")
    return seconds


async def fanout_events_per_s(connections: int) -> float:
    """Best delivered events/s over ``FANOUT_REPEAT`` runs (each on a new plan)."""
    async with embedded_server() as server:
        clients = list(await asyncio.gather(*(open_client(server.url) for _ in range(connections))))
        try:
            best = min(
                [
                    await _fanout_run(server, clients, f"fanout-{run}")
                    for run in range(FANOUT_REPEAT)
                ]
            )
            await asyncio.gather(*(expect_no_more_events(ws) for ws in clients))
        finally:
            await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
    return connections * FANOUT_EVENTS[connections] / best


class FanoutSuite:
    """Delivered events/s (total over all connections) for one plan's events.

    ``FANOUT_EVENTS[connections]`` ``log`` events (~300-byte frames) are
    published with ``server.publish`` as fast as possible. The publisher
    yields to the loop every ``PUBLISH_BURST`` events. Timing runs from the
    first publish until the last connection has received the last event.
    """

    params: ClassVar[list[int]] = [1, 10, 100]
    param_names: ClassVar[list[str]] = ["connections"]
    unit = "events/s"
    timeout = 120

    def track_fanout_events_per_s(self, connections: int) -> float:
        """Delivered events/s over all connections (best of 3 runs)."""
        return round(asyncio.run(fanout_events_per_s(connections)))


# --- latency ----------------------------------------------------------------------


async def latency_ms(subscribers: int) -> tuple[float, float]:
    """``(p50, p99)`` publish-to-receive latency in ms over every subscriber."""
    plan_id = "latency"
    total = LATENCY_WARMUP + LATENCY_EVENTS
    latencies: list[float] = []
    async with embedded_server() as server:
        clients = list(await asyncio.gather(*(open_client(server.url) for _ in range(subscribers))))
        try:
            await asyncio.gather(*(subscribe(ws, plan_id, "1") for ws in clients))
            receivers = [
                asyncio.create_task(
                    receive_latencies(ws, plan_id, total, latencies, LATENCY_WARMUP)
                )
                for ws in clients
            ]
            for index in range(total):
                await server.publish(plan_id, "log", log_data(index, repr(time.perf_counter())))
                await asyncio.sleep(LATENCY_GAP_S)
            async with asyncio.timeout(DELIVERY_TIMEOUT_S):
                await asyncio.gather(*receivers)
            await asyncio.gather(*(expect_no_more_events(ws) for ws in clients))
        finally:
            await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
    if len(latencies) != subscribers * LATENCY_EVENTS:
        raise AssertionError(f"{len(latencies)} latency samples for {subscribers} subscribers")
    return percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000


class LatencySuite:
    """Publish-to-receive latency of single events, in ms.

    ``LATENCY_EVENTS`` ``log`` events are published one at a time,
    ``LATENCY_GAP_S`` apart, after ``LATENCY_WARMUP`` unmeasured ones. Each
    carries ``time.perf_counter()`` taken just before ``server.publish`` as its
    message. Every subscriber's receive time minus that value is a sample.
    ``setup_cache`` measures once per subscriber count; both percentiles come
    from the same samples.
    """

    params: ClassVar[list[int]] = [1, 10]
    param_names: ClassVar[list[str]] = ["subscribers"]
    unit = "ms"
    timeout = 120

    def setup_cache(self) -> dict[int, tuple[float, float]]:
        return {subscribers: asyncio.run(latency_ms(subscribers)) for subscribers in self.params}

    setup_cache.timeout = 120  # type: ignore[attr-defined]

    def track_p50_ms(self, latencies: dict[int, tuple[float, float]], subscribers: int) -> float:
        """Median publish-to-receive latency, ms."""
        return round(latencies[subscribers][0], 3)

    def track_p99_ms(self, latencies: dict[int, tuple[float, float]], subscribers: int) -> float:
        """99th percentile publish-to-receive latency, ms."""
        return round(latencies[subscribers][1], 3)
