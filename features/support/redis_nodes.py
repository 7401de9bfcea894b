"""Helpers of the server_redis.feature steps: the log event they publish and the
POST through a node (one HTTP client per node and scenario)."""

from __future__ import annotations

from typing import Any

import httpx

LOG_DATA = {"level": "info", "stream": "stdout", "message": "m"}


async def post_event(context: Any, node: str, plan_id: str, body: Any) -> httpx.Response:
    """POST through one client per node URL and scenario (creating one costs ~30 ms)."""
    url = context.redis_nodes[node].http_url
    clients: dict[str, httpx.AsyncClient] = context.redis_http
    if url not in clients:
        clients[url] = httpx.AsyncClient(base_url=url)
    return await clients[url].post(f"/v1/plans/{plan_id}/events", json=body)
