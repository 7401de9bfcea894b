"""The reference server under hostile WebSocket and TCP peers (issue 10, items 1-4).

A standalone script, not an asv benchmark: it starts ``python -m
planstream.server`` (logging at INFO into a file), attacks it over loopback
and prints what happened and how much the server logged. Run it against any
tree to compare before and after::

    PYTHONPATH=src python benchmarks/hostile_ws.py 1     # crash frames
    PYTHONPATH=src python benchmarks/hostile_ws.py 2     # id limits, 1 MiB ping id
    PYTHONPATH=src python benchmarks/hostile_ws.py 2b    # heartbeat of 64 long plan ids
    PYTHONPATH=src python benchmarks/hostile_ws.py 3     # half-open sockets, 30 WebSockets
    PYTHONPATH=src python benchmarks/hostile_ws.py 3fd   # 300 idle sockets, RLIMIT_NOFILE 256
    PYTHONPATH=src python benchmarks/hostile_ws.py 4     # ping and subscribe floods
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

SUBPROTOCOLS: Any = ["planstream.v1"]
LOG_EVENT = {"level": "info", "message": "m", "step_id": None, "stream": "stdout"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(
    env_extra: dict[str, str], nofile: int | None
) -> tuple[subprocess.Popen[bytes], int, str]:
    port = _free_port()
    log = tempfile.NamedTemporaryFile("wb", delete=False, suffix=".log")  # noqa: SIM115
    env = {**os.environ, "PLANSTREAM_SERVER_PORT": str(port), **env_extra}

    def lower_limit() -> None:
        if nofile:
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))

    process = subprocess.Popen(
        [sys.executable, "-m", "planstream.server"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=lower_limit,  # only setrlimit, before exec
    )
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    return process, port, log.name


async def _next_answer(ws: ClientConnection) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame["type"] != "heartbeat":
            return frame


async def crash_frames(port: int) -> None:
    """743 frames that each used to end the connection with a traceback."""
    url = f"ws://127.0.0.1:{port}/v1/stream"
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"http://127.0.0.1:{port}/v1/plans/p/events", json={"kind": "log", "data": LOG_EVENT}
        )
    published = answer.json()
    incarnation = published["events"][0]["event_id"].rsplit(".", 1)[0]
    frames = [
        "[" * 1000,
        '{"type":"ping","id":"\\ud800"}',
        json.dumps(
            {"type": "subscribe", "id": "s", "plan_id": "p", "last_event_id": incarnation + ".²"}
        ),
    ]
    answers: Counter[str] = Counter()
    closes: Counter[int] = Counter()
    sent = connections = 0
    started = time.monotonic()
    while sent < 743:
        connections += 1
        async with connect(url, subprotocols=SUBPROTOCOLS) as ws:
            await ws.recv()  # hello
            try:
                while sent < 743:
                    await ws.send(frames[sent % 3])
                    sent += 1
                    frame = await _next_answer(ws)
                    answers[f"{frame['type']}:{frame.get('code', '')}"] += 1
            except ConnectionClosed as closed:
                closes[closed.rcvd.code if closed.rcvd else 1006] += 1
    took = time.monotonic() - started
    print(f"{sent} frames on {connections} connections in {took:.1f} s")
    print(f"answers {dict(answers)}; closes {dict(closes)}")


async def id_limits(port: int) -> None:
    """Plan ids against protocol §1, and a 1 MiB ping id."""
    url = f"ws://127.0.0.1:{port}/v1/stream"
    results: dict[str, Any] = {}
    plans = {
        "1e6 chars": "p" * 1_000_000,
        "slash": "a/b",
        "space": " ",
        "NUL": "a\x00b",
        "newline": "a\nb",
        "RTL": "a\u202eb",
    }
    try:
        async with connect(url, subprotocols=SUBPROTOCOLS, max_size=None) as ws:
            await ws.recv()
            for label, plan_id in plans.items():
                await ws.send(json.dumps({"type": "subscribe", "id": label, "plan_id": plan_id}))
                frame = await _next_answer(ws)
                results[label] = f"{frame['type']}:{frame.get('code', '')}"
            await ws.send(json.dumps({"type": "ping", "id": "i" * ((1 << 20) - 40)}))
            text = await ws.recv()
            results["1 MiB ping id"] = f"{json.loads(text)['type']} of {len(text)} bytes"
            await ws.send(json.dumps({"type": "ping", "id": "ok"}))
            results["then a ping"] = (await _next_answer(ws))["type"]
    except ConnectionClosed as closed:
        results["closed"] = closed.rcvd.code if closed.rcvd else 1006
    print(results)


async def long_heads(port: int) -> None:
    """The largest heartbeat with 64 subscribed plans of 256 characters."""
    url = f"ws://127.0.0.1:{port}/v1/stream"
    async with connect(url, subprotocols=SUBPROTOCOLS, max_size=None) as ws:
        hello = json.loads(await ws.recv())
        for number in range(64):
            plan_id = f"{number:03d}".ljust(256, "x")
            await ws.send(json.dumps({"type": "subscribe", "id": number, "plan_id": plan_id}))
        largest = 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            text = await asyncio.wait_for(ws.recv(), 5)
            if json.loads(text)["type"] == "heartbeat":
                largest = max(largest, len(text.encode()))
                if json.loads(text)["heads"]:
                    break
    print(f"largest heartbeat: {largest} bytes (max_frame_bytes {hello['max_frame_bytes']})")


async def half_open(port: int) -> None:
    """Half an upgrade, a silent socket, then 30 WebSockets."""
    half_reader, half_writer = await asyncio.open_connection("127.0.0.1", port)
    half_writer.write(b"GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
    silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", port)
    await asyncio.sleep(5)
    states = []
    for reader in (half_reader, silent_reader):
        try:
            data = await asyncio.wait_for(reader.read(1000), 0.2)
            states.append("closed" if data == b"" else f"answered {data[:30]!r}")
        except TimeoutError:
            states.append("still open")
    print(f"after 5 s: half upgrade {states[0]}, silent socket {states[1]}")
    half_writer.close()
    silent_writer.close()
    url = f"ws://127.0.0.1:{port}/v1/stream"
    held, refused = [], Counter[str]()
    for _ in range(30):
        try:
            held.append(await connect(url, subprotocols=SUBPROTOCOLS))
        except Exception as exc:  # counted by kind
            response = getattr(exc, "response", None)
            if response is None:
                refused[type(exc).__name__] += 1
            else:
                retry = response.headers.get("Retry-After")
                refused[
                    f"{response.status_code} Retry-After={retry} {bytes(response.body)[:40]!r}"
                ] += 1
    print(f"30 WebSockets: {len(held)} accepted, refused {dict(refused)}")
    for connection in held:
        await connection.close()


async def idle_flood(port: int) -> None:
    """300 idle sockets against RLIMIT_NOFILE 256, then real clients."""
    peers = []
    for _ in range(300):
        try:
            peers.append(await asyncio.open_connection("127.0.0.1", port))
        except OSError as exc:
            print("client side:", exc)
            break
    url = f"ws://127.0.0.1:{port}/v1/stream"
    for wait in (1, 6):
        await asyncio.sleep(wait)
        connected, failed = 0, Counter[str]()
        for _ in range(5):
            try:
                async with connect(url, subprotocols=SUBPROTOCOLS, open_timeout=3) as ws:
                    await ws.recv()
                    connected += 1
            except Exception as exc:  # counted by kind
                failed[type(exc).__name__] += 1
        print(f"+{wait} s: 5 real clients: {connected} connected, failed {dict(failed)}")
    for _reader, writer in peers:
        writer.close()


async def floods(port: int) -> None:
    """20,000 pings, then 2,000 subscribes, each on one connection, sent without reading."""
    url = f"ws://127.0.0.1:{port}/v1/stream"
    cases: list[tuple[str, Callable[[int], dict[str, Any]], int]] = [
        ("pings", lambda n: {"type": "ping", "id": n}, 20_000),
        ("subscribes", lambda n: {"type": "subscribe", "id": n, "plan_id": f"p{n}"}, 2_000),
    ]
    for label, make, count in cases:
        answers: Counter[str] = Counter()
        async with connect(url, subprotocols=SUBPROTOCOLS, max_size=None) as ws:
            await ws.recv()

            async def read(ws: ClientConnection = ws, answers: Counter[str] = answers) -> None:
                try:
                    async for text in ws:
                        frame = json.loads(text)
                        answers[f"{frame['type']}:{frame.get('code', '')}"] += 1
                except ConnectionClosed:
                    pass

            reader = asyncio.create_task(read())
            try:
                for number in range(count):
                    await ws.send(json.dumps(make(number)))
            except ConnectionClosed:
                pass
            await asyncio.wait([reader], timeout=3)
            reader.cancel()
            close = (ws.close_code, ws.close_reason)
        print(f"{count} {label}: answers {dict(answers)}; close {close}")


SCENARIOS: dict[str, tuple[Callable[[int], Awaitable[None]], dict[str, str], int | None]] = {
    "1": (crash_frames, {}, None),
    "2": (id_limits, {}, None),
    "2b": (long_heads, {"PLANSTREAM_SERVER_MAX_FRAME_BYTES": "4096"}, None),
    "3": (half_open, {"PLANSTREAM_SERVER_MAX_CONNECTIONS": "5"}, None),
    "3fd": (idle_flood, {}, 256),
    "4": (floods, {}, None),
}


def main(name: str) -> None:
    """Start a server, run attack ``name`` against it, then report what it logged."""
    attack, env, nofile = SCENARIOS[name]
    process, port, log_name = _start({"PLANSTREAM_SERVER_HEARTBEAT_S": "1", **env}, nofile)
    try:
        asyncio.run(attack(port))
    finally:
        process.terminate()
        process.wait(10)
        data = Path(log_name).read_bytes()
        Path(log_name).unlink()
        lines = data.count(b"\n")
        print(
            f"server log: {lines} lines, {len(data)} bytes, "
            f"{data.count(b'Traceback')} tracebacks, "
            f"{data.count(b'Too many open files')} 'Too many open files'"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "1")
