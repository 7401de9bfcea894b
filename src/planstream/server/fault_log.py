"""Server faults logged at a bounded rate, one line each (issue 10: no log floods).

A request that fails for a reason of the server's own is answered (HTTP
``503 unavailable``) and logged as one line, never a traceback. When faults
come faster than ``burst`` per second, the lines are suppressed and counted,
and the next line logged says how many were.
Pure apart from the logger: the caller passes the time.
"""

from __future__ import annotations

import logging

from planstream.log_limiter import LogLimiter

__all__ = ["FaultLog"]


class FaultLog:
    """Log one line per fault, at most ``burst`` per second.

    Args:
        logger: where the lines go (at ERROR).
        burst: lines allowed per second.
    """

    def __init__(self, logger: logging.Logger, *, burst: int = 10) -> None:
        self._logger = logger
        self._lines = LogLimiter(1.0, burst)
        self.total = 0

    @property
    def suppressed(self) -> int:
        """Lines not logged since the last one that was."""
        return self._lines.suppressed

    def __repr__(self) -> str:
        return f"FaultLog(total={self.total}, suppressed={self.suppressed})"

    def report(self, what: str, exc: BaseException, now: float) -> bool:
        """Log ``what`` failed with ``exc`` (type and place, no message); True if logged.

        The exception's message is left out: it may quote request data (a
        token, a huge id) and its traceback would be kilobytes per request.
        """
        self.total += 1
        suppressed = self._lines.allow(now)
        if suppressed is None:
            return False
        place = _innermost_frame(exc)
        note = f" ({suppressed} similar lines suppressed)" if suppressed else ""
        self._logger.error("%s failed: %s at %s%s", what, type(exc).__name__, place, note)
        return True


def _innermost_frame(exc: BaseException) -> str:
    place = "an unknown place"
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        place = f"{code.co_filename.rpartition('/')[2]}:{tb.tb_lineno} ({code.co_name})"
        tb = tb.tb_next
    return place
