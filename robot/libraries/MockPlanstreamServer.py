"""Robot Framework keywords: a scripted WebSocket server to test the client transport.

``Start Mock Server`` runs a real ``websockets`` server on 127.0.0.1 in a
background thread with its own event loop. It selects the ``planstream.v1``
subprotocol, records what each upgrade request carried (``Authorization``,
the offered subprotocols) and plays a script on every connection: one action
per argument, in order, e.g. ``hello 2.0``, ``send {"type": "heartbeat"...}``,
``close 4029 {"retry_after": 7}``. After the script it waits for the client to
close and records the close code it received. ``Script Connection`` gives
the n-th connection a script of its own instead.

Every connection also records the frames the client sends. Scripts for
testing the full client answer them: ``expect_subscribe`` waits for the
client's next ``subscribe``; ``subscribed 5``, ``resync history_expired 10``,
``events 3 1 2`` and ``batch 1 2 2`` answer it (event ``n`` has the id
``evt-n``); ``sync`` waits until the client has read everything sent so far.

``Open Transport ...`` keywords run ``open_websocket`` against it in a fresh
event loop (``asyncio.run``) and keep the verdict of the failure, if any, for
``Verdict Should Be`` and friends.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any

from mock_connection import MockConnection, ScriptedConnection
from robot.utils import timestr_to_secs
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from planstream.close_codes import Verdict
from planstream.transport.websocket import TransportFailedError, WebSocketSession, open_websocket

__all__ = ["MockPlanstreamServer"]

_SUBPROTOCOL = "planstream.v1"
_WAIT = 10.0


class MockPlanstreamServer:
    """A scripted planstream WebSocket server, and keywords to connect to it."""

    ROBOT_LIBRARY_SCOPE = "TEST"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Server | None = None
        self._script: tuple[str, ...] = ()
        self._scripts: dict[int, tuple[str, ...]] = {}
        self._subprotocols: list[str] | None = [_SUBPROTOCOL]
        self._refusal: Response | None = None
        self._requests: list[Request] = []
        self._upgrade_times: dict[ServerConnection, float] = {}
        self._connections: list[MockConnection] = []
        self._changed = threading.Condition()
        self._close_codes: list[int | None] = []
        self._closed = threading.Event()
        self.url = ""
        self._verdict: Verdict | None = None
        self._failure: TransportFailedError | None = None
        self._received: list[str | bytes] = []

    # --- the mock server ---------------------------------------------------------

    def start_mock_server(self, *script: str) -> str:
        """Start the server playing ``script`` on each connection; return its URL.

        Actions: ``hello`` (schema 1.0) or ``hello <schema> [<heartbeat_s>]``;
        ``send <text>``; ``send_large <bytes>`` (one text frame of that size);
        ``close <code> [reason]``; ``sleep <seconds>`` (non-blocking); ``block
        <seconds>`` (blocks the server's loop: it answers nothing meanwhile);
        ``abort`` (drop the TCP connection without a close frame);
        ``expect_subscribe`` (wait for the client's next ``subscribe``);
        ``subscribed <head seq|none>`` and ``resync <reason> <head seq>`` (answer
        it); ``events <seq>...`` (one frame each) and ``batch <seq>...`` (one
        frame) for its plan; ``sync`` (a WebSocket ping: once its pong is
        back, the client has read every frame sent before).
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

    def script_connection(self, number: int, *script: str) -> None:
        """Play ``script`` on the ``number``-th connection (from 1) instead of the default."""
        self._scripts[int(number)] = script

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
        """Stop the server and its thread (test teardown); idempotent.

        Fails if a script went wrong (an unknown action, an awaited frame that
        never came): the test relied on a conversation that did not happen.
        """
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
        errors = self._script_errors()
        if errors:
            raise AssertionError(f"mock server scripts failed:{errors}")

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
        if self._refusal is None:
            self._upgrade_times[connection] = time.monotonic()
        return self._refusal

    async def _handle(self, connection: ServerConnection) -> None:
        with self._changed:
            upgraded_at = self._upgrade_times.pop(connection, time.monotonic())
            record = MockConnection(len(self._connections) + 1, upgraded_at)
            self._connections.append(record)
            self._changed.notify_all()
        scripted = ScriptedConnection(connection, record, self._changed)
        reader = asyncio.create_task(scripted.read())
        try:
            outcome = await scripted.play(self._scripts.get(record.number, self._script))
            scripted.update(script_outcome=outcome)
            await connection.wait_closed()
            await reader
        finally:
            reader.cancel()
            self._close_codes.append(connection.close_code)
            scripted.update(ended=True, close_code=connection.close_code)
            self._closed.set()

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

    # --- what the server saw, for client tests -------------------------------------

    def mock_connection_count(self) -> int:
        """How many connections were upgraded so far."""
        with self._changed:
            return len(self._connections)

    def wait_for_mock_connections(self, count: int, timeout: str = "5s") -> None:
        """Wait until ``count`` connections were upgraded; fail after ``timeout``."""
        self._wait(
            lambda: len(self._connections) >= int(count),
            timeout,
            lambda: f"{len(self._connections)} connection(s) within {timeout}, expected {count}",
        )

    def mock_connection_count_should_stay(self, count: int, period: str = "1s") -> None:
        """Fail if the number of connections is not ``count`` or changes within ``period``."""
        with self._changed:
            if self._changed.wait_for(
                lambda: len(self._connections) != int(count), timestr_to_secs(period)
            ):
                raise AssertionError(
                    f"{len(self._connections)} connection(s), expected {count} to stay"
                    + self._script_errors()
                )

    def subscribe_frame_should_carry(
        self,
        connection: int,
        last_event_id: str | None,
        index: int = 1,
        plan_id: str = "plan-1",
        timeout: str = "5s",
    ) -> dict[str, Any]:
        """Wait for the ``index``-th ``subscribe`` on ``connection``; check and return it."""
        record = self._wait_for_connection(int(connection), timeout)
        self._wait(
            lambda: len(record.subscribes()) >= int(index),
            timeout,
            lambda: (
                f"connection {connection} got {len(record.subscribes())} subscribe(s) "
                f"within {timeout}, expected at least {index}: {record.frames}"
            ),
        )
        frame = record.subscribes()[int(index) - 1]
        got = (frame.get("plan_id"), frame.get("last_event_id"))
        if got != (plan_id, last_event_id) or "last_event_id" not in frame:
            raise AssertionError(
                f"subscribe {index} on connection {connection} is {frame}, "
                f"expected plan_id {plan_id!r} and last_event_id {last_event_id!r}"
            )
        return frame

    def subscribe_frames(self, connection: int) -> list[dict[str, Any]]:
        """The ``subscribe`` frames received on ``connection`` so far."""
        with self._changed:
            return self._connection(int(connection)).subscribes()

    def mock_script_should_complete(self, connection: int, timeout: str = "5s") -> None:
        """Wait until ``connection`` played its whole script; fail if it could not."""
        record = self._wait_for_connection(int(connection), timeout)
        self._wait(
            lambda: bool(record.script_outcome),
            timeout,
            lambda: f"the script of connection {connection} is still running after {timeout}",
        )
        if record.script_outcome != "completed":
            raise AssertionError(f"connection {connection}: {record.script_outcome}")

    def mock_connection_should_have_ended_with(
        self, connection: int, code: int, timeout: str = "5s"
    ) -> None:
        """Wait for ``connection`` to end; fail unless its close code is ``code``."""
        record = self._wait_for_connection(int(connection), timeout)
        self._wait(
            lambda: record.ended,
            timeout,
            lambda: f"connection {connection} is still open after {timeout}",
        )
        if record.close_code != int(code):
            raise AssertionError(f"connection {connection} ended with {record.close_code}")

    def seconds_between_close_and_next_connection(
        self, connection: int, timeout: str = "5s"
    ) -> float:
        """Seconds from the mock closing ``connection`` to the next upgrade request."""
        following = self._wait_for_connection(int(connection) + 1, timeout)
        with self._changed:
            closed_at = self._connection(int(connection)).closed_by_mock_at
        if closed_at is None:
            raise AssertionError(f"the mock did not close connection {connection}")
        return following.upgraded_at - closed_at

    def _connection(self, number: int) -> MockConnection:
        if not 1 <= number <= len(self._connections):
            raise AssertionError(f"no connection {number}: {len(self._connections)} so far")
        return self._connections[number - 1]

    def _wait_for_connection(self, number: int, timeout: str) -> MockConnection:
        self.wait_for_mock_connections(number, timeout)
        with self._changed:
            return self._connection(number)

    def _wait(
        self, predicate: Callable[[], bool], timeout: str, failure: Callable[[], str]
    ) -> None:
        """Wait until ``predicate`` (read under the condition) holds, or fail."""
        with self._changed:
            if not self._changed.wait_for(predicate, timestr_to_secs(timeout)):
                raise AssertionError(failure() + self._script_errors())

    def _script_errors(self) -> str:
        with self._changed:
            return "".join(
                f"\n  connection {record.number}: {record.script_outcome}"
                for record in self._connections
                if record.script_outcome.startswith("error")
            )

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
