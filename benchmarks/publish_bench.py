"""The server's publish path: events/s appended to ONE plan (issue 12, item 5).

Two figures, both for the memory log:

* **HTTP**: ``python -m planstream.server`` in its own process; publishers in
  this process on raw keep-alive sockets (``server_fanout.Publisher``: one
  write per request, so Nagle's algorithm and httpx's CPU are not measured)
  POST lists of ``--batch`` events to one plan, ``--publishers`` at a time,
  as fast as the server answers. Printed: appended events/s (wall clock, first
  POST to last ``201``) and the server's CPU time per event (``/proc``, user +
  system). No subscriber: this is the publish path alone.
* **in-process**: ``parse_publish_body`` of a list of ``--batch`` events (the
  validation a ``POST`` does) and ``MemoryEventLog.append`` of the result, CPU
  microseconds per event for each, best of ``--repeat``, garbage collector off.

Only names that exist before and after issue 12 are imported from planstream,
so the same script measures an older tree::

    python benchmarks/publish_bench.py
    PYTHONPATH=/tmp/old/src python benchmarks/publish_bench.py

asv runs :class:`PublishSuite` (smaller sizes) in ``nox -s benchmark``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from planstream.server.memory_log import MemoryEventLog
from planstream.server.publishing import parse_publish_body

try:  # asv imports this module as benchmarks.publish_bench
    from .server_fanout import Publisher, cpu_seconds, log_data, server_process
except ImportError:  # run as a script: benchmarks/ is on sys.path
    from server_fanout import (  # type: ignore[import-not-found,no-redef]
        Publisher,
        cpu_seconds,
        log_data,
        server_process,
    )

PLAN_ID = "bench-publish"
#: No publish rate limit: the figure is the server's, not the token bucket's.
_UNLIMITED = {
    "PLANSTREAM_SERVER_PUBLISH_RATE": "1000000000",
    "PLANSTREAM_SERVER_PUBLISH_BURST": "1000000000",
}


def publish_body(start: int, count: int) -> bytes:
    """A ``POST`` body: a list of ``count`` realistic ``log`` events."""
    items = [{"kind": "log", "data": log_data(index)} for index in range(start, start + count)]
    return json.dumps(items).encode()


async def http_rate(
    events: int, batch: int, publishers: int, retention: int = 10_000
) -> tuple[float, float]:
    """Appended events/s and server CPU us/event for ``events`` POSTed in lists of ``batch``."""
    bodies = [publish_body(start, min(batch, events - start)) for start in range(0, events, batch)]
    async with server_process(compression=False, retention=retention, settings=_UNLIMITED) as srv:
        clients = [await Publisher.connect("127.0.0.1", srv.port) for _ in range(publishers)]
        try:
            path = f"/v1/plans/{PLAN_ID}/events"
            await clients[0].post(path, publish_body(0, 1))  # warm up: the plan exists

            async def publish(client: Publisher, share: list[bytes]) -> int:
                appended = 0
                for body in share:
                    answer = json.loads(await client.post(path, body))
                    appended += len(answer["events"])
                return appended

            cpu_before = cpu_seconds(srv.pid)
            started = time.perf_counter()
            counts = await asyncio.gather(
                *(publish(c, bodies[i::publishers]) for i, c in enumerate(clients))
            )
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(srv.pid) - cpu_before
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    if sum(counts) != events:
        raise AssertionError(f"{sum(counts)} events appended, expected {events}")
    return events / elapsed, cpu / events * 1e6


async def _append_all(log: MemoryEventLog, lists: list[Any], ts: datetime) -> None:
    for events in lists:
        await log.append(PLAN_ID, events, ts=ts)


def inprocess_us(batch: int, rounds: int, repeat: int) -> tuple[float, float]:
    """CPU us per event: parsing + validating a list body, and appending it to the log."""
    bodies = [publish_body(n * batch, batch) for n in range(rounds)]
    ts = datetime.now(UTC)
    best_parse = best_append = float("inf")
    for _ in range(repeat):
        log = MemoryEventLog(10_000)
        gc.disable()
        try:
            started = time.process_time()
            parsed = [parse_publish_body(body, allow_unknown_kinds=False) for body in bodies]
            middle = time.process_time()
            asyncio.run(_append_all(log, parsed, ts))
            ended = time.process_time()
        finally:
            gc.enable()
        best_parse = min(best_parse, middle - started)
        best_append = min(best_append, ended - middle)
    total = batch * rounds
    return best_parse / total * 1e6, best_append / total * 1e6


@functools.cache
def _suite_inprocess() -> tuple[float, float]:
    return inprocess_us(100, 50, 3)


class PublishSuite:
    """asv: the publish path, memory log (see the module docstring).

    ``track_http_batch_100_events_per_s``: 20,000 events POSTed in lists of 100
    by 2 publishers to ``python -m planstream.server`` (events/s, wall clock);
    ``track_parse_list_us_per_event`` / ``track_append_list_us_per_event``:
    in-process CPU per event of ``parse_publish_body`` and of
    ``MemoryEventLog.append`` on lists of 100 (one measurement for both).
    """

    timeout = 180.0

    def track_http_batch_100_events_per_s(self) -> float:
        return asyncio.run(http_rate(20_000, 100, 2))[0]

    track_http_batch_100_events_per_s.unit = "events/s"  # type: ignore[attr-defined]

    def track_parse_list_us_per_event(self) -> float:
        return _suite_inprocess()[0]

    track_parse_list_us_per_event.unit = "us/event"  # type: ignore[attr-defined]

    def track_append_list_us_per_event(self) -> float:
        return _suite_inprocess()[1]

    track_append_list_us_per_event.unit = "us/event"  # type: ignore[attr-defined]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Publish events/s into one plan (memory log).")
    parser.add_argument("--events", type=int, default=100_000, help="events per HTTP run")
    parser.add_argument(
        "--batch", type=int, nargs="+", default=[100, 1000], help="events per POST (100 1000)"
    )
    parser.add_argument("--publishers", type=int, default=2, help="concurrent connections (2)")
    parser.add_argument("--runs", type=int, default=3, help="HTTP runs per batch size, best (3)")
    parser.add_argument("--repeat", type=int, default=5, help="in-process repeats, best (5)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print(f"publish into one plan, memory log; {args.publishers} keep-alive publishers")
    for batch in args.batch:
        rate, cpu = max(
            asyncio.run(http_rate(args.events, batch, args.publishers)) for _ in range(args.runs)
        )
        print(
            f"  HTTP, lists of {batch:>4}: {rate:10,.0f} events/s,"
            f" server CPU {cpu:6.2f} us/event (best of {args.runs} x {args.events:,})"
        )
    for batch in args.batch:
        parse_us, append_us = inprocess_us(batch, max(1, 20_000 // batch), args.repeat)
        print(
            f"  in-process, lists of {batch:>4}: parse_publish_body {parse_us:6.2f} us/event,"
            f" MemoryEventLog.append {append_us:6.2f} us/event (CPU, best of {args.repeat})"
        )


if __name__ == "__main__":
    main()
