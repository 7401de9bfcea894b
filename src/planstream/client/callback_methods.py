"""The callback half of ``PlanStreamClient``: ``on``, ``on_any``, ``on_error``, ``off``, ``run``.

Built on the async iterator, the primary API: :meth:`CallbackMethods.run`
iterates each plan's :meth:`~planstream.client.client.PlanStreamClient.subscribe`
and hands every item to the registry (:mod:`planstream.client.callbacks`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, overload

from planstream.client.callbacks import (
    AnyHandlerT,
    CallbackRegistry,
    DeliveryT,
    ErrorHookT,
    HandlerDecorator,
    HandlerResultT,
)
from planstream.errors import PlanStreamError
from planstream.schema.limits import check_stream_ids

if TYPE_CHECKING:
    from planstream.client.inbox import Subscription

__all__ = ["CallbackMethods"]


class CallbackMethods:
    """Typed callbacks over the client's subscriptions (mixed into ``PlanStreamClient``)."""

    __slots__ = ()

    _callbacks: CallbackRegistry

    if TYPE_CHECKING:

        def subscribe(
            self,
            plan_id: str,
            *,
            last_event_id: str | None = None,
            follow: bool = False,
            must_exist: bool = False,
        ) -> Subscription: ...

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
