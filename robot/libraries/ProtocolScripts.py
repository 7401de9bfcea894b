"""The scripts the scripted stream server plays, one class per test scenario.

A script is a :class:`Script` subclass: ``connection`` plays one WebSocket
connection (the n-th the page opened, 1-based), ``list_plans`` and
``poll_events`` answer the HTTP half. Everything the page sent is recorded in
:class:`Recording` for the suite to check. Event ``n`` of plan ``p`` has the id
``evt-n`` (``p.evt-n`` for other plans than ``plan-1``) and the message ``line n``.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

__all__ = ["PLAN", "Recording", "Script", "ScriptSocket", "event_frame", "head"]

PLAN = "plan-1"
EXPECT_TIMEOUT_S = 10.0
HELLO: dict[str, Any] = {
    "type": "hello",
    "protocol": 1,
    "schema": "1.0",
    "server": "scripted/1",
    "session_id": "s-1",
    "heartbeat_s": 15.0,
    "max_frame_bytes": 1048576,
}


def event_id(plan_id: str, seq: int) -> str:
    return f"evt-{seq}" if plan_id == PLAN else f"{plan_id}.evt-{seq}"


def event_frame(seq: int, plan_id: str = PLAN) -> dict[str, Any]:
    """Event ``seq`` of ``plan_id``: a log line ``line <seq>``."""
    return {
        "type": "event",
        "plan_id": plan_id,
        "event_id": event_id(plan_id, seq),
        "seq": seq,
        "ts": f"2026-01-01T00:00:{seq % 60:02d}.000000Z",
        "kind": "log",
        "data": {"level": "info", "message": f"line {seq}", "step_id": None, "stream": "stdout"},
    }


def head(seq: int, plan_id: str = PLAN) -> dict[str, Any]:
    return {"seq": seq, "event_id": event_id(plan_id, seq)}


@dataclass
class ConnectionRecord:
    """One WebSocket the page opened."""

    index: int
    opened_at: float
    offered: list[str]
    received: list[dict[str, Any]] = field(default_factory=list)
    closed_at: float | None = None
    close_code: int | None = None


@dataclass
class Recording:
    """What the page did to one script."""

    connections: list[ConnectionRecord] = field(default_factory=list)
    http: list[str] = field(default_factory=list)

    def subscribes(self, index: int) -> list[dict[str, Any]]:
        frames = self.connections[index - 1].received
        return [frame for frame in frames if frame.get("type") == "subscribe"]


class ScriptSocket:
    """One accepted connection as a script sees it."""

    def __init__(self, websocket: WebSocket, record: ConnectionRecord) -> None:
        self.websocket = websocket
        self.record = record

    async def send(self, *frames: dict[str, Any]) -> None:
        for frame in frames:
            await self.websocket.send_text(json.dumps(frame))

    async def hello(self, **changes: Any) -> None:
        await self.send({**HELLO, **changes})

    async def events(self, *seqs: int, plan_id: str = PLAN) -> None:
        await self.send(*(event_frame(seq, plan_id) for seq in seqs))

    async def expect(self, frame_type: str) -> dict[str, Any]:
        """The next client frame (within 10 s), which must be ``frame_type``."""
        text = await asyncio.wait_for(self.websocket.receive_text(), EXPECT_TIMEOUT_S)
        frame: dict[str, Any] = json.loads(text)
        self.record.received.append(frame)
        if frame.get("type") != frame_type:
            raise AssertionError(f"expected a {frame_type} frame, got {frame}")
        return frame

    async def subscribed(self, request: dict[str, Any], head_seq: int | None) -> None:
        plan_id = request["plan_id"]
        the_head = None if head_seq is None else head(head_seq, plan_id)
        await self.send(
            {"type": "subscribed", "id": request["id"], "plan_id": plan_id, "head": the_head}
        )

    async def close(self, code: int, reason: str = "") -> None:
        await self.websocket.close(code, reason)

    async def hold(self) -> None:
        """Say nothing until the page goes away (recording what it sends)."""
        while True:
            frame = json.loads(await self.websocket.receive_text())
            self.record.received.append(frame)


class Script:
    """Base script: every connection gets a hello and nothing else; the API is empty."""

    #: (status, body) of ``GET v1/plans``.
    plans_answer: ClassVar[tuple[int, dict[str, Any]]] = (200, {"plans": [], "next_cursor": None})

    def __init__(self) -> None:
        self.recording = Recording()

    async def refuse(self, index: int) -> Response | None:
        """A response refusing the upgrade of connection ``index``, or None to accept it."""
        return None

    async def connection(self, socket: ScriptSocket, index: int) -> None:
        await socket.hello()
        await socket.hold()

    async def list_plans(self, request: Request) -> Response:
        status, body = self.plans_answer
        return JSONResponse(body, status_code=status)

    async def poll_events(self, request: Request, plan_id: str) -> Response:
        return JSONResponse({"error": "not_found", "message": "no polling here"}, status_code=404)

    async def play(self, websocket: WebSocket) -> None:
        index = len(self.recording.connections) + 1
        offered = list(websocket.scope.get("subprotocols", []))
        record = ConnectionRecord(index, time.monotonic(), offered)
        self.recording.connections.append(record)
        refusal = await self.refuse(index)
        if refusal is not None:
            record.closed_at = time.monotonic()
            await websocket.send_denial_response(refusal)
            return
        await websocket.accept(subprotocol="planstream.v1")
        try:
            await self.connection(ScriptSocket(websocket, record), index)
        except WebSocketDisconnect as disconnect:
            record.close_code = disconnect.code
        finally:
            record.closed_at = time.monotonic()
