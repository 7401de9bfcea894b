"""Helpers of server_hostile_ws.feature: log capture, a log that fails, raw TCP peers.

:class:`LogCapture` records what the server's loggers (``planstream.server``,
``uvicorn``, ``asyncio``) write, fully formatted (tracebacks included), so a
step can count lines and bytes the way an operator's log file would grow.
:class:`FailingLog` is a real :class:`MemoryEventLog` whose ``locate`` fails
for one plan: a server fault the last-resort handler must answer.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from planstream.server import MemoryEventLog
from planstream.server.event_log import ResumeAfter, ResyncNeeded

#: Loggers an operator of ``planstream serve`` would see.
SERVER_LOGGERS = ("planstream.server", "uvicorn", "asyncio")  # uvicorn.error propagates to uvicorn


class LogCapture:
    """Every record of the server's loggers (``planstream.server`` from INFO), formatted."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self._levels: dict[str, int] = {}

    def start(self) -> None:
        for name in SERVER_LOGGERS:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            if name == "planstream.server":
                # Its info lines count too; uvicorn keeps the level it was served with.
                logger.setLevel(logging.INFO)
            logger.addHandler(self.handler)

    def stop(self) -> None:
        for name, level in self._levels.items():
            logger = logging.getLogger(name)
            logger.removeHandler(self.handler)
            logger.setLevel(level)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self, containing: str = "") -> list[str]:
        return [line for line in self.text.splitlines() if containing in line]


def capture_server_log(context: Any) -> LogCapture:
    """Start capturing; stopped after the scenario."""
    capture = LogCapture()
    capture.start()

    async def stop() -> None:
        capture.stop()

    if not hasattr(context, "async_cleanups"):
        context.async_cleanups = []
    context.async_cleanups.append(stop)
    context.log_capture = capture
    return capture


class FailingLog(MemoryEventLog):
    """A memory log whose ``locate`` raises for ``plan_id`` (a bug, a lost backend)."""

    def __init__(self, plan_id: str) -> None:
        super().__init__()
        self.failing_plan = plan_id

    async def locate(self, plan_id: str, last_event_id: str | None) -> ResumeAfter | ResyncNeeded:
        if plan_id == self.failing_plan:
            raise ValueError(f"invalid literal for int() with base 10: {last_event_id!r}")
        return await super().locate(plan_id, last_event_id)
