"""Publish throughput, publish -> receive latency and Redis memory: Redis log vs memory log.

Run from the repository root (needs ``redis-server`` and ``planstream[redis]``)::

    python benchmarks/redis_log_bench.py --events 2000 --latency-events 300

Everything runs in this process on 127.0.0.1, the servers embedded: the same
run measures the memory log (one node: publisher and subscriber on it) and
the Redis log (a ``redis-server`` it starts in a temp dir without
persistence; publisher on node A, subscriber on node B). It prints:

* publish: ``--events`` single-event ``POST /v1/plans/{id}/events`` from
  ``--concurrency`` concurrent requests, events/s, and the same in lists of
  ``--batch`` events;
* latency: ``--latency-events`` single-event POSTs ``--gap-ms`` apart, each
  carrying ``time.perf_counter()`` taken before its POST; latency is the
  subscriber's (the real ``PlanStreamClient``) receive time minus that, p50
  and p99;
* log.append: ``--events`` single-event appends straight to each log;
* Redis memory per retained event: ``INFO memory`` ``used_memory`` before and
  after appending ``--memory-events`` log events to one plan through the log,
  divided by their number (event JSON ~250 bytes).

The subscriber must get every event exactly once, in order; otherwise it fails.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from planstream import PlanStreamClient, Resync
from planstream.server import PlanStreamServer, ServerSettings
from planstream.server.event_log import EventLog
from planstream.server.memory_log import MemoryEventLog
from planstream.server.publishing import validate_new_event
from planstream.server.redis_log import RedisEventLog

_LOG = {"level": "info", "stream": "stdout", "message": "pulling layer sha256:9f86d081884c7d65"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_redis(directory: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", directory]
    args += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        done = subprocess.run(
            ["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True, check=False
        )
        if done.stdout.strip() == "PONG":
            return process, port
        time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


def _http(node: PlanStreamServer) -> httpx.AsyncClient:
    """An HTTP client with TCP_NODELAY: httpx writes a request's head and body
    separately, and Nagle's algorithm against the server's delayed ACK would
    hold each body ~40 ms, measuring the kernel (see ``idempotency_cost.py``)."""
    options = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    transport = httpx.AsyncHTTPTransport(socket_options=options)
    return httpx.AsyncClient(base_url=node.http_url, transport=transport)


def _used_memory(port: int) -> int:
    info = subprocess.run(
        ["redis-cli", "-p", str(port), "INFO", "memory"], capture_output=True, text=True, check=True
    ).stdout
    return int(next(line for line in info.splitlines() if line.startswith("used_memory:"))[12:])


async def _publish_rate(http: httpx.AsyncClient, plan: str, args: argparse.Namespace) -> float:
    async def worker(count: int) -> None:
        for _ in range(count):
            answer = await http.post(f"/v1/plans/{plan}/events", json={"kind": "log", "data": _LOG})
            answer.raise_for_status()

    share = args.events // args.concurrency
    started = time.perf_counter()
    await asyncio.gather(*(worker(share) for _ in range(args.concurrency)))
    return share * args.concurrency / (time.perf_counter() - started)


async def _batch_rate(http: httpx.AsyncClient, plan: str, args: argparse.Namespace) -> float:
    body = [{"kind": "log", "data": _LOG}] * args.batch
    posts = max(1, args.events // args.batch)
    started = time.perf_counter()
    for _ in range(posts):
        (await http.post(f"/v1/plans/{plan}/events", json=body)).raise_for_status()
    return posts * args.batch / (time.perf_counter() - started)


async def _latency(
    publisher: PlanStreamServer, subscriber: PlanStreamServer, args: argparse.Namespace
) -> list[float]:
    plan = "latency"
    latencies: list[float] = []
    seqs: list[int] = []
    ready = asyncio.Event()

    async def follow() -> None:
        async with (
            PlanStreamClient(subscriber.url) as client,
            client.subscribe(plan) as stream,
        ):
            ready.set()
            async for item in stream:
                assert not isinstance(item, Resync), item
                seqs.append(item.seq)
                if item.kind == "log":
                    latencies.append(time.perf_counter() - float(item.data.message))

    task = asyncio.create_task(follow())
    await ready.wait()
    await asyncio.sleep(0.3)
    async with _http(publisher) as http:
        for _ in range(args.latency_events):
            data = {**_LOG, "message": repr(time.perf_counter())}
            answer = await http.post(f"/v1/plans/{plan}/events", json={"kind": "log", "data": data})
            answer.raise_for_status()
            await asyncio.sleep(args.gap_ms / 1000)
        end = {"kind": "plan.status", "data": {"status": "succeeded"}}
        (await http.post(f"/v1/plans/{plan}/events", json=end)).raise_for_status()
    await asyncio.wait_for(task, 30)
    expected = list(range(1, args.latency_events + 2))
    if seqs != expected:
        raise SystemExit(f"the subscriber got {len(seqs)} events, not exactly once in order")
    return latencies


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


@dataclass(frozen=True)
class Figures:
    """What :func:`measure` found on one log (events/s and ms)."""

    single: float
    batched: float
    p50_ms: float
    p99_ms: float
    samples: int


async def measure(nodes: list[PlanStreamServer], args: argparse.Namespace) -> Figures:
    """Publish rates through the first node, latency to a subscriber on the last.

    Also used by the asv benchmarks (``redis_log_asv.py``).
    """
    publisher, subscriber = nodes[0], nodes[-1]
    async with _http(publisher) as http:
        single = await _publish_rate(http, "rate", args)
        batched = await _batch_rate(http, "batch", args)
    latencies = await _latency(publisher, subscriber, args)
    return Figures(
        single, batched, _percentile(latencies, 50), _percentile(latencies, 99), len(latencies)
    )


async def _measure(name: str, nodes: list[PlanStreamServer], args: argparse.Namespace) -> None:
    found = await measure(nodes, args)
    print(
        f"{name:>6}: publish {found.single:8.0f} events/s single, {found.batched:8.0f} events/s "
        f"in lists of {args.batch}; publish->receive p50 {found.p50_ms:6.2f} ms, "
        f"p99 {found.p99_ms:6.2f} ms ({found.samples} events, 0 lost, 0 dup)",
        flush=True,
    )


async def _append_rate(log: EventLog, args: argparse.Namespace) -> float:
    """Single-event appends straight to the log (no HTTP), events/s."""
    ts = datetime.now(UTC)
    started = time.perf_counter()
    for _ in range(args.events):
        await log.append(
            "direct", [validate_new_event("log", dict(_LOG), allow_unknown_kinds=False)], ts=ts
        )
    return args.events / (time.perf_counter() - started)


async def _main(args: argparse.Namespace) -> None:
    memory_rate = await _append_rate(MemoryEventLog(), args)
    print(f"memory: log.append {memory_rate:8.0f} events/s (one event per call)", flush=True)
    settings = {"port": 0, "publish_rate": 1e6, "publish_burst": 1_000_000}
    async with PlanStreamServer(ServerSettings(**settings)) as memory:
        await _measure("memory", [memory], args)
    directory = tempfile.mkdtemp(prefix="planstream-bench-redis-")
    process, port = start_redis(directory)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        async with (
            PlanStreamServer(ServerSettings(**settings, redis_url=url)) as node_a,
            PlanStreamServer(ServerSettings(**settings, redis_url=url)) as node_b,
        ):
            await _measure("redis", [node_a, node_b], args)
        log = RedisEventLog(url)
        redis_rate = await _append_rate(log, args)
        print(f" redis: log.append {redis_rate:8.0f} events/s (one event per call)", flush=True)
        before = _used_memory(port)
        ts = datetime.now(UTC)
        for _ in range(args.memory_events // 100):
            await log.append(
                "memory",
                [validate_new_event("log", dict(_LOG), allow_unknown_kinds=False)] * 100,
                ts=ts,
            )
        after = _used_memory(port)
        await log.close()
        per_event = (after - before) / (args.memory_events // 100 * 100)
        print(f" redis: {per_event:.0f} bytes of used_memory per retained event", flush=True)
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(directory, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options (also the asv benchmarks' way to size a run)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--latency-events", type=int, default=300)
    parser.add_argument("--gap-ms", type=float, default=5.0)
    parser.add_argument("--memory-events", type=int, default=10_000)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args: Any = parse_args(argv)
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed")
    asyncio.run(_main(args))


if __name__ == "__main__":
    main(sys.argv[1:])
