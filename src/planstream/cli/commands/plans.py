"""``planstream plans``: list the server's plans."""

from __future__ import annotations

import click
from rich.console import Console

from planstream.cli.commands.options import connection_options, debug_option, server_api
from planstream.cli.failures import run_command
from planstream.cli.plans import run_plans

__all__ = ["plans"]


@click.command()
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object per plan per line (plan_id, status, head, updated_at), for jq.",
)
@connection_options
@debug_option
def plans(as_json: bool, url: str, token: str | None, ca_file: str | None, debug: bool) -> None:
    """List the server's plans: status, head seq, last update (a table on a
    terminal, plain columns in a pipe)."""

    def body() -> int:
        api = server_api(url, token, ca_file)
        try:
            return run_plans(api, Console(force_terminal=None), as_json=as_json)
        finally:
            api.close()

    run_command(body, debug=debug)
