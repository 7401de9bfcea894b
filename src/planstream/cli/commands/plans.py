"""``planstream plans``: list the server's plans."""

from __future__ import annotations

import click
from rich.console import Console

from planstream.cli.commands.options import connection_options, debug_option, server_api
from planstream.cli.failures import run_command
from planstream.cli.plans import run_plans

__all__ = ["plans"]


@click.command()
@connection_options
@debug_option
def plans(url: str, token: str | None, ca_file: str | None, debug: bool) -> None:
    """List the server's plans: status, head seq, last update."""

    def body() -> int:
        api = server_api(url, token, ca_file)
        try:
            return run_plans(api, Console(force_terminal=None))
        finally:
            api.close()

    run_command(body, debug=debug)
