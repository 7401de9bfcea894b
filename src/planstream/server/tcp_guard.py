"""Bounding TCP connections before any request: a handshake deadline and a hard cap.

uvicorn leaves a connection that sends half a request head (or nothing) open
for ever: its ``timeout_keep_alive`` is armed only after a response, and
``h11_max_incomplete_event_size`` bounds the head's bytes, not its time. So
the reference server serves HTTP with :class:`GuardedH11Protocol`, uvicorn's
h11 protocol plus:

* ``handshake_timeout``: a connection whose first request head has not
  arrived in time is closed (a WebSocket upgrade then belongs to the
  WebSocket protocol, whose pings take over);
* a hard cap on open TCP connections, kept below the process's open-file
  limit (``RLIMIT_NOFILE``): beyond it a new connection is closed at once, so
  idle sockets can never exhaust the file descriptors real clients need.
  Requests that do arrive are capped more politely by
  :class:`~planstream.server.admission.ConnectionCap` (503);
* a response's head and its body leave in one ``send()``
  (:class:`HeadWithBody`): uvicorn writes them separately, two system calls
  and two wake-ups of the client per answer, the largest per-request cost
  of a publish after the JSON itself.

Every refusal is counted, and logged at most once per few seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, ClassVar, Final, cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from planstream.log_limiter import LogLimiter
from planstream.server.browser_auth import scrub_offer_header
from planstream.server.metrics import FAULT_LOG_INTERVAL, ServerMetrics

#: Machinery of PlanStreamServer (uvicorn's protocol), imported by name; not public API.
__all__: list[str] = []

logger = logging.getLogger("planstream.server")

#: File descriptors kept for everything but client sockets (log files, the
#: listening sockets, a database, the event loop's own).
FD_RESERVE: Final = 64


def tcp_connection_cap(max_connections: int, fd_limit: int | None) -> int:
    """Open TCP connections allowed: ``max_connections`` plus room for the 503s, under the fd limit.

    The headroom (a quarter, at least 16) lets connections beyond
    ``max_connections`` send their request and be answered 503 instead of
    being dropped.
    """
    cap = max_connections + max(16, max_connections // 4)
    if fd_limit is not None and fd_limit > 0:
        cap = min(cap, max(1, fd_limit - FD_RESERVE))
    return cap


class ConnectionGuard:
    """The limits and counters shared by every connection of one server."""

    def __init__(self, *, handshake_timeout: float, tcp_cap: int, metrics: ServerMetrics) -> None:
        self.handshake_timeout = handshake_timeout
        self.tcp_cap = tcp_cap
        self.metrics = metrics
        self._refusals = LogLimiter(FAULT_LOG_INTERVAL)
        self._timeouts = LogLimiter(FAULT_LOG_INTERVAL)

    def __repr__(self) -> str:
        return (
            f"ConnectionGuard(handshake_timeout={self.handshake_timeout:g}, tcp_cap={self.tcp_cap})"
        )

    def refused(self) -> None:
        """A connection was closed at once: the hard cap."""
        self.metrics.refused_connections += 1
        silenced = self._refusals.allow(time.monotonic())
        if silenced is not None:
            logger.warning(
                "closed a new TCP connection at once: %d are open, the most this process "
                "may hold (%d such lines silenced)",
                self.tcp_cap,
                silenced,
            )

    def timed_out(self) -> None:
        """A connection sent no full request head within ``handshake_timeout``."""
        self.metrics.handshake_timeouts += 1
        silenced = self._timeouts.allow(time.monotonic())
        if silenced is not None:
            logger.info(
                "closed a TCP connection that sent no request in %g s (%d such lines silenced)",
                self.handshake_timeout,
                silenced,
            )


class HeadWithBody:
    """What a request's cycle writes through: its first write waits for the next one.

    The first write of a response is its head; the body follows in the same
    loop iteration (an ASGI ``send`` of a body whose socket is not paused
    does not suspend), and both go to the socket together. Nothing waits
    longer than that iteration (``call_soon``), nor past :meth:`flush` (the
    response's end) or :meth:`close`.
    """

    __slots__ = ("_held", "_loop", "_pending", "_started", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._held = b""
        self._started = False
        self._pending: asyncio.Handle | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Hold the first write; send it with the next one."""
        if not self._started:
            self._started = True
            self._held = bytes(data)
            self._pending = self._loop.call_soon(self.flush)
            return
        if self._held:
            self._held += data
            self.flush()
            return
        self.transport.write(data)

    def flush(self) -> None:
        """Send what is held now."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if self._held:
            held, self._held = self._held, b""
            self.transport.write(held)

    def close(self) -> None:
        """Send what is held, then close the connection."""
        self.flush()
        self.transport.close()

    def is_closing(self) -> bool:
        """Whether the connection is closing."""
        return self.transport.is_closing()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol: a handshake deadline, a hard connection cap, one send per answer."""

    guard: ClassVar[ConnectionGuard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handshake_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Accept, unless the hard cap is reached; arm the handshake deadline."""
        super().connection_made(transport)
        if len(self.connections) > self.guard.tcp_cap:
            self.guard.refused()
            transport.abort()
            return
        self._handshake_deadline = self.loop.call_later(
            self.guard.handshake_timeout, self._handshake_expired
        )

    def handle_events(self) -> None:
        """Parse what arrived; a complete request head disarms the deadline."""
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle and self.cycle is not None:
            # A new request: its task has not run yet, so nothing was written.
            writer = HeadWithBody(self.transport, self.loop)
            self.cycle.transport = writer  # type: ignore[assignment]
        if self.scope is not None and self._handshake_deadline is not None:
            self._handshake_deadline.cancel()
            self._handshake_deadline = None

    def on_response_complete(self) -> None:
        """The answer is written: nothing of it stays held."""
        # Every cycle writes through one (handle_events gives it).
        cast("HeadWithBody", self.cycle.transport).flush()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection and its deadline."""
        if self._handshake_deadline is not None:
            self._handshake_deadline.cancel()
            self._handshake_deadline = None
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        """Hand the upgrade to the WebSocket protocol, bearer offers that are no
        token scrubbed (protocol §2: the library would echo them in its 400)."""
        self.headers = [
            (name, scrub_offer_header(value) if name == b"sec-websocket-protocol" else value)
            for name, value in self.headers
        ]
        super().handle_websocket_upgrade(event)

    def send_400_response(self, msg: str) -> None:
        """A request head h11 cannot parse gets the JSON error of protocol §6, not
        uvicorn's plain text ("no request, however malformed, gets a body that
        is not this JSON")."""
        body = json.dumps({"error": "bad_request", "message": "malformed HTTP request"})
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body.encode()),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()

    def _handshake_expired(self) -> None:
        self._handshake_deadline = None
        if self.scope is None and not self.transport.is_closing():
            self.guard.timed_out()
            self.transport.close()


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    """A protocol class for uvicorn's ``http=`` bound to ``guard`` (one per server)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": guard})


class RepeatedLineFilter(logging.Filter):
    """At most one record containing ``marker`` per few seconds, without its traceback.

    For lines whose rate a peer decides: asyncio logs a failed ``accept()``
    (EMFILE: too many open files) with a traceback each time it retries (under
    a connection flood that was 110,579 tracebacks, 49 MB, in 4 s: issue 10,
    item 3), and uvicorn logs "Invalid HTTP request received." for every
    malformed request head. Installed on the logger that writes the line while
    the server runs; other records pass.
    """

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker
        self._lines = LogLimiter(FAULT_LOG_INTERVAL)

    def filter(self, record: logging.LogRecord) -> bool:
        """Let the record through when the limiter allows it, without its traceback."""
        if self.marker not in record.getMessage():
            return True
        silenced = self._lines.allow(time.monotonic())
        if silenced is None:
            return False
        record.exc_info = None
        record.exc_text = None
        record.msg = f"{record.msg} (traceback omitted; {silenced} such lines silenced)"
        return True
