"""The durable cursor's tests: consumer processes to SIGKILL, a steady publisher.

* :class:`ConsumerProcess` — ``support/checkpoint_consumer.py`` in a subprocess
  with ``PLANSTREAM_CHECKPOINT`` set; its stdout (one ``taken`` line per item)
  is read as it comes, so a kill lands after the N-th item without polling.
* :func:`publish_steadily` — events published through the scenario's embedded
  reference server at a steady pace, each acknowledged one recorded in the
  publisher's record format of support/stream_checker.py, then a terminal status.
* :func:`kill_and_restart` — the soak in small: a consumer killed mid-stream at
  seeded random points and restarted, until an incarnation reads to the end.
* :func:`checkpoint_rows` — what the file holds, read with plain ``sqlite3``.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planstream.server import PlanStreamServer

__all__ = [
    "ConsumerProcess",
    "KillReport",
    "checkpoint_rows",
    "journal_mode",
    "kill_and_restart",
    "publish_steadily",
]

PROGRAM = Path(__file__).with_name("checkpoint_consumer.py")


class ConsumerProcess:
    """One incarnation of the consumer program."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.taken = 0  # items it reported taking
        self.output: list[str] = []

    @classmethod
    async def start(
        cls, url: str, record: Path, checkpoint: Path, mode: str, plans: list[str]
    ) -> ConsumerProcess:
        env = {**os.environ, "PLANSTREAM_CHECKPOINT": str(checkpoint)}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(PROGRAM),
            url,
            str(record),
            mode,
            *plans,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(process)

    async def read_line(self) -> str | None:
        """Its next stdout line (None at its end); ``taken`` lines are counted."""
        assert self.process.stdout is not None
        raw = await self.process.stdout.readline()
        if not raw:
            return None
        line = raw.decode().rstrip("\n")
        self.output.append(line)
        if line.startswith("taken "):
            self.taken += 1
        return line

    async def wait_for(self, text: str) -> None:
        """Read until a line holding ``text``; fail if the process ends first."""
        while (line := await self.read_line()) is not None:
            if text in line:
                return
        raise AssertionError(f"the consumer ended before {text!r}: {self.output[-20:]}")

    async def wait_taken(self, count: int) -> bool:
        """Read until it took ``count`` items; False if it ended first."""
        while self.taken < count:
            if await self.read_line() is None:
                return False
        return True

    async def kill(self) -> None:
        """SIGKILL: no cleanup at all, as in a crash."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def finish(self) -> int:
        """Read its output to the end; its exit status."""
        while await self.read_line() is not None:
            pass
        return await self.process.wait()


async def publish_steadily(
    server: PlanStreamServer,
    plans: list[str],
    events: int,
    interval: float,
    published: list[dict[str, Any]],
) -> None:
    """``events`` log events per plan, round robin, ``interval`` s apart, then
    ``succeeded``; every acknowledged one is appended to ``published``."""

    async def publish(plan_id: str, kind: str, data: dict[str, Any]) -> None:
        stored = await server.publish(plan_id, kind, data)
        published.append({"p": plan_id, "s": stored.seq, "i": stored.event.event_id})

    for number in range(events):
        for plan_id in plans:
            data = {"level": "info", "message": f"line {number}", "stream": "stdout"}
            await publish(plan_id, "log", data)
        await asyncio.sleep(interval)
    for plan_id in plans:
        await publish(plan_id, "plan.status", {"status": "succeeded"})


@dataclass
class KillReport:
    """What a kill-and-restart run did."""

    kills: int = 0
    incarnations: int = 0
    exit_status: int | None = None
    kill_points: list[int] = field(default_factory=list)


async def kill_and_restart(
    url: str, record: Path, checkpoint: Path, plans: list[str], kills: int, seed: int
) -> KillReport:
    """Start the consumer; ``kills`` times, SIGKILL it after a seeded random
    number of items and start it again; the last incarnation reads to the end."""
    rng = random.Random(seed)
    report = KillReport()
    while True:
        consumer = await ConsumerProcess.start(url, record, checkpoint, "work", plans)
        report.incarnations += 1
        if report.kills == kills:
            report.exit_status = await consumer.finish()
            if report.exit_status != 0:
                raise AssertionError(f"the last consumer failed: {consumer.output[-20:]}")
            return report
        point = rng.randint(10, 80)
        if not await consumer.wait_taken(point):
            raise AssertionError(f"the consumer ended before its kill: {consumer.output[-20:]}")
        await consumer.kill()
        report.kills += 1
        report.kill_points.append(point)


def checkpoint_rows(path: Path) -> dict[str, tuple[str | None, int]]:
    """Each plan's row: (event_id, seq)."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT plan_id, event_id, seq FROM planstream_checkpoint")
        return {plan_id: (event_id, seq) for plan_id, event_id, seq in rows}


def journal_mode(path: Path) -> str:
    """The file's journal mode, as another program sees it."""
    connection = sqlite3.connect(path)
    try:
        mode: str = connection.execute("PRAGMA journal_mode").fetchone()[0]
        return mode
    finally:
        connection.close()
