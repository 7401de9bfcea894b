"""The ``data`` models a publisher sends, and the kind each one means (protocol §5).

A publisher passes a typed model (``LogData(...)``); the kind is not written
again, it follows from the model's class: one table, :data:`DATA_KINDS`, so
the HTTP publisher and the embedded server agree. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any, Final, TypeAlias

from planstream.schema.events import (
    EventKind,
    LogData,
    PlanProgressData,
    PlanStatusData,
    StepStatusData,
)

__all__ = ["DATA_KINDS", "EventData", "event_kind", "publish_item"]

#: The ``data`` of any event kind schema 1.0 knows.
EventData: TypeAlias = PlanStatusData | PlanProgressData | StepStatusData | LogData

#: The kind each data model is published as.
DATA_KINDS: Final[dict[type[EventData], EventKind]] = {
    PlanStatusData: EventKind.PLAN_STATUS,
    PlanProgressData: EventKind.PLAN_PROGRESS,
    StepStatusData: EventKind.STEP_STATUS,
    LogData: EventKind.LOG,
}


def event_kind(data: EventData) -> EventKind:
    """The kind ``data`` is published as.

    Raises:
        TypeError: ``data`` is not one of the four data models (a subclass
            counts as its base).
    """
    for model in type(data).__mro__:
        kind = DATA_KINDS.get(model)
        if kind is not None:
            return kind
    raise TypeError(
        f"cannot publish a {type(data).__name__}: pass PlanStatusData, PlanProgressData, "
        "StepStatusData or LogData"
    )


def publish_item(data: EventData) -> dict[str, Any]:
    """``{"kind", "data"}``: one item of a ``POST /v1/plans/{plan_id}/events`` body."""
    return {"kind": event_kind(data).value, "data": data.model_dump(mode="json")}
