"""The reconnect storm's figures, from its records (pure: no I/O, no clock).

From one storm's :class:`~storm_run.StormRecords` :func:`storm_figures` computes
peaks, each the most events that fall in any 100 ms window (a sliding window,
so no luck of bin edges):

* **attempts on the restarted server** (the table's "peak", the one judged):
  each failure's time + its ``retry_in`` is when the client's next attempt
  starts; those starting once the new server listened are the load the
  backoff offers the restarted server. This is the physics of the jitter:
  it does not depend on how fast this machine's server can answer;
* **attempts** over the whole storm, those refused while the server was down
  included;
* **completed handshakes**: the upgrades the restarted server accepted, timed
  by the server itself (:mod:`storm_server`). They are the offered load cut
  to what the server can take: on a 2-core machine that also runs the 500
  clients (and, in CI or here, other work) the server accepts one to two
  thousand handshakes per second at most, so a herd is flattened into a
  longer saturation, and a scheduler stall bunches what queued into one window.
  Shown, not judged; the clients' own moves to ``open`` (``peak_opens``) too;
* **resumed**: a client is back when it receives the marker event published
  the moment the new server listened (its connection is open again and its
  subscription flowing); "all resumed after" is the last client's time
  after ``back_at``; a client's **outage** runs from its drop to that moment;
* **exactly once**: every client's stream against the publisher's record
  (``stream_checker``): nothing lost or repeated, in order, and no ``Resync``
  (the Redis log resumes exactly).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from support.stream_checker import PublishedRecord, check_consumer

if TYPE_CHECKING:
    from storm_run import StormRecords

__all__ = ["WINDOW", "StormFigures", "peak_in_window", "storm_figures"]

#: The window of the peaks, s.
WINDOW = 0.1
_STREAM_KINDS = frozenset({"start", "e", "r"})


def peak_in_window(times: Iterable[float], window: float = WINDOW) -> int:
    """The most ``times`` within any half-open interval ``[t, t + window)``."""
    ordered = sorted(times)
    best = 0
    first = 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - window:
            first += 1
        best = max(best, last - first + 1)
    return best


@dataclass(slots=True)
class StormFigures:
    """One jitter mode's storm, measured (times in seconds)."""

    jitter: str
    clients: int
    outage: float  # kill signal -> the new server listened
    peak_attempts: int  # attempts starting once the restarted server listened
    peak_attempts_all: int  # attempts over the whole storm
    peak_handshakes: int  # upgrades the restarted server accepted
    peak_opens: int  # the clients' moves to open
    handshakes: int
    attempts: int
    resumed: int
    all_resumed_after: float
    median_resumed_after: float
    longest_outage: float
    longest_delay: float  # the longest single backoff delay drawn
    events_published: int
    events_delivered: int
    lost: int
    duplicated: int
    resyncs: int
    out_of_order: int
    unknown: int
    wall_time: float
    problems: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        """Every client got every event of its plan exactly once, in order, with no resync."""
        return (
            self.resumed == self.clients
            and not (self.lost or self.duplicated or self.resyncs)
            and not (self.out_of_order or self.unknown)
        )

    def as_json(self) -> dict[str, Any]:
        """The figures as a JSON object (``exact`` included)."""
        return {**asdict(self), "exact": self.exact}


def storm_figures(records: StormRecords) -> StormFigures:
    """Measure one storm (module docstring)."""
    by_client: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in records.clients:
        by_client[line["c"]].append(line)
    down, back = records.down_at, records.back_at
    opens: list[float] = []
    attempts: list[float] = []
    delays: list[float] = [0.0]
    resumed_after: list[float] = []
    outages: list[float] = []
    for lines in by_client.values():
        changes = [line for line in lines if line["k"] == "state" and line["t"] > down]
        opens += [line["t"] for line in changes if line["state"] == "open"]
        failures = [line for line in changes if line["retry_in"] is not None]
        attempts += [line["t"] + line["retry_in"] for line in failures]
        delays += [line["retry_in"] for line in failures]
        resumed_at = _marker_time(lines, records.markers)
        if resumed_at is not None:
            resumed_after.append(resumed_at - back)
            dropped_at = failures[0]["t"] if failures else down
            outages.append(resumed_at - dropped_at)
    figures = StormFigures(
        jitter=records.jitter.value,
        clients=records.parameters.clients,
        outage=back - down,
        peak_attempts=peak_in_window(at for at in attempts if at >= back),
        peak_attempts_all=peak_in_window(attempts),
        peak_handshakes=peak_in_window(records.handshakes),
        peak_opens=peak_in_window(opens),
        handshakes=len(records.handshakes),
        attempts=len(attempts),
        resumed=len(resumed_after),
        all_resumed_after=max(resumed_after, default=float("inf")),
        median_resumed_after=statistics.median(resumed_after) if resumed_after else float("inf"),
        longest_outage=max(outages, default=float("inf")),
        longest_delay=max(delays),
        events_published=len(records.published),
        events_delivered=0,
        lost=0,
        duplicated=0,
        resyncs=0,
        out_of_order=0,
        unknown=0,
        wall_time=records.wall_time,
    )
    _check_streams(figures, records, by_client)
    return figures


def _marker_time(lines: Sequence[dict[str, Any]], markers: dict[str, str]) -> float | None:
    for line in lines:
        if line["k"] == "e" and markers.get(line["p"]) == line["i"]:
            at: float = line["t"]
            return at
    return None


def _check_streams(
    figures: StormFigures, records: StormRecords, by_client: dict[int, list[dict[str, Any]]]
) -> None:
    """Check every client's stream against the publisher's record (exactly once)."""
    published = PublishedRecord.of(records.published)
    plans = records.plans
    if len(by_client) != records.parameters.clients:
        figures.problems.append(
            f"{len(by_client)} clients left records, not {records.parameters.clients}"
        )
    for client, lines in sorted(by_client.items()):
        plan = plans[client % len(plans)]
        stream = [line for line in lines if line["k"] in _STREAM_KINDS]
        verdict = check_consumer(published, stream, plans=[plan])
        figures.events_delivered += verdict.total("delivered")
        figures.lost += verdict.total("lost")
        figures.duplicated += verdict.total("duplicated")
        figures.resyncs += verdict.total("resyncs")
        figures.out_of_order += verdict.total("order_violations")
        figures.unknown += verdict.total("unknown")
        if len(figures.problems) < 10:
            figures.problems += [f"client {client}: {text}" for text in verdict.problems()]
