"""A token bucket: the reference server's rate limit (protocol §3, §6).

Pure: the caller passes the time (a monotonic clock reading, in seconds), so
the bucket is tested without sleeping and shared by the WebSocket receive loop
(frames per connection) and the HTTP publish route (requests per token).
"""

from __future__ import annotations

__all__ = ["TokenBucket"]


class TokenBucket:
    """``rate`` tokens per second refill a bucket holding at most ``burst``.

    Args:
        rate: tokens added per second (> 0).
        burst: the bucket's size, and how many it starts with (>= 1).
        now: the clock reading at creation.
    """

    __slots__ = ("_stamp", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._stamp = now

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, burst={self.burst:g}, tokens={self._tokens:.2f})"

    def take(self, now: float) -> float:
        """Spend one token; 0.0 when there was one, else seconds until there is one."""
        if now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate

    def is_full(self, now: float) -> bool:
        """Whether the bucket is full again at ``now`` (a forgettable per-key bucket)."""
        return self._tokens + (now - self._stamp) * self.rate >= self.burst
