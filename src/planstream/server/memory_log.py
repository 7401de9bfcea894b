"""The default event log: every plan's stream in this process's memory.

Event ids are ``<incarnation>.<seq>``: the incarnation is random per log, so
ids stay unique across restarts (protocol §1), and an id from an earlier
incarnation is recognised as ``stream_reset`` rather than ``unknown_event_id``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from pydantic import TypeAdapter

from planstream.plan_state import PlanState
from planstream.schema.events import Event, Head
from planstream.schema.frames import ResyncReason
from planstream.schema.snapshot import PlanSnapshot
from planstream.server.event_log import (
    EventLog,
    LogChange,
    NewEvent,
    ResumeAfter,
    ResyncNeeded,
    StoredEvent,
)

__all__ = ["MemoryEventLog"]

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)


class _PlanStream:
    """One plan: retained events (a list trimmed in chunks) and folded state."""

    __slots__ = ("events", "offset", "state")

    def __init__(self, plan_id: str) -> None:
        self.events: list[StoredEvent] = []
        self.offset = 0  # events[:offset] are past retention, awaiting a trim
        self.state = PlanState(plan_id)

    @property
    def head_seq(self) -> int:
        return self.events[-1].seq if self.events else 0

    @property
    def first_seq(self) -> int:
        return self.events[self.offset].seq if self.events else 1

    def retained(self, seq: int) -> StoredEvent | None:
        if not self.events or seq < self.first_seq or seq > self.head_seq:
            return None
        return self.events[seq - self.events[0].seq]

    def trim(self, retention: int) -> None:
        excess = len(self.events) - self.offset - retention
        if excess > 0:
            self.offset += excess
        # Physically drop in chunks so trimming stays O(1) amortised.
        if self.offset >= max(64, retention // 8):
            del self.events[: self.offset]
            self.offset = 0


class MemoryEventLog(EventLog):
    """Plan streams in memory, ``retention`` events per plan.

    Args:
        retention: events kept per plan (older ones can no longer be replayed;
            a subscriber resuming before them gets ``resync``).
        incarnation: id prefix; random by default (tests may fix it).
    """

    def __init__(self, retention: int = 10_000, *, incarnation: str | None = None) -> None:
        super().__init__()
        if retention < 1:
            raise ValueError("retention must be at least 1")
        self.retention = retention
        self.incarnation = incarnation or secrets.token_hex(6)
        self._prefix = self.incarnation + "."
        self._plans: dict[str, _PlanStream] = {}

    def __repr__(self) -> str:
        return f"MemoryEventLog(plans={len(self._plans)}, retention={self.retention})"

    async def append(
        self, plan_id: str, events: Sequence[NewEvent], *, ts: datetime
    ) -> list[StoredEvent]:
        """Append atomically: every event validates, or none is appended."""
        stream = self._plans.get(plan_id)
        next_seq = (stream.head_seq if stream else 0) + 1
        built = [
            _EVENT.validate_python(
                {
                    "plan_id": plan_id,
                    "event_id": f"{self._prefix}{seq}",
                    "seq": seq,
                    "ts": ts,
                    "kind": new.kind,
                    "data": new.data,
                }
            )
            for seq, new in enumerate(events, start=next_seq)
        ]
        if stream is None:
            stream = self._plans[plan_id] = _PlanStream(plan_id)
        stored = []
        for event in built:
            text = event.model_dump_json()
            stored.append(StoredEvent(event, text, len(text.encode()), event.seq))
        for item in stored:
            stream.state.apply(item.event)
        stream.events.extend(stored)
        stream.trim(self.retention)
        if stored:
            self._notify(LogChange(plan_id, stream.head_seq, stream.first_seq))
        return stored

    async def read(self, plan_id: str, after_seq: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` retained events after ``after_seq``."""
        stream = self._plans.get(plan_id)
        if stream is None or after_seq >= stream.head_seq:
            return []
        start = max(after_seq + 1, stream.first_seq) - stream.events[0].seq
        return stream.events[start : start + limit]

    async def locate(self, plan_id: str, last_event_id: str | None) -> ResumeAfter | ResyncNeeded:
        """Resolve a resume point (protocol §3)."""
        stream = self._plans.get(plan_id)
        if last_event_id is None:
            if stream is None or stream.first_seq == 1:
                return ResumeAfter(0)
            return self._resync(plan_id, stream, ResyncReason.HISTORY_EXPIRED)
        prefix, _, seq_text = last_event_id.rpartition(".")
        if prefix != self.incarnation:
            looks_like_ours = len(prefix) == len(self.incarnation) and seq_text.isdigit()
            reason = ResyncReason.STREAM_RESET if looks_like_ours else ResyncReason.UNKNOWN_EVENT_ID
            return self._resync(plan_id, stream, reason)
        seq = int(seq_text) if seq_text.isdigit() else -1
        if stream is None or seq < 1 or seq > stream.head_seq:
            return self._resync(plan_id, stream, ResyncReason.UNKNOWN_EVENT_ID)
        if stream.retained(seq) is None:
            return self._resync(plan_id, stream, ResyncReason.HISTORY_EXPIRED)
        return ResumeAfter(seq)

    async def head(self, plan_id: str) -> Head | None:
        """The newest event of ``plan_id``."""
        stream = self._plans.get(plan_id)
        return stream.state.head if stream else None

    async def first_seq(self, plan_id: str) -> int | None:
        """The oldest retained seq of ``plan_id``."""
        stream = self._plans.get(plan_id)
        return stream.first_seq if stream and stream.events else None

    async def snapshot(self, plan_id: str) -> PlanSnapshot | None:
        """The folded state of ``plan_id``."""
        stream = self._plans.get(plan_id)
        return stream.state.snapshot() if stream else None

    async def snapshots(self) -> list[PlanSnapshot]:
        """Every plan's snapshot, in order of first publication."""
        return [stream.state.snapshot() for stream in self._plans.values()]

    async def plan_count(self) -> int:
        """How many plans have events."""
        return len(self._plans)

    @staticmethod
    def _resync(plan_id: str, stream: _PlanStream | None, reason: ResyncReason) -> ResyncNeeded:
        snapshot = stream.state.snapshot() if stream else PlanSnapshot(plan_id=plan_id)
        return ResyncNeeded(reason, snapshot)
