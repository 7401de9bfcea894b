"""Helpers of client_resilience.feature: a client owned by one task, collectors
that iterate its subscriptions, and the expected-stream notation the steps use.

:class:`ResilientClient` enters a :class:`~planstream.PlanStreamClient` in a
task of its own (the client's task group belongs to that task) and records
every :class:`~planstream.StateChange` its hook receives. Each
:class:`ItemCollector` runs one ``async for`` over a subscription in its own
task and keeps what it delivered and how it ended. Both are closed by the
scenario's cleanups; nothing they start outlives the scenario.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from planstream import ClientSettings, PlanStreamClient, Resync, StateChange
from planstream.connection_state import ConnectionState
from planstream.delivery import Delivery
from planstream.errors import PlanStreamError
from planstream.schema.events import Event

__all__ = [
    "ExpectedEvents",
    "ExpectedResync",
    "ItemCollector",
    "ResilientClient",
    "parse_expected_stream",
    "wait_until",
]

#: Bound of every wait in the resilience scenarios, s.
WAIT_BOUND = 20.0


async def wait_until(
    predicate: Callable[[], bool], what: Callable[[], str], timeout: float = WAIT_BOUND
) -> None:
    """Poll ``predicate`` until true; fail with ``what()`` after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() >= deadline:
            raise AssertionError(f"not true within {timeout} s: {what()}")
        await asyncio.sleep(0.01)


class ItemCollector:
    """Takes every item of one subscription, in its own task, and keeps them."""

    def __init__(self, client: PlanStreamClient, plan_id: str, last_event_id: str | None) -> None:
        self.plan_id = plan_id
        self.items: list[Delivery] = []
        self.error: PlanStreamError | None = None
        self.finished = asyncio.Event()
        self._subscription = client.subscribe(plan_id, last_event_id=last_event_id)
        self.task = asyncio.get_running_loop().create_task(
            self._collect(), name=f"resilience-collector-{plan_id}"
        )

    def __repr__(self) -> str:
        return (
            f"ItemCollector({self.plan_id!r}, items={describe_items(self.items)}, "
            f"finished={self.finished.is_set()}, error={self.error!r})"
        )

    async def _collect(self) -> None:
        try:
            async with self._subscription as stream:
                async for item in stream:
                    self.items.append(item)
        except PlanStreamError as exc:
            self.error = exc
        finally:
            self.finished.set()

    @property
    def events(self) -> list[Event]:
        return [item for item in self.items if not isinstance(item, Resync)]

    @property
    def resyncs(self) -> list[Resync]:
        return [item for item in self.items if isinstance(item, Resync)]

    async def wait_for_items(self, count: int) -> None:
        await wait_until(lambda: len(self.items) >= count, lambda: repr(self))

    async def wait_for_resync(self) -> Resync:
        await wait_until(lambda: bool(self.resyncs) or self.finished.is_set(), lambda: repr(self))
        assert self.resyncs, f"the stream ended without a Resync: {self!r}"
        return self.resyncs[0]

    async def wait_finished(self, timeout: float = WAIT_BOUND) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self.finished.wait()
        except TimeoutError:
            raise AssertionError(f"the stream did not end within {timeout} s: {self!r}") from None

    async def aclose(self) -> None:
        """Wait for the task (the client's close ends it); cancel it if it hangs."""
        try:
            async with asyncio.timeout(5):
                await self.finished.wait()
        except TimeoutError:
            self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


class ResilientClient:
    """A :class:`PlanStreamClient` entered by a task of its own, hooks recorded."""

    def __init__(self, settings: ClientSettings, *, rng: random.Random) -> None:
        self.changes: list[StateChange] = []
        self.change_times: list[float] = []  # time.monotonic() of each change
        self.client = PlanStreamClient(settings=settings, rng=rng, on_state_change=self._record)
        self.collectors: list[ItemCollector] = []
        self._entered = asyncio.Event()
        self._release = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Enter the client in its owning task; returns once it is entered."""
        self._task = asyncio.get_running_loop().create_task(self._own(), name="resilience-client")
        entered = asyncio.ensure_future(self._entered.wait())
        await asyncio.wait({entered, self._task}, return_when=asyncio.FIRST_COMPLETED)
        entered.cancel()
        if self._task.done():
            await self._task  # raises why the client could not be entered

    async def _own(self) -> None:
        async with self.client:
            self._entered.set()
            await self._release.wait()

    def _record(self, change: StateChange) -> None:
        self.changes.append(change)
        self.change_times.append(time.monotonic())

    def collect(self, plan_id: str, last_event_id: str | None = None) -> ItemCollector:
        collector = ItemCollector(self.client, plan_id, last_event_id)
        self.collectors.append(collector)
        return collector

    async def aclose(self) -> None:
        """Close the client (code 1000), then wait for its collectors."""
        self._release.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 10)
        for collector in self.collectors:
            await collector.aclose()

    # --- what the hooks saw ----------------------------------------------------------

    def state_path(self) -> list[ConnectionState]:
        """The states moved through, in order (repeats of the same state folded)."""
        path: list[ConnectionState] = []
        for change in self.changes:
            if not path or path[-1] is not change.state:
                path.append(change.state)
        return path

    def reconnections(self) -> int:
        """How many times the hooks saw ``reconnecting`` followed by ``open``."""
        path = self.state_path()
        return sum(
            1
            for before, after in itertools.pairwise(path)
            if (before, after) == (ConnectionState.RECONNECTING, ConnectionState.OPEN)
        )

    def failures(self) -> list[PlanStreamError]:
        return [change.error for change in self.changes if change.error is not None]

    def retry_delays(self) -> list[float]:
        return [change.retry_in for change in self.changes if change.retry_in is not None]


# --- the expected-stream notation ------------------------------------------------------


@dataclass(frozen=True)
class ExpectedEvents:
    """Events with seqs ``first`` to ``last``, each once, in order."""

    first: int
    last: int


@dataclass(frozen=True)
class ExpectedResync:
    """A Resync with ``reason`` whose snapshot head is at ``head_seq`` (None: no head)."""

    reason: str
    head_seq: int | None


_EVENTS = re.compile(r"^(\d+)\.\.(\d+)$")
_RESYNC = re.compile(r"^resync (\w+) at (\d+|nothing)$")


def parse_expected_stream(text: str) -> list[ExpectedEvents | ExpectedResync]:
    """``"1..5 | resync stream_reset at nothing | 1..4"`` as parts."""
    parts: list[ExpectedEvents | ExpectedResync] = []
    for raw in text.split("|"):
        part = raw.strip()
        if match := _EVENTS.match(part):
            parts.append(ExpectedEvents(int(match[1]), int(match[2])))
        elif match := _RESYNC.match(part):
            head = None if match[2] == "nothing" else int(match[2])
            parts.append(ExpectedResync(match[1], head))
        else:
            raise ValueError(f"cannot read the expected stream part {part!r}")
    return parts


def describe_items(items: list[Delivery]) -> str:
    """The items in the notation above: runs of consecutive seqs and resyncs."""
    parts: list[str] = []
    run: list[int] = []

    def close_run() -> None:
        if run:
            parts.append(f"{run[0]}..{run[-1]}")
            run.clear()

    for item in items:
        if isinstance(item, Resync):
            close_run()
            head = item.snapshot.head
            parts.append(f"resync {item.reason.value} at {'nothing' if head is None else head.seq}")
        elif run and item.seq != run[-1] + 1:
            close_run()
            run.append(item.seq)
        else:
            run.append(item.seq)
    close_run()
    return " | ".join(parts) or "nothing"


def check_stream(items: list[Delivery], expected: list[ExpectedEvents | ExpectedResync]) -> None:
    """Fail unless ``items`` are exactly ``expected``: nothing lost, doubled or moved."""
    wanted: list[tuple[str, int | None]] = []
    for part in expected:
        if isinstance(part, ExpectedEvents):
            wanted.extend(("event", seq) for seq in range(part.first, part.last + 1))
        else:
            wanted.append((f"resync {part.reason}", part.head_seq))
    got: list[tuple[str, int | None]] = []
    for item in items:
        if isinstance(item, Resync):
            head = item.snapshot.head
            got.append((f"resync {item.reason.value}", None if head is None else head.seq))
        else:
            got.append(("event", item.seq))
    if got != wanted:
        first_difference = next(
            (
                index
                for index, pair in enumerate(zip(got, wanted, strict=False))
                if pair[0] != pair[1]
            ),
            min(len(got), len(wanted)),
        )
        raise AssertionError(
            f"the stream was {describe_items(items)} ({len(got)} items), expected "
            f"{len(wanted)} items; first difference at item {first_difference}"
        )
