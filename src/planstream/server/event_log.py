"""The event-log interface: where each plan's stream lives and how far back.

A log appends events atomically with gap-free ``seq`` and ids unique across
restarts, reads retained events after a position, resolves a client's
``last_event_id`` to a position or a resync, folds snapshots with the shared
reducer, and tells listeners about new events. :class:`MemoryEventLog` is the
default; :class:`~planstream.server.redis_log.RedisEventLog` is the log
several server nodes share (Redis Streams).

Three rules every implementation keeps, each as one atomic step with the
append (protocol §6): a publish carrying an :class:`IdempotencyKey` the plan
already holds appends nothing (:class:`IdempotentReplay` with the first
publish's positions, or :class:`IdempotencyKeyReusedError` when its body
differs, HTTP 422); a plan whose stream holds a terminal ``plan.status`` is
closed (:class:`PlanClosedError`, HTTP 409); and a finished plan may be
evicted, after which its ids and its idempotency keys are unknown (protocol
§3: ``unknown_event_id``; §6: the key is new again).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, NamedTuple

from planstream.codec import decode_event_json
from planstream.errors import PlanStreamError
from planstream.schema.events import Event, Head
from planstream.schema.frames import ResyncReason
from planstream.schema.snapshot import PlanSnapshot
from planstream.server.latency import OperationLatency
from planstream.server.new_events import NewEvent, PlanClosedError, refuse_events_after_end

__all__ = [
    "PLAN_SCAN_LIMIT",
    "BadCursorError",
    "ChangeListener",
    "EventLog",
    "IdempotencyKey",
    "IdempotencyKeyReusedError",
    "IdempotentReplay",
    "LogChange",
    "LogUnavailableError",
    "NewEvent",
    "PlanClosedError",
    "PlanFilter",
    "PlanPage",
    "ResumeAfter",
    "ResyncNeeded",
    "StoredEvent",
    "refuse_events_after_end",
]


class StoredEvent(NamedTuple):
    """An appended event: its wire JSON, encoded once and shared by every reader.

    ``json`` is what every subscriber is sent; ``nbytes`` its UTF-8 size (for
    frame budgets); ``seq`` and ``event_id`` its position, kept flat for the
    hot paths. ``model``: the typed event when the log built one (it does
    for the events a plan's state folds); :attr:`event` decodes any other
    from ``json`` when asked, since most events are only ever sent, never
    looked at (a ``log`` line changes no plan state).

    A named tuple, not a class with slots: a log keeps thousands per plan, and
    a tuple of strings and numbers costs less to make and drops out of the
    garbage collector's sight (CPython untracks it), so a full collection
    does not walk every retained event. Two stored events are equal when
    their JSON is.
    """

    json: str
    nbytes: int
    seq: int
    event_id: str
    model: Event | None = None

    @property
    def event(self) -> Event:
        """The event as its typed model (decoded from ``json`` unless the log built it)."""
        return decode_event_json(self.json) if self.model is None else self.model

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StoredEvent):
            return NotImplemented
        return self.json == other.json

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, StoredEvent):
            return NotImplemented
        return self.json != other.json

    def __hash__(self) -> int:
        return hash(self.json)

    def __repr__(self) -> str:
        return f"StoredEvent(seq={self.seq}, event_id={self.event_id!r}, nbytes={self.nbytes})"


@dataclass(frozen=True, slots=True)
class LogChange:
    """A plan's stream grew: its newest ``seq`` and oldest retained ``seq``.

    ``new_stream``: this append started the plan's stream (its seq 1). For a
    plan id that had a stream before (evicted, then published to again), a
    subscriber positioned in the old stream must start over (reading 19).
    """

    plan_id: str
    head_seq: int
    first_seq: int
    new_stream: bool = False


@dataclass(frozen=True, slots=True)
class ResumeAfter:
    """Replay the events with ``seq > after_seq``."""

    after_seq: int


@dataclass(frozen=True, slots=True)
class ResyncNeeded:
    """History cannot be replayed: send this snapshot, then events after its head."""

    reason: ResyncReason
    snapshot: PlanSnapshot


#: Which plans a listing may show (the reader's scope), by plan id.
PlanFilter = Callable[[str], bool]

#: Plans a filtered ``plan_page`` looks at per call: a scope that matches few
#: of very many plans answers a short (even empty) page with a cursor rather
#: than scanning the whole index in one request.
PLAN_SCAN_LIMIT: Final = 10_000


@dataclass(frozen=True, slots=True)
class PlanPage:
    """One page of ``GET /v1/plans``: snapshots, and the cursor of the next page."""

    snapshots: list[PlanSnapshot]
    next_cursor: str | None


class LogUnavailableError(PlanStreamError):
    """The log's storage cannot be reached now (Redis down); retry later.

    HTTP answers ``503`` with ``Retry-After``, a subscribe ``error``
    ``internal``; WebSocket connections stay open (issue 11 item 1).
    """

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """protocol §6: a publish's ``Idempotency-Key`` and a digest of its request body.

    ``key`` is 1-128 printable ASCII characters (checked by the caller, see
    :func:`planstream.server.publishing.idempotency_key_problem`);
    ``body_digest`` is the lowercase hex SHA-256 of the request body's bytes
    (:func:`planstream.server.publishing.body_digest`), so the same key with
    another body is told apart from a retry.
    """

    key: str
    body_digest: str


class IdempotentReplay(PlanStreamError):  # noqa: N818 - an outcome, not a failure
    """protocol §6: the plan already holds this idempotency key with the same body.

    Not a failure: the publish was done before (maybe by a request whose
    answer was lost), and nothing was appended this time. ``events`` are the
    positions the first publish got, in request order, so the caller answers
    exactly what it answered then (HTTP: the same ``201`` body, with
    ``Idempotent-Replayed: true``). The events themselves may be past
    retention by now.
    """

    def __init__(self, plan_id: str, events: Sequence[Head]) -> None:
        super().__init__(f"plan {plan_id!r}: this idempotency key was already published")
        self.plan_id = plan_id
        self.events = tuple(events)


class IdempotencyKeyReusedError(PlanStreamError):
    """protocol §6: the key was used before on this plan with another body (HTTP 422).

    Nothing was appended, and the key still names the first publish.
    """

    def __init__(self, plan_id: str, message: str) -> None:
        super().__init__(message)
        self.plan_id = plan_id


class BadCursorError(PlanStreamError, ValueError):
    """A ``cursor`` of ``GET /v1/plans`` that this log did not give out."""


#: Called synchronously after every append; must not block.
ChangeListener = Callable[[LogChange], None]


class EventLog(ABC):
    """Storage of plan streams. Every method may be called concurrently."""

    #: The durations of the log's calls to its store, for ``/metrics``; None
    #: when there is nothing worth timing (the memory log).
    latency: OperationLatency | None = None
    #: Plans a filtered :meth:`plan_page` looks at per call (a test may lower it).
    plan_scan_limit: int = PLAN_SCAN_LIMIT

    def __init__(self) -> None:
        self._listeners: list[ChangeListener] = []
        self._interest: Callable[[], Collection[str]] = tuple

    def add_listener(self, listener: ChangeListener) -> Callable[[], None]:
        """Call ``listener`` after every append; returns a function removing it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _notify(self, change: LogChange) -> None:
        for listener in tuple(self._listeners):
            listener(change)

    @abstractmethod
    async def append(
        self,
        plan_id: str,
        events: Sequence[NewEvent],
        *,
        ts: datetime,
        idempotency: IdempotencyKey | None = None,
    ) -> list[StoredEvent]:
        """Append ``events`` atomically, in order; all share timestamp ``ts``.

        With ``idempotency`` (protocol §6), the key is looked up first, in the
        same atomic step: a key the plan holds appends nothing (replay or
        reuse, below; before the terminal check, so a retried final publish is
        a replay, not a 409). A key not held is stored with the positions of
        the events appended, and only when they are appended: a refused
        publish stores no key. The log keeps a plan's keys as long as the plan
        (eviction forgets them), at least the newest ``10_000`` by default,
        the oldest forgotten first.

        Raises:
            IdempotentReplay: the plan holds ``idempotency.key`` with the same
                body digest; carries the first publish's positions.
            IdempotencyKeyReusedError: the plan holds ``idempotency.key`` with
                another body digest.
            PlanClosedError: the plan already has a terminal status, or an event
                of ``events`` follows a terminal ``plan.status`` of ``events``
                (then nothing is appended). The check and the append are one
                atomic step, whatever publishes concurrently.
        """

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
    async def snapshot(self, plan_id: str) -> PlanSnapshot | None:
        """The folded state of ``plan_id``, None when it has no events."""

    @abstractmethod
    async def plan_page(
        self, limit: int, cursor: str | None, *, readable: PlanFilter | None = None
    ) -> PlanPage:
        """Up to ``limit`` plans with events, oldest stream first, after ``cursor``.

        A cursor is opaque and names a position in the order in which streams
        were created, so a plan is listed at most once across the pages of one
        walk, whatever is appended or evicted meanwhile.

        ``readable``: list only the plans it accepts (None: all). Such a call
        looks at no more than about :attr:`plan_scan_limit` plans: when it
        stops there the page may hold fewer than ``limit`` plans (none, even)
        and its cursor goes on after the last plan looked at. A cursor never
        names a plan the filter refused.

        Raises:
            BadCursorError: ``cursor`` was not given out by this log.
        """

    @abstractmethod
    async def evict(self, plan_id: str, head_event_id: str) -> bool:
        """Forget ``plan_id`` if its newest event is still ``head_event_id``.

        Returns whether it was forgotten. The server evicts only finished plans
        (protocol §6 closes them, so their head cannot move); a stream created
        again under the same id is a new one, with ids of its own.
        """

    @abstractmethod
    async def plan_count(self) -> int:
        """How many plans have at least one event."""

    def set_interest(self, plans: Callable[[], Collection[str]]) -> None:
        """Tell the log which plans this node's listeners follow now.

        A log shared between nodes (Redis) catches those plans up after it
        missed notifications; a local log has nothing to catch up.
        """
        self._interest = plans

    def interest(self) -> Collection[str]:
        """The plans this node's listeners follow (see :meth:`set_interest`)."""
        return self._interest()

    async def start(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Start background work (the server's lifespan calls it)."""

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release resources."""
