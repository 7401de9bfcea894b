"""Servers of client_loud.feature, on real sockets on 127.0.0.1:

* :class:`MountedServer`: the reference server's ASGI app mounted under a
  prefix inside a host Starlette app (what a FastAPI backend does), served by
  uvicorn in the scenario's loop;
* :class:`NotFoundServer`: a plain HTTP server answering 404 to every request,
  upgrades included (a wrong host:port, or a server without that path);
* :class:`SilentServer`: accepts connections and never answers (an attempt
  that hangs until its deadline).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from planstream.server import ServerSettings, ServerState, create_app
from support.scripted_servers import HEAD_LIMIT, ScriptedTcpServer, answer_http
from support.servers import free_port

__all__ = ["MountedServer", "NotFoundServer", "SilentServer"]


class _Uvicorn(uvicorn.Server):
    """uvicorn without signal handlers: the scenario decides when it stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class MountedServer:
    """``host.mount(prefix, create_app(settings))`` served by uvicorn."""

    def __init__(self, prefix: str, **settings: Any) -> None:
        self.prefix = prefix
        self.stream_app = create_app(ServerSettings(**settings))
        self.state: ServerState = self.stream_app.state.planstream

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            # A mounted app's own lifespan does not run: the host runs its part.
            await self.state.log.start()
            yield
            await self.state.aclose()

        async def home(request: Any) -> JSONResponse:
            return JSONResponse({"host": "the host app"})

        host = Starlette(
            routes=[Route("/", home), Mount(prefix, app=self.stream_app)], lifespan=lifespan
        )
        self.port = free_port()
        self._server = _Uvicorn(
            uvicorn.Config(
                host,
                host="127.0.0.1",
                port=self.port,
                ws="websockets-sansio",
                lifespan="on",
                log_level="warning",
            )
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def http_url(self) -> str:
        """What users write for a mounted server: ``http://HOST:PORT/PREFIX``."""
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._server.serve())
        async with asyncio.timeout(15):
            while not self._server.started:
                if self._task.done():
                    self._task.result()  # raises why uvicorn did not start
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task


class NotFoundServer(ScriptedTcpServer):
    """Answers every request, an upgrade or a GET, with a plain 404."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[str] = []  # request lines, in order

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        self.requests.append(head[:HEAD_LIMIT].split(b"\r\n", 1)[0].decode("latin-1"))
        await answer_http(writer, 404, b"<html><body>Not Found</body></html>", "text/html")
        writer.close()


class SilentServer(ScriptedTcpServer):
    """Accepts every connection and never says a word."""

    def __init__(self) -> None:
        super().__init__()
        self.connections = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        await asyncio.Event().wait()  # until stop() cancels it
