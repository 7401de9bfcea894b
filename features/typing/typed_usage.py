"""Typed uses of the callback API that must pass ``mypy --strict``.

features/callback_typing.feature type-checks this file; ``assert_type`` pins
what mypy infers, so a decorator that stops keeping a handler's type fails
here. features/callback_dispatch.feature runs :func:`register` against a real
server, so every line here also works.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, assert_type

from planstream import (
    Event,
    LogEvent,
    PlanProgressEvent,
    PlanStatusEvent,
    PlanStreamClient,
    Resync,
    StepStatusEvent,
    UnknownEvent,
)
from planstream.schema import EventBase

#: What the handlers saw, by handler name.
Seen = dict[str, list[EventBase | Resync]]


def register(client: PlanStreamClient, seen: Seen) -> None:
    """Register one handler of each form; each records what it got in ``seen``."""

    def keep(name: str, item: EventBase | Resync) -> None:
        seen.setdefault(name, []).append(item)

    @client.on(StepStatusEvent)  # a plain function, decorated: keeps its type
    def step_changed(event: StepStatusEvent) -> None:
        keep("step_changed", event)

    assert_type(step_changed, Callable[[StepStatusEvent], None])

    @client.on(LogEvent)  # a coroutine function stays awaitable
    async def logged(event: LogEvent) -> None:
        keep("logged", event)

    assert_type(logged, Callable[[LogEvent], Coroutine[Any, Any, None]])

    @client.on(Resync)
    def resynced(marker: Resync) -> None:
        keep("resynced", marker)

    def progressed(event: PlanProgressEvent) -> None:
        keep("progressed", event)

    # The direct form returns the handler.
    assert client.on(PlanProgressEvent, progressed) is progressed

    # A handler of a wider type is fine: every event is an EventBase.
    def any_event(event: EventBase) -> None:
        keep("any_event", event)

    client.on(PlanStatusEvent, any_event)
    client.on(UnknownEvent, lambda event: keep("unknown", event))

    @client.on_any  # every item, a bare decorator
    async def everything(item: Event | Resync) -> None:
        keep("everything", item)

    every: Callable[[Event | Resync], Coroutine[Any, Any, None]] = everything  # kept exactly

    @client.on_error
    def report(error: Exception, item: Event | Resync) -> None:
        keep("report", item)

    hook: Callable[[Exception, Event | Resync], None] = report
    assert every is everything
    assert hook is report

    removed = client.on(LogEvent, lambda event: keep("removed", event))
    client.off(removed)
