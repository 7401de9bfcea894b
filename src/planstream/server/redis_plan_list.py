"""``GET /v1/plans`` over the Redis log: the plan index read page by page (no other I/O).

The index (``planstream:plans``) scores each plan by its stream number
(creation order). A page is read in batches; a principal's filter (lane S of
issue 16: :mod:`planstream.server.authorization`) skips the plans it may not
read, looking at no more than ``scan_limit`` of them per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from planstream.schema.snapshot import PlanSnapshot
from planstream.server.event_log import BadCursorError, PlanFilter, PlanPage
from planstream.server.latency import OperationLatency
from planstream.server.redis_calls import redis_calls
from planstream.server.redis_keys import PLAN_INDEX_KEY, parse_cursor

__all__ = ["plan_page"]

#: Index rows read per call by a filtered plan listing.
_FILTERED_BATCH: Final = 1000
#: Sorts after every plan id (protocol §1 alphabet): a cursor "after the whole stream number".
_AFTER_EVERY_PLAN_ID: Final = "~"


async def plan_page(
    client: Any,
    latency: OperationLatency,
    incarnation: str,
    read_snapshot: Callable[[str], Awaitable[PlanSnapshot | None]],
    scan_limit: int,
    limit: int,
    cursor: str | None,
    readable: PlanFilter | None,
) -> PlanPage:
    """Up to ``limit`` plans of a Redis log in creation order after the one ``cursor`` names.

    ``read_snapshot``: the log's folded snapshot of a plan (None: expired).
    With ``readable``, a scan stopped after ``scan_limit`` plans stops
    between two stream numbers and its cursor ends in ``~`` (after every
    plan id of that number), so it never names a plan the filter refused.
    """
    after: tuple[int, str] | None = None
    if cursor is not None:
        after = parse_cursor(cursor, incarnation)
        if after is None:
            raise BadCursorError(
                "cursor is not one this server gave out; list again without a cursor"
            )
    low = after[0] if after else 0
    batch = limit + 1 if readable is None else max(limit + 1, _FILTERED_BATCH)
    found: list[tuple[int, PlanSnapshot]] = []
    scanned, last_number, stopped = 0, -1, False
    offset = 0
    while len(found) <= limit and not stopped:
        async with redis_calls(latency, "plans"):
            rows = await client.zrangebyscore(
                PLAN_INDEX_KEY, low, "+inf", start=offset, num=batch, withscores=True
            )
        offset += len(rows)
        for plan_id, score in rows:
            number = int(score)
            if after is not None and (number, plan_id) <= after:
                continue
            if readable is not None:
                if scanned >= scan_limit and number != last_number:
                    stopped = True
                    break
                scanned, last_number = scanned + 1, number
                if not readable(plan_id):
                    continue
            snapshot = await read_snapshot(plan_id)
            if snapshot is None:  # expired in Redis: drop it from the index
                async with redis_calls(latency, "index"):
                    await client.zrem(PLAN_INDEX_KEY, plan_id)
                offset -= 1
                continue
            found.append((number, snapshot))
            if len(found) > limit:
                break
        if len(rows) < batch:
            break
    next_cursor = None
    if len(found) > limit:
        number, snapshot = found[limit - 1]
        next_cursor = f"{incarnation}.{number}.{snapshot.plan_id}"
    elif stopped:
        next_cursor = f"{incarnation}.{last_number}.{_AFTER_EVERY_PLAN_ID}"
    del found[limit:]
    return PlanPage([snapshot for _, snapshot in found], next_cursor)
