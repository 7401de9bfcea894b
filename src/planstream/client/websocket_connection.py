"""Serving one open WebSocket: the reader, the watchdog, the outbox sender.

:class:`OpenWebSocket` carries the stream on one connection until it fails and
returns why (a :class:`~planstream.close_codes.Verdict` for the
:class:`~planstream.client.connection_driver.ConnectionDriver`). An idle
connection holds as little as it can and wakes only for its timers:

* the **reader** is :meth:`OpenWebSocket.serve` itself, run by the driver's
  task: it feeds each frame to the router and notes when the last one arrived;
* the **watchdog** is one timer, armed for the next real deadline - the
  dead-man timer from the last received frame (protocol §3), the keepalive
  ping and its pong timeout, the RTT ping, the sequencer's next deadline, the
  flush of the bad-frame warnings. It acts on what is due and re-arms itself;
  whoever may have made a deadline earlier re-arms it at once
  (:meth:`~planstream.router.RouterSignals.deadline_changed`,
  a pong, a bad frame). A timer, not
  a task: nothing to await costs nothing to keep;
* the **outbox sender** is a task that exists only while there is something
  to send (the router's outbox, or the keepalive ping the watchdog asked
  for): ``RouterSignals.outbox_ready`` starts it, it ends when nothing is
  left. It belongs to the connection's task group (the client's), and the
  connection cancels it when it ends, like the watchdog's timer.

A failure found by the watchdog or the sender closes the connection (code
1000; a peer that does not answer is dropped after :data:`CLOSE_TIMEOUT`); the
reader's ``recv`` then ends and the first failure recorded is the verdict.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

from planstream.client.clock import now
from planstream.client.log_throttle import WarningThrottle
from planstream.client.router_signals import ConnectionSignals
from planstream.client.stats import ConnectionCounters
from planstream.close_codes import Verdict, VerdictKind, classify_heartbeat_timeout
from planstream.codec import decode_server_frame, event_positions
from planstream.errors import ConnectionLostError, PlanStreamError, ProtocolError
from planstream.redaction import without_token
from planstream.router import StreamRouter
from planstream.schema.frames import ErrorFrame, PingFrame, PongFrame
from planstream.schema.limits import clamp_heartbeat
from planstream.settings import HeartbeatSettings
from planstream.transport.websocket import TransportFailedError, WebSocketSession

__all__ = ["OpenWebSocket"]

logger = logging.getLogger("planstream.client")

#: Longest wait for the server's answer to our close frame before dropping the
#: connection, s (websockets would wait 10 s: the reconnect waits with it).
CLOSE_TIMEOUT: Final = 1.0
#: A timer fires this long after its deadline, s, so that the deadline has
#: passed when it runs (the loop may run a timer a clock tick early).
_SLACK: Final = 0.001
_SKIPPED: Final = "skipped a frame the client cannot read"


class OpenWebSocket:
    """Carries the stream on one open WebSocket until it fails."""

    __slots__ = (
        "_checking",
        "_closer",
        "_failure",
        "_keepalive",
        "_keepalive_due",
        "_keepalive_sent",
        "_limit",
        "_next_ping",
        "_ping",
        "_sender",
        "_tasks",
        "_timer",
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
        signals: ConnectionSignals,
        heartbeat: HeartbeatSettings,
        counters: ConnectionCounters,
        tasks: asyncio.TaskGroup,
    ) -> None:
        self.session = session
        self.router = router
        self.signals = signals
        self.heartbeat = heartbeat
        self.counters = counters
        self.last_frame_at = now()  # the dead-man timer runs from here (protocol §3)
        self.warnings: WarningThrottle | None = None  # made at the first bad frame
        self._limit = _dead_after(session, heartbeat)
        self._failure: Verdict | None = None  # found by the watchdog or the sender
        self._ping: tuple[str, float] | None = None  # the RTT ping awaiting its pong
        self._next_ping = self.last_frame_at  # the first pings at once
        self._keepalive: asyncio.Future[float] | None = None  # the pong waiter
        self._keepalive_sent = 0.0
        self._keepalive_due = False  # the watchdog asked the sender for a ping
        self._timer: asyncio.TimerHandle | None = None  # the watchdog's next wake-up
        self._checking = False
        self._sender: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None  # closing after a failure
        self._tasks: asyncio.TaskGroup | None = tasks  # None once the connection ends

    async def serve(self) -> Verdict:
        """Re-subscribe every plan, read until the connection fails; return why.

        The reader is this coroutine itself (run by the driver's task): an idle
        connection awaits through as few coroutine frames as possible.
        """
        router = self.router
        session = self.session
        recv = session.receiver  # awaited directly: no wrapper frame per message
        on_frame = router.on_frame
        clock = time.monotonic
        secrets = session.secrets  # the token's forms, kept out of server texts
        self.signals.listen(self)
        try:
            router.go_online()  # queues the subscribes: starts the sender
            self._check()  # arms the watchdog
            with session.receiving():  # the connection's end, translated once
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
                    if type(frame) is PongFrame:
                        self._on_pong(frame, received_at)
                        continue
                    if type(frame) is ErrorFrame and secrets:
                        # A server echoing the token must not get it into an exception.
                        message = without_token(frame.message, secrets)
                        frame = frame.model_copy(update={"message": message})
                    on_frame(frame, received_at)  # the router signals new deadlines itself
                    if router.backlogged:
                        router.backlogged = False
                        await asyncio.sleep(0)  # let the consumers drain their queues
        except TransportFailedError as exc:
            verdict = exc.verdict
        finally:
            self._tasks = None  # no sender starts, the watchdog does not re-arm
            self.signals.listen(None)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            sender = self._sender
            if sender is not None:
                sender.cancel()
                await asyncio.wait((sender,))
            if self._closer is not None:
                await asyncio.wait((self._closer,))  # bounded by CLOSE_TIMEOUT
            router.go_offline()
            if self.warnings is not None:
                self.warnings.flush(_SKIPPED)
        return self._failure or verdict

    def _fail(self, verdict: Verdict) -> None:
        """Record the first failure and close the connection: the reader ends."""
        if self._failure is not None:
            return
        self._failure = verdict
        tasks = self._tasks
        try:
            if tasks is not None:
                # A close frame first (1000): a live peer answers at once, a
                # silent one is dropped after CLOSE_TIMEOUT.
                self._closer = tasks.create_task(self.session.close(answer_within=CLOSE_TIMEOUT))
                return
        except RuntimeError:  # the client's task group is closing
            pass
        self.session.abort()

    def _skip(self, raw: str | bytes, error: ProtocolError) -> None:
        """A frame the client cannot read: warn (rate-limited), and if it seems
        to be an event of a subscribed plan, let that plan's repairs know."""
        at = now()
        warnings = self.warnings
        if warnings is None:
            warnings = self.warnings = WarningThrottle(logger)
        warnings.warning(at, f"{_SKIPPED}: %s", without_token(str(error), self.session.secrets))
        reason = getattr(error, "reason", str(error))
        for plan_id, seq in event_positions(raw):
            self.router.on_invalid_event(plan_id, seq, reason, at)
        self.wake()  # a repair deadline, a suppressed line to report later

    def _on_pong(self, frame: PongFrame, received_at: float) -> None:
        ping = self._ping
        if ping is not None and frame.id == ping[0]:
            self.counters.last_rtt = received_at - ping[1]
            self._ping = None

    # --- the outbox sender -----------------------------------------------------------

    def outbox_ready(self) -> None:
        """Start the sender unless it runs (it sends until nothing is left)."""
        tasks = self._tasks
        if self._sender is None and tasks is not None:
            try:
                self._sender = tasks.create_task(self._send())
            except RuntimeError:  # the client's task group is closing: so is the connection
                self._tasks = None

    async def _send(self) -> None:
        router = self.router
        session = self.session
        try:
            while self._keepalive_due or router.outbox:
                if self._keepalive_due:
                    self._keepalive_due = False
                    keepalive = self._keepalive = await session.ping()
                    keepalive.add_done_callback(self._pong_received)
                for text in router.take_outbox():
                    await session.send(text)
        except TransportFailedError as exc:
            self._fail(exc.verdict)
        except Exception as exc:  # a bug of ours: the connection ends, the client reports it
            logger.exception("the planstream outbox sender failed")
            self._fail(_internal_error(exc))
        finally:
            self._sender = None

    # --- the watchdog ----------------------------------------------------------------

    def wake(self) -> None:
        """A deadline may have moved earlier: act and re-arm the watchdog now."""
        if not self._checking:
            self._check()

    def _check(self) -> None:
        """The watchdog: act on the deadlines that are due, re-arm for the next."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._tasks is None or self._failure is not None:
            return  # the connection ended or is ending
        self._checking = True
        try:
            wake_at = self._due(now())
        except Exception as exc:  # a bug of ours must not leave the connection unwatched
            logger.exception("the planstream connection watchdog failed")
            self._fail(_internal_error(exc))
            return
        finally:
            self._checking = False
        if wake_at is not None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_at(loop.time() + wake_at - now() + _SLACK, self._check)

    def _due(self, current: float) -> float | None:
        """Act on what is due at ``current``; the next deadline (None: failed)."""
        heartbeat, limit = self.heartbeat, self._limit
        silent_for = current - self.last_frame_at
        if silent_for >= limit:
            self._fail(classify_heartbeat_timeout(silent_for, limit))
            return None
        keepalive = self._keepalive
        # A ping asked of the sender counts as sent: its pong is awaited from then.
        pending = self._keepalive_due or (keepalive is not None and not keepalive.done())
        if pending and current - self._keepalive_sent >= heartbeat.ping_timeout:
            self._fail(_keepalive_timeout(heartbeat.ping_timeout))
            return None
        if current >= self._next_ping:
            # A WebSocket ping (keepalive; not while one awaits its pong, or its
            # timeout would restart) and a protocol ping (RTT), both sent by the sender.
            if not pending:
                self._keepalive_due, self._keepalive_sent = True, current
                pending = True
            self._send_ping(current)
            self._next_ping = current + heartbeat.ping_interval
            self.outbox_ready()
        router = self.router
        deadline = router.sequencer.next_deadline()
        if deadline is not None and deadline <= current:
            router.tick(current)
            deadline = router.sequencer.next_deadline()
        wake_at = min(self.last_frame_at + limit, self._next_ping)
        if pending:
            wake_at = min(wake_at, self._keepalive_sent + heartbeat.ping_timeout)
        if deadline is not None:
            wake_at = min(wake_at, deadline)
        warnings = self.warnings
        if warnings is not None:
            warnings.tick(current, _SKIPPED)
            report_at = warnings.next_report()
            if report_at is not None:
                wake_at = min(wake_at, report_at)
        return wake_at

    def _pong_received(self, pong: asyncio.Future[float]) -> None:
        if not pong.cancelled():
            pong.exception()  # retrieved: a ping dropped with the connection is no error
        if self._keepalive is pong:
            self._keepalive = None  # an idle connection keeps no spent future
        self.wake()  # its timeout is no deadline any more

    def _send_ping(self, at: float) -> None:
        self.counters.pings += 1
        request_id = f"rtt-{self.counters.pings}"
        self._ping = (request_id, at)
        self.router.send(PingFrame(id=request_id))


def _dead_after(session: WebSocketSession, heartbeat: HeartbeatSettings) -> float:
    """protocol §2-3: the silence after which the connection is dead: the
    hello's heartbeat_s clamped into [1, 300] (and to ``max_interval``: a hello
    saying 1e300 must not switch the detector off) x ``dead_after_factor``."""
    hello_s = session.hello.heartbeat_s
    heartbeat_s = min(clamp_heartbeat(hello_s), heartbeat.max_interval)
    if heartbeat_s != hello_s:
        logger.warning(
            "the server's hello asked for heartbeat_s %g; the client uses %g s",
            hello_s,
            heartbeat_s,
        )
    return heartbeat_s * heartbeat.dead_after_factor


def _keepalive_timeout(ping_timeout: float) -> Verdict:
    error = ConnectionLostError(f"no pong to the keepalive ping within {ping_timeout:g} s")
    return Verdict(VerdictKind.RETRY, error)


def _internal_error(exc: Exception) -> Verdict:
    error = PlanStreamError(f"internal error in the planstream client: {exc!r}")
    return Verdict(VerdictKind.FATAL, error)
