"""Event-loop wake-ups of one idle connection, beyond what its timers explain.

Issue 12's goal: an idle connection wakes the event loop only for its
heartbeat and keepalive timers. This counts how often the loop sleeps and
wakes while one client (``PlanStreamClient``, one subscription, a consumer
waiting in ``async for``) holds an idle connection to a real reference server
(``planstream serve --heartbeat 2``, its own process) for ``WINDOW`` seconds.

How: the loop runs on a selector that counts each blocking ``select()``
(timeout not 0) as one wake-up, split by why it returned: **I/O** (bytes
arrived) or **timer** (nothing arrived: a ``call_at``/``sleep`` deadline). The
measurement's own final ``sleep`` is subtracted.

What the timers explain over ``WINDOW`` seconds:

* I/O: one heartbeat frame every ``HEARTBEAT_S`` (protocol §3), and per
  keepalive round the answers to its two pings (the WebSocket pong and the
  protocol ``pong`` that measures the RTT: one or two reads);
* timer: one per keepalive round (every ``PING_INTERVAL``, the client's
  ``heartbeat.ping_interval``).

With these settings the dead-man deadline (last frame + 2.5 x heartbeat) is
never the next deadline while heartbeats arrive, as with the defaults (15 s x
2.5 = 37.5 s against pings every 20 s).

Run: ``python benchmarks/idle_wakeups.py``; for the old tree,
``PYTHONPATH=/tmp/old/src python benchmarks/idle_wakeups.py``. The asv figure
is ``IdleWakeupsSuite.track_extra_wakeups_per_s`` (goal: 0).
"""

from __future__ import annotations

import asyncio
import math
import selectors
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from planstream.client import PlanStreamClient
from planstream.settings import ClientSettings

HEARTBEAT_S = 2.0
PING_INTERVAL = 2.5
WINDOW = 10.0
WARM_UP = 1.5
PLAN_ID = "idle-plan"

_SERVE = "from planstream.cli.main import main; main()"


class CountingSelector(selectors.DefaultSelector):
    """A selector that counts blocking ``select()`` calls by why they returned."""

    def __init__(self) -> None:
        super().__init__()
        self.io = 0
        self.timer = 0

    def select(self, timeout: float | None = None) -> list[Any]:
        ready: list[Any] = super().select(timeout)
        if timeout is None or timeout > 0:
            if ready:
                self.io += 1
            else:
                self.timer += 1
        return ready


@contextmanager
def reference_server(heartbeat_s: float) -> Iterator[str]:
    """``planstream serve`` in its own process; yields its stream URL."""
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE, "serve", "--port", "0", "--heartbeat", str(heartbeat_s)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "listening on " not in line:
            raise RuntimeError(f"the reference server did not start: {line!r}")
        yield line.rsplit("listening on ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _idle(url: str, selector: CountingSelector, window: float) -> tuple[int, int]:
    """(I/O, timer) wake-ups over ``window`` s of one idle connection."""
    settings = ClientSettings(url=url, heartbeat={"ping_interval": PING_INTERVAL})
    async with PlanStreamClient(settings=settings) as client:
        await client.wait_open()
        subscription = client.subscribe(PLAN_ID, follow=True)

        async def consume() -> None:
            async for _ in subscription:
                raise AssertionError("an idle plan delivered an event")

        consumer = asyncio.get_running_loop().create_task(consume())
        await asyncio.sleep(WARM_UP)  # subscribed, first pings answered
        io, timer = selector.io, selector.timer
        await asyncio.sleep(window)
        io, timer = selector.io - io, selector.timer - timer - 1  # minus our own sleep
        consumer.cancel()
        with suppress(asyncio.CancelledError):
            await consumer
    return io, timer


def measure(window: float = WINDOW) -> tuple[int, int]:
    """(I/O, timer) wake-ups of one idle connection over ``window`` seconds."""
    selector = CountingSelector()
    with (
        reference_server(HEARTBEAT_S) as url,
        asyncio.Runner(loop_factory=lambda: asyncio.SelectorEventLoop(selector)) as runner,
    ):
        return runner.run(_idle(url, selector, window))


def expected(window: float = WINDOW) -> tuple[int, int]:
    """(I/O, timer) wake-ups the heartbeat and keepalive timers explain at most."""
    rounds = math.ceil(window / PING_INTERVAL)
    heartbeats = math.ceil(window / HEARTBEAT_S)
    return heartbeats + 2 * rounds, rounds


def extra_per_s(io: int, timer: int, window: float = WINDOW) -> float:
    """Wake-ups per second beyond what the timers explain."""
    io_expected, timer_expected = expected(window)
    return (max(io - io_expected, 0) + max(timer - timer_expected, 0)) / window


class IdleWakeupsSuite:
    """Wake-ups of one idle connection beyond its heartbeat/keepalive timers."""

    timeout = 120

    def setup_cache(self) -> tuple[int, int]:
        return measure()

    def track_extra_wakeups_per_s(self, counts: tuple[int, int]) -> float:
        return extra_per_s(*counts)

    def track_wakeups_per_s(self, counts: tuple[int, int]) -> float:
        return sum(counts) / WINDOW

    track_extra_wakeups_per_s.unit = "wake-ups/s"  # type: ignore[attr-defined]
    track_wakeups_per_s.unit = "wake-ups/s"  # type: ignore[attr-defined]


def main() -> None:
    io, timer = measure()
    io_expected, timer_expected = expected()
    print(
        f"one idle connection, {WINDOW:g} s (server heartbeat {HEARTBEAT_S:g} s, "
        f"keepalive every {PING_INTERVAL:g} s)"
    )
    print(f"  wake-ups: {io + timer} ({io} I/O, {timer} timer)")
    print(
        f"  explained by the timers: up to {io_expected + timer_expected} "
        f"({io_expected} I/O, {timer_expected} timer)"
    )
    print(f"  beyond the timers: {extra_per_s(io, timer):.1f} wake-ups/s")


if __name__ == "__main__":
    main()
