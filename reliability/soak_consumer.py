"""One soak subscriber: a process that follows every plan and writes what it is handed.

Run by the chaos soak (``soak_harness``), several at once, each at its own
pace::

    python reliability/soak_consumer.py --url ws://127.0.0.1:PORT/v1/stream \\
        --plans soak-0,soak-1 --record consumer.jsonl --stats consumer.json --pace slow

It appends its record (``features/support/stream_checker.py``'s consumer
format) as it goes, one line per item, flushed line by line so a killed
process leaves at most a torn last line: ``{"k": "start"}`` first, then
``{"k": "e", ...}`` per event and ``{"k": "r", ...}`` per ``Resync``. A
restarted consumer (same ``--record``) resumes each plan after the last event
its record holds, or, with ``--checkpoint FILE``, wherever the client's
durable cursor (``ClientSettings.checkpoint``) says. At the end it writes
``--stats``: the client's counters and the process's peak memory.

Paces (the work a user's loop does between items):

* ``fast``: none;
* ``sleepy``: a short pause now and then, which the default queue absorbs;
* ``slow``: long pauses with a small ``queue_size``, so the inbox overflows and
  the client rewinds it (a slow consumer, re-subscribed from where it is).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from planstream import ClientSettings, PlanStreamClient, Resync
from planstream.delivery import Delivery
from planstream.schema.events import PlanStatusEvent

__all__ = ["PACES", "Pace", "drop_torn_line", "main", "resume_points"]


@dataclass(frozen=True)
class Pace:
    """How a consumer's loop spends time: every ``every`` items (on average) it
    pauses for ``pause`` seconds (a uniform draw within the bounds)."""

    every: int  # 0: never pauses
    pause: tuple[float, float] = (0.0, 0.0)
    queue_size: int | None = None  # None: the client's default


PACES = {
    "fast": Pace(every=0),
    "sleepy": Pace(every=400, pause=(0.05, 0.15)),
    "slow": Pace(every=2000, pause=(1.0, 1.5), queue_size=300),
}


def drop_torn_line(record: Path) -> None:
    """Cut a last line an earlier incarnation was killed while writing (the
    new ``{"k": "start"}`` must begin a line of its own)."""
    if not record.exists():
        return
    data = record.read_bytes()
    if data and not data.endswith(b"\n"):
        with record.open("r+b") as stream:
            stream.truncate(data.rfind(b"\n") + 1)


def resume_points(record: Path) -> tuple[dict[str, str], set[str]]:
    """From an earlier incarnation's record: each plan's last event id (or a
    resync's head) and the plans whose terminal status it already holds."""
    last: dict[str, str] = {}
    finished: set[str] = set()
    if not record.exists():
        return last, finished
    with record.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.endswith("\n"):
                break  # torn by a kill: that item was not recorded
            item = json.loads(line)
            if item["k"] == "e" or (item["k"] == "r" and item.get("i")):
                last[item["p"]] = item["i"]
            if item.get("end"):
                finished.add(item["p"])
    return last, finished


class Recorder:
    """Writes the record, one flushed line per item (shared by the plans' tasks)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.items = 0

    def write(self, line: dict[str, Any]) -> None:
        self.stream.write(json.dumps(line, separators=(",", ":")) + "\n")
        self.stream.flush()

    def item(self, plan_id: str, item: Delivery, ends: bool) -> None:
        self.items += 1
        if isinstance(item, Resync):
            head = item.snapshot.head
            line: dict[str, Any] = {"k": "r", "p": plan_id, "i": head and head.event_id}
        else:
            line = {"k": "e", "p": plan_id, "s": item.seq, "i": item.event_id}
        if ends:
            line["end"] = True  # the terminal status: a restart skips this plan
        self.write(line)


async def follow(
    client: PlanStreamClient,
    plan_id: str,
    start: str | None,
    recorder: Recorder,
    pace: Pace,
    rng: random.Random,
) -> None:
    """Take ``plan_id``'s items until its terminal status, at ``pace``."""
    async with client.subscribe(plan_id, last_event_id=start) as stream:
        async for item in stream:
            recorder.item(plan_id, item, _ends(item))
            if pace.every and rng.randrange(pace.every) == 0:
                await asyncio.sleep(rng.uniform(*pace.pause))  # the user's work


def _ends(item: Delivery) -> bool:
    if isinstance(item, Resync):
        status = item.snapshot.status
        return status is not None and status.is_terminal
    return isinstance(item, PlanStatusEvent) and item.data.status.is_terminal


def peak_memory_kib() -> dict[str, int]:
    """This process's peak resident memory, ``VmHWM`` (KiB). Not ``ru_maxrss``:
    Linux keeps it across ``exec``, so a child of a big harness would report
    the harness's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return {"vm_hwm_kib": int(line.split()[1])}
    return {}


async def consume(arguments: argparse.Namespace) -> dict[str, Any]:
    pace = PACES[arguments.pace]
    rng = random.Random(arguments.seed)  # noqa: S311 (a workload, not a secret)
    plans: list[str] = arguments.plans.split(",")
    drop_torn_line(arguments.record)
    last, finished = ({}, set()) if arguments.checkpoint else resume_points(arguments.record)
    options: dict[str, Any] = {
        "url": arguments.url,
        "transport": "websocket",  # the proxy relays WebSockets only: no polling fallback
        "reconnect": {"initial_delay": 0.05, "max_delay": 0.5, "reset_after": 2.0},
    }
    if pace.queue_size is not None:
        options["queue_size"] = pace.queue_size
    if arguments.checkpoint:
        options["checkpoint"] = arguments.checkpoint  # the durable cursor picks the starts
    started = time.monotonic()
    with arguments.record.open("a", encoding="utf-8") as stream:
        recorder = Recorder(stream)
        recorder.write({"k": "start"})
        async with PlanStreamClient(settings=ClientSettings(**options), rng=rng) as client:
            async with asyncio.timeout(arguments.deadline), asyncio.TaskGroup() as tasks:
                for plan_id in plans:
                    if plan_id not in finished:
                        start = last.get(plan_id)
                        plan_rng = random.Random(rng.random())  # noqa: S311
                        tasks.create_task(follow(client, plan_id, start, recorder, pace, plan_rng))
            stats = client.stats
    return {
        "pace": arguments.pace,
        "items": recorder.items,
        "seconds": round(time.monotonic() - started, 3),
        "client": {k: v for k, v in asdict(stats).items() if k not in {"state", "last_rtt"}},
        **peak_memory_kib(),
    }


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", required=True, help="the stream URL (the fault proxy's)")
    parser.add_argument("--plans", required=True, help="comma-separated plan ids")
    parser.add_argument("--record", type=Path, required=True, help="JSON-lines record (appended)")
    parser.add_argument("--stats", type=Path, required=True, help="JSON written at the end")
    parser.add_argument("--pace", choices=sorted(PACES), default="fast")
    parser.add_argument("--seed", type=int, default=0, help="seeds the pauses and the jitter")
    parser.add_argument("--deadline", type=float, default=300.0, help="give up after, s")
    parser.add_argument("--checkpoint", type=Path, help="ClientSettings.checkpoint (durable)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    summary = asyncio.run(consume(arguments))
    arguments.stats.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
