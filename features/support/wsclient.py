"""A minimal raw WebSocket client for server tests (the ``websockets`` library).

It speaks the protocol by hand — JSON in, JSON out — so the tests check the
server against protocol.md, not against the SDK's client.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

SUBPROTOCOL = "planstream.v1"


class RawClient:
    """One connection; ``frames`` keeps every JSON frame received, in order."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[dict[str, Any]] = []
        self.hello: dict[str, Any] | None = None
        self._next_id = 0

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        token: str | None = None,
        subprotocols: list[str] | None = None,
        **kwargs: Any,
    ) -> RawClient:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        connection = await connect(
            url,
            subprotocols=subprotocols or [SUBPROTOCOL],  # type: ignore[list-item]
            additional_headers=headers,
            open_timeout=10,
            **kwargs,
        )
        client = cls(connection)
        client.hello = await client.recv()
        return client

    def request_id(self) -> str:
        self._next_id += 1
        return f"r{self._next_id}"

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def subscribe(self, plan_id: str, last_event_id: str | None = None) -> str:
        request_id = self.request_id()
        await self.send(
            {
                "type": "subscribe",
                "id": request_id,
                "plan_id": plan_id,
                "last_event_id": last_event_id,
            }
        )
        return request_id

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), timeout)
        frame: dict[str, Any] = json.loads(raw)
        self.frames.append(frame)
        return frame

    async def recv_until(self, frame_type: str, timeout: float = 10.0) -> dict[str, Any]:
        """Receive until a frame of ``frame_type`` arrives; returns it."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv(timeout)
                if frame["type"] == frame_type:
                    return frame

    async def events_until(
        self, plan_id: str, seq: int, timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """Every event of ``plan_id`` received until one with ``seq`` (batches flattened)."""
        events: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            while not events or events[-1]["seq"] < seq:
                frame = await self.recv(timeout)
                for event in flatten(frame):
                    if event["plan_id"] == plan_id:
                        events.append(event)
        return events

    async def closed_with(self, timeout: float = 10.0) -> int | None:
        """Read until the server closes; returns the close code it sent."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.recv(timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self.connection.close()


def flatten(frame: dict[str, Any]) -> list[dict[str, Any]]:
    """The events a frame carries: one for ``event``, all for ``batch``, else none."""
    if frame["type"] == "event":
        return [frame]
    if frame["type"] == "batch":
        return list(frame["events"])
    return []
