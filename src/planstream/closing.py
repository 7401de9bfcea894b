"""``async with`` for the objects that only need closing on the way out.

A publisher, the HTTP plan API and the polling session own a connection pool
and nothing else to start: entering gives the object itself, leaving awaits
its ``aclose()``. One base, so the three cannot drift apart.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

__all__ = ["AsyncClosing"]


class AsyncClosing(ABC):
    """``async with obj:`` is ``obj``, then ``await obj.aclose()``, even on errors."""

    __slots__ = ()

    @abstractmethod
    async def aclose(self) -> None:
        """Release what the object holds (its connection pool)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
