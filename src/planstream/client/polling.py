"""The polling phase: HTTP long-polling (protocol §6) while WebSockets are refused.

A :class:`PollingPhase` runs one poller per subscribed plan (long-polling
``after`` the plan's position, honouring ``X-Poll-Interval``) and, with
transport ``auto``, a probe that retries the WebSocket every
``polling.websocket_retry_interval`` seconds. All of them are owned by one
task group. Polls feed the same router and sequencer as the WebSocket, so the
user's iterators see one stream. The phase ends when a probe opens a
WebSocket (returned to the ``WebSocketClient``, which serves it and re-subscribes every plan
from its position) or when the state machine stops.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from planstream.client.clock import now, sleep_until
from planstream.connection_actions import (
    Connect,
    ConnectionAction,
    RefreshTokenThenConnect,
    StartPolling,
    Stop,
)
from planstream.transport.polling import PollingSession, http_base_url
from planstream.transport.websocket import TransportFailedError, WebSocketSession

if TYPE_CHECKING:
    from planstream.client.websocket_client import WebSocketClient

__all__ = ["PollingPhase"]

logger = logging.getLogger("planstream.client")

Outcome = WebSocketSession | Stop


class PollingPhase:
    """Polls every subscribed plan until a WebSocket probe succeeds or the machine stops."""

    def __init__(self, engine: WebSocketClient, start: StartPolling) -> None:
        self.engine = engine
        self.start = start
        self._outcome: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._pollers: dict[str, asyncio.Task[None]] = {}

    async def run(self) -> Outcome:
        """Poll until the phase ends; return the probe's WebSocket or the Stop."""
        engine = self.engine
        settings = engine.settings
        engine.changed()
        await sleep_until(self.start.at)
        try:
            token = await engine.token()
        except TransportFailedError as exc:
            token = None
            logger.warning("polling without a token: %s", exc)
        # The polling stays on the node the machine named; the probes go round.
        engine.url = url = settings.endpoints[self.start.node]
        http = PollingSession(
            http_base_url(url),
            token=token,
            has_token_provider=engine.token_provider is not None,
            request_timeout=settings.polling.request_timeout,
            ssl_context=settings.ssl_context(url),
            max_response_bytes=settings.polling.max_response_bytes,
        )
        async with http, asyncio.TaskGroup() as tasks:
            supervisor = tasks.create_task(self._supervise(http, tasks))
            probe = None
            if self.start.probe_at is not None:
                probe = tasks.create_task(self._probe(self.start.probe_at, self.start.probe_node))
            try:
                outcome = await self._outcome
            finally:
                supervisor.cancel()
                if probe is not None:
                    probe.cancel()
                for poller in self._pollers.values():
                    poller.cancel()
        engine.up.clear()
        return outcome

    def _end(self, outcome: Outcome) -> bool:
        if self._outcome.done():
            return False
        self._outcome.set_result(outcome)
        return True

    async def _supervise(self, http: PollingSession, tasks: asyncio.TaskGroup) -> None:
        """Keep one poller per subscribed plan."""
        router = self.engine.router
        changed = self.engine.signals.channels
        while True:
            changed.clear()
            for plan_id in router.channels:
                poller = self._pollers.get(plan_id)
                if poller is None or poller.done():
                    self._pollers[plan_id] = tasks.create_task(self._poll(http, plan_id))
            await changed.wait()

    async def _poll(self, http: PollingSession, plan_id: str) -> None:
        engine = self.engine
        router = engine.router
        polling = engine.settings.polling
        while True:
            position = router.poll_position(plan_id)
            if position is None:
                return  # unsubscribed
            generation, after = position
            started = now()
            try:
                result = await http.poll(
                    plan_id, after=after, wait=polling.wait, limit=polling.limit
                )
            except TransportFailedError as exc:
                if self._outcome.done():
                    return
                action = engine.report_failure(exc.verdict, websocket=False)
                if not await self._follow(action, http):
                    return
                continue
            if self._outcome.done():
                return
            engine.counters.polls += 1
            engine.machine.connected(now(), websocket=False)
            engine.mark_polling_up()
            router.on_poll(generation, result.response, now())
            if len(result.response.events) < polling.limit:
                await sleep_until(started + result.poll_interval)

    async def _follow(self, action: ConnectionAction, http: PollingSession) -> bool:
        """Perform what the machine said after a failed poll; False: the phase ends."""
        if isinstance(action, Stop):
            self._end(action)
            return False
        if isinstance(action, RefreshTokenThenConnect):
            try:
                http.set_token(await self.engine.token())
            except TransportFailedError as exc:
                logger.warning("token refresh failed: %s", exc)
        if isinstance(action, Connect | RefreshTokenThenConnect):
            await sleep_until(action.at)
        return True

    async def _probe(self, at: float, node: int) -> None:
        """Retry the WebSocket now and then (on the node the machine names); a
        success ends the phase."""
        engine = self.engine
        while True:
            await sleep_until(at)
            try:
                session = await engine.open_websocket(node)
            except TransportFailedError as exc:
                if self._outcome.done():
                    return
                action = engine.report_failure(exc.verdict, websocket=True)
                if isinstance(action, Stop):
                    self._end(action)
                    return
                assert isinstance(action, Connect | RefreshTokenThenConnect)
                at, node = action.at, action.node
                continue
            if not self._end(session):
                await session.close()
                return
            engine.machine.connected(now(), websocket=True)
            logger.info("the WebSocket is back; polling ends")
            return
