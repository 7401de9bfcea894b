"""One plan's subscription on the connection (:class:`PlanChannel`) and the
positions its subscribers resume from (:data:`Position`).

The :class:`~planstream.client.router.StreamRouter` keeps one channel per
subscribed plan; the channel fans the plan's deliveries out to the
:class:`~planstream.client.inbox.SubscriptionInbox` of every local subscriber.
"""

from __future__ import annotations

from typing import TypeAlias

from planstream.client.inbox import SubscriptionInbox

__all__ = ["PlanChannel", "Position", "precedes_or_equals"]

#: ``(event_id, seq)`` after which a stream resumes; seq None: not known yet.
Position: TypeAlias = tuple[str | None, int | None]


class PlanChannel:
    """One plan's subscription on the connection, shared by its local subscribers."""

    __slots__ = ("generation", "inboxes", "pending_from", "pending_id", "plan_id", "rewind_waiting")

    def __init__(self, plan_id: str) -> None:
        self.plan_id = plan_id
        self.inboxes: list[SubscriptionInbox] = []
        #: While not None the sequencer does not track the plan: a ``subscribe``
        #: resuming after this position awaits its answer (request ``pending_id``).
        self.pending_from: Position | None = None
        self.pending_id: int | None = None
        self.generation = 0  # bumped by every (re)subscription; stale polls are dropped
        #: A subscriber waits to be rewound until the plan's next delivery.
        self.rewind_waiting = False


def precedes_or_equals(a: Position, b: Position) -> bool | None:
    """Whether position ``a`` is at or before ``b``; None when it cannot be told."""
    if a[0] == b[0]:
        return True
    if a[1] is None or b[1] is None:
        return None
    return a[1] <= b[1]
