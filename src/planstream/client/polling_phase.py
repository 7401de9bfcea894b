"""One polling phase of the connection driver (protocol §6): the pollers, the
WebSocket probes and the first connection's deadline, in one task group.

The :class:`~planstream.client.connection_driver.ConnectionDriver` performs a
``StartPolling`` action by running a :class:`PollingPhase` until the machine
says ``StopPolling`` (a probe's WebSocket carries the stream: returned) or
``Stop``. Every report goes to the machine through the driver, and what comes
back is performed here (``Wait``: carry on; a retry time; ``Stop``: the phase
ends). It implements :class:`~planstream.client.polling.PollReports`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from planstream.client.clock import now, sleep_until
from planstream.client.polling import PlanPollers
from planstream.close_codes import Verdict
from planstream.connection_actions import (
    Connect,
    ConnectionAction,
    RefreshTokenThenConnect,
    StartPolling,
    Stop,
    StopPolling,
    Wait,
)
from planstream.transport.polling import PollingSession
from planstream.transport.websocket import TransportFailedError, WebSocketSession

if TYPE_CHECKING:
    from planstream.client.connection_driver import ConnectionDriver

__all__ = ["PhaseOutcome", "PollingPhase"]

logger = logging.getLogger("planstream.client")

#: How a polling phase ends: a probe's WebSocket, or the machine's ``Stop``.
PhaseOutcome = tuple[WebSocketSession, StopPolling] | Stop


class PollingPhase:
    """Polls every plan, probes the WebSocket, until the machine ends the phase."""

    __slots__ = ("driver", "ended", "http", "start")

    def __init__(self, driver: ConnectionDriver, start: StartPolling) -> None:
        self.driver = driver
        self.start = start
        self.http: PollingSession | None = None
        self.ended: asyncio.Future[PhaseOutcome] = asyncio.get_running_loop().create_future()

    async def run(self) -> PhaseOutcome:
        """Poll until the phase ends; return how it ended."""
        driver, start = self.driver, self.start
        settings = driver.settings
        url = settings.endpoints[start.node]
        try:
            token = await driver.tokens.token()
        except TransportFailedError as exc:  # logged by token(); the server may not need one
            token = None
            logger.warning("polling without a token: %s", exc)
        self.http = http = PollingSession(
            settings.server_endpoints[start.node].http_base,
            token=token,
            has_token_provider=driver.tokens.provider is not None,
            request_timeout=settings.polling.request_timeout,
            ssl_context=settings.ssl_context(url),
            max_response_bytes=settings.polling.max_response_bytes,
        )
        pollers = PlanPollers(http, driver.router, driver.signals.channels, settings.polling, self)
        async with http, asyncio.TaskGroup() as tasks:
            running = [tasks.create_task(pollers.run())]
            if start.probe_at is not None:
                running.append(tasks.create_task(self._probe(start.probe_at, start.probe_node)))
            deadline = driver.machine.deadline
            if deadline is not None:
                running.append(tasks.create_task(self._deadline(deadline)))
            try:
                return await self.ended
            finally:
                for task in running:
                    task.cancel()

    def end(self, outcome: PhaseOutcome) -> None:
        if not self.ended.done():
            self.ended.set_result(outcome)

    async def _deadline(self, deadline: float) -> None:
        """The first connection's deadline: if nothing answered by then, stop."""
        await sleep_until(deadline)
        if self.driver.machine.deadline is not None and not self.ended.done():
            self.end(self.driver.timed_out(deadline))

    async def _probe(self, at: float, node: int) -> None:
        """Retry the WebSocket at the times (and on the nodes) the machine names;
        its ``StopPolling`` after a success ends the phase."""
        driver = self.driver
        while True:
            await sleep_until(at)
            try:
                session = await driver.open_websocket(node)
            except TransportFailedError as exc:
                if self.ended.done():
                    return
                action = driver.report_failure(exc.verdict, websocket=True)
                if isinstance(action, Stop):
                    self.end(action)
                    return
                assert isinstance(action, Connect | RefreshTokenThenConnect), action
                at, node = action.at, action.node
                continue
            if self.ended.done():
                await session.close()
                return
            stop_polling = driver.machine.connected(now(), websocket=True)
            assert isinstance(stop_polling, StopPolling), stop_polling
            logger.info("the WebSocket is back; polling ends")
            self.end((session, stop_polling))
            return

    # --- PollReports ---------------------------------------------------------------

    def answered(self) -> bool:
        """A poll was answered: the machine says ``Wait`` (carry on polling).
        False once the phase is over: the answer is dropped."""
        if self.ended.done():
            return False
        driver = self.driver
        driver.counters.polls += 1
        wait = driver.machine.connected(now(), websocket=False)
        assert isinstance(wait, Wait), wait
        if not driver.up.is_set():
            driver.up.set()
            logger.info("polling %s over HTTP (WebSocket unavailable)", driver.url)
        return True

    async def failed(self, verdict: Verdict) -> float | None:
        """A poll failed: when to poll again, or None (the phase is over)."""
        if self.ended.done():
            return None
        driver = self.driver
        action = driver.report_failure(verdict, websocket=False)
        if isinstance(action, Stop):
            self.end(action)
            return None
        at = _poll_retry_at(action)
        if isinstance(action, RefreshTokenThenConnect):
            assert self.http is not None  # failures come from the running pollers
            try:
                self.http.set_token(await driver.tokens.token())
            except TransportFailedError as exc:  # the next 401 is fatal (refused twice)
                logger.warning("token refresh failed: %s", exc)
        return at


def _poll_retry_at(action: ConnectionAction) -> float:
    """When a poll is retried: what the machine answered a poll failure with."""
    assert isinstance(action, Connect | RefreshTokenThenConnect), action
    assert not action.websocket, action
    return action.at
