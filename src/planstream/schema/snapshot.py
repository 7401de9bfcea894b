"""The plan snapshot (protocol §5): the state folded from a plan's stream."""

from __future__ import annotations

from pydantic import Field

from planstream.schema.events import (
    Head,
    NonEmptyStr,
    PlanProgressData,
    PlanStatus,
    StepStatusData,
    Timestamp,
    WireModel,
)

__all__ = ["PlanSnapshot"]


class PlanSnapshot(WireModel):
    """What a plan looks like after every event up to ``head``.

    Attributes:
        plan_id: the plan.
        status: status of the latest ``plan.status`` event, None before any.
        progress: data of the latest ``plan.progress`` event, None before any.
        steps: latest ``step.status`` data of each step, ordered by ``index``.
        head: the last folded event, None when the plan has no events.
        updated_at: ``ts`` of the last folded event.
    """

    plan_id: NonEmptyStr
    status: PlanStatus | None = None
    progress: PlanProgressData | None = None
    steps: tuple[StepStatusData, ...] = Field(default_factory=tuple)
    head: Head | None = None
    updated_at: Timestamp | None = None

    @property
    def is_terminal(self) -> bool:
        """Whether the plan had reached a terminal status at this snapshot."""
        return self.status is not None and self.status.is_terminal
