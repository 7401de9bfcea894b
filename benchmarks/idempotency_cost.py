"""Issue 11, item 3 measured: what the ``Idempotency-Key`` check costs a publish.

Three figures, each with and without a key (protocol §6):

* ``MemoryEventLog.append`` of one event, in this process: appends/s (best
  of 5 runs of 20,000; every key new, so the per-plan bound of 10,000 is
  reached and the oldest key dropped on each append), and replays/s;
* ``POST /v1/plans/{id}/events`` of one event against ``python -m
  planstream.server`` on loopback, 8 requests in flight: requests/s (best of
  3 runs of 3,000);
* the memory a kept key costs (tracemalloc, 10,000 keys of 36 characters).

Takes about half a minute::

    python benchmarks/idempotency_cost.py
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import socket
import subprocess
import sys
import time
import tracemalloc
import uuid
from datetime import UTC, datetime

import httpx

from planstream.server import (
    IdempotencyKey,
    IdempotentReplay,
    MemoryEventLog,
    NewEvent,
    body_digest,
)

EVENT = [NewEvent("log", {"level": "info", "message": "m", "step_id": None, "stream": "stdout"})]
BODY = b'{"kind": "log", "data": {"level": "info", "message": "m", "stream": "stdout"}}'


def _keys(count: int) -> list[IdempotencyKey]:
    return [IdempotencyKey(str(uuid.uuid4()), body_digest(BODY)) for _ in range(count)]


async def _appends(count: int, keyed: bool) -> float:
    log = MemoryEventLog(1000)
    keys = _keys(count) if keyed else [None] * count
    ts = datetime.now(UTC)
    gc.disable()
    try:
        started = time.perf_counter()
        for key in keys:
            await log.append("bench", EVENT, ts=ts, idempotency=key)
        return count / (time.perf_counter() - started)
    finally:
        gc.enable()


async def _replays(count: int) -> float:
    log = MemoryEventLog(1000)
    ts = datetime.now(UTC)
    key = _keys(1)[0]
    await log.append("bench", EVENT, ts=ts, idempotency=key)
    started = time.perf_counter()
    for _ in range(count):
        with contextlib.suppress(IdempotentReplay):
            await log.append("bench", EVENT, ts=ts, idempotency=key)
    return count / (time.perf_counter() - started)


def bytes_per_key(count: int = 10_000) -> float:
    log = MemoryEventLog(1, idempotency_keys=count)
    ts = datetime.now(UTC)
    tracemalloc.start()
    try:
        asyncio.run(log.append("mem", EVENT, ts=ts))
        base = tracemalloc.get_traced_memory()[0]

        async def fill() -> None:
            # Each key made here, as a request's header and body digest would be.
            for _ in range(count):
                key = IdempotencyKey(str(uuid.uuid4()), body_digest(BODY))
                await log.append("mem", EVENT, ts=ts, idempotency=key)

        asyncio.run(fill())
        return (tracemalloc.get_traced_memory()[0] - base) / count
    finally:
        tracemalloc.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _posts(base: str, count: int, keyed: bool, in_flight: int = 8) -> float:
    async with httpx.AsyncClient(timeout=30) as client:
        queue = list(range(count))

        async def worker() -> None:
            while queue:
                n = queue.pop()
                headers = {"Idempotency-Key": f"{uuid.uuid4()}-{n}"} if keyed else {}
                response = await client.post(
                    f"{base}/v1/plans/http-{n % 50}/events", content=BODY, headers=headers
                )
                assert response.status_code == 201, response.text

        await client.get(f"{base}/healthz")
        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(in_flight):
                group.create_task(worker())
        return count / (time.perf_counter() - started)


def http_rates(runs: int = 3, count: int = 3000) -> tuple[float, float]:
    port = free_port()
    env = {
        **os.environ,
        "PLANSTREAM_SERVER_PORT": str(port),
        "PLANSTREAM_SERVER_PUBLISH_RATE": "1000000",
        "PLANSTREAM_SERVER_PUBLISH_BURST": "1000000",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "planstream.server"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(base + "/healthz", timeout=0.5)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        plain, keyed = 0.0, 0.0
        for _ in range(runs):  # interleaved, so drift in the machine hits both alike
            plain = max(plain, asyncio.run(_posts(base, count, keyed=False)))
            keyed = max(keyed, asyncio.run(_posts(base, count, keyed=True)))
        return plain, keyed
    finally:
        server.terminate()
        server.wait(15)


def main() -> None:
    runs = 5
    plain = max(asyncio.run(_appends(20_000, keyed=False)) for _ in range(runs))
    keyed = max(asyncio.run(_appends(20_000, keyed=True)) for _ in range(runs))
    replays = max(asyncio.run(_replays(20_000)) for _ in range(runs))
    print("MemoryEventLog.append, one event per append (best of 5 x 20,000):")
    print(f"  without a key  {plain:10,.0f} appends/s")
    print(f"  with a new key {keyed:10,.0f} appends/s  ({(plain / keyed - 1) * 100:+.1f} % time)")
    print(f"  replays        {replays:10,.0f} /s")
    http_plain, http_keyed = http_rates()
    change = (http_plain / http_keyed - 1) * 100
    print("POST /v1/plans/{id}/events, one event, 8 in flight (best of 3 x 3,000):")
    print(f"  without a key  {http_plain:10,.0f} requests/s")
    print(f"  with a new key {http_keyed:10,.0f} requests/s  ({change:+.1f} % time)")
    print(f"memory per kept key (36-character key): {bytes_per_key():,.0f} bytes")


if __name__ == "__main__":
    main()
