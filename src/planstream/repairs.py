"""Pacing one plan's repairs (pure): back off, and give up on a broken stream.

The sequencer asks for a repair (re-subscribe from the last delivered event,
protocol §1) when it sees a gap, an event far ahead, a lost tail or a reset.
A server that answers every repair with the same broken stream (an event at
seq 10**15, an event the client cannot read) would otherwise be re-subscribed
in a tight loop for ever. :class:`RepairPacer` keeps the rule in one place:

* the first repair from a position goes out at once;
* a repair asked for again from the same position (the last one brought no
  progress) waits for the next delay of the reconnect policy
  (:class:`~planstream.backoff.BackoffPolicy`, jittered the same way);
* after ``max_failed_repairs`` repairs in a row without progress the plan is
  given up: :class:`~planstream.delivery.RepairsExhausted` ends that
  subscription only, with a typed error.

It also owns the repair deadlines of a cursor (the gap timer, the wait for a
repair's answer, a delayed repair) and the heartbeat check that finds a lost
tail (protocol §3). Pure: time is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from planstream.backoff import BackoffPolicy, ModuleRandom, RandomSource
from planstream.delivery import (
    RepairAction,
    RepairReason,
    RepairsExhausted,
    Resubscribe,
    SequencerStats,
)
from planstream.plan_cursor import PlanCursor
from planstream.schema.events import Head

__all__ = ["RepairPacer"]

_CAUSES = {
    RepairReason.GAP_TIMEOUT: "a gap in the seqs stayed open past gap_timeout",
    RepairReason.REORDER_OVERFLOW: "an event arrived beyond the reorder window",
    RepairReason.TAIL_LOST: "a heartbeat announced events that never arrived",
    RepairReason.STREAM_RESET: "the server's stream contradicted what was delivered",
    RepairReason.RESUBSCRIBE_TIMEOUT: "the server did not answer the re-subscription",
}


def _repair_cause(cursor: PlanCursor, reason: RepairReason) -> str:
    """Why ``cursor``'s plan needed its last repair, in words (for the error)."""
    history = cursor.repair_history
    problem = None if history is None else history.problem
    return problem or _CAUSES[reason]


class RepairPacer:
    """Sends, delays, times out and gives up the repairs of a sequencer's plans.

    Args:
        stats: the sequencer's counters (repairs requested, delayed, given up).
        resubscribe_timeout: seconds to wait for the answer to a repair.
        backoff: the delays between repairs that bring no progress (the client
            passes its reconnect policy; its ``max_attempts`` is ignored).
            None: repairs go out at once, for ever (the pure default).
        rng: the jitter's randomness.
        max_failed_repairs: with ``backoff``, repairs in a row without progress
            before the plan is given up.
    """

    __slots__ = ("max_failed_repairs", "policy", "resubscribe_timeout", "rng", "stats")

    def __init__(
        self,
        stats: SequencerStats,
        *,
        resubscribe_timeout: float,
        backoff: BackoffPolicy | None = None,
        rng: RandomSource | None = None,
        max_failed_repairs: int = 5,
    ) -> None:
        if max_failed_repairs < 1:
            raise ValueError("max_failed_repairs must be at least 1")
        self.stats = stats
        self.resubscribe_timeout = resubscribe_timeout
        self.policy = None if backoff is None else replace(backoff, max_attempts=None)
        self.rng = rng if rng is not None else ModuleRandom()
        self.max_failed_repairs = max_failed_repairs

    def request(
        self, cursor: PlanCursor, reason: RepairReason, now: float, actions: list[RepairAction]
    ) -> None:
        """``cursor``'s plan needs a repair: send it now, later, or give the plan up."""
        cursor.gap_deadline = None
        if cursor.repair_due is not None:
            return  # a delayed repair is already due
        delay = self._delay(cursor)
        if delay is None:
            cursor.repair_deadline = None
            self.stats.plans_given_up += 1
            cause = _repair_cause(cursor, reason)
            actions.append(
                RepairsExhausted(cursor.plan_id, cursor.history().failed, cursor.last_seq, cause)
            )
        elif delay > 0:
            # The last repair from here brought nothing: back off.
            cursor.repair_deadline = None
            cursor.repair_due = now + delay
            cursor.history().reason = reason
            self.stats.repairs_delayed += 1
        else:
            actions.append(self.resubscribe(cursor, reason, now))

    def resubscribe(self, cursor: PlanCursor, reason: RepairReason, now: float) -> Resubscribe:
        """The repair action, sent now; its answer is awaited ``resubscribe_timeout``."""
        cursor.repair_deadline = now + self.resubscribe_timeout
        cursor.gap_deadline = None
        cursor.repair_due = None
        cursor.history().position = cursor.position
        self.stats.repairs_requested += 1
        return Resubscribe(cursor.plan_id, cursor.last_event_id, reason)

    def tick(self, cursor: PlanCursor, now: float, actions: list[RepairAction]) -> None:
        """Act on ``cursor``'s deadlines that passed: a delayed repair, an
        unanswered one, a gap that outlived ``gap_timeout``."""
        if cursor.repair_due is not None:
            if now >= cursor.repair_due:
                reason = cursor.history().reason
                assert reason is not None  # set with repair_due
                actions.append(self.resubscribe(cursor, reason, now))
        elif cursor.repair_deadline is not None:
            if now >= cursor.repair_deadline:
                self.request(cursor, RepairReason.RESUBSCRIBE_TIMEOUT, now, actions)
        elif cursor.gap_deadline is not None and now >= cursor.gap_deadline:
            self.request(cursor, RepairReason.GAP_TIMEOUT, now, actions)

    def check_head(
        self, cursor: PlanCursor, head: Head, now: float, actions: list[RepairAction]
    ) -> bool:
        """Compare a heartbeat's head with what was delivered (protocol §3);
        True if that asked for a repair (which sets a deadline)."""
        if cursor.repair_deadline is not None:
            return False  # a repair is on its way
        if cursor.last_seq is None:
            # Resumed from an id of unknown seq and nothing arrived, yet the
            # server sent something newer on this connection: a lost replay.
            reason = None if head.event_id == cursor.last_event_id else RepairReason.TAIL_LOST
        elif head.seq > cursor.last_seq:
            # buffered events mean a gap timer already runs
            reason = None if cursor.buffer else RepairReason.TAIL_LOST
        elif cursor.contradicts(head.seq, head.event_id):
            reason = RepairReason.STREAM_RESET
        else:
            reason = None
        if reason is None:
            return False
        self.request(cursor, reason, now, actions)
        return True

    @staticmethod
    def next_deadline(cursors: Iterable[PlanCursor]) -> float | None:
        """The earliest deadline of ``cursors`` (gap, repair answer, delayed repair)."""
        deadlines = [
            deadline
            for cursor in cursors
            for deadline in (cursor.repair_deadline, cursor.gap_deadline, cursor.repair_due)
            if deadline is not None
        ]
        return min(deadlines, default=None)

    def _delay(self, cursor: PlanCursor) -> float | None:
        """Seconds before ``cursor``'s next repair (0: now), or None: give up.

        The cursor remembers where the previous repair started; progress since
        then resets the count.
        """
        if self.policy is None:
            return 0.0
        history = cursor.history()
        if history.position != cursor.position:
            history.failed = 0  # progress since the last repair (or none yet)
            history.schedule = None
            return 0.0
        history.failed += 1  # the previous repair from here did not help
        if history.failed >= self.max_failed_repairs:
            return None
        schedule = history.schedule
        if schedule is None:
            schedule = history.schedule = self.policy.schedule(self.rng)
        delay = schedule.next_delay()
        assert delay is not None  # the policy has no max_attempts
        return delay
