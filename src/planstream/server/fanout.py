"""Who hears about new events: subscribed connections and waiting long-polls."""

from __future__ import annotations

import asyncio
from typing import Protocol

from planstream.server.event_log import LogChange

__all__ = ["ChangeSubscriber", "Fanout"]


class ChangeSubscriber(Protocol):
    """Something told, synchronously and without blocking, that a plan grew."""

    def on_log_change(self, change: LogChange) -> None:
        """React to ``change`` (wake a sender, or close a consumer left behind)."""


class _Waiters:
    __slots__ = ("count", "event")

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.count = 0


class Fanout:
    """Routes log changes to the connections subscribed to each plan.

    It is the event log's listener; long-polls wait on it too. Entries exist
    only while someone is subscribed or waiting, so unknown plan ids polled
    by a client leave nothing behind.
    """

    def __init__(self) -> None:
        self._subscribers: dict[str, set[ChangeSubscriber]] = {}
        self._waiters: dict[str, _Waiters] = {}
        self._released = False

    def add(self, plan_id: str, subscriber: ChangeSubscriber) -> None:
        """Route changes of ``plan_id`` to ``subscriber``."""
        self._subscribers.setdefault(plan_id, set()).add(subscriber)

    def remove(self, plan_id: str, subscriber: ChangeSubscriber) -> None:
        """Stop routing changes of ``plan_id`` to ``subscriber``."""
        subscribers = self._subscribers.get(plan_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[plan_id]

    def plan_ids(self) -> set[str]:
        """The plans someone on this node follows or waits on."""
        return self._subscribers.keys() | self._waiters.keys()

    def __call__(self, change: LogChange) -> None:
        """The log listener: tell subscribers, release long-polls."""
        for subscriber in tuple(self._subscribers.get(change.plan_id, ())):
            subscriber.on_log_change(change)
        waiters = self._waiters.pop(change.plan_id, None)
        if waiters is not None:
            waiters.event.set()

    def release_waiters(self) -> None:
        """Wake every long-poll now and let none wait from now on (server shutdown)."""
        self._released = True
        for waiters in self._waiters.values():
            waiters.event.set()
        self._waiters.clear()

    async def wait_for_change(self, plan_id: str, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``plan_id`` to grow; True if it did."""
        if self._released:
            return False
        waiters = self._waiters.get(plan_id)
        if waiters is None:
            waiters = self._waiters[plan_id] = _Waiters()
        waiters.count += 1
        try:
            async with asyncio.timeout(seconds):
                await waiters.event.wait()
            return True
        except TimeoutError:
            return False
        finally:
            waiters.count -= 1
            if waiters.count == 0 and self._waiters.get(plan_id) is waiters:
                del self._waiters[plan_id]
