"""The processes behind the dashboard suite: reference servers and a Redis, on 127.0.0.1.

:class:`ServerProcess` is ``python -m planstream.server`` with the dashboard on,
a reader and a publish token, on a free port (kept across a restart, so the
page reconnects to the same URL); its output goes to ``build/dashboard/NAME.log``
(appended to across restarts). It is stopped with SIGTERM, so the server
closes its WebSockets with 1001 and coverage writes its data.

:class:`RedisProcess` is a ``redis-server`` whose event log outlives a
planstream server's restart: the page then resumes from the very event it
last showed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

import httpx
import uvicorn

__all__ = ["BUILD_DIR", "RedisProcess", "ServerProcess", "free_port"]

BUILD_DIR = Path(__file__).resolve().parents[2] / "build" / "dashboard"
_START_TIMEOUT = 20.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ServerProcess:
    """One reference server with the dashboard (see the module docstring)."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/"
        self.log_path = BUILD_DIR / f"{name}.log"
        self._env = {
            **os.environ,
            **env,
            "PLANSTREAM_SERVER_DASHBOARD": "true",
            "PLANSTREAM_SERVER_PORT": str(self.port),
        }
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until ``/healthz`` answers 200."""
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "planstream.server"],
            env=self._env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            if self._process.poll() is not None:
                raise AssertionError(f"the server exited early; see {self.log_path}")
            try:
                if httpx.get(self.base_url + "healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not answer /healthz in {_START_TIMEOUT} s")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM and wait (safe to call when it is not running)."""
        process, self._process = self._process, None
        if process is not None:
            _stop(process)
        if self._log is not None:
            self._log.close()
            self._log = None


class RedisProcess:
    """``redis-server`` on a free port, in a temp dir, without persistence."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = Path(tempfile.mkdtemp(prefix="planstream-dashboard-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        """Whether ``redis-server`` is installed."""
        return shutil.which("redis-server") is not None

    def start(self) -> None:
        """Start it and wait until it answers PING."""
        listen = ["--port", str(self.port), "--bind", "127.0.0.1"]
        self._process = subprocess.Popen(
            ["redis-server", *listen, "--dir", str(self._dir), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._answers_ping():
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise AssertionError(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop it and remove its directory."""
        process, self._process = self._process, None
        if process is not None:
            _stop(process)
        shutil.rmtree(self._dir, ignore_errors=True)


class ThreadServer:
    """An ASGI app served by uvicorn in a thread of this process, on a free port.

    For apps a test builds itself (a scripted server, a server with a verifier
    of its own); :class:`ServerProcess` runs ``planstream serve`` instead.
    """

    def __init__(self, app: object, name: str, *, lifespan: str = "auto") -> None:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        config = uvicorn.Config(
            app,  # type: ignore[arg-type]
            ws="websockets-sansio",
            log_level="warning",
            lifespan=lifespan,  # type: ignore[arg-type]
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[listener])),
            name=name,
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if not self._server.started:
            self.stop()
            raise AssertionError(f"the {name} did not start")

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for its thread (10 s at most)."""
        self._server.should_exit = True
        self._thread.join(10)
