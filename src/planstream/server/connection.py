"""One connection of the stream endpoint (protocol §3), after the handshake.

Three tasks share one task group: *receive* decodes client frames and
answers them, *send* is the only writer to the socket, *heartbeat* asks for a
heartbeat every ``heartbeat_s``. Events are never queued per connection: each
subscription is a cursor into the event log, and the sender pulls what is
newer, so replay and live delivery are one code path (no hand-over race) and
a slow client costs no memory. A client whose cursor falls out of the
retention window is closed with 4008; non-event frames wait in a small
bounded queue, in order with the events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.websockets import WebSocket, WebSocketDisconnect

from planstream.close_codes import CloseCode
from planstream.codec import decode_client_frame, encode_frame
from planstream.errors import FrameTooLargeError, InvalidFrameError
from planstream.schema.events import Head
from planstream.schema.frames import (
    ErrorCode,
    ErrorFrame,
    HeartbeatFrame,
    HelloFrame,
    PingFrame,
    PongFrame,
    RequestId,
    ResyncFrame,
    SubscribedFrame,
    SubscribeFrame,
    UnsubscribedFrame,
    UnsubscribeFrame,
)
from planstream.server.event_log import EventLog, LogChange, ResyncNeeded, StoredEvent
from planstream.server.fanout import Fanout
from planstream.server.metrics import ServerMetrics
from planstream.server.settings import ServerSettings

__all__ = ["StreamConnection"]

logger = logging.getLogger("planstream.server")

_BATCH_PREFIX = '{"type":"batch","events":['
_BATCH_SUFFIX = "]}"


@dataclass(slots=True, eq=False)
class _Subscription:
    plan_id: str
    cursor: int  # seq of the last event sent; the replay starts after it
    known_head: int  # newest seq the log is known to have
    active: bool = False  # set once its `subscribed`/`resync` frame is sent
    sent_seq: int = 0
    sent_event_id: str | None = None


@dataclass(slots=True)
class _Outgoing:
    text: str | None  # None: a heartbeat, rendered when it is sent
    activates: _Subscription | None = None


class _StopConnection(Exception):  # noqa: N818 - a signal, not an error
    """Raised in the task-group body to cancel the connection's tasks."""


class StreamConnection:
    """Serves one accepted WebSocket until either side closes it."""

    def __init__(
        self,
        websocket: WebSocket,
        *,
        log: EventLog,
        fanout: Fanout,
        settings: ServerSettings,
        metrics: ServerMetrics,
        session_id: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ws = websocket
        self._log = log
        self._fanout = fanout
        self._settings = settings
        self._metrics = metrics
        self.session_id = session_id
        self._clock = clock
        self._subs: dict[str, _Subscription] = {}
        self._control: deque[_Outgoing] = deque()
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._close_code: int | None = None
        self._close_reason = ""
        self._peer_gone = False
        self._bad_in_a_row = 0

    def __repr__(self) -> str:
        return f"StreamConnection(session_id={self.session_id!r}, plans={len(self._subs)})"

    # --- lifecycle --------------------------------------------------------------

    async def run(self) -> None:
        """Send ``hello``, then serve until closed; always cleans up."""
        self._metrics.connections += 1
        self._metrics.connections_total += 1
        try:
            await self._send(self._hello())
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._receive_loop())
                tasks.create_task(self._send_loop())
                tasks.create_task(self._heartbeat_loop())
                await self._closing.wait()
                raise _StopConnection
        except* _StopConnection:
            pass
        except* (WebSocketDisconnect, OSError):
            self._peer_gone = True
        finally:
            for plan_id in self._subs:
                self._fanout.remove(plan_id, self)
            self._metrics.subscriptions -= len(self._subs)
            self._subs.clear()
            self._metrics.connections -= 1
        await self._close_socket()

    def request_close(self, code: int | None, reason: str = "") -> None:
        """Ask the connection to end; ``code=None`` when the peer is already gone."""
        if self._closing.is_set():
            return
        if code is None:
            self._peer_gone = True
        self._close_code = code
        self._close_reason = reason
        self._closing.set()

    async def _close_socket(self) -> None:
        if self._peer_gone or self._close_code is None:
            return
        # Bounded: a client that stopped reading cannot take the close frame.
        with contextlib.suppress(TimeoutError, OSError, RuntimeError, WebSocketDisconnect):
            async with asyncio.timeout(self._settings.close_timeout):
                await self._ws.close(self._close_code, self._close_reason)

    # --- log changes (called by the fanout) --------------------------------------

    def on_log_change(self, change: LogChange) -> None:
        """A subscribed plan grew: wake the sender, or drop a consumer left behind."""
        sub = self._subs.get(change.plan_id)
        if sub is None:
            return
        sub.known_head = change.head_seq
        if sub.cursor + 1 < change.first_seq:
            self._slow_consumer()
            return
        self._wake.set()

    def _slow_consumer(self) -> None:
        if not self._closing.is_set():
            self._metrics.slow_consumer_closes += 1
            logger.info("closing %s: slow consumer", self.session_id)
        self.request_close(CloseCode.SLOW_CONSUMER, "slow consumer: fell behind retention")

    # --- receiving ----------------------------------------------------------------

    async def _receive_loop(self) -> None:
        limit = self._settings.max_frame_bytes
        while True:
            # Let the sender answer the previous frame first: frames a client
            # pipelined arrive without suspending, and their answers would
            # otherwise pile up past control_queue_size (a false 4008).
            await asyncio.sleep(0)
            message = await self._ws.receive()
            if message["type"] == "websocket.disconnect":
                self.request_close(None)
                return
            raw: str | bytes | None = message.get("text")
            if raw is None:
                raw = message.get("bytes") or b""
            try:
                frame = decode_client_frame(raw, max_bytes=limit)
            except FrameTooLargeError:
                self._metrics.rejected_frames += 1
                self.request_close(CloseCode.MESSAGE_TOO_BIG, "frame too big")
                return
            except InvalidFrameError as exc:
                self._metrics.rejected_frames += 1
                self._bad_in_a_row += 1
                if self._bad_in_a_row > self._settings.bad_frame_limit:
                    self._metrics.abuse_closes += 1
                    self.request_close(CloseCode.POLICY_VIOLATION, "too many bad frames")
                    return
                self._error(_readable_id(raw), None, ErrorCode.BAD_REQUEST, exc.reason)
                continue
            self._bad_in_a_row = 0
            if isinstance(frame, SubscribeFrame):
                await self._subscribe(frame)
            elif isinstance(frame, UnsubscribeFrame):
                self._unsubscribe(frame)
            else:
                self._answer_ping(frame)

    async def _subscribe(self, frame: SubscribeFrame) -> None:
        plan_id = frame.plan_id
        if plan_id not in self._subs and len(self._subs) >= self._settings.max_subscriptions:
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
            snapshot_head = position.snapshot.head
            cursor = snapshot_head.seq if snapshot_head else 0
        else:
            cursor = position.after_seq
        # protocol §3: a second subscribe replaces the first and replays anew.
        self._drop_subscription(plan_id)
        # Listen for appends *before* reading the head: with a log whose calls
        # suspend (a networked one), an append between reading the head and
        # listening would be neither in the head nor notified, and stay unsent
        # until the plan's next append (forever, if it was the last).
        sub = _Subscription(plan_id, cursor=cursor, known_head=cursor)
        self._subs[plan_id] = sub
        self._metrics.subscriptions += 1
        self._fanout.add(plan_id, self)
        head = await self._log.head(plan_id)
        sub.known_head = max(sub.known_head, head.seq if head else 0)
        if isinstance(position, ResyncNeeded):
            answer = encode_frame(
                ResyncFrame(
                    id=frame.id,
                    plan_id=plan_id,
                    reason=position.reason,
                    snapshot=position.snapshot,
                )
            )
        else:
            answer = encode_frame(SubscribedFrame(id=frame.id, plan_id=plan_id, head=head))
        self._enqueue(_Outgoing(answer, activates=sub))

    def _unsubscribe(self, frame: UnsubscribeFrame) -> None:
        self._drop_subscription(frame.plan_id)
        self._enqueue(
            _Outgoing(encode_frame(UnsubscribedFrame(id=frame.id, plan_id=frame.plan_id)))
        )

    def _drop_subscription(self, plan_id: str) -> None:
        if self._subs.pop(plan_id, None) is not None:
            self._metrics.subscriptions -= 1
            self._fanout.remove(plan_id, self)

    def _answer_ping(self, frame: PingFrame) -> None:
        self._enqueue(_Outgoing(encode_frame(PongFrame(id=frame.id, ts=self._clock()))))

    def _error(
        self, request_id: RequestId | None, plan_id: str | None, code: str, message: str
    ) -> None:
        error = ErrorFrame(id=request_id, plan_id=plan_id, code=code, message=message)
        self._enqueue(_Outgoing(encode_frame(error)))

    # --- sending --------------------------------------------------------------------

    def _enqueue(self, item: _Outgoing) -> None:
        if len(self._control) >= self._settings.control_queue_size:
            self._slow_consumer()
            return
        self._control.append(item)
        self._wake.set()

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self._settings.heartbeat_s)
            self._enqueue(_Outgoing(None))

    async def _send_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while not self._closing.is_set():
                if self._control:
                    item = self._control.popleft()
                    await self._send(item.text if item.text is not None else self._heartbeat())
                    if item.activates is not None:
                        item.activates.active = True
                    continue
                texts = await self._collect_events()
                if not texts:
                    break
                await self._send(
                    texts[0] if len(texts) == 1 else _BATCH_PREFIX + ",".join(texts) + _BATCH_SUFFIX
                )
                self._metrics.events_sent += len(texts)

    async def _collect_events(self) -> list[str]:
        """Pull the next events of every active subscription, one frame's worth."""
        budget = self._settings.batch_max_events
        room = self._settings.max_frame_bytes - len(_BATCH_PREFIX) - len(_BATCH_SUFFIX)
        texts: list[str] = []
        for sub in tuple(self._subs.values()):
            if not sub.active or sub.cursor >= sub.known_head:
                continue
            stored = await self._log.read(sub.plan_id, sub.cursor, budget - len(texts))
            if self._subs.get(sub.plan_id) is not sub:
                continue  # replaced or dropped while reading
            if not stored:
                sub.known_head = sub.cursor
                continue
            if stored[0].seq != sub.cursor + 1:
                self._slow_consumer()  # what it still needed left the retention window
                return []
            # Hot path: one frame's worth of events, taken as a slice.
            size = sum([item.nbytes for item in stored]) + len(stored)
            take = len(stored)
            if size > room:
                take, size = _fitting(stored, room, allow_oversized_first=not texts)
            if take == 0:
                return texts
            texts.extend([item.json for item in stored[:take]])
            room -= size
            last = stored[take - 1]
            sub.cursor = sub.sent_seq = last.seq
            sub.sent_event_id = last.event.event_id
            if take < len(stored) or len(texts) >= budget:
                break
        return texts

    async def _send(self, text: str) -> None:
        await self._ws.send_text(text)
        self._metrics.frames_sent += 1

    def _hello(self) -> str:
        settings = self._settings
        return encode_frame(
            HelloFrame(
                protocol=1,
                schema_version="1.0",
                server=f"{settings.name}/{_version()}",
                session_id=self.session_id,
                heartbeat_s=settings.heartbeat_s,
                max_frame_bytes=settings.max_frame_bytes,
            )
        )

    def _heartbeat(self) -> str:
        heads = {
            plan_id: Head(seq=sub.sent_seq, event_id=sub.sent_event_id)
            if sub.sent_event_id is not None
            else None
            for plan_id, sub in self._subs.items()
        }
        return encode_frame(HeartbeatFrame(ts=self._clock(), heads=heads))


def _fitting(
    stored: list[StoredEvent], room: int, *, allow_oversized_first: bool
) -> tuple[int, int]:
    """How many of ``stored`` fit in ``room`` bytes (one separator each), and their size."""
    take = size = 0
    for item in stored:
        needed = item.nbytes + 1
        if size + needed > room and not (allow_oversized_first and take == 0):
            break
        take += 1
        size += needed
    return take, size


def _readable_id(raw: str | bytes) -> RequestId | None:
    """The ``id`` of a frame that failed validation, when one can be read."""
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    request_id = value.get("id") if isinstance(value, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        return None
    return request_id


def _version() -> str:
    from planstream import __version__

    return __version__
