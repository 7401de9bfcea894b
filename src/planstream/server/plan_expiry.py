"""Finished plans are forgotten ``plan_ttl`` after their terminal status (issue 10, item 6).

One background task sleeps until the next expiry deadline. Whoever creates a
deadline (:meth:`PlanExpiry.plan_finished`, called after the append of a
terminal ``plan.status``) wakes it; it never polls. The clock is injected, so
tests and embedders can drive time; a driver that moves the clock calls
:meth:`PlanExpiry.wake`.

The task is started by the first finished plan (the server's lifespan does not
hand the state a task group of its own) and is owned by this object:
:meth:`aclose` cancels and awaits it. An evicted plan is unknown from then on:
resuming from one of its ids gets ``resync`` ``unknown_event_id`` (reading 19).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Callable

from planstream.server.background import BackgroundTask
from planstream.server.event_log import EventLog

__all__ = ["PlanExpiry"]

logger = logging.getLogger("planstream.server")


class PlanExpiry:
    """Evicts finished plans from ``log`` ``ttl`` seconds after they finished.

    Args:
        log: the event log to evict from.
        ttl: seconds a finished plan stays readable.
        clock: monotonic seconds (``time.monotonic`` by default in the state).
    """

    def __init__(self, log: EventLog, ttl: float, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self._log = log
        self._clock = clock
        # (deadline, plan_id, head event id at the end): the head id tells a
        # plan created again under the same id from the finished one.
        self._deadlines: list[tuple[float, str, str]] = []
        self._wake = asyncio.Event()
        self._runner = BackgroundTask(self._run, "planstream-plan-expiry")
        self.evicted = 0

    def __repr__(self) -> str:
        return f"PlanExpiry(ttl={self.ttl:g}, pending={len(self._deadlines)})"

    def plan_finished(self, plan_id: str, head_event_id: str) -> None:
        """``plan_id`` ended at ``head_event_id`` now: evict it after ``ttl``."""
        if self._runner.closed:
            return
        heapq.heappush(self._deadlines, (self._clock() + self.ttl, plan_id, head_event_id))
        self._runner.start()
        self.wake()

    def wake(self) -> None:
        """Re-read the clock and the next deadline now."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            if not self._deadlines:
                await self._wake.wait()
                continue
            delay = self._deadlines[0][0] - self._clock()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
                continue
            _, plan_id, head_event_id = heapq.heappop(self._deadlines)
            try:
                if await self._log.evict(plan_id, head_event_id):
                    self.evicted += 1
            except Exception as exc:  # a custom log failed: keep evicting the others
                logger.error("evicting plan %r failed: %s", plan_id, type(exc).__name__)

    async def aclose(self) -> None:
        """Stop the task (idempotent); deadlines not reached are dropped."""
        await self._runner.aclose()
