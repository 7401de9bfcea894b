"""One plan's subscription on the connection (:class:`PlanChannel`) and what the
router needs of a subscriber's inbox (:class:`SubscriberInbox`). Pure: no asyncio.

The :class:`~planstream.router.StreamRouter` keeps one channel per subscribed
plan; the channel fans the plan's deliveries out to the inbox of every local
subscriber. The client's inbox (:class:`~planstream.client.inbox.SubscriptionInbox`,
a bounded queue behind the user's ``async for``) implements the protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from planstream.delivery import Delivery
from planstream.errors import PlanStreamError
from planstream.plan_cursor import Position

#: Machinery of the client, imported by name; not public API.
__all__: list[str] = []


class SubscriberInbox(Protocol):
    """What the router calls on one local subscriber's inbox.

    Two positions matter: the last item the user *took* (a rewind resumes
    from it) and the newest seq *accepted* into the queue (replayed events at
    or below it are dropped: another subscriber's rewind on the same plan).
    """

    @property
    def plan_id(self) -> str:
        """The plan subscribed to."""
        ...

    @property
    def taken_position(self) -> Position:
        """The last item the user took, or where the subscription started."""
        ...

    @property
    def overflowed(self) -> bool:
        """Takes no pushes: too slow (or joined late), awaiting a rewind."""
        ...

    accepted_seq: int | None

    def push(self, items: tuple[Delivery, ...]) -> int:
        """Queue in-order items of this plan (a resync marker comes alone);
        return how many items are queued now."""
        ...

    def wake(self) -> None:
        """Wake the consumer waiting for an item (it retries a waiting rewind)."""
        ...

    def end(self, error: PlanStreamError | None) -> None:
        """No more items: the consumer gets what is queued, then ``error`` or the end."""
        ...

    def hold_for_rewind(self) -> None:
        """Take no pushes until woken to retry the rewind."""
        ...

    def rewound(self) -> bool:
        """The rewind was requested: accept pushes again from the taken position.
        True if the inbox had overflowed (a slow consumer, not a late joiner)."""
        ...


class PlanChannel:
    """One plan's subscription on the connection, shared by its local subscribers."""

    __slots__ = ("generation", "inboxes", "pending_from", "pending_id", "plan_id", "rewind_waiting")

    def __init__(self, plan_id: str) -> None:
        self.plan_id = plan_id
        self.inboxes: list[SubscriberInbox] = []
        #: While not None the sequencer does not track the plan: a ``subscribe``
        #: resuming after this position awaits its answer (request ``pending_id``).
        self.pending_from: Position | None = None
        self.pending_id: int | None = None
        self.generation = 0  # bumped by every (re)subscription; stale polls are dropped
        #: A subscriber waits to be rewound until the plan's next delivery.
        self.rewind_waiting = False

    def pin_positions(
        self, rewinding: SubscriberInbox, seq_of: Callable[[str, str], int | None]
    ) -> bool:
        """Give each subscriber that stands at an id of unknown seq the seq the
        sequencer knows for it (``seq_of(plan_id, event_id)``), so that a replay
        skips what it had. False if one stays unknown (``rewinding`` and the
        waiting ones take the replay)."""
        known = True
        for inbox in self.inboxes:
            if inbox is rewinding or inbox.overflowed or inbox.accepted_seq is not None:
                continue
            event_id = inbox.taken_position.event_id
            seq = None if event_id is None else seq_of(self.plan_id, event_id)
            if seq is None:
                known = False
            else:
                inbox.accepted_seq = seq
        return known

    def wake_waiting(self) -> None:
        """Wake the subscribers waiting to be rewound: they retry now."""
        self.rewind_waiting = False
        for inbox in self.inboxes:
            if inbox.overflowed:
                inbox.wake()


def precedes_or_equals(a: Position, b: Position) -> bool | None:
    """Whether position ``a`` is at or before ``b``; None when it cannot be told."""
    if a.event_id == b.event_id:
        return True
    if a.seq is None or b.seq is None:
        return None
    return a.seq <= b.seq
