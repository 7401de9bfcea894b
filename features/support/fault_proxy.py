"""A real WebSocket proxy on 127.0.0.1 that injects faults into a planstream stream.

:class:`FaultProxy` sits between a client and a server (the reference server
in the resilience features). For each client connection it first opens the
upstream connection, offering the client's subprotocols with the client's
``Authorization`` header, and only then completes the client's handshake:
the subprotocol the server selected is the one the client gets, and an HTTP
refusal of the server (400, 401, 403, ...) is passed back as it is.

Frames client -> server are relayed untouched. Frames server -> client that
carry events (``event`` and ``batch``) are counted, globally from 1 over the
proxy's lifetime, and the :class:`FaultPlan` applies to them:

* ``duplicate_every`` N: every Nth event frame is sent twice;
* ``swap_every`` N: every Nth event frame is held back and sent after the
  next one (a held frame is flushed after ``hold_timeout`` seconds if nothing
  follows, and before any non-event frame: only events are reordered);
* ``drop_frames``: those event frames (by global number) are never sent;
* ``abort_after`` N: after N event frames on one connection, both of its TCP
  connections are aborted (no close frame: the client sees 1006).

:meth:`FaultProxy.stall_open_links` black-holes the connections open at that
moment: they stay open (TCP and WebSocket), but nothing the server sends is
forwarded any more. Connections made later are not stalled.

:meth:`FaultProxy.disconnect_one` hits one open connection, picked by the
caller's (seeded) random source, with a :class:`Disconnect`: an abrupt drop
(the client sees 1006), a close with a code (1001, 1011, 1012, 4008...), or a
stall of that connection alone (the client's heartbeat timeout ends it). The
chaos soak (``reliability/``) calls it at random moments; ``stats.injected``
counts what was done, by kind.

Close codes are mirrored: a server closing with 1001 closes the client's side
with 1001, and a drop (1006) on one side is an abort on the other.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from enum import StrEnum
from http import HTTPStatus
from typing import Protocol
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.connection import Connection
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

__all__ = ["Disconnect", "FaultPlan", "FaultProxy", "FaultStats", "RandomPick"]

#: Close codes that may be sent in a close frame (RFC 6455 §7.4).
_UNSENDABLE_CODES = frozenset({1004, 1005, 1006, 1015})
_CLOSE_TIMEOUT = 2.0


class Disconnect(StrEnum):
    """How :meth:`FaultProxy.disconnect_one` ends (or silences) a connection."""

    DROP = "drop"  # both TCP connections aborted: the client sees 1006
    CLOSE = "close"  # a close frame with the given code to the client
    STALL = "stall"  # nothing forwarded any more; the client must notice the silence


class RandomPick(Protocol):
    """What :meth:`FaultProxy.disconnect_one` needs of a random source (``random.Random``)."""

    def randrange(self, stop: int, /) -> int: ...


@dataclass(frozen=True)
class FaultPlan:
    """Which faults the proxy injects into server -> client event frames (0: none)."""

    duplicate_every: int = 0
    swap_every: int = 0
    drop_frames: frozenset[int] = frozenset()
    abort_after: int = 0
    hold_timeout: float = 0.05


@dataclass
class FaultStats:
    """What the proxy did; scenarios check the faults really happened."""

    connections: int = 0
    refused: int = 0  # handshakes answered with the server's (or our 502) refusal
    event_frames: int = 0  # server -> client frames carrying events, as received
    forwarded: int = 0  # every frame sent to a client, copies included
    duplicated: int = 0
    swapped: int = 0
    dropped: int = 0
    aborted: int = 0
    discarded_while_stalled: int = 0  # frames of any type
    event_frames_discarded_while_stalled: int = 0
    #: disconnect_one's work by kind: "drop", "stall", "close 1001", ...
    injected: Counter[str] = field(default_factory=Counter)


@dataclass(eq=False)
class _Link:
    """One client connection and the server connection opened for it."""

    downstream: ServerConnection
    upstream: ClientConnection
    number: int = 0  # the proxy's count of connections when this one opened
    stalled: bool = False
    event_frames: int = 0  # event frames of this link handled (dropped ones excluded)

    def abort(self) -> None:
        self.downstream.transport.abort()
        self.upstream.transport.abort()


@dataclass
class _Held:
    message: str | bytes
    copies: int


class FaultProxy:
    """The proxy: :meth:`start`, then :meth:`aclose`.

    Args:
        upstream_url: any URL of the server (only its scheme, host and port
            are used; each request's path is relayed).
        plan: the faults to inject.
    """

    def __init__(self, upstream_url: str, plan: FaultPlan | None = None) -> None:
        self.upstream_url = upstream_url
        self.plan = plan if plan is not None else FaultPlan()
        self.stats = FaultStats()
        self.port: int | None = None
        self._server: Server | None = None
        self._pending: dict[object, ClientConnection] = {}  # by client connection id
        self._links: set[_Link] = set()

    def __repr__(self) -> str:
        return f"FaultProxy(port={self.port}, plan={self.plan}, stats={self.stats})"

    @property
    def url(self) -> str:
        """The proxy's stream endpoint, for the client."""
        if self.port is None:
            raise RuntimeError("the proxy is not started")
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    @property
    def open_links(self) -> int:
        """Client connections being relayed now."""
        return len(self._links)

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await serve(
            self._relay,
            "127.0.0.1",
            0,
            process_request=self._open_upstream,
            select_subprotocol=self._upstream_subprotocol,
            compression=None,
            ping_interval=None,
            max_size=None,
            close_timeout=_CLOSE_TIMEOUT,
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]

    async def aclose(self) -> None:
        """Stop listening, close every relayed connection, wait for the relays."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
        for upstream in self._pending.values():
            await upstream.close()
        self._pending.clear()

    def stall_open_links(self) -> int:
        """Stop forwarding to the connections open now (they stay open); how many."""
        for link in self._links:
            link.stalled = True
        return len(self._links)

    async def disconnect_one(
        self, how: Disconnect, pick: RandomPick, code: int = 1001, reason: str = ""
    ) -> bool:
        """Drop, close (with ``code``) or stall one open, unstalled connection
        chosen with ``pick``; False when there is none."""
        live = sorted((link for link in self._links if not link.stalled), key=_opened)
        if not live:
            return False
        link = live[pick.randrange(len(live))]
        if how is Disconnect.DROP:
            link.abort()
            self.stats.injected["drop"] += 1
        elif how is Disconnect.STALL:
            link.stalled = True
            self.stats.injected["stall"] += 1
        else:
            self.stats.injected[f"close {code}"] += 1
            with suppress(ConnectionClosed, OSError):
                await link.downstream.close(code, reason)  # the relay closes upstream alike
        return True

    # --- handshake -----------------------------------------------------------------

    async def _open_upstream(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        """Connect to the server before accepting the client (process_request)."""
        offered = [
            Subprotocol(name.strip())
            for value in request.headers.get_all("Sec-WebSocket-Protocol")
            for name in value.split(",")
            if name.strip()
        ]
        authorization = request.headers.get("Authorization")
        target = urlsplit(self.upstream_url)
        try:
            upstream = await connect(
                f"{target.scheme}://{target.netloc}{request.path}",
                subprotocols=offered or None,
                additional_headers={"Authorization": authorization} if authorization else None,
                compression=None,
                ping_interval=None,
                max_size=None,
                open_timeout=5,
                close_timeout=_CLOSE_TIMEOUT,
            )
        except InvalidStatus as exc:  # the server refused: the client hears the same
            self.stats.refused += 1
            refusal = exc.response
            headers = Headers(
                (name, value)
                for name, value in refusal.headers.raw_items()
                if name.lower() not in {"connection", "content-length", "date", "server"}
            )
            return Response(refusal.status_code, refusal.reason_phrase, headers, refusal.body)
        except (OSError, TimeoutError, InvalidHandshake):
            self.stats.refused += 1
            return connection.respond(HTTPStatus.BAD_GATEWAY, "upstream unreachable\n")
        self._pending[connection.id] = upstream
        return None

    def _upstream_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        upstream = self._pending.get(connection.id)
        return None if upstream is None else upstream.subprotocol

    # --- relaying ------------------------------------------------------------------

    async def _relay(self, downstream: ServerConnection) -> None:
        upstream = self._pending.pop(downstream.id)
        self.stats.connections += 1
        link = _Link(downstream, upstream, self.stats.connections)
        self._links.add(link)
        try:
            async with asyncio.TaskGroup() as tasks:
                relays = {
                    tasks.create_task(self._client_to_server(link)),
                    tasks.create_task(self._server_to_client(link)),
                }
                await asyncio.wait(relays, return_when=asyncio.FIRST_COMPLETED)
                for relay in relays:
                    relay.cancel()
        finally:
            self._links.discard(link)
            if upstream.close_code is not None:
                await _close_like(upstream, downstream)
            else:
                await _close_like(downstream, upstream)

    async def _client_to_server(self, link: _Link) -> None:
        with suppress(ConnectionClosed):
            async for message in link.downstream:
                await link.upstream.send(message)

    async def _server_to_client(self, link: _Link) -> None:
        with suppress(ConnectionClosed):
            await self._forward_with_faults(link)

    async def _forward_with_faults(self, link: _Link) -> None:
        plan, stats = self.plan, self.stats
        upstream, downstream = link.upstream, link.downstream
        held: _Held | None = None

        async def send(message: str | bytes, copies: int = 1) -> None:
            for _ in range(copies):
                await downstream.send(message)
                stats.forwarded += 1

        while True:
            if held is None:
                message = await upstream.recv()
            else:
                try:
                    async with asyncio.timeout(plan.hold_timeout):
                        message = await upstream.recv()  # cancel-safe in websockets
                except TimeoutError:
                    await send(held.message, held.copies)
                    held = None
                    continue
            carries_events = _carries_events(message)
            if link.stalled:
                stats.discarded_while_stalled += 1
                stats.event_frames_discarded_while_stalled += carries_events
                continue
            if not carries_events:
                if held is not None:
                    await send(held.message, held.copies)
                    held = None
                await send(message)
                continue
            stats.event_frames += 1
            number = stats.event_frames
            if number in plan.drop_frames:
                stats.dropped += 1
                continue
            link.event_frames += 1
            copies = 2 if plan.duplicate_every and number % plan.duplicate_every == 0 else 1
            stats.duplicated += copies - 1
            if held is not None:
                await send(message, copies)
                await send(held.message, held.copies)
                stats.swapped += 1
                held = None
            elif plan.swap_every and number % plan.swap_every == 0:
                held = _Held(message, copies)
            else:
                await send(message, copies)
            if plan.abort_after and link.event_frames >= plan.abort_after:
                stats.aborted += 1
                link.abort()
                return


def _opened(link: _Link) -> int:
    """Links in the order they opened: a pick depends on the random source, not on set order."""
    return link.number


def _carries_events(message: str | bytes) -> bool:
    try:
        frame = json.loads(message)
    except ValueError:
        return False
    return isinstance(frame, dict) and frame.get("type") in {"event", "batch"}


async def _close_like(source: Connection, target: Connection) -> None:
    """Close ``target`` the way ``source`` was closed (a drop stays a drop)."""
    code = source.close_code
    if code == 1006:
        target.transport.abort()
        return
    if code is None or code in _UNSENDABLE_CODES:
        code = 1000
    with suppress(ConnectionClosed, OSError):
        await target.close(code, source.close_reason or "")
