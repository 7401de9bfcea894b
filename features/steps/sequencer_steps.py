"""Steps for sequencer.feature: the pure sequencer fed frame by frame.

Every step text names the sequencer (behave's step registry is global, so
this keeps these steps apart from the other features' steps). Time is a plain
number passed to the sequencer, which has no clock. The outputs of the latest
``When`` step are kept in ``context.seq_last``; all deliveries of the scenario
in ``context.seq_all``.
"""

from __future__ import annotations

from typing import Any

from behave import given, then, when
from support.sequencer_events import EPOCH, scenario_sequencer, sequencer_event, sequencer_head

from planstream import PlanSnapshot, PlanStatus, Resync, ResyncReason
from planstream.codec import decode_server_frame
from planstream.delivery import RepairReason, Resubscribe, SequencerOutput
from planstream.schema import BatchFrame, HeartbeatFrame, ResyncFrame, SubscribedFrame
from planstream.schema.events import Head
from planstream.sequencer import Sequencer

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


# --- Given --------------------------------------------------------------------------


@given(
    "a sequencer with reorder window {rw:d}, dedup window {dw:d}, "
    "gap timeout {gap:g}s and resubscribe timeout {resub:g}s"
)
def sequencer_built(context: Any, rw: int, dw: int, gap: float, resub: float) -> None:
    _build(context, rw, dw, gap, resub)


@given('the sequencer tracks plan "{plan:w}"')
def sequencer_tracks(context: Any, plan: str) -> None:
    scenario_sequencer(context).track(plan)


@given('the sequencer tracks plan "{plan:w}" resuming after "{event_id:w}"')
def sequencer_tracks_resuming(context: Any, plan: str, event_id: str) -> None:
    scenario_sequencer(context).track(plan, last_event_id=event_id)


@given('the sequencer tracks plan "{plan:w}" resuming after "{event_id:w}" at seq {seq:d}')
def sequencer_tracks_resuming_at(context: Any, plan: str, event_id: str, seq: int) -> None:
    scenario_sequencer(context).track(plan, last_event_id=event_id, last_seq=seq)


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
    seq = scenario_sequencer(context)
    _record(context, [seq.on_event(sequencer_event(plan, s), now) for s in seqs])


@when(
    'the sequencer receives events {seqs:SequencerSeqs} of plan "{plan:w}" '
    "as one batch at time {now:g}"
)
def sequencer_receives_batch(context: Any, seqs: list[int], plan: str, now: float) -> None:
    frame = BatchFrame(events=tuple(sequencer_event(plan, s) for s in seqs))
    _record(context, [scenario_sequencer(context).feed(frame, now)])


@when("the sequencer receives one batch at time {now:g} holding:")
def sequencer_receives_mixed_batch(context: Any, now: float) -> None:
    events = [sequencer_event(row["plan"], int(row["seq"])) for row in context.table]
    _record(context, [scenario_sequencer(context).on_batch(events, now)])


@when(
    'the sequencer receives event {seq:d} with id "{event_id:w}" of plan "{plan:w}" at time {now:g}'
)
def sequencer_receives_event_with_id(
    context: Any, seq: int, event_id: str, plan: str, now: float
) -> None:
    event = sequencer_event(plan, seq, event_id)
    _record(context, [scenario_sequencer(context).feed(event, now)])


@when("the sequencer ticks at time {now:g}")
def sequencer_ticks(context: Any, now: float) -> None:
    _record(context, [scenario_sequencer(context).tick(now)])


@when(
    'the sequencer is told plan "{plan:w}" is subscribed with head {seq:d} "{event_id:w}" '
    "at time {now:g}"
)
def sequencer_subscribed(context: Any, plan: str, seq: int, event_id: str, now: float) -> None:
    frame = SubscribedFrame(id=1, plan_id=plan, head=sequencer_head(seq, event_id))
    _record(context, [scenario_sequencer(context).on_subscribed(frame, now)])


@when('the sequencer is told plan "{plan:w}" is subscribed with no head at time {now:g}')
def sequencer_subscribed_no_head(context: Any, plan: str, now: float) -> None:
    frame = SubscribedFrame(id=1, plan_id=plan, head=None)
    _record(context, [scenario_sequencer(context).on_subscribed(frame, now)])


def _resync(context: Any, plan: str, reason: str, head: Head | None, now: float) -> None:
    snapshot = PlanSnapshot(
        plan_id=plan,
        status=PlanStatus.RUNNING,
        head=head,
        updated_at=EPOCH if head else None,
    )
    context.seq_sent_snapshot = snapshot
    frame = ResyncFrame(id=2, plan_id=plan, reason=ResyncReason(reason), snapshot=snapshot)
    _record(context, [scenario_sequencer(context).on_resync(frame, now)])


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
    frame = HeartbeatFrame(ts=EPOCH, heads={plan: head})
    _record(context, [scenario_sequencer(context).on_heartbeat(frame, now)])


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
    scenario_sequencer(context).untrack(plan)


@when("the sequencer is fed this frame at time {now:g}:")
def sequencer_fed_frame(context: Any, now: float) -> None:
    frame = decode_server_frame(context.text)
    _record(context, [scenario_sequencer(context).feed(frame, now)])


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
