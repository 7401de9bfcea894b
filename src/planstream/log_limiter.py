"""At most ``burst`` log lines per interval for a repeated fault, with a count of the rest.

Pure: the caller passes the time. Used wherever a peer decides how often a
line would be logged (frames the server fails on, refused connections, failed
accepts, server faults over HTTP, bad frames a client receives), so that no
peer can flood the log (issue 10: 743 tracebacks, 3.8 MB, from one client in
3 s; 20,000 warnings from one garbage-sending server in 4 s).
"""

from __future__ import annotations

#: Machinery of the server and the client, imported by name; not public API.
__all__: list[str] = []


class LogLimiter:
    """Allows ``burst`` lines per ``interval`` seconds and counts the suppressed ones.

    Args:
        interval: length of one window, seconds.
        burst: lines allowed in one window.
    """

    __slots__ = ("_emitted", "_window_start", "burst", "interval", "suppressed")

    def __init__(self, interval: float, burst: int = 1) -> None:
        if interval <= 0 or burst < 1:
            raise ValueError("interval must be positive and burst at least 1")
        self.interval = interval
        self.burst = burst
        self._window_start: float | None = None
        self._emitted = 0
        self.suppressed = 0

    def __repr__(self) -> str:
        return (
            f"LogLimiter(interval={self.interval:g}, burst={self.burst}, "
            f"suppressed={self.suppressed})"
        )

    def allow(self, now: float) -> int | None:
        """None: stay silent. Otherwise log now, mentioning the returned count of silenced lines."""
        self._roll(now)
        if self._emitted >= self.burst:
            self.suppressed += 1
            return None
        self._emitted += 1
        silenced, self.suppressed = self.suppressed, 0
        return silenced

    def overdue(self, now: float) -> int:
        """Lines silenced in a window that is over (0 if none, or if it is still open).

        For a flood that stopped: the count can be reported without waiting for
        the next line; it is reset, so it is reported once.
        """
        if self._window_start is None or now - self._window_start < self.interval:
            return 0
        self._roll(now)
        silenced, self.suppressed = self.suppressed, 0
        return silenced

    def report_due(self) -> float | None:
        """When :meth:`overdue` will return a count (the end of the window in
        which lines were silenced), or None if none are."""
        if not self.suppressed or self._window_start is None:
            return None
        return self._window_start + self.interval

    def _roll(self, now: float) -> None:
        if self._window_start is None or now - self._window_start >= self.interval:
            self._window_start = now
            self._emitted = 0
