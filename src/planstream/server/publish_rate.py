"""The per-token publish rate limit of the HTTP API (protocol §6: ``429``).

One :class:`~planstream.server.token_bucket.TokenBucket` per publisher token,
keyed by a digest of the token (the token itself is never kept). The table is
bounded: a full bucket is the same as a new one, so full buckets are forgotten
when room is needed, and past ``max_tokens`` the oldest entry goes. Pure: the
caller passes the time.
"""

from __future__ import annotations

import hashlib
from typing import Final

from planstream.server.token_bucket import TokenBucket

__all__ = ["PublishRateLimiter"]

#: Most publisher tokens tracked at once.
DEFAULT_MAX_TOKENS: Final = 10_000


class PublishRateLimiter:
    """``rate`` publish requests per second and token, ``burst`` at once.

    Args:
        rate: requests per second a token earns (> 0).
        burst: requests a token may send at once (>= 1).
        max_tokens: most buckets kept; past it full ones are forgotten first.
    """

    def __init__(self, rate: float, burst: int, *, max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        if max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        self.rate = rate
        self.burst = burst
        self.max_tokens = max_tokens
        self._buckets: dict[bytes, TokenBucket] = {}

    def __repr__(self) -> str:
        return (
            f"PublishRateLimiter(rate={self.rate:g}, burst={self.burst}, "
            f"tokens={len(self._buckets)})"
        )

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, token: str | None, now: float) -> float:
        """Count one request of ``token``: 0.0 if allowed, else seconds to wait."""
        key = hashlib.sha256((token or "").encode("utf-8", "surrogatepass")).digest()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_tokens:
                self._make_room(now)
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, now)
        return bucket.take(now)

    def _make_room(self, now: float) -> None:
        full = [key for key, bucket in self._buckets.items() if bucket.is_full(now)]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_tokens:
            # Every token is busy: the oldest entry starts over with a full bucket
            # (lenient to it, but memory stays bounded).
            del self._buckets[next(iter(self._buckets))]
