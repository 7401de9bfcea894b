"""Rate-limited warnings with counts: a flood of bad frames is a few log lines.

A hostile or broken server can send thousands of frames a second that the
client cannot read; one WARNING each would flood the application's log (and
its disk). :class:`WarningThrottle` lets ``burst`` lines of one kind through
per ``interval`` seconds, counts the rest, and says how many were suppressed
in the next line that passes (or in :meth:`flush`, when the connection ends).
Time is passed in, like the pure modules.
"""

from __future__ import annotations

import logging
from typing import Final

__all__ = ["WarningThrottle"]

#: Lines of one kind let through per interval.
DEFAULT_BURST: Final = 5
#: Length of the interval, s.
DEFAULT_INTERVAL: Final = 10.0


class WarningThrottle:
    """At most ``burst`` WARNING lines per ``interval`` s; the rest are counted."""

    __slots__ = ("_emitted", "_logger", "_suppressed", "_window_start", "burst", "interval")

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = DEFAULT_BURST,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self._logger = logger
        self.burst = burst
        self.interval = interval
        self._window_start: float | None = None
        self._emitted = 0
        self._suppressed = 0

    @property
    def suppressed(self) -> int:
        """Lines counted but not written since the last line written."""
        return self._suppressed

    def warning(self, now: float, message: str, *args: object) -> bool:
        """Log ``message % args`` unless the burst of this interval is used up.

        Returns whether the line was written.
        """
        if self._window_start is None or now - self._window_start >= self.interval:
            self._window_start = now
            self._emitted = 0
        if self._emitted >= self.burst:
            self._suppressed += 1
            return False
        self._emitted += 1
        if self._suppressed:
            message += " (%d similar warnings suppressed before this one)"
            args = (*args, self._suppressed)
            self._suppressed = 0
        self._logger.warning(message, *args)
        return True

    def tick(self, now: float, what: str) -> None:
        """Report the lines suppressed once their interval is over (a flood that
        stopped is still counted, without waiting for the next warning)."""
        start = self._window_start
        if self._suppressed and start is not None and now - start >= self.interval:
            self.flush(what)
            self._window_start = now
            self._emitted = 0

    def flush(self, what: str) -> None:
        """Report the lines still suppressed (e.g. when the connection ends)."""
        if self._suppressed:
            self._logger.warning("%d more warnings like %r were suppressed", self._suppressed, what)
            self._suppressed = 0
