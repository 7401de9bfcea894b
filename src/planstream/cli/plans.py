"""``planstream plans``: the server's plans with their status and head (protocol §6).

Three forms, as ``watch`` has: a table on an interactive terminal; plain
aligned columns (no box drawing, no colour) when stdout is a pipe or a file;
``--json``: one JSON object per plan per line (JSON Lines, the wire form of
``GET /v1/plans``'s items: ``plan_id``, ``status``, ``head``, ``updated_at``),
nothing else on stdout, so ``planstream plans --json | jq`` reads each plan.
"""

from __future__ import annotations

from typing import IO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from planstream.cli.failures import EXIT_OK
from planstream.cli.http_api import ServerApi
from planstream.cli.terminal import printable
from planstream.cli.view import PLAN_STATUS_STYLES
from planstream.schema.http import PlanList, PlanSummary

__all__ = ["plan_rows", "plans_table", "run_plans"]

_HEADER = ("plan", "status", "head seq", "updated (UTC)")
_NONE_YET = "no plans yet (a plan appears with its first event)"


def plan_rows(plans: PlanList) -> list[tuple[str, str, str, str]]:
    """One row per plan, sorted by id: id, status, head seq, last update (UTC)."""
    rows = []
    for plan in sorted(plans.plans, key=lambda plan: plan.plan_id):
        status = plan.status.value if plan.status else "-"
        updated = plan.updated_at.strftime("%Y-%m-%d %H:%M:%S") if plan.updated_at else "-"
        seq = str(plan.head.seq) if plan.head else "-"
        rows.append((printable(plan.plan_id), status, seq, updated))
    return rows


def plans_table(plans: PlanList) -> Table:
    """The rows as a rich table, for a terminal."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for name in _HEADER[:3]:
        table.add_column(name, justify="right" if name == "head seq" else "left")
    table.add_column("updated")
    by_id = {printable(plan.plan_id): plan for plan in plans.plans}
    for plan_id, status, seq, updated in plan_rows(plans):
        table.add_row(
            Text(plan_id),  # Text: no markup, no control characters
            Text(status, style=PLAN_STATUS_STYLES[by_id[plan_id].status]),
            seq,
            updated,
        )
    return table


def _plain(plans: PlanList, out: IO[str]) -> None:
    rows = [_HEADER, *plan_rows(plans)]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        out.write("  ".join([*cells, row[3]]) + "\n")


def _json_line(plan: PlanSummary) -> str:
    return plan.model_dump_json(include={"plan_id", "status", "head", "updated_at"})


def run_plans(api: ServerApi, console: Console, *, as_json: bool = False) -> int:
    """The ``plans`` command; returns the exit status."""
    plans = api.plans()
    out = console.file
    if as_json:
        for plan in sorted(plans.plans, key=lambda plan: plan.plan_id):
            out.write(_json_line(plan) + "\n")
        out.flush()
        return EXIT_OK
    if not plans.plans:
        out.write(_NONE_YET + "\n")
    elif console.is_terminal:
        console.print(plans_table(plans))
    else:
        _plain(plans, out)
    out.flush()
    return EXIT_OK
