"""Steps of features/cli_view.feature: the CLI's pure parts, fed data directly."""

from __future__ import annotations

import io
import json
import re
from collections import deque
from datetime import UTC, datetime
from typing import Any

from behave import given, then, when
from rich.console import Console

from planstream import (
    ClientStats,
    ConnectionState,
    PlanSnapshot,
    PlanState,
    PlanStreamClient,
    Resync,
    StateChange,
)
from planstream.cli.http_api import ServerApi
from planstream.cli.output import JsonOutput, PlainOutput
from planstream.cli.tracking import ConnectionTracker, LogLine, PlanTracker
from planstream.cli.view import describe_item, progress_of, render_view
from planstream.cli.watch import PlanWatcher
from planstream.codec import decode_event
from planstream.errors import ServerUnavailableError

_TS = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
_DATA = {
    "plan.status": {"status": "running"},
    "log": {"level": "info", "message": "working", "stream": "stdout"},
    "step.status": {"step_id": "s", "index": 1, "name": "S", "status": "running"},
}


def _event(plan_id: str, seq: int, kind: str, data: dict[str, Any]) -> Any:
    return decode_event(
        {
            "plan_id": plan_id,
            "event_id": f"{plan_id}-{seq}",
            "seq": seq,
            "ts": _TS,
            "kind": kind,
            "data": data,
        }
    )


def _resync(plan_id: str, seq: int, reason: str, status: str | None) -> Resync:
    snapshot = {
        "plan_id": plan_id,
        "status": status,
        "head": {"seq": seq, "event_id": f"{plan_id}-{seq}"},
        "updated_at": _TS,
    }
    return Resync.model_validate({"plan_id": plan_id, "reason": reason, "snapshot": snapshot})


# --- trackers --------------------------------------------------------------------------


@given('trackers for the plans "{plan_ids}"')
def given_trackers(context: Any, plan_ids: str) -> None:
    context.view_logs = deque(maxlen=8)
    context.trackers = {
        plan_id.strip(): PlanTracker(plan_id.strip(), logs=context.view_logs)
        for plan_id in plan_ids.split(",")
    }
    context.connection = ConnectionTracker(list(context.trackers.values()))
    context.noticed = []


def _fold(context: Any, item: Any) -> None:
    # as PlanWatcher does: the plan's notices join the connection's recent ones
    notices = context.trackers[item.plan_id].apply(item)
    context.connection.note(notices)
    context.noticed += notices


def _state_change(detail: str) -> StateChange:
    match = re.fullmatch(r"(\w+) -> (\w+)(?:, (.+), retry ([\d.]+))?", detail)
    assert match is not None, detail
    previous, state, error, retry = match.groups()
    return StateChange(
        ConnectionState(previous),
        ConnectionState(state),
        None if error is None else ServerUnavailableError(error),
        None if retry is None else float(retry),
    )


@when("these happen to the watch, in order:")
def when_watch_story(context: Any) -> None:
    for row in context.table:
        what, detail = row["what"], row["detail"]
        if what == "state":
            context.noticed += context.connection.change(_state_change(detail))
        elif what == "event":
            plan_id, seq, kind, *status = detail.split()
            data = {**_DATA[kind], **({"status": status[0]} if status else {})}
            _fold(context, _event(plan_id, int(seq), kind, data))
        else:
            plan_id, seq, reason, status = detail.split()
            _fold(context, _resync(plan_id, int(seq), reason, status))


@then("the watch noticed, in order:")
def then_watch_noticed(context: Any) -> None:
    assert context.noticed == context.text.splitlines(), context.noticed


@then("the connection tracker counted {drops:d} drops and keeps the last {count:d} notices")
def then_connection_counts(context: Any, drops: int, count: int) -> None:
    connection = context.connection
    assert connection.drops == drops, connection
    assert list(connection.recent) == context.noticed[-count:], connection.recent
    assert connection.state is ConnectionState.CLOSED
    assert connection.last_error == "1006 drop"
    assert repr(connection) == f"ConnectionTracker(state='closed', drops={drops})"


@then(
    'plan "{plan_id}" received the seqs {seqs} and is "{status}" at seq {head:d} after {resyncs:d} resync'
)
def then_plan_tracked(
    context: Any, plan_id: str, seqs: str, status: str, head: int, resyncs: int
) -> None:
    plan = context.trackers[plan_id]
    assert plan.seqs == [int(seq) for seq in seqs.split(",")], plan.seqs
    assert plan.status is not None
    assert plan.status.value == status
    assert plan.last_seq == head
    assert plan.snapshot.head is not None
    assert plan.snapshot.head.seq == head
    assert len(plan.resyncs) == resyncs
    assert repr(plan) == f"PlanTracker({plan_id!r}, events={len(plan.seqs)})"


@then('plan "{plan_id}" kept the log lines of seqs {seqs}')
def then_plan_logs(context: Any, plan_id: str, seqs: str) -> None:
    kept = [line for line in context.trackers[plan_id].logs if line.plan_id == plan_id]
    assert [line.seq for line in kept] == [int(seq) for seq in seqs.split(",")], kept
    assert all(isinstance(line, LogLine) and line.message == "working" for line in kept)


# --- plain and JSON lines --------------------------------------------------------------


@when('an event of kind "{kind}" with data {data} is described')
def when_event_described(context: Any, kind: str, data: str) -> None:
    context.plain_line = describe_item(_event("p", 5, kind, json.loads(data)))


@then('the plain line is "{line}"')
def then_plain_line(context: Any, line: str) -> None:
    assert context.plain_line == line, context.plain_line


@when(
    'a resync of plan "{plan_id}" for "{reason}" at seq {seq:d} is written as plain and JSON lines'
)
def when_resync_written(context: Any, plan_id: str, reason: str, seq: int) -> None:
    marker = _resync(plan_id, seq, reason, "running")
    context.plain_line = describe_item(marker)
    stream = io.StringIO()
    JsonOutput(stream).item(PlanTracker(plan_id), marker, [])
    context.json_lines = stream.getvalue().splitlines()


@then(
    'the JSON line is {{"resync": {{...}}}} with the reason "{reason}" and the snapshot head seq {seq:d}'
)
def then_resync_json(context: Any, reason: str, seq: int) -> None:
    (line,) = context.json_lines
    value = json.loads(line)
    assert list(value) == ["resync"], value
    assert value["resync"]["reason"] == reason
    assert value["resync"]["snapshot"]["head"]["seq"] == seq
    assert "type" not in value["resync"], "the marker's wire tag is the key"


# --- progress ----------------------------------------------------------------------------


@given('a plan snapshot with status "{status}", steps "{steps}" and progress "{progress}"')
def given_snapshot(context: Any, status: str, steps: str, progress: str) -> None:
    state = PlanState("p")
    seq = 0

    def fold(kind: str, data: dict[str, Any]) -> None:
        nonlocal seq
        seq += 1
        state.apply(_event("p", seq, kind, data))

    if status != "-":
        fold("plan.status", {"status": status})
    for index, step_status in enumerate(steps.split(",") if steps != "-" else []):
        fold(
            "step.status",
            {"step_id": f"s{index}", "index": index, "name": "", "status": step_status},
        )
    if progress != "-":
        percent, done, total = progress.split(",")
        fold(
            "plan.progress",
            {"completed_steps": int(done), "total_steps": int(total), "percent": float(percent)},
        )
    context.snapshot = state.snapshot()


@then("its progress is {percent:f} percent, {done:d} of {total:d} steps")
def then_progress(context: Any, percent: float, done: int, total: int) -> None:
    got = progress_of(context.snapshot)
    assert (round(got[0], 1), got[1], got[2]) == (percent, done, total), got
    assert isinstance(context.snapshot, PlanSnapshot)


# --- the live view -------------------------------------------------------------------------


@given('plan "a" folded 2 running steps, plan "b" 1, then both 6 log lines, taking turns')
def given_two_plans(context: Any) -> None:
    heads = dict.fromkeys(context.trackers, 0)

    def fold(plan_id: str, kind: str, data: dict[str, Any]) -> None:
        heads[plan_id] += 1
        _fold(context, _event(plan_id, heads[plan_id], kind, data))

    for plan_id, steps in (("a", 2), ("b", 1)):
        fold(plan_id, "plan.status", {"status": "running"})
        for index in range(1, steps + 1):
            fold(
                plan_id,
                "step.status",
                {
                    "step_id": f"s{index}",
                    "index": index,
                    "name": f"Step {index}",
                    "status": "running",
                },
            )
    for number in range(1, 7):
        for plan_id in ("a", "b"):
            line = {
                "level": "info",
                "message": f"{plan_id} line {number}",
                "step_id": "s1",
                "stream": "stdout",
            }
            fold(plan_id, "log", line)
    context.events_folded = sum(heads.values())


@given("the connection dropped and came back")
def given_connection_dropped(context: Any) -> None:
    for detail in ("open -> reconnecting, 1012 restart, retry 0.25", "reconnecting -> open"):
        context.connection.change(_state_change(detail))


@then('the view ends with the notices "{first}" and "{second}"')
def then_view_notices(context: Any, first: str, second: str) -> None:
    assert context.view_lines[-2:] == [first, second], context.view_lines


@when('a watcher of the plans "{plan_ids}" is made for a client that is not started')
def when_watcher_made(context: Any, plan_ids: str) -> None:
    client = PlanStreamClient("ws://127.0.0.1:9/v1/stream")
    names = [plan_id.strip() for plan_id in plan_ids.split(",")]
    context.watcher = PlanWatcher(client, names, title="t", output=PlainOutput(io.StringIO()))


@then("the watcher's trackers share one log of {lines:d} lines")
def then_watcher_log(context: Any, lines: int) -> None:
    watcher = context.watcher
    assert all(plan.logs is watcher.logs for plan in watcher.plans)
    assert watcher.logs.maxlen == lines


@then("the watcher reports the counters of a closed client with {events:d} events")
def then_watcher_stats(context: Any, events: int) -> None:
    stats = context.watcher.stats()
    assert stats.state is ConnectionState.CLOSED, stats
    assert stats.events_delivered == events, stats


@then('the watcher\'s repr is "{text}"')
def then_watcher_repr(context: Any, text: str) -> None:
    assert repr(context.watcher) == text


@then('a ServerApi for "{url}" calls "{http}"')
def then_server_api(context: Any, url: str, http: str) -> None:
    api = ServerApi(url, "token")
    try:
        assert repr(api) == f"ServerApi({http!r})"
    finally:
        api.close()


@when("the live view is rendered {width:d} columns wide")
def when_view_rendered(context: Any, width: int) -> None:
    stats = ClientStats(
        ConnectionState.OPEN, 2, 1, 0, context.events_folded, 0, 0, 0, 0, 0, 0, 0, 0.0021
    )
    console = Console(width=width, record=True, file=io.StringIO(), force_terminal=False)
    console.print(
        render_view(
            "title", list(context.trackers.values()), context.view_logs, stats, context.connection
        )
    )
    context.view_lines = [line.rstrip() for line in console.export_text().splitlines()]


@then('the view shows the header "{first}" and "{second}"')
def then_view_headers(context: Any, first: str, second: str) -> None:
    assert first in context.view_lines, context.view_lines
    assert second in context.view_lines, context.view_lines


@then("the view shows the 8 newest log lines of both plans, each prefixed with its plan")
def then_view_logs(context: Any) -> None:
    lines = context.view_lines
    start = lines.index("recent log") + 1
    shown = [line.split(maxsplit=3) for line in lines[start : start + 8]]
    expected = [(plan, f"{plan} line {n}") for n in range(3, 7) for plan in ("a", "b")]
    assert [(cells[2].split("/")[0], cells[3]) for cells in shown] == expected, shown
    assert all(cells[2].endswith("/s1") for cells in shown), shown


@then('the view shows the connection "{state}" over the counters "{counters}"')
def then_view_counters(context: Any, state: str, counters: str) -> None:
    lines = context.view_lines
    at = lines.index(f"connection {state}")
    assert lines[at + 1] == counters, lines[at + 1]
