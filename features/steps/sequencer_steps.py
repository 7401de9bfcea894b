"""Steps for sequencer.feature: the pure sequencer fed frame by frame.

Every step text names the sequencer (behave's step registry is global, so
this keeps these steps apart from the other features' steps). Time is a plain
number passed to the sequencer, which has no clock. The outputs of the latest
``When`` step are kept in ``context.seq_last``; all deliveries of the scenario
in ``context.seq_all``.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

import parse
from behave import given, register_type, then, when
from hypothesis import HealthCheck, settings
from hypothesis import given as hypothesis_given
from hypothesis import strategies as st

from planstream import (
    BatchFrame,
    Head,
    HeartbeatFrame,
    LogData,
    LogEvent,
    PlanSnapshot,
    PlanStatus,
    RepairReason,
    Resubscribe,
    Resync,
    ResyncFrame,
    ResyncReason,
    Sequencer,
    SequencerOutput,
    SubscribedFrame,
    decode_server_frame,
)
from planstream.plan_cursor import Position

_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@functools.lru_cache(maxsize=65536)
def sequencer_event(plan_id: str, seq: int, event_id: str | None = None) -> LogEvent:
    """A log event of ``plan_id`` at ``seq``; its id is ``e<seq>`` unless given.

    Events are frozen models, so the cached instances can be shared freely.
    """
    return LogEvent(
        plan_id=plan_id,
        event_id=event_id if event_id is not None else f"e{seq}",
        seq=seq,
        ts=_EPOCH + timedelta(seconds=min(seq, 10**9)),
        data=LogData(level="info", message=f"line {seq}", stream="stdout"),
    )


def sequencer_head(seq: int | None, event_id: str | None = None) -> Head | None:
    """A stream head, or None when ``seq`` is None."""
    if seq is None:
        return None
    return Head(seq=seq, event_id=event_id if event_id is not None else f"e{seq}")


# --- "1, 3, 2..5" lists of seqs ---------------------------------------------------

_SEQ_ITEM = r"\d+(?:\.\.\d+)?"


@parse.with_pattern(rf"{_SEQ_ITEM}(?:\s*,\s*{_SEQ_ITEM})*")
def _parse_sequencer_seqs(text: str) -> list[int]:
    seqs: list[int] = []
    for item in re.split(r"\s*,\s*", text.strip()):
        low, _, high = item.partition("..")
        seqs.extend(range(int(low), int(high or low) + 1))
    return seqs


register_type(SequencerSeqs=_parse_sequencer_seqs)


# --- recording outputs --------------------------------------------------------------


def _record(context: Any, outputs: list[SequencerOutput]) -> None:
    deliveries = [d for out in outputs for d in out.deliveries]
    actions = [a for out in outputs for a in out.actions]
    context.seq_last = SequencerOutput(tuple(deliveries), tuple(actions))
    context.seq_all.extend(deliveries)


def _build(context: Any, rw: int, dw: int, gap: float, resub: float) -> None:
    context.seq_sequencer = Sequencer(
        reorder_window=rw, dedup_window=dw, gap_timeout=gap, resubscribe_timeout=resub
    )
    context.seq_last = SequencerOutput()
    context.seq_all = []


def _sequencer(context: Any) -> Sequencer:
    return context.seq_sequencer


# --- Given --------------------------------------------------------------------------


@given(
    "a sequencer with reorder window {rw:d}, dedup window {dw:d}, "
    "gap timeout {gap:g}s and resubscribe timeout {resub:g}s"
)
def sequencer_built(context: Any, rw: int, dw: int, gap: float, resub: float) -> None:
    _build(context, rw, dw, gap, resub)


@given('the sequencer tracks plan "{plan:w}"')
def sequencer_tracks(context: Any, plan: str) -> None:
    _sequencer(context).track(plan)


@given('the sequencer tracks plan "{plan:w}" resuming after "{event_id:w}"')
def sequencer_tracks_resuming(context: Any, plan: str, event_id: str) -> None:
    _sequencer(context).track(plan, last_event_id=event_id)


@given('the sequencer tracks plan "{plan:w}" resuming after "{event_id:w}" at seq {seq:d}')
def sequencer_tracks_resuming_at(context: Any, plan: str, event_id: str, seq: int) -> None:
    _sequencer(context).track(plan, last_event_id=event_id, last_seq=seq)


# --- When ---------------------------------------------------------------------------


@when(
    "a sequencer is built with reorder window {rw:d}, dedup window {dw:d}, "
    "gap timeout {gap:g}s and resubscribe timeout {resub:g}s"
)
def sequencer_build_attempt(context: Any, rw: int, dw: int, gap: float, resub: float) -> None:
    context.seq_build_error = None
    try:
        _build(context, rw, dw, gap, resub)
    except ValueError as exc:
        context.seq_build_error = exc


@when('the sequencer receives events {seqs:SequencerSeqs} of plan "{plan:w}" at time {now:g}')
def sequencer_receives_events(context: Any, seqs: list[int], plan: str, now: float) -> None:
    seq = _sequencer(context)
    _record(context, [seq.on_event(sequencer_event(plan, s), now) for s in seqs])


@when(
    'the sequencer receives events {seqs:SequencerSeqs} of plan "{plan:w}" '
    "as one batch at time {now:g}"
)
def sequencer_receives_batch(context: Any, seqs: list[int], plan: str, now: float) -> None:
    frame = BatchFrame(events=tuple(sequencer_event(plan, s) for s in seqs))
    _record(context, [_sequencer(context).feed(frame, now)])


@when("the sequencer receives one batch at time {now:g} holding:")
def sequencer_receives_mixed_batch(context: Any, now: float) -> None:
    events = [sequencer_event(row["plan"], int(row["seq"])) for row in context.table]
    _record(context, [_sequencer(context).on_batch(events, now)])


@when(
    'the sequencer receives event {seq:d} with id "{event_id:w}" of plan "{plan:w}" at time {now:g}'
)
def sequencer_receives_event_with_id(
    context: Any, seq: int, event_id: str, plan: str, now: float
) -> None:
    event = sequencer_event(plan, seq, event_id)
    _record(context, [_sequencer(context).feed(event, now)])


@when("the sequencer ticks at time {now:g}")
def sequencer_ticks(context: Any, now: float) -> None:
    _record(context, [_sequencer(context).tick(now)])


@when(
    'the sequencer is told plan "{plan:w}" is subscribed with head {seq:d} "{event_id:w}" '
    "at time {now:g}"
)
def sequencer_subscribed(context: Any, plan: str, seq: int, event_id: str, now: float) -> None:
    frame = SubscribedFrame(id=1, plan_id=plan, head=sequencer_head(seq, event_id))
    _record(context, [_sequencer(context).on_subscribed(frame, now)])


@when('the sequencer is told plan "{plan:w}" is subscribed with no head at time {now:g}')
def sequencer_subscribed_no_head(context: Any, plan: str, now: float) -> None:
    frame = SubscribedFrame(id=1, plan_id=plan, head=None)
    _record(context, [_sequencer(context).on_subscribed(frame, now)])


def _resync(context: Any, plan: str, reason: str, head: Head | None, now: float) -> None:
    snapshot = PlanSnapshot(
        plan_id=plan,
        status=PlanStatus.RUNNING,
        head=head,
        updated_at=_EPOCH if head else None,
    )
    context.seq_sent_snapshot = snapshot
    frame = ResyncFrame(id=2, plan_id=plan, reason=ResyncReason(reason), snapshot=snapshot)
    _record(context, [_sequencer(context).on_resync(frame, now)])


@when(
    'the sequencer receives a resync of plan "{plan:w}" for reason "{reason:w}" '
    'with head {seq:d} "{event_id:w}" at time {now:g}'
)
def sequencer_resync(
    context: Any, plan: str, reason: str, seq: int, event_id: str, now: float
) -> None:
    _resync(context, plan, reason, sequencer_head(seq, event_id), now)


@when(
    'the sequencer receives a resync of plan "{plan:w}" for reason "{reason:w}" '
    "with no head at time {now:g}"
)
def sequencer_resync_no_head(context: Any, plan: str, reason: str, now: float) -> None:
    _resync(context, plan, reason, None, now)


def _heartbeat(context: Any, plan: str, head: Head | None, now: float) -> None:
    frame = HeartbeatFrame(ts=_EPOCH, heads={plan: head})
    _record(context, [_sequencer(context).on_heartbeat(frame, now)])


@when(
    'the sequencer receives a heartbeat with head {seq:d} "{event_id:w}" for plan "{plan:w}" '
    "at time {now:g}"
)
def sequencer_heartbeat(context: Any, seq: int, event_id: str, plan: str, now: float) -> None:
    _heartbeat(context, plan, sequencer_head(seq, event_id), now)


@when('the sequencer receives a heartbeat with no head for plan "{plan:w}" at time {now:g}')
def sequencer_heartbeat_no_head(context: Any, plan: str, now: float) -> None:
    _heartbeat(context, plan, None, now)


@when('the sequencer stops tracking plan "{plan:w}"')
def sequencer_untracks(context: Any, plan: str) -> None:
    _sequencer(context).untrack(plan)


@when("the sequencer is fed this frame at time {now:g}:")
def sequencer_fed_frame(context: Any, now: float) -> None:
    frame = decode_server_frame(context.text)
    _record(context, [_sequencer(context).feed(frame, now)])


# --- Then ---------------------------------------------------------------------------


def _event_seqs(deliveries: Any, plan: str | None = None) -> list[int]:
    return [
        d.seq
        for d in deliveries
        if not isinstance(d, Resync) and (plan is None or d.plan_id == plan)
    ]


@then("the sequencer delivers seqs {seqs:SequencerSeqs}")
def sequencer_delivers(context: Any, seqs: list[int]) -> None:
    deliveries = context.seq_last.deliveries
    assert not any(isinstance(d, Resync) for d in deliveries), deliveries
    assert _event_seqs(deliveries) == seqs, (_event_seqs(deliveries), seqs)


@then('the sequencer delivers seqs {seqs:SequencerSeqs} of plan "{plan:w}"')
def sequencer_delivers_of_plan(context: Any, seqs: list[int], plan: str) -> None:
    got = _event_seqs(context.seq_last.deliveries, plan)
    assert got == seqs, (got, seqs)


@then('the sequencer has delivered in total seqs {seqs:SequencerSeqs} of plan "{plan:w}"')
def sequencer_delivered_in_total(context: Any, seqs: list[int], plan: str) -> None:
    got = _event_seqs(context.seq_all, plan)
    assert got == seqs, (got, seqs)


@then("the sequencer delivers nothing")
def sequencer_delivers_nothing(context: Any) -> None:
    assert context.seq_last.deliveries == (), context.seq_last.deliveries


@then("the sequencer requests no action")
def sequencer_no_action(context: Any) -> None:
    assert context.seq_last.actions == (), context.seq_last.actions


def _expect_action(context: Any, plan: str, event_id: str | None, reason: str) -> None:
    expected = (Resubscribe(plan, event_id, RepairReason(reason)),)
    assert context.seq_last.actions == expected, (context.seq_last.actions, expected)
    assert context.seq_last.deliveries == (), context.seq_last.deliveries


@then(
    'the sequencer requests a resubscribe of plan "{plan:w}" after "{event_id:w}" '
    'for reason "{reason:w}"'
)
def sequencer_requests_resubscribe(context: Any, plan: str, event_id: str, reason: str) -> None:
    _expect_action(context, plan, event_id, reason)


@then(
    'the sequencer requests a resubscribe of plan "{plan:w}" after no event for reason "{reason:w}"'
)
def sequencer_requests_resubscribe_from_start(context: Any, plan: str, reason: str) -> None:
    _expect_action(context, plan, None, reason)


@then("the sequencer requests these resubscribes:")
def sequencer_requests_table(context: Any) -> None:
    expected = tuple(
        Resubscribe(
            row["plan"],
            None if row["after"] == "-" else row["after"],
            RepairReason(row["reason"]),
        )
        for row in context.table
    )
    assert context.seq_last.actions == expected, (context.seq_last.actions, expected)


def _expect_marker(context: Any, plan: str, reason: str, head: Head | None) -> Resync:
    deliveries = context.seq_last.deliveries
    assert len(deliveries) == 1, deliveries
    marker = deliveries[0]
    assert isinstance(marker, Resync), marker
    assert marker.plan_id == plan, marker
    assert marker.reason == ResyncReason(reason), marker
    assert marker.snapshot.plan_id == plan, marker
    assert marker.snapshot.head == head, (marker.snapshot.head, head)
    assert context.seq_last.actions == (), context.seq_last.actions
    return marker


@then(
    'the sequencer delivers a resync marker of plan "{plan:w}" for reason "{reason:w}" '
    'with head {seq:d} "{event_id:w}"'
)
def sequencer_delivers_marker(
    context: Any, plan: str, reason: str, seq: int, event_id: str
) -> None:
    _expect_marker(context, plan, reason, sequencer_head(seq, event_id))


@then(
    'the sequencer delivers a resync marker of plan "{plan:w}" for reason "{reason:w}" with no head'
)
def sequencer_delivers_marker_no_head(context: Any, plan: str, reason: str) -> None:
    _expect_marker(context, plan, reason, None)


@then("the sequencer resync marker carries the snapshot the server sent")
def sequencer_marker_snapshot(context: Any) -> None:
    (marker,) = context.seq_last.deliveries
    assert marker.snapshot == context.seq_sent_snapshot, marker


@then("the sequencer stat {name:w} is {value:d}")
def sequencer_stat(context: Any, name: str, value: int) -> None:
    stats = _sequencer(context).stats
    assert getattr(stats, name) == value, (name, stats)


@then("the sequencer next deadline is {deadline:g}")
def sequencer_next_deadline(context: Any, deadline: float) -> None:
    got = _sequencer(context).next_deadline()
    assert got is not None, got
    assert abs(got - deadline) < 1e-9, (got, deadline)


@then("the sequencer has no deadline")
def sequencer_no_deadline(context: Any) -> None:
    assert _sequencer(context).next_deadline() is None, _sequencer(context).next_deadline()


@then('the sequencer position of plan "{plan:w}" is seq {seq:d} at "{event_id:w}"')
def sequencer_position(context: Any, plan: str, seq: int, event_id: str) -> None:
    got = _sequencer(context).position(plan)
    assert got == Position(event_id=event_id, seq=seq), got


@then('the sequencer position of plan "{plan:w}" is seq {seq:d} with no event id')
def sequencer_position_no_id(context: Any, plan: str, seq: int) -> None:
    got = _sequencer(context).position(plan)
    assert got == Position(event_id=None, seq=seq), got


@then('the sequencer position of plan "{plan:w}" is unknown seq at "{event_id:w}"')
def sequencer_position_unknown_seq(context: Any, plan: str, event_id: str) -> None:
    got = _sequencer(context).position(plan)
    assert got == Position(event_id=event_id, seq=None), got


@then('the sequencer buffers {count:d} events of plan "{plan:w}"')
def sequencer_buffers(context: Any, count: int, plan: str) -> None:
    buffer = _sequencer(context)._cursors[plan].buffer
    assert len(buffer) == count, sorted(buffer)


@then('the sequencer buffers at most {count:d} events of plan "{plan:w}"')
def sequencer_buffers_at_most(context: Any, count: int, plan: str) -> None:
    buffer = _sequencer(context)._cursors[plan].buffer
    assert len(buffer) <= count, sorted(buffer)


@then('the sequencer remembers at most {count:d} event ids of plan "{plan:w}"')
def sequencer_remembers_at_most(context: Any, count: int, plan: str) -> None:
    cursor = _sequencer(context)._cursors[plan]
    assert len(cursor.recent_ids) <= count, cursor.recent_ids
    assert len(cursor.recent_order or ()) <= count, cursor.recent_order


@then('the sequencer remembers event ids "{ids}" of plan "{plan:w}"')
def sequencer_remembers(context: Any, ids: str, plan: str) -> None:
    cursor = _sequencer(context)._cursors[plan]
    expected = [i.strip() for i in ids.split(",")]
    assert list(cursor.recent_order or ()) == expected, cursor.recent_order
    assert list(cursor.recent_ids) == expected, cursor.recent_ids


@then('the sequencer tracks only plans "{plans}"')
def sequencer_tracks_only(context: Any, plans: str) -> None:
    expected = tuple(p.strip() for p in plans.split(","))
    tracked = tuple(_sequencer(context)._cursors)
    assert tracked == expected, tracked


@then('building the sequencer fails with a ValueError mentioning "{text}"')
def sequencer_build_failed(context: Any, text: str) -> None:
    error = context.seq_build_error
    assert isinstance(error, ValueError), error
    assert text in str(error), str(error)


@then("building the sequencer succeeds")
def sequencer_build_succeeded(context: Any) -> None:
    assert context.seq_build_error is None, context.seq_build_error
    assert isinstance(context.seq_sequencer, Sequencer)


# --- properties (sequencer_properties.feature) ------------------------------------------
#
# Each property is a hypothesis test built by a factory below and run inside its
# step. ``derandomize=True`` and no example database keep CI runs reproducible.


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
_PROP_HUGE = 2**53 - 2**20  # near the largest JSON-safe seq (protocol §1), room for runs
# A seq is mostly relative to the plan's current position, so that streams make
# progress; sometimes absolute, including huge values.
_prop_seq = st.one_of(
    st.tuples(st.just("rel"), st.integers(-3, 10)),
    st.tuples(
        st.just("abs"),
        st.one_of(st.integers(1, 30), st.just(_PROP_HUGE), st.integers(1, _PROP_HUGE)),
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


class _SequencerModel:
    """What the user saw of one plan since the last resync (or the start)."""

    def __init__(self, last_seq: int | None, last_id: str | None, dw: int) -> None:
        self.dw = dw
        self.last_seq = last_seq
        self.last_id = last_id
        # Ids delivered within the dedup window; the resume position counts as
        # delivered (it was, before the resume).
        self.recent: deque[str] = deque([last_id] if last_id else [], maxlen=dw)
        self.hint = 0  # where relative seqs start while last_seq is unknown

    def rebase(self, head: Head | None) -> None:
        self.last_seq = head.seq if head else 0
        self.last_id = head.event_id if head else None
        self.recent = deque([head.event_id] if head else [], maxlen=self.dw)


class _SequencerDriver:
    """Feeds generated ops to a sequencer, resolving relative seqs at run time."""

    def __init__(self, seq: Sequencer, models: dict[str, _SequencerModel]) -> None:
        self.seq = seq
        self.models = models
        self.now = 0.0
        self.unsolicited = 0

    def _base(self, plan: str) -> int:
        model = self.models.get(plan)
        if model is None:
            return 0
        return model.last_seq if model.last_seq is not None else model.hint

    def _seq(self, plan: str, spec: tuple[str, int]) -> int:
        kind, value = spec
        return value if kind == "abs" else min(_PROP_HUGE, max(1, self._base(plan) + value))

    def _event(self, plan: str, seq: int, event_id: str | None) -> Any:
        self.unsolicited += plan not in self.models
        return sequencer_event(plan, seq, event_id)

    def _head(self, plan: str, spec: Any) -> Head | None:
        if spec is None:
            return None
        if spec == "here":
            model = self.models.get(plan)
            if model is None or model.last_id is None:
                return None
            return sequencer_head(self._base(plan), model.last_id)
        seq_spec, event_id = spec
        return sequencer_head(self._seq(plan, seq_spec), event_id)

    def apply(self, op: tuple[Any, ...]) -> SequencerOutput:
        seq, now, kind = self.seq, self.now, op[0]
        if kind == "event":
            plan, seq_spec, event_id = op[1]
            return seq.on_event(self._event(plan, self._seq(plan, seq_spec), event_id), now)
        if kind == "run":
            _, plan, start, length, swaps, as_batch = op
            first = self._base(plan) + start
            order = list(range(first, first + length))
            for i, j in swaps:
                order[i % length], order[j % length] = order[j % length], order[i % length]
            events = [self._event(plan, s, None) for s in order]
            if as_batch:
                return seq.feed(BatchFrame(events=tuple(events)), now)
            outs = [seq.on_event(event, now) for event in events]
            return SequencerOutput(
                tuple(d for o in outs for d in o.deliveries),
                tuple(a for o in outs for a in o.actions),
            )
        if kind == "batch":
            events = [self._event(p, self._seq(p, s), e) for p, s, e in op[1]]
            return seq.feed(BatchFrame(events=tuple(events)), now)
        if kind == "tick":
            self.now += op[1]
            return seq.tick(self.now)
        if kind == "heartbeat":
            heads = {plan: self._head(plan, spec) for plan, spec in op[1].items()}
            return seq.feed(HeartbeatFrame(ts=_EPOCH, heads=heads), now)
        if kind == "subscribed":
            frame = SubscribedFrame(id=1, plan_id=op[1], head=self._head(op[1], op[2]))
            return seq.feed(frame, now)
        if kind == "resync":
            snapshot = PlanSnapshot(plan_id=op[1], head=self._head(op[1], op[3]))
            return seq.feed(ResyncFrame(plan_id=op[1], reason=op[2], snapshot=snapshot), now)
        if kind == "echo":
            _, plan, back, delta = op
            model = self.models.get(plan)
            if model is None or not model.recent:
                return SequencerOutput()
            event_id = model.recent[-1 - back % len(model.recent)]
            return seq.on_event(sequencer_event(plan, self._base(plan) + delta, event_id), now)
        # A reconnect, as the router performs it: every plan is tracked again
        # from its position when the server answers; the dedup window restarts.
        for plan, model in self.models.items():
            position = seq.position(plan)
            seq.track(plan, last_event_id=position.event_id, last_seq=position.seq)
            model.recent = deque([position.event_id] if position.event_id else [], maxlen=model.dw)
        return SequencerOutput()


def _check_output(
    seq: Sequencer, models: dict[str, _SequencerModel], out: SequencerOutput
) -> tuple[int, int]:
    """Check one op's output against the models; returns (events, markers) delivered."""
    ids_before = {plan: m.last_id for plan, m in models.items()}
    ids_seen: dict[str, set[str | None]] = {plan: {ids_before[plan]} for plan in models}
    events = markers = 0
    for item in out.deliveries:
        assert item.plan_id in models, ("delivered for an untracked plan", item)
        model = models[item.plan_id]
        if isinstance(item, Resync):
            model.rebase(item.snapshot.head)
            markers += 1
        else:
            if model.last_seq is not None:
                assert item.seq == model.last_seq + 1, ("skipped or repeated", item, model.last_seq)
            assert item.event_id not in model.recent, ("id delivered twice", item, model.recent)
            model.last_seq, model.last_id = item.seq, item.event_id
            model.recent.append(item.event_id)
            events += 1
        ids_seen[item.plan_id].add(model.last_id)
    for action in out.actions:
        assert action.plan_id in models, ("repair for an untracked plan", action)
        assert isinstance(action.reason, RepairReason), action
        # Resume from the last delivered id (at the time the action was taken).
        assert action.last_event_id in ids_seen[action.plan_id], (action, ids_seen)
    for plan, model in models.items():
        position = seq.position(plan)
        if model.last_seq is None:
            model.last_seq = position.seq  # learned from a matching `subscribed` head
        assert position == (model.last_id, model.last_seq), (plan, position, vars(model))
    return events, markers


def _check_bounds(seq: Sequencer) -> None:
    for plan, cursor in seq._cursors.items():
        assert len(cursor.buffer) <= seq.reorder_window, (plan, sorted(cursor.buffer))
        assert len(cursor.recent_ids) <= seq.dedup_window, (plan, cursor.recent_ids)
        assert len(cursor.recent_order or ()) <= seq.dedup_window, (plan, cursor.recent_order)
        if cursor.buffer:
            last = cursor.last_seq
            assert last is not None, plan
            assert all(last + 1 < s <= last + seq.reorder_window for s in cursor.buffer), (
                plan,
                last,
                sorted(cursor.buffer),
            )
            # Buffered events mean a missing one: something must be due (no stall).
            assert cursor.gap_deadline is not None or cursor.repair_deadline is not None, plan


_prop_start = st.tuples(st.sampled_from(("unknown", "known")), st.integers(1, 10))


def sequencer_invariants_property(rw: int, dw: int, *, resumed: bool) -> Any:
    """Property 2: whatever arrives, memory stays bounded and deliveries stay sane."""
    starts = st.tuples(_prop_start, _prop_start) if resumed else st.just(None)

    @_property_settings()
    @hypothesis_given(starts, st.lists(_prop_op, min_size=6, max_size=60))
    def prop(start: Any, ops: list[tuple[Any, ...]]) -> None:
        seq = Sequencer(reorder_window=rw, dedup_window=dw, gap_timeout=2.0)
        models: dict[str, _SequencerModel] = {}
        for index, plan in enumerate(("p1", "p2")):
            if start is None:
                seq.track(plan)
                models[plan] = _SequencerModel(0, None, dw)
                continue
            mode, k = start[index]
            last_seq = k if mode == "known" else None
            seq.track(plan, last_event_id=f"e{k}", last_seq=last_seq)
            models[plan] = _SequencerModel(last_seq, f"e{k}", dw)
            models[plan].hint = k
        driver = _SequencerDriver(seq, models)
        events = markers = 0
        for op in ops:
            delivered, resyncs = _check_output(seq, models, driver.apply(op))
            events += delivered
            markers += resyncs
            _check_bounds(seq)
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
            heartbeat = HeartbeatFrame(ts=_EPOCH, heads={"p1": server_head})
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


def _run_property(prop: Any) -> None:
    """Run a hypothesis test; on failure, show its falsifying example in behave's report."""
    try:
        prop()
    except AssertionError as exc:
        notes = "\n".join(getattr(exc, "__notes__", ()))
        raise AssertionError(f"{exc}\n{notes}") from exc


@then(
    "the sequencer delivers any shuffled seq range with duplicates exactly once in order, "
    "fed one event at a time, with reorder window {rw:d} and dedup window {dw:d}"
)
def sequencer_property_shuffle(context: Any, rw: int, dw: int) -> None:
    _run_property(sequencer_shuffle_property(rw, dw, batched=False))


@then(
    "the sequencer delivers any shuffled seq range with duplicates exactly once in order, "
    "fed as batches, with reorder window {rw:d} and dedup window {dw:d}"
)
def sequencer_property_shuffle_batches(context: Any, rw: int, dw: int) -> None:
    _run_property(sequencer_shuffle_property(rw, dw, batched=True))


@then(
    "the sequencer keeps its bounds, order and uniqueness for any input to fresh plans "
    "with reorder window {rw:d} and dedup window {dw:d}"
)
def sequencer_property_invariants(context: Any, rw: int, dw: int) -> None:
    _run_property(sequencer_invariants_property(rw, dw, resumed=False))


@then(
    "the sequencer keeps its bounds, order and uniqueness for any input to resumed plans "
    "with reorder window {rw:d} and dedup window {dw:d}"
)
def sequencer_property_invariants_resumed(context: Any, rw: int, dw: int) -> None:
    _run_property(sequencer_invariants_property(rw, dw, resumed=True))


@then(
    "the sequencer repairs any events dropped from a seq range of up to {rw:d} "
    "by resubscribe and replay, delivering each exactly once"
)
def sequencer_property_repair(context: Any, rw: int) -> None:
    _run_property(sequencer_repair_property(rw))
