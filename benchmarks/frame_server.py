"""A scripted planstream server for client benchmarks, run in its own process.

It speaks just enough of the protocol for a client to stream: ``hello`` with
the ``planstream.v1`` subprotocol, then for each ``subscribe`` a ``subscribed``
answer followed by ``--events`` pre-encoded events of that plan (as single
``event`` frames or ``batch`` frames of ``--batch`` events), then a
terminal ``plan.status``. Frames are encoded once before the first
connection, so the server's cost per frame is a socket write: the benchmark
measures the client.

``--drop-every N`` closes the connection (1012, service restart; with
``--abort`` an abrupt TCP loss) after every N-th frame it sends and, on the
next connection, resumes after the client's ``last_event_id``: this
exercises the client's reconnect and resume path.

Usage: ``python benchmarks/frame_server.py --port 0 --events 20000 --batch 1``;
the first line printed is the bound port.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

PLAN_ID = "bench-plan"
INCARNATION = "bench"


def event_object(seq: int, *, final: bool) -> dict[str, Any]:
    """One event of the benchmark plan (a log line; the last one a terminal status)."""
    if final:
        kind, data = "plan.status", {"status": "succeeded", "reason": None}
    else:
        kind = "log"
        data = {
            "level": "info",
            "message": f"step {seq % 17} wrote line {seq} of its output",
            "step_id": f"step-{seq % 17}",
            "stream": "stdout",
        }
    return {
        "type": "event",
        "plan_id": PLAN_ID,
        "event_id": f"{INCARNATION}.{seq}",
        "seq": seq,
        "ts": "2026-11-22T05:00:00.000000Z",
        "kind": kind,
        "data": data,
    }


def encode_stream(events: int, batch: int) -> list[tuple[int, str]]:
    """``(last seq in frame, frame text)`` for the whole stream, terminal event last."""
    objects = [event_object(seq, final=seq == events) for seq in range(1, events + 1)]
    if batch <= 1:
        return [(obj["seq"], json.dumps(obj, separators=(",", ":"))) for obj in objects]
    frames = []
    for start in range(0, len(objects), batch):
        chunk = objects[start : start + batch]
        text = json.dumps({"type": "batch", "events": chunk}, separators=(",", ":"))
        frames.append((chunk[-1]["seq"], text))
    return frames


HELLO = json.dumps(
    {
        "type": "hello",
        "protocol": 1,
        "schema": "1.0",
        "server": "bench-frame-server/1",
        "session_id": "bench",
        "heartbeat_s": 15,
        "max_frame_bytes": 4_194_304,
    }
)


class FrameServer:
    def __init__(self, frames: list[tuple[int, str]], drop_every: int, abort: bool) -> None:
        self.frames = frames
        self.drop_every = drop_every
        self.abort = abort
        self.sent_since_drop = 0

    async def handle(self, connection: ServerConnection) -> None:
        await connection.send(HELLO)
        try:
            async for message in connection:
                request = json.loads(message)
                if request.get("type") == "subscribe":
                    await self.stream(connection, request)
                elif request.get("type") == "ping":
                    pong = {"type": "pong", "id": request["id"], "ts": "2026-11-22T05:00:00Z"}
                    await connection.send(json.dumps(pong))
        except ConnectionClosed:
            return

    async def stream(self, connection: ServerConnection, request: dict[str, Any]) -> None:
        after = request.get("last_event_id")
        after_seq = int(after.rsplit(".", 1)[1]) if after else 0
        head = None
        if after_seq:
            head = {"seq": after_seq, "event_id": after}
        plan_id = request["plan_id"]
        answer = {"type": "subscribed", "id": request["id"], "plan_id": plan_id, "head": head}
        await connection.send(json.dumps(answer))
        if plan_id != PLAN_ID:
            return  # other plans stay idle (the memory benchmarks)
        for last_seq, text in self.frames:
            if last_seq <= after_seq:
                continue
            await connection.send(text)
            self.sent_since_drop += 1
            if self.drop_every and self.sent_since_drop >= self.drop_every:
                self.sent_since_drop = 0
                if self.abort:  # an abrupt TCP loss: no close frame, data in flight lost
                    connection.transport.abort()
                else:
                    await connection.close(1012, "service restart")
                return


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--drop-every", type=int, default=0)
    parser.add_argument("--abort", action="store_true", help="drop the TCP connection abruptly")
    parser.add_argument("--compression", action="store_true", help="accept permessage-deflate")
    options = parser.parse_args()
    frame_server = FrameServer(
        encode_stream(options.events, options.batch), options.drop_every, options.abort
    )
    async with serve(
        frame_server.handle,
        "127.0.0.1",
        options.port,
        subprotocols=["planstream.v1"],  # type: ignore[list-item]
        compression="deflate" if options.compression else None,
        max_size=4_194_304,
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(port, flush=True)
        sys.stdout.close()
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
