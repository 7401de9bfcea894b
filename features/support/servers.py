"""Start reference servers for a scenario, on 127.0.0.1, stopped after it.

The one vocabulary of server fixtures: every feature says "a reference server"
(options follow: "with settings" and a table, "whose event log ...", "whose
token verifier ...", "running as a subprocess", "whose memory log survives
restarts") and every such step starts it here, as ``context.server``:

* :func:`start_reference_server` — embedded in the scenario's event loop
  (``context.loop``), settings, event log and token verifier as the step asks;
  ``context.published`` starts empty.
* :func:`start_process` — ``python -m planstream.server`` in a subprocess,
  when a test needs to signal it.
* :class:`RestartableServer` / :class:`RestartableProcess` — a reference server
  that stops and starts again on the same port (keeping its memory log), or a
  subprocess that is killed and replaced (losing it).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from planstream.server import MemoryEventLog, PlanStreamServer, ServerSettings
from planstream.server.publishing import validate_new_event


def run(context: Any, awaitable: Any, timeout: float = 30.0) -> Any:
    """Run a coroutine to completion in the scenario's loop, with a bound."""
    return context.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))


def on_cleanup(context: Any, cleanup: Any) -> None:
    """Await ``cleanup()`` after the scenario (environment.py runs them)."""
    if not hasattr(context, "async_cleanups"):
        context.async_cleanups = []
    context.async_cleanups.append(cleanup)


def start_reference_server(
    context: Any, *, log: Any = None, verifier: Any = None, **settings: Any
) -> PlanStreamServer:
    """The scenario's reference server (``context.server``), embedded, started now.

    ``log`` and ``verifier`` replace the server's own event log and token
    verifier (None: the defaults); ``settings`` are :class:`ServerSettings` fields.
    """
    settings.setdefault("port", 0)
    extras = {"log": log, "verifier": verifier}
    server = PlanStreamServer(
        ServerSettings(**settings), **{k: v for k, v in extras.items() if v is not None}
    )
    run(context, server.start())
    on_cleanup(context, server.stop)
    context.server = server
    context.published = {}
    return server


def start_embedded(context: Any, server: PlanStreamServer) -> None:
    """Start ``server`` (stopped at cleanup); its start-up failure, or None, is
    ``context.stream_start_error`` for the Then steps to judge."""
    on_cleanup(context, server.stop)
    try:
        run(context, server.start())
    except Exception as exc:
        context.stream_start_error = exc
    else:
        context.stream_start_error = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(process: subprocess.Popen[str], http_url: str, timeout: float = 15.0) -> None:
    """Wait until the server ``process`` answers ``GET /healthz`` with 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early: {process.stdout.read()}")  # type: ignore[union-attr]
        try:
            if httpx.get(http_url + "/healthz", timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise TimeoutError("server did not become ready")


class ServerProcess:
    """``python -m planstream.server`` in a subprocess (coverage follows it)."""

    def __init__(self, port: int, env: dict[str, str] | None = None) -> None:
        self.port = port
        self.url = f"ws://127.0.0.1:{port}/v1/stream"
        self.http_url = f"http://127.0.0.1:{port}"
        full_env = {**os.environ, "PLANSTREAM_SERVER_PORT": str(port), **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "planstream.server"],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output = ""

    def wait_ready(self, timeout: float = 15.0) -> None:
        wait_healthy(self.process, self.http_url, timeout)

    def terminate(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the server and wait for it to exit; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None and not self.process.stdout.closed:
            self.output = self.process.stdout.read()
            self.process.stdout.close()  # no ResourceWarning for the pipe
        return self.process.returncode


def start_process(
    context: Any, env: dict[str, str] | None = None, port: int | None = None
) -> ServerProcess:
    """A server subprocess, ready to serve; terminated after the scenario."""
    server = _owned_process(context, port or free_port(), env)
    server.wait_ready()
    return server


def start_processes(
    context: Any, count: int, env: dict[str, str] | None = None
) -> list[ServerProcess]:
    """``count`` server subprocesses started at once (their imports overlap), all ready."""
    servers = [_owned_process(context, free_port(), env) for _ in range(count)]
    for server in servers:
        server.wait_ready()
    return servers


def _owned_process(context: Any, port: int, env: dict[str, str] | None) -> ServerProcess:
    server = ServerProcess(port, env)

    async def stop() -> None:
        server.terminate()

    on_cleanup(context, stop)
    return server


class RestartableServer:
    """An embedded reference server that can stop and start on the same port."""

    def __init__(self, **settings: Any) -> None:
        self.settings = settings
        self.log = MemoryEventLog(settings.get("retention", 10_000))
        self.port = 0
        self.server: PlanStreamServer | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    async def start(self) -> None:
        """Serve (again) on the same port, with the same log."""
        assert self.server is None, "already running"
        server = PlanStreamServer(
            ServerSettings(**{**self.settings, "port": self.port}), log=self.log
        )
        await server.start()
        assert server.port is not None
        self.server, self.port = server, server.port

    async def stop(self) -> None:
        """Close every WebSocket with 1001 and stop listening; the log stays."""
        server, self.server = self.server, None
        if server is not None:
            await server.stop()

    async def publish(self, plan_id: str, kind: str, data: dict[str, Any]) -> tuple[int, str]:
        """Publish through the running server, or append to the log while it is down."""
        if self.server is not None:
            stored = await self.server.publish(plan_id, kind, data)
        else:
            new = validate_new_event(kind, data, allow_unknown_kinds=False)
            (stored,) = await self.log.append(plan_id, [new], ts=datetime.now(UTC))
        return stored.seq, stored.event.event_id


class RestartableProcess:
    """A server subprocess that can be killed and replaced on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: ServerProcess | None = None
        self.processes: list[ServerProcess] = []

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    async def start(self) -> None:
        """Start a process on the port and wait until it answers /healthz."""
        assert self.process is None, "already running"
        process = ServerProcess(self.port)
        self.processes.append(process)
        await asyncio.to_thread(process.wait_ready)
        self.process = process

    async def kill(self) -> int:
        """SIGKILL the process (no close frames, history lost); its exit code."""
        process, self.process = self.process, None
        assert process is not None, "not running"
        return await asyncio.to_thread(process.terminate, signal.SIGKILL)

    async def stop(self) -> None:
        """Terminate every process still running (SIGTERM: coverage data is written)."""
        self.process = None
        for process in self.processes:
            await asyncio.to_thread(process.terminate)
            if process.process.stdout is not None:
                process.process.stdout.close()  # terminate() read it; free the pipe now

    async def publish(self, plan_id: str, kind: str, data: dict[str, Any]) -> tuple[int, str]:
        """POST one event (protocol §6); the server is open, no token needed."""
        assert self.process is not None, "not running"
        async with httpx.AsyncClient(base_url=self.process.http_url, timeout=10) as http:
            response = await http.post(
                f"/v1/plans/{plan_id}/events", json={"kind": kind, "data": data}
            )
        assert response.status_code == 201, (response.status_code, response.text)
        (appended,) = response.json()["events"]
        return appended["seq"], appended["event_id"]
