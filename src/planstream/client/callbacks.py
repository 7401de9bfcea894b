"""Callbacks, built on the iterators: ``client.on(kind, callback)`` and ``client.run()``.

A callback is chosen by what it asks for — an event kind (``"log"``), an
event model (``StepStatusEvent``), :class:`~planstream.delivery.Resync`, or
nothing (every item) — and may be a plain function or a coroutine function.
An exception in a callback is logged with its traceback and counted; it never
ends the stream or the other callbacks.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from planstream.delivery import Delivery, Resync
from planstream.schema.events import EventBase

__all__ = ["Callback", "CallbackRegistry", "CallbackTarget"]

logger = logging.getLogger("planstream.client")

#: A callback: takes the delivered item, returns None or an awaitable.
Callback: TypeAlias = Callable[[Any], Awaitable[None] | None]
#: What a callback listens to: a kind, an event model, ``Resync``, or None (all).
CallbackTarget: TypeAlias = str | type[EventBase] | type[Resync] | None


@dataclass(frozen=True, slots=True)
class _Registration:
    target: CallbackTarget
    callback: Callback

    def matches(self, item: Delivery) -> bool:
        target = self.target
        if target is None:
            return True
        if isinstance(target, str):
            return not isinstance(item, Resync) and item.kind == target
        return isinstance(item, target)


class CallbackRegistry:
    """The registered callbacks of one client, in registration order."""

    __slots__ = (
        "_registrations",
        "errors",
    )

    def __init__(self) -> None:
        self._registrations: list[_Registration] = []
        self.errors = 0

    def add(self, target: CallbackTarget, callback: Callback) -> None:
        """Call ``callback`` for every item ``target`` selects."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        if not (
            target is None
            or isinstance(target, str)
            or (isinstance(target, type) and issubclass(target, EventBase | Resync))
        ):
            raise TypeError(
                f"target must be an event kind, an event model, Resync or None, not {target!r}"
            )
        self._registrations.append(_Registration(target, callback))

    def remove(self, callback: Callback) -> None:
        """Forget every registration of ``callback``."""
        self._registrations = [r for r in self._registrations if r.callback is not callback]

    def __len__(self) -> int:
        return len(self._registrations)

    async def dispatch(self, item: Delivery) -> None:
        """Call every matching callback with ``item``, in registration order."""
        for registration in self._registrations:
            if not registration.matches(item):
                continue
            callback = registration.callback
            try:
                result = callback(item)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # user code: log and count, never end the stream
                self.errors += 1
                logger.exception(
                    "callback %s raised on %s of plan %r",
                    getattr(callback, "__qualname__", repr(callback)),
                    "resync" if isinstance(item, Resync) else f"event seq {item.seq}",
                    item.plan_id,
                )
