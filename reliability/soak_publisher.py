"""The soak's publisher: a process that appends each plan's events at a steady rate.

::

    python reliability/soak_publisher.py --url http://127.0.0.1:PORT \\
        --plans soak-0,soak-1 --events-per-plan 20000 --rate 1200 --record published.jsonl

One sequential publisher per plan (a task each) sends batches of ``--batch``
events with :class:`~planstream.PlanPublisher`: every batch carries an
``Idempotency-Key`` made from the run, the plan and the batch's place, and is
retried across server restarts with that same key, so nothing is appended
twice (protocol §6, "Idempotent publishing"). Each plan's event ``0`` is
``plan.status running``, its last one ``plan.status succeeded``; between them
``log`` lines, with a ``plan.progress`` every hundredth. ``--from``/``--to``
publish part of that sequence (a phase that restarts the server between two
parts runs the program twice). Batches start on a schedule (``--rate``
events per second over all plans), not as fast as the server answers.

Every acknowledged event is written to ``--record`` as it is acknowledged,
``{"p": plan_id, "s": seq, "i": event_id}`` (the checker's publisher record).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from planstream import ClientSettings, PlanPublisher
from planstream.schema import EventData
from planstream.schema.events import (
    LogData,
    LogLevel,
    LogStream,
    PlanProgressData,
    PlanStatus,
    PlanStatusData,
)

__all__ = ["event_data", "main"]


def event_data(number: int, total: int) -> EventData:
    """Event ``number`` (0-based) of a plan of ``total`` events."""
    if number == 0:
        return PlanStatusData(status=PlanStatus.RUNNING)
    if number == total - 1:
        return PlanStatusData(status=PlanStatus.SUCCEEDED)
    if number % 100 == 0:
        done = number // 100
        return PlanProgressData(
            completed_steps=done, total_steps=total // 100, percent=100 * number / total
        )
    return LogData(level=LogLevel.INFO, message=f"line {number}", stream=LogStream.STDOUT)


async def publish_plan(
    publisher: PlanPublisher,
    plan_id: str,
    numbers: range,
    total: int,
    *,
    run_id: str,
    batch: int,
    interval: float,
    record: TextIO,
) -> int:
    """Publish ``numbers`` of ``plan_id`` in batches, one every ``interval`` seconds."""
    loop = asyncio.get_running_loop()
    begin = loop.time()
    published = 0
    for place, first in enumerate(range(numbers.start, numbers.stop, batch)):
        due = begin + place * interval
        if due > loop.time():
            await asyncio.sleep(due - loop.time())  # the schedule, not a poll
        last = min(first + batch, numbers.stop)
        data = [event_data(number, total) for number in range(first, last)]
        key = f"{run_id}:{plan_id}:{first}-{last}"  # the same on every retry
        placed = await publisher.publish_many(plan_id, data, idempotency_key=key)
        record.write(
            "".join(
                json.dumps({"p": plan_id, "s": one.seq, "i": one.event_id}, separators=(",", ":"))
                + "\n"
                for one in placed
            )
        )
        record.flush()
        published += len(placed)
    return published


async def publish(arguments: argparse.Namespace) -> dict[str, float | int]:
    plans: list[str] = arguments.plans.split(",")
    numbers = range(arguments.first, arguments.to or arguments.events_per_plan)
    interval = arguments.batch * len(plans) / arguments.rate
    settings = ClientSettings(
        url=arguments.url, reconnect={"initial_delay": 0.05, "max_delay": 0.5}
    )
    started = time.monotonic()
    with arguments.record.open("a", encoding="utf-8") as record:
        async with (
            PlanPublisher(
                settings=settings,
                max_attempts=1000,
                deadline=arguments.retry_for,
                request_timeout=5,
            ) as publisher,
            asyncio.TaskGroup() as tasks,
        ):
            runs = [
                tasks.create_task(
                    publish_plan(
                        publisher,
                        plan_id,
                        numbers,
                        arguments.events_per_plan,
                        run_id=arguments.run_id,
                        batch=arguments.batch,
                        interval=interval,
                        record=record,
                    )
                )
                for plan_id in plans
            ]
    seconds = time.monotonic() - started
    events = sum(run.result() for run in runs)
    return {"events": events, "seconds": round(seconds, 3), "rate": round(events / seconds, 1)}


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", required=True, help="the server's HTTP base URL")
    parser.add_argument("--plans", required=True, help="comma-separated plan ids")
    parser.add_argument("--events-per-plan", type=int, required=True)
    parser.add_argument("--from", dest="first", type=int, default=0, help="first event number")
    parser.add_argument("--to", type=int, default=0, help="end (exclusive); 0: the whole plan")
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s over all plans")
    parser.add_argument("--batch", type=int, default=100, help="events per request")
    parser.add_argument("--run-id", default="soak", help="prefix of the Idempotency-Keys")
    parser.add_argument("--retry-for", type=float, default=60.0, help="retry one batch for, s")
    parser.add_argument("--record", type=Path, required=True, help="JSON lines (appended)")
    parser.add_argument("--summary", type=Path, help="JSON figures written at the end")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    summary = asyncio.run(publish(arguments))
    if arguments.summary is not None:
        arguments.summary.write_text(json.dumps(summary) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
