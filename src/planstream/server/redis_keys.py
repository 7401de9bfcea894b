"""Key names, ids and cursors of the Redis event log (pure: no I/O).

Every key of one plan shares the hash tag ``{plan_id}``, so a plan lives in
one Redis Cluster slot and one Lua script may touch all of it (issue 11 item
1). Event ids are ``<incarnation>.<stream>.<seq>`` as in the memory log; the
incarnation is stored in Redis (``planstream:incarnation``), so ids outlive
every server node, and ``<stream>`` is the plan stream's creation time in
microseconds (unique per plan id: a plan evicted and published to again gets
ids of its own, protocol §7 reading 19).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# Internal to the Redis event log (redis_log.py).
__all__: list[str] = []

INCARNATION_KEY: Final = "planstream:incarnation"
#: The plans, scored by stream number (creation order), for GET /v1/plans.
PLAN_INDEX_KEY: Final = "planstream:plans"
#: One channel for every plan: a node's one reader multiplexes them all.
NOTIFY_CHANNEL: Final = "planstream:appended"
_NUMBER: Final = re.compile(r"[0-9]{1,16}")


@dataclass(frozen=True, slots=True)
class PlanKeys:
    """The keys of one plan (one slot)."""

    meta: str
    stream: str
    idempotency: str  # key -> "digest first count" (protocol §6)
    idempotency_order: str  # the keys, oldest first, to bound them

    @classmethod
    def of(cls, plan_id: str) -> PlanKeys:
        """The keys of ``plan_id``; a plan id cannot hold braces (protocol §1)."""
        tag = f"planstream:{{{plan_id}}}"
        return cls(f"{tag}:meta", f"{tag}:events", f"{tag}:idem", f"{tag}:idem-order")

    @property
    def all(self) -> list[str]:
        """Every key, in the order the scripts take them."""
        return [self.meta, self.stream, self.idempotency, self.idempotency_order]


@dataclass(frozen=True, slots=True)
class EventPosition:
    """An event id taken apart."""

    incarnation: str
    stream: str
    seq: int


def parse_event_id(event_id: str) -> EventPosition | None:
    """``<incarnation>.<stream>.<seq>``, or None when it is not of that form.

    Only ever reads at most 16 ASCII digits (a hostile id is just unknown).
    """
    rest, _, seq_text = event_id.rpartition(".")
    incarnation, _, stream = rest.rpartition(".")
    if not (_NUMBER.fullmatch(seq_text) and _NUMBER.fullmatch(stream)):
        return None
    return EventPosition(incarnation, stream, int(seq_text))


def parse_cursor(cursor: str, incarnation: str) -> tuple[int, str] | None:
    """A plan-list cursor ``<incarnation>.<stream>.<plan_id>`` -> (stream, plan_id)."""
    prefix, _, rest = cursor.partition(".")
    number, _, plan_id = rest.partition(".")
    if prefix != incarnation or not _NUMBER.fullmatch(number) or not plan_id:
        return None
    return int(number), plan_id


def parse_notification(message: str) -> tuple[str, int, int, bool] | None:
    """The append script's PUBLISH ``<head> <first> <new> <plan_id>``, or None."""
    parts = message.split(" ", 3)
    if len(parts) != 4 or not all(_NUMBER.fullmatch(part) for part in parts[:3]):
        return None
    return parts[3], int(parts[0]), int(parts[1]), parts[2] == "1"
