"""The plan-state reducer (pure): fold events into the snapshot of protocol §5.

The server builds ``resync`` snapshots with it and the client folds its
stream with it, so both sides agree on what a plan looks like.
"""

from __future__ import annotations

from datetime import datetime

from planstream.errors import PlanStateError
from planstream.schema.events import (
    Event,
    Head,
    PlanProgressData,
    PlanProgressEvent,
    PlanStatus,
    PlanStatusEvent,
    StepStatusData,
    StepStatusEvent,
)
from planstream.schema.snapshot import PlanSnapshot

__all__ = ["PlanState"]


class PlanState:
    """The folded state of one plan.

    ``apply`` folds one event in place; events at or before ``head`` are
    ignored, so folding is idempotent and a replayed stream folds to the same
    state. ``snapshot()`` returns the immutable wire form.
    """

    __slots__ = ("_steps", "head", "plan_id", "progress", "status", "updated_at")

    def __init__(self, plan_id: str) -> None:
        self.plan_id = plan_id
        self.status: PlanStatus | None = None
        self.progress: PlanProgressData | None = None
        self._steps: dict[str, StepStatusData] = {}
        self.head: Head | None = None
        self.updated_at: datetime | None = None

    @classmethod
    def from_snapshot(cls, snapshot: PlanSnapshot) -> PlanState:
        """Start from a snapshot (e.g. the one a ``resync`` carries)."""
        state = cls(snapshot.plan_id)
        state.status = snapshot.status
        state.progress = snapshot.progress
        state._steps = {step.step_id: step for step in snapshot.steps}
        state.head = snapshot.head
        state.updated_at = snapshot.updated_at
        return state

    @property
    def steps(self) -> tuple[StepStatusData, ...]:
        """Latest data of each step, ordered by ``index`` (then ``step_id``)."""
        return tuple(sorted(self._steps.values(), key=lambda step: (step.index, step.step_id)))

    @property
    def is_terminal(self) -> bool:
        """Whether the plan reached ``succeeded``, ``failed`` or ``cancelled``."""
        return self.status is not None and self.status.is_terminal

    def apply(self, event: Event) -> bool:
        """Fold one event; return whether it changed the position.

        Raises:
            PlanStateError: the event belongs to another plan.
        """
        if event.plan_id != self.plan_id:
            raise PlanStateError(
                f"event {event.event_id!r} of plan {event.plan_id!r} "
                f"folded into plan {self.plan_id!r}"
            )
        if self.head is not None and event.seq <= self.head.seq:
            return False
        if isinstance(event, PlanStatusEvent):
            self.status = event.data.status
        elif isinstance(event, PlanProgressEvent):
            self.progress = event.data
        elif isinstance(event, StepStatusEvent):
            self._steps[event.data.step_id] = event.data
        # log and unknown kinds move the head but not the state (protocol §5).
        self.head = Head(seq=event.seq, event_id=event.event_id)
        self.updated_at = event.ts
        return True

    def snapshot(self) -> PlanSnapshot:
        """The state as the wire snapshot of protocol §5."""
        return PlanSnapshot(
            plan_id=self.plan_id,
            status=self.status,
            progress=self.progress,
            steps=self.steps,
            head=self.head,
            updated_at=self.updated_at,
        )
