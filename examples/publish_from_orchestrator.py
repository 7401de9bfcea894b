"""Embed the reference server in an asyncio job runner and publish as jobs run.

An orchestrator already has an event loop; the server runs in it, and the
runner calls ``await server.publish(...)`` as each step starts, logs and
ends. Watchers connect as they would to ``planstream serve``::

    python examples/publish_from_orchestrator.py --port 8765 --linger 60
    planstream watch nightly-build                      # in another terminal

``--linger`` keeps serving that many seconds after the plan ends (Ctrl-C
stops earlier) so late watchers still get the whole history.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from planstream.server import PlanStreamServer, ServerSettings

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

    async def publish(self, kind: str, data: dict[str, Any]) -> None:
        await self.server.publish(self.plan_id, kind, data)

    async def step_status(self, index: int, status: str, error: str | None = None) -> None:
        step = self.steps[index]
        await self.publish(
            "step.status",
            {
                "step_id": step.step_id,
                "index": index + 1,
                "name": step.name,
                "status": status,
                "error": error,
            },
        )

    async def run(self) -> str:
        await self.publish("plan.status", {"status": "running", "reason": None})
        for index, step in enumerate(self.steps):
            await self.step_status(index, "running")

            async def log(message: str, step_id: str = step.step_id) -> None:
                await self.publish(
                    "log",
                    {"level": "info", "message": message, "step_id": step_id, "stream": "stdout"},
                )

            try:
                await step.job(log)
            except Exception as exc:  # the job failed: so do its step and the plan
                await self.step_status(index, "failed", str(exc))
                await self.publish("plan.status", {"status": "failed", "reason": step.name})
                return "failed"
            await self.step_status(index, "succeeded")
            done = index + 1
            await self.publish(
                "plan.progress",
                {
                    "completed_steps": done,
                    "total_steps": len(self.steps),
                    "percent": 100 * done / len(self.steps),
                    "message": f"{step.name} done",
                },
            )
        await self.publish("plan.status", {"status": "succeeded", "reason": None})
        return "succeeded"


def make_job(*lines: str, pause: float) -> Job:
    async def job(log: Callable[[str], Awaitable[None]]) -> None:
        for line in lines:
            await asyncio.sleep(pause)  # the real work would happen here
            await log(line)

    return job


async def main(port: int, plan_id: str, pause: float, linger: float, token: str | None) -> str:
    settings = ServerSettings(port=port, tokens=[token] if token else [])
    async with PlanStreamServer(settings) as server:
        print(f"serving {plan_id!r} on {server.url}", flush=True)
        steps = [
            Step("fetch", "Fetch sources", make_job("cloning", "checked out", pause=pause)),
            Step("build", "Build", make_job("compiling", "linking", pause=pause)),
            Step("test", "Test", make_job("running 120 tests", "120 passed", pause=pause)),
        ]
        runner = JobRunner(server, plan_id, steps)
        outcome = await runner.run()
        print(f"plan {plan_id!r} {outcome}; serving for {linger:g} s more", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        with contextlib.suppress(TimeoutError):  # lingered long enough
            await asyncio.wait_for(stop.wait(), linger)
    return outcome


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--plan", default="nightly-build")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds per job line")
    parser.add_argument("--linger", type=float, default=30.0)
    parser.add_argument("--token", help="a token watchers must present (default: none)")
    args = parser.parse_args()
    result = asyncio.run(main(args.port, args.plan, args.pause, args.linger, args.token))
    raise SystemExit(0 if result == "succeeded" else 1)
