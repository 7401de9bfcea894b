"""Robot Framework keywords of the reconnect storm (``storm.robot``).

One library instance per suite holds a ``redis-server`` (the event log every
storm's server shares, each storm on its own plans), the figures of every
storm run so far (:mod:`storm_analysis`), and writes the report
(:mod:`storm_report`) into ``build/reliability``. Each storm runs in its own
``asyncio.run`` (:mod:`storm_run`) and leaves its logs and records in
``build/reliability/storm/<jitter>/``.

The parameters are :class:`~storm_run.StormParameters`' defaults; a quicker
local try may use fewer clients (``--variable STORM_CLIENTS:100``).
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import replace
from pathlib import Path

from robot.api import SkipExecution, logger
from storm_analysis import StormFigures, storm_figures
from storm_report import write_report
from storm_run import StormParameters, run_storm
from support.redis_servers import RedisProcess

from planstream.backoff import JitterMode

__all__ = ["StormLibrary"]

REPORT_DIR = Path(__file__).resolve().parents[1] / "build" / "reliability"
#: The table's rows, the herd first.
_REPORT_ORDER = (JitterMode.NONE, JitterMode.EQUAL, JitterMode.FULL, JitterMode.DECORRELATED)


class StormLibrary:
    """Keywords: start Redis, run a storm per jitter mode, judge, report."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self, clients: int = 500, processes: int = 4) -> None:
        self.parameters = replace(StormParameters(), clients=int(clients), processes=int(processes))
        self.redis: RedisProcess | None = None
        self.figures: dict[JitterMode, StormFigures] = {}

    # --- setup and teardown ------------------------------------------------------

    def start_redis_for_the_storms(self) -> None:
        """Start the ``redis-server`` the storms' servers log to; clear old storm files."""
        shutil.rmtree(REPORT_DIR / "storm", ignore_errors=True)
        if shutil.which("redis-server") is None:  # every storm is counted as skipped
            raise SkipExecution("redis-server is not installed: the storms cannot run")
        self.redis = RedisProcess()
        self.redis.start()

    def stop_redis_for_the_storms(self) -> None:
        """Stop Redis and remove its directory (safe if it never started)."""
        redis, self.redis = self.redis, None
        if redis is not None:
            redis.cleanup()

    def write_the_storm_report(self) -> None:
        """Write ``storm.json`` and ``storm.md`` with every storm run so far."""
        modes = [self.figures[mode] for mode in _REPORT_ORDER if mode in self.figures]
        json_path, markdown_path = write_report(REPORT_DIR, self.parameters, modes)
        logger.info(markdown_path.read_text(encoding="utf-8"))
        logger.info(f"storm report: {json_path} and {markdown_path}")

    # --- the storms ----------------------------------------------------------------

    def run_a_storm_with_jitter(self, jitter: str) -> None:
        """Run one storm (``storm_run``) with ``jitter`` and keep its figures."""
        if self.redis is None:
            raise AssertionError("Start Redis For The Storms first")
        mode = JitterMode(jitter)
        workdir = REPORT_DIR / "storm" / mode.value
        workdir.mkdir(parents=True, exist_ok=True)
        records = asyncio.run(run_storm(mode, self.parameters, self.redis.url, workdir))
        figures = storm_figures(records)
        self.figures[mode] = figures
        logger.info(
            f"{mode.value}: peak {figures.peak_attempts} attempts on the restarted server "
            f"and {figures.peak_handshakes} completed handshakes per 100 ms; all resumed "
            f"{figures.all_resumed_after:.2f} s after the server was back "
            f"(outage {figures.outage:.2f} s); {figures.attempts} attempts; "
            f"wall time {figures.wall_time:.1f} s"
        )

    # --- the verdicts --------------------------------------------------------------

    def every_client_should_have_seen_every_event_exactly_once(self, jitter: str) -> None:
        """Every client resumed, and got each event of its plan once, in order, no resync."""
        figures = self._figures(jitter)
        if not figures.exact:
            raise AssertionError(
                f"{jitter}: {figures.resumed}/{figures.clients} clients resumed; "
                f"{figures.lost} lost, {figures.duplicated} duplicated, "
                f"{figures.resyncs} resyncs, {figures.out_of_order} out of order, "
                f"{figures.unknown} unknown; {figures.problems}"
            )
        logger.info(
            f"{jitter}: {figures.events_delivered} events delivered to {figures.clients} "
            f"clients, {figures.events_published} published, none lost or repeated"
        )

    def peak_attempts_should_be_cut_at_least(
        self, times: str, jitter: str, against: str = "none"
    ) -> None:
        """The peak of attempts on the restarted server with ``jitter`` is ``times``
        lower than with ``against`` (``storm_analysis`` says why this peak)."""
        cut, base = self._figures(jitter), self._figures(against)
        ratio = base.peak_attempts / max(cut.peak_attempts, 1)
        handshakes = base.peak_handshakes / max(cut.peak_handshakes, 1)
        message = (
            f"peak attempts / 100 ms on the restarted server: {against} {base.peak_attempts}, "
            f"{jitter} {cut.peak_attempts}: {ratio:.1f}x (completed handshakes: "
            f"{base.peak_handshakes} and {cut.peak_handshakes}, {handshakes:.1f}x)"
        )
        if ratio < float(times):
            raise AssertionError(f"{message}; not at least {float(times):g}x")
        logger.info(message)

    def every_client_should_be_back_within_the_cap_plus(self, seconds: str, jitter: str) -> None:
        """Every client resumed within the backoff cap + ``seconds`` of the server being back."""
        figures = self._figures(jitter)
        bound = self.parameters.max_delay + float(seconds)
        message = (
            f"{jitter}: all {figures.resumed} clients resumed "
            f"{figures.all_resumed_after:.2f} s after the server was back (bound {bound:g} s)"
        )
        if figures.resumed != figures.clients or figures.all_resumed_after > bound:
            raise AssertionError(message)
        logger.info(message)

    def _figures(self, jitter: str) -> StormFigures:
        figures = self.figures.get(JitterMode(jitter))
        if figures is None:
            raise AssertionError(f"no storm with jitter {jitter!r} has run (or it failed)")
        return figures
