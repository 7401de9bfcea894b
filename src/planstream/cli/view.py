"""Rendering, as pure functions: trackers and client stats in, rich renderables
or plain text lines out.

The live view (:func:`render_view`) is, per plan, a progress bar (percent,
completed/total steps), a step table coloured by status, then the most recent
log lines and one line with the connection state and the client's counters.
The plain form (:func:`describe_item`) is one line per event, for output that
is not a terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from planstream.cli.terminal import printable
from planstream.cli.tracking import ConnectionTracker, LogLine, PlanTracker
from planstream.client.stats import ClientStats
from planstream.connection_state import ConnectionState
from planstream.delivery import Delivery, Resync
from planstream.schema.events import (
    LogEvent,
    LogLevel,
    PlanProgressEvent,
    PlanStatus,
    PlanStatusEvent,
    StepStatus,
    StepStatusData,
    StepStatusEvent,
)
from planstream.schema.snapshot import PlanSnapshot

__all__ = [
    "describe_item",
    "describe_stats",
    "progress_of",
    "render_connection",
    "render_logs",
    "render_plan",
    "render_steps",
    "render_view",
]

PLAN_STATUS_STYLES: dict[PlanStatus | None, str] = {
    None: "dim",
    PlanStatus.QUEUED: "cyan",
    PlanStatus.RUNNING: "bold yellow",
    PlanStatus.PAUSED: "magenta",
    PlanStatus.SUCCEEDED: "bold green",
    PlanStatus.FAILED: "bold red",
    PlanStatus.CANCELLED: "red",
}
STEP_STATUS_STYLES: dict[StepStatus, str] = {
    StepStatus.PENDING: "dim",
    StepStatus.RUNNING: "bold yellow",
    StepStatus.SUCCEEDED: "green",
    StepStatus.FAILED: "bold red",
    StepStatus.SKIPPED: "dim italic",
}
LOG_LEVEL_STYLES: dict[LogLevel, str] = {
    LogLevel.DEBUG: "dim",
    LogLevel.INFO: "",
    LogLevel.WARNING: "yellow",
    LogLevel.ERROR: "bold red",
}
CONNECTION_STYLES: dict[ConnectionState, str] = {
    ConnectionState.CONNECTING: "yellow",
    ConnectionState.OPEN: "green",
    ConnectionState.RECONNECTING: "bold yellow",
    ConnectionState.POLLING: "cyan",
    ConnectionState.CLOSED: "dim",
}
_DONE_STEPS = frozenset({StepStatus.SUCCEEDED, StepStatus.SKIPPED, StepStatus.FAILED})


def progress_of(snapshot: PlanSnapshot) -> tuple[float, int, int]:
    """``(percent, completed_steps, total_steps)``: the latest ``plan.progress``,
    else counted from the steps seen so far."""
    if snapshot.progress is not None:
        progress = snapshot.progress
        return progress.percent, progress.completed_steps, progress.total_steps
    total = len(snapshot.steps)
    done = sum(step.status in _DONE_STEPS for step in snapshot.steps)
    percent = 100.0 * done / total if total else 0.0
    if snapshot.status is PlanStatus.SUCCEEDED:
        percent = 100.0
    return percent, done, total


# --- the live view -------------------------------------------------------------------


def render_view(
    title: str,
    plans: Sequence[PlanTracker],
    logs: Sequence[LogLine],
    stats: ClientStats,
    connection: ConnectionTracker,
) -> Group:
    """The whole live view: each plan, the recent logs, the connection line."""
    parts: list[RenderableType] = [Text(printable(title), style="bold")]
    parts += [render_plan(plan.snapshot) for plan in plans]
    parts.append(render_logs(logs, show_plan=len(plans) > 1))
    parts.append(render_connection(stats, connection))
    return Group(*parts)


def render_plan(snapshot: PlanSnapshot) -> Group:
    """A plan's header, progress bar and step table."""
    percent, done, total = progress_of(snapshot)
    status = snapshot.status
    head = "-" if snapshot.head is None else str(snapshot.head.seq)
    header = Text.assemble(
        ("plan ", "dim"),
        (printable(snapshot.plan_id), "bold"),
        "  ",
        (status.value if status else "waiting for events", PLAN_STATUS_STYLES[status]),
        ("  seq ", "dim"),
        head,
    )
    bar = Table.grid(padding=(0, 1))
    bar.add_row(
        ProgressBar(
            total=100.0,
            completed=percent,
            width=40,
            complete_style="yellow",
            finished_style="green" if status is not PlanStatus.FAILED else "red",
        ),
        Text(f"{percent:5.1f}%", style="bold"),
        Text(f"{done}/{total} steps"),
    )
    return Group(Text(""), header, bar, render_steps(snapshot.steps), Text(""))


def render_steps(steps: Sequence[StepStatusData]) -> Table:
    """The step table: index, name, status (coloured), error."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("step")
    table.add_column("status")
    table.add_column("error", style="red", overflow="ellipsis", max_width=50)
    for step in steps:
        # Text, not str: a str cell is rich markup ("[link=...]" in a step name).
        table.add_row(
            str(step.index),
            Text(printable(step.name or step.step_id)),
            Text(step.status.value, style=STEP_STATUS_STYLES[step.status]),
            Text(printable(step.error or "")),
        )
    return table


def render_logs(lines: Sequence[LogLine], *, show_plan: bool = False) -> Text:
    """The recent log lines, one per row, coloured by level."""
    text = Text("recent log\n", style="dim")
    if not lines:
        text.append("(no log lines yet)", style="dim italic")
    for number, line in enumerate(lines):
        if number:
            text.append("\n")
        where = f"{line.plan_id}/" if show_plan else ""
        where += line.step_id or "-"
        text.append(f"{line.seq:>5} ", style="dim")
        text.append(f"{line.level.value:<7} ", style=LOG_LEVEL_STYLES[line.level] or "bold")
        text.append(f"{printable(where):<14} ", style="cyan")
        text.append(printable(line.message), style=LOG_LEVEL_STYLES[line.level])
    return text


def render_connection(stats: ClientStats, connection: ConnectionTracker) -> Text:
    """Connection state, the client's counters and the latest notice."""
    state = stats.state
    text = Text("\nconnection ", style="dim")
    text.append(state.value, style=CONNECTION_STYLES[state])
    text.append("\n" + describe_stats(stats), style="dim")
    for notice in connection.recent:
        text.append("\n" + printable(notice), style="italic")
    return text


# --- plain lines ---------------------------------------------------------------------


def describe_stats(stats: ClientStats) -> str:
    """The client's counters on one line."""
    rtt = "-" if stats.last_rtt is None else f"{stats.last_rtt * 1000:.1f} ms"
    return (
        f"events {stats.events_delivered} · duplicates dropped {stats.duplicates_dropped}"
        f" · reconnects {stats.reconnects} · gaps repaired {stats.gaps_repaired}"
        f" · resyncs {stats.resyncs} · rtt {rtt}"
    )


def describe_item(item: Delivery) -> str:
    """One delivered item as one line of plain text, safe for a terminal."""
    return printable(_describe(item))


def _describe(item: Delivery) -> str:
    if isinstance(item, Resync):
        head = item.snapshot.head
        return (
            f"[{item.plan_id}] resync ({item.reason.value}): history lost, "
            f"state restored at seq {0 if head is None else head.seq}"
        )
    prefix = f"[{item.plan_id} #{item.seq}]"
    if isinstance(item, PlanStatusEvent):
        reason = f" ({item.data.reason})" if item.data.reason else ""
        return f"{prefix} plan {item.data.status.value}{reason}"
    if isinstance(item, PlanProgressEvent):
        data = item.data
        message = f" {data.message}" if data.message else ""
        return (
            f"{prefix} progress {data.percent:.1f}% "
            f"({data.completed_steps}/{data.total_steps} steps){message}"
        )
    if isinstance(item, StepStatusEvent):
        step = item.data
        error = f": {step.error}" if step.error else ""
        return f"{prefix} step {step.index} {step.name or step.step_id} {step.status.value}{error}"
    if isinstance(item, LogEvent):
        log = item.data
        where = f" {log.step_id}" if log.step_id else ""
        return f"{prefix} log {log.level.value}{where}: {log.message}"
    return f"{prefix} {item.kind} {item.data}"
