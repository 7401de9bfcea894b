"""Hostile servers for client_hostile.feature: real servers on 127.0.0.1 that
play a broken or malicious peer of the SDK (issue 10, items 7-10).

* :class:`PollFloodServer` — raw asyncio HTTP. Every WebSocket upgrade is
  answered ``404`` (so a client in transport ``auto`` falls back to polling);
  every poll gets ``200`` and a chunked body of 64 KB chunks that never forms
  a JSON document: sent as fast as the socket takes them (``flood``) or one
  every ``trickle_every`` seconds (``trickle``), up to ``body_limit`` bytes
  (bounded so that a client without a cap cannot eat the test machine), or
  with a ``Content-Length`` announcing ``declared`` bytes.
* :class:`HostileStreamServer` — a :class:`ScriptedStreamServer` whose plans
  can be told to misbehave on every ``subscribe``: ``far`` answers with an
  event at seq 10**15, ``invalid`` replays seq 1 and then a ``step.status``
  at seq 2 whose ``status`` is ``"exploded"`` (and a valid seq 3). After the
  ``hello`` it can send ``flood`` garbage frames, or one frame of
  ``oversize`` bytes, or nothing at all (``silent``: it never answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from support.scripted_servers import (
    ScriptedConnection,
    ScriptedStreamServer,
    ScriptedTcpServer,
    answer_http,
    now_utc,
)

__all__ = ["HostileStreamServer", "PollFloodServer"]

_CHUNK = b"x" * 65_536
FAR_SEQ = 10**15


class PollFloodServer(ScriptedTcpServer):
    """Refuses upgrades with 404, answers polls with an endless (capped) body."""

    def __init__(
        self,
        *,
        trickle_every: float | None = None,
        body_limit: int = 64 * 1024 * 1024,
        declared: int | None = None,
    ) -> None:
        super().__init__()
        self.trickle_every = trickle_every
        self.declared = declared  # announce this Content-Length instead of chunking
        self.body_limit = body_limit
        self.upgrades_refused = 0
        self.polls_started = 0
        #: For each poll: how long it was fed before the client hung up (or the end).
        self.poll_durations: list[float] = []
        self.bytes_sent: list[int] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                path = head.split(b" ", 2)[1].decode("latin-1")
                if path.startswith("/v1/stream"):
                    self.upgrades_refused += 1
                    body = b'{"error":"not_found","message":"no WebSockets here"}'
                    await answer_http(writer, 404, body)
                    return
                await self._flood(writer)
                return
        except OSError:
            pass
        finally:
            writer.close()

    async def _flood(self, writer: asyncio.StreamWriter) -> None:
        self.polls_started += 1
        loop = asyncio.get_running_loop()
        started = loop.time()
        sent = 0
        chunked = self.declared is None
        framing = (
            b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % self.declared
        )
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%s\r\n\r\n" % framing)
        try:
            writer.write(b"1\r\n{\r\n" if chunked else b"{")
            while sent < self.body_limit:
                writer.write(b"%x\r\n%s\r\n" % (len(_CHUNK), _CHUNK) if chunked else _CHUNK)
                await writer.drain()
                sent += len(_CHUNK)
                if self.trickle_every is not None:
                    await asyncio.sleep(self.trickle_every)
            if chunked:
                writer.write(b"0\r\n\r\n")
            await writer.drain()
        except OSError:
            pass  # the client hung up: what a capped client does
        finally:
            self.poll_durations.append(loop.time() - started)
            self.bytes_sent.append(sent)


def _event(plan_id: str, seq: int, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "event",
        "plan_id": plan_id,
        "event_id": f"hostile-{plan_id}-{seq}",
        "seq": seq,
        "ts": now_utc(),
        "kind": kind,
        "data": data,
    }


_LOG = {"level": "info", "message": "fine", "step_id": None, "stream": "stdout"}
_EXPLODED = {"step_id": "s", "index": 0, "name": "s", "status": "exploded", "error": None}


class HostileStreamServer(ScriptedStreamServer):
    """A scripted server with misbehaving plans and post-hello attacks.

    Args:
        far: plans answered with an event at seq 10**15 on every subscribe.
        invalid: plans replaying seq 1, an invalid seq 2 and seq 3 on every subscribe.
        flood: garbage frames sent after the hello of each connection.
        error_flood: then this many ``error`` frames tied to no plan or request.
        oversize: the size of one frame sent after the hello (0: none).
        silent: after the hello, read nothing and answer nothing.
    """

    def __init__(
        self,
        *,
        hello: dict[str, Any] | None = None,
        far: frozenset[str] = frozenset(),
        invalid: frozenset[str] = frozenset(),
        flood: int = 0,
        error_flood: int = 0,
        oversize: int = 0,
        silent: bool = False,
    ) -> None:
        super().__init__(hello=hello)
        self.far = far
        self.invalid = invalid
        self.flood = flood
        self.error_flood = error_flood
        self.oversize = oversize
        self.silent = silent
        self.subscribes: dict[str, int] = {}

    async def _converse(self, websocket: ServerConnection, record: ScriptedConnection) -> None:
        if not (self.silent or self.flood or self.error_flood or self.oversize):
            await super()._converse(websocket, record)
            return
        for n in range(self.flood):
            await websocket.send(f"garbage frame {n} {{not json")
        error = {"type": "error", "id": None, "plan_id": None, "code": "internal"}
        for n in range(self.error_flood):
            await websocket.send(json.dumps({**error, "message": f"error {n} " + "x" * 999}))
        if self.oversize:
            await websocket.send(json.dumps({"type": "heartbeat", "pad": "x" * self.oversize}))
        # silent (or done attacking): hold the connection, answer nothing
        await websocket.wait_closed()

    async def _answer(
        self, websocket: ServerConnection, record: ScriptedConnection, frame: dict[str, Any]
    ) -> None:
        plan_id = frame.get("plan_id")
        if frame.get("type") != "subscribe" or plan_id not in self.far | self.invalid:
            await super()._answer(websocket, record, frame)
            return
        self.subscribes[plan_id] = self.subscribes.get(plan_id, 0) + 1
        record.plans.add(plan_id)
        last = FAR_SEQ if plan_id in self.far else 3
        head = {"seq": last, "event_id": f"hostile-{plan_id}-{last}"}
        answer = {"type": "subscribed", "id": frame["id"], "plan_id": plan_id, "head": head}
        with contextlib.suppress(ConnectionClosed):
            await websocket.send(json.dumps(answer))
            if plan_id in self.far:
                await websocket.send(json.dumps(_event(plan_id, FAR_SEQ, "log", _LOG)))
                return
            if frame.get("last_event_id") is None:
                await websocket.send(json.dumps(_event(plan_id, 1, "log", _LOG)))
            await websocket.send(json.dumps(_event(plan_id, 2, "step.status", _EXPLODED)))
            await websocket.send(json.dumps(_event(plan_id, 3, "log", _LOG)))
