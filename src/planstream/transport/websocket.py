"""The WebSocket transport: open a connection, accept its ``hello``, move frames.

It only moves bytes and translates failures: what a failure *means* (retry,
refresh the token, give up) is decided by :mod:`planstream.close_codes`; what
to do next by :mod:`planstream.connection_state`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from planstream.close_codes import (
    CloseCode,
    Verdict,
    VerdictKind,
    classify_close,
    classify_frame_refused,
    classify_http_status,
    classify_network_error,
)
from planstream.codec import decode_server_frame
from planstream.errors import (
    AuthenticationError,
    IncompatibleProtocolError,
    PlanStreamError,
    ProtocolError,
)
from planstream.negotiation import check_hello, client_versions
from planstream.redaction import install_redaction, is_header_safe, token_forms, without_token
from planstream.schema.frames import SUBPROTOCOL, HelloFrame
from planstream.transport.frame_tap import FrameTap

__all__ = [
    "SessionHello",
    "TransportFailedError",
    "WebSocketSession",
    "bearer_headers",
    "open_websocket",
]

_USER_AGENT: Final = "planstream-python"


class TransportFailedError(PlanStreamError):
    """A connection attempt or a connection failed; ``verdict`` says what it means."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(str(verdict.error))
        self.verdict = verdict


def bearer_headers(token: str | None) -> dict[str, str]:
    """``{"Authorization": "Bearer <token>"}`` (protocol §2), or none without a token.

    Raises:
        TransportFailedError: fatal, when the token (a token provider's, say)
            cannot be a header value; the token is not quoted.
    """
    if not token:
        return {}
    if not is_header_safe(token):
        error = AuthenticationError(
            "the token is not printable ASCII without spaces; it cannot be sent as a header"
        )
        raise TransportFailedError(Verdict(VerdictKind.FATAL, error))
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True, slots=True)
class SessionHello:
    """What an accepted ``hello`` said (protocol §2), kept for the connection's life.

    The fields of :class:`~planstream.schema.frames.HelloFrame`, without the
    model's own bookkeeping: an idle connection keeps it, a pydantic model
    costs about a kilobyte more.
    """

    protocol: int
    schema_version: str
    server: str
    session_id: str
    heartbeat_s: float
    max_frame_bytes: int

    @classmethod
    def of(cls, frame: HelloFrame) -> SessionHello:
        """The fields of an accepted ``hello`` frame."""
        return cls(
            frame.protocol,
            frame.schema_version,
            frame.server,
            frame.session_id,
            frame.heartbeat_s,
            frame.max_frame_bytes,
        )


class WebSocketSession:
    """One open connection whose ``hello`` was accepted."""

    __slots__ = (
        "_connection",
        "_has_token_provider",
        "_tap",
        "hello",
        "max_frame_bytes",
        "secrets",
    )

    def __init__(
        self,
        connection: ClientConnection,
        hello: HelloFrame,
        *,
        has_token_provider: bool,
        max_frame_bytes: int = 0,
        tap: FrameTap | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._connection = connection
        #: The token's forms (redaction.token_forms): scrubbed from server text.
        self.secrets = secrets
        self.hello = SessionHello.of(hello)
        self._has_token_provider = has_token_provider
        self.max_frame_bytes = max_frame_bytes  # for the error when we refuse a frame
        self._tap = tap  # the frame tap (debug_frames), None when off

    def __repr__(self) -> str:
        return f"WebSocketSession(session_id={self.hello.session_id!r})"

    async def recv(self) -> str | bytes:
        """The next message.

        Raises:
            TransportFailedError: the connection closed or dropped.
        """
        with self.receiving():
            raw = await self._connection.recv()
        if self._tap is not None:
            self._tap.received(raw)
        return raw

    @property
    def receiver(self) -> Callable[[], Awaitable[str | bytes]]:
        """The connection's own ``recv``, for a reader that awaits every message.

        Awaited directly it saves :meth:`recv`'s coroutine frame per message
        (a few % of a small frame's cost); await it only inside
        :meth:`receiving`, which translates the connection's end. With the
        frame tap on, it is wrapped to log each message.
        """
        if self._tap is not None:
            return self._tap.receiver(self._connection.recv)
        return self._connection.recv

    @contextmanager
    def receiving(self) -> Iterator[None]:
        """Around a reader's loop (entered once, not per message): a closed or
        dropped connection raises :class:`TransportFailedError`."""
        try:
            yield
        except ConnectionClosed as exc:
            self._tap_closed(exc)
            raise TransportFailedError(
                _closed_verdict(
                    exc,
                    has_token_provider=self._has_token_provider,
                    max_frame_bytes=self.max_frame_bytes,
                    secrets=self.secrets,
                )
            ) from None

    async def send(self, text: str) -> None:
        """Send one text frame."""
        if self._tap is not None:
            self._tap.sent(text)
        with self._translate():
            await self._connection.send(text)

    async def ping(self) -> asyncio.Future[float]:
        """Send a WebSocket ping; return a future of the round trip, set on the pong."""
        with self._translate():
            pong = asyncio.ensure_future(await self._connection.ping())
        if self._tap is not None:
            self._tap.ping(pong)
        return pong

    def abort(self) -> None:
        """Drop the connection at once (a dead peer): a pending :meth:`recv` fails."""
        self._connection.transport.abort()

    async def close(
        self,
        code: int = CloseCode.NORMAL_CLOSURE,
        reason: str = "",
        *,
        answer_within: float | None = None,
    ) -> None:
        """Close the connection (1000 by default); never raises.

        ``answer_within``: seconds to wait for the server's closing answer
        before dropping the connection (a silent peer never answers); None
        waits as long as websockets' ``close_timeout``.
        """
        if self._tap is not None and self._connection.close_code is None:
            self._tap.closing(code, reason)
        try:
            async with asyncio.timeout(answer_within):
                await self._connection.close(code, reason)
        except TimeoutError:
            self._connection.transport.abort()
        except (OSError, ConnectionClosed):
            pass  # already gone: nothing to close

    def _tap_closed(self, exc: ConnectionClosed) -> None:
        if self._tap is not None:
            self._tap.closed(exc.rcvd)

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except ConnectionClosed as exc:
            self._tap_closed(exc)
            raise TransportFailedError(
                _closed_verdict(
                    exc, has_token_provider=self._has_token_provider, secrets=self.secrets
                )
            ) from None


async def open_websocket(
    url: str,
    *,
    token: str | None,
    has_token_provider: bool,
    max_frame_bytes: int,
    ping_interval: float | None,
    ping_timeout: float | None,
    open_timeout: float,
    compression: bool = False,
    ssl_context: ssl.SSLContext | None = None,
    debug_frames: bool = False,
) -> WebSocketSession:
    """Connect, offer ``planstream.v1`` with the bearer token, accept ``hello``.

    ``ssl_context`` is the TLS context of a ``wss://`` URL (None: websockets'
    default, verifying against the system's CA store). websockets logs the
    request headers at DEBUG: the redacting filter is installed first.
    ``debug_frames``: log every frame of the connection
    (:mod:`~planstream.transport.frame_tap`).

    Raises:
        TransportFailedError: the attempt failed; its verdict classifies why
            (protocol §2 refusals, §4 closes, network errors, an incompatible
            ``hello``).
    """
    install_redaction()
    headers = bearer_headers(token)
    tap = FrameTap(url, token) if debug_frames else None
    secrets = token_forms(token)  # a server echoing the token must not get it logged
    tls: dict[str, Any] = (
        {} if ssl_context is None else {"ssl": ssl_context}
    )  # ws:// refuses an ssl argument
    try:
        connection = await connect(
            url,
            subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
            additional_headers=headers or None,
            user_agent_header=_USER_AGENT,
            max_size=max_frame_bytes,
            compression="deflate" if compression else None,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            open_timeout=open_timeout,
            **tls,
        )
    except InvalidStatus as exc:
        response = exc.response
        if tap is not None:
            tap.refused(response.status_code, bytes(response.body or b""))
        raise TransportFailedError(
            classify_http_status(
                response.status_code,
                body=without_token(
                    bytes(response.body or b"").decode("utf-8", "replace"), secrets
                ).encode(),
                has_token_provider=has_token_provider,
                retry_after=response.headers.get("Retry-After"),
                protocols_header=response.headers.get("X-Planstream-Protocols"),
                url=url,
            )
        ) from None
    except InvalidURI as exc:
        error = PlanStreamError(f"invalid server URL: {exc}")
        raise TransportFailedError(Verdict(VerdictKind.FATAL, error)) from None
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        raise TransportFailedError(classify_network_error(exc)) from None
    if connection.subprotocol != SUBPROTOCOL:
        # protocol §2: a server that selected no common subprotocol is not ours.
        await connection.close(CloseCode.INCOMPATIBLE, "incompatible protocol")
        error = IncompatibleProtocolError(
            server=f"subprotocol {connection.subprotocol!r}",
            client=f"subprotocol {SUBPROTOCOL}",
            detail="the server selected no common subprotocol",
        )
        raise TransportFailedError(Verdict(VerdictKind.FATAL, error))
    hello = await _accept_hello(
        connection, open_timeout, max_frame_bytes, has_token_provider, tap, secrets
    )
    # The handshake's headers (~3.5 KiB) are not needed once the connection is
    # open; an idle connection should not keep them. (The response object stays:
    # websockets reads "handshake done" from its presence.)
    for message in (connection.request, connection.response):
        if message is not None:
            message.headers.clear()
    return WebSocketSession(
        connection,
        hello,
        has_token_provider=has_token_provider,
        max_frame_bytes=max_frame_bytes,
        tap=tap,
        secrets=secrets,
    )


async def _accept_hello(
    connection: ClientConnection,
    seconds: float,
    max_frame_bytes: int,
    has_token_provider: bool,
    tap: FrameTap | None,
    secrets: tuple[str, ...],
) -> HelloFrame:
    """Read and check the first frame (protocol §2); close with 4006 if incompatible."""
    try:
        async with asyncio.timeout(seconds):
            raw = await connection.recv()
        if tap is not None:
            tap.received(raw)
    except ConnectionClosed as exc:
        if tap is not None:
            tap.closed(exc.rcvd)
        raise TransportFailedError(
            _closed_verdict(exc, has_token_provider=has_token_provider, secrets=secrets)
        ) from None
    except (OSError, TimeoutError) as exc:
        await connection.close()
        raise TransportFailedError(classify_network_error(exc)) from None
    try:
        frame = decode_server_frame(raw, max_bytes=max_frame_bytes)
        if not isinstance(frame, HelloFrame):
            raise IncompatibleProtocolError(
                server=f"a first frame of type {frame.type!r}",
                client=client_versions(),
                detail="expected hello",
            )
        check_hello(frame)
        if tap is not None:
            tap.named(frame.session_id)
    except ProtocolError as exc:
        error = (
            exc
            if isinstance(exc, IncompatibleProtocolError)
            else IncompatibleProtocolError(
                server="an undecodable hello",
                client=client_versions(),
                detail=without_token(str(exc), secrets),
            )
        )
        await connection.close(CloseCode.INCOMPATIBLE, "incompatible protocol")
        raise TransportFailedError(Verdict(VerdictKind.FATAL, error)) from None
    return frame


def _closed_verdict(
    exc: ConnectionClosed,
    *,
    has_token_provider: bool,
    max_frame_bytes: int = 0,
    secrets: tuple[str, ...] = (),
) -> Verdict:
    sent = exc.sent
    if (
        sent is not None
        and sent.code == CloseCode.MESSAGE_TOO_BIG
        and (exc.rcvd is None or exc.rcvd_then_sent is False)
    ):
        # We refused a frame larger than max_frame_bytes and closed first; the
        # server's 1009 is only the echo (protocol §4: fatal, a clear error).
        return classify_frame_refused(max_frame_bytes, sent.reason)
    if exc.rcvd is not None:
        reason = without_token(exc.rcvd.reason, secrets)  # server text: no token in errors
        return classify_close(exc.rcvd.code, reason, has_token_provider=has_token_provider)
    return classify_close(CloseCode.ABNORMAL_CLOSURE, "", has_token_provider=has_token_provider)
