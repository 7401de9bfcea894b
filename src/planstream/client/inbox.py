"""One subscription's bounded inbox and the iterator the user holds.

The router (:mod:`planstream.router`) pushes in-order deliveries into a
:class:`SubscriptionInbox` (its :class:`~planstream.channel.SubscriberInbox`);
the user's ``async for`` takes them out through a :class:`Subscription`.
The inbox never grows past ``capacity``: when a consumer is too slow the
items that do not fit are dropped and, once it has taken what is queued, it
is re-subscribed from the last item it took — the server's replay makes that
lossless.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol, Self, runtime_checkable

from planstream.closing import AsyncClosing
from planstream.delivery import Delivery, Resync
from planstream.errors import PlanStreamError
from planstream.plan_cursor import Position
from planstream.schema.events import PlanStatusEvent
from planstream.schema.snapshot import PlanSnapshot

__all__ = ["CommittingObserver", "DeliveryObserver", "Subscription", "SubscriptionInbox"]


class DeliveryObserver(Protocol):
    """Told by a :class:`Subscription` how its user moves through the stream.

    The client hands each subscription the observers its settings call for
    (the durable cursor, the metrics); with none, nothing is called.
    """

    def next_requested(self, inbox: SubscriptionInbox) -> None:
        """The user's loop asks for the next item: it finished ``inbox.taken``."""

    def taken(self, inbox: SubscriptionInbox, item: Delivery) -> None:
        """The user is handed ``item`` (``inbox.taken`` is it already)."""


@runtime_checkable
class CommittingObserver(DeliveryObserver, Protocol):
    """An observer that also keeps positions (the durable cursor,
    :mod:`planstream.client.checkpoint`): told by ``Subscription.commit()``."""

    def commit(self, inbox: SubscriptionInbox) -> None:
        """The user finished ``inbox.taken`` before asking for the next item."""


class SubscriptionInbox:
    """The queue between the reader and one subscription's consumer.

    Two positions are kept: ``taken_*`` — the last item the user took, where a
    rewind resumes — and ``accepted_seq`` — the newest seq queued, below which
    replayed events (another subscriber's rewind on the same plan) are dropped.
    ``None`` seqs mean "resumed from an id whose seq is not known yet".
    """

    __slots__ = (
        "accepted_seq",
        "already_ended",
        "capacity",
        "ended",
        "error",
        "follow",
        "items",
        "late",
        "overflowed",
        "overflows",
        "plan_id",
        "start_event_id",
        "start_seq",
        "taken",
        "waiter",
    )

    def __init__(
        self, plan_id: str, *, last_event_id: str | None, follow: bool, capacity: int
    ) -> None:
        self.plan_id = plan_id
        self.follow = follow
        self.capacity = capacity
        #: Created with the first push: an idle subscription costs no deque block.
        self.items: deque[Delivery] | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.start_event_id = last_event_id
        self.start_seq: int | None = 0 if last_event_id is None else None
        self.taken: Delivery | None = None  # the last item the user took
        self.accepted_seq = self.start_seq
        self.overflowed = False
        self.late = False  # overflowed only to wait for a rewind (it joined late)
        self.overflows = 0
        self.ended = False  # no more items will be pushed
        self.error: PlanStreamError | None = None  # raised once the items are taken
        #: The finished plan's snapshot when the start was already its end.
        self.already_ended: PlanSnapshot | None = None

    def __repr__(self) -> str:
        return (
            f"SubscriptionInbox(plan_id={self.plan_id!r}, queued={len(self.items or ())}, "
            f"taken_seq={self.taken_seq}, ended={self.ended})"
        )

    @property
    def taken_seq(self) -> int | None:
        """The seq of the last item taken (a resync: its head's), or the start's."""
        taken = self.taken
        if taken is None:
            return self.start_seq
        if isinstance(taken, Resync):
            head = taken.snapshot.head
            return 0 if head is None else head.seq
        return taken.seq

    @property
    def taken_event_id(self) -> str | None:
        """The id of the last event taken (a resync: its head's), or the start's."""
        taken = self.taken
        if taken is None:
            return self.start_event_id
        if isinstance(taken, Resync):
            head = taken.snapshot.head
            return None if head is None else head.event_id
        return taken.event_id

    @property
    def taken_position(self) -> Position:
        """Where a rewind of this subscriber resumes: the last item taken."""
        return Position(self.taken_event_id, self.taken_seq)

    def push(self, items: tuple[Delivery, ...]) -> int:
        """Queue in-order ``items`` of this plan (a resync marker comes alone)
        unless they were queued already or the inbox overflowed; return how
        many items are queued."""
        if self.overflowed or self.ended:
            return len(self.items or ())
        first = items[0]
        # type() rather than isinstance() or ``.type``: pydantic's metaclass
        # check and attribute reads cost several times more.
        if type(first) is Resync:
            return self._push_each(items)
        seq = first.seq  # type: ignore[union-attr]  # (not a Resync: checked above)
        accepted = self.accepted_seq
        queue = self.items
        if queue is None:
            queue = self.items = deque()
        count = len(items)
        if (accepted is not None and seq <= accepted) or len(queue) + count > self.capacity:
            # Replayed for another subscriber of this plan, or too many: item by item.
            return self._push_each(items)
        if count == 1:
            queue.append(first)
        else:
            last = items[-1]
            if type(last) is Resync:
                return self._push_each(items)
            queue.extend(items)
            seq = last.seq  # type: ignore[union-attr]  # (not a Resync: checked above)
        self.accepted_seq = seq
        waiter = self.waiter  # wake(), inlined: once per frame
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)
        return len(queue)

    def _push_each(self, items: tuple[Delivery, ...]) -> int:
        for item in items:
            self._push_one(item)
        return len(self.items or ())

    def _push_one(self, item: Delivery) -> None:
        if self.overflowed or self.ended:
            return
        if isinstance(item, Resync):
            head = item.snapshot.head
            seq: int | None = 0 if head is None else head.seq
        else:
            accepted = self.accepted_seq
            if accepted is not None and item.seq <= accepted:
                return  # replayed for another subscriber of this plan
            seq = item.seq
        queue = self.items
        if queue is None:
            queue = self.items = deque()
        if len(queue) >= self.capacity:
            self._overflow()
            return
        queue.append(item)
        self.accepted_seq = seq
        self.wake()

    def _overflow(self) -> None:
        """Too slow: stop queueing. The consumer takes what is queued (so a frame
        larger than the queue still makes progress), then it is rewound from the
        last item it took; the server's replay makes that lossless."""
        self.overflowed = True
        self.overflows += 1

    def wake(self) -> None:
        """Wake the consumer waiting for an item, if any."""
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def end(self, error: PlanStreamError | None) -> None:
        """No more items: the consumer gets what is queued, then ``error`` (or the end)."""
        if self.ended:
            return
        self.ended = True
        self.error = error
        self.wake()

    def hold_for_rewind(self) -> None:
        """Take no pushes until woken to retry the rewind (a late joiner whose
        place in the stream cannot be told yet); no overflow is counted."""
        if not self.overflowed:
            self.overflowed = True
            self.late = True

    def rewound(self) -> bool:
        """The rewind was requested: accept pushes again from the taken position.
        True if the inbox had overflowed (a slow consumer, not a late joiner)."""
        slow = self.overflowed and not self.late
        self.overflowed = False
        self.late = False
        self.accepted_seq = self.taken_seq
        return slow

    def ends_with(self, item: Delivery) -> bool:
        """Whether the stream ends once the user took ``item`` (a terminal status)."""
        if self.follow:
            return False
        if isinstance(item, Resync):
            status = item.snapshot.status
            return status is not None and status.is_terminal
        return isinstance(item, PlanStatusEvent) and item.data.status.is_terminal


class Subscription(AsyncClosing):
    """``async for item in client.subscribe(plan_id)``: events and ``Resync`` markers.

    Ends (``StopAsyncIteration``) after a terminal ``plan.status`` unless
    ``follow`` was asked for; raises the error that ended the subscription
    (a fatal connection error, :class:`~planstream.errors.SubscriptionError`,
    :class:`~planstream.errors.ClientClosedError`) after the items already
    received. ``last_event_id`` is the position to resume from later.
    Leaving ``async with`` or calling :meth:`aclose` unsubscribes; so does
    dropping the last reference.
    """

    __slots__ = ("_detach", "_inbox", "_observers", "_rewind", "_start")

    def __init__(
        self,
        inbox: SubscriptionInbox,
        *,
        rewind: Callable[[SubscriptionInbox], None],
        detach: Callable[[SubscriptionInbox], None],
        start: Callable[[], Awaitable[None]] | None = None,
        observers: tuple[DeliveryObserver, ...] = (),
    ) -> None:
        self._inbox = inbox
        self._observers = observers
        self._rewind = rewind
        self._detach = detach
        #: Awaited once, before the first item or on entering ``async with``
        #: (``must_exist``: the plan is checked over HTTP, then subscribed).
        self._start = start

    async def _started(self) -> None:
        start, self._start = self._start, None
        if start is not None:
            await start()

    def __repr__(self) -> str:
        return f"Subscription(plan_id={self.plan_id!r}, last_event_id={self.last_event_id!r})"

    @property
    def plan_id(self) -> str:
        """The plan this subscription follows."""
        return self._inbox.plan_id

    @property
    def last_event_id(self) -> str | None:
        """The id of the last event taken (or of a resync's head); resume from it."""
        return self._inbox.taken_event_id

    @property
    def already_ended(self) -> PlanSnapshot | None:
        """The plan's snapshot when the iterator ended at once, with nothing,
        because ``last_event_id`` was the last event of a finished plan (its
        terminal status); None otherwise."""
        return self._inbox.already_ended

    @property
    def overflows(self) -> int:
        """How many times the consumer fell ``queue_size`` items behind and was rewound."""
        return self._inbox.overflows

    async def commit(self) -> None:
        """Commit the item held now (the last one taken) as finished, mid-loop.

        With ``ClientSettings.checkpoint`` set, a restarted process resumes
        after it (the loop commits the previous item by itself when it asks for
        the next); without a checkpoint, nothing happens.

        Raises:
            CheckpointError: the position could not be written.
        """
        inbox = self._inbox
        for observer in self._observers:
            if isinstance(observer, CommittingObserver):
                observer.commit(inbox)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Delivery:
        if self._start is not None:
            await self._started()
        inbox = self._inbox
        observers = self._observers
        for observer in observers:
            observer.next_requested(inbox)
        while True:
            items = inbox.items
            if items:
                item = items.popleft()
                inbox.taken = item
                for observer in observers:
                    observer.taken(inbox, item)
                kind = type(item)
                if (kind is PlanStatusEvent or kind is Resync) and inbox.ends_with(item):
                    inbox.items = None
                    inbox.end(None)
                    self._detach(inbox)
                return item
            if inbox.ended:
                self._detach(inbox)
                if inbox.error is not None:
                    raise inbox.error
                raise StopAsyncIteration
            if inbox.overflowed:
                self._rewind(inbox)
            waiter = asyncio.get_running_loop().create_future()
            inbox.waiter = waiter
            await waiter

    async def aclose(self) -> None:
        """Unsubscribe; iterating afterwards ends at once."""
        self._start = None
        inbox = self._inbox
        inbox.items = None
        inbox.end(None)
        self._detach(inbox)

    async def __aenter__(self) -> Self:
        await self._started()
        return self

    def __del__(self) -> None:
        # Dropped without aclose() (e.g. ``break`` out of ``async for``): free the slot.
        inbox = getattr(self, "_inbox", None)
        if inbox is not None and not inbox.ended:
            inbox.end(None)
            self._detach(inbox)
