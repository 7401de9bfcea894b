"""Steps of frame_tap.feature run in the test process: the tap's lines through a
handler on ``planstream.frames``, from a tapped transport against the reference
server, from a :class:`FrameTap` fed by hand, and from a server that closes
before its ``hello``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from fnmatch import fnmatchcase
from typing import Any

from behave import given, then, when
from support.servers import on_cleanup, run
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from planstream.transport.frame_tap import FRAME_LOGGER, FrameTap
from planstream.transport.websocket import TransportFailedError, WebSocketSession, open_websocket


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@given("a handler collecting the lines of planstream.frames")
def given_collector(context: Any) -> None:
    logger = logging.getLogger(FRAME_LOGGER)
    collector = _Collector()
    logger.addHandler(collector)
    context.frame_collector = collector

    async def restore() -> None:
        logger.removeHandler(collector)
        logger.setLevel(logging.NOTSET)  # as it was: the tap set DEBUG

    on_cleanup(context, restore)


async def _open_tapped(url: str) -> WebSocketSession:
    return await open_websocket(
        url,
        token=None,
        has_token_provider=False,
        max_frame_bytes=1_048_576,
        ping_interval=None,
        ping_timeout=None,
        open_timeout=5.0,
        debug_frames=True,
    )


@when(
    "the transport opens a tapped connection without a token, sends a ping frame"
    " and receives its pong"
)
def when_tapped_transport(context: Any) -> None:
    context.tap_url = context.server.url

    async def exchange() -> None:
        session = await _open_tapped(context.tap_url)
        await session.send('{"type":"ping","id":"tap-1"}')
        pong = json.loads(await session.recv())
        assert pong["type"] == "pong", pong
        await session.close()

    run(context, exchange())


@when(
    'a second tapped connection to "{url}" sees a hello naming session "{session}",'
    " a lost connection and a pong that never came"
)
def when_second_tap(context: Any, url: str, session: str) -> None:
    async def play() -> None:
        tap = FrameTap(url, None)
        tap.received("{}")
        tap.named(session.replace("\\x1b", "\x1b"))
        tap.closed(None)
        pong: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        tap.ping(pong)
        pong.cancel()
        await asyncio.sleep(0)  # the done callback runs, and logs nothing
        context.second_tap = tap

    run(context, play())


@given('a server that accepts the upgrade and closes with {code:d} "{reason}" before any hello')
def given_closing_server(context: Any, code: int, reason: str) -> None:
    async def handler(websocket: ServerConnection) -> None:
        await websocket.close(code, reason)

    async def start() -> Server:
        return await serve(handler, "127.0.0.1", 0, subprotocols=[Subprotocol("planstream.v1")])

    server = run(context, start())
    port = next(iter(server.sockets)).getsockname()[1]
    context.tap_url = f"ws://127.0.0.1:{port}/v1/stream"

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    on_cleanup(context, stop)


@when("the transport opens a tapped connection to it")
def when_tapped_refused(context: Any) -> None:
    async def attempt() -> None:
        try:
            await _open_tapped(context.tap_url)
        except TransportFailedError:
            return
        raise AssertionError("the connection opened")

    run(context, attempt())


@then("the collected frame lines are:")
def then_collected(context: Any) -> None:
    lines = context.frame_collector.lines
    # fnmatch patterns: "*" is any text, "[" is literal
    patterns = [
        row["line"].replace("[", "[[]").replace("{server}", context.tap_url)
        for row in context.table
    ]
    assert len(lines) == len(patterns), (lines, patterns)
    for line, pattern in zip(lines, patterns, strict=True):
        assert fnmatchcase(line, pattern), (line, pattern)


@then("the tap's repr names its URL and session only")
def then_tap_repr(context: Any) -> None:
    shown = repr(context.second_tap)
    prefix = r"ws://***@127.0.0.1:9/v1/stream?token=***&x=1 [s\x1b1]"  # the escape, as text
    assert shown == f"FrameTap({prefix!r})", shown
