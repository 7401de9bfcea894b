"""Scenario plumbing of client_resilience.feature's steps (context in, objects out).

Starting the server, the client and the leak check of a scenario, building
client settings from a step table, and publishing while recording what was
published (``context.resilience_published``: plan id -> ``(seq, event_id)``).
"""

from __future__ import annotations

import asyncio
import random
import socket
from typing import Any

from planstream import ClientSettings
from support.client_resilience_support import ItemCollector, ResilientClient
from support.fault_proxy import FaultPlan
from support.server_stream_support import log_data
from support.servers import RestartableProcess, RestartableServer, on_cleanup, run

__all__ = [
    "bound_closed_port",
    "client_settings",
    "collector_of",
    "fault_plan",
    "publish_logs",
    "publish_status",
    "server_settings",
    "start_client",
    "start_server",
    "table_value",
]

#: Reconnect quickly: every scenario here drops connections on purpose.
_FAST_RECONNECT = {"initial_delay": 0.01, "max_delay": 0.05}

_INT_SERVER_SETTINGS = {"retention", "batch_max_events"}


def table_value(text: str) -> Any:
    """A table cell as int, float or text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def server_settings(table: Any) -> dict[str, Any]:
    """Server settings from a ``setting | value`` table (tokens: a comma list)."""
    settings: dict[str, Any] = {}
    for row in table:
        name, value = row["setting"], row["value"]
        if name in {"tokens", "publish_tokens"}:
            settings[name] = [token.strip() for token in value.split(",")]
        else:
            settings[name] = (int if name in _INT_SERVER_SETTINGS else float)(value)
    return settings


def fault_plan(table: Any) -> FaultPlan:
    """The proxy's faults from a ``fault | value`` table (drop_frames: a comma list)."""
    faults: dict[str, Any] = {}
    for row in table:
        if row["fault"] == "drop_frames":
            faults["drop_frames"] = frozenset(int(part) for part in row["value"].split(","))
        else:
            faults[row["fault"]] = int(row["value"])
    return FaultPlan(**faults)


def client_settings(url: str, table: Any) -> dict[str, Any]:
    """Client settings: fast reconnects, WebSocket only, plus ``section.field`` rows."""
    settings: dict[str, Any] = {
        "url": url,
        "transport": "websocket",
        "open_timeout": 5.0,
        "reconnect": dict(_FAST_RECONNECT),
    }
    for row in table or []:
        section, _, name = row["setting"].rpartition(".")
        target = settings.setdefault(section, {}) if section else settings
        target[name] = table_value(row["value"])
    return settings


def start_client(context: Any, settings: dict[str, Any], seed: int = 2024) -> ResilientClient:
    """``context.resilient``: a started client with a seeded rng, closed after the scenario."""
    check_no_task_leaks(context)
    resilient = ResilientClient(ClientSettings(**settings), rng=random.Random(seed))
    run(context, resilient.start())
    on_cleanup(context, resilient.aclose)
    context.resilient = resilient
    context.resilience_collectors = {}
    return resilient


def collector_of(context: Any, plan_id: str) -> ItemCollector:
    """The collector of the scenario's subscription to ``plan_id``."""
    collector: ItemCollector = context.resilience_collectors[plan_id]
    return collector


def check_no_task_leaks(context: Any) -> None:
    """Once per scenario: after every other cleanup, no task of it may be left."""
    if getattr(context, "resilience_leak_check", False):
        return
    context.resilience_leak_check = True

    async def no_tasks_left() -> None:
        current = asyncio.current_task()
        deadline = asyncio.get_running_loop().time() + 5
        while True:
            left = [task for task in asyncio.all_tasks() if task is not current]
            if not left or asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(0.01)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        assert not left, f"tasks left running after the scenario: {[t.get_name() for t in left]}"

    on_cleanup(context, no_tasks_left)


async def publish_logs(context: Any, plan_id: str, count: int) -> None:
    """Publish ``count`` log events to the scenario's server, recording them."""
    published = context.resilience_published.setdefault(plan_id, [])
    base = len(published)
    for number in range(count):
        published.append(await context.server.publish(plan_id, "log", log_data(base + number)))


async def publish_status(context: Any, plan_id: str, status: str) -> None:
    """Publish a ``plan.status`` event to the scenario's server, recording it."""
    data = {"status": status, "reason": None}
    published = context.resilience_published.setdefault(plan_id, [])
    published.append(await context.server.publish(plan_id, "plan.status", data))


def start_server(context: Any, server: RestartableServer | RestartableProcess) -> None:
    """The scenario's reference server (``context.server``): started now, stopped after it."""
    check_no_task_leaks(context)
    run(context, server.start())
    on_cleanup(context, server.stop)
    context.server = server
    context.resilience_published = {}


def bound_closed_port(context: Any) -> int:
    """A port bound but not listening, for the scenario: connections are refused,
    and no other test process can take it meanwhile (unlike a port found free)."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))

    async def release() -> None:
        closed.close()

    on_cleanup(context, release)
    port: int = closed.getsockname()[1]
    return port
