"""Start reference servers for a scenario, on 127.0.0.1, stopped after it.

Servers run embedded in the scenario's event loop (``context.loop``) or as a
real subprocess (``python -m planstream.server``) when a test needs to kill or
signal them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from planstream.server import PlanStreamServer, ServerSettings


def run(context: Any, awaitable: Any, timeout: float = 30.0) -> Any:
    """Run a coroutine to completion in the scenario's loop, with a bound."""
    return context.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))


def on_cleanup(context: Any, cleanup: Any) -> None:
    """Await ``cleanup()`` after the scenario (environment.py runs them)."""
    if not hasattr(context, "async_cleanups"):
        context.async_cleanups = []
    context.async_cleanups.append(cleanup)


def start_embedded(context: Any, **settings: Any) -> PlanStreamServer:
    """A PlanStreamServer on a free loopback port, stopped after the scenario."""
    settings.setdefault("port", 0)
    server = PlanStreamServer(ServerSettings(**settings))
    run(context, server.start())
    on_cleanup(context, server.stop)
    return server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early: {self.process.stdout.read()}")  # type: ignore[union-attr]
            try:
                if httpx.get(self.http_url + "/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise TimeoutError("server did not become ready")

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
