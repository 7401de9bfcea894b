"""Which server node the next connection attempt goes to (pure).

The client may know several URLs of one planstream deployment
(``ClientSettings.urls``): nodes that share one event log, so a client can
resume on any of them exactly where it left off (protocol §1, §3). The
:class:`~planstream.connection_state.ConnectionStateMachine` keeps a
:class:`NodeRing` and asks it where to go; this module only counts and picks.

The policy:

* the first attempt goes to the first URL; after that the client **sticks**
  to the node that works;
* a failed connect, or a node going away (1001/1012/1013, a lost connection,
  a ``503``), moves to the **next** URL in list order at once (round robin,
  wrapping around);
* only when every node failed in a row (a full **round**) does the client wait
  a backoff delay (protocol §4) before the next round; a connection that
  stayed healthy for ``reset_after`` starts a fresh round;
* a node that answered with a ``retry_after`` hint (protocol §4, §6) rests
  until then: it is skipped, and counts as failed in the round.

With a single URL every failure is a full round: the behaviour is the
single-server backoff of protocol §4, unchanged.
"""

from __future__ import annotations

import math

__all__ = ["NodeRing"]


class NodeRing:
    """Round-robin over ``size`` nodes with per-node rests (times are plain numbers).

    Attributes:
        size: how many nodes (URLs) there are.
        current: the node of the last attempt (or the open connection).
        tried: failures in the current round, up to ``size``.
    """

    __slots__ = ("_rest_until", "current", "size", "tried")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a node ring needs at least one node")
        self.size = size
        self.current = 0
        self.tried = 0
        self._rest_until: dict[int, float] = {}

    def reset(self) -> None:
        """Back to the first node, a fresh round, no rests (the client starts)."""
        self.current = 0
        self.tried = 0
        self._rest_until.clear()

    def rest(self, node: int, until: float) -> None:
        """``node`` asked not to be tried before ``until`` (its ``retry_after``)."""
        self._rest_until[node] = until

    def rest_until(self, node: int) -> float:
        """When ``node`` may be tried again (``-inf``: now)."""
        return self._rest_until.get(node, -math.inf)

    def plan_failure(self, now: float, *, fresh: bool) -> tuple[int | None, int]:
        """After the current node failed at ``now``: the node to try at once and
        the round's failure count then, or ``(None, size)`` when the round is over
        (every node failed or rests) and a backoff is due. No side effects.

        ``fresh``: the failed connection had stayed healthy, so it starts a round.
        """
        tried = (0 if fresh else self.tried) + 1
        node = self.current
        while tried < self.size:
            node = (node + 1) % self.size
            if self.rest_until(node) <= now:
                return node, tried
            tried += 1  # a resting node counts as failed in this round
        return None, self.size

    def move(self, node: int, tried: int) -> None:
        """Commit a :meth:`plan_failure` answer that named a node."""
        self.current = node
        self.tried = tried

    def after_backoff(self, at: float) -> tuple[int, float]:
        """Start a new round at ``at`` or later: the first node after the current
        one (wrapping, the current one last) that is not resting then, else the
        node whose rest ends first, with its time. Commits the choice."""
        best_node, best_at = self.current, math.inf
        for step in range(1, self.size + 1):
            node = (self.current + step) % self.size
            ready = max(at, self.rest_until(node))
            if ready < best_at:
                best_node, best_at = node, ready
                if ready <= at:
                    break
        self.current = best_node
        self.tried = 0
        return best_node, best_at
