"""React to a plan's events with callbacks: ``client.on(...)`` then ``client.run(...)``.

A callback is registered for the model it takes (an event model or
``Resync``; ``client.on_any`` for every item), so ``mypy --strict`` checks that
they agree; plain functions and coroutines both work. A callback that raises
is logged and handed to the ``on_error`` hook; the stream goes on. Run against
``planstream serve`` (or any planstream server)::

    python examples/callbacks.py PLAN_ID [--url ws://127.0.0.1:8765/v1/stream] [--token T]

``--url`` and ``--token`` default to ``PLANSTREAM_URL`` / ``PLANSTREAM_TOKEN``.
"""

from __future__ import annotations

import asyncio
import sys

from example_cli import exit_status, parse_plan_arguments

from planstream import (
    Event,
    LogEvent,
    PlanProgressEvent,
    PlanStatus,
    PlanStatusEvent,
    PlanStreamClient,
    Resync,
    StepStatusEvent,
)


def report(error: Exception, item: Event | Resync) -> None:
    """Called when a callback raised (after the SDK logged the traceback)."""
    print(
        f"a callback failed on {type(item).__name__} of {item.plan_id}: {error!r}", file=sys.stderr
    )


async def follow(plan_id: str, url: str | None, token: str | None) -> PlanStatus | None:
    client = PlanStreamClient(url, token=token, on_error=report)
    final: list[PlanStatus] = []

    @client.on(StepStatusEvent)  # the model the callback takes
    def step_changed(event: StepStatusEvent) -> None:
        error = f" ({event.data.error})" if event.data.error else ""
        print(f"step {event.data.index} {event.data.name}: {event.data.status}{error}")

    @client.on(PlanProgressEvent)
    def progressed(event: PlanProgressEvent) -> None:
        print(f"progress {event.data.percent:.0f}%")

    @client.on(LogEvent)
    async def logged(event: LogEvent) -> None:  # coroutines work too
        print(f"log [{event.data.level}] {event.data.message}")

    @client.on(PlanStatusEvent)
    def status_changed(event: PlanStatusEvent) -> None:
        print(f"plan {event.data.status}")
        final.append(event.data.status)

    @client.on(Resync)
    def resynced(marker: Resync) -> None:
        print(f"resync ({marker.reason}): history lost, plan is {marker.snapshot.status}")
        if marker.snapshot.status is not None:
            final.append(marker.snapshot.status)

    async with client:
        await client.run(plan_id)  # returns when the plan reaches a terminal status
    return final[-1] if final else None


def main() -> int:
    args = parse_plan_arguments(__doc__.splitlines()[0])
    final = asyncio.run(follow(args.plan_id, args.url, args.token))
    return exit_status(final)


if __name__ == "__main__":
    raise SystemExit(main())
