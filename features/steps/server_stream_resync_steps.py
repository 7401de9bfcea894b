"""Steps of the stream endpoint features about resync: a plan's history, the
resync frame and its snapshot, and a second server (a new incarnation)."""

from __future__ import annotations

from typing import Any

from behave import given, then, when
from support.server_stream_support import (
    log_data,
    named_tap,
    next_frame,
    parse_utc,
    publish_logs,
    published_id,
    tap_requests,
)
from support.servers import run, start_reference_server

# --- resync ------------------------------------------------------------------------------


@given('plan "{plan_id}" ran {steps:d} steps on the stream, then logged {lines:d} lines')
def step_plan_ran(context: Any, plan_id: str, steps: int, lines: int) -> None:
    async def publish() -> list[tuple[int, str]]:
        appended = []

        async def one(kind: str, data: dict[str, Any]) -> None:
            stored = await context.server.publish(plan_id, kind, data)
            appended.append((stored.seq, stored.event.event_id))

        await one("plan.status", {"status": "running", "reason": None})
        for index in range(steps):
            step = {"step_id": f"s{index}", "index": index, "name": f"step {index}"}
            await one("step.status", {**step, "status": "running", "error": None})
            await one("step.status", {**step, "status": "succeeded", "error": None})
            await one(
                "plan.progress",
                {
                    "completed_steps": index + 1,
                    "total_steps": steps,
                    "percent": 100.0 * (index + 1) / steps,
                    "message": None,
                },
            )
        for number in range(lines):
            await one("log", log_data(number))
        return appended

    context.published.setdefault(plan_id, []).extend(run(context, publish()))


@then(
    'raw client "{name}" next receives a stream resync for plan "{plan_id}" with reason "{reason}"'
)
def step_resync(context: Any, name: str, plan_id: str, reason: str) -> None:
    tap = named_tap(context, name)
    frame = next_frame(context, name)
    assert frame["type"] == "resync", frame
    assert frame["id"] == tap_requests(tap)[plan_id], frame
    assert frame["plan_id"] == plan_id, frame
    assert frame["reason"] == reason, frame
    assert frame["snapshot"]["plan_id"] == plan_id, frame
    tap.last_resync = frame  # type: ignore[attr-defined]


def _snapshot(context: Any, name: str) -> dict[str, Any]:
    snapshot: dict[str, Any] = named_tap(context, name).last_resync["snapshot"]  # type: ignore[attr-defined]
    return snapshot


def _assert_newest_head(context: Any, snapshot: dict[str, Any]) -> None:
    seq, event_id = context.published[snapshot["plan_id"]][-1]
    assert snapshot["head"] == {"seq": seq, "event_id": event_id}, snapshot
    parse_utc(snapshot["updated_at"])


@then(
    'the stream resync snapshot of raw client "{name}" has status "{status}", progress {done:d} '
    "of {total:d} steps, {succeeded:d} succeeded steps and the plan's newest event as head"
)
def step_snapshot_full(
    context: Any, name: str, status: str, done: int, total: int, succeeded: int
) -> None:
    snapshot = _snapshot(context, name)
    assert snapshot["status"] == status, snapshot
    progress = snapshot["progress"]
    assert (progress["completed_steps"], progress["total_steps"]) == (done, total), snapshot
    assert progress["percent"] == 100.0 * done / total, snapshot
    steps = snapshot["steps"]
    assert [s["index"] for s in steps] == list(range(len(steps))), steps
    assert sum(s["status"] == "succeeded" for s in steps) == succeeded == len(steps), steps
    _assert_newest_head(context, snapshot)


@then('the stream resync snapshot of raw client "{name}" has the plan\'s newest event as head')
def step_snapshot_head(context: Any, name: str) -> None:
    _assert_newest_head(context, _snapshot(context, name))


@then('the stream resync snapshot of raw client "{name}" has no head and no status')
def step_snapshot_empty(context: Any, name: str) -> None:
    snapshot = _snapshot(context, name)
    assert snapshot["head"] is None, snapshot
    assert snapshot["status"] is None, snapshot
    assert snapshot["steps"] == [], snapshot
    assert snapshot["progress"] is None, snapshot


@then('the stream resync snapshot of raw client "{name}" has head seq {seq:d}')
def step_snapshot_seq(context: Any, name: str, seq: int) -> None:
    snapshot = _snapshot(context, name)
    assert snapshot["head"]["seq"] == seq, snapshot
    assert snapshot["head"]["event_id"] == published_id(context, snapshot["plan_id"], seq)


@given(
    'a second reference server, a new incarnation of the stream, where plan "{plan_id}" has {count:d} events'
)
def step_second_server(context: Any, plan_id: str, count: int) -> None:
    context.first_server, context.first_published = context.server, context.published
    start_reference_server(context)
    publish_logs(context, plan_id, count)


@when('{count:d} events are published to plan "{plan_id}" on the second server')
def step_publish_second(context: Any, count: int, plan_id: str) -> None:
    publish_logs(context, plan_id, count)
