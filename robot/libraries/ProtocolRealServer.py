"""The reference server (dashboard on) behind a TCP proxy the test can cut.

``Start Reference Server With Proxy`` runs ``PlanStreamServer`` (the same app
as ``python -m planstream.server``) in a thread with its own event loop, and a
plain TCP forwarder in front of it. The page is loaded through the proxy, so
``Drop Proxied Connections`` drops the page's WebSocket the way a restarting
proxy does (no close frame), while the test publishes straight to the server.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
from pydantic import SecretStr

from planstream.server.runner import PlanStreamServer
from planstream.server.settings import ServerSettings

__all__ = ["ProtocolRealServer"]


class _Proxy:
    """Forwards TCP from its port to the server's, and can abort every pair."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.dropped = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._pair, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def _pair(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.writers.discard(writer)
            writer.transport.abort()

    async def drop(self) -> int:
        writers, self.writers = list(self.writers), set()
        for writer in writers:
            writer.transport.abort()  # an RST, no close frame: a dropped connection
        self.dropped += len(writers)
        return len(writers)

    async def stop(self) -> None:
        await self.drop()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


class ProtocolRealServer:
    """Robot keywords: the reference server, its proxy, and publishing."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: PlanStreamServer | None = None
        self._proxy: _Proxy | None = None
        self.server_url = ""
        self.proxy_url = ""

    def start_reference_server_with_proxy(self, reader_token: str, publish_token: str) -> str:
        """Start the server (dashboard on, the two tokens) and its proxy; return the proxy's URL."""
        settings = ServerSettings(
            port=0,
            dashboard=True,
            heartbeat_s=15.0,
            tokens=(SecretStr(reader_token),),
            publish_tokens=(SecretStr(publish_token),),
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="reference-server", daemon=True
        )
        self._thread.start()
        self._server = PlanStreamServer(settings)
        self._run(self._server.start())
        self.server_url = self._server.http_url + "/"
        self._proxy = _Proxy(self._server.port or 0)
        proxy_port = self._run(self._proxy.start())
        self.proxy_url = f"http://127.0.0.1:{proxy_port}/"
        return self.proxy_url

    def stop_reference_server(self) -> None:
        """Stop the proxy and the server (safe when not started)."""
        if self._loop is None:
            return
        if self._proxy is not None:
            self._run(self._proxy.stop())
        if self._server is not None:
            self._run(self._server.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop.close()
        self._loop = self._thread = self._server = self._proxy = None

    def drop_proxied_connections(self) -> int:
        """Abort every connection through the proxy (RST); return how many sockets were cut."""
        if self._proxy is None:
            raise AssertionError("the proxy is not started")
        dropped: int = self._run(self._proxy.drop())
        return dropped

    def publish_log_lines(self, token: str, plan_id: str, *messages: str) -> list[int]:
        """Publish one ``log`` event per message (one atomic request); return their seqs."""
        body = [
            {
                "kind": "log",
                "data": {"level": "info", "message": m, "step_id": None, "stream": "stdout"},
            }
            for m in messages
        ]
        response = httpx.post(
            f"{self.server_url}v1/plans/{plan_id}/events",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        if response.status_code != 201:
            raise AssertionError(f"publish answered {response.status_code}: {response.text}")
        answer: dict[str, Any] = response.json()
        return [item["seq"] for item in answer["events"]]

    def _run(self, coroutine: Any) -> Any:
        if self._loop is None:
            raise AssertionError("the reference server is not started")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(20)
