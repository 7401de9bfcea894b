"""asv benchmarks of the pure core: frame decoding and the sequencer.

* ``time_*`` benchmarks are timed by asv (seconds per call);
* ``track_*`` benchmarks time themselves and return a throughput in
  events/s (best of a few repeats, garbage collector off, like ``timeit``), or
  a memory figure in bytes, so a run prints figures that can be quoted as-is.

Inputs are built once per benchmark process (``functools.cache``) and handed
out in ``setup``; every timed sequencer run gets a fresh :class:`Sequencer`
from ``setup``, so neither building events nor constructing the sequencer is
ever timed. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import gc
import json
import random
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from planstream import Event
from planstream.codec import decode_server_frame
from planstream.sequencer import Sequencer

#: Events per sequencer run.
STREAM_EVENTS = 10_000
#: Shuffled stream: events are shuffled within blocks of this many...
REORDER_WINDOW = 64
#: ...and this share of them is sent a second time, a little later.
DUPLICATE_RATIO = 0.05
#: Events per ``batch`` frame.
BATCH_SIZE = 64
#: Plans tracked by the memory benchmark.
IDLE_PLANS = 1000

_T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
_LOG_LEVELS = ("info", "info", "info", "debug", "warning", "error")


# --- inputs -------------------------------------------------------------------


def _event(plan_id: str, seq: int, kind: str = "log") -> dict[str, Any]:
    """One realistic event of ``kind`` (``log`` or ``step.status``) as JSON data."""
    step = seq // 50 + 1
    if kind == "step.status":
        data: dict[str, Any] = {
            "step_id": f"step-{step:03d}",
            "index": step,
            "name": f"deploy service {step} to the staging cluster",
            "status": "running",
            "error": None,
        }
    else:
        data = {
            "level": _LOG_LEVELS[seq % len(_LOG_LEVELS)],
            "message": f"[{seq:06d}] pulling layer sha256:9f86d081884c7d65 (12.4 MiB of 48.0 MiB)",
            "step_id": f"step-{step:03d}",
            "stream": "stdout",
        }
    return {
        "type": "event",
        "plan_id": plan_id,
        "event_id": f"01JNQ4Z8W3-{plan_id}-{seq:08d}",
        "seq": seq,
        "ts": (_T0 + timedelta(milliseconds=37 * seq)).isoformat().replace("+00:00", "Z"),
        "kind": kind,
        "data": data,
    }


def _stream_kind(seq: int) -> str:
    # A plan's stream is mostly log lines with a step.status now and then.
    return "step.status" if seq % 25 == 0 else "log"


@cache
def single_event_frame(kind: str) -> str:
    """The text of one ``event`` frame."""
    return json.dumps(_event("plan-8c1f2e", 4242, kind))


@cache
def batch_frame(size: int = BATCH_SIZE) -> str:
    """The text of one ``batch`` frame of ``size`` events of two plans."""
    events = [
        _event(f"plan-{seq % 2}", 1000 + seq, _stream_kind(seq)) for seq in range(1, size + 1)
    ]
    return json.dumps({"type": "batch", "events": events})


@cache
def in_order_stream(count: int = STREAM_EVENTS) -> tuple[Event, ...]:
    """``count`` decoded events of plan ``plan-0``, ``seq`` 1..count in order."""
    return tuple(
        _decode_event(json.dumps(_event("plan-0", seq, _stream_kind(seq))))
        for seq in range(1, count + 1)
    )


@cache
def shuffled_stream(
    count: int = STREAM_EVENTS,
    window: int = REORDER_WINDOW,
    duplicate_ratio: float = DUPLICATE_RATIO,
    seed: int = 64,
) -> tuple[Event, ...]:
    """:func:`in_order_stream` shuffled within blocks of ``window``, with
    ``duplicate_ratio`` of the events repeated up to ``window`` places later."""
    rng = random.Random(seed)
    shuffled: list[Event] = []
    events = in_order_stream(count)
    for start in range(0, len(events), window):
        block = list(events[start : start + window])
        rng.shuffle(block)
        shuffled.extend(block)
    # Insert from the back so earlier insertion points stay valid.
    picks = sorted(rng.sample(range(len(shuffled)), round(len(shuffled) * duplicate_ratio)))
    stream = list(shuffled)
    for index in reversed(picks):
        stream.insert(index + 1 + rng.randrange(window), shuffled[index])
    return tuple(stream)


def _decode_event(text: str) -> Event:
    frame = decode_server_frame(text)
    if frame.type != "event":
        raise TypeError(f"expected an event frame, got {frame.type}")
    return frame


def fresh_sequencer() -> Sequencer:
    """A sequencer tracking ``plan-0`` from the start, as after ``subscribe``."""
    sequencer = Sequencer()
    sequencer.track("plan-0")
    return sequencer


# --- measuring helpers ----------------------------------------------------------


def _best_seconds(run: Callable[[], None], repeat: int) -> float:
    """Best wall time of ``repeat`` calls, with the garbage collector off."""
    best = float("inf")
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
    finally:
        if enabled:
            gc.enable()
    return best


def _decode_rate(text: str, events_per_frame: int, frames: int, repeat: int = 5) -> int:
    def run() -> None:
        for _ in range(frames):
            decode_server_frame(text)

    return round(frames * events_per_frame / _best_seconds(run, repeat))


def _sequencer_rate(events: tuple[Event, ...], repeat: int = 5) -> int:
    """Events fed per second to a fresh sequencer (construction not timed)."""
    best = float("inf")
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            sequencer = fresh_sequencer()
            on_event = sequencer.on_event
            start = time.perf_counter()
            for event in events:
                on_event(event, 0.0)
            best = min(best, time.perf_counter() - start)
            _check_exactly_once(sequencer, events)
    finally:
        if enabled:
            gc.enable()
    return round(len(events) / best)


def _check_exactly_once(sequencer: Sequencer, events: tuple[Event, ...]) -> None:
    """Fail the benchmark if the sequencer did not deliver every event once."""
    unique = len({event.event_id for event in events})
    stats = sequencer.stats
    if stats.delivered != unique or stats.duplicates_dropped != len(events) - unique:
        raise AssertionError(f"sequencer delivered {stats} for {unique} unique events")
    last_id = next(event.event_id for event in events if event.seq == unique)
    if sequencer.seq_of("plan-0", last_id) != unique:  # the last event was delivered
        raise AssertionError(f"sequencer stopped at {sequencer.position('plan-0')}")


# --- decode -------------------------------------------------------------------


class DecodeSuite:
    """``decode_server_frame`` on realistic frames (text, as a WebSocket hands it over)."""

    def time_decode_log_event(self) -> None:
        """One ``event`` frame of kind ``log``."""
        decode_server_frame(single_event_frame("log"))

    def time_decode_step_status_event(self) -> None:
        """One ``event`` frame of kind ``step.status``."""
        decode_server_frame(single_event_frame("step.status"))

    def time_decode_batch_64(self) -> None:
        """One ``batch`` frame of 64 events (log and step.status, two plans)."""
        decode_server_frame(batch_frame())

    def track_decode_log_event_rate(self) -> int:
        """Events/s decoding single-event ``log`` frames."""
        return _decode_rate(single_event_frame("log"), 1, frames=5_000)

    track_decode_log_event_rate.unit = "events/s"  # type: ignore[attr-defined]

    def track_decode_step_status_event_rate(self) -> int:
        """Events/s decoding single-event ``step.status`` frames."""
        return _decode_rate(single_event_frame("step.status"), 1, frames=5_000)

    track_decode_step_status_event_rate.unit = "events/s"  # type: ignore[attr-defined]

    def track_decode_batch_64_rate(self) -> int:
        """Events/s decoding 64-event ``batch`` frames."""
        return _decode_rate(batch_frame(), BATCH_SIZE, frames=100)

    track_decode_batch_64_rate.unit = "events/s"  # type: ignore[attr-defined]


# --- sequencer ----------------------------------------------------------------


class SequencerSuite:
    """``Sequencer.on_event`` over 10,000 events of one plan.

    ``setup`` hands out the (cached) events and a fresh sequencer; asv re-runs
    it before every timed call (``number = 1``), so each call feeds a whole
    stream to a sequencer that has seen nothing.
    """

    number = 1
    repeat = (5, 20, 10.0)

    def setup(self) -> None:
        self.in_order = in_order_stream()
        self.shuffled = shuffled_stream()
        self.sequencer = fresh_sequencer()

    def teardown(self) -> None:
        # A timed call fed exactly one whole stream: check it came out right.
        delivered = self.sequencer.stats.delivered
        if delivered not in (0, STREAM_EVENTS):
            raise AssertionError(f"sequencer delivered {delivered} of {STREAM_EVENTS} events")

    def time_in_order(self) -> None:
        """10,000 events in ``seq`` order (the fast path)."""
        on_event = self.sequencer.on_event
        for event in self.in_order:
            on_event(event, 0.0)

    def time_shuffled_with_duplicates(self) -> None:
        """The same events shuffled within 64, plus 5% duplicates (10,500 inputs)."""
        on_event = self.sequencer.on_event
        for event in self.shuffled:
            on_event(event, 0.0)

    def track_in_order_rate(self) -> int:
        """Events fed per second, in order."""
        return _sequencer_rate(self.in_order)

    track_in_order_rate.unit = "events/s"  # type: ignore[attr-defined]

    def track_shuffled_with_duplicates_rate(self) -> int:
        """Events fed per second (duplicates included), shuffled within 64."""
        return _sequencer_rate(self.shuffled)

    track_shuffled_with_duplicates_rate.unit = "events/s"  # type: ignore[attr-defined]


# --- memory -------------------------------------------------------------------


class SequencerMemorySuite:
    """Bytes a :class:`Sequencer` allocates per idle plan, by ``tracemalloc``.

    1000 plans are tracked from a resume position (``last_event_id`` and
    ``last_seq`` known, as after a reconnect) and receive nothing. The plan
    and event ids exist before tracing starts, as the caller owns them; only
    what the sequencer allocates itself is counted.
    """

    unit = "bytes"

    def setup(self) -> None:
        self.positions = [
            (f"plan-{i:05d}", f"01JNQ4Z8W3-plan-{i:05d}-{42:08d}", 42) for i in range(IDLE_PLANS)
        ]

    def _measure(self) -> tuple[float, float]:
        """``(retained, peak)`` bytes per plan."""
        gc.collect()
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            sequencer = Sequencer()
            for plan_id, last_event_id, last_seq in self.positions:
                sequencer.track(plan_id, last_event_id=last_event_id, last_seq=last_seq)
            current, peak = tracemalloc.get_traced_memory()
            tracked = sum(
                sequencer.seq_of(plan_id, last_event_id) == last_seq
                for plan_id, last_event_id, last_seq in self.positions
            )
            if tracked != IDLE_PLANS:
                raise AssertionError(f"tracking {tracked} plans")
        finally:
            tracemalloc.stop()
        return (current - base) / IDLE_PLANS, (peak - base) / IDLE_PLANS

    def track_retained_bytes_per_idle_plan(self) -> float:
        """Bytes still held per plan once all 1000 are tracked."""
        return self._measure()[0]

    def track_peak_bytes_per_idle_plan(self) -> float:
        """Peak bytes per plan while tracking them (dict growth included)."""
        return self._measure()[1]
