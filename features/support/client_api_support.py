"""Helpers of the client API features: a client living in its own task,
consumers that record what their iterators gave, and log capture.

:class:`ClientHost` runs ``async with PlanStreamClient(...)`` in a task of its
own, the way an application holds the client in one block, so the client's
task group belongs to that task and leaving the block is one explicit step.
:class:`Consumer` drains one subscription in a task and records every item
and how the iterator ended. :func:`until` awaits a condition with a deadline
(no sleeps as synchronisation). Everything is stopped by the scenario's
cleanups, so no task outlives its scenario.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from planstream import ClientSettings, PlanStreamClient, Resync
from planstream.client import StateChange, TokenProvider
from planstream.connection_state import ConnectionState
from planstream.delivery import Delivery
from support.servers import on_cleanup, run

__all__ = [
    "WAIT",
    "ClientHost",
    "Consumer",
    "LogCapture",
    "fast_settings",
    "seqs_of",
    "start_host",
    "until",
]

#: The bound of every wait in these features: generous, never expected to be reached.
WAIT = 20.0


def fast_settings(url: str, **overrides: Any) -> ClientSettings:
    """Client settings with small reconnect delays (tests must not wait on backoff)."""
    values: dict[str, Any] = {
        "url": url,
        "reconnect": {"initial_delay": 0.05, "max_delay": 0.5},
        "open_timeout": 5.0,
        **overrides,
    }
    return ClientSettings(**values)


async def until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Wait until ``condition()`` holds, checking every 10 ms; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


def seqs_of(items: list[Delivery]) -> list[int]:
    """The seqs of the events among ``items`` (a resync: its head's seq)."""
    seqs = []
    for item in items:
        if isinstance(item, Resync):
            head = item.snapshot.head
            seqs.append(0 if head is None else head.seq)
        else:
            seqs.append(item.seq)
    return seqs


class LogCapture(logging.Handler):
    """Keeps every record of the ``planstream``, ``asyncio`` and warnings loggers at DEBUG."""

    LOGGERS = ("planstream", "asyncio", "py.warnings")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._levels: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def install(self) -> None:
        logging.captureWarnings(True)  # warnings (e.g. "never awaited") become records
        for name in self.LOGGERS:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(logging.DEBUG)
            logger.addHandler(self)

    def remove(self) -> None:
        for name, level in self._levels.items():
            logger = logging.getLogger(name)
            logger.removeHandler(self)
            logger.setLevel(level)
        logging.captureWarnings(False)

    def texts(self) -> list[str]:
        """Every record as it would be printed: message, exception and stack included."""
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        return [formatter.format(record) for record in self.records]


class ClientHost:
    """One ``PlanStreamClient`` held in an ``async with`` block run by its own task."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        settings: ClientSettings,
        *,
        token_provider: TokenProvider | None = None,
    ) -> None:
        self.loop = loop
        self.changes: list[StateChange] = []
        self.client = PlanStreamClient(
            settings=settings,
            token_provider=token_provider,
            rng=random.Random(7),
            on_state_change=self.changes.append,
        )
        self.consumers: list[Consumer] = []
        self._leave = asyncio.Event()
        self._entered = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def _hold(self) -> None:
        async with self.client:
            self._entered.set()
            await self._leave.wait()

    async def start(self) -> None:
        """Enter the client's ``async with`` block (in the host task)."""
        self.task = self.loop.create_task(self._hold(), name="api-client-host")
        entered = asyncio.ensure_future(self._entered.wait())
        await asyncio.wait({entered, self.task}, return_when=asyncio.FIRST_COMPLETED)
        entered.cancel()
        if self.task.done():
            await self.task  # raises why it could not enter

    async def leave(self) -> None:
        """Leave the ``async with`` block and wait until the client is closed."""
        self._leave.set()
        if self.task is not None:
            await asyncio.wait_for(asyncio.shield(self.task), WAIT)

    def consume(
        self,
        subscription: AsyncIterator[Any],
        *,
        plan_id: str,
        name: str = "",
        gate: asyncio.Event | None = None,
    ) -> Consumer:
        """Start draining ``subscription`` in a task; it is stopped by :meth:`stop`."""
        consumer = Consumer(
            subscription, loop=self.loop, plan_id=plan_id, name=name or plan_id, gate=gate
        )
        self.consumers.append(consumer)
        return consumer

    def states(self) -> list[ConnectionState]:
        """The states the hook saw entered, in order, repeats folded."""
        seen: list[ConnectionState] = []
        for change in self.changes:
            if change.state is not change.previous and (not seen or seen[-1] is not change.state):
                seen.append(change.state)
        return seen

    async def stop(self) -> None:
        """Cleanup: stop the consumers, leave the block; never raises on a failed client."""
        for consumer in self.consumers:
            await consumer.cancel()
        self._leave.set()
        if self.task is not None:
            # A client that failed to enter raised already: its steps asserted why.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, WAIT)


class Consumer:
    """Drains one async iterator in a task, recording items and the ending.

    ``gate``: while it is clear, the consumer does not read (a stalled consumer).
    ``ending`` is ``"end"`` (StopAsyncIteration) or the exception raised.
    """

    def __init__(
        self,
        iterator: AsyncIterator[Any],
        *,
        loop: asyncio.AbstractEventLoop,
        plan_id: str,
        name: str,
        gate: asyncio.Event | None,
    ) -> None:
        self.iterator = iterator
        self.plan_id = plan_id
        self.name = name
        self.gate = gate
        self.items: list[Any] = []
        self.ending: str | BaseException | None = None
        self.ended_at: float | None = None
        self.waiting = asyncio.Event()  # set while blocked in the iterator's __anext__
        self.task = loop.create_task(self._drain(), name=f"api-{name}")

    async def _drain(self) -> None:
        try:
            while True:
                if self.gate is not None:
                    await self.gate.wait()
                self.waiting.set()
                try:
                    item = await anext(self.iterator)
                finally:
                    self.waiting.clear()
                self.items.append(item)
        except StopAsyncIteration:
            self.ending = "end"
        except Exception as exc:  # recorded for the steps to assert
            self.ending = exc
        self.ended_at = time.monotonic()

    @property
    def done(self) -> bool:
        return self.task.done()

    async def wait_done(self, timeout: float = WAIT) -> None:
        """Wait until the iterator ended (normally or with an error)."""
        await until(lambda: self.task.done(), f"consumer {self.name!r} to end", timeout)

    async def cancel(self) -> None:
        if not self.task.done():
            self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        aclose = getattr(self.iterator, "aclose", None)
        if aclose is not None:
            await aclose()


def start_host(
    context: Any, settings: ClientSettings, *, token_provider: TokenProvider | None = None
) -> ClientHost:
    """A :class:`ClientHost` entered now and stopped after the scenario.

    Also sets ``context.api_logs`` (a :class:`LogCapture` installed until the
    end of the scenario) and ``context.api_tasks_before`` (the tasks that
    existed before the client).
    """
    logs = LogCapture()
    logs.install()
    context.api_logs = logs

    async def remove_logs() -> None:
        logs.remove()

    on_cleanup(context, remove_logs)

    context.api_tasks_before = asyncio.all_tasks(context.loop)
    host = ClientHost(context.loop, settings, token_provider=token_provider)
    context.api_host = host
    on_cleanup(context, host.stop)
    run(context, host.start())
    return host
