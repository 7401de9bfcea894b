"""The soak's two phases, each a real run of every process it needs.

* :func:`run_redis_phase` — Redis log: a real ``redis-server``, the reference
  server behind the :class:`~support.fault_proxy.FaultProxy`, the consumers,
  the publisher at a steady rate; random disconnects all along and restarts of
  the server on a schedule. The stream must resume exactly: no ``Resync``.
* :func:`run_memory_phase` — memory log: the publisher's first part; once
  every consumer is mid-stream in every plan, their connections are stalled
  and a part is published that none of them sees; then the server restarts
  (that history is gone: each consumer must be told with a ``Resync`` in every
  plan, which explains the events it never got), then the last part.

Each returns a :class:`PhaseOutcome`: where the records are and what was done
to the stream (disconnects by kind, restarts, each server incarnation's peak
memory). Every wait has a bound; past it every child process is killed.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soak_faults import DisconnectMix, RestartLog, inject_disconnects, restart_on_schedule
from soak_processes import Incarnation, SoakServer, finish, start_program
from support.fault_proxy import FaultProxy
from support.redis_servers import RedisProcess

__all__ = ["PhaseConfig", "PhaseOutcome", "run_memory_phase", "run_redis_phase"]


@dataclass(frozen=True)
class PhaseConfig:
    """What one phase runs."""

    name: str  # "redis" or "memory": the log, and the plans' prefix
    seed: int
    events_per_plan: int
    plans: int = 5
    rate: float = 2000.0  # events per second over all plans
    batch: int = 100
    paces: tuple[str, ...] = ("fast", "sleepy", "slow")
    restart_at: tuple[float, ...] = ()  # fractions of the publishing time
    disconnects: DisconnectMix | None = None
    catch_up: float = 90.0  # seconds the consumers get after the last publish
    #: SIGKILL the first consumer at these fractions of the publishing time and
    #: start it again: it resumes from its own record (or its --checkpoint).
    kill_consumer_at: tuple[float, ...] = ()
    checkpoint: bool = False  # the killed consumer runs with --checkpoint FILE
    heartbeat_s: float = 1.0  # the server's: a stalled link is dead after 2.5 x this

    @property
    def plan_ids(self) -> list[str]:
        return [f"soak-{self.name}-{n}" for n in range(self.plans)]

    @property
    def publish_seconds(self) -> float:
        """How long publishing takes at ``rate``."""
        return self.plans * self.events_per_plan / self.rate


@dataclass
class PhaseOutcome:
    """Where a phase's records are and what was done to its streams."""

    config: PhaseConfig
    directory: Path
    consumers: list[str] = field(default_factory=list)  # names: their record is NAME.jsonl
    exit_codes: dict[str, int] = field(default_factory=dict)  # consumers' and publishers'
    publishers: list[dict[str, Any]] = field(default_factory=list)
    disconnects: Counter[str] = field(default_factory=Counter)
    restarts: RestartLog = field(default_factory=RestartLog)
    servers: list[Incarnation] = field(default_factory=list)
    seconds: float = 0.0
    consumer_kills: int = 0  # SIGKILLs of a consumer process (each restarted)
    stalled_before_restart: int = 0  # memory phase: connections silenced before the restart
    unseen_per_plan: int = 0  # memory phase: events per plan published while they were

    @property
    def published(self) -> Path:
        return self.directory / "published.jsonl"

    def record(self, consumer: str) -> Path:
        return self.directory / f"{consumer}.jsonl"

    def stats(self, consumer: str) -> dict[str, Any]:
        """The consumer's own figures (empty if it never wrote them)."""
        path = self.directory / f"{consumer}.json"
        return json.loads(path.read_text()) if path.exists() else {}


def _server_settings(config: PhaseConfig, log: str | None) -> dict[str, str]:
    settings = {
        "PLANSTREAM_SERVER_HEARTBEAT_S": str(config.heartbeat_s),
        # every event stays replayable: a rewound consumer never meets history_expired
        "PLANSTREAM_SERVER_RETENTION": str(config.events_per_plan),
        "PLANSTREAM_SERVER_PUBLISH_RATE": "1000",
        "PLANSTREAM_SERVER_CLOSE_TIMEOUT": "2",
    }
    if log is not None:
        settings["PLANSTREAM_SERVER_REDIS_URL"] = log
    return settings


class _Phase:
    """The processes of one phase, started and stopped together."""

    def __init__(self, config: PhaseConfig, root: Path, redis_url: str | None) -> None:
        directory = root / config.name
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        self.config = config
        self.outcome = PhaseOutcome(config, directory)
        self.server = SoakServer(_server_settings(config, redis_url), directory)
        self.proxy: FaultProxy | None = None
        self.consumers: dict[str, asyncio.subprocess.Process] = {}
        self.arguments: dict[str, list[str]] = {}

    async def start(self) -> FaultProxy:
        await self.server.start()
        self.proxy = FaultProxy(self.server.url)
        await self.proxy.start()
        for number, pace in enumerate(self.config.paces):
            name = f"consumer-{number}-{pace}"
            arguments = ["--url", self.proxy.url, "--plans", ",".join(self.config.plan_ids)]
            arguments += ["--record", str(self.outcome.record(name))]
            arguments += ["--stats", str(self.outcome.directory / f"{name}.json")]
            arguments += ["--pace", pace, "--seed", str(self.config.seed + number)]
            if number == 0 and self.config.checkpoint:
                arguments += ["--checkpoint", str(self.outcome.directory / f"{name}.sqlite")]
            self.arguments[name] = arguments
            log = self.outcome.directory / f"{name}.log"
            self.consumers[name] = await start_program("soak_consumer.py", arguments, log)
            self.outcome.consumers.append(name)
        return self.proxy

    async def kill_consumer_on_schedule(self, offsets: list[float]) -> None:
        """SIGKILL the first consumer at each offset (seconds from now), start it again."""
        name = self.outcome.consumers[0]
        loop = asyncio.get_running_loop()
        begin = loop.time()
        for offset in offsets:
            await asyncio.sleep(max(0.0, begin + offset - loop.time()))  # the schedule
            process = self.consumers[name]
            if process.returncode is not None:
                return  # it finished already: nothing in flight to kill
            process.kill()
            await process.wait()
            self.outcome.consumer_kills += 1
            log = self.outcome.directory / f"{name}-{self.outcome.consumer_kills}.log"
            self.consumers[name] = await start_program(
                "soak_consumer.py", self.arguments[name], log
            )

    async def publish(self, part: str, first: int, to: int) -> None:
        """Run the publisher over event numbers [first, to) of every plan, to its end."""
        config, directory = self.config, self.outcome.directory
        summary = directory / f"publisher-{part}.json"
        arguments = ["--url", self.server.http_url, "--plans", ",".join(config.plan_ids)]
        arguments += ["--events-per-plan", str(config.events_per_plan)]
        arguments += ["--from", str(first), "--to", str(to), "--rate", str(config.rate)]
        arguments += ["--batch", str(config.batch), "--run-id", f"{config.name}-{config.seed}"]
        arguments += ["--record", str(self.outcome.published), "--summary", str(summary)]
        process = await start_program("soak_publisher.py", arguments, directory / f"{part}.log")
        within = 2 * (to - first) * config.plans / config.rate + 60
        self.outcome.exit_codes[f"publisher-{part}"] = await finish(process, within)
        if summary.exists():
            self.outcome.publishers.append(json.loads(summary.read_text()))

    async def consumers_done(self) -> None:
        """Wait for every consumer to read every plan to its end (bounded)."""
        for name, process in self.consumers.items():
            self.outcome.exit_codes[name] = await finish(process, self.config.catch_up)

    async def stop(self) -> None:
        for process in self.consumers.values():
            if process.returncode is None:
                process.kill()
                await process.wait()
        if self.proxy is not None:
            self.outcome.disconnects.update(self.proxy.stats.injected)
            await self.proxy.aclose()
        await self.server.stop()
        self.server.kill()
        self.outcome.servers = self.server.incarnations


async def run_redis_phase(config: PhaseConfig, root: Path) -> PhaseOutcome:
    """Publish everything through random disconnects and scheduled restarts."""
    started = time.monotonic()
    redis = RedisProcess()
    redis.start()
    phase = _Phase(config, root, redis.url)
    try:
        proxy = await phase.start()
        stop = asyncio.Event()
        rng = random.Random(config.seed)  # noqa: S311 (seeded faults, not secrets)
        offsets = [fraction * config.publish_seconds for fraction in config.restart_at]
        async with asyncio.TaskGroup() as tasks:
            if config.disconnects is not None:
                over = 0.9 * config.publish_seconds
                tasks.create_task(inject_disconnects(proxy, rng, stop, config.disconnects, over))
            restarts = tasks.create_task(
                restart_on_schedule(phase.server, proxy, offsets, phase.outcome.restarts)
            )
            kills = [fraction * config.publish_seconds for fraction in config.kill_consumer_at]
            tasks.create_task(phase.kill_consumer_on_schedule(kills))
            try:
                await phase.publish("all", 0, config.events_per_plan)
                await restarts  # a late restart still happens before the faults stop
            finally:
                stop.set()
        await phase.consumers_done()
    finally:
        await phase.stop()
        await asyncio.to_thread(redis.cleanup)
    _count_restart_disconnects(phase.outcome)
    phase.outcome.seconds = round(time.monotonic() - started, 1)
    return phase.outcome


async def run_memory_phase(config: PhaseConfig, root: Path) -> PhaseOutcome:
    """Publish a third; once every consumer is mid-stream, stall them and publish
    a part they never see; restart; publish the rest."""
    started = time.monotonic()
    phase = _Phase(config, root, None)
    third = config.events_per_plan // 3
    try:
        proxy = await phase.start()
        await phase.publish("first", 0, third)
        await _every_consumer_mid_stream(phase.outcome, within=60.0)
        phase.outcome.stalled_before_restart = proxy.stall_open_links()
        await phase.publish("unseen", third, 2 * third)
        phase.outcome.unseen_per_plan = third
        log = phase.outcome.restarts
        log.connections_closed += proxy.open_links
        down = time.monotonic()
        await phase.server.restart()
        log.seconds.append(round(time.monotonic() - down, 2))
        log.restarts += 1
        await phase.publish("last", 2 * third, config.events_per_plan)
        await phase.consumers_done()
    finally:
        await phase.stop()
    _count_restart_disconnects(phase.outcome)
    phase.outcome.seconds = round(time.monotonic() - started, 1)
    return phase.outcome


def _count_restart_disconnects(outcome: PhaseOutcome) -> None:
    if outcome.restarts.connections_closed:
        outcome.disconnects["server restart (1001)"] += outcome.restarts.connections_closed


async def _every_consumer_mid_stream(outcome: PhaseOutcome, within: float) -> None:
    """Until each consumer's record holds an event of every plan (read every 0.1 s)."""
    plans = set(outcome.config.plan_ids)
    waiting = set(outcome.consumers)
    async with asyncio.timeout(within):
        while waiting:
            for name in list(waiting):
                if _plans_seen(outcome.record(name)) >= plans:
                    waiting.discard(name)
            if waiting:
                await asyncio.sleep(0.1)  # another process writes the file: no event to await


def _plans_seen(record: Path) -> set[str]:
    if not record.exists():
        return set()
    seen = set()
    for line in record.read_text(encoding="utf-8").splitlines():
        if line.startswith('{"k":"e"'):
            seen.add(json.loads(line)["p"])
    return seen
