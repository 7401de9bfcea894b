"""``Flag``: what ``asyncio.Event`` does, for a fraction of its memory.

An idle client keeps a handful of these per connection; ``asyncio.Event``
allocates a deque of waiters up front (about 400 bytes each), a ``Flag``
allocates nothing until somebody waits.
"""

from __future__ import annotations

import asyncio

__all__ = ["Flag"]


class Flag:
    """A settable, clearable flag that coroutines can wait for."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def __repr__(self) -> str:
        return f"Flag({'set' if self._set else 'clear'})"

    def is_set(self) -> bool:
        """Whether the flag is set."""
        return self._set

    def set(self) -> None:
        """Set the flag and wake every waiter."""
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        """Clear the flag; later waits block until the next :meth:`set`."""
        self._set = False

    async def wait(self) -> None:
        """Return once the flag is set (at once if it is)."""
        if self._set:
            return
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = [waiter]
        else:
            self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
