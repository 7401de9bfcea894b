"""What the client reports about itself: counters and connection state changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from planstream.connection_state import ConnectionState
from planstream.errors import PlanStreamError

if TYPE_CHECKING:
    from planstream.router import StreamRouter

__all__ = ["ClientStats", "ConnectionCounters", "StateChange", "display_seconds"]


@dataclass(slots=True)
class ConnectionCounters:
    """Mutable counters kept by the ``ConnectionDriver``."""

    connects: int = 0
    frames_rejected: int = 0
    polls: int = 0
    pings: int = 0  # RTT pings sent (their ids count on across connections)
    last_rtt: float | None = None


@dataclass(frozen=True, slots=True)
class ClientStats:
    """A snapshot of the client's counters (``client.stats``).

    Attributes:
        state: the connection state now.
        connects: WebSocket connections opened (hello accepted).
        reconnects: connections opened after the first one.
        polls: HTTP polls answered while falling back (protocol §6).
        events_delivered: events handed on in order (each once per plan).
        duplicates_dropped: events received again and dropped.
        reordered: events that arrived early and were held back until their turn.
        gaps_repaired: re-subscriptions asked for to fill gaps or lost tails.
        resyncs: ``Resync`` markers delivered (history was lost).
        frames_rejected: frames that could not be decoded and were skipped.
        slow_consumer_rewinds: times a subscriber fell ``queue_size`` behind
            and was re-subscribed from its position.
        callback_errors: exceptions raised by ``client.on`` callbacks.
        last_rtt: seconds of the last ``ping``/``pong`` round trip, or None.
    """

    state: ConnectionState
    connects: int
    reconnects: int
    polls: int
    events_delivered: int
    duplicates_dropped: int
    reordered: int
    gaps_repaired: int
    resyncs: int
    frames_rejected: int
    slow_consumer_rewinds: int
    callback_errors: int
    last_rtt: float | None

    @classmethod
    def before_start(cls, state: ConnectionState) -> ClientStats:
        """The counters of a client not entered yet (or closed before it started)."""
        return cls(state, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, None)

    @classmethod
    def collect(
        cls,
        state: ConnectionState,
        counters: ConnectionCounters,
        router: StreamRouter,
        callback_errors: int,
    ) -> ClientStats:
        """The counters now, from the connection's, the router's and its sequencer's."""
        sequencer = router.sequencer.stats
        return cls(
            state=state,
            connects=counters.connects,
            reconnects=max(counters.connects - 1, 0),
            polls=counters.polls,
            events_delivered=sequencer.delivered,
            duplicates_dropped=sequencer.duplicates_dropped,
            reordered=sequencer.reordered,
            gaps_repaired=sequencer.repairs_requested,
            resyncs=sequencer.resyncs,
            frames_rejected=counters.frames_rejected,
            slow_consumer_rewinds=router.rewinds,
            callback_errors=callback_errors,
            last_rtt=counters.last_rtt,
        )


def display_seconds(seconds: float) -> str:
    """A duration for people: ``0.2``, not ``0.19999999999998863`` (to the millisecond)."""
    return repr(round(seconds, 3))


@dataclass(frozen=True, slots=True, repr=False)
class StateChange:
    """Passed to state-change hooks after every transition and every failure.

    Attributes:
        previous: the state before.
        state: the state now.
        error: why the connection failed (None for a successful change).
        retry_in: seconds until the next attempt, when one is scheduled.
    """

    previous: ConnectionState
    state: ConnectionState
    error: PlanStreamError | None = None
    retry_in: float | None = None

    def __repr__(self) -> str:
        retry = "None" if self.retry_in is None else display_seconds(self.retry_in)
        return (
            f"StateChange(previous={self.previous.value!r}, state={self.state.value!r}, "
            f"error={self.error!r}, retry_in={retry})"
        )

    def __str__(self) -> str:
        """One line: ``reconnecting -> reconnecting: ConnectionLostError: ...; retry in 0.2 s``."""
        line = f"{self.previous.value} -> {self.state.value}"
        if self.error is not None:
            line += f": {type(self.error).__name__}: {self.error}"
        if self.retry_in is not None:
            line += f"; retry in {display_seconds(self.retry_in)} s"
        return line
