"""Helpers of the publisher steps: a fast-retrying publisher, and a publish whose
result, error and duration are kept on the context."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import planstream
from planstream import ClientSettings, LogData, PlanPublisher, PublishedEvent
from support.servers import on_cleanup, run

__all__ = ["_log", "_placed", "attempt", "publisher"]

#: Quick retries: the scenarios time what the server asks (Retry-After), not the backoff.
_FAST = ClientSettings(reconnect={"initial_delay": 0.05, "max_delay": 0.2})


def _log(message: str = "a line") -> LogData:
    return LogData(level="info", message=message, stream="stdout")


def publisher(context: Any, url: str | None = None, **options: Any) -> PlanPublisher:
    """A publisher of the scenario's server (or ``url``), closed after the scenario."""
    options.setdefault("settings", _FAST)
    made = PlanPublisher(url or context.server.http_url, **options)
    on_cleanup(context, made.aclose)
    return made


def attempt(context: Any, call: Callable[[], Awaitable[Any]]) -> Any:
    """Run a publish, keeping its result or error and how long it took."""
    context.publish_error = None
    started = time.monotonic()
    try:
        result = run(context, call(), timeout=60)
    except planstream.PlanStreamError as exc:
        context.publish_error = exc
        result = None
    context.publish_seconds = time.monotonic() - started
    return result


def _placed(context: Any, placed: PublishedEvent | tuple[PublishedEvent, ...] | None) -> None:
    if not hasattr(context, "placed"):
        context.placed = []
    if isinstance(placed, PublishedEvent):
        context.placed.append(placed)
    elif placed is not None:
        context.placed.extend(placed)
