"""Event models of schema 1.0 (protocol §5).

An event is the envelope ``plan_id, event_id, seq, ts, kind, data`` with a
``data`` model typed by ``kind``. Kinds this schema does not know become an
:class:`UnknownEvent` that keeps its raw ``data`` (protocol §2: unknown kinds
are delivered, never an error). Unknown fields are ignored everywhere.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict

from planstream.schema.limits import (
    JSON_SAFE_INT_MAX,
    PLAN_ID_MAX_LENGTH,
    EventIdText,
    JsonSafeInt,
)

__all__ = [
    "KNOWN_EVENT_KINDS",
    "TERMINAL_PLAN_STATUSES",
    "Event",
    "EventBase",
    "EventKind",
    "Head",
    "KnownEvent",
    "LogData",
    "LogEvent",
    "LogLevel",
    "LogStream",
    "NonEmptyStr",
    "PlanProgressData",
    "PlanProgressEvent",
    "PlanStatus",
    "PlanStatusData",
    "PlanStatusEvent",
    "Seq",
    "StepStatus",
    "StepStatusData",
    "StepStatusEvent",
    "Timestamp",
    "UnknownEvent",
    "WireModel",
]

#: A non-empty string (ids, names); strict: numbers are not coerced.
NonEmptyStr = Annotated[str, Strict(), Field(min_length=1)]
#: A stream position: starts at 1, grows by exactly 1 per event (protocol §1);
#: bounded to what every JSON reader keeps exactly.
Seq = Annotated[int, Strict(), Field(ge=1, le=JSON_SAFE_INT_MAX)]
#: A plan id as a server sends it. Only its length is checked here, on the
#: client's hot path: the client routes events of plans it subscribed to (ids it
#: checked against protocol §1 itself) and ignores any other.
_SentPlanId = Annotated[str, Strict(), Field(min_length=1, max_length=PLAN_ID_MAX_LENGTH)]
#: RFC 3339 timestamp (protocol §7); strict: a bare number is not a timestamp.
Timestamp = Annotated[datetime, Strict()]
_OptionalStr = Annotated[str | None, Strict()]


class WireModel(BaseModel):
    """Base of every wire model: immutable, unknown fields ignored (protocol §7)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class EventKind(StrEnum):
    """The event kinds of schema 1.0."""

    PLAN_STATUS = "plan.status"
    PLAN_PROGRESS = "plan.progress"
    STEP_STATUS = "step.status"
    LOG = "log"


KNOWN_EVENT_KINDS: frozenset[str] = frozenset(kind.value for kind in EventKind)


class PlanStatus(StrEnum):
    """Status of a whole plan."""

    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Whether the plan can no longer change (protocol §5)."""
        return self in TERMINAL_PLAN_STATUSES


TERMINAL_PLAN_STATUSES: frozenset[PlanStatus] = frozenset(
    {PlanStatus.SUCCEEDED, PlanStatus.FAILED, PlanStatus.CANCELLED}
)


class StepStatus(StrEnum):
    """Status of one step of a plan."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class LogLevel(StrEnum):
    """Severity of a log line."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class LogStream(StrEnum):
    """Where a log line came from."""

    STDOUT = "stdout"
    STDERR = "stderr"
    SYSTEM = "system"


class Head(WireModel):
    """A position in a plan's stream: the newest event of interest."""

    seq: Seq
    event_id: EventIdText


class PlanStatusData(WireModel):
    """``data`` of a ``plan.status`` event."""

    status: PlanStatus
    reason: _OptionalStr = None


class PlanProgressData(WireModel):
    """``data`` of a ``plan.progress`` event."""

    completed_steps: Annotated[int, Strict(), Field(ge=0, le=JSON_SAFE_INT_MAX)]
    total_steps: Annotated[int, Strict(), Field(ge=0, le=JSON_SAFE_INT_MAX)]
    percent: Annotated[float, Strict(), Field(ge=0.0, le=100.0, allow_inf_nan=False)]
    message: _OptionalStr = None


class StepStatusData(WireModel):
    """``data`` of a ``step.status`` event."""

    step_id: NonEmptyStr
    index: JsonSafeInt
    name: Annotated[str, Strict()]
    status: StepStatus
    error: _OptionalStr = None


class LogData(WireModel):
    """``data`` of a ``log`` event."""

    level: LogLevel
    message: Annotated[str, Strict()]
    step_id: _OptionalStr = None
    stream: LogStream


class EventBase(WireModel):
    """The envelope every event shares (protocol §3, ``event``)."""

    type: Literal["event"] = "event"
    plan_id: _SentPlanId
    event_id: EventIdText
    seq: Seq
    ts: Timestamp


class PlanStatusEvent(EventBase):
    """The plan changed status."""

    kind: Literal["plan.status"] = "plan.status"
    data: PlanStatusData


class PlanProgressEvent(EventBase):
    """The plan reported progress."""

    kind: Literal["plan.progress"] = "plan.progress"
    data: PlanProgressData


class StepStatusEvent(EventBase):
    """A step changed status."""

    kind: Literal["step.status"] = "step.status"
    data: StepStatusData


class LogEvent(EventBase):
    """A log line."""

    kind: Literal["log"] = "log"
    data: LogData


def _reject_known_kind(kind: str) -> str:
    # A known kind with invalid data must fail, not pass as "unknown".
    if kind in KNOWN_EVENT_KINDS:
        raise ValueError(f"kind {kind!r} is known; its data must match its schema")
    return kind


class UnknownEvent(EventBase):
    """An event of a kind this schema does not know; ``data`` is kept raw."""

    kind: Annotated[str, Strict(), Field(min_length=1), AfterValidator(_reject_known_kind)]
    data: dict[str, Any]


#: An event of a kind this schema knows, discriminated by ``kind``.
KnownEvent: TypeAlias = Annotated[
    PlanStatusEvent | PlanProgressEvent | StepStatusEvent | LogEvent,
    Field(discriminator="kind"),
]

#: Any event: a known kind by tag lookup, or else an :class:`UnknownEvent`.
#: ``left_to_right`` tries the cheap tagged union first (protocol §2).
Event: TypeAlias = Annotated[
    KnownEvent | UnknownEvent,
    Field(union_mode="left_to_right"),
]
