"""``ConnectionDriver``: the one component that feeds the connection state machine
and performs every action it returns.

:class:`ConnectionDriver` is the asyncio half of
:class:`~planstream.connection_state.ConnectionStateMachine`, and the only code
that calls its inputs (``start``, ``connected``, ``failed``, ``close``). Every
action that comes back is performed here, in one place:

* ``Connect`` / ``RefreshTokenThenConnect``: sleep until ``at``, ask the token
  provider (on every connect), open a WebSocket to the named node;
* ``Wait``: a WebSocket was opened: serve it
  (:class:`~planstream.client.websocket_connection.OpenWebSocket`: the reader,
  a watchdog timer armed for its next deadline, an outbox sender while there is
  something to send) until it fails, and report why;
* ``StartPolling``: run a :class:`~planstream.client.polling_phase.PollingPhase`:
  poll over HTTP (:mod:`planstream.client.polling`, given only what to poll and
  how to report) while probing the WebSocket; a poll's failure is reported
  here and its retry time comes back from the machine;
* ``StopPolling``: a probe's WebSocket carries the stream: polling ends, the
  WebSocket is served;
* ``Stop``: end every subscription and stop.

The first connection's deadline (``connect_timeout``, the machine's
``deadline``) is kept without a timer task: a ``Connect`` due after it sleeps
until the deadline and reports ``timed_out``; an attempt under way gets only
the time left as its ``open_timeout``; a polling phase has one task that
sleeps until the deadline (:class:`~planstream.client.polling_phase.PollingPhase`).

With several server URLs the machine names the node of every attempt; once a
WebSocket is open every plan is re-subscribed from its last event, so the
stream resumes exactly on the new node (protocol §3).

:meth:`ConnectionDriver.run` never raises (except cancellation): whatever goes
wrong ends the subscriptions with a :class:`~planstream.errors.PlanStreamError`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from planstream.backoff import RandomSource
from planstream.client.clock import now, sleep_until
from planstream.client.flag import Flag
from planstream.client.polling_phase import PollingPhase
from planstream.client.router_signals import ConnectionSignals
from planstream.client.stats import ConnectionCounters, StateChange
from planstream.client.token_source import TokenProvider, TokenSource
from planstream.client.websocket_connection import CLOSE_TIMEOUT, OpenWebSocket
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
from planstream.connection_state import ConnectionState, ConnectionStateMachine
from planstream.errors import ClientClosedError, PlanStreamError
from planstream.router import StreamRouter
from planstream.settings import ClientSettings
from planstream.transport.websocket import TransportFailedError, WebSocketSession, open_websocket

__all__ = ["ConnectionDriver"]

logger = logging.getLogger("planstream.client")

#: The shortest handshake allowed to an attempt cut short by the connect deadline, s.
_LEAST_OPEN_TIMEOUT = 0.001


class ConnectionDriver:
    """Connects, serves, reconnects or polls, until closed or stopped for good."""

    __slots__ = (
        "_on_state_change",
        "counters",
        "error",
        "machine",
        "router",
        "session_id",
        "settings",
        "signals",
        "state",
        "stopped",
        "tokens",
        "up",
        "url",
    )

    def __init__(
        self,
        settings: ClientSettings,
        router: StreamRouter,
        *,
        signals: ConnectionSignals,
        token_provider: TokenProvider | None,
        rng: RandomSource,
        on_state_change: Callable[[StateChange], None],
    ) -> None:
        self.settings = settings
        self.router = router
        self.signals = signals
        self.tokens = TokenSource(token_provider, settings.token)
        self.counters = ConnectionCounters()
        self.state = ConnectionState.CLOSED
        self.error: PlanStreamError | None = None
        self.up = Flag()  # set while a WebSocket or the polling carries the stream
        self.stopped = Flag()
        self.session_id: str | None = None
        self.url = settings.endpoints[0]  # the node of the last attempt or open connection
        self._on_state_change = on_state_change
        reconnect = settings.reconnect
        self.machine = ConnectionStateMachine(
            policy=reconnect.policy(),
            rng=rng,
            reset_after=reconnect.reset_after,
            transport=settings.transport,
            has_token_provider=token_provider is not None,
            fallback_after=settings.polling.fallback_after,
            websocket_retry_interval=settings.polling.websocket_retry_interval,
            nodes=len(settings.endpoints),
            connect_timeout=settings.connect_timeout,
            urls=settings.endpoints,
        )

    # --- the main loop: every action the machine returns is performed here ------------

    async def run(self, tasks: asyncio.TaskGroup) -> None:
        """Run until the machine stops or the task is cancelled (the client closed).

        ``tasks``: the task group this runs in; a connection's short-lived
        tasks (its outbox sender) belong to it too.

        One flat loop (no helper coroutine between it and the reader: every
        coroutine frame an idle connection awaits through costs ~250 bytes).
        """
        machine = self.machine
        try:
            action: ConnectionAction = machine.start(now())
            session: WebSocketSession | None = None
            self.changed()
            while True:
                if isinstance(action, Stop):
                    self._finish(action.error)
                    return
                if isinstance(action, StartPolling):
                    self.changed()
                    outcome = await self._poll(action)
                    if isinstance(outcome, Stop):
                        action = outcome
                    else:
                        session, action = outcome
                    continue
                if isinstance(action, Connect | RefreshTokenThenConnect):
                    # A poll's retry is performed by the polling phase, never here.
                    assert action.websocket, action
                    deadline = machine.deadline  # the first connection's, if pending
                    if deadline is not None and action.at >= deadline:
                        await sleep_until(deadline)
                        action = self.timed_out(deadline)
                        continue
                    await sleep_until(action.at)
                    try:
                        session = await self.open_websocket(action.node, deadline)
                    except TransportFailedError as exc:
                        if deadline is not None and now() >= deadline:
                            # Cut short by the deadline: its timeout would hide
                            # the last real failure (a 404, a refusal) from the error.
                            action = self.timed_out(deadline)
                        else:
                            action = self.report_failure(exc.verdict)
                        continue
                    action = machine.connected(now())
                    continue
                # Wait (a WebSocket opened) or StopPolling (a probe opened one): serve it.
                assert isinstance(action, Wait | StopPolling), action
                assert session is not None
                self.changed()
                connection = self._opened(session, tasks)
                try:
                    verdict = await connection.serve()
                finally:
                    self.up.clear()
                    # A live server answers the close at once; a silent one never does.
                    await session.close(answer_within=CLOSE_TIMEOUT)
                session = None
                action = self.report_failure(verdict)
        except asyncio.CancelledError:
            self._finish(None, end_with=ClientClosedError("the client was closed"))
            raise
        except Exception as exc:  # a bug of ours must not kill the user's task group
            logger.exception("the planstream connection driver failed")
            self._finish(PlanStreamError(f"internal error in the planstream client: {exc!r}"))

    def report_failure(self, verdict: Verdict, *, websocket: bool = True) -> ConnectionAction:
        """Tell the machine about a failure; log it and call the state hooks."""
        failed_at = now()
        action = self.machine.failed(verdict, failed_at, websocket=websocket)
        retry_in = None
        retry = ""
        if isinstance(action, Connect | RefreshTokenThenConnect):
            retry_in = max(action.at - failed_at, 0.0)  # exactly the computed delay
            retry = f"; retrying in {retry_in:.2f} s"
            endpoints = self.settings.endpoints
            if len(endpoints) > 1:
                retry += f" on {endpoints[action.node]}"  # the node the machine chose
        level = logging.ERROR if isinstance(action, Stop) else logging.WARNING
        logger.log(
            level,
            "%s failed: %s%s",
            "WebSocket" if websocket else "poll",
            verdict.error,
            retry,
        )
        # A stop reports why the client gives up (RetriesExhaustedError wraps the
        # last failure): the move to closed is the last change, never repeated.
        stopped_by = action.error if isinstance(action, Stop) else None
        self.changed(stopped_by or verdict.error, retry_in)
        return action

    # --- connecting ----------------------------------------------------------------

    async def open_websocket(self, node: int, deadline: float | None = None) -> WebSocketSession:
        """One WebSocket attempt (protocol §2) to the URL of ``node``; raises
        TransportFailedError. ``deadline``: the first connection's; the
        attempt gives up by then (a shorter ``open_timeout``)."""
        settings = self.settings
        url = settings.endpoints[node]
        open_timeout = settings.open_timeout
        if deadline is not None:
            open_timeout = max(min(open_timeout, deadline - now()), _LEAST_OPEN_TIMEOUT)
        return await open_websocket(
            url,
            token=await self.tokens.token(),
            has_token_provider=self.tokens.provider is not None,
            max_frame_bytes=settings.max_frame_bytes,
            # The watchdog sends the keepalive pings itself (one task less per
            # connection than websockets' own keepalive).
            ping_interval=None,
            ping_timeout=None,
            open_timeout=open_timeout,
            compression=settings.compression,
            ssl_context=settings.ssl_context(url),
            debug_frames=settings.debug_frames,
        )

    # --- serving an open WebSocket ---------------------------------------------------

    def _opened(self, session: WebSocketSession, tasks: asyncio.TaskGroup) -> OpenWebSocket:
        """A WebSocket carries the stream: note it, and make what serves it."""
        hello = session.hello
        self.session_id = hello.session_id
        self.url = self.settings.endpoints[self.machine.node]  # the node that answered
        self.counters.connects += 1
        logger.info(
            "connected to %s (server %s, session %s)",
            self.url,
            hello.server,
            hello.session_id,
        )
        self.up.set()
        return OpenWebSocket(
            session, self.router, self.signals, self.settings.heartbeat, self.counters, tasks
        )

    # --- polling (protocol §6) -------------------------------------------------------

    async def _poll(self, start: StartPolling) -> tuple[WebSocketSession, StopPolling] | Stop:
        """Perform ``StartPolling``: poll every plan until the machine says
        ``StopPolling`` (a probe's WebSocket, returned) or ``Stop``."""
        await sleep_until(start.at)
        # The polling stays on the node the machine named; the probes go round.
        self.url = self.settings.endpoints[start.node]
        outcome = await PollingPhase(self, start).run()
        self.up.clear()
        return outcome

    def timed_out(self, deadline: float) -> Stop:
        """The first connection's deadline passed: the machine stops; say why."""
        action = self.machine.timed_out(max(now(), deadline))
        assert isinstance(action, Stop), action
        logger.error("%s", action.error)
        self.changed(action.error)
        return action

    # --- state ---------------------------------------------------------------------

    def changed(self, error: PlanStreamError | None = None, retry_in: float | None = None) -> None:
        """Call the state hooks if the machine moved, or a failure is reported."""
        previous, current = self.state, self.machine.state
        if previous is current and (error is None or current is ConnectionState.CLOSED):
            return  # nothing moved (a stop's failure was reported as it moved to closed)
        self.state = current
        self._on_state_change(StateChange(previous, current, error, retry_in))

    def _finish(
        self, error: PlanStreamError | None, *, end_with: PlanStreamError | None = None
    ) -> None:
        """Stop for good: ``error`` is why (None: closed by the user); the
        subscriptions end with ``end_with`` or else ``error``."""
        if self.stopped.is_set():
            return
        self.error = error
        self.tokens.flush()
        self.up.clear()
        self.router.go_offline()
        self.router.end_all(end_with or error)
        if self.machine.state is not ConnectionState.CLOSED:
            self.machine.close()
        self.changed(error)
        self.stopped.set()
