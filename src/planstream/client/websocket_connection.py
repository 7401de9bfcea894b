"""Serving one open WebSocket: the reader, the watchdog, the outbox sender.

:class:`OpenWebSocket` carries the stream on one connection until it fails and
returns why (a :class:`~planstream.close_codes.Verdict` for the
:class:`~planstream.client.connection_driver.ConnectionDriver`). An idle
connection holds as little as it can and wakes only for its timers:

* the **reader** runs in the driver's own task: it feeds each frame to the
  router and notes when the last one arrived;
* the **watchdog** sleeps until its next real deadline - the dead-man timer
  from the last received frame (protocol §3), the keepalive ping and its pong
  timeout, the RTT ping, the sequencer's next deadline, the flush of the
  bad-frame warnings - and is woken early when a deadline may have moved
  earlier (:meth:`RouterSignals.deadline_changed`, a pong);
* the **outbox sender** exists only while the router has frames to send
  (:meth:`RouterSignals.outbox_ready` starts it; it ends when the outbox is
  empty). It and the watchdog belong to the connection's task group.

A failure found by the watchdog or the sender aborts the connection; the
reader's ``recv`` then ends and the first failure recorded is the verdict.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

from planstream.client.clock import now
from planstream.client.flag import Flag
from planstream.client.log_throttle import WarningThrottle
from planstream.client.router import StreamRouter
from planstream.client.stats import ConnectionCounters
from planstream.close_codes import Verdict, VerdictKind, classify_heartbeat_timeout
from planstream.codec import decode_server_frame, event_positions
from planstream.errors import ConnectionLostError, ProtocolError
from planstream.schema.events import EventBase
from planstream.schema.frames import BatchFrame, PingFrame, PongFrame
from planstream.schema.limits import clamp_heartbeat
from planstream.settings import HeartbeatSettings
from planstream.transport.websocket import TransportFailedError, WebSocketSession

__all__ = ["OpenWebSocket", "RouterSignals"]

logger = logging.getLogger("planstream.client")

#: A timer wakes this long after its deadline, s, so that the deadline has
#: passed on waking (the loop may run a timer a clock tick early).
_SLACK: Final = 0.001
_SKIPPED: Final = "skipped a frame the client cannot read"


class RouterSignals:
    """What the router tells the connection; one small object, injected.

    * :meth:`outbox_ready`: frames wait in the outbox (starts the sender);
    * :meth:`channels_changed`: the subscribed plans changed (the pollers watch
      :attr:`channels`);
    * :meth:`deadline_changed`: the sequencer may have an earlier deadline
      (the watchdog recomputes its wake-up time).
    """

    __slots__ = ("_deadline", "_outbox", "channels")

    def __init__(self) -> None:
        self.channels = Flag()
        self._outbox: OpenWebSocket | None = None
        self._deadline: OpenWebSocket | None = None

    def outbox_ready(self) -> None:
        """Frames wait in the router's outbox."""
        if self._outbox is not None:
            self._outbox.outbox_ready()

    def channels_changed(self) -> None:
        """A plan was subscribed or left."""
        self.channels.set()

    def deadline_changed(self) -> None:
        """The sequencer's next deadline may be earlier than it was."""
        if self._deadline is not None:
            self._deadline.wake()

    def listen(self, connection: OpenWebSocket | None) -> None:
        """Send the outbox and deadline signals to ``connection`` (None: nobody)."""
        self._outbox = self._deadline = connection


class OpenWebSocket:
    """Carries the stream on one open WebSocket until it fails."""

    __slots__ = (
        "_alarm",
        "_failure",
        "_ping",
        "_sender",
        "_tasks",
        "counters",
        "heartbeat",
        "last_frame_at",
        "router",
        "session",
        "signals",
        "warnings",
    )

    def __init__(
        self,
        session: WebSocketSession,
        router: StreamRouter,
        signals: RouterSignals,
        heartbeat: HeartbeatSettings,
        counters: ConnectionCounters,
    ) -> None:
        self.session = session
        self.router = router
        self.signals = signals
        self.heartbeat = heartbeat
        self.counters = counters
        self.last_frame_at = now()  # the dead-man timer runs from here (protocol §3)
        self.warnings: WarningThrottle | None = None  # made at the first bad frame
        self._failure: Verdict | None = None  # found by the watchdog or the sender
        self._ping: tuple[str, float] | None = None  # the RTT ping awaiting its pong
        self._alarm: asyncio.Future[None] | None = None  # the watchdog's sleep
        self._sender: asyncio.Task[None] | None = None
        self._tasks: asyncio.TaskGroup | None = None

    async def serve(self) -> Verdict:
        """Re-subscribe every plan, read until the connection fails; return why."""
        router = self.router
        try:
            async with asyncio.TaskGroup() as tasks:
                self._tasks = tasks
                self.signals.listen(self)
                router.go_online()  # queues the subscribes: starts the sender
                watchdog = tasks.create_task(self._watch(self._limit()))
                try:
                    verdict = await self._read()
                finally:
                    self._tasks = None  # no sender starts once the group closes
                    watchdog.cancel()
                    if self._sender is not None:
                        self._sender.cancel()
        finally:
            self.signals.listen(None)
            router.go_offline()
            if self.warnings is not None:
                self.warnings.flush(_SKIPPED)
        return self._failure or verdict

    def _limit(self) -> float:
        """protocol §2-3: the silence after which the connection is dead: the
        hello's heartbeat_s clamped into [1, 300] (and to ``max_interval``: a
        hello saying 1e300 must not switch the detector off) x dead_after_factor."""
        hello_s = self.session.hello.heartbeat_s
        heartbeat_s = min(clamp_heartbeat(hello_s), self.heartbeat.max_interval)
        if heartbeat_s != hello_s:
            logger.warning(
                "the server's hello asked for heartbeat_s %g; the client uses %g s",
                hello_s,
                heartbeat_s,
            )
        return heartbeat_s * self.heartbeat.dead_after_factor

    def _fail(self, verdict: Verdict) -> None:
        """Record the first failure and drop the connection: the reader ends."""
        if self._failure is None:
            self._failure = verdict
        self.session.abort()

    # --- the reader ------------------------------------------------------------------

    async def _read(self) -> Verdict:
        recv = self.session.recv
        router = self.router
        on_frame = router.on_frame
        stats = router.sequencer.stats
        deadline_changed = self.signals.deadline_changed
        clock = time.monotonic
        try:
            while True:
                raw = await recv()
                self.last_frame_at = received_at = clock()  # the watchdog's sign of life
                try:
                    # websockets already refused frames over max_frame_bytes (1009)
                    frame = decode_server_frame(raw)
                except ProtocolError as exc:
                    self.counters.frames_rejected += 1
                    self._skip(raw, exc)
                    continue
                if isinstance(frame, PongFrame):
                    self._on_pong(frame, received_at)
                    continue
                delivered = stats.delivered
                on_frame(frame)
                # Until the router signals deadline_changed itself: anything but
                # the in-order path may have given the sequencer a new deadline.
                if isinstance(frame, EventBase):
                    if stats.delivered - delivered != 1:
                        deadline_changed()
                elif not isinstance(frame, BatchFrame) or (
                    stats.delivered - delivered != len(frame.events)
                ):
                    deadline_changed()
                if router.backlogged:
                    router.backlogged = False
                    await asyncio.sleep(0)  # let the consumers drain their queues
        except TransportFailedError as exc:
            return exc.verdict

    def _skip(self, raw: str | bytes, error: ProtocolError) -> None:
        """A frame the client cannot read: warn (rate-limited), and if it seems
        to be an event of a subscribed plan, let that plan's repairs know."""
        at = now()
        warnings = self.warnings
        if warnings is None:
            warnings = self.warnings = WarningThrottle(logger)
        warnings.warning(at, f"{_SKIPPED}: %s", error)
        reason = getattr(error, "reason", str(error))
        for plan_id, seq in event_positions(raw):
            self.router.on_invalid_event(plan_id, seq, reason, at)
        self.wake()  # a new repair deadline, a suppressed line to report later

    def _on_pong(self, frame: PongFrame, received_at: float) -> None:
        ping = self._ping
        if ping is not None and frame.id == ping[0]:
            self.counters.last_rtt = received_at - ping[1]
            self._ping = None

    # --- the outbox sender -----------------------------------------------------------

    def outbox_ready(self) -> None:
        """Start the sender unless it runs (it sends until the outbox is empty)."""
        if self._sender is None and self._tasks is not None:
            self._sender = self._tasks.create_task(self._send_outbox())

    async def _send_outbox(self) -> None:
        router = self.router
        send = self.session.send
        try:
            while router.outbox:
                for text in router.take_outbox():
                    await send(text)
        except TransportFailedError as exc:
            self._fail(exc.verdict)
        finally:
            self._sender = None

    # --- the watchdog ----------------------------------------------------------------

    def wake(self) -> None:
        """Make the watchdog recompute its next deadline now."""
        alarm = self._alarm
        if alarm is not None and not alarm.done():
            alarm.set_result(None)

    async def _watch(self, limit: float) -> None:
        """Sleep until the next deadline; act on those that are due."""
        heartbeat = self.heartbeat
        ping_interval, ping_timeout = heartbeat.ping_interval, heartbeat.ping_timeout
        router = self.router
        sequencer = router.sequencer
        session = self.session
        keepalive: asyncio.Future[float] | None = None  # the pong waiter
        keepalive_sent = 0.0
        next_ping = now()  # the first RTT ping at once
        try:
            while True:
                current = now()
                silent_for = current - self.last_frame_at
                if silent_for >= limit:
                    self._fail(classify_heartbeat_timeout(silent_for, limit))
                    return
                pending = keepalive is not None and not keepalive.done()
                if pending and current - keepalive_sent >= ping_timeout:
                    self._fail(_keepalive_timeout(ping_timeout))
                    return
                if current >= next_ping:
                    # A WebSocket ping (keepalive; not while one awaits its pong,
                    # or its timeout would restart) and a protocol ping (RTT).
                    if not pending:
                        keepalive, keepalive_sent, pending = await session.ping(), current, True
                        keepalive.add_done_callback(self._pong_received)
                    self._send_ping(current)
                    next_ping = current + ping_interval
                deadline = sequencer.next_deadline()
                if deadline is not None and deadline <= current:
                    router.tick(current)
                    deadline = sequencer.next_deadline()
                wake_at = min(self.last_frame_at + limit, next_ping)
                if pending:
                    wake_at = min(wake_at, keepalive_sent + ping_timeout)
                if deadline is not None:
                    wake_at = min(wake_at, deadline)
                warnings = self.warnings
                if warnings is not None:
                    warnings.tick(current, _SKIPPED)
                    flush_at = warnings.next_report()
                    if flush_at is not None:
                        wake_at = min(wake_at, flush_at)
                await self._sleep_until(wake_at)
        except TransportFailedError as exc:
            self._fail(exc.verdict)

    def _pong_received(self, pong: asyncio.Future[float]) -> None:
        if not pong.cancelled():
            pong.exception()  # retrieved: a ping dropped with the connection is no error
        self.wake()  # its timeout is no deadline any more

    async def _sleep_until(self, at: float) -> None:
        """Sleep until ``at`` (plus the slack), or until :meth:`wake`."""
        loop = asyncio.get_running_loop()
        alarm = self._alarm = loop.create_future()
        timer = loop.call_later(max(at - now(), 0.0) + _SLACK, _ring, alarm)
        try:
            await alarm
        finally:
            timer.cancel()
            self._alarm = None

    def _send_ping(self, at: float) -> None:
        self.counters.pings += 1
        request_id = f"rtt-{self.counters.pings}"
        self._ping = (request_id, at)
        self.router.send(PingFrame(id=request_id))


def _ring(alarm: asyncio.Future[None]) -> None:
    if not alarm.done():
        alarm.set_result(None)


def _keepalive_timeout(ping_timeout: float) -> Verdict:
    error = ConnectionLostError(f"no pong to the keepalive ping within {ping_timeout:g} s")
    return Verdict(VerdictKind.RETRY, error)
