"""``WebSocketClient``: the connection, performing what the state machine decides.

:class:`WebSocketClient` is the asyncio half of
:class:`~planstream.connection_state.ConnectionStateMachine`. It opens
WebSockets (with the token from the provider on every connect), serves an
open connection with two tasks owned by one task group — the reader, and the
housekeeper (sends queued frames, runs the heartbeat dead-man timer, the
sequencer's deadlines and the RTT pings) — reports each failure's verdict to
the machine, sleeps the backoff the machine computes, and hands over to the HTTP polling phase
(:mod:`planstream.client.polling`) when the machine says so. With several
server URLs the machine names the node of every attempt; the client connects
there and, once open, re-subscribes every plan from its last event, so the
stream resumes exactly on the new node (protocol §3).

:meth:`WebSocketClient.run` never raises (except cancellation): whatever
goes wrong ends the subscriptions with a :class:`~planstream.errors.PlanStreamError`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TypeAlias

from planstream.backoff import RandomSource
from planstream.client.clock import now, sleep_until
from planstream.client.flag import Flag
from planstream.client.log_throttle import WarningThrottle
from planstream.client.polling import PollingPhase
from planstream.client.signals import FlagSignals
from planstream.client.stats import ConnectionCounters, StateChange
from planstream.close_codes import (
    Verdict,
    VerdictKind,
    classify_heartbeat_timeout,
)
from planstream.codec import decode_server_frame, event_positions
from planstream.connection_actions import (
    Connect,
    ConnectionAction,
    RefreshTokenThenConnect,
    StartPolling,
    Stop,
)
from planstream.connection_state import ConnectionState, ConnectionStateMachine
from planstream.errors import (
    AuthenticationError,
    ClientClosedError,
    ConnectionLostError,
    PlanStreamError,
    ProtocolError,
)
from planstream.router import StreamRouter
from planstream.schema.frames import HelloFrame, PingFrame, PongFrame
from planstream.schema.limits import clamp_heartbeat
from planstream.settings import ClientSettings
from planstream.transport.websocket import TransportFailedError, WebSocketSession, open_websocket

__all__ = ["TokenProvider", "WebSocketClient"]

logger = logging.getLogger("planstream.client")

#: An async callable returning a fresh bearer token; called before every connect.
TokenProvider: TypeAlias = Callable[[], Awaitable[str]]

#: Longest the housekeeper sleeps, s: the resolution of gap and silence checks.
_WATCHDOG_TICK = 0.1
#: Longest wait for the server's answer to our close frame before dropping the
#: connection, s (websockets would wait 10 s: the reconnect waits with it).
_CLOSE_TIMEOUT = 1.0
_SKIPPED = "skipped a frame the client cannot read"


class WebSocketClient:
    """Connects, serves, reconnects or polls, until closed or stopped for good."""

    __slots__ = (
        "_frames_received",
        "_on_state_change",
        "_ping",
        "_ping_ids",
        "bad_frame_warnings",
        "counters",
        "error",
        "machine",
        "router",
        "session_id",
        "settings",
        "signals",
        "state",
        "stopped",
        "token_provider",
        "up",
        "url",
    )

    def __init__(
        self,
        settings: ClientSettings,
        router: StreamRouter,
        *,
        signals: FlagSignals,
        token_provider: TokenProvider | None,
        rng: RandomSource,
        on_state_change: Callable[[StateChange], None],
    ) -> None:
        self.settings = settings
        self.router = router
        self.signals = signals
        self.token_provider = token_provider
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
        )
        self._frames_received = 0
        self._ping_ids = 0
        self._ping: tuple[str, float] | None = None  # the RTT ping awaiting its pong
        #: A flood of unreadable frames gives a few lines with counts, not one each.
        self.bad_frame_warnings = WarningThrottle(logger)

    # --- the main loop -------------------------------------------------------------

    async def run(self) -> None:
        """Run until the machine stops or the task is cancelled (the client closed)."""
        try:
            await self._run()
        except asyncio.CancelledError:
            self._finish(None, end_with=ClientClosedError("the client was closed"))
            raise
        except Exception as exc:  # a bug of ours must not kill the user's task group
            logger.exception("the planstream WebSocketClient failed")
            self._finish(PlanStreamError(f"internal error in the planstream client: {exc!r}"))

    async def _run(self) -> None:
        machine = self.machine
        action: ConnectionAction = machine.start(now())
        self.changed()
        while True:
            session: WebSocketSession | None = None
            if isinstance(action, Stop):
                self._finish(action.error)
                return
            if isinstance(action, StartPolling):
                outcome = await PollingPhase(self, action).run()
                if isinstance(outcome, Stop):
                    action = outcome
                    continue
                session = outcome
            elif isinstance(action, Connect | RefreshTokenThenConnect):
                await sleep_until(action.at)
                try:
                    session = await self.open_websocket(action.node)
                except TransportFailedError as exc:
                    action = self.report_failure(exc.verdict)
                    continue
                machine.connected(now())
            else:  # Wait / StopPolling never come out of a WebSocket failure or start
                raise AssertionError(f"unexpected action {action!r}")
            self.changed()
            verdict = await self._serve(session)
            action = self.report_failure(verdict)

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
        self.changed(verdict.error, retry_in)
        return action

    # --- connecting ----------------------------------------------------------------

    async def token(self) -> str | None:
        """The token for the next connect: from the provider, else the static one."""
        if self.token_provider is None:
            secret = self.settings.token
            return None if secret is None else secret.get_secret_value()
        try:
            return await self.token_provider()
        except Exception as exc:  # the provider is user code: translate, keep its text out
            error = AuthenticationError(f"the token provider raised {type(exc).__name__}")
            raise TransportFailedError(Verdict(VerdictKind.RETRY, error)) from None

    async def open_websocket(self, node: int) -> WebSocketSession:
        """One WebSocket attempt (protocol §2) to the URL of ``node``; raises
        TransportFailedError."""
        settings = self.settings
        url = settings.endpoints[node]
        return await open_websocket(
            url,
            token=await self.token(),
            has_token_provider=self.token_provider is not None,
            max_frame_bytes=settings.max_frame_bytes,
            # The housekeeper sends the keepalive pings itself (one task less per
            # connection than websockets' own keepalive).
            ping_interval=None,
            ping_timeout=None,
            open_timeout=settings.open_timeout,
            compression=settings.compression,
            ssl_context=settings.ssl_context(url),
        )

    # --- serving an open WebSocket ---------------------------------------------------

    async def _serve(self, session: WebSocketSession) -> Verdict:
        """Carry the stream on ``session`` until it fails; return why."""
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
        self.router.go_online()
        self.up.set()
        done: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.TaskGroup() as tasks:
                children = (
                    tasks.create_task(self._read(session, done)),
                    tasks.create_task(self._housekeep(session, self._heartbeat_s(hello), done)),
                )
                try:
                    verdict = await done
                finally:
                    for child in children:
                        child.cancel()
        finally:
            self.up.clear()
            self.router.go_offline()
            self._ping = None
            self.bad_frame_warnings.flush(_SKIPPED)
            # A live server answers the close at once; a silent one never does.
            await session.close(answer_within=_CLOSE_TIMEOUT)
        return verdict

    async def _read(self, session: WebSocketSession, done: asyncio.Future[Verdict]) -> None:
        recv = session.recv
        router = self.router
        on_frame = router.on_frame
        counters = self.counters
        clock = time.monotonic
        try:
            while True:
                raw = await recv()
                self._frames_received += 1  # the housekeeper's sign of life
                try:
                    # websockets already refused frames over max_frame_bytes (1009)
                    frame = decode_server_frame(raw)
                except ProtocolError as exc:
                    counters.frames_rejected += 1
                    self._skip(raw, exc)
                    continue
                if type(frame) is PongFrame:
                    self._on_pong(frame, clock())
                    continue
                on_frame(frame, clock())
                if router.backlogged:
                    router.backlogged = False
                    await asyncio.sleep(0)  # let the consumers drain their queues
        except TransportFailedError as exc:
            _settle(done, exc.verdict)

    def _heartbeat_s(self, hello: HelloFrame) -> float:
        """protocol §2: the server's heartbeat_s clamped into [1, 300] (and to
        ``heartbeat.max_interval``): a hello saying 1e300 must not switch the
        dead-link detector off."""
        heartbeat_s = min(clamp_heartbeat(hello.heartbeat_s), self.settings.heartbeat.max_interval)
        if heartbeat_s != hello.heartbeat_s:
            logger.warning(
                "the server's hello asked for heartbeat_s %g; the client uses %g s",
                hello.heartbeat_s,
                heartbeat_s,
            )
        return heartbeat_s

    def _skip(self, raw: str | bytes, error: ProtocolError) -> None:
        """A frame the client cannot read: warn (rate-limited), and if it seems
        to be an event of a subscribed plan, let that plan's repairs know."""
        at = now()
        self.bad_frame_warnings.warning(at, f"{_SKIPPED}: %s", error)
        reason = getattr(error, "reason", str(error))
        for plan_id, seq in event_positions(raw):
            self.router.on_invalid_event(plan_id, seq, reason, at)

    async def _housekeep(
        self, session: WebSocketSession, heartbeat_s: float, done: asyncio.Future[Verdict]
    ) -> None:
        """Send queued frames; run the dead-man timer (protocol §3), the
        sequencer's deadlines and the RTT pings. One task, to keep an idle
        connection small."""
        limit = heartbeat_s * self.settings.heartbeat.dead_after_factor
        ping_interval = self.settings.heartbeat.ping_interval
        ping_timeout = self.settings.heartbeat.ping_timeout
        keepalive: tuple[asyncio.Future[float], float] | None = None  # pong waiter, sent at
        router = self.router
        ready = self.signals.housekeeping
        next_ping = now()
        frames_seen = self._frames_received
        last_life = now()  # when the frame count last moved
        try:
            while True:
                ready.clear()
                for text in router.take_outbox():
                    await session.send(text)
                current = now()
                if self._frames_received != frames_seen:
                    frames_seen = self._frames_received
                    last_life = current
                silent_for = current - last_life
                if silent_for >= limit:
                    _settle(done, classify_heartbeat_timeout(silent_for, limit))
                    return
                router.tick(current)
                self.bad_frame_warnings.tick(current, _SKIPPED)
                pending = keepalive is not None and not keepalive[0].done()
                if keepalive is not None and pending and current - keepalive[1] >= ping_timeout:
                    _settle(done, _keepalive_timeout(ping_timeout))
                    return
                if current >= next_ping:
                    # A WebSocket ping (keepalive; not while one awaits its pong,
                    # or its timeout would restart) and a protocol ping (RTT).
                    if not pending:
                        keepalive = (await session.ping(), current)
                    self._send_ping(current)
                    next_ping = current + ping_interval
                if router.outbox:
                    continue
                wake_at = min(last_life + limit, next_ping)
                if keepalive is not None and not keepalive[0].done():
                    wake_at = min(wake_at, keepalive[1] + ping_timeout)
                deadline = router.sequencer.next_deadline()
                if deadline is not None:
                    wake_at = min(wake_at, deadline)
                with suppress(TimeoutError):
                    async with asyncio.timeout(min(max(wake_at - current, 0.001), _WATCHDOG_TICK)):
                        await ready.wait()
        except TransportFailedError as exc:
            _settle(done, exc.verdict)

    def _send_ping(self, at: float) -> None:
        self._ping_ids += 1
        request_id = f"rtt-{self._ping_ids}"
        self._ping = (request_id, at)
        self.router.send(PingFrame(id=request_id))

    def _on_pong(self, frame: PongFrame, received_at: float) -> None:
        ping = self._ping
        if ping is not None and frame.id == ping[0]:
            self.counters.last_rtt = received_at - ping[1]
            self._ping = None

    # --- state ---------------------------------------------------------------------

    def mark_polling_up(self) -> None:
        """The first poll of a polling phase was answered."""
        if not self.up.is_set():
            self.up.set()
            logger.info("polling %s over HTTP (WebSocket unavailable)", self.url)

    def changed(self, error: PlanStreamError | None = None, retry_in: float | None = None) -> None:
        """Call the state hooks if the machine moved, or a failure is reported."""
        previous, current = self.state, self.machine.state
        if previous is current and error is None:
            return
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
        self.up.clear()
        self.router.go_offline()
        self.router.end_all(end_with or error)
        if self.machine.state is not ConnectionState.CLOSED:
            self.machine.close()
        self.changed(error)
        self.stopped.set()


def _keepalive_timeout(ping_timeout: float) -> Verdict:
    error = ConnectionLostError(f"no pong to the keepalive ping within {ping_timeout:g} s")
    return Verdict(VerdictKind.RETRY, error)


def _settle(done: asyncio.Future[Verdict], verdict: Verdict) -> None:
    if not done.done():
        done.set_result(verdict)
