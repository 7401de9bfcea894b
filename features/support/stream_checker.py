"""Checks delivered streams against the publisher's record (issue 15's soak and cursor tests).

Both sides are JSON lines, so that publishers and consumers in other
processes (killed and restarted ones too) can write them as they go:

* the **publisher's record**: one line per event the server acknowledged,
  ``{"p": plan_id, "s": seq, "i": event_id}``, each plan's lines in the order
  they were acknowledged (one sequential publisher per plan: that is seq order
  within a server log);
* a **consumer's record**: ``{"k": "start"}`` when a consumer process (an
  incarnation) starts, ``{"k": "e", "p": plan_id, "s": seq, "i": event_id}``
  for each event handed to the user, ``{"k": "r", "p": plan_id, "i": head_event_id
  or null}`` for each ``Resync``.

Event ids are unique over every log and restart (they carry the log's
incarnation), so the publisher's record orders every event of a plan, even
across a memory-log restart that starts the seqs over. For each plan a
consumer's events must follow that order:

* an event at or before the last one delivered is a **duplicate**, except the
  first event of an incarnation that repeats the previous incarnation's last
  event of that plan: the one in flight when it was killed, **redelivered**
  (at-least-once across a crash), at most once per restart and plan;
* events skipped between two delivered ones are **lost**, unless a ``Resync``
  came between them: then they are **explained** (the user was told). A
  resync whose head is a known event moves the position to that head;
* two events with no ``Resync`` between must have increasing seqs
  (**order violations** otherwise); an event that arrives after a later one
  of its plan is an order violation too (not lost, once it came); an event
  the publisher never acknowledged is **unknown**, and fails the verdict too;
* events published after the last one delivered are lost too, when the
  consumer was expected to read to the end (``complete=True``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "PlanVerdict",
    "PublishedRecord",
    "StreamVerdict",
    "check_consumer",
    "read_jsonl",
]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The lines of a JSON-lines record; a torn last line (a SIGKILL mid-write) is ignored."""
    lines: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            if not line.endswith("\n"):
                break  # written half when the process was killed
            if line.strip():
                lines.append(json.loads(line))
    return lines


@dataclass(frozen=True, slots=True)
class PublishedRecord:
    """What the server acknowledged: each plan's event ids in order, and their seqs."""

    order: Mapping[str, Sequence[str]]
    index: Mapping[str, int]  # event id -> its place in its plan's order
    seqs: Mapping[str, int]

    @classmethod
    def of(cls, lines: Iterable[Mapping[str, Any]]) -> PublishedRecord:
        """From the publisher's lines ``{"p", "s", "i"}``."""
        order: dict[str, list[str]] = {}
        index: dict[str, int] = {}
        seqs: dict[str, int] = {}
        for line in lines:
            ids = order.setdefault(line["p"], [])
            if line["i"] in index:
                raise ValueError(f"the publisher's record holds {line['i']!r} twice")
            index[line["i"]] = len(ids)
            seqs[line["i"]] = line["s"]
            ids.append(line["i"])
        return cls(order, index, seqs)

    @property
    def total(self) -> int:
        """Events acknowledged over every plan."""
        return len(self.index)


@dataclass(slots=True)
class PlanVerdict:
    """One consumer's stream of one plan, checked."""

    plan_id: str
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    redelivered: int = 0
    resyncs: int = 0
    explained: int = 0  # skipped events a Resync told the user about
    order_violations: int = 0
    unknown: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing lost, repeated (beyond a crash's one in flight), reordered or unknown."""
        return not (self.lost or self.duplicated or self.order_violations or self.unknown)

    def note(self, problem: str) -> None:
        """Keep the first few problems' descriptions (counts stay exact)."""
        if len(self.problems) < 10:
            self.problems.append(problem)


@dataclass(frozen=True, slots=True)
class StreamVerdict:
    """One consumer's record, checked plan by plan; the totals are sums."""

    plans: Mapping[str, PlanVerdict]
    incarnations: int

    def total(self, name: str) -> int:
        """The sum of one count (``"lost"``, ``"delivered"``, ...) over the plans."""
        return sum(int(getattr(verdict, name)) for verdict in self.plans.values())

    @property
    def ok(self) -> bool:
        """Every plan's stream is exact."""
        return all(verdict.ok for verdict in self.plans.values())

    def problems(self) -> list[str]:
        """The first problems of every plan, for a failure message."""
        return [f"{plan}: {text}" for plan, v in self.plans.items() for text in v.problems]


@dataclass(slots=True)
class _Walk:
    """Where one plan's stream is while the consumer's record is read."""

    verdict: PlanVerdict
    position: int = -1  # the place of the last event delivered (or a resync's head)
    last_id: str | None = None  # the last event delivered
    last_seq: int | None = None  # None after a resync: seqs may start over
    resynced: bool = False  # a Resync since the last event: a gap is explained
    restarted: bool = False  # no event yet in this incarnation: one redelivery allowed
    missing: set[int] = field(default_factory=set)  # places counted lost so far


def check_consumer(
    published: PublishedRecord,
    lines: Iterable[Mapping[str, Any]],
    *,
    plans: Iterable[str] | None = None,
    complete: bool = True,
) -> StreamVerdict:
    """Check one consumer's record (``{"k": ...}`` lines) against ``published``.

    ``plans``: the plans the consumer followed (default: every published plan).
    ``complete``: the consumer read every plan to its end, so an event never
    delivered after the last one is lost.
    """
    followed = list(published.order) if plans is None else list(plans)
    walks = {plan: _Walk(PlanVerdict(plan)) for plan in followed}
    incarnations = 0
    for line in lines:
        kind = line["k"]
        if kind == "start":
            incarnations += 1
            for each in walks.values():
                each.restarted = True
            continue
        walk = walks.get(line["p"])
        if walk is None:
            raise ValueError(f"the consumer's record names a plan it did not follow: {line['p']!r}")
        if kind == "r":
            _resync(published, walk, line.get("i"))
        elif kind == "e":
            _event(published, walk, line["i"], line["s"])
        else:
            raise ValueError(f"unknown record line kind {kind!r}")
    if complete:
        for plan, walk in walks.items():
            missing = len(published.order.get(plan, ())) - 1 - walk.position
            if missing > 0:
                if walk.resynced:
                    walk.verdict.explained += missing
                else:
                    walk.verdict.lost += missing
                    walk.verdict.note(f"{missing} event(s) after the last delivered never arrived")
    return StreamVerdict({plan: walk.verdict for plan, walk in walks.items()}, incarnations)


def _resync(published: PublishedRecord, walk: _Walk, head_id: str | None) -> None:
    walk.verdict.resyncs += 1
    walk.resynced = True
    walk.last_seq = None
    head = None if head_id is None else published.index.get(head_id)
    if head is not None and head > walk.position:
        walk.verdict.explained += head - walk.position - 1
        walk.position = head  # the snapshot holds everything up to its head


def _event(published: PublishedRecord, walk: _Walk, event_id: str, seq: int) -> None:
    verdict = walk.verdict
    place = published.index.get(event_id)
    restarted, walk.restarted = walk.restarted, False
    if place is None:
        verdict.unknown += 1
        verdict.note(f"event {event_id!r} (seq {seq}) was never acknowledged to the publisher")
        return
    if place <= walk.position:
        if restarted and event_id == walk.last_id:
            verdict.redelivered += 1  # the one in flight when the consumer was killed
        elif place in walk.missing:  # not lost after all: it came after a later event
            walk.missing.discard(place)
            verdict.lost -= 1
            verdict.delivered += 1
            verdict.order_violations += 1
            verdict.note(f"event {event_id!r} (seq {seq}) arrived after a later event")
        else:
            verdict.duplicated += 1
            verdict.note(f"event {event_id!r} (seq {seq}) delivered again")
        return
    skipped = place - walk.position - 1
    if skipped:
        if walk.resynced:
            verdict.explained += skipped
        else:
            verdict.lost += skipped
            walk.missing.update(range(walk.position + 1, place))
            verdict.note(f"{skipped} event(s) missing before {event_id!r} (seq {seq})")
    if walk.last_seq is not None and seq <= walk.last_seq:
        verdict.order_violations += 1
        verdict.note(f"seq {seq} after seq {walk.last_seq} with no resync between")
    verdict.delivered += 1
    walk.position, walk.last_id, walk.last_seq, walk.resynced = place, event_id, seq, False
