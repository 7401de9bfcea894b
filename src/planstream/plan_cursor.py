"""One plan's position in the sequencer (pure): delivered, remembered, buffered, due.

:class:`~planstream.sequencer.Sequencer` keeps one :class:`PlanCursor` per
tracked plan. The cursor holds the last delivered ``seq`` and ``event_id``,
a bounded window of recently delivered ids (for de-duplication and for
recognising a stream reset), the events buffered ahead of a gap, and the gap
and repair deadlines. The sequencer decides; the cursor only answers
questions about the position and applies the changes it is told to.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, NamedTuple

from planstream.schema.events import Event, Head

if TYPE_CHECKING:
    from planstream.backoff import BackoffSchedule
    from planstream.delivery import RepairReason

__all__ = ["PlanCursor", "Position", "RepairHistory"]


class Position(NamedTuple):
    """Where a plan's stream stands: the last event delivered (or resumed after).

    ``event_id`` None: nothing yet, the stream starts at seq 1 (``seq`` 0).
    ``seq`` None: resumed after an id whose seq is not known yet; the next
    event (or the server's answer) tells it.
    """

    event_id: str | None
    seq: int | None


class RepairHistory:
    """A plan's recent repairs (:mod:`planstream.repairs`), created with the first.

    Kept out of :class:`PlanCursor` itself so that an idle plan, never
    repaired, does not pay for it.
    """

    __slots__ = ("failed", "position", "problem", "reason", "schedule")

    def __init__(self) -> None:
        #: Where the last repair resumed from.
        self.position: Position | None = None
        self.failed = 0  # repairs in a row that brought no progress
        self.schedule: BackoffSchedule | None = None  # their delays
        self.reason: RepairReason | None = None  # why the delayed repair is due
        #: What was last seen wrong with the stream, for the give-up error.
        self.problem: str | None = None


class PlanCursor:
    """Per-plan position: what was delivered, what is buffered, what is due."""

    __slots__ = (
        "buffer",
        "gap_deadline",
        "last_event_id",
        "last_seq",
        "plan_id",
        "recent_ids",
        "recent_order",
        "repair_deadline",
        "repair_due",
        "repair_history",
    )

    def __init__(self, plan_id: str, last_event_id: str | None, last_seq: int | None) -> None:
        self.plan_id = plan_id
        self.last_event_id = last_event_id
        # None: resumed from an id whose seq is unknown; the next event sets it.
        self.last_seq: int | None = 0 if last_event_id is None else last_seq
        self.recent_ids: dict[str, int] = {}
        # Created with the first delivery: an idle plan costs no deque block (~760 B).
        self.recent_order: deque[str] | None = None
        self.buffer: dict[int, Event] = {}
        self.gap_deadline: float | None = None
        self.repair_deadline: float | None = None
        self.repair_due: float | None = None  # a repair delayed by planstream.repairs
        self.repair_history: RepairHistory | None = None  # see history()
        if last_event_id is not None and last_seq is not None:
            self.remember(last_event_id, last_seq)

    @property
    def position(self) -> Position:
        """The last delivered event (or the resume position)."""
        return Position(self.last_event_id, self.last_seq)

    def remember(self, event_id: str, seq: int) -> None:
        """Note ``event_id`` as delivered at ``seq`` (the caller trims the window)."""
        self.recent_ids[event_id] = seq
        self.order().append(event_id)

    def history(self) -> RepairHistory:
        """The plan's repair history (created on first use)."""
        history = self.repair_history
        if history is None:
            history = self.repair_history = RepairHistory()
        return history

    def order(self) -> deque[str]:
        """The delivered ids, oldest first (created on first use)."""
        order = self.recent_order
        if order is None:
            order = self.recent_order = deque()
        return order

    def rebase(self, head: Head | None) -> None:
        """Forget everything; continue after ``head`` (protocol §3: resync)."""
        self.last_seq = 0 if head is None else head.seq
        self.last_event_id = None if head is None else head.event_id
        self.recent_ids.clear()
        self.recent_order = None
        self.buffer.clear()
        self.gap_deadline = None
        self.repair_deadline = None
        self.repair_due = None
        self.repair_history = None
        if head is not None:
            self.remember(head.event_id, head.seq)

    def contradicts(self, seq: int, event_id: str) -> bool:
        """Whether ``(seq, event_id)``, at or before our position, conflicts with
        what was delivered: the sign of a stream reset (protocol §1)."""
        if seq == self.last_seq:
            return event_id != self.last_event_id
        known_seq = self.recent_ids.get(event_id)
        if known_seq is not None:
            return known_seq != seq
        # An unknown id at a seq we remember delivering something else at.
        order = self.recent_order
        if not order:
            return False
        return seq >= self.recent_ids[order[0]]

    def server_is_behind(self, head: Head | None) -> bool:
        """Whether the server's ``head`` (in a ``subscribed`` answer) lies before
        what was delivered, or contradicts it: history the server no longer has."""
        last_seq = self.last_seq or 0
        if head is None:
            return last_seq > 0
        if head.seq == last_seq:
            return head.event_id != self.last_event_id
        return head.seq < last_seq
