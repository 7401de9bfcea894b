"""The scripted server's behaviours for the dashboard views suite (protocol §3 frames).

``DashboardViews`` mounts one Starlette app per behaviour; these are its
frames and answers, and the plan events the views tests publish.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.websockets import WebSocket

HELLO = {
    "type": "hello",
    "protocol": 1,
    "server": "scripted-dashboard/0",
    "session_id": "scripted",
    "heartbeat_s": 15.0,
    "max_frame_bytes": 1048576,
}


_TS = "2026-01-01T00:00:00Z"


def _step_data(step_id: str, index: int, status: str) -> dict[str, Any]:
    return {
        "step_id": step_id,
        "index": index,
        "name": f"step {index}",
        "status": status,
        "error": None,
    }


async def stream_then_restart(websocket: WebSocket) -> None:
    """The forgetful server's first connection: three events, then 1012."""
    frame = json.loads(await websocket.receive_text())
    request_id, plan_id = frame.get("id"), frame.get("plan_id")
    subscribed = {"type": "subscribed", "id": request_id, "plan_id": plan_id, "head": None}
    await websocket.send_text(json.dumps(subscribed))
    bodies = [
        ("plan.status", {"status": "running", "reason": None}),
        ("step.status", _step_data("s1", 1, "running")),
        ("log", log_event("before the reset", "info")["data"]),
    ]
    for seq, (kind, data) in enumerate(bodies, start=1):
        event = {"event_id": f"old-{seq}", "seq": seq, "ts": _TS, "kind": kind, "data": data}
        await websocket.send_text(json.dumps({"type": "event", "plan_id": plan_id, **event}))
    await websocket.close(code=1012)


def forgotten_snapshot(plan_id: str) -> dict[str, Any]:
    """What the forgetful server says a plan is after its unannounced reset."""
    return {
        "plan_id": plan_id,
        "status": "running",
        "progress": None,
        "steps": [_step_data("s1", 1, "succeeded"), _step_data("s2", 2, "running")],
        "head": {"seq": 1, "event_id": "new-1"},
        "updated_at": _TS,
    }


def scripted_answer(frame: dict[str, Any]) -> dict[str, Any] | None:
    """The scripted server's answer to one client frame (protocol §3)."""
    request_id, plan_id = frame.get("id"), frame.get("plan_id")
    if frame.get("type") == "ping":
        return {"type": "pong", "id": request_id, "ts": "2026-01-01T00:00:00Z"}
    if frame.get("type") == "unsubscribe":
        return {"type": "unsubscribed", "id": request_id, "plan_id": plan_id}
    if frame.get("type") != "subscribe":
        return None
    for prefix, code in (("secret-", "forbidden"), ("ghost-", "not_found")):
        if str(plan_id).startswith(prefix):
            message = f"scripted refusal: {code}"
            error = {"id": request_id, "plan_id": plan_id, "code": code, "message": message}
            return {"type": "error", **error}
    head = {"seq": 1, "event_id": "new-1"} if frame.get("last_event_id") == "old-3" else None
    return {"type": "subscribed", "id": request_id, "plan_id": plan_id, "head": head}


def status_event(status: str, reason: str | None = None) -> dict[str, Any]:
    return {"kind": "plan.status", "data": {"status": status, "reason": reason}}


def progress_event(completed: int, total: int) -> dict[str, Any]:
    percent = 100.0 * completed / total if total else 0.0
    data = {"completed_steps": completed, "total_steps": total, "percent": percent}
    return {"kind": "plan.progress", "data": {**data, "message": None}}


def log_event(message: str, level: str) -> dict[str, Any]:
    data = {"level": level, "message": message, "step_id": None, "stream": "stdout"}
    return {"kind": "log", "data": data}
