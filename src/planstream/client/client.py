"""``PlanStreamClient``: what users import.

.. code-block:: python

    async with PlanStreamClient("ws://127.0.0.1:8765/v1/stream", token="...") as client:
        async for item in client.subscribe("plan-1"):   # ends after a terminal status
            if isinstance(item, Resync):
                ...  # history was lost; item.snapshot is the plan's state
            else:
                ...  # item.seq, item.event_id, item.kind, typed item.data

Many subscriptions share one connection; each has its own bounded inbox.
The connection (:class:`~planstream.client.connection_driver.ConnectionDriver`) runs in a task group
the client enters in ``__aenter__`` and cancels in ``__aexit__``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl as _ssl
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any, Self, overload

from planstream.backoff import ModuleRandom, RandomSource
from planstream.client.arguments import settings_with_arguments
from planstream.client.callbacks import (
    AnyHandlerT,
    CallbackRegistry,
    DeliveryT,
    ErrorHook,
    ErrorHookT,
    HandlerDecorator,
    HandlerResultT,
)
from planstream.client.connection_driver import ConnectionDriver
from planstream.client.inbox import Subscription
from planstream.client.observers import SubscriptionObservers
from planstream.client.plan_api import DEFAULT_PAGE_SIZE, PlanApi
from planstream.client.router_signals import ConnectionSignals
from planstream.client.stats import ClientStats, StateChange
from planstream.client.subscribing import folded_states, open_subscription
from planstream.client.token_source import TokenProvider
from planstream.closing import AsyncClosing
from planstream.connection_state import ConnectionState
from planstream.errors import ClientClosedError, PlanStreamError
from planstream.router import StreamRouter
from planstream.schema.http import PlanSummary
from planstream.schema.limits import check_stream_ids
from planstream.schema.snapshot import PlanSnapshot
from planstream.settings import ClientSettings

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider

__all__ = ["PlanStreamClient", "StateHook"]

logger = logging.getLogger("planstream.client")

StateHook = Callable[[StateChange], Any]


class PlanStreamClient(AsyncClosing):
    """Streams plan updates exactly once, in order, through drops and restarts.

    Args:
        url: the WebSocket endpoint (overrides ``settings.url``, and
            ``settings.urls`` unless ``urls`` is given too).
        urls: several server nodes' WebSocket endpoints sharing one event log
            (overrides ``settings.urls``): the client sticks to a working node and
            moves to the next on a failure, resuming exactly (docs/guide/client.md).
        token: a static bearer token (overrides ``settings.token``).
        token_provider: an async callable returning a token; called before
            every connect, so an expired token (401 / close 4001) is refreshed.
        settings: everything else; by default read from ``PLANSTREAM_*``.
        on_state_change: a hook called with a :class:`StateChange` after each
            transition and each failure (more with :meth:`on_state_change`).
        on_error: a hook called with a callback's exception and the item it
            failed on (more with :meth:`on_error`); see :meth:`on`.
        rng: the randomness of the backoff jitter (pass a seeded ``random.Random``
            for reproducible delays).
        ssl: a ready :class:`ssl.SSLContext` for ``wss://`` and the ``https://``
            polling fallback (overrides ``settings.ssl``; see docs/security.md).
        meter_provider: an OpenTelemetry ``MeterProvider`` for metrics (None: the global one).
    """

    __slots__ = (
        "_callbacks",
        "_closed",
        "_engine",
        "_engine_task",
        "_meter_provider",
        "_observing",
        "_plan_api",
        "_rng",
        "_router",
        "_state_hooks",
        "_tasks",
        "_token_provider",
        "settings",
    )

    def __init__(
        self,
        url: str | None = None,
        *,
        urls: Sequence[str] | None = None,
        token: str | None = None,
        token_provider: TokenProvider | None = None,
        settings: ClientSettings | None = None,
        on_state_change: StateHook | None = None,
        on_error: ErrorHook | None = None,
        rng: RandomSource | None = None,
        ssl: _ssl.SSLContext | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        settings = settings_with_arguments(settings, url=url, urls=urls, token=token, ssl=ssl)
        self.settings = settings
        self._token_provider = token_provider
        self._rng = rng if rng is not None else ModuleRandom()
        self._state_hooks: list[StateHook] = [] if on_state_change is None else [on_state_change]
        self._callbacks = CallbackRegistry()
        if on_error is not None:
            self._callbacks.add_error_hook(on_error)
        self._router: StreamRouter | None = None
        self._engine: ConnectionDriver | None = None
        self._tasks: asyncio.TaskGroup | None = None
        self._engine_task: asyncio.Task[None] | None = None
        self._plan_api: PlanApi | None = None
        self._meter_provider = meter_provider
        #: The durable cursor and the metrics, told of every subscription's progress.
        self._observing = SubscriptionObservers.none()
        self._closed = False

    def __repr__(self) -> str:
        urls = self.settings.endpoints
        where = f"url={urls[0]!r}" if len(urls) == 1 else f"urls={list(urls)!r}"
        return f"PlanStreamClient({where}, state={self.state.value!r})"

    # --- lifecycle -----------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._tasks is not None or self._closed:
            raise PlanStreamError("a PlanStreamClient can be entered only once")
        settings = self.settings
        # Repairs of one plan back off like reconnects (planstream.repairs).
        sequencer = settings.sequencer.sequencer(settings.reconnect.policy(), self._rng)
        signals = ConnectionSignals()
        self._router = StreamRouter(sequencer, signals)
        self._engine = ConnectionDriver(
            self.settings,
            self._router,
            signals=signals,
            token_provider=self._token_provider,
            rng=self._rng,
            on_state_change=self._state_changed,
        )
        self._observing = SubscriptionObservers.start(
            settings, self._meter_provider, self._router, self._engine
        )
        if self._observing.telemetry is not None:
            self._state_hooks.append(self._observing.telemetry.state_changed)
        self._tasks = asyncio.TaskGroup()
        await self._tasks.__aenter__()
        self._engine_task = self._tasks.create_task(
            self._engine.run(self._tasks), name="planstream-engine"
        )
        return self

    async def aclose(self) -> None:
        """Close the connection (code 1000) and end every subscription.

        Iterators still running raise :class:`~planstream.errors.ClientClosedError`.
        An exception leaving the ``async with`` body propagates as itself.
        """
        if self._closed:
            return
        self._closed = True
        if self._engine_task is not None:
            self._engine_task.cancel()
        if self._tasks is not None:
            # Not the body's exception: the task group would wrap it in an
            # ExceptionGroup, and `except AuthenticationError` around
            # `async with client` would miss it. The connection task is cancelled above.
            await self._tasks.__aexit__(None, None, None)
        if self._plan_api is not None:
            await self._plan_api.aclose()
        self._observing.close()
        logger.info("client closed")

    async def wait_open(self) -> None:
        """Wait until a WebSocket (or the polling fallback) carries the stream.

        Bound it with ``asyncio.timeout``.

        Raises:
            PlanStreamError: the client stopped for good (the reason), or was closed.
        """
        engine = self._require_engine()
        async with asyncio.TaskGroup() as waits:
            up = waits.create_task(engine.up.wait())
            stopped = waits.create_task(engine.stopped.wait())
            try:
                await asyncio.wait({up, stopped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                up.cancel()
                stopped.cancel()
        if engine.stopped.is_set() and not engine.up.is_set():
            raise engine.error or ClientClosedError("the client was closed")

    # --- streams -------------------------------------------------------------------

    def subscribe(
        self,
        plan_id: str,
        *,
        last_event_id: str | None = None,
        follow: bool = False,
        must_exist: bool = False,
    ) -> Subscription:
        """Stream ``plan_id``'s events after ``last_event_id`` (None: from the start).

        The iterator ends after a terminal ``plan.status`` (or a ``Resync``
        whose snapshot is terminal) unless ``follow`` is true. An unknown plan is
        waited for; with ``must_exist`` it is looked up over HTTP first and the
        iterator raises :class:`~planstream.errors.PlanNotFoundError`. A resume
        (``last_event_id``, no ``follow``) looks the plan up too, within a few
        seconds: from a finished plan's last event the iterator ends at once.

        Raises:
            InvalidIdError: ``plan_id`` or ``last_event_id`` breaks protocol §1
                (also a ``ValueError``); nothing was sent.
        """
        check_stream_ids(plan_id, last_event_id)
        return self._subscribe(plan_id, last_event_id, follow, must_exist, True)

    def _subscribe(
        self, plan_id: str, last_event_id: str | None, follow: bool, must_exist: bool, durable: bool
    ) -> Subscription:
        router, engine = self._router, self._require_engine()
        assert router is not None
        return open_subscription(
            plan_id,
            last_event_id,
            follow=follow,
            must_exist=must_exist,
            durable=durable,
            router=router,
            driver=engine,
            observing=self._observing,
            capacity=self.settings.queue_size,
            snapshot=self.snapshot,
        )

    def watch(
        self, plan_id: str, *, last_event_id: str | None = None, follow: bool = False
    ) -> AsyncIterator[PlanSnapshot]:
        """Yield the plan's folded state (protocol §5 snapshot) after each item.

        It folds the whole plan (from ``last_event_id``, else the start): the
        durable cursor (``settings.checkpoint``) is neither read nor moved.

        Raises:
            InvalidIdError: at once, like :meth:`subscribe`.
        """
        check_stream_ids(plan_id, last_event_id)
        subscription = self._subscribe(plan_id, last_event_id, follow, False, False)
        return folded_states(plan_id, subscription)

    # --- the HTTP half (protocol §6) ------------------------------------------------

    async def snapshot(self, plan_id: str) -> PlanSnapshot:
        """The plan's state (``GET /v1/plans/{plan_id}``); ``PlanNotFoundError`` if unknown."""
        return await self._http().snapshot(plan_id)

    def plans(self, *, page_size: int = DEFAULT_PAGE_SIZE) -> AsyncIterator[PlanSummary]:
        """Every plan with at least one event (``GET /v1/plans``, page after page)."""
        return self._http().plans(page_size=page_size)

    def _http(self) -> PlanApi:
        self._require_engine()
        if self._plan_api is None:  # the HTTP half, shared with PlanPublisher (plan_api.py)
            self._plan_api = PlanApi(
                self.settings, token_provider=self._token_provider, rng=self._rng
            )
        return self._plan_api

    # --- callbacks -----------------------------------------------------------------

    @overload
    def on(self, target: type[DeliveryT], /) -> HandlerDecorator[DeliveryT]: ...

    @overload
    def on(
        self, target: type[DeliveryT], handler: Callable[[DeliveryT], HandlerResultT], /
    ) -> Callable[[DeliveryT], HandlerResultT]: ...

    def on(self, target: object, handler: object = None, /) -> Any:
        """Call ``handler`` with every item of the model ``target`` while :meth:`run` streams.

        ``target``: an event model (``StepStatusEvent``, ``UnknownEvent``, ...)
        or ``Resync``, never a kind string, so mypy checks that ``handler``
        (plain or async) takes it; :meth:`on_any` takes every item. Without
        ``handler``, a decorator. A handler's exception is counted, logged with
        its traceback at ERROR (on stderr if nothing else would show it) and
        passed to the :meth:`on_error` hooks; the stream goes on
        (:mod:`planstream.client.callbacks`).

        Raises:
            InvalidCallbackError: ``target`` is no event model nor ``Resync``
                (the text names the model to pass), or ``handler`` is not callable.
        """
        return self._callbacks.register(target, handler)

    def on_any(self, handler: AnyHandlerT, /) -> AnyHandlerT:
        """Call ``handler`` (taking ``Event | Resync``) with every item; a decorator too."""
        self._callbacks.add_any(handler)
        return handler

    def on_error(self, hook: ErrorHookT, /) -> ErrorHookT:
        """Call ``hook(exception, item)`` (plain or async) after each callback's
        failure, once it is logged; a decorator too. Its own exception is logged."""
        self._callbacks.add_error_hook(hook)
        return hook

    def off(self, handler: Callable[..., object], /) -> None:
        """Unregister ``handler`` everywhere it was registered."""
        self._callbacks.remove(handler)

    async def run(self, *plan_ids: str, follow: bool = False) -> None:
        """Stream ``plan_ids`` into the registered callbacks until every stream ends.

        Raises:
            PlanStreamError: a stream ended with an error (the others are stopped).
        """
        if not plan_ids:
            raise ValueError("run() needs at least one plan id")
        for plan_id in plan_ids:
            check_stream_ids(plan_id, None)
        try:
            async with asyncio.TaskGroup() as tasks:
                for plan_id in plan_ids:
                    tasks.create_task(self._dispatch(plan_id, follow))
        except BaseExceptionGroup as group:
            # One stream's error stopped the others: raise it as itself, not as a
            # group (a fatal error ends every stream with the same error).
            first = group.exceptions[0]
            if len(group.exceptions) == 1 or isinstance(first, PlanStreamError):
                raise first from None
            raise

    async def _dispatch(self, plan_id: str, follow: bool) -> None:
        dispatch = self._callbacks.dispatch
        async with self.subscribe(plan_id, follow=follow) as stream:
            async for item in stream:
                await dispatch(item)

    # --- state and stats -----------------------------------------------------------

    def on_state_change(self, hook: StateHook) -> StateHook:
        """Call ``hook(StateChange)`` after every transition and failure; a decorator too."""
        self._state_hooks.append(hook)
        return hook

    @property
    def state(self) -> ConnectionState:
        """connecting, open, reconnecting, polling or closed."""
        if self._engine is None or self._closed:
            return ConnectionState.CLOSED
        return self._engine.state

    @property
    def error(self) -> PlanStreamError | None:
        """Why the client stopped for good, or None."""
        return None if self._engine is None else self._engine.error

    @property
    def stats(self) -> ClientStats:
        """A snapshot of the counters."""
        router, engine = self._router, self._engine
        if router is None or engine is None:
            return ClientStats.before_start(self.state)
        return ClientStats.collect(self.state, engine.counters, router, self._callbacks.errors)

    # --- internals -----------------------------------------------------------------

    def _require_engine(self) -> ConnectionDriver:
        if self._closed:
            raise ClientClosedError("the client is closed")
        if self._engine is None:
            raise PlanStreamError("use the client inside `async with PlanStreamClient(...)`")
        return self._engine

    def _state_changed(self, change: StateChange) -> None:
        for hook in list(self._state_hooks):
            try:
                hook(change)
            except Exception:  # user code
                logger.exception("state-change hook %r raised", hook)
