"""Robot Framework keywords: drive a full ``PlanStreamClient`` from synchronous keywords.

Robot keywords block; the client is asyncio. The library owns an event loop
running in a background thread. ``Start Client`` starts one task there that
holds the client (``async with PlanStreamClient(...)``) and a task group of
consumers; ``Subscribe To Plan`` adds a consumer taking a subscription's items
into a list. Keywords wait for what they assert with a deadline, woken by
the consumers and the client's state hook (or polling the stats).

``Stop Client`` leaves the ``async with`` (the client closes with 1000 and
its subscriptions end), waits for the consumers, then fails if any task is
still alive in the loop (a task the client leaked) after cancelling it, and
closes the loop.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

from robot.utils import timestr_to_secs

from planstream import ClientSettings, PlanStreamClient, Resync, StateChange
from planstream.client.inbox import Subscription
from planstream.delivery import Delivery

__all__ = ["ClientUnderTest"]

#: Longest a start or stop may take, s.
_WAIT = 10.0
#: How often stats are read while waiting for a value, s.
_POLL = 0.02


def _render(item: Delivery) -> str:
    """An event as its seq, a resync as ``resync@<head seq>``."""
    if isinstance(item, Resync):
        head = item.snapshot.head
        return f"resync@{'none' if head is None else head.seq}"
    return str(item.seq)


class ClientUnderTest:
    """A ``PlanStreamClient`` in a background event loop, and keywords about it."""

    ROBOT_LIBRARY_SCOPE = "TEST"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: PlanStreamClient | None = None
        self._consumers: asyncio.TaskGroup | None = None
        self._stop: asyncio.Event | None = None
        self._main: Future[None] | None = None
        self._changed = threading.Condition()
        self._delivered: dict[str, list[Delivery]] = {}
        self._ended: dict[str, BaseException | None] = {}  # plan -> what ended its stream
        self._changes: list[StateChange] = []

    # --- lifecycle -------------------------------------------------------------------

    def start_client(
        self,
        url: str,
        reconnect_initial_delay: float = 0.01,
        reconnect_max_delay: float = 0.1,
        gap_timeout: float = 2.0,
        resubscribe_timeout: float = 10.0,
        transport: str = "auto",
        seed: int = 7,
    ) -> None:
        """Start a client of ``url`` in the library's loop (it connects at once)."""
        if self._loop is not None:
            raise AssertionError("a client is already running; Stop Client first")
        initial = float(reconnect_initial_delay)
        settings = ClientSettings(
            url=url,
            transport=transport,
            reconnect={
                "initial_delay": initial,
                "max_delay": max(float(reconnect_max_delay), initial),
            },
            sequencer={
                "gap_timeout": float(gap_timeout),
                "resubscribe_timeout": float(resubscribe_timeout),
            },
        )
        client = PlanStreamClient(
            settings=settings, rng=random.Random(int(seed)), on_state_change=self._state_changed
        )
        loop = self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=loop.run_forever, name="client-under-test", daemon=True
        )
        self._thread.start()
        started: Future[None] = Future()
        self._main = asyncio.run_coroutine_threadsafe(self._hold(client, started), loop)
        wait([started, self._main], timeout=_WAIT, return_when=FIRST_COMPLETED)
        if self._main.done():
            self._main.result()  # raises why the client could not start
        if not started.done():
            raise AssertionError(f"the client did not start within {_WAIT} s")

    async def _hold(self, client: PlanStreamClient, started: Future[None]) -> None:
        """The client's lifetime: one task owns it and the consumers (closed first)."""
        self._stop = asyncio.Event()
        # The client closes first: its subscriptions end, so do the consumers.
        async with asyncio.TaskGroup() as consumers, client:
            self._client, self._consumers = client, consumers
            started.set_result(None)
            await self._stop.wait()

    def stop_client(self) -> None:
        """Close the client, end every task and close the loop (test teardown); idempotent.

        Fails if a task of the client outlived ``aclose`` (it is cancelled first).
        """
        loop, thread, main = self._loop, self._thread, self._main
        self._loop = self._thread = self._main = None
        if loop is None or thread is None or main is None:
            return
        leaked: list[str] = []
        try:
            if self._stop is not None:
                loop.call_soon_threadsafe(self._stop.set)
            main.result(_WAIT)
            leaked = asyncio.run_coroutine_threadsafe(_cancel_the_rest(), loop).result(_WAIT)
        finally:
            if not main.done():  # stuck: cancel everything, never leave the loop running
                asyncio.run_coroutine_threadsafe(_cancel_the_rest(), loop).result(_WAIT)
            asyncio.run_coroutine_threadsafe(loop.shutdown_asyncgens(), loop).result(_WAIT)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_WAIT)
            loop.close()
            self._client = self._consumers = self._stop = None
        if leaked:
            raise AssertionError(f"tasks still running after the client closed: {leaked}")

    # --- subscriptions ---------------------------------------------------------------

    def subscribe_to_plan(
        self, plan_id: str, last_event_id: str | None = None, follow: bool = False
    ) -> None:
        """``client.subscribe(plan_id, ...)``; its items are collected from now on."""

        async def subscribe() -> None:
            client, consumers = self._client, self._consumers
            assert client is not None
            assert consumers is not None
            stream = client.subscribe(plan_id, last_event_id=last_event_id, follow=bool(follow))
            consumers.create_task(self._consume(stream), name=f"consume-{plan_id}")

        with self._changed:
            self._delivered[plan_id] = []
            self._ended.pop(plan_id, None)
        self._call(subscribe())

    async def _consume(self, stream: Subscription) -> None:
        ended: BaseException | None = None
        try:
            async for item in stream:
                with self._changed:
                    self._delivered[stream.plan_id].append(item)
                    self._changed.notify_all()
        except Exception as exc:  # recorded for Subscription Should Have Ended With
            ended = exc
        with self._changed:
            self._ended[stream.plan_id] = ended
            self._changed.notify_all()

    def client_should_have_delivered_seqs(
        self, *expected: str, plan_id: str = "plan-1", timeout: str = "5s"
    ) -> None:
        """Wait until ``plan_id`` delivered as many items as ``expected``; fail unless
        they are exactly those, in order (events as seqs, resyncs as ``resync@<seq>``)."""
        wanted = [str(item) for item in expected]
        self._wait(
            lambda: len(self._delivered.get(plan_id, ())) >= len(wanted),
            timeout,
            lambda: (
                f"plan {plan_id!r} delivered {self._rendered(plan_id)} within {timeout}, "
                f"expected {wanted}"
            ),
        )
        with self._changed:
            got = self._rendered(plan_id)
        if got != wanted:
            raise AssertionError(f"plan {plan_id!r} delivered {got}, expected {wanted}")

    def delivered_items(self, plan_id: str = "plan-1") -> list[Delivery]:
        """The items ``plan_id``'s subscription delivered so far."""
        with self._changed:
            return list(self._delivered.get(plan_id, ()))

    def delivered_event_id(self, seq: int, plan_id: str = "plan-1") -> str:
        """The ``event_id`` of the delivered event ``seq`` of ``plan_id``."""
        for item in self.delivered_items(plan_id):
            if not isinstance(item, Resync) and item.seq == int(seq):
                return item.event_id
        raise AssertionError(f"plan {plan_id!r} delivered no event {seq}")

    def subscription_should_have_ended_with(
        self, error: str, plan_id: str = "plan-1", timeout: str = "5s"
    ) -> str:
        """Wait for ``plan_id``'s stream to end; fail unless it raised ``error``; its message."""
        self._wait(
            lambda: plan_id in self._ended,
            timeout,
            lambda: f"the subscription to {plan_id!r} did not end within {timeout}",
        )
        ended = self._ended[plan_id]
        if type(ended).__name__ != error:
            raise AssertionError(f"the subscription to {plan_id!r} ended with {ended!r}")
        return str(ended)

    # --- connection state ------------------------------------------------------------

    def _state_changed(self, change: StateChange) -> None:
        with self._changed:
            self._changes.append(change)
            self._changed.notify_all()

    def client_state_should_be(self, state: str, timeout: str = "5s") -> None:
        """Wait until the client's connection state is ``state`` (open, reconnecting...)."""
        self._wait(
            lambda: bool(self._changes) and self._changes[-1].state.value == state,
            timeout,
            lambda: (
                f"the client is {self._changes[-1].state.value if self._changes else None}"
                f" after {timeout}, expected {state}"
            ),
        )

    def client_error_should_be(self, error: str, timeout: str = "5s") -> str:
        """Wait until the client stopped for good; fail unless because of ``error``.

        Returns the error's message.
        """
        self._wait(
            lambda: any(c.state.value == "closed" and c.error for c in self._changes),
            timeout,
            lambda: f"the client did not stop within {timeout}: {self._history()}",
        )
        stopped = self._call(_read(lambda: self._require_client().error))
        if type(stopped).__name__ != error:
            raise AssertionError(f"the client stopped with {stopped!r}, expected {error}")
        return str(stopped)

    def client_should_have_reported(self, error: str, timeout: str = "5s") -> StateChange:
        """Wait for a state change reporting an ``error`` failure; return the first one."""
        found: list[StateChange] = []

        def reported() -> bool:
            found[:] = [c for c in self._changes if type(c.error).__name__ == error]
            return bool(found)

        self._wait(
            reported,
            timeout,
            lambda: f"no {error} reported within {timeout}: {self._history()}",
        )
        return found[0]

    # --- stats -----------------------------------------------------------------------

    def client_stats(self) -> Any:
        """``client.stats`` (a ``ClientStats``), read in the client's loop."""
        return self._call(_read(lambda: self._require_client().stats))

    def client_stat_should_be(self, name: str, value: int, timeout: str = "5s") -> None:
        """Wait until ``client.stats.<name>`` equals ``value``; fail after ``timeout``."""
        deadline = time.monotonic() + timestr_to_secs(timeout)
        while True:
            got = getattr(self.client_stats(), name)
            if got == int(value):
                return
            if time.monotonic() >= deadline:
                raise AssertionError(f"stats.{name} is {got} after {timeout}, expected {value}")
            time.sleep(_POLL)

    # --- internals -------------------------------------------------------------------

    def _require_client(self) -> PlanStreamClient:
        if self._client is None:
            raise AssertionError("no client is running: Start Client first")
        return self._client

    def _call(self, coro: Any) -> Any:
        if self._loop is None:
            coro.close()
            raise AssertionError("no client is running: Start Client first")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(_WAIT)

    def _wait(
        self, predicate: Callable[[], bool], timeout: str, failure: Callable[[], str]
    ) -> None:
        """Wait until ``predicate`` (read under the condition) holds, or fail."""
        with self._changed:
            if not self._changed.wait_for(predicate, timestr_to_secs(timeout)):
                raise AssertionError(failure())

    def _rendered(self, plan_id: str) -> list[str]:
        return [_render(item) for item in self._delivered.get(plan_id, ())]

    def _history(self) -> list[str]:
        return [
            f"{c.previous.value}->{c.state.value}"
            + ("" if c.error is None else f" ({type(c.error).__name__})")
            for c in self._changes
        ]


async def _read(getter: Callable[[], Any]) -> Any:
    """Run ``getter`` in the client's loop (its state belongs to that thread)."""
    return getter()


async def _cancel_the_rest() -> list[str]:
    """Cancel every other task of the loop; return the names of those still running."""
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    return [task.get_name() for task in others]
