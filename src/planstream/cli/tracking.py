"""What a watcher has seen: each plan's folded state and the connection's story.

No I/O here: :class:`PlanTracker` folds the items a subscription delivers and
:class:`ConnectionTracker` turns the client's state changes into notices. Both
return the notices a change produced ("reconnecting…", "resumed from seq 24,
0 lost"), which the outputs print or show. The resume count is *computed*:
the first event after a reconnect is compared with the last one before it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from planstream.client.stats import StateChange
from planstream.connection_state import ConnectionState
from planstream.delivery import Delivery, Resync
from planstream.plan_state import PlanState
from planstream.schema.events import LogEvent, LogLevel, PlanStatus
from planstream.schema.snapshot import PlanSnapshot

__all__ = ["ConnectionTracker", "LogLine", "PlanTracker"]

#: Log lines a tracker keeps for the live view.
DEFAULT_LOG_LINES = 8
#: Notices the live view keeps (a reconnect story fits: lost, reconnected, resumed).
RECENT_NOTICES = 3


@dataclass(frozen=True, slots=True)
class LogLine:
    """One ``log`` event, as the view shows it."""

    plan_id: str
    seq: int
    level: LogLevel
    step_id: str | None
    message: str


class PlanTracker:
    """One plan as its watcher saw it.

    Attributes:
        plan_id: the plan.
        state: the folded state (protocol §5 reducer), reset by a ``Resync``.
        logs: the most recent log lines (maybe shared with other trackers).
        seqs: the ``seq`` of every event received, in arrival order
            (duplicates and gaps would stay visible here: nothing is folded away).
        resyncs: the ``Resync`` markers received.
    """

    def __init__(self, plan_id: str, *, logs: deque[LogLine] | None = None) -> None:
        self.plan_id = plan_id
        self.state = PlanState(plan_id)
        # Watchers of several plans pass one deque: the newest lines of all, in arrival order.
        self.logs: deque[LogLine] = logs if logs is not None else deque(maxlen=DEFAULT_LOG_LINES)
        self.seqs: list[int] = []
        self.resyncs: list[Resync] = []
        self.resumes = 0
        self._resume_after: int | None = None  # last seq before a drop, until the next item

    def __repr__(self) -> str:
        return f"PlanTracker({self.plan_id!r}, events={len(self.seqs)})"

    @property
    def snapshot(self) -> PlanSnapshot:
        """The plan's folded state now."""
        return self.state.snapshot()

    @property
    def status(self) -> PlanStatus | None:
        """The latest plan status, None before any."""
        return self.state.status

    @property
    def last_seq(self) -> int:
        """The position reached: the last event folded (0 before any)."""
        head = self.state.head
        return 0 if head is None else head.seq

    def connection_lost(self) -> None:
        """The connection dropped: the next item shows where the stream resumed."""
        if self._resume_after is None:
            self._resume_after = self.last_seq

    def apply(self, item: Delivery) -> list[str]:
        """Fold one delivered item; return the notices it produced."""
        notices: list[str] = []
        if isinstance(item, Resync):
            self.resyncs.append(item)
            self.state = PlanState.from_snapshot(item.snapshot)
            head = item.snapshot.head
            notices.append(
                f"{self.plan_id}: history lost ({item.reason.value}); "
                f"resynced to seq {0 if head is None else head.seq}"
            )
            self._resume_after = None
            return notices
        if self._resume_after is not None:
            # protocol §1: after a reconnect the stream continues right after
            # the last event delivered; anything else would be a loss.
            lost = max(item.seq - self._resume_after - 1, 0)
            self.resumes += 1
            notices.append(f"{self.plan_id}: resumed from seq {item.seq}, {lost} lost")
            self._resume_after = None
        self.seqs.append(item.seq)
        self.state.apply(item)
        if isinstance(item, LogEvent):
            log = item.data
            self.logs.append(LogLine(item.plan_id, item.seq, log.level, log.step_id, log.message))
        return notices

    def ended_before(self, snapshot: PlanSnapshot) -> list[str]:
        """The plan had ended at the resume point (``--from`` its last event):
        take its final state from ``snapshot``; return the notice saying so."""
        self.state = PlanState.from_snapshot(snapshot)
        status, head = snapshot.status, snapshot.head
        # Subscription.already_ended's promise: a terminal status, and a head.
        assert status is not None
        assert head is not None
        return [f"{self.plan_id}: already {status.value} at seq {head.seq}; nothing after it"]


class ConnectionTracker:
    """The connection's story for the view: its state and the latest notice.

    Attributes:
        state: the connection state after the latest change.
        recent: the latest notices, newest last (connection and resume notices).
        drops: times an open connection was lost.
        last_error: the latest failure's message.
    """

    def __init__(self, plans: Sequence[PlanTracker], *, keep: int = RECENT_NOTICES) -> None:
        self.plans = plans
        self.state = ConnectionState.CONNECTING
        self.recent: deque[str] = deque(maxlen=keep)
        self.drops = 0
        self.last_error: str | None = None

    def note(self, notices: Iterable[str]) -> None:
        """Keep notices (e.g. a plan's resume) among the recent ones."""
        self.recent.extend(notices)

    def __repr__(self) -> str:
        return f"ConnectionTracker(state={self.state.value!r}, drops={self.drops})"

    def change(self, change: StateChange) -> list[str]:
        """Record a state change; return the notices it produced."""
        self.state = change.state
        if change.error is not None:
            self.last_error = str(change.error)
        notices: list[str] = []
        closed_by_us = change.state is ConnectionState.CLOSED and change.error is None
        if change.previous is ConnectionState.OPEN and not (
            change.state is ConnectionState.OPEN or closed_by_us
        ):
            self.drops += 1
            for plan in self.plans:
                plan.connection_lost()
        retrying = change.state is ConnectionState.CONNECTING and change.error is not None
        if change.state is ConnectionState.RECONNECTING or retrying:
            notices.append(_reconnecting(change))
        elif change.state is ConnectionState.OPEN:
            if change.previous is not ConnectionState.CONNECTING:
                notices.append("connection: reconnected; resuming each plan after its last event")
        elif change.state is ConnectionState.POLLING:
            notices.append("connection: WebSocket unavailable; polling over HTTP")
        self.note(notices)
        return notices


def _reconnecting(change: StateChange) -> str:
    why = "" if change.error is None else f" ({change.error})"
    when = "" if change.retry_in is None else f", next try in {change.retry_in:.1f} s"
    return f"connection: reconnecting…{why}{when}"
