"""One connection to the mock planstream server: the script it plays, what it saw.

:class:`ScriptedConnection` plays a script of actions (see
``MockPlanstreamServer.Start Mock Server``) on one ``websockets`` server
connection while a reader task records every frame the client sends into a
:class:`MockConnection`. The mock server's loop writes the record under a
``threading.Condition`` shared with the keywords, which wait on it from
Robot's thread.

Events are ``log`` events of the plan of the last ``subscribe`` expected;
event ``n`` has the id ``evt-n``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

__all__ = ["MockConnection", "ScriptedConnection", "event_id"]

#: Longest a script waits for the client (a frame, a pong), s.
_WAIT = 10.0
_TS = "2025-03-01T12:00:00Z"


def event_id(seq: int) -> str:
    """The id of the mock's event ``seq``."""
    return f"evt-{seq}"


def _hello(argument: str) -> dict[str, Any]:
    schema, _, heartbeat_s = argument.partition(" ")
    return {
        "type": "hello",
        "protocol": 1,
        "schema": schema or "1.0",
        "server": "mock-planstream/0.1",
        "session_id": "mock-session-1",
        "heartbeat_s": float(heartbeat_s or 15.0),
        "max_frame_bytes": 1_048_576,
    }


def _event(plan_id: str, seq: int) -> dict[str, Any]:
    return {
        "type": "event",
        "plan_id": plan_id,
        "event_id": event_id(seq),
        "seq": seq,
        "ts": _TS,
        "kind": "log",
        "data": {"level": "info", "message": f"line {seq}", "step_id": None, "stream": "stdout"},
    }


def _head(seq: str) -> dict[str, Any] | None:
    return None if seq == "none" else {"seq": int(seq), "event_id": event_id(int(seq))}


class _ClientGoneError(Exception):
    """The client closed the connection before the script was over."""


@dataclass
class MockConnection:
    """What one connection to the mock server saw and did."""

    number: int
    upgraded_at: float  # time.monotonic() of the upgrade request
    frames: list[dict[str, Any]] = field(default_factory=list)  # what the client sent
    closed_by_mock_at: float | None = None  # time.monotonic() of ``close`` / ``abort``
    client_gone: bool = False
    ended: bool = False
    close_code: int | None = None
    script_outcome: str = ""  # "completed", "client closed ..." or "error ..."

    def subscribes(self) -> list[dict[str, Any]]:
        """The ``subscribe`` frames the client sent on this connection, in order."""
        return [frame for frame in self.frames if frame.get("type") == "subscribe"]


class ScriptedConnection:
    """Plays a script on ``connection`` and records into ``record`` under ``changed``."""

    def __init__(
        self, connection: ServerConnection, record: MockConnection, changed: threading.Condition
    ) -> None:
        self.connection = connection
        self.record = record
        self.changed = changed
        self._arrived = asyncio.Event()
        self._expected = 0  # frames ``expect_subscribe`` has looked at
        self._plan_id = "plan-1"  # of the last subscribe expected
        self._request_id: Any = None  # of the last subscribe expected

    def update(self, **changes: Any) -> None:
        """Change the record and wake the keywords waiting on it."""
        with self.changed:
            for name, value in changes.items():
                setattr(self.record, name, value)
            self.changed.notify_all()

    async def play(self, script: tuple[str, ...]) -> str:
        """Play every action; return how it went (never raises)."""
        for index, action in enumerate(script, 1):
            verb, _, argument = action.partition(" ")
            try:
                await self._act(verb, argument)
            except (ConnectionClosed, _ClientGoneError):
                return f"client closed the connection at action {index} {action!r}"
            except Exception as exc:  # reported by the keywords and at teardown
                return f"error at action {index} {action!r}: {type(exc).__name__}: {exc}"
        return "completed"

    async def read(self) -> None:
        """Record every frame the client sends until the connection closes."""
        try:
            async for message in self.connection:
                try:
                    frame = json.loads(message)
                except ValueError:
                    frame = None
                if not isinstance(frame, dict):
                    frame = {"type": None, "raw": message}
                with self.changed:
                    self.record.frames.append(frame)
                    self.changed.notify_all()
                self._arrived.set()
        except ConnectionClosed:
            pass
        finally:
            self.update(client_gone=True)
            self._arrived.set()

    async def _act(self, verb: str, argument: str) -> None:
        words = argument.split()
        actions: dict[str, Callable[[], Awaitable[None]]] = {
            "hello": lambda: self._send(_hello(argument)),
            "send": lambda: self.connection.send(argument),
            "send_large": lambda: self.connection.send(
                json.dumps({"type": "heartbeat", "pad": "x" * int(argument)})[: int(argument)]
            ),
            "close": lambda: self._close(int(words[0]), argument.partition(" ")[2]),
            "sleep": lambda: asyncio.sleep(float(argument)),
            "block": lambda: _block(float(argument)),
            "abort": self._abort,
            "expect_subscribe": self._expect_subscribe,
            "subscribed": lambda: self._send(
                {
                    "type": "subscribed",
                    "id": self._request_id,
                    "plan_id": self._plan_id,
                    "head": _head(argument),
                }
            ),
            "resync": lambda: self._send(self._resync(words[0], words[1])),
            "events": lambda: self._send_events(words),
            "batch": lambda: self._send(
                {"type": "batch", "events": [_event(self._plan_id, int(w)) for w in words]}
            ),
            "sync": self._sync,
        }
        if verb not in actions:
            raise ValueError(f"unknown mock action {verb!r}")
        await actions[verb]()

    async def _send(self, frame: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(frame))

    async def _send_events(self, seqs: list[str]) -> None:
        for seq in seqs:
            await self._send(_event(self._plan_id, int(seq)))

    def _resync(self, reason: str, head_seq: str) -> dict[str, Any]:
        snapshot: dict[str, Any] = {
            "plan_id": self._plan_id,
            "status": "running",
            "progress": None,
            "steps": [],
            "head": _head(head_seq),
            "updated_at": _TS,
        }
        return {
            "type": "resync",
            "id": self._request_id,
            "plan_id": self._plan_id,
            "reason": reason,
            "snapshot": snapshot,
        }

    async def _close(self, code: int, reason: str) -> None:
        self.update(closed_by_mock_at=time.monotonic())
        await self.connection.close(code, reason)

    async def _abort(self) -> None:
        self.update(closed_by_mock_at=time.monotonic())
        self.connection.transport.abort()

    async def _expect_subscribe(self) -> None:
        """Wait for the client's next ``subscribe``; later answers echo its id and plan."""
        frames = self.record.frames
        async with asyncio.timeout(_WAIT):
            while True:
                while self._expected < len(frames):
                    frame = frames[self._expected]
                    self._expected += 1
                    if frame.get("type") == "subscribe":
                        self._plan_id = str(frame.get("plan_id"))
                        self._request_id = frame.get("id")
                        return
                if self.record.client_gone:
                    raise _ClientGoneError
                self._arrived.clear()
                await self._arrived.wait()

    async def _sync(self) -> None:
        # The client answers the ping after reading every frame sent before it.
        pong = await self.connection.ping()
        await asyncio.wait_for(pong, _WAIT)


async def _block(seconds: float) -> None:
    time.sleep(seconds)  # noqa: ASYNC251 - on purpose: the server answers nothing meanwhile
