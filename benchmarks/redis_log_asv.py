"""asv benchmarks of the Redis event log next to the memory log (issue 11 item 6).

One ``setup_cache`` measures both logs in the same run, with the code of
``redis_log_bench.py`` (publish rates and publish -> receive latency through
``measure``) and of ``server_fanout.py`` (raw WebSocket subscribers):

* ``memory``: one embedded node, publisher and subscribers on it;
* ``redis``: a ``redis-server`` this module starts on a free loopback port
  in a temp dir (no persistence), two embedded nodes sharing it: the
  publisher on node A, the subscribers on node B.

Benchmarks (``log`` is ``memory`` or ``redis``):

* ``track_publish_events_per_s``: single-event ``POST``s, 4 concurrent;
* ``track_publish_batch_events_per_s``: ``POST``s of lists of 50 events;
* ``track_fanout_events_per_s``: ``FANOUT_EVENTS`` events published with
  ``server.publish``, delivered events/s over ``FANOUT_SUBSCRIBERS``
  WebSocket subscribers (every one checked gap-free, no duplicates);
* ``track_p50_ms`` / ``track_p99_ms``: publish -> receive latency of single
  events, the real ``PlanStreamClient`` subscribing.

Without ``redis-server`` the ``redis`` benchmarks are skipped (``setup``
raises ``NotImplementedError``), never failed. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any, ClassVar

from planstream.server import PlanStreamServer, ServerSettings

from .redis_log_bench import Figures, measure, parse_args, start_redis
from .server_fanout import expect_no_more_events, log_data, open_client, receive_events
from .server_fanout import subscribe as subscribe_ws

#: Sizes of one quick run (the whole suite takes ~10 s with Redis on 2 cores).
ARGV = ["--events", "200", "--latency-events", "100", "--gap-ms", "2"]
FANOUT_EVENTS = 500
FANOUT_SUBSCRIBERS = 10
PUBLISH_BURST = 100
DELIVERY_TIMEOUT_S = 60.0
#: Open servers (``measure`` POSTs without a token) with no publish rate limit.
_SETTINGS: dict[str, Any] = {
    "host": "127.0.0.1",
    "port": 0,
    "publish_rate": 1e6,
    "publish_burst": 1_000_000,
}


async def fanout_events_per_s(publisher: PlanStreamServer, subscriber: PlanStreamServer) -> float:
    """Delivered events/s: publish on ``publisher``, subscribers on ``subscriber``."""
    plan_id = "fanout"
    clients = [await open_client(subscriber.url) for _ in range(FANOUT_SUBSCRIBERS)]
    try:
        await asyncio.gather(*(subscribe_ws(ws, plan_id, plan_id) for ws in clients))
        receivers = [asyncio.create_task(receive_events(ws, FANOUT_EVENTS)) for ws in clients]
        start = time.perf_counter()
        for index in range(1, FANOUT_EVENTS + 1):
            await publisher.publish(plan_id, "log", log_data(index))
            if index % PUBLISH_BURST == 0:
                await asyncio.sleep(0)
        async with asyncio.timeout(DELIVERY_TIMEOUT_S):
            finished = await asyncio.gather(*receivers)
        await asyncio.gather(*(expect_no_more_events(ws) for ws in clients))
    finally:
        await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
    return FANOUT_SUBSCRIBERS * FANOUT_EVENTS / (max(finished) - start)


async def _both(nodes: list[PlanStreamServer]) -> tuple[Figures, float]:
    figures = await measure(nodes, parse_args(ARGV))
    return figures, await fanout_events_per_s(nodes[0], nodes[-1])


async def _memory() -> tuple[Figures, float]:
    async with PlanStreamServer(ServerSettings(**_SETTINGS)) as node:
        return await _both([node])


async def _redis(url: str) -> tuple[Figures, float]:
    settings = ServerSettings(**_SETTINGS, redis_url=url)
    async with PlanStreamServer(settings) as node_a, PlanStreamServer(settings) as node_b:
        return await _both([node_a, node_b])


def measure_logs() -> dict[str, tuple[Figures, float]]:
    """The figures of each log that can run here (``redis`` needs redis-server)."""
    found = {"memory": asyncio.run(_memory())}
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        return found
    directory = tempfile.mkdtemp(prefix="planstream-asv-redis-")
    process, port = start_redis(directory)
    try:
        found["redis"] = asyncio.run(_redis(f"redis://127.0.0.1:{port}/0"))
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(directory, ignore_errors=True)
    return found


Found = dict[str, tuple[Figures, float]]


def _unit(unit: str) -> Callable[[Callable[..., float]], Callable[..., float]]:
    def mark(method: Callable[..., float]) -> Callable[..., float]:
        method.unit = unit  # type: ignore[attr-defined]
        return method

    return mark


class RedisLogSuite:
    """The memory log and the Redis log (two nodes) measured in one run."""

    params: ClassVar[list[str]] = ["memory", "redis"]
    param_names: ClassVar[list[str]] = ["log"]
    unit = "events/s"
    timeout = 120

    def setup_cache(self) -> Found:
        return measure_logs()

    setup_cache.timeout = 120  # type: ignore[attr-defined]

    def setup(self, found: Found, log: str) -> None:
        if log not in found:
            raise NotImplementedError("redis-server is not installed")

    def track_publish_events_per_s(self, found: Found, log: str) -> float:
        """Single-event POSTs per second (4 concurrent)."""
        return round(found[log][0].single)

    def track_publish_batch_events_per_s(self, found: Found, log: str) -> float:
        """Events per second in POSTs of 50-event lists."""
        return round(found[log][0].batched)

    def track_fanout_events_per_s(self, found: Found, log: str) -> float:
        """Delivered events/s over 10 WebSocket subscribers (node B for redis)."""
        return round(found[log][1])

    @_unit("ms")
    def track_p50_ms(self, found: Found, log: str) -> float:
        """Median publish -> receive latency, ms."""
        return round(found[log][0].p50_ms, 3)

    @_unit("ms")
    def track_p99_ms(self, found: Found, log: str) -> float:
        """99th percentile publish -> receive latency, ms."""
        return round(found[log][0].p99_ms, 3)
