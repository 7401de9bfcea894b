"""Steps for the pure plan-state reducer (PlanState) and the PlanSnapshot."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from behave import given, then, use_step_matcher, when
from pydantic_core import to_jsonable_python

from planstream import PlanSnapshot, PlanState, PlanStateError, PlanStatus, PlanStreamError
from planstream.codec import decode_server_frame, encode_frame
from planstream.schema import TERMINAL_PLAN_STATUSES, EventBase, Head, ResyncFrame

use_step_matcher("parse")

_TS = "2024-05-01T09:00:00Z"


def _event(plan_id: str, seq: int, event_id: str, ts: str, kind: str, data: Any) -> EventBase:
    """An event decoded from its wire form, as a client would receive it."""
    frame = {
        "type": "event",
        "plan_id": plan_id,
        "event_id": event_id,
        "seq": seq,
        "ts": ts,
        "kind": kind,
        "data": data,
    }
    event = decode_server_frame(json.dumps(frame))
    assert isinstance(event, EventBase), event
    return event


def _recorded(context: Any, seq: int) -> EventBase:
    matches = [event for event in context.plan_events if event.seq == seq]
    assert len(matches) == 1, seq
    return matches[0]


def _state(context: Any) -> PlanState:
    state = context.plan_state
    assert isinstance(state, PlanState)
    return state


def _folded(plan_id: str, events: list[EventBase]) -> PlanState:
    """A fresh state with ``events`` applied one by one, as a subscriber folds them."""
    state = PlanState(plan_id)
    for event in events:
        state.apply(event)
    return state


def _fold(context: Any, events: list[EventBase], plan_id: str | None = None) -> None:
    context.plan_state = _folded(plan_id or context.plan_id, events)
    context.plan_kept = None


# --- Given ------------------------------------------------------------------------------


@given('the recorded event stream of plan "{plan_id}":')
def given_stream(context: Any, plan_id: str) -> None:
    context.plan_id = plan_id
    context.plan_events = [
        _event(
            plan_id,
            int(row["seq"]),
            row["event_id"],
            row["ts"],
            row["kind"],
            json.loads(row["data"]),
        )
        for row in context.table
    ]
    seqs = [event.seq for event in context.plan_events]
    assert seqs == list(range(1, len(seqs) + 1)), "the recorded stream is gap-free"


# --- When: folding -------------------------------------------------------------------


@when("the whole recorded stream is folded by the plan-state reducer")
def when_fold_all(context: Any) -> None:
    _fold(context, context.plan_events)


@when("the recorded stream up to seq {last:d} is folded by the plan-state reducer")
def when_fold_until(context: Any, last: int) -> None:
    _fold(context, [event for event in context.plan_events if event.seq <= last])
    assert _state(context).head is not None
    assert _state(context).head.seq == last


@when('no events are folded for plan "{plan_id}"')
def when_fold_nothing(context: Any, plan_id: str) -> None:
    _fold(context, [], plan_id)


@when('only a plan.status event of status "{status}" is folded for plan "{plan_id}"')
def when_fold_status(context: Any, status: str, plan_id: str) -> None:
    event = _event(plan_id, 1, "e1", _TS, "plan.status", {"status": status, "reason": None})
    _fold(context, [event], plan_id)


@when(
    'the step events "{first}" (index {i1:d}), "{second}" (index {i2:d})'
    ' and "{third}" (index {i3:d}) are folded for plan "{plan_id}"'
)
def when_fold_steps(
    context: Any, first: str, i1: int, second: str, i2: int, third: str, i3: int, plan_id: str
) -> None:
    events = [
        _event(
            plan_id,
            seq,
            f"e{seq}",
            _TS,
            "step.status",
            {"step_id": step_id, "index": index, "name": step_id, "status": "pending"},
        )
        for seq, (step_id, index) in enumerate([(first, i1), (second, i2), (third, i3)], 1)
    ]
    _fold(context, events, plan_id)


@when("the folded plan snapshot is kept")
def when_keep(context: Any) -> None:
    context.plan_kept = _state(context).snapshot()


def _apply(context: Any, event: EventBase) -> None:
    context.plan_before = _state(context).snapshot()
    try:
        context.plan_applied = _state(context).apply(event)
    except Exception as exc:  # asserted on by the Then steps
        context.plan_apply_error = exc
    else:
        context.plan_apply_error = None


@when("recorded event seq {seq:d} is applied to the folded plan")
def when_apply_recorded(context: Any, seq: int) -> None:
    _apply(context, _recorded(context, seq))


@when("the whole recorded stream is applied to the folded plan again")
def when_apply_all_again(context: Any) -> None:
    context.plan_reapplied = [_state(context).apply(event) for event in context.plan_events]


@when(
    'a plan.status event "{status}" with seq {seq:d} and event_id "{event_id}"'
    " is applied to the folded plan"
)
def when_apply_stale(context: Any, status: str, seq: int, event_id: str) -> None:
    event = _event(context.plan_id, seq, event_id, _TS, "plan.status", {"status": status})
    _apply(context, event)


@when('an event of plan "{plan_id}" is applied to the folded plan')
def when_apply_foreign(context: Any, plan_id: str) -> None:
    head = _state(context).head
    assert head is not None
    event = _event(plan_id, head.seq + 1, "foreign-1", _TS, "plan.status", {"status": "failed"})
    _apply(context, event)


@when("a new plan state is restored from the folded plan's snapshot sent over the wire")
def when_restore(context: Any) -> None:
    wire = encode_frame(_state(context).snapshot())
    snapshot = PlanSnapshot.model_validate_json(wire)
    context.plan_restored = PlanState.from_snapshot(snapshot)
    assert context.plan_restored.snapshot() == snapshot


@when("the recorded events after seq {seq:d} are applied to the restored plan state")
def when_apply_after(context: Any, seq: int) -> None:
    restored = context.plan_restored
    changed = [restored.apply(event) for event in context.plan_events if event.seq > seq]
    assert changed, "events were meant to follow"
    assert all(changed), changed


@when("the whole recorded stream is applied to the restored plan state")
def when_apply_all_restored(context: Any) -> None:
    restored = context.plan_restored
    start = restored.head.seq
    changed = [restored.apply(event) for event in context.plan_events]
    assert changed == [event.seq > start for event in context.plan_events], changed


# --- Then -------------------------------------------------------------------------------


@then('the folded plan status is "{status}" and it is {terminal}')
def then_status(context: Any, status: str, terminal: str) -> None:
    state = _state(context)
    snapshot = state.snapshot()
    expected = {"terminal": True, "not terminal": False}[terminal]
    assert state.status is PlanStatus(status), state.status
    assert snapshot.status is PlanStatus(status), snapshot.status
    assert state.is_terminal is expected
    assert snapshot.is_terminal is expected
    assert PlanStatus(status).is_terminal is expected
    assert (PlanStatus(status) in TERMINAL_PLAN_STATUSES) is expected


@then("the folded plan progress is {progress}")
def then_progress(context: Any, progress: str) -> None:
    snapshot = _state(context).snapshot()
    assert to_jsonable_python(snapshot.progress) == json.loads(progress), snapshot.progress
    assert snapshot.progress == _state(context).progress


@then("the folded plan steps are, in order:")
def then_steps(context: Any) -> None:
    steps = _state(context).snapshot().steps
    rows = list(context.table)
    assert [step.step_id for step in steps] == [row["step_id"] for row in rows], steps
    for step, row in zip(steps, rows, strict=True):
        assert step.index == int(row["index"]), step
        assert step.name == row["name"], step
        assert step.status.value == row["status"], step
        assert step.error == (row["error"] or None), step
    assert _state(context).steps == steps


def _head_is(context: Any, event: EventBase) -> None:
    state = _state(context)
    head = Head(seq=event.seq, event_id=event.event_id)
    assert state.head == head, (state.head, head)
    assert state.snapshot().head == head


def _updated_at(context: Any, event: EventBase) -> None:
    state = _state(context)
    assert isinstance(state.updated_at, datetime)
    assert state.updated_at == event.ts, (state.updated_at, event.ts)
    assert state.snapshot().updated_at == event.ts


@then("the folded plan head is the last recorded event")
def then_head_last(context: Any) -> None:
    _head_is(context, context.plan_events[-1])


@then("the folded plan was updated at the ts of the last recorded event")
def then_updated_last(context: Any) -> None:
    _updated_at(context, context.plan_events[-1])


@then("the folded plan head is recorded event seq {seq:d}")
def then_head_seq(context: Any, seq: int) -> None:
    _head_is(context, _recorded(context, seq))


@then("the folded plan was updated at the ts of recorded event seq {seq:d}")
def then_updated_seq(context: Any, seq: int) -> None:
    _updated_at(context, _recorded(context, seq))


@then("applying it was reported as a change of position")
def then_applied(context: Any) -> None:
    assert context.plan_apply_error is None, repr(context.plan_apply_error)
    assert context.plan_applied is True


@then("applying it was reported as no change")
def then_not_applied(context: Any) -> None:
    assert context.plan_apply_error is None, repr(context.plan_apply_error)
    assert context.plan_applied is False


@then("every re-application was reported as no change")
def then_none_applied(context: Any) -> None:
    assert context.plan_reapplied
    assert not any(context.plan_reapplied), context.plan_reapplied


@then("the folded plan differs from before only in head and updated_at")
def then_only_position(context: Any) -> None:
    before = context.plan_before.model_dump()
    after = _state(context).snapshot().model_dump()
    changed = {key for key in after if after[key] != before[key]}
    assert changed == {"head", "updated_at"}, changed


@then('the folded plan snapshot is empty for plan "{plan_id}"')
def then_empty(context: Any, plan_id: str) -> None:
    snapshot = _state(context).snapshot()
    assert snapshot == PlanSnapshot(plan_id=plan_id)
    assert snapshot.status is None
    assert snapshot.progress is None
    assert snapshot.steps == ()
    assert snapshot.head is None
    assert snapshot.updated_at is None
    assert not snapshot.is_terminal
    assert not _state(context).is_terminal


@then("the folded plan snapshot equals the kept one")
def then_equals_kept(context: Any) -> None:
    assert context.plan_kept is not None
    assert _state(context).snapshot() == context.plan_kept


@then('applying it failed with a PlanStateError naming "{other}" and "{own}"')
def then_plan_state_error(context: Any, other: str, own: str) -> None:
    error = context.plan_apply_error
    assert isinstance(error, PlanStateError), repr(error)
    assert isinstance(error, PlanStreamError)
    assert isinstance(error, ValueError)
    assert other in str(error), str(error)
    assert own in str(error), str(error)


@then("the restored plan state's snapshot equals the fold of the whole recorded stream")
def then_restored_equal(context: Any) -> None:
    expected = _folded(context.plan_id, context.plan_events).snapshot()
    assert context.plan_restored.snapshot() == expected
    assert context.plan_restored.is_terminal is expected.is_terminal


@then(
    "the folded plan snapshot round-trips through encode_frame and PlanSnapshot.model_validate_json"
)
def then_snapshot_round_trip(context: Any) -> None:
    snapshot = _state(context).snapshot()
    wire = encode_frame(snapshot)
    decoded = PlanSnapshot.model_validate_json(wire)
    assert decoded == snapshot, (decoded, snapshot)
    assert encode_frame(decoded) == wire
    assert set(json.loads(wire)) == {
        "plan_id",
        "status",
        "progress",
        "steps",
        "head",
        "updated_at",
    }, wire


@then("the folded plan snapshot decodes inside a resync frame to the same snapshot")
def then_snapshot_in_resync(context: Any) -> None:
    snapshot = _state(context).snapshot()
    frame = ResyncFrame(id=1, plan_id=snapshot.plan_id, reason="stream_reset", snapshot=snapshot)
    decoded = decode_server_frame(encode_frame(frame))
    assert isinstance(decoded, ResyncFrame)
    assert decoded.snapshot == snapshot
    assert decoded == frame


@then('the terminal plan statuses are exactly "{statuses}"')
def then_terminal_set(context: Any, statuses: str) -> None:
    expected = {PlanStatus(name.strip()) for name in statuses.split(",")}
    assert set(TERMINAL_PLAN_STATUSES) == expected
    assert {status for status in PlanStatus if status.is_terminal} == expected


@then('the folded plan step ids in order are "{step_ids}"')
def then_step_order(context: Any, step_ids: str) -> None:
    actual = [step.step_id for step in _state(context).snapshot().steps]
    assert actual == [name.strip() for name in step_ids.split(",")], actual
