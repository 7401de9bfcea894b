"""How long calls to a backing store take, per operation: the data of a histogram.

:class:`OperationLatency` counts each observed duration into fixed buckets (the
Prometheus histogram's ``le`` bounds) per operation name; ``/metrics``
exports it as ``planstream_redis_seconds{op=...}``
(:mod:`planstream.server.metrics`). Observing costs a bisect and two
additions: cheap enough around every Redis call. Pure: no I/O, no asyncio.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Final

__all__ = ["LATENCY_BUCKETS", "LatencyTally", "OperationLatency"]

#: Upper bounds of the buckets, s (inclusive, as Prometheus' ``le``): from a
#: local Redis' fraction of a millisecond to its socket timeout (5 s).
LATENCY_BUCKETS: Final = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)


@dataclass(slots=True)
class LatencyTally:
    """The durations of one operation: a count per bucket (the last: above
    every bound), their number and their sum."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    count: int = 0
    total: float = 0.0

    def cumulative(self) -> list[tuple[str, int]]:
        """``(le, observations at or under it)`` per bound, ``+Inf`` last."""
        bounds = [*(f"{bound:g}" for bound in LATENCY_BUCKETS), "+Inf"]
        running, rows = 0, []
        for bound, count in zip(bounds, self.counts, strict=True):
            running += count
            rows.append((bound, running))
        return rows


class OperationLatency:
    """Durations per operation name (``append``, ``read``, ...)."""

    __slots__ = ("operations",)

    def __init__(self) -> None:
        self.operations: dict[str, LatencyTally] = {}

    def __repr__(self) -> str:
        counts = {op: tally.count for op, tally in self.operations.items()}
        return f"OperationLatency({counts})"

    def observe(self, operation: str, seconds: float) -> None:
        """Count one call of ``operation`` that took ``seconds``."""
        tally = self.operations.get(operation)
        if tally is None:
            tally = self.operations[operation] = LatencyTally()
        tally.counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        tally.count += 1
        tally.total += seconds
