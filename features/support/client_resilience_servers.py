"""Reference servers the resilience scenarios stop, kill and start again.

:class:`RestartableServer` is an embedded :class:`PlanStreamServer` whose
:class:`MemoryEventLog` is created once and handed to every incarnation, so a
restart on the same port keeps the history (event ids included).
:class:`RestartableProcess` is ``python -m planstream.server`` in a
subprocess (support/servers.py's :class:`ServerProcess`): killing it loses the
history, and the next process on the same port starts a new incarnation of
every stream. Both publish the same way (``publish``), so steps do not care
which one a scenario uses.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from typing import Any

import httpx

from planstream.server import MemoryEventLog, PlanStreamServer, ServerSettings
from planstream.server.publishing import validate_new_event
from support.servers import ServerProcess, free_port

__all__ = ["RestartableProcess", "RestartableServer"]


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
