"""``ConnectionSignals``: what the router tells the connection, through one small object.

The router queues frames and knows when its channels and the sequencer's
deadlines change; the connection acts on it. Nothing polls for these: the
pure router (:mod:`planstream.router`) calls its
:class:`~planstream.router.RouterSignals` (``outbox_ready``,
``channels_changed``, ``deadline_changed``), implemented here by
:class:`ConnectionSignals`, and the signals reach whoever listens now - the open
WebSocket (:class:`~planstream.client.websocket_connection.OpenWebSocket`)
for the outbox and the deadlines, the pollers for the channels.
"""

from __future__ import annotations

from typing import Protocol

from planstream.client.flag import Flag

__all__ = ["ConnectionSignals", "SignalListener"]


class SignalListener(Protocol):
    """Who hears the outbox and deadline signals (the open WebSocket)."""

    def outbox_ready(self) -> None:
        """Frames wait in the outbox."""

    def wake(self) -> None:
        """A deadline may have moved earlier."""


class ConnectionSignals:
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
