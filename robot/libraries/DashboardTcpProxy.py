"""Real TCP proxies on 127.0.0.1 between the dashboard's browser and the reference server.

:class:`TcpRelayProxy` accepts connections on a free loopback port and relays
their bytes both ways to the upstream server. It reads the HTTP request heads
the browser sends (every request of a keep-alive connection, bodies skipped by
their ``Content-Length``) so that it can

* record each request line (the suite checks no token travels in a URL);
* in ``block_websocket`` mode, answer every ``Upgrade: websocket`` request with
  ``HTTP 403`` and close the connection, while plain HTTP is relayed: a network
  where WebSockets cannot open, so the page has to fall back to polling.

After a WebSocket upgrade (relay mode) the connection carries frames, not HTTP:
from then on its bytes are relayed untouched.

:meth:`TcpRelayProxy.cut` aborts every relayed connection (no close frame: the
browser sees 1006) and, until :meth:`TcpRelayProxy.restore`, resets every new
one at once: a link that is down for as long as the test says.

The proxies run in a :class:`ProxyLoop`, an asyncio loop in its own thread, so
the Robot keywords of :class:`DashboardTcpProxy` (synchronous) drive them while
the browser talks to them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

__all__ = ["DashboardTcpProxy", "ProxyLoop", "ProxyStats", "TcpRelayProxy"]

_T = TypeVar("_T")
#: Largest request head read before the connection is given up.
HEAD_LIMIT = 64 * 1024
_CHUNK = 64 * 1024
_FORBIDDEN_BODY = b'{"error":"forbidden","message":"WebSockets are blocked by this proxy"}'
_FORBIDDEN = (
    b"HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_FORBIDDEN_BODY), _FORBIDDEN_BODY)
)


class ProxyLoop:
    """An asyncio event loop running in a daemon thread, for proxies the tests drive."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="dashboard-proxies", daemon=True
        )
        self._thread.start()

    def call(self, coroutine: Coroutine[Any, Any, _T], timeout: float = 15.0) -> _T:
        """Run ``coroutine`` in the loop and return its result (waits at most ``timeout``)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@dataclass
class ProxyStats:
    """What a proxy did, for the tests to check that the fault really happened."""

    connections: int = 0
    request_lines: list[str] = field(default_factory=list)
    upgrades_relayed: int = 0
    upgrades_blocked: int = 0
    aborted: int = 0  # relayed connections aborted by cut()
    reset_while_cut: int = 0  # new connections reset while the link was cut


@dataclass(eq=False)
class _Link:
    """One browser connection and its upstream connection."""

    downstream: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None

    def abort(self) -> None:
        self.downstream.transport.abort()
        if self.upstream is not None:
            self.upstream.transport.abort()


class TcpRelayProxy:
    """Relays 127.0.0.1:``port`` to 127.0.0.1:``upstream_port`` (see the module docstring)."""

    def __init__(self, upstream_port: int, *, block_websocket: bool = False) -> None:
        self.upstream_port = upstream_port
        self.block_websocket = block_websocket
        self.stats = ProxyStats()
        self.port: int | None = None
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._cut = False

    @property
    def url(self) -> str:
        """The proxy's base URL (ends with '/')."""
        return f"http://127.0.0.1:{self.port}/"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and abort every relayed connection."""
        if self._server is not None:
            self._server.close()
        self._abort_links()
        # Aborted links end their relays at once; a relay still running is cancelled.
        if self._tasks:
            _, running = await asyncio.wait(list(self._tasks), timeout=5)
            for task in running:
                task.cancel()

    async def cut(self) -> int:
        """Abort every relayed connection and reset new ones until :meth:`restore`."""
        self._cut = True
        aborted = self._abort_links()
        self.stats.aborted += aborted
        return aborted

    async def restore(self) -> None:
        """Accept and relay new connections again."""
        self._cut = False

    def _abort_links(self) -> int:
        links, self._links = self._links, set()
        for link in links:
            link.abort()
        return len(links)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self._cut:
                self.stats.reset_while_cut += 1
                writer.transport.abort()
                return
            self.stats.connections += 1
            link = _Link(writer)
            self._links.add(link)
            try:
                await self._relay(link, reader)
            finally:
                self._links.discard(link)
                link.abort()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # a side went away: the link is over
        finally:
            self._tasks.discard(task)

    async def _relay(self, link: _Link, reader: asyncio.StreamReader) -> None:
        upstream_reader: asyncio.StreamReader | None = None
        answers: asyncio.Task[None] | None = None
        try:
            while True:
                head = await _read_head(reader)
                if head is None:
                    return
                request_line, headers = _parse_head(head)
                self.stats.request_lines.append(request_line)
                upgrade = headers.get("upgrade", "").lower() == "websocket"
                if upgrade and self.block_websocket:
                    self.stats.upgrades_blocked += 1
                    link.downstream.write(_FORBIDDEN)
                    await link.downstream.drain()
                    return
                if link.upstream is None:
                    upstream_reader, link.upstream = await asyncio.open_connection(
                        "127.0.0.1", self.upstream_port
                    )
                    answers = asyncio.create_task(_pump(upstream_reader, link.downstream))
                link.upstream.write(head)
                if upgrade or "chunked" in headers.get("transfer-encoding", "").lower():
                    # Frames (or a body we do not parse) follow: relay raw from here on.
                    self.stats.upgrades_relayed += 1 if upgrade else 0
                    await _pump(reader, link.upstream)
                    return
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    link.upstream.write(await reader.readexactly(length))
                await link.upstream.drain()
        finally:
            if answers is not None:
                # Let the server's last answer reach the browser before the link closes.
                with suppress(asyncio.TimeoutError, OSError):
                    await asyncio.wait_for(asyncio.shield(answers), 0.2)
                answers.cancel()
                with suppress(asyncio.CancelledError, OSError):
                    await answers


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """One request head (through the blank line), or None at a clean end of stream."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise
        return None


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes from ``reader`` to ``writer`` until the end of the stream."""
    with suppress(OSError):
        while chunk := await reader.read(_CHUNK):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


class DashboardTcpProxy:
    """Robot keywords: proxies in front of the dashboard's server, one loop for them all."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._loop: ProxyLoop | None = None
        self._proxies: list[TcpRelayProxy] = []

    def _start(self, upstream: str, block_websocket: bool) -> str:
        port = urlsplit(upstream).port
        if port is None:
            raise AssertionError(f"no port in {upstream!r}")
        if self._loop is None:
            self._loop = ProxyLoop()
        proxy = TcpRelayProxy(port, block_websocket=block_websocket)
        self._loop.call(proxy.start())
        self._proxies.append(proxy)
        return proxy.url

    def start_relay_proxy(self, upstream: str) -> str:
        """A TCP relay in front of the server at ``upstream``; return its base URL."""
        return self._start(upstream, block_websocket=False)

    def start_websocket_blocking_proxy(self, upstream: str) -> str:
        """A proxy answering every WebSocket upgrade with 403 and relaying plain HTTP
        to ``upstream``; return its base URL."""
        return self._start(upstream, block_websocket=True)

    def _latest(self) -> tuple[ProxyLoop, TcpRelayProxy]:
        if self._loop is None or not self._proxies:
            raise AssertionError("no proxy: call Start Relay Proxy")
        return self._loop, self._proxies[-1]

    def cut_proxy_links(self) -> int:
        """Abort every link of the latest proxy and reset new ones; return how many."""
        loop, proxy = self._latest()
        return loop.call(proxy.cut())

    def restore_proxy_links(self) -> None:
        """Let the latest proxy relay new connections again."""
        loop, proxy = self._latest()
        loop.call(proxy.restore())

    def proxy_stats(self) -> ProxyStats:
        """What the latest proxy did."""
        return self._latest()[1].stats

    def proxied_request_lines_should_not_contain(self, text: str) -> None:
        """Fail if any request line through any proxy contains ``text`` (a token)."""
        for proxy in self._proxies:
            leaked = [line for line in proxy.stats.request_lines if text in line]
            if leaked:
                raise AssertionError(f"{len(leaked)} request line(s) carry the secret")

    def stop_proxies(self) -> None:
        """Stop every proxy and their loop (safe to call when there is none)."""
        loop, self._loop = self._loop, None
        proxies, self._proxies = self._proxies, []
        if loop is None:
            return
        try:
            for proxy in proxies:
                loop.call(proxy.stop())
        finally:
            loop.close()
