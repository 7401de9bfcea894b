"""Follow a plan's folded state: ``client.watch()`` yields a snapshot after each event.

The snapshot is the plan as protocol §5 folds it: status, progress, the
latest status of every step. A ``Resync`` simply replaces it. Run against
``planstream serve`` (or any planstream server)::

    python examples/watch_state.py PLAN_ID [--url ws://127.0.0.1:8765/v1/stream] [--token T]

``--url`` and ``--token`` default to ``PLANSTREAM_URL`` / ``PLANSTREAM_TOKEN``.
"""

from __future__ import annotations

import asyncio

from example_cli import exit_status, parse_plan_arguments

from planstream import PlanSnapshot, PlanStreamClient


def describe(snapshot: PlanSnapshot) -> str:
    status = snapshot.status.value if snapshot.status else "-"
    percent = f"{snapshot.progress.percent:.0f}%" if snapshot.progress else "-"
    steps = " ".join(f"{step.step_id}={step.status.value}" for step in snapshot.steps)
    seq = snapshot.head.seq if snapshot.head else 0
    return f"seq {seq}: {status} {percent} [{steps}]"


async def watch(plan_id: str, url: str | None, token: str | None) -> PlanSnapshot | None:
    last: PlanSnapshot | None = None
    async with PlanStreamClient(url, token=token) as client:
        async for snapshot in client.watch(plan_id):  # ends after a terminal status
            print(describe(snapshot))
            last = snapshot
    return last


def main() -> int:
    args = parse_plan_arguments(__doc__.splitlines()[0])
    last = asyncio.run(watch(args.plan_id, args.url, args.token))
    if last is not None:
        print(f"final: {last.status} after {len(last.steps)} steps")
    return exit_status(None if last is None else last.status)


if __name__ == "__main__":
    raise SystemExit(main())
