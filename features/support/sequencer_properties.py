"""Hypothesis properties of the pure sequencer (sequencer_properties.feature).

Each property is a hypothesis test built by a factory here and run inside its
step (steps/sequencer_property_steps.py). ``derandomize=True`` and no example
database keep CI runs reproducible.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import given as hypothesis_given
from hypothesis import strategies as st

from planstream import LogEvent, ResyncReason
from planstream.delivery import RepairReason, Resubscribe, SequencerOutput
from planstream.schema import BatchFrame, HeartbeatFrame, SubscribedFrame
from planstream.sequencer import Sequencer
from support.sequencer_events import EPOCH, sequencer_event, sequencer_head
from support.sequencer_model import (
    PROP_HUGE,
    SequencerDriver,
    SequencerModel,
    check_sequencer_bounds,
    check_sequencer_output,
)


def _property_settings() -> settings:
    return settings(
        max_examples=200,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )


@st.composite
def _sequencer_shuffled_range(draw: Any, max_n: int) -> tuple[int, list[int], list[int]]:
    """``(n, order, cuts)``: seqs 1..n shuffled with duplicates, and batch sizes."""
    n = draw(st.integers(1, max_n))
    extra = draw(st.lists(st.integers(1, n), max_size=2 * n))
    order = draw(st.permutations(list(range(1, n + 1)) + extra))
    cuts = draw(st.lists(st.integers(1, 6), min_size=len(order), max_size=len(order)))
    return n, order, cuts


def _in_batches(items: list[Any], sizes: list[int]) -> list[list[Any]]:
    batches, start = [], 0
    for size in sizes:
        if start >= len(items):
            break
        batches.append(items[start : start + size])
        start += size
    return batches


def sequencer_shuffle_property(rw: int, dw: int, *, batched: bool) -> Any:
    """Property 1: a shuffled range with duplicates comes out as exactly 1..n."""

    @_property_settings()
    @hypothesis_given(_sequencer_shuffled_range(rw))
    def prop(case: tuple[int, list[int], list[int]]) -> None:
        n, order, cuts = case
        seq = Sequencer(reorder_window=rw, dedup_window=dw)
        seq.track("p1")
        events = [sequencer_event("p1", s) for s in order]
        if batched:
            outs = [seq.feed(BatchFrame(events=tuple(b)), 0.0) for b in _in_batches(events, cuts)]
        else:
            outs = [seq.on_event(event, 0.0) for event in events]
        delivered = [d for out in outs for d in out.deliveries]
        assert all(isinstance(d, LogEvent) for d in delivered), delivered
        assert [d.seq for d in delivered] == list(range(1, n + 1)), [d.seq for d in delivered]
        assert [d.event_id for d in delivered] == [f"e{s}" for s in range(1, n + 1)]
        assert all(out.actions == () for out in outs), [out.actions for out in outs]
        assert seq.stats.delivered == n, seq.stats
        assert seq.stats.duplicates_dropped == len(order) - n, seq.stats
        assert seq.next_deadline() is None
        assert not seq._cursors["p1"].buffer

    return prop


_PROP_PLANS = ("p1", "p2", "x9")  # x9 is never tracked
# A seq is mostly relative to the plan's current position, so that streams make
# progress; sometimes absolute, including huge values.
_prop_seq = st.one_of(
    st.tuples(st.just("rel"), st.integers(-3, 10)),
    st.tuples(
        st.just("abs"),
        st.one_of(st.integers(1, 30), st.just(PROP_HUGE), st.integers(1, PROP_HUGE)),
    ),
)
_prop_ids = st.one_of(
    st.none(),  # the natural id "e<seq>"
    st.sampled_from(("a", "b", "e1", "e2", "e3", "e5", "e8", "e13")),
)
_prop_plan = st.sampled_from(_PROP_PLANS)
_prop_event = st.tuples(_prop_plan, _prop_seq, _prop_ids)
_prop_head = st.one_of(
    st.none(),
    st.just("here"),  # the plan's current position: the server has nothing newer
    st.tuples(st.one_of(st.tuples(st.just("rel"), st.integers(-3, 3)), _prop_seq), _prop_ids),
)
# A run of consecutive seqs from just after the position, reordered by a few
# swaps, fed one by one or as one batch.
_prop_run = st.tuples(
    st.just("run"),
    _prop_plan,
    st.integers(1, 3),
    st.integers(1, 16),
    st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15)), max_size=3),
    st.booleans(),
)
_prop_op = st.one_of(
    st.tuples(st.just("event"), _prop_event),
    _prop_run,
    _prop_run,
    _prop_run,
    st.tuples(st.just("batch"), st.lists(_prop_event, max_size=8)),
    st.tuples(st.just("tick"), st.floats(0, 12, allow_nan=False)),
    st.tuples(st.just("heartbeat"), st.dictionaries(_prop_plan, _prop_head, max_size=3)),
    st.tuples(st.just("subscribed"), _prop_plan, _prop_head),
    st.tuples(st.just("resync"), _prop_plan, st.sampled_from(list(ResyncReason)), _prop_head),
    st.tuples(st.just("reconnect")),
    # An id delivered `back` deliveries ago (or the resume id) re-sent `delta`
    # seqs after the current position: a duplicate at a different seq.
    st.tuples(st.just("echo"), _prop_plan, st.integers(0, 20), st.integers(1, 3)),
)


_prop_start = st.tuples(st.sampled_from(("unknown", "known")), st.integers(1, 10))


def sequencer_invariants_property(rw: int, dw: int, *, resumed: bool) -> Any:
    """Property 2: whatever arrives, memory stays bounded and deliveries stay sane."""
    starts = st.tuples(_prop_start, _prop_start) if resumed else st.just(None)

    @_property_settings()
    @hypothesis_given(starts, st.lists(_prop_op, min_size=6, max_size=60))
    def prop(start: Any, ops: list[tuple[Any, ...]]) -> None:
        seq = Sequencer(reorder_window=rw, dedup_window=dw, gap_timeout=2.0)
        models: dict[str, SequencerModel] = {}
        for index, plan in enumerate(("p1", "p2")):
            if start is None:
                seq.track(plan)
                models[plan] = SequencerModel(0, None, dw)
                continue
            mode, k = start[index]
            last_seq = k if mode == "known" else None
            seq.track(plan, last_event_id=f"e{k}", last_seq=last_seq)
            models[plan] = SequencerModel(last_seq, f"e{k}", dw)
            models[plan].hint = k
        driver = SequencerDriver(seq, models)
        events = markers = 0
        for op in ops:
            delivered, resyncs = check_sequencer_output(seq, models, driver.apply(op))
            events += delivered
            markers += resyncs
            check_sequencer_bounds(seq)
        assert seq.stats.unsolicited == driver.unsolicited, seq.stats
        assert seq.stats.delivered == events, seq.stats
        assert seq.stats.resyncs == markers, seq.stats

    return prop


@st.composite
def _sequencer_drops(draw: Any, max_n: int) -> tuple[int, list[int], bool, bool]:
    """``(n, missing, full_replay, batched)`` for property 3."""
    n = draw(st.integers(1, max_n))
    missing = sorted(draw(st.sets(st.integers(1, n), min_size=1)))
    return n, missing, draw(st.booleans()), draw(st.booleans())


def sequencer_repair_property(rw: int) -> Any:
    """Property 3: each dropped event is repaired by a resubscribe and a replay."""

    @_property_settings()
    @hypothesis_given(_sequencer_drops(rw))
    def prop(case: tuple[int, list[int], bool, bool]) -> None:
        n, missing, full_replay, batched = case
        gap_timeout, resubscribe_timeout = 2.0, 10.0
        seq = Sequencer(
            reorder_window=rw,
            dedup_window=2 * rw,
            gap_timeout=gap_timeout,
            resubscribe_timeout=resubscribe_timeout,
        )
        seq.track("p1")
        server_head = sequencer_head(n)
        delivered: list[int] = []

        def feed(seqs: list[int], now: float) -> None:
            events = [sequencer_event("p1", s) for s in seqs]
            if batched:
                outs = [seq.on_batch(events, now)]
            else:
                outs = [seq.on_event(event, now) for event in events]
            assert all(out.actions == () for out in outs), [out.actions for out in outs]
            delivered.extend(d.seq for out in outs for d in out.deliveries)

        now = 0.0
        feed([s for s in range(1, n + 1) if s not in missing], now)
        rounds = 0
        while len(delivered) < n:
            assert rounds <= n, ("no progress", delivered)
            assert delivered == list(range(1, len(delivered) + 1)), delivered
            last_id = f"e{delivered[-1]}" if delivered else None
            heartbeat = HeartbeatFrame(ts=EPOCH, heads={"p1": server_head})
            deadline = seq.next_deadline()
            if deadline is None:
                # Nothing buffered after the hole: only a heartbeat can show it.
                assert not seq._cursors["p1"].buffer
                out = seq.on_heartbeat(heartbeat, now)
                reason = RepairReason.TAIL_LOST
                # The repair sets a deadline the connection's watchdog must learn of.
                assert out.deadlines, out
                out = out._replace(deadlines=False)
            else:
                assert deadline == now + gap_timeout, (deadline, now)
                # While the gap timer runs, neither a heartbeat nor an early tick acts.
                assert seq.on_heartbeat(heartbeat, now) == SequencerOutput()
                assert seq.tick(deadline - gap_timeout / 2) == SequencerOutput()
                now = deadline
                out = seq.tick(now)
                reason = RepairReason.GAP_TIMEOUT
            assert out == SequencerOutput((), (Resubscribe("p1", last_id, reason),)), out
            # Pending: no second action until the resubscribe timeout passes.
            assert seq.next_deadline() == now + resubscribe_timeout
            assert seq.tick(now + resubscribe_timeout / 2) == SequencerOutput()
            now += 0.5
            buffered = bool(seq._cursors["p1"].buffer)
            answer = seq.on_subscribed(
                SubscribedFrame(id=rounds, plan_id="p1", head=server_head), now
            )
            # Events still buffered restart the gap timer: a new deadline.
            assert answer == SequencerOutput(deadlines=buffered), answer
            nxt = len(delivered) + 1
            # The server replays everything after last_id; or, as a harder case,
            # only the first missing event.
            feed(list(range(nxt, n + 1)) if full_replay else [nxt], now)
            rounds += 1
        assert delivered == list(range(1, n + 1)), delivered
        assert rounds == (1 if full_replay else len(missing)), (rounds, missing)
        assert seq.next_deadline() is None
        assert seq.stats.delivered == n, seq.stats

    return prop
