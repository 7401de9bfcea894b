"""HTTP long-polling (protocol §6) of every subscribed plan, while WebSockets are refused.

:class:`PlanPollers` keeps one poller per subscribed plan (long-polling
``after`` the plan's position, honouring ``X-Poll-Interval``), all owned by one
task group. It is given only what it needs:

* a :class:`~planstream.transport.polling.PollingSession` to poll with;
* a :class:`PollTarget` (the router): which plans, from where, and where the
  answers go - the same router and sequencer as the WebSocket, so the user's
  iterators see one stream;
* a :class:`~planstream.client.flag.Flag` raised when the subscribed plans change;
* a :class:`PollReports` (the connection driver) to report each poll's result to.

It decides nothing about the connection: the driver feeds each report to the
state machine and answers a failure with the time of the next poll (or ends
the phase); whether polling ends is the machine's decision, performed by the
driver, which cancels :meth:`PlanPollers.run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Protocol

from planstream.client.clock import now, sleep_until
from planstream.client.flag import Flag
from planstream.close_codes import Verdict
from planstream.errors import ForbiddenError
from planstream.schema.http import PollResponse
from planstream.settings import PollingSettings
from planstream.transport.polling import PollingSession
from planstream.transport.websocket import TransportFailedError

__all__ = ["PlanPollers", "PollReports", "PollTarget"]


class PollTarget(Protocol):
    """Which plans to poll, from where, and where their answers go (the router)."""

    @property
    def channels(self) -> Iterable[str]:
        """The subscribed plans."""
        ...

    def poll_position(self, plan_id: str) -> tuple[int, str | None] | None:
        """``(generation, after)`` for the next poll; None: no longer subscribed."""
        ...

    def on_poll(self, generation: int, response: PollResponse, now: float) -> None:
        """Feed a poll answer made at ``generation``."""
        ...

    def on_poll_forbidden(self, plan_id: str, message: str) -> None:
        """A poll of ``plan_id`` was refused ``403 forbidden``: end that subscription."""
        ...


class PollReports(Protocol):
    """Where the pollers report; the connection driver answers for the machine."""

    def answered(self) -> bool:
        """A poll was answered; False: polling is over (the answer is dropped)."""
        ...

    async def failed(self, verdict: Verdict) -> float | None:
        """A poll failed for the reason ``verdict``: when to poll again, or
        None when polling is over."""
        ...


class PlanPollers:
    """One long-poller per subscribed plan, until cancelled."""

    __slots__ = ("_changed", "_http", "_pollers", "_reports", "_settings", "_target")

    def __init__(
        self,
        http: PollingSession,
        target: PollTarget,
        changed: Flag,
        settings: PollingSettings,
        reports: PollReports,
    ) -> None:
        self._http = http
        self._target = target
        self._changed = changed
        self._settings = settings
        self._reports = reports
        self._pollers: dict[str, asyncio.Task[None]] = {}

    async def run(self) -> None:
        """Keep one poller per subscribed plan (cancel to stop them all)."""
        target, changed, pollers = self._target, self._changed, self._pollers
        async with asyncio.TaskGroup() as tasks:
            try:
                while True:
                    changed.clear()
                    for plan_id in target.channels:
                        poller = pollers.get(plan_id)
                        if poller is None or poller.done():
                            pollers[plan_id] = tasks.create_task(self._poll(plan_id))
                    await changed.wait()
            finally:
                for poller in pollers.values():
                    poller.cancel()

    async def _poll(self, plan_id: str) -> None:
        target, http, settings, reports = self._target, self._http, self._settings, self._reports
        while True:
            position = target.poll_position(plan_id)
            if position is None:
                return  # unsubscribed
            generation, after = position
            started = now()
            try:
                result = await http.poll(
                    plan_id, after=after, wait=settings.wait, limit=settings.limit
                )
            except TransportFailedError as exc:
                if isinstance(exc.verdict.error, ForbiddenError):
                    # A poll names one plan: outside the token's read scope, that
                    # subscription fails alone, as an `error` frame fails it (§3).
                    target.on_poll_forbidden(plan_id, str(exc.verdict.error))
                    return
                retry_at = await reports.failed(exc.verdict)
                if retry_at is None:
                    return
                await sleep_until(retry_at)
                continue
            if not reports.answered():
                return
            target.on_poll(generation, result.response, now())
            if len(result.response.events) < settings.limit:
                await sleep_until(started + result.poll_interval)
