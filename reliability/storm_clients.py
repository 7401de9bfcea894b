"""One process of the reconnect storm's clients: ``--count`` clients, one connection each.

The storm (``storm.robot``, driven by :mod:`storm_run`) starts several of these
so that the clients use both cores. Each client is a full
:class:`~planstream.PlanStreamClient` with the jitter mode under test,
subscribed to one plan from its first event, and records, with
``time.monotonic()`` (CLOCK_MONOTONIC: one clock for every process of the
machine):

* every state change: ``{"c", "k": "state", "t", "state", "retry_in", "error"}``
  (a failure's ``retry_in`` dates the next attempt: ``t + retry_in``; a move to
  ``open`` is a completed handshake);
* every item handed to it: ``{"c", "k": "e", "p", "s", "i", "t"}`` for an event,
  ``{"c", "k": "r", "p", "i", "t"}`` for a ``Resync`` (``stream_checker``'s format,
  one ``{"c", "k": "start"}`` first).

Lines on stdout tell the harness where the clients are: ``ready`` once every
client has its plan's first event, ``resumed`` once every client has the
marker event published after the restart (``RESUME_MARKER``: its connection is
open again and its subscription flowing), ``done`` once every subscription ended
(the plan's terminal status) and the records are written. The records are
kept in memory until then, so that no file I/O disturbs the timings. The
process stops by itself when stdin closes (the harness is gone) or after
``--deadline`` seconds.

Run: ``python reliability/storm_clients.py --url ws://127.0.0.1:PORT/v1/stream
--first 0 --count 125 --plans p-0,p-1 --jitter full --initial-delay 0.5
--max-delay 8 --records clients-0.jsonl``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from planstream import ClientSettings, LogEvent, PlanStreamClient, Resync, StateChange
from planstream.backoff import JitterMode
from planstream.settings import ReconnectSettings

__all__ = ["RESUME_MARKER", "main"]

#: The message of the log event published once the restarted server listens.
RESUME_MARKER = "storm: the server is back"

Record = dict[str, Any]


class Progress:
    """Counts the clients that reached a milestone; says so on stdout when all did."""

    def __init__(self, clients: int) -> None:
        self.clients = clients
        self.ready = 0
        self.resumed = 0

    def client_ready(self) -> None:
        self.ready += 1
        if self.ready == self.clients:
            _say("ready")

    def client_resumed(self) -> None:
        self.resumed += 1
        if self.resumed == self.clients:
            _say("resumed")


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def run_client(
    index: int,
    plan_id: str,
    settings: ClientSettings,
    rng: random.Random | None,
    records: list[Record],
    progress: Progress,
) -> None:
    """One client: subscribe to ``plan_id`` and record until its terminal status."""
    records.append({"c": index, "k": "start"})

    def state_changed(change: StateChange) -> None:
        records.append(
            {
                "c": index,
                "k": "state",
                "t": time.monotonic(),
                "state": change.state.value,
                "retry_in": change.retry_in,
                "error": None if change.error is None else type(change.error).__name__,
            }
        )

    first = True
    async with (
        PlanStreamClient(settings=settings, on_state_change=state_changed, rng=rng) as client,
        client.subscribe(plan_id) as stream,
    ):
        async for item in stream:
            at = time.monotonic()
            if isinstance(item, Resync):
                head = item.snapshot.head
                line = {"c": index, "k": "r", "p": plan_id, "t": at}
                records.append({**line, "i": None if head is None else head.event_id})
                continue
            records.append(
                {"c": index, "k": "e", "p": plan_id, "s": item.seq, "i": item.event_id, "t": at}
            )
            if first:
                first = False
                progress.client_ready()
            if isinstance(item, LogEvent) and item.data.message == RESUME_MARKER:
                progress.client_resumed()


async def _stdin_closed() -> None:
    """Return when stdin reaches its end (the harness closed it, or died)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass


async def run(args: argparse.Namespace, records: list[Record]) -> int:
    """Run the clients until every subscription ends, recording into ``records``.

    Returns 0 on success, 1 if a client failed, 2 after the deadline, 3 when
    stdin closed first.
    """
    settings = ClientSettings(
        url=args.url,
        reconnect=ReconnectSettings(
            initial_delay=args.initial_delay, max_delay=args.max_delay, jitter=args.jitter
        ),
    )
    plans: list[str] = args.plans.split(",")
    progress = Progress(args.count)
    async with asyncio.TaskGroup() as tasks:
        watcher = tasks.create_task(_stdin_closed())
        clients = tasks.create_task(_run_clients(args, settings, plans, records, progress))
        await asyncio.wait({watcher, clients}, return_when=asyncio.FIRST_COMPLETED)
        watcher.cancel()
        if not clients.done():
            print("stdin closed: stopping", file=sys.stderr)
            clients.cancel()
    return 3 if clients.cancelled() else clients.result()


async def _run_clients(
    args: argparse.Namespace,
    settings: ClientSettings,
    plans: list[str],
    records: list[Record],
    progress: Progress,
) -> int:
    """Run every client to its end: 0, or 2 after the deadline, 1 if one failed."""
    try:
        async with asyncio.timeout(args.deadline), asyncio.TaskGroup() as clients:
            for offset in range(args.count):
                index = args.first + offset
                seeded = None if args.seed is None else random.Random(f"{args.seed}-{index}")  # noqa: S311
                plan_id = plans[index % len(plans)]
                clients.create_task(run_client(index, plan_id, settings, seeded, records, progress))
    except TimeoutError:
        print(f"deadline of {args.deadline} s passed", file=sys.stderr)
        return 2
    except ExceptionGroup as failed:
        for exc in failed.exceptions:
            print(f"a client failed: {exc!r}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the clients."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the server's stream URL")
    parser.add_argument("--first", type=int, default=0, help="index of the first client")
    parser.add_argument("--count", type=int, required=True, help="clients in this process")
    parser.add_argument("--plans", required=True, help="plan ids, comma-separated")
    parser.add_argument("--jitter", type=JitterMode, required=True, help="the jitter mode")
    parser.add_argument("--initial-delay", type=float, required=True, help="seconds")
    parser.add_argument("--max-delay", type=float, required=True, help="the cap, seconds")
    parser.add_argument("--seed", type=int, default=None, help="seed the jitter")
    parser.add_argument("--deadline", type=float, default=90.0, help="hard limit, seconds")
    parser.add_argument("--records", required=True, help="where the JSON-line records go")
    args = parser.parse_args(argv)
    records: list[Record] = []
    status = asyncio.run(run(args, records))
    Path(args.records).write_text(
        "".join(json.dumps(record) + "\n" for record in records), encoding="utf-8"
    )
    if status == 0:
        _say("done")
    return status


if __name__ == "__main__":
    sys.exit(main())
