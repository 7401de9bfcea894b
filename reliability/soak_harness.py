"""Robot library of the chaos soak (``reliability/soak.robot``).

Each ``Run ...`` keyword runs one phase of :mod:`soak_phases` to its end in
its own event loop (every wait bounded) and keeps its checked figures; the
``... Should ...`` keywords judge them; :meth:`SoakHarness.write_soak_report`
writes ``build/reliability/soak.json`` and ``soak.md`` and logs the tables.

Settings come from the suite (``Library    soak_harness.py    seed=...``) and
may be overridden with environment variables for a longer or shorter run:
``SOAK_SEED``, ``SOAK_EVENTS`` (per plan, Redis phase), ``SOAK_RATE``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from robot.api import SkipExecution, logger
from robot.api.deco import keyword, library
from soak_faults import DisconnectMix
from soak_phases import PhaseConfig, run_memory_phase, run_redis_phase
from soak_report import markdown, problems, summarize
from support.redis_servers import redis_available

__all__ = ["SoakHarness"]

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "build" / "reliability"
COMMAND = "nox -s reliability"


@library(scope="SUITE", auto_keywords=False)
class SoakHarness:
    """Runs the soak's phases and judges them."""

    def __init__(self, seed: int = 15, events_per_plan: int = 20_000, rate: float = 2000.0) -> None:
        self.seed = int(os.environ.get("SOAK_SEED", seed))
        self.events_per_plan = int(os.environ.get("SOAK_EVENTS", events_per_plan))
        self.rate = float(os.environ.get("SOAK_RATE", rate))
        self.summaries: dict[str, dict[str, Any]] = {}
        self.started = time.monotonic()

    @keyword
    def run_the_redis_log_phase(
        self,
        restarts: int = 3,
        consumer_kills: int = 0,
        checkpoint: bool = False,
        deadline: float = 240.0,
    ) -> None:
        """Publish 5 plans' events at a steady rate to a Redis-backed server
        through random disconnects and ``restarts`` restarts, to the end; the
        first consumer is SIGKILLed and started again ``consumer_kills`` times
        (with ``checkpoint``, it resumes from ``ClientSettings.checkpoint``
        rather than from its own record)."""
        if not redis_available():  # like the @redis features: counted as skipped, not dropped
            raise SkipExecution("redis-server is not installed: the Redis phase cannot run")
        fractions = tuple((n + 1) / (int(restarts) + 1) for n in range(int(restarts)))
        kills = tuple((n + 0.6) / (int(consumer_kills) + 1) for n in range(int(consumer_kills)))
        config = PhaseConfig(
            "redis",
            self.seed,
            self.events_per_plan,
            rate=self.rate,
            restart_at=fractions,
            disconnects=DisconnectMix(),
            kill_consumer_at=kills,
            checkpoint=_truthy(checkpoint),
        )
        # A longer run (SOAK_EVENTS) gets the time its publishing needs, and more.
        deadline = max(float(deadline), 2 * config.publish_seconds + config.catch_up + 30)
        outcome = _run(run_redis_phase(config, OUTPUT / "work"), deadline)
        self._keep(summarize(outcome))

    @keyword
    def run_the_memory_log_phase(
        self, events_per_plan: int = 1000, deadline: float = 120.0
    ) -> None:
        """Publish a third of 5 plans; once every consumer is mid-stream, stall
        them and publish a third they never see; restart the memory-log server;
        publish the rest."""
        # A long heartbeat: the stalled consumers must not notice before the restart.
        config = PhaseConfig(
            "memory", self.seed, int(events_per_plan), rate=self.rate, heartbeat_s=10.0
        )
        outcome = _run(run_memory_phase(config, OUTPUT / "work"), float(deadline))
        self._keep(summarize(outcome))

    @keyword
    def phase_should_have_kept_every_rule(
        self,
        phase: str,
        min_disconnects: int = 0,
        restarts: int = 0,
        resync_expected: bool = False,
    ) -> None:
        """Fail on any loss, duplicate, reorder, unknown event, failed process,
        unexpected or missing Resync, too few disconnects, or missed restart."""
        found = problems(
            self._summary(phase),
            min_disconnects=int(min_disconnects),
            restarts=int(restarts),
            resync_expected=_truthy(resync_expected),
        )
        if found:
            raise AssertionError(f"the {phase} phase broke the soak's rules:\n" + "\n".join(found))

    @keyword
    def every_consumer_should_have_delivered_every_event(self, phase: str) -> None:
        """Each consumer delivered each acknowledged event (none explained away)."""
        summary = self._summary(phase)
        for name, consumer in summary["consumers"].items():
            if consumer["delivered"] != summary["events_published"]:
                raise AssertionError(
                    f"{name} delivered {consumer['delivered']} of "
                    f"{summary['events_published']} events"
                )

    @keyword
    def a_slow_consumer_should_have_been_rewound(self, phase: str) -> None:
        """The slow consumer's inbox overflowed and it was re-subscribed, at least once."""
        rewinds = {
            name: consumer["slow_consumer_rewinds"]
            for name, consumer in self._summary(phase)["consumers"].items()
        }
        if not any(rewinds.values()):
            raise AssertionError(f"no consumer was rewound as a slow consumer: {rewinds}")

    @keyword
    def write_soak_report(self) -> str:
        """Write soak.json and soak.md (whatever phases ran); return the markdown."""
        if not self.summaries:
            raise AssertionError("no phase ran: there is nothing to report")
        report: dict[str, Any] = {
            "seed": self.seed,
            "command": COMMAND,
            "wall_seconds": round(time.monotonic() - self.started, 1),
            **self.summaries,
        }
        OUTPUT.mkdir(parents=True, exist_ok=True)
        (OUTPUT / "soak.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        text = markdown(report)
        (OUTPUT / "soak.md").write_text(text, encoding="utf-8")
        logger.info(text)
        logger.console("\n" + text)
        return text

    def _keep(self, summary: dict[str, Any]) -> None:
        self.summaries[summary["log"]] = summary
        logger.info(json.dumps({k: v for k, v in summary.items() if k != "consumers"}, indent=2))

    def _summary(self, phase: str) -> dict[str, Any]:
        if phase not in self.summaries:
            raise AssertionError(f"the {phase} phase did not run")
        return self.summaries[phase]


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1"}
    return bool(value)


def _run(phase: Any, deadline: float) -> Any:
    """Run a phase coroutine to its end, within ``deadline`` seconds."""

    async def bounded() -> Any:
        async with asyncio.timeout(deadline):
            return await phase

    return asyncio.run(bounded())
