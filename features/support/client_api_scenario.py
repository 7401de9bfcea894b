"""The scenario-level state of the client API features, kept on behave's ``context``.

``context.api_host`` is the :class:`~support.client_api_support.ClientHost`
holding the client; ``context.api_consumers`` maps a name (by default the
plan id) to the :class:`~support.client_api_support.Consumer` draining that
subscription; ``context.api_wait_error`` is what ``wait_open()`` raised (or
None). :class:`CallbackRecorder` keeps what each ``client.on`` callback saw.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from planstream import LogEvent, PlanStatusEvent, PlanStreamClient, Resync
from planstream.client import TokenProvider
from planstream.errors import PlanStreamError
from planstream.schema.events import StepStatusEvent
from support.client_api_support import WAIT, ClientHost, Consumer, fast_settings, start_host
from support.servers import on_cleanup, run

__all__ = [
    "CallbackRecorder",
    "connect_and_subscribe",
    "consumers",
    "host",
    "start_run",
    "target_url",
]


def target_url(context: Any, target: str) -> str:
    """The stream URL a connect step names."""
    if target == "to the scripted server":
        return str(context.api_scripted.url)
    if target == "through the proxy":
        return str(context.upgrade_proxy.url)
    return str(context.server.url)


def consumers(context: Any) -> dict[str, Consumer]:
    """The scenario's consumers by name."""
    if not hasattr(context, "api_consumers"):
        context.api_consumers = {}
    result: dict[str, Consumer] = context.api_consumers
    return result


def host(context: Any) -> ClientHost:
    """The scenario's client host."""
    result: ClientHost = context.api_host
    return result


def connect_and_subscribe(
    context: Any,
    target: str,
    plans: list[str],
    *,
    settings: dict[str, Any] | None = None,
    token: str | None = None,
    token_provider: TokenProvider | None = None,
    names: list[str] | None = None,
    stalled: frozenset[str] = frozenset(),
    **subscribe: Any,
) -> None:
    """Enter a client, subscribe to ``plans`` (consumers named ``names``), wait_open().

    Consumers named in ``stalled`` do not read until ``context.api_gates[name]``
    is set. ``context.api_started_at`` is when the client was entered;
    ``context.api_wait_error`` / ``api_wait_error_at`` what ``wait_open()`` raised, when.
    """
    overrides = dict(settings or {})
    if token is not None:
        overrides["token"] = token
    client_settings = fast_settings(target_url(context, target), **overrides)
    context.api_started_at = time.monotonic()
    api_host = start_host(context, client_settings, token_provider=token_provider)
    if not hasattr(context, "api_gates"):
        context.api_gates = {}
    for plan_id, name in zip(plans, names or plans, strict=True):
        gate = None
        if name in stalled:
            gate = context.api_gates[name] = asyncio.Event()
        subscription = api_host.client.subscribe(plan_id, **subscribe)
        consumers(context)[name] = api_host.consume(
            subscription, plan_id=plan_id, name=name, gate=gate
        )
    context.api_wait_error = None
    try:
        run(context, api_host.client.wait_open(), timeout=WAIT)
    except PlanStreamError as exc:
        context.api_wait_error = exc
        context.api_wait_error_at = time.monotonic()


class CallbackRecorder:
    """Callbacks that record the items they are called with, by name."""

    def __init__(self) -> None:
        self.seen: dict[str, list[Any]] = {}
        self.raised = 0

    def sync(self, name: str) -> Any:
        """A plain function recording under ``name``."""
        seen = self.seen.setdefault(name, [])

        def record(item: Any) -> None:
            seen.append(item)

        record.__qualname__ = f"record_{name.replace(' ', '_')}"
        return record

    def asynchronous(self, name: str) -> Any:
        """A coroutine function recording under ``name`` (it yields to the loop first)."""
        seen = self.seen.setdefault(name, [])

        async def record(item: Any) -> None:
            await asyncio.sleep(0)
            seen.append(item)

        return record

    def raising(self, kind: str) -> Any:
        """A plain function raising on every item of ``kind``."""

        def raise_on_kind(item: Any) -> None:
            if getattr(item, "kind", None) == kind:
                self.raised += 1
                raise RuntimeError(f"api callback refuses {kind} seq {item.seq}")

        return raise_on_kind

    def register_every_target(self, client: PlanStreamClient) -> None:
        """Register a recorder for each kind of target ``client.on`` takes.

        ``LogEvent`` and ``StepStatusEvent`` (models), ``Resync``, every item
        (``on_any``), a decorated coroutine on ``PlanStatusEvent``, and one
        registered twice then removed with ``off()`` (``"removed"``).
        """
        log = self.sync("LogEvent")
        assert client.on(LogEvent, log) is log
        client.on(StepStatusEvent, self.asynchronous("StepStatusEvent"))
        client.on(Resync, self.sync("Resync"))
        client.on_any(self.asynchronous("everything"))
        removed = self.sync("removed")
        client.on_any(removed)
        client.on(LogEvent, removed)
        decorated = self.seen.setdefault("decorated PlanStatusEvent", [])

        @client.on(PlanStatusEvent)
        async def on_status(item: PlanStatusEvent) -> None:
            decorated.append(item)

        assert asyncio.iscoroutinefunction(on_status), "the decorator must return the function"
        client.off(removed)


def start_run(context: Any, plan_id: str) -> None:
    """``client.run(plan_id)`` in a task (``context.api_run``), cancelled after the scenario."""
    client = host(context).client
    context.api_run = context.loop.create_task(client.run(plan_id), name="api-run")

    async def stop_run() -> None:
        context.api_run.cancel()
        await asyncio.gather(context.api_run, return_exceptions=True)

    on_cleanup(context, stop_run)
