"""``planstream watch``: watch plans live; the exit status says how they ended."""

from __future__ import annotations

import asyncio

import click
from click.core import ParameterSource

from planstream.cli.commands.options import debug_option, several_urls_options
from planstream.cli.failures import run_command
from planstream.cli.watch import run_watch

__all__ = ["watch"]


@click.command()
@click.argument("plan_ids", metavar="PLAN_ID...", nargs=-1, required=True)
@several_urls_options
@click.option("--from", "last_event_id", metavar="EVENT_ID", help="Resume after this event.")
@click.option("--follow", is_flag=True, help="Keep streaming after a terminal status.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event, for jq.")
@click.option(
    "--must-exist",
    is_flag=True,
    help="Fail (exit 2) for a plan the server does not know, instead of waiting for it.",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    envvar="PLANSTREAM_CONNECT_TIMEOUT",
    show_envvar=True,
    help="Give up if the first connection takes longer, s (0: wait for ever).",
)
@click.option(
    "--debug-frames",
    is_flag=True,
    help="Log every WebSocket frame in and out on stderr (size-capped, tokens redacted), "
    "for bug reports; stdout stays as it is. Same as PLANSTREAM_DEBUG_FRAMES=1.",
)
@debug_option
def watch(
    plan_ids: tuple[str, ...],
    url: tuple[str, ...],
    token: str | None,
    ca_file: str | None,
    last_event_id: str | None,
    follow: bool,
    as_json: bool,
    must_exist: bool,
    connect_timeout: float,
    debug_frames: bool,
    debug: bool,
) -> None:
    """Watch plans live; exit 0 if every plan succeeded, 1 if one failed or
    was cancelled, 2 on usage, connection or authentication errors."""
    source = click.get_current_context().get_parameter_source("url")
    # Only a --url typed on the command line beats PLANSTREAM_URLS; otherwise the
    # SDK's rule holds (PLANSTREAM_URLS wins over PLANSTREAM_URL).
    url_given = source is ParameterSource.COMMANDLINE

    def body() -> int:
        return asyncio.run(
            run_watch(
                plan_ids,
                url=url,
                url_given=url_given,
                token=token,
                last_event_id=last_event_id,
                follow=follow,
                as_json=as_json,
                connect_timeout=connect_timeout,
                ca_file=ca_file,
                must_exist=must_exist,
                debug_frames=debug_frames,
            )
        )

    run_command(body, debug=debug)
