"""``planstream token create`` and ``planstream token hash``."""

from __future__ import annotations

import sys

import click

from planstream.cli.commands.options import debug_option
from planstream.cli.failures import run_command
from planstream.cli.main import HELP_CONTEXT
from planstream.cli.tokens import run_create, run_hash

__all__ = ["token"]


@click.group(context_settings=HELP_CONTEXT)
def token() -> None:
    """Make credentials for the reference server: development JWTs, API key hashes."""


@token.command(context_settings=HELP_CONTEXT)
@click.option(
    "--read",
    "read",
    metavar="PATTERN",
    multiple=True,
    required=True,
    help="Plans the token may read, e.g. 'team-a:*' (repeatable; '' for none).",
)
@click.option(
    "--publish",
    "publish",
    metavar="PATTERN",
    multiple=True,
    help="Plans the token may publish to (repeatable; '' or left out: none).",
)
@click.option("--ttl", default="1h", help="Lifetime: seconds, or a number with s, m, h or d.")
@click.option(
    "--secret-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The shared secret the server reads with --jwt-secret-file.",
)
@click.option("--subject", default="developer", help="The sub claim: who the token is for.")
@click.option("--audience", help="The aud claim (the server's --jwt-audience).")
@click.option("--issuer", help="The iss claim (the server's --jwt-issuer).")
@debug_option
def create(
    read: tuple[str, ...],
    publish: tuple[str, ...],
    ttl: str,
    secret_file: str,
    subject: str,
    audience: str | None,
    issuer: str | None,
    debug: bool,
) -> None:
    """Print a development HS256 JWT with per-plan permissions on stdout."""
    run_command(
        lambda: run_create(
            secret_file=secret_file,
            read=read,
            publish=publish,
            ttl=ttl,
            subject=subject,
            audience=audience,
            issuer=issuer,
            out=sys.stdout,
        ),
        debug=debug,
    )


@token.command(name="hash", context_settings=HELP_CONTEXT)
@debug_option
def hash_key(debug: bool) -> None:
    """Print the SHA-256 of an API key read from stdin (a hidden prompt on a terminal)."""
    run_command(lambda: run_hash(sys.stdin, sys.stdout), debug=debug)
