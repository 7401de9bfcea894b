"""Smoke steps for the embedded reference server."""

from __future__ import annotations

from typing import Any

import httpx
from behave import then
from support.servers import run


@then('the reference server\'s plan "{plan_id}" has head seq {seq:d}')
def then_head(context: Any, plan_id: str, seq: int) -> None:
    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=context.server.http_url) as http:
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            response = await http.get(f"/v1/plans/{plan_id}")
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

    snapshot = run(context, fetch())
    assert snapshot["head"]["seq"] == seq, snapshot
    assert [seq for seq, _ in context.published[plan_id]] == list(range(1, seq + 1))
