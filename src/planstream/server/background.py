"""One background task of the server, started on first use and owned until closed.

The plan expiry and the Redis notification reader run for the server's whole
life, but an app mounted in a host never runs our lifespan, so they start on
first use. Their owner keeps the task here: :meth:`BackgroundTask.aclose`
cancels and awaits it, and once closed it never starts again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

#: Machinery of the server's long-lived parts, imported by name; not public API.
__all__: list[str] = []


class BackgroundTask:
    """Runs ``run()`` as one task from :meth:`start` until :meth:`aclose`.

    Args:
        run: the coroutine function the task runs (it runs until cancelled).
        name: the task's name, for debugging.
    """

    __slots__ = ("_run", "_task", "closed", "name")

    def __init__(self, run: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        self._run = run
        self.name = name
        self._task: asyncio.Task[None] | None = None
        self.closed = False

    def __repr__(self) -> str:
        state = "closed" if self.closed else "running" if self._task else "not started"
        return f"BackgroundTask({self.name!r}, {state})"

    def start(self) -> None:
        """Start the task (idempotent; never again once closed)."""
        if self._task is None and not self.closed:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def aclose(self) -> None:
        """Cancel the task and wait for it (idempotent)."""
        self.closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
