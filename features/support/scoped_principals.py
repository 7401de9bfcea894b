"""A scripted token verifier handing out scoped principals, for authorization tests.

Each known token maps to a :class:`~planstream.server.Principal` whose read and
publish scopes come from a table (patterns separated by spaces); any other
token (or none) is refused, as a real verifier refuses it. JWTs and API keys
(issue 16, other lanes) end in the same principals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from planstream.server import PlanScope, Principal
from support.servers import run

__all__ = ["ScriptedVerifier", "principals_from_table", "publish_as", "scope_of"]

#: The one event every publish in these tests appends.
LOG_EVENT = {
    "kind": "log",
    "data": {"level": "info", "message": "scoped", "step_id": None, "stream": "stdout"},
}


def scope_of(cell: str) -> PlanScope:
    """A table cell's scope: patterns separated by spaces; empty or ``(none)``: no plan."""
    patterns = [] if cell.strip() in ("", "(none)") else cell.split()
    return PlanScope.of(patterns)


def principals_from_table(rows: Iterable[Any]) -> dict[str, Principal]:
    """``token -> Principal`` from rows with ``token``, ``read`` and ``publish`` cells."""
    return {
        row["token"]: Principal(
            row["token"], read=scope_of(row["read"]), publish=scope_of(row["publish"])
        )
        for row in rows
    }


class ScriptedVerifier:
    """A :class:`~planstream.server.auth.TokenVerifier` over a fixed table."""

    def __init__(self, principals: Mapping[str, Principal]) -> None:
        self.principals = dict(principals)

    def __repr__(self) -> str:
        return f"ScriptedVerifier({len(self.principals)} principals)"

    async def verify(self, token: str | None) -> Principal | None:
        return None if token is None else self.principals.get(token)


def publish_as(context: Any, token: str, plan_id: str, count: int = 1) -> list[httpx.Response]:
    """Publish ``count`` log events to ``plan_id`` with ``token``, one request each."""

    async def publish() -> list[httpx.Response]:
        url = f"{context.server.http_url}/v1/plans/{plan_id}/events"
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(timeout=30) as http:
            return [await http.post(url, json=LOG_EVENT, headers=headers) for _ in range(count)]

    return list(run(context, publish()))
