"""The event-log interface: where each plan's stream lives and how far back.

A log appends events atomically with gap-free ``seq`` and ids unique across
restarts, reads retained events after a position, resolves a client's
``last_event_id`` to a position or a resync, folds snapshots with the shared
reducer, and tells listeners about new events. :class:`MemoryEventLog` is the
only implementation so far; a shared log for multi-node servers (Redis
Streams) would implement the same interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from planstream.schema.events import Event, Head
from planstream.schema.frames import ResyncReason
from planstream.schema.snapshot import PlanSnapshot

__all__ = [
    "ChangeListener",
    "EventLog",
    "LogChange",
    "NewEvent",
    "ResumeAfter",
    "ResyncNeeded",
    "StoredEvent",
]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: its kind and validated data (as JSON-ready values)."""

    kind: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An appended event and its wire JSON, encoded once and shared by every reader."""

    event: Event
    json: str
    nbytes: int  # UTF-8 size of ``json``, for frame-size budgets
    seq: int  # ``event.seq``, kept flat for the sender's hot path


@dataclass(frozen=True, slots=True)
class LogChange:
    """A plan's stream grew: its newest ``seq`` and oldest retained ``seq``."""

    plan_id: str
    head_seq: int
    first_seq: int


@dataclass(frozen=True, slots=True)
class ResumeAfter:
    """Replay the events with ``seq > after_seq``."""

    after_seq: int


@dataclass(frozen=True, slots=True)
class ResyncNeeded:
    """History cannot be replayed: send this snapshot, then events after its head."""

    reason: ResyncReason
    snapshot: PlanSnapshot


#: Called synchronously after every append; must not block.
ChangeListener = Callable[[LogChange], None]


class EventLog(ABC):
    """Storage of plan streams. Every method may be called concurrently."""

    def __init__(self) -> None:
        self._listeners: list[ChangeListener] = []

    def add_listener(self, listener: ChangeListener) -> Callable[[], None]:
        """Call ``listener`` after every append; returns a function removing it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _notify(self, change: LogChange) -> None:
        for listener in tuple(self._listeners):
            listener(change)

    @abstractmethod
    async def append(
        self, plan_id: str, events: Sequence[NewEvent], *, ts: datetime
    ) -> list[StoredEvent]:
        """Append ``events`` atomically, in order; all share timestamp ``ts``."""

    @abstractmethod
    async def read(self, plan_id: str, after_seq: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` retained events with ``seq > after_seq``, oldest first.

        The first one returned may be later than ``after_seq + 1`` when those
        events are no longer retained; callers check.
        """

    @abstractmethod
    async def locate(self, plan_id: str, last_event_id: str | None) -> ResumeAfter | ResyncNeeded:
        """Where a subscriber resuming after ``last_event_id`` starts (protocol §3)."""

    @abstractmethod
    async def head(self, plan_id: str) -> Head | None:
        """The newest event of ``plan_id``, None when it has none."""

    @abstractmethod
    async def first_seq(self, plan_id: str) -> int | None:
        """The oldest retained ``seq`` of ``plan_id``, None when it has none."""

    @abstractmethod
    async def snapshot(self, plan_id: str) -> PlanSnapshot | None:
        """The folded state of ``plan_id``, None when it has no events."""

    @abstractmethod
    async def snapshots(self) -> list[PlanSnapshot]:
        """Snapshots of every plan with at least one event."""

    @abstractmethod
    async def plan_count(self) -> int:
        """How many plans have at least one event."""

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release resources."""
