"""The default event log: every plan's stream in this process's memory.

Event ids are ``<incarnation>.<stream>.<seq>``: the incarnation is random per
log, so ids stay unique across restarts (protocol §1), and an id from an
earlier incarnation is recognised as ``stream_reset`` rather than
``unknown_event_id``. ``<stream>`` numbers the plan streams this log created,
so a plan evicted and published to again gets ids of its own, and the plan
list's cursor is a stream number.

Idempotency keys (protocol §6) live in their plan's stream, so eviction
forgets them; each is kept with its body digest and the first ``seq`` and
count of what it appended (an append is contiguous and one stream's ids
differ only by ``seq``, so that rebuilds the whole first answer).
"""

from __future__ import annotations

import re
import secrets
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Final

from planstream.plan_state import PlanState
from planstream.schema.events import Head
from planstream.schema.frames import ResyncReason
from planstream.schema.snapshot import PlanSnapshot
from planstream.server.event_batch import EventBatch
from planstream.server.event_log import (
    BadCursorError,
    EventLog,
    IdempotencyKey,
    IdempotencyKeyReusedError,
    IdempotentReplay,
    LogChange,
    NewEvent,
    PlanClosedError,
    PlanFilter,
    PlanPage,
    ResumeAfter,
    ResyncNeeded,
    StoredEvent,
    refuse_events_after_end,
)

__all__ = ["MemoryEventLog"]

#: A stream number or a seq in an id: ASCII digits only (``str.isdigit`` also
#: takes "²", which ``int()`` refuses), and at most 16 of them, as 2**53 has.
_NUMBER: Final = re.compile(r"[0-9]{1,16}")


class _PlanStream:
    """One plan: retained events (a list trimmed in chunks), folded state, idempotency keys."""

    __slots__ = ("events", "key_order", "keys", "number", "offset", "state")

    def __init__(self, plan_id: str, number: int) -> None:
        self.events: list[StoredEvent] = []
        self.offset = 0  # events[:offset] are past retention, awaiting a trim
        self.state = PlanState(plan_id)
        self.number = number  # of this stream among the log's streams
        # protocol §6: key -> (body digest, first seq, count), and the keys
        # oldest first. Not ``next(iter(dict))`` to find the oldest: a dict
        # emptied from the front skips its dead slots on every call (measured
        # 5x slower at 10,000 keys); a deque pops it in O(1) for 8 bytes a key.
        self.keys: dict[str, tuple[str, int, int]] = {}
        self.key_order: deque[str] = deque()

    def remember(self, idempotency: IdempotencyKey, first: int, count: int, bound: int) -> None:
        """Keep a new key and what it appended, forgetting the oldest beyond ``bound``."""
        self.keys[idempotency.key] = (idempotency.body_digest, first, count)
        self.key_order.append(idempotency.key)
        if len(self.key_order) > bound:
            del self.keys[self.key_order.popleft()]

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

    ``closes_finished_plans`` (True, as protocol §6 requires) refuses appends
    to a plan that has a terminal status; a test may turn it off in a subclass
    to play a server that lets a finished plan go on.

    Args:
        retention: events kept per plan (older ones can no longer be replayed;
            a subscriber resuming before them gets ``resync``).
        incarnation: id prefix; random by default (tests may fix it).
        idempotency_keys: idempotency keys kept per plan (protocol §6: at
            least 10,000); beyond it the oldest key is forgotten.
    """

    closes_finished_plans = True

    def __init__(
        self,
        retention: int = 10_000,
        *,
        incarnation: str | None = None,
        idempotency_keys: int = 10_000,
    ) -> None:
        super().__init__()
        if retention < 1:
            raise ValueError("retention must be at least 1")
        if idempotency_keys < 1:
            raise ValueError("idempotency_keys must be at least 1")
        self.retention = retention
        self.idempotency_keys = idempotency_keys
        self.incarnation = incarnation or secrets.token_hex(6)
        # In order of creation, so stream numbers grow along the dict: a plan
        # created again after its eviction is inserted at the end.
        self._plans: dict[str, _PlanStream] = {}
        self._streams_created = 0

    def __repr__(self) -> str:
        return f"MemoryEventLog(plans={len(self._plans)}, retention={self.retention})"

    async def append(
        self,
        plan_id: str,
        events: Sequence[NewEvent],
        *,
        ts: datetime,
        idempotency: IdempotencyKey | None = None,
    ) -> list[StoredEvent]:
        """Append atomically: every event, or none (the events were validated when made).

        No ``await`` separates the key check and the terminal-status check
        from the append, so concurrent publishes on this event loop cannot
        interleave (protocol §6), and a repeat of a keyed publish never finds
        it half done: it comes strictly before or strictly after.
        """
        stream = self._plans.get(plan_id)
        if idempotency is not None and stream is not None:
            self._check_key(plan_id, stream, idempotency)
        if self.closes_finished_plans and stream is not None and stream.state.is_terminal:
            raise PlanClosedError(
                plan_id,
                f"plan {plan_id!r} has ended with status {stream.state.status}; "
                "its stream is closed",
            )
        if not events:
            return []
        if self.closes_finished_plans:
            refuse_events_after_end(plan_id, events)
        next_seq = (stream.head_seq if stream else 0) + 1
        number = stream.number if stream else self._streams_created + 1
        stored, folded = EventBatch.build(plan_id, events, ts).stored(
            f"{self.incarnation}.{number}.", next_seq
        )
        new_stream = stream is None
        if stream is None:
            self._streams_created = number
            stream = self._plans[plan_id] = _PlanStream(plan_id, number)
        for event in folded:
            stream.state.apply(event)
        stream.events.extend(stored)
        stream.trim(self.retention)
        if idempotency is not None:
            stream.remember(idempotency, next_seq, len(stored), self.idempotency_keys)
        self._notify(LogChange(plan_id, stream.head_seq, stream.first_seq, new_stream))
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
        reason = self._id_problem(stream, last_event_id)
        if reason is not None:
            return self._resync(plan_id, stream, reason)
        assert stream is not None  # _id_problem accepts no id for a plan without stream
        seq = int(last_event_id.rpartition(".")[2])
        if stream.retained(seq) is None:
            return self._resync(plan_id, stream, ResyncReason.HISTORY_EXPIRED)
        return ResumeAfter(seq)

    async def head(self, plan_id: str) -> Head | None:
        """The newest event of ``plan_id``."""
        stream = self._plans.get(plan_id)
        return stream.state.head if stream else None

    async def snapshot(self, plan_id: str) -> PlanSnapshot | None:
        """The folded state of ``plan_id``."""
        stream = self._plans.get(plan_id)
        return stream.state.snapshot() if stream else None

    async def plan_page(
        self, limit: int, cursor: str | None, *, readable: PlanFilter | None = None
    ) -> PlanPage:
        """Up to ``limit`` plans created after the one ``cursor`` names."""
        after = 0 if cursor is None else self._cursor_number(cursor)
        streams = (stream for stream in self._plans.values() if stream.number > after)
        if readable is None:
            page = list(islice(streams, limit + 1))
            resume_after = page[limit - 1].number if len(page) > limit else None
            del page[limit:]
        else:
            page, resume_after = _readable_page(streams, limit, readable, self.plan_scan_limit)
        next_cursor = None if resume_after is None else f"{self.incarnation}.{resume_after}"
        return PlanPage([stream.state.snapshot() for stream in page], next_cursor)

    async def evict(self, plan_id: str, head_event_id: str) -> bool:
        """Forget ``plan_id`` if its newest event is still ``head_event_id``."""
        stream = self._plans.get(plan_id)
        head = stream.state.head if stream else None
        if head is None or head.event_id != head_event_id:
            return False
        del self._plans[plan_id]
        return True

    async def plan_count(self) -> int:
        """How many plans have events."""
        return len(self._plans)

    def _check_key(self, plan_id: str, stream: _PlanStream, idempotency: IdempotencyKey) -> None:
        """protocol §6: a key already held is a replay (same body) or a reuse."""
        held = stream.keys.get(idempotency.key)
        if held is None:
            return
        digest, first, count = held
        if digest != idempotency.body_digest:
            raise IdempotencyKeyReusedError(
                plan_id,
                f"this Idempotency-Key was already used on plan {plan_id!r} "
                "with another request body",
            )
        prefix = f"{self.incarnation}.{stream.number}."
        raise IdempotentReplay(
            plan_id,
            [Head(seq=seq, event_id=f"{prefix}{seq}") for seq in range(first, first + count)],
        )

    def _id_problem(self, stream: _PlanStream | None, event_id: str) -> ResyncReason | None:
        """Why ``event_id`` is not a position of ``stream`` (None: it is one, maybe expired).

        ``int()`` only ever reads at most 16 ASCII digits, so a hostile id
        (5,000 digits, "²") is only an unknown id (protocol §1: a resync).
        """
        rest, _, seq_text = event_id.rpartition(".")
        incarnation, _, number_text = rest.rpartition(".")
        if not (_NUMBER.fullmatch(seq_text) and _NUMBER.fullmatch(number_text)):
            return ResyncReason.UNKNOWN_EVENT_ID
        if incarnation != self.incarnation:
            looks_like_ours = len(incarnation) == len(self.incarnation)
            return ResyncReason.STREAM_RESET if looks_like_ours else ResyncReason.UNKNOWN_EVENT_ID
        if stream is None:
            # Never created, or evicted: nothing is known of it (reading 19).
            return ResyncReason.UNKNOWN_EVENT_ID
        if int(number_text) != stream.number:
            # Another stream of this log: the plan's before it was evicted and
            # published to again (reading 19), as far as the log can tell.
            return ResyncReason.STREAM_RESET
        seq = int(seq_text)
        if seq < 1 or seq > stream.head_seq:
            return ResyncReason.UNKNOWN_EVENT_ID
        return None

    def _cursor_number(self, cursor: str) -> int:
        incarnation, _, number_text = cursor.rpartition(".")
        if incarnation != self.incarnation or not _NUMBER.fullmatch(number_text):
            raise BadCursorError(
                "cursor is not one this server gave out (did it restart?); "
                "list again without a cursor"
            )
        return int(number_text)

    @staticmethod
    def _resync(plan_id: str, stream: _PlanStream | None, reason: ResyncReason) -> ResyncNeeded:
        snapshot = stream.state.snapshot() if stream else PlanSnapshot(plan_id=plan_id)
        return ResyncNeeded(reason, snapshot)


def _readable_page(
    streams: Iterator[_PlanStream], limit: int, readable: PlanFilter, scan_limit: int
) -> tuple[list[_PlanStream], int | None]:
    """The next ``limit`` streams ``readable`` accepts, and the stream number the
    page after them starts after (None: no more), looking at no more than
    ``scan_limit`` streams."""
    page: list[_PlanStream] = []
    for scanned, stream in enumerate(streams, 1):
        if readable(stream.state.plan_id):
            page.append(stream)
            if len(page) > limit:
                return page[:limit], page[limit - 1].number
        if scanned >= scan_limit:
            return page, stream.number
    return page, None
