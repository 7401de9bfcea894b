"""Embed the reference server in an asyncio job runner and publish as jobs run.

An orchestrator already has an event loop; the server runs in it, and the
runner calls ``await server.publish(plan_id, LogData(...))`` as each step
starts, logs and ends (the data model names the event's kind, and mypy checks
its fields). Watchers connect as they would to ``planstream serve``::

    python examples/publish_from_orchestrator.py --port 8766 --token reader --linger 60
    planstream watch nightly-build --url ws://127.0.0.1:8766/v1/stream --token reader

This program *is* a server: it cannot share a port with ``planstream serve``
(on a busy port it says so in one line and exits 2). ``--token`` and
``--publish-token`` are the tokens watchers (and HTTP publishers) present;
with neither, the server is open and warns. ``--linger`` keeps serving that
many seconds after the plan ends so late watchers still get the whole history.

SIGTERM or Ctrl-C stops it cleanly at any time once it runs. While the plan
runs, the running job is cancelled, the plan's end is published as
``cancelled`` ("stopped by SIGTERM"), as an orchestrator records it, and
the line ``plan 'nightly-build' cancelled (stopped by SIGTERM)`` is printed;
then the server shuts down (its watchers are closed with 1001). The exit
status is the plan's outcome: 0 if it succeeded (a stop while lingering
changes nothing), 1 if it failed or was cancelled.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from planstream import (
    LogData,
    LogLevel,
    LogStream,
    PlanProgressData,
    PlanStatus,
    PlanStatusData,
    StepStatus,
    StepStatusData,
)
from planstream.server import PlanStreamServer, ServerSettings, ServerStartError

#: A job: given a function to log with, does its work; raising fails its step.
Job = Callable[[Callable[[str], Awaitable[None]]], Awaitable[None]]


@dataclass
class Step:
    step_id: str
    name: str
    job: Job


class JobRunner:
    """Runs a plan's steps in order and publishes every change to ``server``."""

    def __init__(self, server: PlanStreamServer, plan_id: str, steps: list[Step]) -> None:
        self.server = server
        self.plan_id = plan_id
        self.steps = steps

    async def publish(
        self, data: LogData | StepStatusData | PlanStatusData | PlanProgressData
    ) -> None:
        await self.server.publish(self.plan_id, data)

    async def step_status(self, index: int, status: StepStatus, error: str | None = None) -> None:
        step = self.steps[index]
        await self.publish(
            StepStatusData(
                step_id=step.step_id, index=index + 1, name=step.name, status=status, error=error
            )
        )

    async def run(self) -> PlanStatus:
        await self.publish(PlanStatusData(status=PlanStatus.RUNNING))
        for index, step in enumerate(self.steps):
            await self.step_status(index, StepStatus.RUNNING)

            async def log(message: str, step_id: str = step.step_id) -> None:
                await self.publish(
                    LogData(
                        level=LogLevel.INFO,
                        message=message,
                        step_id=step_id,
                        stream=LogStream.STDOUT,
                    )
                )

            try:
                await step.job(log)
            except Exception as exc:  # the job failed: so do its step and the plan
                await self.step_status(index, StepStatus.FAILED, str(exc))
                await self.publish(PlanStatusData(status=PlanStatus.FAILED, reason=step.name))
                return PlanStatus.FAILED
            await self.step_status(index, StepStatus.SUCCEEDED)
            done = index + 1
            await self.publish(
                PlanProgressData(
                    completed_steps=done,
                    total_steps=len(self.steps),
                    percent=100 * done / len(self.steps),
                    message=f"{step.name} done",
                )
            )
        await self.publish(PlanStatusData(status=PlanStatus.SUCCEEDED))
        return PlanStatus.SUCCEEDED


def make_job(*lines: str, pause: float) -> Job:
    async def job(log: Callable[[str], Awaitable[None]]) -> None:
        for line in lines:
            await asyncio.sleep(pause)  # the real work would happen here
            await log(line)

    return job


async def run_until_stopped(runner: JobRunner, stop: asyncio.Event) -> PlanStatus | None:
    """The plan's outcome, or None when ``stop`` was set first (the run is cancelled)."""
    async with asyncio.TaskGroup() as tasks:
        run = tasks.create_task(runner.run())
        stopped = tasks.create_task(stop.wait())
        await asyncio.wait({run, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        run.cancel()  # nothing if the plan ended
    return None if run.cancelled() else run.result()


async def main(arguments: argparse.Namespace) -> PlanStatus:
    # Signals first: a SIGTERM while the server starts or the plan runs must
    # stop us cleanly too, not kill the process with the plan left running.
    stop = asyncio.Event()
    received: list[signal.Signals] = []

    def on_signal(signum: signal.Signals) -> None:
        received.append(signum)
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    settings = ServerSettings(
        host=arguments.host,
        port=arguments.port,
        tokens=arguments.token,
        publish_tokens=arguments.publish_token,
    )
    plan_id: str = arguments.plan
    async with PlanStreamServer(settings) as server:
        print(f"serving {plan_id!r} on {server.url}", flush=True)
        pause: float = arguments.pause
        steps = [
            Step("fetch", "Fetch sources", make_job("cloning", "checked out", pause=pause)),
            Step("build", "Build", make_job("compiling", "linking", pause=pause)),
            Step("test", "Test", make_job("running 120 tests", "120 passed", pause=pause)),
        ]
        runner = JobRunner(server, plan_id, steps)
        outcome = await run_until_stopped(runner, stop)
        if outcome is None:  # stopped before the plan ended: record how it ended
            why = f"stopped by {received[0].name}"
            await runner.publish(PlanStatusData(status=PlanStatus.CANCELLED, reason=why))
            print(f"plan {plan_id!r} cancelled ({why})", flush=True)
            return PlanStatus.CANCELLED
        linger: float = arguments.linger
        print(f"plan {plan_id!r} {outcome}; serving for {linger:g} s more", flush=True)
        with contextlib.suppress(TimeoutError):  # lingered long enough
            await asyncio.wait_for(stop.wait(), linger)
    return outcome


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--plan", default="nightly-build")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds per job line")
    parser.add_argument("--linger", type=float, default=30.0, help="seconds to serve after")
    parser.add_argument(
        "--token", action="append", default=[], help="a token watchers may read with (repeat)"
    )
    parser.add_argument(
        "--publish-token", action="append", default=[], help="a token that may also publish"
    )
    return parser.parse_args()


if __name__ == "__main__":
    try:
        result = asyncio.run(main(parse_arguments()))
    except ServerStartError as exc:  # e.g. planstream serve already has the port
        print(
            f"publish_from_orchestrator.py: {exc}; pass --port to serve on another", file=sys.stderr
        )
        raise SystemExit(2) from None
    raise SystemExit(0 if result is PlanStatus.SUCCEEDED else 1)
