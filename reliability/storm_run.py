"""One reconnect storm: 500 clients, one reference server that restarts, one jitter mode.

:func:`run_storm` runs it, start to end, in the running event loop:

1. a reference server (:mod:`storm_server`, Redis event log) starts
   on a free port; each plan gets its first event (``plan.status`` running);
2. the clients start (:mod:`storm_clients`, ``processes`` processes sharing
   ``clients`` so that both cores work), each subscribing to one plan; all
   say ``ready`` once every client has its first event;
3. a few events are published live, then the server is killed
   (``restart_signal``); ``down_time`` seconds after it exited a new server
   starts on the same port and the same Redis log; the moment it prints that
   it listens is ``back_at``;
4. right then a marker event (``RESUME_MARKER``) is published on every plan,
   and another event every ``publish_interval`` seconds, until every client
   has the marker (resumed: connection open again and subscription flowing;
   late clients get the events they missed replayed from the Redis log);
5. a terminal ``plan.status`` ends every subscription; the clients write
   their records and exit.

Every process is stopped when the storm ends, fails or is cancelled, and
every phase has a hard time-out. Times are ``time.monotonic()`` everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storm_clients import RESUME_MARKER
from support.servers import free_port
from support.stream_checker import read_jsonl

from planstream import LogData, PlanPublisher, PlanStatusData
from planstream.backoff import JitterMode

__all__ = ["StormParameters", "StormRecords", "run_storm"]

CLIENT_PROGRAM = Path(__file__).with_name("storm_clients.py")
SERVER_PROGRAM = Path(__file__).with_name("storm_server.py")
#: Longest a server may take to start listening, s.
_SERVER_START = 30.0
#: Longest the clients may take to connect and get their first event, s.
_CLIENTS_READY = 45.0
#: Beyond the backoff cap, longest the clients may take to resume, s.
_RESUME_MARGIN = 15.0
#: Longest the clients may take to finish once the plans ended, s.
_CLIENTS_DONE = 20.0


@dataclass(frozen=True, slots=True)
class StormParameters:
    """The storm's setup (docs/reliability.md explains the choices).

    Attributes:
        clients, processes, plans: the fleet, the client processes it is shared
            by, and the plans it follows (client ``c`` follows plan ``c % plans``).
        initial_delay, max_delay: the backoff (factor 2): a quarter of the cap,
            so that one outage of a few seconds takes jittered clients to the
            cap while the herd fails in lockstep once (at 2 s) and comes back at 6 s.
        down_time: seconds between the old server's exit and the new one's start.
        restart_signal: how the server goes down (SIGKILL: a crash, every
            connection dropped at the same moment).
        events_before, publish_interval: events published per plan before the
            restart, and the pace of those after it.
        seed: seed of the jitter (None: unseeded).
    """

    clients: int = 500
    processes: int = 4
    plans: int = 10
    initial_delay: float = 2.0
    max_delay: float = 8.0
    down_time: float = 3.0
    restart_signal: str = "SIGKILL"
    events_before: int = 2
    publish_interval: float = 0.5
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class StormRecords:
    """What one storm left: the times, the publisher's and the clients' records."""

    jitter: JitterMode
    parameters: StormParameters
    down_at: float  # the kill signal was sent
    exited_at: float  # the old server was gone
    back_at: float  # the new server listened
    plans: list[str]  # client c follows plans[c % len(plans)]
    markers: dict[str, str]  # plan -> the event id of its RESUME_MARKER event
    handshakes: list[float]  # when the restarted server accepted each upgrade
    published: list[dict[str, Any]]
    clients: list[dict[str, Any]]
    wall_time: float


def _clean_environment() -> dict[str, str]:
    """This process's environment without any ``PLANSTREAM_*`` setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PLANSTREAM_")}


class _ServerProcess:
    """The reference server (:mod:`storm_server`) on a fixed port, restartable.

    Each start writes its handshake times to its own file, ``handshakes-N.txt``.
    """

    def __init__(self, port: int, redis_url: str, workdir: Path) -> None:
        self.port = port
        self.http_url = f"http://127.0.0.1:{port}"
        self.stream_url = f"ws://127.0.0.1:{port}/v1/stream"
        self.starts = 0
        self._redis_url = redis_url
        self._workdir = workdir
        self._process: asyncio.subprocess.Process | None = None

    @property
    def log_path(self) -> Path:
        return self._workdir / "server.log"

    @property
    def handshakes_path(self) -> Path:
        """The handshake times of the latest start."""
        return self._workdir / f"handshakes-{self.starts}.txt"

    async def start(self) -> float:
        """Start it; returns the monotonic time it said it listens."""
        self.starts += 1
        env = {**_clean_environment(), "PLANSTREAM_SERVER_REDIS_URL": self._redis_url}
        arguments = ["--port", str(self.port), "--handshakes", str(self.handshakes_path)]
        with self.log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(SERVER_PROGRAM),
                *arguments,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        self._process = process
        assert process.stdout is not None
        async with asyncio.timeout(_SERVER_START):
            while line := await process.stdout.readline():
                if line.startswith(b"planstream server listening on"):
                    return time.monotonic()
        raise RuntimeError(f"the server exited before it listened; see {self.log_path}")

    async def kill(self, signal_name: str) -> tuple[float, float]:
        """Send ``signal_name``; returns when it was sent and when the process was gone."""
        signum = signal.Signals[signal_name]
        process = self._process
        assert process is not None
        sent_at = time.monotonic()
        process.send_signal(signum)
        async with asyncio.timeout(_SERVER_START):
            await process.wait()
        self._process = None  # only now: stop() still stops it if this failed
        return sent_at, time.monotonic()

    async def stop(self) -> None:
        """SIGTERM (SIGKILL if it lingers); safe when it is not running."""
        process, self._process = self._process, None
        if process is not None:
            await _stop_process(process, signal.SIGTERM)


async def _stop_process(process: asyncio.subprocess.Process, first: signal.Signals) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(first)
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


class _ClientProcess:
    """One ``storm_clients.py`` process and the lines it says."""

    def __init__(self, process: asyncio.subprocess.Process, records: Path, log: Path) -> None:
        self.process = process
        self.records = records
        self.log = log

    @classmethod
    async def start(cls, arguments: Sequence[str], records: Path, log: Path) -> _ClientProcess:
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(CLIENT_PROGRAM),
                *arguments,
                "--records",
                str(records),
                env=_clean_environment(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        return cls(process, records, log)

    async def expect(self, word: str) -> None:
        """Wait until the process says ``word`` (bound it with a time-out)."""
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            if line.decode().strip() == word:
                return
        status = await self.process.wait()
        raise RuntimeError(f"a client process exited ({status}) before {word!r}; see {self.log}")

    async def stop(self) -> None:
        """Close its stdin (it stops by itself), then SIGTERM/SIGKILL if it lingers."""
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            async with asyncio.timeout(5):
                await self.process.wait()
        except TimeoutError:
            await _stop_process(self.process, signal.SIGTERM)


async def _all_say(processes: Sequence[_ClientProcess], word: str, within: float) -> None:
    try:
        async with asyncio.timeout(within), asyncio.TaskGroup() as waits:
            for process in processes:
                waits.create_task(process.expect(word))
    except TimeoutError:
        raise RuntimeError(f"the clients did not all say {word!r} within {within:.0f} s") from None


class _Publisher:
    """Publishes through the server's HTTP API and keeps the acknowledged record."""

    def __init__(self, publisher: PlanPublisher, plans: Sequence[str]) -> None:
        self.publisher = publisher
        self.plans = plans
        self.record: list[dict[str, Any]] = []
        self._count = 0

    async def on_every_plan(self, data: LogData | PlanStatusData) -> None:
        """One event on each plan (one request per plan, in parallel)."""
        async with asyncio.TaskGroup() as requests:
            for plan_id in self.plans:
                requests.create_task(self._one(plan_id, data))

    async def _one(self, plan_id: str, data: LogData | PlanStatusData) -> None:
        placed = await self.publisher.publish(plan_id, data)
        self.record.append({"p": plan_id, "s": placed.seq, "i": placed.event_id})

    async def log(self, message: str | None = None) -> list[dict[str, Any]]:
        """One log event on each plan; returns their records."""
        self._count += 1
        text = message or f"storm event {self._count}"
        already = len(self.record)
        await self.on_every_plan(LogData(level="info", message=text, stream="system"))
        return self.record[already:]

    async def every(self, interval: float, stop: asyncio.Event) -> None:
        """One event on each plan every ``interval`` seconds, until ``stop`` is set.

        Never cancelled mid-request: an event the server appended must be in
        the record (the checker fails events the publisher never saw).
        """
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await stop.wait()
            if stop.is_set():
                return
            await self.log()


async def run_storm(
    jitter: JitterMode, parameters: StormParameters, redis_url: str, workdir: Path
) -> StormRecords:
    """Run one storm (module docstring) and return its records.

    ``workdir`` (it must exist) receives the server's log and each client
    process's log and records.
    """
    started = time.monotonic()
    plans = [f"storm-{jitter.value}-{n}" for n in range(parameters.plans)]
    server = _ServerProcess(free_port(), redis_url, workdir)
    clients: list[_ClientProcess] = []
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(server.stop)
        await server.start()
        published = _Publisher(
            await stack.enter_async_context(PlanPublisher(server.http_url)), plans
        )
        await published.on_every_plan(PlanStatusData(status="running"))
        share = -(-parameters.clients // parameters.processes)
        for first in range(0, parameters.clients, share):
            arguments = _client_arguments(
                server.stream_url, jitter, parameters, plans, first, share
            )
            name = f"clients-{first // share}"
            clients.append(
                await _ClientProcess.start(
                    arguments, workdir / f"{name}.jsonl", workdir / f"{name}.log"
                )
            )
            stack.push_async_callback(clients[-1].stop)
        await _all_say(clients, "ready", _CLIENTS_READY)
        for _ in range(parameters.events_before):
            await published.log()
        down_at, exited_at = await server.kill(parameters.restart_signal)
        await asyncio.sleep(max(0.0, exited_at + parameters.down_time - time.monotonic()))
        back_at = await server.start()
        handshakes_path = server.handshakes_path
        markers = {line["p"]: line["i"] for line in await published.log(RESUME_MARKER)}
        resumed = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(published.every(parameters.publish_interval, resumed))
            try:
                await _all_say(clients, "resumed", parameters.max_delay + _RESUME_MARGIN)
            finally:
                resumed.set()
        await published.on_every_plan(PlanStatusData(status="succeeded"))
        await _all_say(clients, "done", _CLIENTS_DONE)
    records = [line for process in clients for line in read_jsonl(process.records)]
    handshakes = [float(line) for line in handshakes_path.read_text(encoding="utf-8").split()]
    return StormRecords(
        jitter=jitter,
        parameters=parameters,
        down_at=down_at,
        exited_at=exited_at,
        back_at=back_at,
        plans=plans,
        markers=markers,
        handshakes=handshakes,
        published=published.record,
        clients=records,
        wall_time=time.monotonic() - started,
    )


def _client_arguments(
    url: str,
    jitter: JitterMode,
    parameters: StormParameters,
    plans: Sequence[str],
    first: int,
    share: int,
) -> list[str]:
    arguments = ["--url", url, "--first", str(first)]
    arguments += ["--count", str(min(share, parameters.clients - first))]
    arguments += ["--plans", ",".join(plans), "--jitter", jitter.value]
    arguments += ["--initial-delay", str(parameters.initial_delay)]
    arguments += ["--max-delay", str(parameters.max_delay)]
    if parameters.seed is not None:
        arguments += ["--seed", str(parameters.seed)]
    return arguments
