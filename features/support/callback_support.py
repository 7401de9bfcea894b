"""What callback_dispatch.feature keeps on ``context``: the client, its run and recorders.

``context.cb_client`` is a :class:`PlanStreamClient` entered in the scenario's
loop (closed after it); ``context.cb_run`` the task of its ``run()``;
``context.cb_seen`` what each handler or hook received, by name;
``context.cb_logs`` the records of the ``planstream`` loggers.
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from planstream import PlanStreamClient, Resync
from planstream.client.callbacks import ErrorHook
from planstream.delivery import Delivery
from support.cli_support import ROOT
from support.client_api_support import LogCapture, fast_settings
from support.servers import on_cleanup, run

__all__ = [
    "describe",
    "load_typed_usage",
    "program_path",
    "refusing_handler",
    "seen",
    "start_client",
    "start_run",
]


def load_typed_usage() -> ModuleType:
    """features/typing/typed_usage.py as a module (the folder is no package)."""
    path = ROOT / "features" / "typing" / "typed_usage.py"
    spec = importlib.util.spec_from_file_location("typed_usage", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start_client(context: Any, on_error: ErrorHook | None = None) -> PlanStreamClient:
    """A client of ``context.server``, entered now, closed after the scenario."""
    client = PlanStreamClient(settings=fast_settings(context.server.url), on_error=on_error)
    logs = LogCapture()
    logs.install()
    context.cb_logs = logs
    run(context, client.__aenter__())

    async def close() -> None:
        await client.aclose()
        logs.remove()

    on_cleanup(context, close)
    context.cb_client = client
    return client


def seen(context: Any) -> dict[str, list[Any]]:
    """What each handler or hook received, by name (``context.cb_seen``)."""
    if not hasattr(context, "cb_seen"):
        context.cb_seen = {}
    recorded: dict[str, list[Any]] = context.cb_seen
    return recorded


def start_run(context: Any, plan_id: str) -> None:
    """``client.run(plan_id)`` in a task (``context.cb_run``), cancelled after the scenario."""
    context.cb_run = context.loop.create_task(context.cb_client.run(plan_id), name="cb-run")

    async def stop() -> None:
        context.cb_run.cancel()
        await asyncio.gather(context.cb_run, return_exceptions=True)

    on_cleanup(context, stop)


def refusing_handler() -> Any:
    """A LogEvent handler raising on every event, named ``refuse_logs`` in tracebacks."""

    def refuse_logs(event: Any) -> None:
        raise RuntimeError(f"refused log seq {event.seq}")

    return refuse_logs


def describe(item: Delivery | Any) -> str:
    """``Model@seq`` (a resync: its head's seq)."""
    if isinstance(item, Resync):
        head = item.snapshot.head
        return f"Resync@{0 if head is None else head.seq}"
    return f"{type(item).__name__}@{item.seq}"


def program_path() -> Path:
    """The program callback_dispatch.feature runs in a process of its own."""
    return Path(__file__).resolve().parent / "callback_program.py"
