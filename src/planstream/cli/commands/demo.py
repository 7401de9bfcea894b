"""``planstream demo``: a reference server, a simulated plan and a live watch, in-process."""

from __future__ import annotations

import asyncio

import click

from planstream.cli.commands.options import debug_option
from planstream.cli.demo import DEFAULT_SECONDS, run_demo
from planstream.cli.failures import run_command

__all__ = ["demo"]


@click.command()
@click.option("--chaos", is_flag=True, help="Drop every connection 3 times mid-plan.")
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.0, max=600.0),
    default=DEFAULT_SECONDS,
    show_default=True,
    help="How long the simulated plan runs.",
)
@click.option(
    "--open",
    "open_browser",
    is_flag=True,
    help="Open the dashboard in the default browser ($BROWSER) and keep serving it.",
)
@click.option(
    "--keep-serving",
    is_flag=True,
    help="After the plan, keep the server and its dashboard up until Ctrl-C.",
)
@debug_option
def demo(chaos: bool, seconds: float, open_browser: bool, keep_serving: bool, debug: bool) -> None:
    """Run a reference server, a simulated plan and a live watch, in-process.

    The server serves the browser dashboard too: its URL is printed first.
    """

    def body() -> int:
        status, _ = asyncio.run(
            run_demo(
                seconds=seconds, chaos=chaos, open_browser=open_browser, keep_serving=keep_serving
            )
        )
        return status

    run_command(body, debug=debug)
