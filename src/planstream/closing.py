"""``async with`` for the objects that close with ``aclose()`` on the way out.

The client, a subscription, a publisher, the HTTP plan API and the polling
session all leave ``async with`` by awaiting their ``aclose()``; entering
gives the object itself, unless a subclass has something to start there (the
client its connection, a subscription its look-up) and overrides
``__aenter__``. One base, so they cannot drift apart.
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
        """Release what the object holds (connections, subscriptions, pools)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
