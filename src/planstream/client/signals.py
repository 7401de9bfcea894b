"""``FlagSignals``: the router's signals (:class:`~planstream.router.RouterSignals`)
as flags the connection's tasks wait on."""

from __future__ import annotations

from planstream.client.flag import Flag

__all__ = ["FlagSignals"]


class FlagSignals:
    """Sets a :class:`~planstream.client.flag.Flag` for each router signal.

    ``housekeeping`` wakes the task that sends the outbox and sleeps until the
    sequencer's next deadline (so both signals set it); ``channels`` wakes the
    polling phase's supervisor, which keeps one poller per subscribed plan.
    """

    __slots__ = ("channels", "housekeeping")

    def __init__(self) -> None:
        self.housekeeping = Flag()
        self.channels = Flag()

    def outbox_ready(self) -> None:
        """Frames were queued for the connection to send."""
        self.housekeeping.set()

    def channels_changed(self) -> None:
        """A plan was subscribed or unsubscribed."""
        self.channels.set()

    def deadline_changed(self) -> None:
        """The sequencer may have an earlier deadline."""
        self.housekeeping.set()
