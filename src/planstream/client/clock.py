"""The client's clock: monotonic seconds, the same clock asyncio's loop uses."""

from __future__ import annotations

import asyncio
import time

__all__ = ["now", "sleep_until"]


def now() -> float:
    """Monotonic seconds."""
    return time.monotonic()


async def sleep_until(at: float) -> None:
    """Sleep until the monotonic time ``at`` (not at all if it has passed)."""
    delay = at - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
