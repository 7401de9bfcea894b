"""Steps of sequencer.feature that inspect what the sequencer holds: stats,
deadlines, positions, buffers, remembered ids, tracked plans, and whether it
could be built."""

from __future__ import annotations

from typing import Any

from behave import then
from support.sequencer_events import scenario_sequencer

from planstream.plan_cursor import Position
from planstream.sequencer import Sequencer


@then("the sequencer stat {name:w} is {value:d}")
def sequencer_stat(context: Any, name: str, value: int) -> None:
    stats = scenario_sequencer(context).stats
    assert getattr(stats, name) == value, (name, stats)


@then("the sequencer next deadline is {deadline:g}")
def sequencer_next_deadline(context: Any, deadline: float) -> None:
    got = scenario_sequencer(context).next_deadline()
    assert got is not None, got
    assert abs(got - deadline) < 1e-9, (got, deadline)


@then("the sequencer has no deadline")
def sequencer_no_deadline(context: Any) -> None:
    got = scenario_sequencer(context).next_deadline()
    assert got is None, got


@then('the sequencer position of plan "{plan:w}" is seq {seq:d} at "{event_id:w}"')
def sequencer_position(context: Any, plan: str, seq: int, event_id: str) -> None:
    got = scenario_sequencer(context).position(plan)
    assert got == Position(event_id=event_id, seq=seq), got


@then('the sequencer position of plan "{plan:w}" is seq {seq:d} with no event id')
def sequencer_position_no_id(context: Any, plan: str, seq: int) -> None:
    got = scenario_sequencer(context).position(plan)
    assert got == Position(event_id=None, seq=seq), got


@then('the sequencer position of plan "{plan:w}" is unknown seq at "{event_id:w}"')
def sequencer_position_unknown_seq(context: Any, plan: str, event_id: str) -> None:
    got = scenario_sequencer(context).position(plan)
    assert got == Position(event_id=event_id, seq=None), got


@then('the sequencer buffers {count:d} events of plan "{plan:w}"')
def sequencer_buffers(context: Any, count: int, plan: str) -> None:
    buffer = scenario_sequencer(context)._cursors[plan].buffer
    assert len(buffer) == count, sorted(buffer)


@then('the sequencer buffers at most {count:d} events of plan "{plan:w}"')
def sequencer_buffers_at_most(context: Any, count: int, plan: str) -> None:
    buffer = scenario_sequencer(context)._cursors[plan].buffer
    assert len(buffer) <= count, sorted(buffer)


@then('the sequencer remembers at most {count:d} event ids of plan "{plan:w}"')
def sequencer_remembers_at_most(context: Any, count: int, plan: str) -> None:
    cursor = scenario_sequencer(context)._cursors[plan]
    assert len(cursor.recent_ids) <= count, cursor.recent_ids
    assert len(cursor.recent_order or ()) <= count, cursor.recent_order


@then('the sequencer remembers event ids "{ids}" of plan "{plan:w}"')
def sequencer_remembers(context: Any, ids: str, plan: str) -> None:
    cursor = scenario_sequencer(context)._cursors[plan]
    expected = [i.strip() for i in ids.split(",")]
    assert list(cursor.recent_order or ()) == expected, cursor.recent_order
    assert list(cursor.recent_ids) == expected, cursor.recent_ids


@then('the sequencer tracks only plans "{plans}"')
def sequencer_tracks_only(context: Any, plans: str) -> None:
    expected = tuple(p.strip() for p in plans.split(","))
    tracked = tuple(scenario_sequencer(context)._cursors)
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
