"""Callbacks, built on the iterators: ``client.on(Model, handler)`` and ``client.run()``.

A handler is chosen by the model class it takes: an event model
(``StepStatusEvent``, ``LogEvent``, ... or ``UnknownEvent`` for kinds newer
than this client) or :class:`~planstream.delivery.Resync`; ``client.on_any``
takes every item. Handlers may be plain functions or coroutine functions.

Targets are model classes, not kind strings: the class is what the handler's
parameter names, so ``mypy --strict`` can check that they agree (a handler
typed for ``LogEvent`` registered for ``StepStatusEvent`` fails type checking),
and a misspelled class fails at import where a misspelled string never fired.
A kind string is refused at registration with :class:`InvalidCallbackError`
naming the model to pass instead.

A handler's exception never ends the stream or the other handlers. It is
counted (``stats.callback_errors``), logged with its traceback at ERROR on the
``planstream.client`` logger, and passed to the ``on_error`` hooks. The package
installs a ``NullHandler``, which would hide that log in an application that
configured no logging; so when the record reaches no real handler and no
``on_error`` hook took the failure, it is written to stderr through
:data:`logging.lastResort`, as Python does for any library without a
``NullHandler`` (configure logging, or set an ``on_error`` hook, to route it).
"""

from __future__ import annotations

import difflib
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, TypeVar, get_args

from planstream.delivery import Delivery, Resync
from planstream.errors import InvalidCallbackError
from planstream.schema.events import (
    EventBase,
    LogEvent,
    PlanProgressEvent,
    PlanStatusEvent,
    StepStatusEvent,
)

__all__ = [
    "AnyHandlerT",
    "CallbackRegistry",
    "DeliveryT",
    "ErrorHook",
    "ErrorHookT",
    "Handler",
    "HandlerDecorator",
    "HandlerResultT",
    "check_target",
]

logger = logging.getLogger("planstream.client")

#: The item a handler takes: an event model or ``Resync``.
DeliveryT = TypeVar("DeliveryT", bound=EventBase | Resync)
#: What a handler returns: None (a plain function) or an awaitable (a coroutine function).
HandlerResultT = TypeVar("HandlerResultT", bound=Awaitable[None] | None)
#: A handler of ``DeliveryT`` items, plain or async.
Handler: TypeAlias = Callable[[DeliveryT], Awaitable[None] | None]
#: A handler of every item (``client.on_any``).
AnyHandlerT = TypeVar("AnyHandlerT", bound=Callable[[Delivery], Awaitable[None] | None])
#: Called with a handler's exception and the item it failed on; plain or async.
ErrorHook: TypeAlias = Callable[[Exception, Delivery], Awaitable[None] | None]
ErrorHookT = TypeVar("ErrorHookT", bound=ErrorHook)

#: The models a target may name, for the error texts: kind -> model.
_MODELS_BY_KIND: dict[str, type[EventBase]] = {
    "plan.status": PlanStatusEvent,
    "plan.progress": PlanProgressEvent,
    "step.status": StepStatusEvent,
    "log": LogEvent,
}
#: Ends a failure written to stderr because nothing else would show it.
_FALLBACK_NOTE = " (on stderr: no logging handler takes planstream records{}; see the client guide)"
_TARGET_NAMES = (*(m.__name__ for m in _MODELS_BY_KIND.values()), "UnknownEvent", "Resync")


class HandlerDecorator(Protocol[DeliveryT]):
    """What ``client.on(Model)`` returns: registers the function it decorates.

    The decorated function keeps its item type and its return type (a plain
    function stays plain, a coroutine function stays awaitable).
    """

    def __call__(
        self, handler: Callable[[DeliveryT], HandlerResultT], /
    ) -> Callable[[DeliveryT], HandlerResultT]: ...


@dataclass(frozen=True, slots=True)
class _Registration:
    target: type[EventBase | Resync] | None  # None: every item
    handler: Callable[[Any], Awaitable[None] | None]


class CallbackRegistry:
    """The registered handlers and error hooks of one client, in registration order."""

    __slots__ = ("_error_hooks", "_registrations", "errors")

    def __init__(self) -> None:
        self._registrations: list[_Registration] = []
        self._error_hooks: list[ErrorHook] = []
        self.errors = 0

    def add(self, target: object, handler: object) -> None:
        """Call ``handler`` for every item of the model ``target``.

        Raises:
            InvalidCallbackError: ``target`` is no event model nor ``Resync``,
                or ``handler`` is not callable; nothing was registered.
        """
        model = check_target(target)
        self._registrations.append(_Registration(model, _check_callable(handler, "handler")))

    def register(self, target: object, handler: object = None) -> Any:
        """``client.on``: :meth:`add` now, or (without ``handler``) return a
        decorator that adds the function it is given; ``target`` is checked now."""
        model = check_target(target)
        if handler is None:

            def decorator(function: object, /) -> object:
                self.add(model, function)
                return function

            return decorator
        self.add(model, handler)
        return handler

    def add_any(self, handler: object) -> None:
        """Call ``handler`` for every item."""
        self._registrations.append(_Registration(None, _check_callable(handler, "handler")))

    def add_error_hook(self, hook: object) -> None:
        """Call ``hook(exception, item)`` after each handler's failure."""
        self._error_hooks.append(_check_callable(hook, "on_error hook"))

    def remove(self, handler: object) -> None:
        """Forget every registration of ``handler``."""
        self._registrations = [r for r in self._registrations if r.handler is not handler]

    def __len__(self) -> int:
        return len(self._registrations)

    async def dispatch(self, item: Delivery) -> None:
        """Call every matching handler with ``item``, in registration order."""
        for registration in self._registrations:
            target = registration.target
            if target is not None and not isinstance(item, target):
                continue
            handler = registration.handler
            try:
                result = handler(item)
                if inspect.isawaitable(result):
                    await result
            except Exception as error:  # user code: report and count, never end the stream
                self.errors += 1
                await self._report(error, handler, item)

    async def _report(self, error: Exception, handler: object, item: Delivery) -> None:
        where = "resync" if isinstance(item, Resync) else f"event seq {item.seq}"
        hooks = list(self._error_hooks)
        _log_error(
            error,
            "callback %s raised on %s of plan %r",
            (_name(handler), where, item.plan_id),
            stderr_note=None if hooks else " and no on_error hook is set",
        )
        for hook in hooks:
            try:
                result = hook(error, item)
                if inspect.isawaitable(result):
                    await result
            except Exception as hook_error:  # user code too: nobody else would see it
                _log_error(
                    hook_error,
                    "on_error hook %s raised on the error of callback %s",
                    (_name(hook), _name(handler)),
                    stderr_note="",
                )


def check_target(target: object) -> type[EventBase | Resync]:
    """Return ``target`` if it is an event model or ``Resync``; else say what to pass.

    Raises:
        InvalidCallbackError: with the model to pass for a kind string (the
            closest one for a misspelled kind), ``on_any`` for None.
    """
    if isinstance(target, type) and issubclass(target, EventBase | Resync):
        return target
    if isinstance(target, str):
        model = _MODELS_BY_KIND.get(target)
        if model is not None:
            hint = f"pass the event model {model.__name__}, not the kind {target!r}"
        else:
            close = difflib.get_close_matches(
                target, [*_MODELS_BY_KIND, *_TARGET_NAMES], n=1, cutoff=0.6
            )
            guess = "" if not close else f"; did you mean {_model_name(close[0])}?"
            hint = f"{target!r} is no event kind of this client{guess}"
        raise InvalidCallbackError(target, f"{hint} (callback targets are event models)")
    if target is None:
        raise InvalidCallbackError(target, "for every item use client.on_any(handler)")
    if get_args(target):  # a union such as Event, or StepStatusEvent | LogEvent
        raise InvalidCallbackError(
            target,
            "a callback target is one model: register the handler for each of "
            f"{', '.join(_members(target))}, or use client.on_any(handler) for every item",
        )
    raise InvalidCallbackError(
        target,
        f"a callback target is an event model or Resync ({', '.join(_TARGET_NAMES)}), "
        f"not {_describe(target)}",
    )


def _check_callable(handler: object, what: str) -> Callable[..., Any]:
    if not callable(handler):
        raise InvalidCallbackError(
            handler, f"the {what} must be callable, not {_describe(handler)}"
        )
    return handler


def _members(target: object) -> list[str]:
    """The class names inside a typing construct (a union, ``Annotated``), in order."""
    if isinstance(target, type):
        return [target.__name__]
    return [name for argument in get_args(target) for name in _members(argument)]


def _model_name(name: str) -> str:
    model = _MODELS_BY_KIND.get(name)
    return name if model is None else model.__name__


def _describe(value: object) -> str:
    if isinstance(value, type):
        return f"the class {value.__qualname__}"
    return f"{value!r:.60} of type {type(value).__qualname__}"


def _name(function: object) -> str:
    return getattr(function, "__qualname__", None) or repr(function)


def _log_error(
    error: Exception, message: str, args: tuple[object, ...], *, stderr_note: str | None
) -> None:
    """Log ``message`` at ERROR with ``error``'s traceback. Unless ``stderr_note``
    is None, also on stderr (saying why, with the note) when the record would
    reach no handler but a NullHandler."""
    if not logger.isEnabledFor(logging.ERROR):  # the application silenced us
        return
    path, line, function, _ = logger.findCaller()
    record = logger.makeRecord(
        logger.name,
        logging.ERROR,
        path,
        line,
        message,
        args,
        (type(error), error, error.__traceback__),
        function,
    )
    logger.handle(record)
    fallback = logging.lastResort
    if (
        stderr_note is not None
        and fallback is not None
        and not _reaches_a_handler(logger, logging.ERROR)
    ):
        shown = logging.makeLogRecord(record.__dict__)
        shown.msg = f"{logger.name}: {message}{_FALLBACK_NOTE.format(stderr_note)}"
        fallback.handle(shown)


def _reaches_a_handler(log: logging.Logger, level: int) -> bool:
    """Whether a record of ``level`` on ``log`` meets a handler that is no
    ``NullHandler`` (the walk :meth:`logging.Logger.callHandlers` makes)."""
    current: logging.Logger | None = log
    while current is not None:
        for handler in current.handlers:
            if not isinstance(handler, logging.NullHandler) and level >= handler.level:
                return True
        if not current.propagate:
            return False
        current = current.parent
    return False
