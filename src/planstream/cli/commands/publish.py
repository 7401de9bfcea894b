"""``planstream publish``: publish events to a plan over HTTP."""

from __future__ import annotations

import sys

import click

from planstream.cli.commands.options import connection_options, debug_option, server_api
from planstream.cli.failures import run_command
from planstream.cli.publish import run_publish

__all__ = ["publish"]


@click.command()
@click.argument("plan_id")
@click.argument("kind", required=False)
@click.option("--data", metavar="JSON", help="The event's data, a JSON object.")
@click.option("--stdin", "from_stdin", is_flag=True, help='Publish JSON lines {"kind","data"}.')
@click.option(
    "--idempotency-key",
    metavar="KEY",
    help="Send Idempotency-Key: KEY (line N of --stdin: KEY.N), so a rerun appends nothing twice.",
)
@connection_options
@debug_option
def publish(
    plan_id: str,
    kind: str | None,
    data: str | None,
    from_stdin: bool,
    idempotency_key: str | None,
    url: str,
    token: str | None,
    ca_file: str | None,
    debug: bool,
) -> None:
    """Publish events to a plan over HTTP (needs a publish token if the server has tokens)."""

    def body() -> int:
        api = server_api(url, token, ca_file)
        try:
            lines = sys.stdin if from_stdin else None
            return run_publish(
                api,
                plan_id,
                kind=kind,
                data=data,
                lines=lines,
                out=sys.stdout,
                idempotency_key=idempotency_key,
            )
        finally:
            api.close()

    run_command(body, debug=debug)
