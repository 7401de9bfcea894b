"""``planstream plans``: the server's plans with their status and head (protocol §6)."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from planstream.cli.failures import EXIT_OK
from planstream.cli.http_api import ServerApi
from planstream.cli.terminal import printable
from planstream.cli.view import PLAN_STATUS_STYLES
from planstream.schema.http import PlanList

__all__ = ["plans_table", "run_plans"]


def plans_table(plans: PlanList) -> Table:
    """One row per plan: id, status, head seq, last update (UTC)."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("plan")
    table.add_column("status")
    table.add_column("head seq", justify="right")
    table.add_column("updated")
    for plan in sorted(plans.plans, key=lambda plan: plan.plan_id):
        status = plan.status.value if plan.status else "-"
        updated = plan.updated_at.strftime("%Y-%m-%d %H:%M:%S") if plan.updated_at else "-"
        table.add_row(
            Text(printable(plan.plan_id)),  # Text: no markup, no control characters
            Text(status, style=PLAN_STATUS_STYLES[plan.status]),
            str(plan.head.seq) if plan.head else "-",
            updated,
        )
    return table


def run_plans(api: ServerApi, console: Console) -> int:
    """The ``plans`` command; returns the exit status."""
    plans = api.plans()
    if not plans.plans:
        console.print("no plans yet (a plan appears with its first event)")
        return EXIT_OK
    console.print(plans_table(plans))
    return EXIT_OK
