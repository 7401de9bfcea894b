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

from planstream.log_limiter import LogLimiter

__all__ = ["WarningThrottle"]

#: Lines of one kind let through per interval.
DEFAULT_BURST: Final = 5
#: Length of the interval, s.
DEFAULT_INTERVAL: Final = 10.0


class WarningThrottle:
    """At most ``burst`` WARNING lines per ``interval`` s; the rest are counted."""

    __slots__ = ("_lines", "_logger")

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = DEFAULT_BURST,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self._logger = logger
        self._lines = LogLimiter(interval, burst)

    @property
    def suppressed(self) -> int:
        """Lines counted but not written since the last line written."""
        return self._lines.suppressed

    def warning(self, now: float, message: str, *args: object) -> bool:
        """Log ``message % args`` unless the burst of this interval is used up.

        Returns whether the line was written.
        """
        silenced = self._lines.allow(now)
        if silenced is None:
            return False
        if silenced:
            message += " (%d similar warnings suppressed before this one)"
            args = (*args, silenced)
        self._logger.warning(message, *args)
        return True

    def tick(self, now: float, what: str) -> None:
        """Report the lines suppressed once their interval is over (a flood that
        stopped is still counted, without waiting for the next warning)."""
        self._report(self._lines.overdue(now), what)

    def next_report(self) -> float | None:
        """When :meth:`tick` will have suppressed lines to report, or None."""
        return self._lines.report_due()

    def flush(self, what: str) -> None:
        """Report the lines still suppressed (e.g. when the connection ends)."""
        silenced, self._lines.suppressed = self._lines.suppressed, 0
        self._report(silenced, what)

    def _report(self, silenced: int, what: str) -> None:
        if silenced:
            self._logger.warning("%d more warnings like %r were suppressed", silenced, what)
