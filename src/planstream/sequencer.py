"""The de-duplicating, ordering sequencer (pure: no asyncio, no clock).

One :class:`Sequencer` serves one connection's subscriptions. It is fed what
the server sends (events, batches, ``subscribed``, ``resync``, heartbeats)
and the current time, and answers with a :class:`SequencerOutput`: the items
to deliver to the user, in order, and the repair actions the transport must
perform. It keeps the guarantees of protocol §1 per plan:

* delivered events have strictly increasing ``seq``, each at most once;
* a missing event is never skipped silently: a gap that outlives
  ``gap_timeout``, an event beyond the reorder window, a heartbeat showing a
  lost tail, signs of a stream reset or an event that cannot be read each
  produce a :class:`Resubscribe` (resume from the last delivered
  ``event_id``), paced by :mod:`planstream.repairs`: backed off when they
  bring nothing, and given up (:class:`RepairsExhausted`) in the end;
* when the server cannot replay, a :class:`Resync` marker is delivered and the
  baseline moves to the snapshot's head (protocol §3).

Memory per plan is bounded by ``reorder_window`` buffered events and
``dedup_window`` remembered ids, whatever the server sends; events for plans
that are not tracked are counted and dropped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from itertools import repeat
from operator import attrgetter

from planstream.backoff import BackoffPolicy, RandomSource
from planstream.delivery import (
    Delivery,
    RepairAction,
    RepairReason,
    Resync,
    SequencerOutput,
    SequencerStats,
)
from planstream.plan_cursor import PlanCursor, Position
from planstream.repairs import RepairPacer
from planstream.schema.events import Event, EventBase
from planstream.schema.frames import (
    BatchFrame,
    HeartbeatFrame,
    ResyncFrame,
    ResyncReason,
    ServerFrame,
    SubscribedFrame,
)
from planstream.schema.snapshot import PlanSnapshot

__all__ = ["Sequencer"]


_NOTHING = SequencerOutput()
_DEADLINE = SequencerOutput(deadlines=True)
_PLAN_ID = attrgetter("plan_id")
_SEQ = attrgetter("seq")
_EVENT_ID = attrgetter("event_id")
_POPLEFT = deque.popleft


class Sequencer:
    """Turns what the server sends into an exactly-once, in-order stream per plan.

    Args:
        reorder_window: how far ahead of the next expected ``seq`` an event may
            be buffered; farther events trigger a repair instead.
        dedup_window: how many delivered ``event_id`` s per plan are remembered.
        gap_timeout: seconds a gap may persist before a repair is requested.
        resubscribe_timeout: seconds to wait for the answer to a repair before
            asking again.
        repair_backoff: delays between repairs of a plan that bring no
            progress (:mod:`planstream.repairs`); None repairs at once, for ever.
        max_failed_repairs: with ``repair_backoff``, repairs in a row without
            progress before the plan is given up (:class:`RepairsExhausted`).
    """

    __slots__ = (
        "_cursors",
        "dedup_window",
        "gap_timeout",
        "reorder_window",
        "repairs",
        "resubscribe_timeout",
        "stats",
    )

    def __init__(
        self,
        *,
        reorder_window: int = 1024,
        dedup_window: int = 4096,
        gap_timeout: float = 2.0,
        resubscribe_timeout: float = 10.0,
        repair_backoff: BackoffPolicy | None = None,
        max_failed_repairs: int = 5,
        rng: RandomSource | None = None,
    ) -> None:
        if reorder_window < 1 or dedup_window < 1:
            raise ValueError("reorder_window and dedup_window must be at least 1")
        if gap_timeout <= 0 or resubscribe_timeout <= 0:
            raise ValueError("gap_timeout and resubscribe_timeout must be positive")
        self.reorder_window = reorder_window
        self.dedup_window = dedup_window
        self.gap_timeout = gap_timeout
        self.resubscribe_timeout = resubscribe_timeout
        self.stats = SequencerStats()
        self.repairs = RepairPacer(
            self.stats,
            resubscribe_timeout=resubscribe_timeout,
            backoff=repair_backoff,
            rng=rng,
            max_failed_repairs=max_failed_repairs,
        )
        self._cursors: dict[str, PlanCursor] = {}

    # --- subscriptions --------------------------------------------------------

    def track(
        self, plan_id: str, *, last_event_id: str | None = None, last_seq: int | None = None
    ) -> None:
        """Start (or restart) sequencing ``plan_id`` after the given position.

        ``last_event_id=None`` expects the stream from ``seq`` 1. With an id but
        no ``last_seq``, the first event received sets the baseline.
        """
        self._cursors[plan_id] = PlanCursor(plan_id, last_event_id, last_seq)

    def untrack(self, plan_id: str) -> None:
        """Stop sequencing ``plan_id``; its later events are dropped."""
        self._cursors.pop(plan_id, None)

    def position(self, plan_id: str) -> Position:
        """Where ``plan_id``'s stream stands: the last event delivered.

        Raises:
            KeyError: ``plan_id`` is not tracked.
        """
        return self._cursors[plan_id].position

    def seq_of(self, plan_id: str, event_id: str) -> int | None:
        """The seq of ``event_id`` in ``plan_id``'s stream, if it is the position
        or one of the recently delivered events; else None (not known)."""
        cursor = self._cursors.get(plan_id)
        if cursor is None:
            return None
        if event_id == cursor.last_event_id:
            return cursor.last_seq
        return cursor.recent_ids.get(event_id)

    # --- inputs ---------------------------------------------------------------

    def feed(self, frame: ServerFrame, now: float) -> SequencerOutput:
        """Feed any server frame; frames the sequencer has no use for yield nothing."""
        if isinstance(frame, EventBase):
            return self.on_event(frame, now)
        if isinstance(frame, BatchFrame):
            return self.on_batch(frame.events, now)
        if isinstance(frame, SubscribedFrame):
            return self.on_subscribed(frame, now)
        if isinstance(frame, ResyncFrame):
            return self.on_resync(frame, now)
        if isinstance(frame, HeartbeatFrame):
            return self.on_heartbeat(frame, now)
        return _NOTHING

    def take_next(self, plan_id: str, events: Sequence[Event]) -> bool:
        """The fast path: accept ``events`` (all of ``plan_id``: the caller made
        sure) if they are simply the next ones of the plan (nothing buffered,
        consecutive seqs, ids not seen) and return True; else return False and
        change nothing (then :meth:`place` them one by one, or feed the batch)."""
        cursor = self._cursors.get(plan_id)
        return cursor is not None and not cursor.buffer and self._accept(cursor, events)

    def on_event(self, event: Event, now: float) -> SequencerOutput:
        """Feed one event."""
        events = (event,)
        if self.take_next(event.plan_id, events):
            return SequencerOutput(events)
        return self.place(event, now)

    def place(self, event: Event, now: float) -> SequencerOutput:
        """Feed an event :meth:`take_next` refused: out of order (buffered), a
        duplicate (dropped), the first after a resume of unknown seq, beyond the
        window (repaired), or of an untracked plan (counted)."""
        deliveries: list[Delivery] = []
        actions: list[RepairAction] = []
        self._sequence(event, now, deliveries, actions)
        return SequencerOutput(tuple(deliveries), tuple(actions), None, True)

    def on_batch(self, events: Sequence[Event], now: float) -> SequencerOutput:
        """Feed the events of one ``batch`` frame."""
        if not events:
            return _NOTHING
        plan_ids = set(map(_PLAN_ID, events))
        if len(plan_ids) == 1:
            plan_id = plan_ids.pop()
            if self.take_next(plan_id, events):  # the next events of one plan, at once
                return SequencerOutput(tuple(events), (), plan_id)
        deliveries: list[Delivery] = []
        actions: list[RepairAction] = []
        for event in events:
            if self.take_next(event.plan_id, (event,)):
                deliveries.append(event)
            else:
                self._sequence(event, now, deliveries, actions)
        plans = set(map(_PLAN_ID, deliveries))
        return SequencerOutput(
            tuple(deliveries), tuple(actions), plans.pop() if len(plans) == 1 else None, True
        )

    def on_subscribed(self, frame: SubscribedFrame, now: float) -> SequencerOutput:
        """A (re-)subscription was accepted; replay after our position follows."""
        cursor = self._cursors.get(frame.plan_id)
        if cursor is None:
            return _NOTHING
        cursor.repair_deadline = None
        head = frame.head
        if cursor.last_seq is None:
            if head is not None and head.event_id == cursor.last_event_id:
                cursor.last_seq = head.seq
                cursor.remember(head.event_id, head.seq)
        elif cursor.server_is_behind(head):
            # The server no longer has what we delivered but did not say so
            # with a resync: tell the user history was lost (protocol §1).
            return self._resync(
                cursor, ResyncReason.STREAM_RESET, PlanSnapshot(plan_id=cursor.plan_id, head=head)
            )
        if cursor.last_event_id is not None:  # resumed from a position: replayed exactly
            self.stats.resumes_exact += 1
        if cursor.buffer and cursor.gap_deadline is None:
            cursor.gap_deadline = now + self.gap_timeout
            return _DEADLINE
        return _NOTHING

    def on_resync(self, frame: ResyncFrame, now: float) -> SequencerOutput:
        """History could not be replayed: deliver the marker, rebase on its head."""
        cursor = self._cursors.get(frame.plan_id)
        if cursor is None:
            return _NOTHING
        return self._resync(cursor, frame.reason, frame.snapshot)

    def on_heartbeat(self, frame: HeartbeatFrame, now: float) -> SequencerOutput:
        """Compare the server's heads with what was delivered (protocol §3)."""
        actions: list[RepairAction] = []
        heads = frame.heads
        repaired = False
        for plan_id, cursor in self._cursors.items():
            head = heads.get(plan_id)
            if head is not None:
                repaired |= self.repairs.check_head(cursor, head, now, actions)
        return SequencerOutput((), tuple(actions), None, True) if repaired else _NOTHING

    def on_invalid_event(self, plan_id: str, seq: int, reason: str, now: float) -> None:
        """An event of ``plan_id`` at ``seq`` could not be read (decode failed).

        It counts as missing: the gap machinery repairs it, and if the server
        keeps sending it the plan is given up with ``reason`` as the cause,
        never a silent stall.
        """
        cursor = self._cursors.get(plan_id)
        if cursor is None or (cursor.last_seq is not None and seq <= cursor.last_seq):
            return
        self.stats.invalid_events += 1
        problem = f"the server sent an event at seq {seq} the client cannot read: {reason}"
        cursor.history().problem = problem
        if cursor.gap_deadline is None and cursor.repair_deadline is None:
            cursor.gap_deadline = now + self.gap_timeout

    def tick(self, now: float) -> SequencerOutput:
        """Advance time: gaps and unanswered repairs past their deadline act."""
        actions: list[RepairAction] = []
        for cursor in self._cursors.values():
            self.repairs.tick(cursor, now, actions)
        return SequencerOutput((), tuple(actions)) if actions else _NOTHING

    def next_deadline(self) -> float | None:
        """The earliest time :meth:`tick` has something to do, or None."""
        return self.repairs.next_deadline(self._cursors.values())

    # --- internals ------------------------------------------------------------

    def _sequence(
        self,
        event: Event,
        now: float,
        deliveries: list[Delivery],
        actions: list[RepairAction],
    ) -> None:
        cursor = self._cursors.get(event.plan_id)
        if cursor is None:
            self.stats.unsolicited += 1
            return
        if event.event_id in cursor.recent_ids or event.event_id == cursor.last_event_id:
            self.stats.duplicates_dropped += 1
            return
        seq = event.seq
        if cursor.last_seq is None:
            # Resumed from an id of unknown seq: this event sets the baseline.
            cursor.last_seq = seq - 1
            assert cursor.last_event_id is not None  # the seq is only unknown after a resume
            cursor.remember(cursor.last_event_id, cursor.last_seq)
        if seq <= cursor.last_seq:
            if cursor.repair_deadline is None and cursor.contradicts(seq, event.event_id):
                self.repairs.request(cursor, RepairReason.STREAM_RESET, now, actions)
            self.stats.duplicates_dropped += 1
            return
        if seq == cursor.last_seq + 1 and self._accept(cursor, (event,)):  # its id is new
            deliveries.append(event)
            if cursor.buffer:
                self._drain(cursor, now, deliveries)
            return
        if seq - cursor.last_seq <= self.reorder_window:
            if seq in cursor.buffer:
                self.stats.duplicates_dropped += 1
                return
            cursor.buffer[seq] = event
            if cursor.gap_deadline is None and cursor.repair_deadline is None:
                cursor.gap_deadline = now + self.gap_timeout
            return
        # Too far ahead to wait for: the server will replay it (protocol §1).
        self.stats.dropped_beyond_window += 1
        cursor.history().problem = (
            f"the server sent seq {seq} after seq {cursor.last_seq}, "
            f"beyond the reorder window of {self.reorder_window}"
        )
        if cursor.repair_deadline is None:
            self.repairs.request(cursor, RepairReason.REORDER_OVERFLOW, now, actions)

    def _drain(self, cursor: PlanCursor, now: float, deliveries: list[Delivery]) -> None:
        buffer = cursor.buffer
        while True:
            assert cursor.last_seq is not None  # known once an event was accepted
            nxt = buffer.pop(cursor.last_seq + 1, None)
            if nxt is None:
                break
            if not self._accept(cursor, (nxt,)):
                # Same id as a delivered event at another seq: a duplicate, and
                # its seq is still missing; the gap timer will repair it.
                self.stats.duplicates_dropped += 1
                break
            deliveries.append(nxt)
            self.stats.reordered += 1
        if not buffer:
            cursor.gap_deadline = None
        elif cursor.repair_deadline is None:
            cursor.gap_deadline = now + self.gap_timeout  # progress restarts the clock

    def _accept(self, cursor: PlanCursor, events: Sequence[Event]) -> bool:
        """The one way events are delivered: if ``events`` (of ``cursor``'s plan)
        are exactly the next ones (consecutive seqs, ids not delivered), move the
        position past them (True); else change nothing (False). Once per frame:
        one event takes a short branch, a batch C-level loops (no Python per event)."""
        last_seq = cursor.last_seq
        if last_seq is None:
            return False
        recent_ids = cursor.recent_ids
        order = cursor.recent_order
        if order is None:
            order = cursor.order()
        if len(events) == 1:
            event = events[0]
            seq = event.seq
            if seq != last_seq + 1:
                return False
            event_id = event.event_id
            if event_id in recent_ids:
                return False
            recent_ids[event_id] = seq
            order.append(event_id)
            count = 1
        else:
            count = len(events)
            seqs = list(map(_SEQ, events))
            if seqs != list(range(last_seq + 1, last_seq + count + 1)):
                return False
            ids = list(map(_EVENT_ID, events))
            if not recent_ids.keys().isdisjoint(ids) or len(set(ids)) != count:
                return False
            recent_ids.update(zip(ids, seqs, strict=True))
            order.extend(ids)
            seq, event_id = seqs[-1], ids[-1]
        excess = len(order) - self.dedup_window
        if excess == 1:
            del recent_ids[order.popleft()]
        elif excess > 0:  # forget the oldest ids, in C
            deque(map(recent_ids.__delitem__, map(_POPLEFT, repeat(order, excess))), 0)
        cursor.last_seq = seq
        cursor.last_event_id = event_id
        self.stats.delivered += count
        return True

    def _resync(
        self, cursor: PlanCursor, reason: ResyncReason, snapshot: PlanSnapshot
    ) -> SequencerOutput:
        if cursor.last_event_id is not None:  # a resume from a position found no history
            self.stats.resumes_resynced += 1
        cursor.rebase(snapshot.head)
        self.stats.resyncs += 1
        marker = Resync(plan_id=cursor.plan_id, reason=reason, snapshot=snapshot)
        return SequencerOutput((marker,), ())
