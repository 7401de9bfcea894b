"""Small real servers for the client API features, on 127.0.0.1.

* :class:`ScriptedStreamServer` — a ``websockets`` server that speaks just
  enough of the protocol (§2, §3) to play situations the reference server
  never produces: a ``hello`` of another protocol or schema major, an
  ``error`` ``not_found`` for chosen plans. It keeps a tiny per-plan log so
  other plans stream normally (``subscribed``, replay, live events), and it
  records every connection, every client frame and the close code each
  connection received from the client.
* :class:`UpgradeGateProxy` — a TCP proxy in front of a real server. It reads
  the first request of each connection: a WebSocket upgrade is answered
  ``502`` while ``refuse_upgrades`` is on (a proxy that does not pass
  WebSockets); anything else is piped both ways, bytes untouched, so HTTP
  long-polls and (when allowed) WebSockets reach the server behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

__all__ = ["ScriptedConnection", "ScriptedStreamServer", "UpgradeGateProxy"]

_SUBPROTOCOL = "planstream.v1"
_HEAD_LIMIT = 65_536  # longest request head the proxy reads


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
            "ts": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
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
        record = ScriptedConnection()
        self.connections.append(record)
        self._live[record] = websocket
        try:
            await websocket.send(json.dumps(self.hello))
            async for message in websocket:
                frame = json.loads(message)
                record.frames.append(frame)
                await self._answer(websocket, record, frame)
        except ConnectionClosed:
            pass
        finally:
            del self._live[record]
            rcvd = websocket.protocol.close_rcvd
            record.close_code = None if rcvd is None else rcvd.code
            record.closed.set()

    async def _answer(
        self, websocket: ServerConnection, record: ScriptedConnection, frame: dict[str, Any]
    ) -> None:
        frame_type, plan_id = frame.get("type"), frame.get("plan_id")
        if frame_type == "ping":
            now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            await websocket.send(json.dumps({"type": "pong", "id": frame["id"], "ts": now}))
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


class UpgradeGateProxy:
    """A TCP proxy that answers WebSocket upgrades ``502`` while ``refuse_upgrades``."""

    def __init__(self, upstream_port: int, *, refuse_upgrades: bool = True) -> None:
        self.upstream_port = upstream_port
        self.refuse_upgrades = refuse_upgrades
        self.upgrades_refused = 0
        self.upgrades_passed = 0
        self.connections_piped = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url(self) -> str:
        """The WebSocket URL of the server behind the proxy, through the proxy."""
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, cut every piped connection and wait for its tasks."""
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

    def _track(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._track(self._serve(reader, writer))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return
            lines = head.decode("latin-1").lower().split("\r\n")
            upgrade = any(line.replace(" ", "") == "upgrade:websocket" for line in lines)
            if upgrade and self.refuse_upgrades:
                self.upgrades_refused += 1
                body = b"bad gateway: no WebSockets here"
                writer.write(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
                return
            self.upgrades_passed += upgrade
            self.connections_piped += 1
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.upstream_port
            )
            self._writers.add(upstream_writer)
            upstream_writer.write(head)
            async with asyncio.TaskGroup() as pipes:
                pipes.create_task(_pipe(reader, upstream_writer))
                pipes.create_task(_pipe(upstream_reader, writer))
        except OSError:
            pass
        finally:
            for each in (writer, upstream_writer):
                if each is not None:
                    self._writers.discard(each)
                    each.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes until EOF, then half-close the other side."""
    try:
        while data := await reader.read(_HEAD_LIMIT):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        writer.transport.abort()
