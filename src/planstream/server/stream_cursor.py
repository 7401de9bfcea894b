"""What a stream session keeps per plan and per queued frame (no I/O).

A :class:`Subscription` is a cursor into the event log: the sender pulls
what is newer, so replay and live delivery are one code path. An
:class:`Outgoing` is a queued non-event frame (a heartbeat is rendered when
sent). :mod:`planstream.server.stream_session` keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Outgoing", "Subscription"]


@dataclass(slots=True, eq=False)
class Subscription:
    """One plan followed on the connection: a cursor into the log."""

    plan_id: str
    cursor: int  # seq of the last event sent; the replay starts after it
    known_head: int  # newest seq the log is known to have
    active: bool = False  # set once its `subscribed`/`resync` frame is sent
    sent_seq: int = 0
    sent_event_id: str | None = None
    replay_until: int = 0  # the head when subscribed: events up to it are replay


@dataclass(slots=True)
class Outgoing:
    """A queued non-event frame; ``text=None`` is a heartbeat, rendered when sent."""

    text: str | None
    activates: Subscription | None = None
