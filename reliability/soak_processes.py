"""The soak's processes: the restartable reference server and the child programs.

:class:`SoakServer` runs ``python -m planstream.server`` on one port, and
restarts it there (SIGTERM, then a new process with the same settings: with
the Redis log the stream goes on, with the memory log it starts over). Before
each incarnation stops, its peak memory (``VmHWM`` of ``/proc/PID/status``) is
kept. Output goes to a log file per incarnation, never to a pipe nobody reads.

:func:`start_program` starts one of the soak's programs (``soak_consumer.py``,
``soak_publisher.py``) as a subprocess; :func:`finish` waits for it within a
bound and kills it past that.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from support.servers import free_port, wait_healthy

__all__ = ["Incarnation", "SoakServer", "finish", "peak_kib", "start_program"]

HERE = Path(__file__).resolve().parent


def peak_kib(pid: int) -> int | None:
    """``VmHWM`` of a running process, in KiB (None once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


@dataclass
class Incarnation:
    """One server process: its pid, its peak memory before it stopped, its exit code."""

    pid: int
    peak_kib: int | None = None
    exit_code: int | None = None


@dataclass
class SoakServer:
    """``python -m planstream.server`` on a fixed free port, restartable."""

    settings: dict[str, str]  # PLANSTREAM_SERVER_* values
    logs: Path  # a directory; incarnation n logs to server-n.log
    port: int = field(default_factory=free_port)
    incarnations: list[Incarnation] = field(default_factory=list)
    _process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start an incarnation and wait until it answers ``/healthz``."""
        assert self._process is None, "already running"
        env = {**os.environ, **self.settings, "PLANSTREAM_SERVER_PORT": str(self.port)}
        log = self.logs / f"server-{len(self.incarnations)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: ASYNC220 (returns at once)
                [sys.executable, "-m", "planstream.server"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self._process = process
        self.incarnations.append(Incarnation(process.pid))
        await asyncio.to_thread(wait_healthy, process, self.http_url, 30.0)  # type: ignore[arg-type]

    async def stop(self) -> None:
        """SIGTERM the running incarnation (it closes its WebSockets with 1001)."""
        process, self._process = self._process, None
        if process is None:
            return
        incarnation = self.incarnations[-1]
        incarnation.peak_kib = peak_kib(process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            incarnation.exit_code = await asyncio.to_thread(process.wait, 20)
        except subprocess.TimeoutExpired:
            process.kill()
            incarnation.exit_code = await asyncio.to_thread(process.wait)

    async def restart(self) -> None:
        """Stop, then start again on the same port."""
        await self.stop()
        await self.start()

    def kill(self) -> None:
        """Past a deadline: SIGKILL whatever still runs."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = None


async def start_program(name: str, arguments: list[str], log: Path) -> asyncio.subprocess.Process:
    """Start ``reliability/<name>`` with this interpreter; output to ``log``."""
    with log.open("wb") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable, str(HERE / name), *arguments, stdout=output, stderr=output
        )


async def finish(process: asyncio.subprocess.Process, within: float) -> int:
    """Its exit code once it exits; killed (and -9) if it runs past ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            return await process.wait()
    except TimeoutError:
        if process.returncode is None:
            process.kill()
        await process.wait()
        return -signal.SIGKILL
