"""What one stream connection knows and answers (protocol §3), without the socket.

:class:`StreamSession` takes each client frame as text or bytes and answers
it: it keeps the subscriptions (cursors into the event log), the small queue
of non-event frames waiting to be sent, the rate limit and the bad-frame
count, and asks its owner to close the connection when a limit is crossed.
:class:`~planstream.server.connection.StreamConnection` moves the bytes: it
feeds received frames to :meth:`StreamSession.handle` and sends what
:meth:`StreamSession.next_texts` gives it. The session never raises out of
``handle``: whatever goes wrong while answering one frame is answered with
``error`` ``internal`` (protocol §3: "never an abrupt end").
"""

from __future__ import annotations

import json
import logging
import math
from collections import deque
from collections.abc import Callable
from datetime import datetime

from planstream.close_codes import CloseCode
from planstream.codec import decode_client_frame, encode_frame
from planstream.errors import FrameTooLargeError, InvalidFrameError
from planstream.schema.events import Head
from planstream.schema.frames import (
    ClientFrame,
    ErrorCode,
    ErrorFrame,
    PingFrame,
    PongFrame,
    RequestId,
    ResyncReason,
    SubscribedFrame,
    SubscribeFrame,
    UnsubscribedFrame,
    UnsubscribeFrame,
)
from planstream.schema.snapshot import PlanSnapshot
from planstream.server.auth import Principal
from planstream.server.authorization import PlanAction, plan_refusal
from planstream.server.event_log import EventLog, LogChange, LogUnavailableError, ResyncNeeded
from planstream.server.fanout import Fanout
from planstream.server.frame_budget import (
    BATCH_PREFIX,
    BATCH_SUFFIX,
    bounded_message,
    fitting,
    heartbeat_frames,
    readable_id,
    resync_text,
)
from planstream.server.metrics import ServerMetrics
from planstream.server.settings import ServerSettings
from planstream.server.stream_cursor import Outgoing, Subscription
from planstream.server.token_bucket import TokenBucket

__all__ = ["StreamSession"]

logger = logging.getLogger("planstream.server")

#: Tokens a refused ``subscribe`` (too_many_subscriptions) takes from the rate
#: bucket: a client hammering the limit reaches ``rate_limited`` (then 4029)
#: ten times sooner than with pings (issue 10, item 4).
SUBSCRIPTION_REFUSAL_COST = 10

CloseRequest = Callable[[int, str], None]


class StreamSession:
    """Answers the client frames of one connection and keeps its subscriptions.

    Args:
        log: the event log.
        fanout: tells the session (a change subscriber) about new events.
        settings: limits (``max_subscriptions``, ``frame_rate``, ...).
        metrics: the server's counters.
        session_id: the connection's id, for log lines.
        request_close: ``(code, reason)``: end the connection.
        wake: called when something was queued for the sender.
        clock: wall-clock time for ``ts`` fields.
        monotonic: seconds on a monotonic clock, for the rate limit and log limits.
    """

    def __init__(
        self,
        *,
        principal: Principal,
        log: EventLog,
        fanout: Fanout,
        settings: ServerSettings,
        metrics: ServerMetrics,
        session_id: str,
        request_close: CloseRequest,
        wake: Callable[[], None],
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
    ) -> None:
        self.principal = principal
        self._log = log
        self._fanout = fanout
        self._settings = settings
        self._metrics = metrics
        self.session_id = session_id
        self._request_close = request_close
        self._wake = wake
        self._clock = clock
        self._monotonic = monotonic
        self.subs: dict[str, Subscription] = {}
        self.control: deque[Outgoing] = deque()
        self.closing = False
        self._bad_in_a_row = 0
        self._limited_in_a_row = 0
        self.replayed = 0  # of the events collect_events() gave last: how many replay
        self._bucket = TokenBucket(settings.frame_rate, settings.frame_burst, monotonic())

    def __repr__(self) -> str:
        return f"StreamSession(session_id={self.session_id!r}, plans={len(self.subs)})"

    # --- answering frames ---------------------------------------------------------

    async def handle(self, raw: str | bytes) -> bool:
        """Answer one client frame; False once the connection is to be closed."""
        frame: ClientFrame | None = None
        try:
            frame = self._decode(raw)
            if frame is not None:
                await self._dispatch(frame)
                self._bad_in_a_row = 0
        except Exception as exc:  # protocol §3: the last resort, never a 1006
            try:
                self._internal_fault(raw, frame, exc)
            except Exception:  # pragma: no cover - answering the fault failed too
                self._close(CloseCode.INTERNAL_ERROR, "internal error")
        return not self.closing

    def _decode(self, raw: str | bytes) -> ClientFrame | None:
        """The frame, or None when it was answered (or the connection closed) already."""
        limit = self._settings.max_frame_bytes
        try:
            frame = decode_client_frame(raw, max_bytes=limit)
        except FrameTooLargeError:
            self._metrics.rejected_frames += 1
            self._close(CloseCode.MESSAGE_TOO_BIG, "frame too big")
            return None
        except InvalidFrameError as exc:
            if self._rate_limited(raw, None):
                return None
            self._metrics.rejected_frames += 1
            if self._count_bad():
                self._error(readable_id(raw), None, ErrorCode.BAD_REQUEST, exc.reason)
            return None
        if self._rate_limited(raw, frame):
            return None
        return frame

    async def _dispatch(self, frame: ClientFrame) -> None:
        if isinstance(frame, SubscribeFrame):
            await self._subscribe(frame)
        elif isinstance(frame, UnsubscribeFrame):
            self._unsubscribe(frame)
        else:
            self._answer_ping(frame)

    def _count_bad(self) -> bool:
        """Count a bad frame; False (and a 1008) past ``bad_frame_limit`` in a row (§3)."""
        self._bad_in_a_row += 1
        if self._bad_in_a_row > self._settings.bad_frame_limit:
            self._metrics.abuse_closes += 1
            self._close(CloseCode.POLICY_VIOLATION, "too many bad frames")
            return False
        return True

    def _rate_limited(self, raw: str | bytes, frame: ClientFrame | None) -> bool:
        """protocol §3: past the bucket, ``rate_limited``; then 4029 if the client goes on."""
        wait = self._bucket.take(self._monotonic())
        if wait == 0.0:
            self._limited_in_a_row = 0
            return False
        self._metrics.rate_limited_frames += 1
        self._limited_in_a_row += 1
        if self._limited_in_a_row > self._settings.bad_frame_limit:
            self._metrics.rate_limit_closes += 1
            retry_after = max(1.0, math.ceil(wait * 10) / 10)
            self._close(CloseCode.RATE_LIMITED, json.dumps({"retry_after": retry_after}))
            return True
        request_id = frame.id if frame is not None else readable_id(raw)
        plan_id = getattr(frame, "plan_id", None)
        self._error(
            request_id,
            plan_id,
            ErrorCode.RATE_LIMITED,
            f"more than {self._settings.frame_rate:g} frames/s; retry in {wait:.2f} s",
        )
        return True

    def _internal_fault(self, raw: str | bytes, frame: ClientFrame | None, exc: Exception) -> None:
        """The server failed on this frame: ``internal``, one log line at a bounded rate."""
        self._metrics.internal_errors += 1
        silenced = self._metrics.fault_lines.allow(self._monotonic())
        if silenced is not None:
            detail = bounded_message(repr(str(exc)), 200)
            logger.error(
                "internal error answering a client frame on %s: %s: %s (%d such lines silenced)",
                self.session_id,
                type(exc).__name__,
                detail,
                silenced,
            )
        plan_id = getattr(frame, "plan_id", None)
        if isinstance(frame, SubscribeFrame):
            self._drop_subscription(frame.plan_id)  # protocol §3: the error fails it
        if not self._count_bad():
            return
        request_id = frame.id if frame is not None else readable_id(raw)
        self._error(request_id, plan_id, ErrorCode.INTERNAL, "the server failed on this frame")

    async def _subscribe(self, frame: SubscribeFrame) -> None:
        plan_id = frame.plan_id
        refusal = plan_refusal(self.principal, PlanAction.READ, plan_id)
        if refusal is not None:
            # protocol §3: fails this subscription only; the connection stays.
            self._metrics.auth_failures += 1
            self._error(frame.id, plan_id, ErrorCode.FORBIDDEN, refusal)
            return
        if plan_id not in self.subs and len(self.subs) >= self._settings.max_subscriptions:
            # issue 10 item 4: refusals are not free, a flood of them is rate limited.
            now = self._monotonic()
            for _ in range(SUBSCRIPTION_REFUSAL_COST - 1):
                self._bucket.take(now)
            limit = self._settings.max_subscriptions
            self._error(
                frame.id,
                plan_id,
                ErrorCode.TOO_MANY_SUBSCRIPTIONS,
                f"at most {limit} per connection",
            )
            return
        position = await self._log.locate(plan_id, frame.last_event_id)
        if isinstance(position, ResyncNeeded):
            self._metrics.subscribe_answered(frame.last_event_id, position.reason)
            snapshot_head = position.snapshot.head
            cursor = snapshot_head.seq if snapshot_head else 0
        else:
            self._metrics.subscribe_answered(frame.last_event_id, None)
            cursor = position.after_seq
        # protocol §3: a second subscribe replaces the first and replays anew.
        self._drop_subscription(plan_id)
        # Listen for appends *before* reading the head: with a log whose calls
        # suspend (a networked one), an append between reading the head and
        # listening would be neither in the head nor notified, and stay unsent
        # until the plan's next append (forever, if it was the last).
        sub = Subscription(plan_id, cursor=cursor, known_head=cursor)
        self.subs[plan_id] = sub
        self._metrics.subscriptions += 1
        self._fanout.add(plan_id, self)
        head = await self._log.head(plan_id)
        sub.known_head = sub.replay_until = max(sub.known_head, head.seq if head else 0)
        if isinstance(position, ResyncNeeded):
            answer = resync_text(frame.id, position, self._settings.max_frame_bytes)
        else:
            answer = encode_frame(SubscribedFrame(id=frame.id, plan_id=plan_id, head=head))
        self._enqueue(Outgoing(answer, activates=sub))

    def _unsubscribe(self, frame: UnsubscribeFrame) -> None:
        self._drop_subscription(frame.plan_id)
        self._enqueue(Outgoing(encode_frame(UnsubscribedFrame(id=frame.id, plan_id=frame.plan_id))))

    def _drop_subscription(self, plan_id: str) -> None:
        if self.subs.pop(plan_id, None) is not None:
            self._metrics.subscriptions -= 1
            self._fanout.remove(plan_id, self)

    def drop_all(self) -> None:
        """Forget every subscription (the connection ended)."""
        for plan_id in tuple(self.subs):
            self._drop_subscription(plan_id)

    def _answer_ping(self, frame: PingFrame) -> None:
        self._enqueue(Outgoing(encode_frame(PongFrame(id=frame.id, ts=self._clock()))))

    def _error(
        self, request_id: RequestId | None, plan_id: str | None, code: str, message: str
    ) -> None:
        error = ErrorFrame(
            id=request_id, plan_id=plan_id, code=code, message=bounded_message(message)
        )
        self._enqueue(Outgoing(encode_frame(error)))

    # --- log changes (called by the fanout) --------------------------------------

    def on_log_change(self, change: LogChange) -> None:
        """A subscribed plan grew: wake the sender, or drop a consumer left behind."""
        sub = self.subs.get(change.plan_id)
        if sub is None:
            return
        if change.new_stream and sub.cursor > 0:
            self._restart(sub)
        sub.known_head = change.head_seq
        if sub.cursor + 1 < change.first_seq:
            self._slow_consumer("fell behind retention")
            return
        self._wake()

    def _restart(self, sub: Subscription) -> None:
        """The plan's stream began anew (evicted, then published to again, §7 19):
        tell the client with a ``resync`` ``stream_reset`` whose snapshot has no
        head, then send the new stream from its seq 1, instead of skipping its
        first events as already sent."""
        sub.cursor = sub.sent_seq = sub.replay_until = 0  # the new stream is live
        sub.sent_event_id = None
        self._metrics.resync_sent(ResyncReason.STREAM_RESET)
        reset = ResyncNeeded(ResyncReason.STREAM_RESET, PlanSnapshot(plan_id=sub.plan_id))
        self._enqueue(Outgoing(resync_text(None, reset, self._settings.max_frame_bytes)))

    def _slow_consumer(self, what: str) -> None:
        if not self.closing:
            self._metrics.slow_consumer_closes += 1
            logger.info("closing %s: slow consumer (%s)", self.session_id, what)
        self._close(CloseCode.SLOW_CONSUMER, f"slow consumer: {what}")

    def _close(self, code: int, reason: str) -> None:
        self.closing = True
        self._request_close(code, reason)

    # --- what to send -------------------------------------------------------------

    def _enqueue(self, item: Outgoing) -> None:
        if self.closing:
            return
        if len(self.control) >= self._settings.control_queue_size:
            # issue 10 item 4: say what happened (answers not read), not "retention".
            self._slow_consumer(
                f"{len(self.control)} answers and heartbeats unread (control_queue_size)"
            )
            return
        self.control.append(item)
        self._wake()

    def queue_heartbeat(self) -> None:
        """Queue a heartbeat, rendered with the heads current when it is sent."""
        self._enqueue(Outgoing(None))

    def render(self, item: Outgoing) -> list[str]:
        """The frames for a queued item (a heartbeat may take several, §7)."""
        if item.text is not None:
            return [item.text]
        heads = {
            plan_id: Head(seq=sub.sent_seq, event_id=sub.sent_event_id)
            if sub.sent_event_id is not None
            else None
            for plan_id, sub in self.subs.items()
        }
        return heartbeat_frames(self._clock(), heads, self._settings.max_frame_bytes)

    async def collect_events(self) -> list[str]:
        """Pull the next events of every active subscription, one frame's worth."""
        budget = self._settings.batch_max_events
        room = self._settings.max_frame_bytes - len(BATCH_PREFIX) - len(BATCH_SUFFIX)
        texts: list[str] = []
        self.replayed = 0
        for sub in tuple(self.subs.values()):
            if not sub.active or sub.cursor >= sub.known_head:
                continue
            try:
                stored = await self._log.read(sub.plan_id, sub.cursor, budget - len(texts))
            except LogUnavailableError:
                continue  # the reader's catch-up wakes us once Redis is back (issue 11)
            if self.subs.get(sub.plan_id) is not sub:
                continue  # replaced or dropped while reading
            if not stored:
                sub.known_head = sub.cursor
                continue
            if stored[0].seq != sub.cursor + 1:
                self._slow_consumer("fell behind retention")  # what it needed left the window
                return []
            # Hot path: one frame's worth of events, taken as a slice.
            size = sum([item.nbytes for item in stored]) + len(stored)
            take = len(stored)
            if size > room:
                take, size = fitting(stored, room, allow_oversized_first=not texts)
            if take == 0:
                return texts
            texts.extend([item.json for item in stored[:take]])
            room -= size
            last = stored[take - 1]
            self.replayed += max(0, min(last.seq, sub.replay_until) - sub.cursor)
            sub.cursor = sub.sent_seq = last.seq
            sub.sent_event_id = last.event_id
            if take < len(stored) or len(texts) >= budget:
                break
        return texts
