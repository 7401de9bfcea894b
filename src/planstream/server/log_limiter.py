"""At most one log line per interval for a repeated fault, with a count of the rest.

Pure: the caller passes the time. Used where a peer decides how often the
server would log (frames that trip the last-resort handler, refused
connections, failed accepts), so no peer can flood the log (issue: 743
tracebacks, 3.8 MB, from one client in 3 s).
"""

from __future__ import annotations

#: Machinery of the server's log lines, imported by name; not public API.
__all__: list[str] = []


class LogLimiter:
    """Allows one line per ``interval`` seconds and counts the suppressed ones.

    Args:
        interval: least time between two lines, seconds.
    """

    __slots__ = ("_last", "interval", "suppressed")

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: float | None = None
        self.suppressed = 0

    def __repr__(self) -> str:
        return f"LogLimiter(interval={self.interval:g}, suppressed={self.suppressed})"

    def allow(self, now: float) -> int | None:
        """None: stay silent. Otherwise log now, mentioning the returned count of silenced lines."""
        if self._last is not None and now - self._last < self.interval:
            self.suppressed += 1
            return None
        self._last = now
        silenced, self.suppressed = self.suppressed, 0
        return silenced
