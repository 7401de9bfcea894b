"""Fan-out, latency and memory of the reference server running in its own process.

Run from the repository root::

    python benchmarks/server_fanout.py --connections 100 --events 5000 --compression off

The server is started as a subprocess (``python -m planstream.server``, configured
with ``PLANSTREAM_SERVER_*`` variables). The WebSocket clients and the publisher
(HTTP ``POST /v1/plans/{plan_id}/events``) run in this process, so on a machine
with 2 cores the server has one core and the clients the other. The script
prints:

* fan-out: ``--events`` events POSTed in lists of ``--publish-batch`` as fast as
  the server accepts them. The time runs from the first POST until every
  connection has received every event. The figure is delivered events/s over
  all connections;
* latency: ``--latency-events`` single-event POSTs, ``--latency-gap-ms`` apart.
  Each carries ``time.perf_counter()`` taken just before its POST as its log
  message. Latency is receive time minus that value, for every event on every
  connection;
* the server's RSS (``VmRSS`` in ``/proc/PID/status``) before the clients
  connect, once they are subscribed, and after the runs. The per-connection
  figures are the growth divided by ``--connections``.

Every connection must receive every event exactly once and in ``seq`` order,
and the server's ``events_sent`` counter must match. Otherwise the script
fails. The client helpers are shared with ``server_ws_bench.py`` (asv).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

SUBPROTOCOL = Subprotocol("planstream.v1")
#: Bearer token the benchmark servers accept (readers and publishers).
TOKEN = "planstream-bench-token"
#: Log messages of the fan-out events: a realistic line, ~300-byte event frames.
LOG_MESSAGE = "pulling layer sha256:9f86d081884c7d65 (12.4 MiB of 48.0 MiB)"
#: Latency runs publish this many unmeasured events first.
LATENCY_WARMUP = 20


# --- events ---------------------------------------------------------------------


def log_data(index: int, message: str | None = None) -> dict[str, Any]:
    """``data`` of one ``log`` event, as a build step would publish it."""
    return {
        "level": "info",
        "message": f"[{index:06d}] {LOG_MESSAGE}" if message is None else message,
        "step_id": f"step-{index // 50 + 1:03d}",
        "stream": "stdout",
    }


def percentile(values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


# --- raw WebSocket clients ---------------------------------------------------------


async def open_client(url: str, *, compression: bool = False) -> ClientConnection:
    """Connect with the ``planstream.v1`` subprotocol and read the ``hello`` frame."""
    ws = await connect(
        url,
        subprotocols=[SUBPROTOCOL],
        additional_headers={"Authorization": f"Bearer {TOKEN}"},
        compression="deflate" if compression else None,
        max_size=None,
        open_timeout=60,
    )
    hello = json.loads(await ws.recv())
    if hello.get("type") != "hello":
        raise AssertionError(f"expected hello, got {hello}")
    return ws


def negotiated_extensions(ws: ClientConnection) -> str:
    """The ``Sec-WebSocket-Extensions`` the server answered (empty: none)."""
    response = ws.response
    return response.headers.get("Sec-WebSocket-Extensions", "") if response else ""


async def subscribe(ws: ClientConnection, plan_id: str, request_id: str) -> None:
    """Subscribe to ``plan_id`` from its start and wait for ``subscribed``."""
    frame = {"type": "subscribe", "id": request_id, "plan_id": plan_id, "last_event_id": None}
    await ws.send(json.dumps(frame))
    while True:
        answer = json.loads(await ws.recv())
        if answer["type"] == "subscribed" and answer["id"] == request_id:
            return
        if answer["type"] != "heartbeat":
            raise AssertionError(f"unexpected answer to subscribe: {answer}")


_SEQ = re.compile(rb'"seq":(\d+)')
_EVENT_FRAME_PREFIXES = (b'{"type":"batch",', b'{"type":"event",')


def event_seqs(frame: bytes) -> list[int]:
    """The ``seq`` of every event in an ``event`` or ``batch`` frame, in order.

    A regular expression instead of ``json.loads`` keeps the clients cheap, so
    the server, not the clients, limits the fan-out figures. ``"seq":`` cannot
    occur inside a JSON string (a quote in a string is escaped), and the count
    is checked against the events in the frame. Any other frame is parsed; a
    heartbeat has no events, anything else raises.
    """
    if frame.startswith(_EVENT_FRAME_PREFIXES):
        seqs = [int(seq) for seq in _SEQ.findall(frame)]
        if len(seqs) != frame.count(b'"type":"event"'):
            raise AssertionError(f"cannot read the seqs of {frame[:300]!r}")
        return seqs
    parsed = json.loads(frame)
    if parsed.get("type") != "heartbeat":
        raise AssertionError(f"unexpected frame: {frame[:300]!r}")
    return []


async def receive_events(ws: ClientConnection, expected: int) -> float:
    """Receive events 1..``expected`` of the one plan subscribed on ``ws``.

    ``batch`` frames are flattened; a gap or a repeated ``seq`` raises. Returns
    the ``perf_counter`` time at which the last event arrived.
    """
    last = 0
    received_at = time.perf_counter()
    while last < expected:
        frame = await ws.recv(decode=False)
        received_at = time.perf_counter()
        seqs = event_seqs(frame)
        if seqs == list(range(last + 1, last + 1 + len(seqs))):
            last += len(seqs)
            continue
        for seq in seqs:  # find the first wrong one
            if seq != last + 1:
                problem = "a duplicate" if seq <= last else "lost events"
                raise AssertionError(f"{problem}: seq {seq} after seq {last}")
            last = seq
    return received_at


async def receive_latencies(
    ws: ClientConnection, plan_id: str, expected: int, latencies: list[float], warmup: int
) -> None:
    """Receive events 1..``expected`` of ``plan_id``; record their latencies.

    Each event's log message is the ``perf_counter`` value taken just before
    it was published; each event after the first ``warmup`` adds its receive
    time minus that value to ``latencies``. A gap or a repeated ``seq`` raises.
    """
    last = 0
    while last < expected:
        text = await ws.recv()
        received_at = time.perf_counter()
        frame = json.loads(text)
        if frame["type"] == "batch":
            events = frame["events"]
        elif frame["type"] == "event":
            events = (frame,)
        elif frame["type"] == "heartbeat":
            continue
        else:
            raise AssertionError(f"unexpected frame: {text[:300]}")
        for event in events:
            seq = event["seq"]
            if event["plan_id"] != plan_id or seq != last + 1:
                problem = "a duplicate" if seq <= last else "lost events"
                raise AssertionError(
                    f"{problem}: {event['plan_id']} seq {seq} after seq {last} of {plan_id}"
                )
            last = seq
            if seq > warmup:
                latencies.append(received_at - float(event["data"]["message"]))


async def expect_no_more_events(ws: ClientConnection) -> None:
    """Ping and read up to the ``pong``: any event before it is a duplicate."""
    await ws.send('{"type":"ping","id":"drain"}')
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] == "pong" and frame["id"] == "drain":
            return
        if frame["type"] in {"event", "batch"}:
            raise AssertionError(f"an event after the last one: {json.dumps(frame)[:300]}")


# --- the server subprocess ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _create_file(path: Path) -> BinaryIO:
    return path.open("wb")


def _proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line)


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """``VmRSS`` (or ``VmHWM``, the peak) of process ``pid`` in KiB."""
    return int(_proc_status(pid)[field].split()[0])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class ServerProcess:
    """A ``python -m planstream.server`` subprocess and its URLs."""

    process: asyncio.subprocess.Process
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextlib.asynccontextmanager
async def server_process(
    *, compression: bool, retention: int, settings: Mapping[str, str] | None = None
) -> AsyncIterator[ServerProcess]:
    """Start the server, wait for ``/healthz``, stop it with SIGTERM at the end.

    ``settings``: more ``PLANSTREAM_SERVER_*`` variables (e.g. the publish rate).
    """
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANSTREAM_SERVER_")}
    env |= {
        "PLANSTREAM_SERVER_PORT": str(port),
        "PLANSTREAM_SERVER_COMPRESSION": "true" if compression else "false",
        "PLANSTREAM_SERVER_PUBLISH_TOKENS": TOKEN,
        "PLANSTREAM_SERVER_RETENTION": str(retention),
        **(settings or {}),
    }
    with tempfile.TemporaryDirectory(prefix="planstream-bench-") as tmp:
        log_path = Path(tmp, "server.log")
        with _create_file(log_path) as log_file:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "planstream.server",
                env=env,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
            )
        server = ServerProcess(process, port, log_path)
        try:
            await _wait_until_healthy(server)
            yield server
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def _wait_until_healthy(server: ServerProcess, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        while time.monotonic() < deadline:
            if server.process.returncode is not None:
                raise RuntimeError(f"the server exited:\n{server.log_tail()}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the server did not answer /healthz in {seconds} s:\n{server.log_tail()}")


# --- publishing over HTTP -------------------------------------------------------------


class Publisher:
    """A minimal HTTP/1.1 keep-alive client for ``POST /v1/plans/{plan_id}/events``.

    httpx cost this process about 2 ms of CPU per request on the 2-core test
    machine, more than the server spent answering it; this client costs a
    fraction of that and keeps the publisher from distorting the figures.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self._reader = reader
        self._writer = writer
        self._host = host

    @classmethod
    async def connect(cls, host: str, port: int) -> Publisher:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def post(self, path: str, body: bytes) -> bytes:
        """POST ``body`` (JSON) and return the response body; raises unless 2xx."""
        self._writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(":", 1) for line in header_lines if ":" in line)
        length = next(int(v) for k, v in headers.items() if k.lower() == "content-length")
        answer = await self._reader.readexactly(length)
        if not status_line.split()[1].startswith("2"):
            raise RuntimeError(f"{status_line}: {answer[:300]!r}")
        return answer

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


# --- the runs -------------------------------------------------------------------------


@dataclass(slots=True)
class Report:
    connections: int
    events: int
    compression: bool
    extensions: str
    fanout_seconds: float = 0.0
    publish_seconds: float = 0.0
    events_per_frame: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    latency_samples: int = 0
    rss_start: int = 0
    rss_connected: int = 0
    rss_after_fanout: int = 0
    rss_after: int = 0
    rss_peak: int = 0

    @property
    def delivered(self) -> int:
        return self.connections * self.events

    @property
    def events_per_s(self) -> float:
        return self.delivered / self.fanout_seconds


async def _server_counters(server: ServerProcess) -> dict[str, int]:
    async with httpx.AsyncClient(
        base_url=server.http_url, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as http:
        response = await http.get("/v1/status")
        response.raise_for_status()
        counters: dict[str, int] = response.json()
        return counters


async def run(args: argparse.Namespace) -> Report:
    """Start a server, connect the clients, run fan-out then latency."""
    compression = args.compression == "on"
    total_published = args.events + LATENCY_WARMUP + args.latency_events
    async with server_process(compression=compression, retention=total_published) as server:
        await asyncio.sleep(0.5)  # let the server settle before the baseline
        rss_start = rss_kib(server.pid)
        clients = list(
            await asyncio.gather(
                *(
                    open_client(server.ws_url, compression=compression)
                    for _ in range(args.connections)
                )
            )
        )
        publishers = [
            await Publisher.connect("127.0.0.1", server.port) for _ in range(args.publishers)
        ]
        try:
            report = Report(
                args.connections, args.events, compression, negotiated_extensions(clients[0])
            )
            report.rss_start = rss_start
            await _fanout(server, publishers, clients, args, report)
            await _latency(server, publishers[0], clients, args, report)
            await asyncio.gather(*(expect_no_more_events(ws) for ws in clients))
            report.rss_after = rss_kib(server.pid)
            report.rss_peak = rss_kib(server.pid, "VmHWM")
        finally:
            await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
            await asyncio.gather(*(p.close() for p in publishers), return_exceptions=True)
    return report


async def _fanout(
    server: ServerProcess,
    publishers: list[Publisher],
    clients: list[ClientConnection],
    args: argparse.Namespace,
    report: Report,
) -> None:
    plan_id = "bench-fanout"
    path = f"/v1/plans/{plan_id}/events"
    await asyncio.gather(*(subscribe(ws, plan_id, "fanout") for ws in clients))
    await asyncio.sleep(0.5)
    report.rss_connected = rss_kib(server.pid)
    bodies = [
        json.dumps(
            [
                {"kind": "log", "data": log_data(index)}
                for index in range(start, min(start + args.publish_batch, args.events))
            ]
        ).encode()
        for start in range(0, args.events, args.publish_batch)
    ]

    async def publish(publisher: Publisher, share: list[bytes]) -> None:
        for body in share:
            await publisher.post(path, body)

    before = await _server_counters(server)
    server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
    receivers = [asyncio.create_task(receive_events(ws, args.events)) for ws in clients]
    start = time.perf_counter()
    count = len(publishers)
    await asyncio.gather(*(publish(p, bodies[i::count]) for i, p in enumerate(publishers)))
    report.publish_seconds = time.perf_counter() - start
    async with asyncio.timeout(args.timeout):
        finished = await asyncio.gather(*receivers)
    report.fanout_seconds = max(finished) - start
    report.server_cpu = cpu_seconds(server.pid) - server_cpu
    report.client_cpu = time.process_time() - client_cpu
    report.rss_after_fanout = rss_kib(server.pid)
    after = await _server_counters(server)
    sent = after["events_sent"] - before["events_sent"]
    if sent != report.delivered:
        raise AssertionError(f"the server sent {sent} events, expected {report.delivered}")
    report.events_per_frame = sent / (after["frames_sent"] - before["frames_sent"])


async def _latency(
    server: ServerProcess,
    publisher: Publisher,
    clients: list[ClientConnection],
    args: argparse.Namespace,
    report: Report,
) -> None:
    plan_id = "bench-latency"
    path = f"/v1/plans/{plan_id}/events"
    await asyncio.gather(*(subscribe(ws, plan_id, "latency") for ws in clients))
    total = LATENCY_WARMUP + args.latency_events
    latencies: list[float] = []
    receivers = [
        asyncio.create_task(receive_latencies(ws, plan_id, total, latencies, LATENCY_WARMUP))
        for ws in clients
    ]
    gap = args.latency_gap_ms / 1000
    prefix = b'{"kind":"log","data":{"level":"info","stream":"stdout","message":"'
    for _ in range(total):
        sent_at = time.perf_counter()
        await publisher.post(path, prefix + repr(sent_at).encode() + b'"}}')
        await asyncio.sleep(gap)
    async with asyncio.timeout(args.timeout):
        await asyncio.gather(*receivers)
    report.latency_samples = len(latencies)
    report.p50_ms = percentile(latencies, 50) * 1000
    report.p99_ms = percentile(latencies, 99) * 1000


# --- command line ----------------------------------------------------------------------


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def print_report(report: Report, args: argparse.Namespace) -> None:
    conns = report.connections
    per_conn = (report.rss_connected - report.rss_start) / conns
    per_conn_after = (report.rss_after_fanout - report.rss_start) / conns
    print(
        f"planstream server fan-out: {conns} connections, compression {args.compression}"
        f" (Sec-WebSocket-Extensions: {report.extensions or 'none'}),"
        f" {report.events:,} events POSTed in lists of {args.publish_batch}"
        f" by {args.publishers} publishers"
    )
    print(
        f"  fan-out     {report.events_per_s:,.0f} events/s delivered"
        f" ({report.delivered:,} events in {report.fanout_seconds:.2f} s;"
        f" publishing took {report.publish_seconds:.2f} s;"
        f" {report.events_per_frame:.1f} events per frame)"
    )
    print(
        f"  CPU         server {report.server_cpu:.2f} s"
        f" ({report.server_cpu / report.delivered * 1e6:.2f} us per delivered event),"
        f" clients + publishers {report.client_cpu:.2f} s, during the fan-out"
    )
    print(
        f"  latency     p50 {report.p50_ms:.2f} ms, p99 {report.p99_ms:.2f} ms"
        f" (POST -> receive, {conns} subscribers, {args.latency_events} events"
        f" {args.latency_gap_ms:g} ms apart, {report.latency_samples:,} samples)"
    )
    print(
        f"  server RSS  start {_mib(report.rss_start)};"
        f" {conns} subscribed {_mib(report.rss_connected)} ({per_conn:.1f} KiB/connection);"
        f" after fan-out {_mib(report.rss_after_fanout)}"
        f" ({per_conn_after:.1f} KiB/connection incl. the log);"
        f" after latency {_mib(report.rss_after)}; peak {_mib(report.rss_peak)}"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Fan-out throughput, latency and RSS of `python -m planstream.server`."
    )
    parser.add_argument("--connections", type=int, default=10, help="WebSocket clients (10)")
    parser.add_argument("--events", type=int, default=5000, help="fan-out events (5000)")
    parser.add_argument(
        "--compression",
        choices=("on", "off"),
        default="off",
        help="permessage-deflate on server and clients (off)",
    )
    parser.add_argument(
        "--publish-batch", type=int, default=100, help="events per fan-out POST (100)"
    )
    parser.add_argument(
        "--publishers", type=int, default=2, help="concurrent fan-out publishers (2)"
    )
    parser.add_argument(
        "--latency-events", type=int, default=500, help="measured latency events (500)"
    )
    parser.add_argument(
        "--latency-gap-ms", type=float, default=2.0, help="pause between latency POSTs (2)"
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="give up waiting for delivery after s (300)"
    )
    args = parser.parse_args(argv)
    counts = (args.connections, args.events, args.publish_batch, args.publishers)
    if min(*counts, args.latency_events) < 1:
        parser.error("counts must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print_report(asyncio.run(run(args)), args)


if __name__ == "__main__":
    main()
