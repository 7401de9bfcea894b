"""One connection of the stream endpoint (protocol §3), after the handshake: the socket loops.

Three tasks share one task group: *receive* hands each client frame to the
connection's :class:`~planstream.server.stream_session.StreamSession`, which
answers it, *send* is the only writer to the socket, *heartbeat* asks for a
heartbeat every ``heartbeat_s``; a fourth, *expiry*, sleeps until the
principal's credential expires and then closes with 4001 (protocol §4).
Events are never queued per connection: each
subscription is a cursor into the event log, and the sender pulls what is
newer, so replay and live delivery are one code path (no hand-over race) and
a slow client costs no memory. A client whose cursor falls out of the
retention window is closed with 4008; non-event frames wait in a small
bounded queue, in order with the events.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.websockets import WebSocket, WebSocketDisconnect

from planstream.close_codes import CloseCode
from planstream.codec import encode_frame
from planstream.schema.frames import PROTOCOL_VERSION, SCHEMA_VERSION, HelloFrame
from planstream.server.auth import Principal
from planstream.server.event_log import EventLog
from planstream.server.fanout import Fanout
from planstream.server.frame_budget import BATCH_PREFIX, BATCH_SUFFIX
from planstream.server.metrics import ServerMetrics
from planstream.server.settings import ServerSettings
from planstream.server.stream_session import StreamSession

__all__ = ["StreamConnection"]


class _StopConnection(Exception):  # noqa: N818 - a signal, not an error
    """Raised in the task-group body to cancel the connection's tasks."""


class StreamConnection:
    """Serves one accepted WebSocket until either side closes it."""

    def __init__(
        self,
        websocket: WebSocket,
        *,
        principal: Principal,
        log: EventLog,
        fanout: Fanout,
        settings: ServerSettings,
        metrics: ServerMetrics,
        session_id: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ws = websocket
        self._settings = settings
        self._clock = clock
        self._metrics = metrics
        self.session_id = session_id
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._close_code: int | None = None
        self._close_reason = ""
        self._peer_gone = False
        self.principal = principal  # who the upgrade authenticated, for its whole life
        self.session = StreamSession(
            principal=principal,
            log=log,
            fanout=fanout,
            settings=settings,
            metrics=metrics,
            session_id=session_id,
            request_close=self.request_close,
            wake=self._wake.set,
            clock=clock,
            monotonic=monotonic,
        )

    def __repr__(self) -> str:
        return f"StreamConnection(session_id={self.session_id!r}, plans={len(self.session.subs)})"

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
                if self.principal.expires_at is not None:
                    tasks.create_task(self._close_when_expired(self.principal.expires_at))
                await self._closing.wait()
                raise _StopConnection
        except* _StopConnection:
            pass
        except* (WebSocketDisconnect, OSError):
            self._peer_gone = True
        finally:
            self.session.drop_all()
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

    async def _close_when_expired(self, expires_at: float) -> None:
        # protocol §4: once the credential expires (a JWT's exp) the connection
        # ends with 4001; a client with a token provider refreshes and resumes.
        # One sleep until the deadline, cancelled with the other tasks.
        await asyncio.sleep(max(0.0, expires_at - self._clock().timestamp()))
        self.request_close(CloseCode.TOKEN_EXPIRED, "token expired")

    # --- receiving ----------------------------------------------------------------

    async def _receive_loop(self) -> None:
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
            if not await self.session.handle(raw):
                return

    # --- sending --------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self._settings.heartbeat_s)
            self.session.queue_heartbeat()

    async def _send_loop(self) -> None:
        session = self.session
        while True:
            await self._wake.wait()
            self._wake.clear()
            while not self._closing.is_set():
                if session.control:
                    item = session.control.popleft()
                    for text in session.render(item):
                        await self._send(text)
                    if item.activates is not None:
                        item.activates.active = True
                    continue
                texts = await session.collect_events()
                if not texts:
                    break
                await self._send(
                    texts[0] if len(texts) == 1 else BATCH_PREFIX + ",".join(texts) + BATCH_SUFFIX
                )
                self._metrics.sent_events(len(texts), session.replayed)

    async def _send(self, text: str) -> None:
        await self._ws.send_text(text)
        self._metrics.frames_sent += 1

    def _hello(self) -> str:
        settings = self._settings
        return encode_frame(
            HelloFrame(
                protocol=PROTOCOL_VERSION,
                schema_version=SCHEMA_VERSION,
                server=f"{settings.name}/{_version()}",
                session_id=self.session_id,
                heartbeat_s=settings.heartbeat_s,
                max_frame_bytes=settings.max_frame_bytes,
            )
        )


def _version() -> str:
    from planstream import __version__

    return __version__
