"""Issue 11, item 3 measured: what the ``Idempotency-Key`` check costs a publish.

Three figures, each with and without a key (protocol §6):

* ``MemoryEventLog.append`` of one event, in this process: appends/s of
  CPU time (best of 7 runs of 20,000, interleaved; every key new, so the per-plan bound of 10,000 is
  reached and the oldest key dropped on each append), and replays/s;
* ``POST /v1/plans/{id}/events`` of one event against ``python -m
  planstream.server`` on loopback, 8 keep-alive connections: requests/s
  (best of 5 runs of 3,000, interleaved);
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

from planstream.server import MemoryEventLog
from planstream.server.event_log import IdempotencyKey, IdempotentReplay
from planstream.server.publishing import body_digest, validate_new_event

EVENT = [
    validate_new_event(
        "log",
        {"level": "info", "message": "m", "step_id": None, "stream": "stdout"},
        allow_unknown_kinds=False,
    )
]
BODY = b'{"kind": "log", "data": {"level": "info", "message": "m", "stream": "stdout"}}'


def _keys(count: int) -> list[IdempotencyKey]:
    return [IdempotencyKey(str(uuid.uuid4()), body_digest(BODY)) for _ in range(count)]


async def _appends(count: int, keyed: bool) -> float:
    log = MemoryEventLog(1000)
    keys = _keys(count) if keyed else [None] * count
    ts = datetime.now(UTC)
    gc.disable()
    try:
        started = time.process_time()
        for key in keys:
            await log.append("bench", EVENT, ts=ts, idempotency=key)
        return count / (time.process_time() - started)
    finally:
        gc.enable()


async def _replays(count: int) -> float:
    log = MemoryEventLog(1000)
    ts = datetime.now(UTC)
    key = _keys(1)[0]
    await log.append("bench", EVENT, ts=ts, idempotency=key)
    started = time.process_time()
    for _ in range(count):
        with contextlib.suppress(IdempotentReplay):
            await log.append("bench", EVENT, ts=ts, idempotency=key)
    return count / (time.process_time() - started)


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


async def _connection(port: int, requests: list[bytes]) -> None:
    """Send ``requests`` one after another on one keep-alive connection.

    Each request goes out in one write: httpx writes the head and the body
    separately, and Nagle's algorithm against the server's delayed ACK then
    holds every request for 40 ms, which would measure the kernel, not us.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for raw in requests:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 201"), head
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
    finally:
        writer.close()
        await writer.wait_closed()


def _request(n: int, keyed: bool) -> bytes:
    key = f"Idempotency-Key: {uuid.uuid4()}\r\n" if keyed else ""
    return (
        f"POST /v1/plans/http-{n % 50}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n{key}\r\n"
    ).encode() + BODY


async def _posts(port: int, count: int, keyed: bool, in_flight: int = 8) -> float:
    requests = [_request(n, keyed) for n in range(count)]
    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for start in range(in_flight):
            group.create_task(_connection(port, requests[start::in_flight]))
    return count / (time.perf_counter() - started)


def http_rates(runs: int = 5, count: int = 3000) -> tuple[float, float]:
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
            plain = max(plain, asyncio.run(_posts(port, count, keyed=False)))
            keyed = max(keyed, asyncio.run(_posts(port, count, keyed=True)))
        return plain, keyed
    finally:
        server.terminate()
        server.wait(15)


def log_rates(runs: int = 7, count: int = 20_000) -> tuple[float, float, float]:
    """Appends/s without and with a key, replays/s: best of ``runs``, interleaved."""
    plain = keyed = replays = 0.0
    for _ in range(runs):  # interleaved, so drift in the machine hits both alike
        plain = max(plain, asyncio.run(_appends(count, keyed=False)))
        keyed = max(keyed, asyncio.run(_appends(count, keyed=True)))
        replays = max(replays, asyncio.run(_replays(count)))
    return plain, keyed, replays


def main() -> None:
    plain, keyed, replays = log_rates()
    extra = (1 / keyed - 1 / plain) * 1e6
    print("MemoryEventLog.append, one event per append (CPU time, best of 7 x 20,000):")
    print(f"  without a key  {plain:10,.0f} appends/s")
    print(f"  with a new key {keyed:10,.0f} appends/s  ({extra:+.2f} us per append)")
    print(f"  replays        {replays:10,.0f} /s")
    http_plain, http_keyed = http_rates()
    change = (http_plain / http_keyed - 1) * 100
    print("POST /v1/plans/{id}/events, one event, 8 in flight (best of 5 x 3,000):")
    print(f"  without a key  {http_plain:10,.0f} requests/s")
    print(f"  with a new key {http_keyed:10,.0f} requests/s  ({change:+.1f} % time)")
    print(f"memory per kept key (36-character key): {bytes_per_key():,.0f} bytes")


if __name__ == "__main__":
    main()
