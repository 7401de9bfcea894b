"""Real HTTP (httpx) and WebSocket (websockets) calls for the server_http_* steps.

Requests go over loopback sockets to ``context.http_base`` when a scenario
serves its own app (the FastAPI mount), else to the reference server's
``http_url``. ``context.http_state`` / ``context.server.state`` is the served
:class:`ServerState`, the independent truth the answers are checked against.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from websockets.asyncio.client import connect

from planstream.server import ServerState
from support.servers import on_cleanup, run

SUBPROTOCOL = "planstream.v1"

#: A valid body for requests whose body does not matter (auth checks).
LOG_EVENT = {
    "kind": "log",
    "data": {"level": "info", "message": "hello", "step_id": None, "stream": "stdout"},
}


def base_url(context: Any) -> str:
    base: str | None = getattr(context, "http_base", None)
    return base or str(context.server.http_url)


def ws_url(context: Any) -> str:
    return "ws" + base_url(context).removeprefix("http") + "/v1/stream"


def server_state(context: Any) -> ServerState:
    state: ServerState | None = getattr(context, "http_state", None)
    return state if state is not None else context.server.state


def authorization_headers(context: Any) -> dict[str, str]:
    value: str | None = getattr(context, "http_authorization", None)
    return {"Authorization": value} if value else {}


def client(context: Any) -> httpx.AsyncClient:
    """The scenario's HTTP client (building one costs an SSL context), closed after it."""
    existing: httpx.AsyncClient | None = getattr(context, "http_client", None)
    if existing is None:
        existing = context.http_client = httpx.AsyncClient(timeout=30)
        on_cleanup(context, existing.aclose)
    return existing


async def request(context: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request to ``path`` under the scenario's base URL."""
    headers = {**authorization_headers(context), **(kwargs.pop("headers", None) or {})}
    url = path if path.startswith("http") else base_url(context) + path
    return await client(context).request(method, url, headers=headers, **kwargs)


def call(context: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A request from a step; the answer becomes ``context.http_response``."""
    started = time.monotonic()
    response: httpx.Response = run(context, request(context, method, path, **kwargs))
    context.http_elapsed = time.monotonic() - started
    context.http_response = response
    return response


def json_of(response: httpx.Response) -> Any:
    """The JSON body, after checking it is declared as JSON."""
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("application/json"), (content_type, response.text)
    return response.json()


def check_error(response: httpx.Response, status: int, code: str, text: str = "") -> None:
    """A JSON error answer of protocol §6 whose one-line message mentions ``text``."""
    assert response.status_code == status, (response.status_code, response.text)
    body = json_of(response)
    assert set(body) == {"error", "message"}, body
    assert body["error"] == code, body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    assert "\n" not in body["message"], body["message"]
    assert text in body["message"], (text, body["message"])
    assert "_PublishItem" not in body["message"], body["message"]  # no internals


def record_published(context: Any, plan_id: str, response: httpx.Response) -> None:
    """Remember the ``(seq, event_id)`` of events a 201 answer reports."""
    if response.status_code == 201:
        appended = [(item["seq"], item["event_id"]) for item in response.json()["events"]]
        if not hasattr(context, "published"):
            context.published = {}
        context.published.setdefault(plan_id, []).extend(appended)


def log_events(count: int, prefix: str = "line") -> list[dict[str, Any]]:
    return [
        {
            "kind": "log",
            "data": {
                "level": "info",
                "message": f"{prefix} {n}",
                "step_id": None,
                "stream": "stdout",
            },
        }
        for n in range(count)
    ]


async def ws_collect(
    url: str, plan_id: str, count: int, headers: dict[str, str] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Subscribe from the start over a real WebSocket; the hello and ``count`` events."""
    async with connect(
        url,
        subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
        additional_headers=headers,
        open_timeout=10,
    ) as websocket:
        hello: dict[str, Any] = json.loads(await websocket.recv())
        await websocket.send(
            json.dumps({"type": "subscribe", "id": "s1", "plan_id": plan_id, "last_event_id": None})
        )
        events: list[dict[str, Any]] = []
        async with asyncio.timeout(10):
            while len(events) < count:
                frame = json.loads(await websocket.recv())
                if frame["type"] == "event":
                    events.append(frame)
                elif frame["type"] == "batch":
                    events.extend(frame["events"])
                elif frame["type"] in {"resync", "error"}:
                    raise AssertionError(f"unexpected frame {frame}")
        return hello, events
