"""What the durable cursor (``ClientSettings.checkpoint``) costs per committed item.

Two figures, printed as a table:

* **end to end**: events/s a user's ``async for item in client.subscribe(plan)``
  gets from ``benchmarks/frame_server.py`` (30,000 single-event frames, the
  client is the bottleneck), without a checkpoint and with one (a fresh file
  per run: WAL, ``synchronous=NORMAL``, one commit per item as the loop asks
  for the next). Rounds are interleaved so both see the same machine load;
  the best round of each counts. The difference per event is the commit's cost.
* **per commit**: ``CheckpointStore.save`` alone, moving one plan's position
  ``COMMITS`` times, with ``synchronous=NORMAL`` (the choice) and ``FULL``
  (an fsync per commit: what surviving a power loss would cost).

Usage: ``python benchmarks/checkpoint_cost.py [ROUNDS]`` (default 3).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.client_bench import PLAN_ID, frame_server
from planstream import ClientSettings, PlanStreamClient
from planstream.client.checkpoint import CheckpointStore
from planstream.plan_cursor import Position

EVENTS = 30_000
COMMITS = 2_000


async def consume(url: str, checkpoint: Path | None) -> float:
    """Events/s from the first item to the end of the plan."""
    settings = ClientSettings(checkpoint=checkpoint)
    count = 0
    async with PlanStreamClient(url, settings=settings) as client:
        stream = client.subscribe(PLAN_ID)
        first = await anext(stream)
        del first
        started = time.perf_counter()
        async for _ in stream:
            count += 1
        elapsed = time.perf_counter() - started
    return count / elapsed


def commit_cost(folder: Path, synchronous: str) -> float:
    """Microseconds per ``save`` of a moving position."""
    store = CheckpointStore.open(folder / f"commits-{synchronous}.sqlite")
    try:
        store._connection.execute(f"PRAGMA synchronous={synchronous}")  # type: ignore[union-attr]
        started = time.perf_counter()
        for seq in range(1, COMMITS + 1):
            store.save("bench-plan", Position(f"bench.1.{seq}", seq))
        return (time.perf_counter() - started) / COMMITS * 1e6
    finally:
        store.close()


def main(rounds: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="planstream-checkpoint-bench-"))
    without = with_checkpoint = 0.0
    for round_number in range(rounds):
        with frame_server(EVENTS, 1) as url:
            without = max(without, asyncio.run(consume(url, None)))
        with frame_server(EVENTS, 1) as url:
            checkpoint = folder / f"run-{round_number}.sqlite"
            with_checkpoint = max(with_checkpoint, asyncio.run(consume(url, checkpoint)))
    normal = min(commit_cost(folder, "NORMAL") for _ in range(rounds))
    full = min(commit_cost(folder, "FULL") for _ in range(rounds))
    added_us = (1 / with_checkpoint - 1 / without) * 1e6
    print("| measure | value |")
    print("|---|---|")
    print(f"| events/s, no checkpoint | {without:,.0f} |")
    print(f"| events/s, checkpoint (WAL, NORMAL) | {with_checkpoint:,.0f} |")
    print(f"| added per event, end to end | {added_us:.1f} µs |")
    print(f"| one commit, synchronous=NORMAL | {normal:.1f} µs |")
    print(f"| one commit, synchronous=FULL | {full:.1f} µs |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
