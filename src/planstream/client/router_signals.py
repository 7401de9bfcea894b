"""``RouterSignals``: what the router tells the connection, through one small object.

The router queues frames and knows when its channels and the sequencer's
deadlines change; the connection acts on it. Nothing polls for these: the
router calls :class:`RouterSignals` (``outbox_ready``, ``channels_changed``,
``deadline_changed``) and the signals reach whoever listens now - the open
WebSocket (:class:`~planstream.client.websocket_connection.OpenWebSocket`)
for the outbox and the deadlines, the pollers for the channels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from planstream.client.flag import Flag
from planstream.client.router import StreamRouter

__all__ = ["RouterSignals", "SignalListener", "bind_router"]


class SignalListener(Protocol):
    """Who hears the outbox and deadline signals (the open WebSocket)."""

    def outbox_ready(self) -> None:
        """Frames wait in the outbox."""

    def wake(self) -> None:
        """A deadline may have moved earlier."""


class RouterSignals:
    """What the router tells the connection; one small object, injected.

    * :meth:`outbox_ready`: frames wait in the outbox (starts the sender);
    * :meth:`channels_changed`: the subscribed plans changed (the pollers watch
      :attr:`channels`);
    * :meth:`deadline_changed`: the sequencer may have an earlier deadline
      (the watchdog re-arms for it).
    """

    __slots__ = ("_connection", "channels")

    def __init__(self) -> None:
        self.channels = Flag()
        self._connection: SignalListener | None = None

    def outbox_ready(self) -> None:
        """Frames wait in the router's outbox."""
        if self._connection is not None:
            self._connection.outbox_ready()

    def channels_changed(self) -> None:
        """A plan was subscribed or left."""
        self.channels.set()

    def deadline_changed(self) -> None:
        """The sequencer's next deadline may be earlier than it was."""
        if self._connection is not None:
            self._connection.wake()

    def listen(self, connection: SignalListener | None) -> None:
        """Send the outbox and deadline signals to ``connection`` (None: nobody)."""
        self._connection = connection


class _SignalFlag(Flag):
    """A router ``Flag`` whose ``set()`` is a signal (today's router raises Flags)."""

    __slots__ = ("_signal",)

    def __init__(self, signal: Callable[[], None]) -> None:
        super().__init__()
        self._signal = signal

    def set(self) -> None:
        self._signal()


def bind_router(router: StreamRouter, signals: RouterSignals) -> None:
    """Route ``router``'s ``outbox_ready`` and ``channels_changed`` through ``signals``.

    Until the router takes a :class:`RouterSignals` itself: its two Flags
    become signals. ``deadline_changed`` is derived by the reader meanwhile
    (:class:`~planstream.client.websocket_connection.OpenWebSocket`).
    """
    router.outbox_ready = _SignalFlag(signals.outbox_ready)
    router.channels_changed = _SignalFlag(signals.channels_changed)
