"""Robot Framework keywords: a scripted WebSocket server to test the client transport.

``Start Mock Server`` runs a real ``websockets`` server on 127.0.0.1 in a
background thread with its own event loop. It selects the ``planstream.v1``
subprotocol, records what each upgrade request carried (``Authorization``,
the offered subprotocols) and plays a script on every connection: one action
per argument, in order, e.g. ``hello 2.0``, ``send {"type": "heartbeat"...}``,
``close 4029 {"retry_after": 7}``. After the script it waits for the client to
close and records the close code it received.

``Open Transport ...`` keywords run ``open_websocket`` against it in a fresh
event loop (``asyncio.run``) and keep the verdict of the failure, if any, for
``Verdict Should Be`` and friends.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from planstream.close_codes import Verdict
from planstream.transport.websocket import TransportFailedError, WebSocketSession, open_websocket

__all__ = ["MockPlanstreamServer"]

_SUBPROTOCOL = "planstream.v1"
_WAIT = 10.0


def _hello(schema: str = "1.0") -> str:
    return json.dumps(
        {
            "type": "hello",
            "protocol": 1,
            "schema": schema,
            "server": "mock-planstream/0.1",
            "session_id": "mock-session-1",
            "heartbeat_s": 15.0,
            "max_frame_bytes": 1_048_576,
        }
    )


class MockPlanstreamServer:
    """A scripted planstream WebSocket server, and keywords to connect to it."""

    ROBOT_LIBRARY_SCOPE = "TEST"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Server | None = None
        self._script: tuple[str, ...] = ()
        self._subprotocols: list[str] | None = [_SUBPROTOCOL]
        self._refusal: Response | None = None
        self._requests: list[Request] = []
        self._close_codes: list[int | None] = []
        self._closed = threading.Event()
        self.url = ""
        self._verdict: Verdict | None = None
        self._failure: TransportFailedError | None = None
        self._received: list[str | bytes] = []

    # --- the mock server ---------------------------------------------------------

    def start_mock_server(self, *script: str) -> str:
        """Start the server playing ``script`` on each connection; return its URL.

        Actions: ``hello`` (schema 1.0) or ``hello <schema>``; ``send <text>``;
        ``send_large <bytes>`` (one text frame of that size); ``close <code>
        [reason]``; ``sleep <seconds>`` (non-blocking); ``block <seconds>``
        (blocks the server's loop: it answers nothing meanwhile); ``abort``
        (drop the TCP connection without a close frame).
        """
        self._script = script
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="mock-planstream", daemon=True
        )
        self._thread.start()
        self._server = self._call(self._serve())
        port = self._server.sockets[0].getsockname()[1] if self._server.sockets else 0
        self.url = f"ws://127.0.0.1:{port}/v1/stream"
        return self.url

    def refuse_upgrades_with(self, status: int, body: str = "", *headers: str) -> None:
        """Answer every upgrade with HTTP ``status``, ``body`` and ``Name: value`` headers."""
        response_headers = Headers([("Content-Type", "application/json")])
        for header in headers:
            name, _, value = header.partition(":")
            response_headers[name.strip()] = value.strip()
        reason = {400: "Bad Request", 401: "Unauthorized", 503: "Service Unavailable"}
        self._refusal = Response(
            int(status), reason.get(int(status), "Refused"), response_headers, body.encode()
        )

    def select_no_subprotocol(self) -> None:
        """Make the next started server accept upgrades without selecting a subprotocol."""
        self._subprotocols = None

    def stop_mock_server(self) -> None:
        """Stop the server and its thread (suite teardown); idempotent."""
        loop, thread, server = self._loop, self._thread, self._server
        self._loop = self._thread = self._server = None
        if loop is None or thread is None:
            return
        if server is not None:
            server.close()
            asyncio.run_coroutine_threadsafe(server.wait_closed(), loop).result(_WAIT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_WAIT)
        loop.close()

    def _call(self, coro: Awaitable[Any]) -> Any:
        assert self._loop is not None
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
        return future.result(_WAIT)

    async def _serve(self) -> Server:
        return await serve(
            self._handle,
            "127.0.0.1",
            0,
            subprotocols=self._subprotocols,  # type: ignore[arg-type]
            process_request=self._process_request,
            max_size=None,
            ping_interval=None,
        )

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self._requests.append(request)
        return self._refusal

    async def _handle(self, connection: ServerConnection) -> None:
        try:
            for action in self._script:
                verb, _, argument = action.partition(" ")
                await self._act(connection, verb, argument)
            await asyncio.wait_for(connection.wait_closed(), _WAIT)
        finally:
            self._close_codes.append(connection.close_code)
            self._closed.set()

    async def _act(self, connection: ServerConnection, verb: str, argument: str) -> None:
        actions: dict[str, Callable[[], Awaitable[None]]] = {
            "hello": lambda: connection.send(_hello(argument or "1.0")),
            "send": lambda: connection.send(argument),
            "send_large": lambda: connection.send(
                json.dumps({"type": "heartbeat", "pad": "x" * int(argument)})[: int(argument)]
            ),
            "close": lambda: connection.close(int(argument.split(" ", 1)[0]), _rest(argument)),
            "sleep": lambda: asyncio.sleep(float(argument)),
            "block": lambda: _block(float(argument)),
            "abort": lambda: _abort(connection),
        }
        if verb not in actions:
            raise ValueError(f"unknown mock action {verb!r}")
        await actions[verb]()

    # --- what the server saw -----------------------------------------------------

    def recorded_authorization(self) -> str | None:
        """The ``Authorization`` header of the last upgrade request (None if absent)."""
        return self._last_request().headers.get("Authorization")

    def recorded_subprotocols(self) -> list[str]:
        """The subprotocols the last upgrade request offered, in order."""
        offered = self._last_request().headers.get_all("Sec-WebSocket-Protocol")
        return [p.strip() for value in offered for p in value.split(",") if p.strip()]

    def mock_server_should_have_received_close_code(self, code: int) -> None:
        """Wait for a connection to end; fail unless the client closed it with ``code``."""
        if not self._closed.wait(_WAIT):
            raise AssertionError("no connection to the mock server ended")
        if self._close_codes[-1] != int(code):
            raise AssertionError(f"the mock server received close code {self._close_codes[-1]}")

    def _last_request(self) -> Request:
        if not self._requests:
            raise AssertionError("the mock server received no upgrade request")
        return self._requests[-1]

    # --- the client transport ----------------------------------------------------

    def open_transport_should_fail(
        self,
        token: str | None = None,
        has_token_provider: bool = False,
        max_frame_bytes: int = 1_048_576,
        open_timeout: float = 5.0,
    ) -> str:
        """Run ``open_websocket``; fail if it succeeds; return the verdict kind."""
        try:
            session = asyncio.run(
                self._open(token, has_token_provider, int(max_frame_bytes), float(open_timeout))
            )
        except TransportFailedError as exc:
            return self._keep(exc)
        asyncio.run(session.close())
        raise AssertionError(f"the transport connected: {session!r}, hello {session.hello!r}")

    def open_transport_should_succeed(
        self, token: str | None = None, has_token_provider: bool = False
    ) -> Any:
        """Run ``open_websocket``, close the session and return its hello."""

        async def open_and_close() -> WebSocketSession:
            session = await self._open(token, has_token_provider, 1_048_576, 5.0)
            await session.close()
            return session

        try:
            session = asyncio.run(open_and_close())
        except TransportFailedError as exc:
            raise AssertionError(f"the transport failed: {exc.verdict!r}") from exc
        return session.hello

    def receive_from_transport_until_it_fails(
        self,
        token: str | None = None,
        has_token_provider: bool = False,
        max_frame_bytes: int = 1_048_576,
    ) -> str:
        """Connect, then ``recv`` until a failure; return its verdict kind.

        The messages received before the failure are kept (``Received Messages``).
        """

        async def receive() -> None:
            session = await self._open(token, has_token_provider, int(max_frame_bytes), 5.0)
            try:
                while True:
                    self._received.append(await asyncio.wait_for(session.recv(), _WAIT))
            finally:
                await session.close()

        self._received = []
        try:
            asyncio.run(receive())
        except TransportFailedError as exc:
            return self._keep(exc)
        raise AssertionError("unreachable: recv loops until it raises")  # pragma: no cover

    def received_messages(self) -> list[str | bytes]:
        """Messages ``recv`` returned before the last failure."""
        return list(self._received)

    def verdict_should_be(self, kind: str, error: str, retry_after: float | None = None) -> None:
        """Fail unless the last verdict has this kind, error class and ``retry_after``."""
        verdict = self._last_verdict()
        got = (str(verdict.kind), type(verdict.error).__name__, verdict.retry_after)
        expected = (kind, error, None if retry_after is None else float(retry_after))
        if got != expected:
            raise AssertionError(f"verdict {got} != expected {expected}: {verdict.error}")

    def verdict_message(self) -> str:
        """The message of the last failure."""
        assert self._failure is not None
        return str(self._failure)

    async def _open(
        self, token: str | None, has_token_provider: bool, max_frame_bytes: int, open_timeout: float
    ) -> WebSocketSession:
        return await open_websocket(
            self.url,
            token=token,
            has_token_provider=bool(has_token_provider),
            max_frame_bytes=max_frame_bytes,
            ping_interval=None,
            ping_timeout=None,
            open_timeout=open_timeout,
        )

    def _keep(self, failure: TransportFailedError) -> str:
        self._failure = failure
        self._verdict = failure.verdict
        return str(failure.verdict.kind)

    def _last_verdict(self) -> Verdict:
        if self._verdict is None:
            raise AssertionError("no transport failure was recorded")
        return self._verdict


def _rest(argument: str) -> str:
    return argument.split(" ", 1)[1] if " " in argument else ""


async def _block(seconds: float) -> None:
    time.sleep(seconds)  # noqa: ASYNC251 - on purpose: the server answers nothing meanwhile


async def _abort(connection: ServerConnection) -> None:
    connection.transport.abort()
