"""The scaffold every scripted mock server of the client features builds on,
on 127.0.0.1, started by a step and stopped after the scenario.

* :class:`ScriptedTcpServer` — a raw asyncio TCP server that owns every task
  and connection it serves: :meth:`~ScriptedTcpServer.start` listens on a free
  port, :meth:`~ScriptedTcpServer.stop` stops listening, aborts the open
  connections and awaits their tasks. Subclasses write :meth:`_serve`. The
  proxies (support/client_api_servers.py, support/edge_proxy.py) and the
  poll-flooding server (support/hostile_servers.py) are built on it.
* :class:`ScriptedStreamServer` — a ``websockets`` server that speaks just
  enough of the protocol (§2, §3) to play situations the reference server
  never produces: a ``hello`` of another protocol or schema major, an
  ``error`` ``not_found`` for chosen plans. It keeps a tiny per-plan log so
  other plans stream normally (``subscribed``, replay, live events), and it
  records every connection, every client frame and the close code each
  connection received from the client. Subclasses change the conversation
  (:meth:`~ScriptedStreamServer._converse`) or the answer to one frame
  (:meth:`~ScriptedStreamServer._answer`); the bookkeeping stays here
  (support/hostile_servers.py's :class:`HostileStreamServer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

__all__ = [
    "HEAD_LIMIT",
    "ScriptedConnection",
    "ScriptedStreamServer",
    "ScriptedTcpServer",
    "answer_http",
    "now_utc",
    "pipe",
]

_SUBPROTOCOL = "planstream.v1"
HEAD_LIMIT = 65_536  # longest request head a scripted TCP server reads


def now_utc() -> str:
    """The current time as the protocol writes it (RFC 3339, ``Z``)."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def answer_http(
    writer: asyncio.StreamWriter, status: int, body: bytes, content_type: str = "application/json"
) -> None:
    """Write a whole HTTP/1.1 answer, one that closes the connection."""
    writer.write(
        f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()


class ScriptedTcpServer:
    """A raw TCP server on a free loopback port whose tasks and connections it owns."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url(self) -> str:
        """The stream URL on this server (or, for a proxy, through it)."""
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, cut every open connection and wait for its tasks."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


@dataclass(eq=False)
class ScriptedConnection:
    """What one client connection did, as the scripted server saw it."""

    frames: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None  # the code of the client's close frame, once closed
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    plans: set[str] = field(default_factory=set)  # plans subscribed right now


class ScriptedStreamServer:
    """A scripted planstream WebSocket server.

    Args:
        hello: fields overriding the default ``hello`` (e.g. ``{"protocol": 2}``).
        not_found: plans whose ``subscribe`` is answered ``error`` ``not_found``.
    """

    def __init__(
        self, *, hello: dict[str, Any] | None = None, not_found: frozenset[str] = frozenset()
    ) -> None:
        self.hello = {
            "type": "hello",
            "protocol": 1,
            "schema": "1.0",
            "server": "scripted-planstream/0.1",
            "session_id": "scripted",
            "heartbeat_s": 15.0,
            "max_frame_bytes": 1_048_576,
            **(hello or {}),
        }
        self.not_found = not_found
        self.connections: list[ScriptedConnection] = []
        self.events: dict[str, list[dict[str, Any]]] = {}
        self._live: dict[ScriptedConnection, ServerConnection] = {}
        self._server: Server | None = None
        self.url = ""

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            subprotocols=[_SUBPROTOCOL],  # type: ignore[list-item]
        )
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/v1/stream"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def frames_of_type(self, frame_type: str) -> list[dict[str, Any]]:
        """Every frame of ``frame_type`` any client sent, in order."""
        return [f for c in self.connections for f in c.frames if f.get("type") == frame_type]

    async def publish(self, plan_id: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """Append an event to ``plan_id`` and send it to the connections subscribed to it."""
        events = self.events.setdefault(plan_id, [])
        seq = len(events) + 1
        event = {
            "type": "event",
            "plan_id": plan_id,
            "event_id": f"scripted-{plan_id}-{seq}",
            "seq": seq,
            "ts": now_utc(),
            "kind": kind,
            "data": data,
        }
        events.append(event)
        for record, websocket in list(self._live.items()):
            if plan_id in record.plans:
                with contextlib.suppress(ConnectionClosed):
                    await websocket.send(json.dumps(event))
        return event

    async def _handle(self, websocket: ServerConnection) -> None:
        """Record the connection, hold the conversation, record how it closed."""
        record = ScriptedConnection()
        self.connections.append(record)
        self._live[record] = websocket
        try:
            await websocket.send(json.dumps(self.hello))
            await self._converse(websocket, record)
        except ConnectionClosed:
            pass
        finally:
            del self._live[record]
            rcvd = websocket.protocol.close_rcvd
            record.close_code = None if rcvd is None else rcvd.code
            record.closed.set()

    async def _converse(self, websocket: ServerConnection, record: ScriptedConnection) -> None:
        """After the ``hello``: answer each client frame in turn."""
        async for message in websocket:
            frame = json.loads(message)
            record.frames.append(frame)
            await self._answer(websocket, record, frame)

    async def _answer(
        self, websocket: ServerConnection, record: ScriptedConnection, frame: dict[str, Any]
    ) -> None:
        frame_type, plan_id = frame.get("type"), frame.get("plan_id")
        if frame_type == "ping":
            await websocket.send(json.dumps({"type": "pong", "id": frame["id"], "ts": now_utc()}))
        elif frame_type == "unsubscribe":
            record.plans.discard(plan_id)
            await websocket.send(
                json.dumps({"type": "unsubscribed", "id": frame["id"], "plan_id": plan_id})
            )
        elif frame_type == "subscribe" and plan_id in self.not_found:
            error = {"code": "not_found", "message": f"no plan {plan_id!r} here"}
            await websocket.send(
                json.dumps({"type": "error", "id": frame["id"], "plan_id": plan_id, **error})
            )
        elif frame_type == "subscribe":
            await self._subscribe(websocket, record, frame)

    async def _subscribe(
        self, websocket: ServerConnection, record: ScriptedConnection, frame: dict[str, Any]
    ) -> None:
        plan_id = frame["plan_id"]
        events = self.events.get(plan_id, [])
        after = frame.get("last_event_id")
        start = 0
        if after is not None:
            start = next((e["seq"] for e in events if e["event_id"] == after), 0)
        head = (
            None if not events else {"seq": events[-1]["seq"], "event_id": events[-1]["event_id"]}
        )
        record.plans.add(plan_id)
        answer = {"type": "subscribed", "id": frame["id"], "plan_id": plan_id, "head": head}
        await websocket.send(json.dumps(answer))
        for event in events[start:]:
            await websocket.send(json.dumps(event))


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes until EOF, then half-close the other side."""
    try:
        while data := await reader.read(HEAD_LIMIT):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        writer.transport.abort()
