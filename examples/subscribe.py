"""Stream one plan with ``async for`` and print every event, exactly once, in order.

Run against any planstream server, e.g. ``planstream serve`` in another terminal::

    python examples/subscribe.py PLAN_ID [--url ws://127.0.0.1:8765/v1/stream] [--token T]

``--url`` and ``--token`` default to ``PLANSTREAM_URL`` / ``PLANSTREAM_TOKEN``.
The stream ends after the plan's terminal status; the exit status is 0 when
the plan succeeded.
"""

from __future__ import annotations

import asyncio
import json

from example_cli import exit_status, parse_plan_arguments

from planstream import PlanStatus, PlanStatusEvent, PlanStreamClient, Resync


async def subscribe(plan_id: str, url: str | None, token: str | None) -> PlanStatus | None:
    final: PlanStatus | None = None
    async with PlanStreamClient(url, token=token) as client:
        async for item in client.subscribe(plan_id):  # ends after a terminal status
            if isinstance(item, Resync):  # history was lost: the snapshot is the state now
                head = item.snapshot.head
                print(f"resync ({item.reason}): continuing from seq {head.seq if head else 0}")
                final = item.snapshot.status
                continue
            data = item.model_dump(mode="json")["data"]
            print(f"#{item.seq} {item.kind} {json.dumps(data, sort_keys=True)}")
            if isinstance(item, PlanStatusEvent):
                final = item.data.status
        print(f"{client.stats.events_delivered} events, {client.stats.reconnects} reconnects")
    return final


def main() -> int:
    args = parse_plan_arguments(__doc__.splitlines()[0])
    final = asyncio.run(subscribe(args.plan_id, args.url, args.token))
    return exit_status(final)


if __name__ == "__main__":
    raise SystemExit(main())
