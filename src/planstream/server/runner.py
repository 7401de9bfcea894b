"""Serving the app with uvicorn: embedded in an asyncio program, or standalone.

``async with PlanStreamServer(settings) as server`` starts uvicorn (its
``websockets-sansio`` implementation) in a task the server owns, waits until it
listens, and on exit closes every WebSocket with 1001 before stopping.
``serve()`` does the same until SIGTERM or SIGINT, and reloads the
credential files (API keys) on SIGHUP.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import ssl
from collections.abc import Callable, Generator, Mapping
from types import TracebackType
from typing import Any, Self, overload

import uvicorn

from planstream.schema.event_data import EventData
from planstream.schema.frames import STREAM_PATH
from planstream.server.app import create_app
from planstream.server.auth import TokenVerifier
from planstream.server.event_log import EventLog, StoredEvent
from planstream.server.listen import ServerStartError, bind_listeners
from planstream.server.publishing import publish_arguments
from planstream.server.settings import ServerSettings
from planstream.server.state import ServerState
from planstream.server.tcp_guard import (
    ConnectionGuard,
    RepeatedLineFilter,
    guarded_protocol,
    tcp_connection_cap,
)

logger = logging.getLogger("planstream.server")

__all__ = ["PlanStreamServer", "serve"]


class _DenialNoiseFilter(logging.Filter):
    """Drop uvicorn's false alarm after a WebSocket denial response.

    uvicorn's websockets-sansio implementation logs "ASGI callable returned
    without completing handshake" even when the app answered the upgrade with
    an HTTP response (protocol §2: 400/401/403 before the upgrade).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing handshake" not in record.getMessage()


class _EmbeddedUvicorn(uvicorn.Server):
    """uvicorn without its own signal handlers: the owner decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class PlanStreamServer:
    """The reference server, embedded in the running event loop.

    Args:
        settings: server settings (default: ``ServerSettings()``, which reads
            ``PLANSTREAM_SERVER_*``). Port 0 picks a free port.
        log: the event log (default: a :class:`MemoryEventLog`).
        verifier: token verification (default: the settings' static tokens).
        log_level: uvicorn's log level.
    """

    def __init__(
        self,
        settings: ServerSettings | None = None,
        *,
        log: EventLog | None = None,
        verifier: TokenVerifier | None = None,
        log_level: str = "warning",
    ) -> None:
        self.settings = settings if settings is not None else ServerSettings()
        self.app = create_app(self.settings, log=log, verifier=verifier)
        self.state: ServerState = self.app.state.planstream
        fd_limit = _fd_limit()
        tcp_cap = tcp_connection_cap(self.settings.max_connections, fd_limit)
        if tcp_cap <= self.settings.max_connections:
            logger.warning(
                "max_connections %d does not fit under the open-file limit %s: at most %d TCP "
                "connections will be held open (raise `ulimit -n` or lower max_connections)",
                self.settings.max_connections,
                fd_limit,
                tcp_cap,
            )
        self.guard = ConnectionGuard(
            handshake_timeout=self.settings.handshake_timeout,
            tcp_cap=tcp_cap,
            metrics=self.state.metrics,
        )
        self._config = uvicorn.Config(
            self.app,
            host=self.settings.host,
            port=self.settings.port,
            # The h11 protocol with a handshake deadline and a hard cap (tcp_guard.py).
            http=guarded_protocol(self.guard),
            ws="websockets-sansio",
            ws_max_size=self.settings.max_frame_bytes,
            ws_ping_interval=self.settings.ws_ping_interval,
            ws_ping_timeout=self.settings.ws_ping_timeout,
            ws_per_message_deflate=self.settings.compression,
            lifespan="on",
            log_level=log_level,
            timeout_graceful_shutdown=max(1, round(self.settings.close_timeout)),
            # TLS: uvicorn loads the certificate (and fails at start if it cannot).
            ssl_certfile=self.settings.ssl_certfile,
            ssl_keyfile=self.settings.ssl_keyfile,
        )
        self._uvicorn = _EmbeddedUvicorn(self._config)
        self._noise_filter = _DenialNoiseFilter()
        self._accept_filter = RepeatedLineFilter("out of system resource")
        self._bad_request_filter = RepeatedLineFilter("Invalid HTTP request received")
        self._task: asyncio.Task[None] | None = None
        self.port: int | None = None

    def __repr__(self) -> str:
        return f"PlanStreamServer(host={self.settings.host!r}, port={self.port})"

    @property
    def http_url(self) -> str:
        """Base URL of the HTTP endpoints."""
        if self.port is None:
            raise RuntimeError("the server is not started")
        scheme = "https" if self.settings.ssl_certfile is not None else "http"
        return f"{scheme}://{_url_host(self.settings.host)}:{self.port}"

    @property
    def url(self) -> str:
        """URL of the WebSocket endpoint."""
        return "ws" + self.http_url.removeprefix("http") + STREAM_PATH

    @property
    def dashboard_url(self) -> str | None:
        """URL of the browser dashboard, None when ``settings.dashboard`` is off."""
        return f"{self.http_url}/" if self.settings.dashboard else None

    async def start(self) -> None:
        """Start serving; returns once the socket listens.

        Raises:
            ServerStartError: the port is in use or not allowed, the host is
                unknown or not this machine's, or the TLS certificate cannot
                be loaded; nothing is left running.
        """
        if self._task is not None:
            raise RuntimeError("the server is already started")
        self._load_config()
        sockets = await bind_listeners(self.settings.host, self.settings.port)
        logging.getLogger("uvicorn.error").addFilter(self._noise_filter)
        logging.getLogger("asyncio").addFilter(self._accept_filter)
        logging.getLogger("uvicorn.error").addFilter(self._bad_request_filter)
        self._task = asyncio.create_task(self._serve(sockets), name="planstream-uvicorn")
        while not self._uvicorn.started:
            if self._task.done():
                task, self._task = self._task, None  # not started: nothing to stop
                self._remove_log_filters()
                await task  # raises why it could not start
                raise RuntimeError("the server stopped before it started")
            await asyncio.sleep(0.01)
        self.port = sockets[0].getsockname()[1]

    def _load_config(self) -> None:
        """Let uvicorn load its configuration now, so a bad certificate is one clear error."""
        if self._config.loaded:
            return
        try:
            self._config.load()
        except OSError as exc:  # only TLS reads files here: ssl.SSLError is an OSError too
            certfile, keyfile = self.settings.ssl_certfile, self.settings.ssl_keyfile
            if certfile is None:
                raise  # pragma: no cover - nothing else in load() touches the system
            what = f"the TLS certificate {certfile}" + (
                f" with the key {keyfile}" if keyfile else ""
            )
            if isinstance(exc, ssl.SSLError):
                why = f"not a PEM certificate and private key that match (OpenSSL: {exc.strerror})"
            else:
                why = exc.strerror or str(exc)
            raise ServerStartError(f"cannot load {what}: {why}") from None

    async def _serve(self, sockets: list[socket.socket]) -> None:
        try:
            await self._uvicorn.serve(sockets=sockets)
        except SystemExit as exc:
            # uvicorn calls sys.exit() when it cannot start (its lifespan
            # failed): raised in a task, SystemExit would escape the owner's
            # event loop instead of being raised by start().
            raise ServerStartError(
                f"the server could not start on {self.settings.host}:{self.settings.port} "
                f"(uvicorn exit status {exc.code}; its log says why)"
            ) from None
        finally:
            for sock in sockets:  # uvicorn closes them when it ran; not when it failed
                sock.close()

    async def stop(self) -> None:
        """Close every WebSocket with 1001, then stop uvicorn and wait for it."""
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await self.state.aclose()
            self._uvicorn.should_exit = True
            await task
        finally:
            self._remove_log_filters()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def _remove_log_filters(self) -> None:
        logging.getLogger("uvicorn.error").removeFilter(self._noise_filter)
        logging.getLogger("asyncio").removeFilter(self._accept_filter)
        logging.getLogger("uvicorn.error").removeFilter(self._bad_request_filter)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @overload
    async def publish(
        self, plan_id: str, data: EventData, *, idempotency_key: str | None = None
    ) -> StoredEvent: ...

    @overload
    async def publish(
        self,
        plan_id: str,
        kind: str,
        data: Mapping[str, Any],
        /,
        *,
        idempotency_key: str | None = None,
    ) -> StoredEvent: ...

    async def publish(
        self,
        plan_id: str,
        data: EventData | str,
        raw: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> StoredEvent:
        """Validate and append one event (see :meth:`ServerState.publish`).

        ``publish(plan_id, LogData(...))`` (the model names the kind) or
        ``publish(plan_id, "log", {...})``; with ``idempotency_key``, a
        repeat appends nothing (protocol §6).
        """
        kind, values = publish_arguments(data, raw)
        return await self.state.publish_kind(plan_id, kind, values, idempotency_key=idempotency_key)


async def serve(settings: ServerSettings | None = None, *, log_level: str = "info") -> None:
    """Run the server until SIGTERM or SIGINT, then shut down gracefully (1001).

    SIGHUP reloads the credential files (API keys), open connections kept.
    """
    await serve_until_signal(PlanStreamServer(settings, log_level=log_level))


# Not in __all__: the CLI's and ``python -m planstream.server``'s loop.
async def serve_until_signal(server: PlanStreamServer, *, log: logging.Logger = logger) -> None:
    """Start ``server``, print where it listens, and stop it on SIGTERM or SIGINT.

    SIGHUP reloads its credential files (:meth:`ServerState.reload_credentials`).
    The one serving loop of ``python -m planstream.server`` and ``planstream
    serve``: stopping closes every connection with 1001. ``log`` gets the
    event log's description at start and a line when stopping.
    """
    with stop_signals() as stop, reload_signal(server.state.reload_credentials):
        async with server:
            # Everything loaded so far lives as long as the process: keep it out
            # of the collector's full passes, which otherwise walk it again and
            # again while publishes allocate (CPython's gc.freeze() advice).
            gc.freeze()
            print(f"planstream server listening on {server.url}", flush=True)
            if server.dashboard_url is not None:
                print(f"planstream dashboard on {server.dashboard_url}", flush=True)
            # The log's repr never holds a password (issue 11 item 2).
            log.info("event log: %r", server.state.log)
            # Counts and file names only: no verifier built from settings shows a secret.
            log.info("credentials: %r", server.state.verifier)
            await stop.wait()
            log.info("stopping: closing connections with 1001")


# Not in __all__: the serving loop's and ``planstream demo``'s way to wait for Ctrl-C.
@contextlib.contextmanager
def stop_signals() -> Generator[asyncio.Event, None, None]:
    """An event set by SIGTERM or SIGINT while the block runs (in the running loop).

    Inside the block neither signal interrupts the program: the owner waits
    for the event and shuts down in order.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        yield stop
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


# Not in __all__: the serving loop's SIGHUP (an embedding program installs its own).
@contextlib.contextmanager
def reload_signal(reload: Callable[[], None]) -> Generator[None, None, None]:
    """SIGHUP calls ``reload`` (in the running loop) while the block runs.

    ``planstream serve`` reloads its credential files (the API key file) this
    way, like most daemons; where there is no SIGHUP (Windows) nothing is installed.
    """
    signum = getattr(signal, "SIGHUP", None)
    if signum is None:  # pragma: no cover - not on Windows
        yield
        return
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signum, reload)
    try:
        yield
    finally:
        loop.remove_signal_handler(signum)


def _fd_limit() -> int | None:
    """The soft ``RLIMIT_NOFILE`` of this process, None when unlimited or unknown."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def _url_host(host: str) -> str:
    if host in {"0.0.0.0", ""}:  # noqa: S104 - turning a bind-all address into a dialable one
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
