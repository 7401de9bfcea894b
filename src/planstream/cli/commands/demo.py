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
@debug_option
def demo(chaos: bool, seconds: float, debug: bool) -> None:
    """Run a reference server, a simulated plan and a live watch, in-process."""

    def body() -> int:
        status, _ = asyncio.run(run_demo(seconds=seconds, chaos=chaos))
        return status

    run_command(body, debug=debug)
