"""The scenarios of ``dashboard_protocol.robot``: what the scripted server plays.

Each class is one scenario, registered in :data:`SCRIPTS` under the name the
suite loads (``/s/<name>/``). See :mod:`ProtocolScripts` for the building blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from ProtocolScripts import PLAN, Script, ScriptSocket, event_frame, head
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["SCRIPTS"]

_UNAUTHORIZED = {"error": "unauthorized", "message": "missing or invalid bearer token"}


class IncompatibleHello(Script):
    """A server of protocol 2 / schema 2.0."""

    async def connection(self, socket: ScriptSocket, index: int) -> None:
        await socket.hello(protocol=2, schema="2.0")
        await socket.hold()


class DuplicatesAndReorder(Script):
    """Schema 1.3 (a newer minor) with an unknown field; events out of order and repeated."""

    async def connection(self, socket: ScriptSocket, index: int) -> None:
        await socket.hello(schema="1.3", features=["future"])
        request = await socket.expect("subscribe")
        await socket.subscribed(request, None)
        await socket.events(1, 3, 2, 2, 1)
        await socket.send(
            {"type": "batch", "events": [event_frame(5), event_frame(4), event_frame(3)]}
        )
        repeated_id = {**event_frame(6), "event_id": "evt-5"}  # a known id at a new seq
        await socket.send(repeated_id, event_frame(6), event_frame(7), {"type": "later-frame"})
        await socket.hold()


class ResyncThenLive(Script):
    """The page resumes after an id the server no longer has: resync, then live events."""

    async def connection(self, socket: ScriptSocket, index: int) -> None:
        await socket.hello()
        request = await socket.expect("subscribe")
        snapshot = {
            "plan_id": PLAN,
            "status": "running",
            "progress": None,
            "steps": [],
            "head": head(10),
            "updated_at": "2026-01-01T00:00:10.000000Z",
        }
        await socket.send(
            {
                "type": "resync",
                "id": request["id"],
                "plan_id": PLAN,
                "reason": "history_expired",
                "snapshot": snapshot,
            }
        )
        await socket.events(10, 11, 12)
        await socket.hold()


class DeadLink(Script):
    """Connection 1 goes silent after three events (heartbeat_s 1: dead after 2.5 s)."""

    async def connection(self, socket: ScriptSocket, index: int) -> None:
        await socket.hello(heartbeat_s=0.2)  # clamped to 1 s by the page
        request = await socket.expect("subscribe")
        if index == 1:
            await socket.subscribed(request, None)
            await socket.events(1, 2, 3)
            await socket.hold()
        await socket.subscribed(request, 5)
        await socket.events(3, 4, 5)
        await socket.hold()


class HeartbeatAhead(Script):
    """Events 3 and 4 are lost on the way; the heartbeat shows head 4."""

    async def connection(self, socket: ScriptSocket, index: int) -> None:
        await socket.hello()
        request = await socket.expect("subscribe")
        await socket.subscribed(request, None)
        await socket.events(1, 2)
        await socket.send(
            {"type": "heartbeat", "ts": "2026-01-01T00:00:05Z", "heads": {PLAN: head(4)}}
        )
        repair = await socket.expect("subscribe")
        await socket.subscribed(repair, 4)
        await socket.events(3, 4)
        await socket.hold()


class CloseWith(Script):
    """Connection 1 delivers event 1 then closes with ``code``; later ones resume."""

    code = 1012
    reason = ""

    async def connection(self, socket: ScriptSocket, index: int) -> None:
        await socket.hello()
        request = await socket.expect("subscribe")
        if index == 1:
            await socket.subscribed(request, None)
            await socket.events(1)
            await asyncio.sleep(0.2)  # let the page deliver it before the close
            await socket.close(self.code, self.reason)
            return
        await socket.subscribed(request, 3)
        await socket.events(1, 2, 3)
        await socket.hold()


class Close4001(CloseWith):
    code = 4001
    reason = "token expired"


class Close4003(CloseWith):
    code = 4003
    reason = "forbidden"


class Close4029(CloseWith):
    code = 4029
    reason = json.dumps({"retry_after": 1.0})


class Close1012(CloseWith):
    code = 1012
    reason = "service restart"


class RepeatedRestarts(Script):
    """Connections 1-4 each deliver their own event, stay up 0.5 s and close with 1012;
    connection 5 stays. How long each lasted decides whether the backoff resets."""

    async def connection(self, socket: ScriptSocket, index: int) -> None:
        await socket.hello()
        request = await socket.expect("subscribe")
        await socket.subscribed(request, index)
        await socket.events(index)
        if index < 5:
            await asyncio.sleep(0.5)
            await socket.close(1012, "service restart")
            return
        await socket.hold()


class BlockedWebSocket(Script):
    """A proxy refuses upgrades until the page polled its way to evt-4; the HTTP API works.

    Polls: without ``after`` → events 1, 2; after evt-2 → 2 (again), 3, 4;
    after evt-4 → held until the WebSocket is back, then empty. The next
    upgrade is accepted and must resume after evt-4.
    """

    def __init__(self) -> None:
        super().__init__()
        self.websocket_back = asyncio.Event()
        self.tail_delivered = asyncio.Event()

    async def refuse(self, index: int) -> Response | None:
        if not self.tail_delivered.is_set():
            return Response("blocked by the proxy", status_code=403, media_type="text/plain")
        return None

    async def poll_events(self, request: Request, plan_id: str) -> Response:
        after = request.query_params.get("after")
        self.recording.http.append(f"poll after={after} wait={request.query_params.get('wait')}")
        answers = {None: [1, 2], "evt-2": [2, 3, 4]}
        if after in answers:
            seqs = answers[after]
            events = [event_frame(seq) for seq in seqs]
            body = {"plan_id": plan_id, "events": events, "head": head(seqs[-1]), "resync": None}
            return JSONResponse(body, headers={"X-Poll-Interval": "0.05"})
        self.tail_delivered.set()  # the page asks after evt-4: it delivered 1-4
        with contextlib.suppress(TimeoutError):  # a long-poll ends empty after its wait
            await asyncio.wait_for(self.websocket_back.wait(), 20)
        body = {"plan_id": plan_id, "events": [], "head": head(4), "resync": None}
        return JSONResponse(body, headers={"X-Poll-Interval": "0.05"})

    async def connection(self, socket: ScriptSocket, index: int) -> None:
        await socket.hello()
        request = await socket.expect("subscribe")
        self.websocket_back.set()
        await socket.subscribed(request, 6)
        await socket.events(4, 5, 6)
        await socket.hold()


class PolledResync(Script):
    """Upgrades always refused; the first poll answers ``resync`` (head 10), then 11, 12."""

    async def refuse(self, index: int) -> Response | None:
        return Response("blocked by the proxy", status_code=403, media_type="text/plain")

    async def poll_events(self, request: Request, plan_id: str) -> Response:
        after = request.query_params.get("after")
        self.recording.http.append(f"poll after={after} wait={request.query_params.get('wait')}")
        headers = {"X-Poll-Interval": "0.05"}
        if after is None:
            snapshot = {
                "plan_id": plan_id,
                "status": "running",
                "progress": None,
                "steps": [],
                "head": head(10),
                "updated_at": "2026-01-01T00:00:10.000000Z",
            }
            resync = {"reason": "history_expired", "snapshot": snapshot}
            body = {"plan_id": plan_id, "events": [], "head": head(10), "resync": resync}
            return JSONResponse(body, headers=headers)
        if after == "evt-10":
            events = [event_frame(10), event_frame(11), event_frame(12)]
            body = {"plan_id": plan_id, "events": events, "head": head(12), "resync": None}
            return JSONResponse(body, headers=headers)
        await asyncio.sleep(1)  # a short long-poll: nothing newer
        body = {"plan_id": plan_id, "events": [], "head": head(12), "resync": None}
        return JSONResponse(body, headers=headers)


class Unauthorized(Script):
    """The token is refused on the upgrade (401) and over HTTP (401)."""

    plans_answer = (401, _UNAUTHORIZED)

    async def refuse(self, index: int) -> Response | None:
        return JSONResponse(_UNAUTHORIZED, status_code=401)


class ServerDown(Script):
    """Upgrades fail and the API answers 503: the server is down, the page keeps retrying."""

    plans_answer = (503, {"error": "unavailable", "message": "starting"})

    async def refuse(self, index: int) -> Response | None:
        return (
            Response("unavailable", status_code=503, media_type="text/plain")
            if index <= 2
            else None
        )

    async def connection(self, socket: ScriptSocket, index: int) -> None:
        await socket.hello()
        request = await socket.expect("subscribe")
        await socket.subscribed(request, 1)
        await socket.events(1)
        await socket.hold()


class ForbiddenBeside(Script):
    """Two subscriptions on one connection: one is forbidden, the other works."""

    async def connection(self, socket: ScriptSocket, index: int) -> None:
        await socket.hello()
        requests: dict[str, dict[str, Any]] = {}
        for _ in range(2):
            request = await socket.expect("subscribe")
            requests[request["plan_id"]] = request
        secret = requests["plan-secret"]
        await socket.send(
            {
                "type": "error",
                "id": secret["id"],
                "plan_id": "plan-secret",
                "code": "forbidden",
                "message": "not yours",
            }
        )
        await socket.subscribed(requests[PLAN], None)
        await socket.events(1, 2)
        await socket.send(
            {
                "type": "error",
                "id": None,
                "plan_id": None,
                "code": "bad_request",
                "message": "noise",
            }
        )
        await socket.events(3)
        await socket.hold()


SCRIPTS: dict[str, type[Script]] = {
    "incompatible": IncompatibleHello,
    "reorder": DuplicatesAndReorder,
    "resync": ResyncThenLive,
    "dead-link": DeadLink,
    "heartbeat-ahead": HeartbeatAhead,
    "close-4001": Close4001,
    "close-4003": Close4003,
    "close-4029": Close4029,
    "close-1012": Close1012,
    "restarts": RepeatedRestarts,
    "blocked": BlockedWebSocket,
    "polled-resync": PolledResync,
    "unauthorized": Unauthorized,
    "server-down": ServerDown,
    "forbidden-beside": ForbiddenBeside,
}
