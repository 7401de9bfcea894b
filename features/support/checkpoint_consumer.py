"""A consumer with a durable cursor, run in a process of its own (and SIGKILLed).

``python checkpoint_consumer.py URL RECORD MODE PLAN_ID...`` follows each plan
with ``client.subscribe(plan_id)`` (no ``last_event_id``: the checkpoint named
by ``PLANSTREAM_CHECKPOINT`` says where to start) until its terminal status.
It appends its consumer record to RECORD (JSON lines, one flushed write each,
in the format of support/stream_checker.py: ``{"k": "start"}`` first, then
``{"k": "e", ...}`` per event and ``{"k": "r", ...}`` per ``Resync``) and prints
``taken PLAN SEQ`` on stdout for each item, so that the test knows, without
polling the file, how far it is. MODE:

* ``work``: "processes" each item (a short sleep) before asking for the next;
* ``hold``: takes one item, prints ``holding``, and waits to be killed with it;
* ``commit``: takes one item, ``await subscription.commit()``, prints
  ``committed``, and waits to be killed.

checkpoint.feature kills it mid-stream, restarts it, and checks the records.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from planstream import ClientSettings, PlanStreamClient, Resync

#: How long the ``work`` mode "processes" one item: a kill often lands mid-item.
WORK_S = 0.002


def record_line(item: object) -> dict[str, Any]:
    """The consumer-record line of one item handed to the user."""
    if isinstance(item, Resync):
        head = item.snapshot.head
        return {"k": "r", "p": item.plan_id, "i": None if head is None else head.event_id}
    return {"k": "e", "p": item.plan_id, "s": item.seq, "i": item.event_id}  # type: ignore[attr-defined]


async def follow(client: PlanStreamClient, plan_id: str, mode: str, record: TextIO) -> None:
    async with client.subscribe(plan_id) as stream:
        async for item in stream:
            line = record_line(item)
            record.write(json.dumps(line) + "\n")
            print(f"taken {plan_id} {line.get('s')}", flush=True)
            if mode == "work":
                await asyncio.sleep(WORK_S)
                continue
            if mode == "commit":
                await stream.commit()
                print("committed", flush=True)
            else:
                print("holding", flush=True)
            await asyncio.Event().wait()  # killed here, holding the item


async def main(url: str, record: TextIO, mode: str, plan_ids: list[str]) -> int:
    settings = ClientSettings(reconnect={"initial_delay": 0.05, "max_delay": 0.5})
    assert settings.checkpoint is not None, "PLANSTREAM_CHECKPOINT is not set"
    record.write(json.dumps({"k": "start"}) + "\n")
    async with PlanStreamClient(url, settings=settings) as client, asyncio.TaskGroup() as tasks:
        for plan_id in plan_ids:
            tasks.create_task(follow(client, plan_id, mode, record))
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    url, record_path, mode, *plans = sys.argv[1:]
    # Line-buffered: each record line is one write(), whole unless killed inside it.
    with Path(record_path).open("a", encoding="utf-8", buffering=1) as record_file:
        raise SystemExit(asyncio.run(main(url, record_file, mode, plans)))
