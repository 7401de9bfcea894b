"""What the sequencer hands out (pure): items to deliver and repair actions.

A subscription delivers :data:`Delivery` items — events, or a :class:`Resync`
marker when history was lost — and the transport performs
:data:`RepairAction` s (:class:`Resubscribe`, or :class:`RepairsExhausted`
when a plan's stream stayed broken through every repair). Both come from the
sequencer in a :class:`SequencerOutput`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, NamedTuple, TypeAlias

from planstream.schema.events import Event, NonEmptyStr, WireModel
from planstream.schema.frames import ResyncReason
from planstream.schema.snapshot import PlanSnapshot

__all__ = [
    "Delivery",
    "RepairAction",
    "RepairReason",
    "RepairsExhausted",
    "Resubscribe",
    "Resync",
    "SequencerOutput",
    "SequencerStats",
]


class Resync(WireModel):
    """Delivered instead of events the server could no longer replay.

    ``snapshot`` is the plan's state at ``snapshot.head``; the stream continues
    with the events after it. Receiving one means history was lost.
    """

    type: Literal["resync"] = "resync"
    plan_id: NonEmptyStr
    reason: ResyncReason
    snapshot: PlanSnapshot


#: What a subscription delivers to its user: an event or a resync marker.
Delivery: TypeAlias = Event | Resync


class RepairReason(StrEnum):
    """Why the sequencer asks to re-subscribe a plan."""

    GAP_TIMEOUT = "gap_timeout"
    REORDER_OVERFLOW = "reorder_overflow"
    TAIL_LOST = "tail_lost"
    STREAM_RESET = "stream_reset"
    RESUBSCRIBE_TIMEOUT = "resubscribe_timeout"


@dataclass(frozen=True, slots=True)
class Resubscribe:
    """Action: send ``subscribe`` for ``plan_id`` resuming after ``last_event_id``."""

    plan_id: str
    last_event_id: str | None
    reason: RepairReason


@dataclass(frozen=True, slots=True)
class RepairsExhausted:
    """Action: give ``plan_id`` up; its subscription ends with a typed error.

    ``attempts`` repairs in a row brought no progress past ``last_seq``;
    ``cause`` says, in words, why the last one was needed.
    """

    plan_id: str
    attempts: int
    last_seq: int | None
    cause: str


#: What the sequencer asks the transport to do for a plan.
RepairAction: TypeAlias = Resubscribe | RepairsExhausted


class SequencerOutput(NamedTuple):
    """What one input produced: items to deliver (in order) and actions.

    ``plan_id``: the one plan every delivery belongs to, when the input was a
    batch of a single plan (lets the caller queue them at once); else None.
    ``deadlines``: the input may have set a deadline (a gap timer, a repair
    awaiting its answer or due later): whoever sleeps until
    :meth:`~planstream.sequencer.Sequencer.next_deadline` must look again.
    Never set by in-order events.
    """

    deliveries: tuple[Delivery, ...] = ()
    actions: tuple[RepairAction, ...] = ()
    plan_id: str | None = None
    deadlines: bool = False


@dataclass(slots=True)
class SequencerStats:
    """Counters over the sequencer's lifetime."""

    delivered: int = 0
    duplicates_dropped: int = 0
    reordered: int = 0
    repairs_requested: int = 0
    resyncs: int = 0
    dropped_beyond_window: int = 0
    unsolicited: int = 0
    repairs_delayed: int = 0
    plans_given_up: int = 0
    invalid_events: int = 0
    #: Re-subscriptions from a known position answered by an exact replay /
    #: by a resync (history lost): the resume hit rate (client telemetry).
    resumes_exact: int = 0
    resumes_resynced: int = 0
