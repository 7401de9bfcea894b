"""The ``planstream`` command: ``demo``, ``serve``, ``watch``, ``publish``, ``plans``.

Each command parses its options here and hands over to its module; every
failure ends as one ``planstream: error: ...`` line on stderr (exit 2), with
the traceback only under ``--debug``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource
from rich.console import Console

from planstream import __version__
from planstream.cli.demo import DEFAULT_SECONDS, run_demo
from planstream.cli.endpoints import client_settings
from planstream.cli.failures import run_command
from planstream.cli.http_api import ServerApi
from planstream.cli.plans import run_plans
from planstream.cli.publish import run_publish
from planstream.cli.serve import run_serve, server_settings
from planstream.cli.terminal import log_to_stderr
from planstream.cli.watch import run_watch
from planstream.settings import DEFAULT_URL

__all__ = ["main"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _debug_option(function: _F) -> _F:
    return click.option("--debug", is_flag=True, help="Log at debug level and show tracebacks.")(
        function
    )


def _connection_options(function: _F, *, several_urls: bool = False) -> _F:
    function = click.option(
        "--ca-file",
        type=click.Path(exists=True, dir_okay=False),
        help="PEM file of the CA certificates to trust for wss:// and https:// "
        "[PLANSTREAM_SSL__CA_FILE; the system's].",
    )(function)
    function = click.option(
        "--token",
        envvar="PLANSTREAM_TOKEN",
        show_envvar=True,
        help="Bearer token.",
    )(function)
    help_text = "The server: its stream endpoint (ws://HOST:PORT/v1/stream) or http://HOST:PORT."
    if several_urls:
        help_text += (
            " Repeat it for several nodes sharing one event log: the client moves"
            " between them [or PLANSTREAM_URLS]."
        )
    return click.option(
        "--url",
        envvar="PLANSTREAM_URL",
        show_envvar=True,
        default=(DEFAULT_URL,) if several_urls else DEFAULT_URL,
        show_default=True,
        multiple=several_urls,
        help=help_text,
    )(function)


def _several_urls_options(function: _F) -> _F:
    return _connection_options(function, several_urls=True)


def _server_api(url: str, token: str | None, ca_file: str | None) -> ServerApi:
    # The SDK's settings check the URL and token and give the TLS context.
    settings = client_settings(url, token, ca_file)
    return ServerApi(url, token, ssl_context=settings.ssl_context())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="planstream")
def main() -> None:
    """planstream: stream plan-execution updates, exactly once and in order.

    Start with `planstream demo`.
    """


@main.command(short_help="Watch a simulated plan stream live (server included).")
@click.option("--chaos", is_flag=True, help="Drop every connection 3 times mid-plan.")
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.0, max=600.0),
    default=DEFAULT_SECONDS,
    show_default=True,
    help="How long the simulated plan runs.",
)
@_debug_option
def demo(chaos: bool, seconds: float, debug: bool) -> None:
    """Run a reference server, a simulated plan and a live watch, in-process."""

    def body() -> int:
        status, _ = asyncio.run(run_demo(seconds=seconds, chaos=chaos))
        return status

    run_command(body, debug=debug)


@main.command(short_help="Run the reference server.")
@click.option("--host", help="Interface to listen on [env PLANSTREAM_SERVER_HOST; 127.0.0.1].")
@click.option("--port", type=int, help="TCP port, 0 for a free one [PLANSTREAM_SERVER_PORT; 8765].")
@click.option(
    "--token",
    "tokens",
    multiple=True,
    help="A token allowed to read (repeatable) [PLANSTREAM_SERVER_TOKENS].",
)
@click.option(
    "--publish-token",
    "publish_tokens",
    multiple=True,
    help="A token allowed to read and publish (repeatable) [PLANSTREAM_SERVER_PUBLISH_TOKENS].",
)
@click.option("--retention", type=int, help="Events kept per plan [PLANSTREAM_SERVER_RETENTION].")
@click.option(
    "--heartbeat", type=float, help="Heartbeat period, s [PLANSTREAM_SERVER_HEARTBEAT_S]."
)
@click.option(
    "--ssl-certfile",
    type=click.Path(exists=True, dir_okay=False),
    help="Serve wss:// and https:// with this PEM certificate [PLANSTREAM_SERVER_SSL_CERTFILE].",
)
@click.option(
    "--ssl-keyfile",
    type=click.Path(exists=True, dir_okay=False),
    help="Its private key, if not in the certificate file [PLANSTREAM_SERVER_SSL_KEYFILE].",
)
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Share plans with other nodes through Redis: redis://HOST:PORT/DB, rediss:// for TLS "
    "[PLANSTREAM_SERVER_REDIS_URL; prefer it for a URL with a password].",
)
@click.option(
    "--redis-cluster",
    is_flag=True,
    default=None,
    help="The Redis URL names a node of a Redis Cluster [PLANSTREAM_SERVER_REDIS_CLUSTER].",
)
@_debug_option
def serve(
    host: str | None,
    port: int | None,
    tokens: tuple[str, ...],
    publish_tokens: tuple[str, ...],
    retention: int | None,
    heartbeat: float | None,
    ssl_certfile: str | None,
    ssl_keyfile: str | None,
    redis_url: str | None,
    redis_cluster: bool | None,
    debug: bool,
) -> None:
    """Run the reference server until SIGTERM or Ctrl-C."""

    def body() -> int:
        log_to_stderr(logging.INFO, "%(asctime)s %(levelname)s %(name)s: %(message)s")
        settings = server_settings(
            host=host,
            port=port,
            tokens=tokens or None,
            publish_tokens=publish_tokens or None,
            retention=retention,
            heartbeat_s=heartbeat,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            redis_url=redis_url,
            redis_cluster=redis_cluster,
        )
        return asyncio.run(run_serve(settings))

    run_command(body, debug=debug)


@main.command(short_help="Watch plans live; exit 0 succeeded, 1 failed, 2 error.")
@click.argument("plan_ids", metavar="PLAN_ID...", nargs=-1, required=True)
@_several_urls_options
@click.option("--from", "last_event_id", metavar="EVENT_ID", help="Resume after this event.")
@click.option("--follow", is_flag=True, help="Keep streaming after a terminal status.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event, for jq.")
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Give up if the first connection takes longer, s.",
)
@_debug_option
def watch(
    plan_ids: tuple[str, ...],
    url: tuple[str, ...],
    token: str | None,
    ca_file: str | None,
    last_event_id: str | None,
    follow: bool,
    as_json: bool,
    connect_timeout: float,
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
            )
        )

    run_command(body, debug=debug)


@main.command(short_help="Publish events to a plan over HTTP.")
@click.argument("plan_id")
@click.argument("kind", required=False)
@click.option("--data", metavar="JSON", help="The event's data, a JSON object.")
@click.option("--stdin", "from_stdin", is_flag=True, help='Publish JSON lines {"kind","data"}.')
@click.option(
    "--idempotency-key",
    metavar="KEY",
    help="Send Idempotency-Key: KEY (line N of --stdin: KEY.N), so a rerun appends nothing twice.",
)
@_connection_options
@_debug_option
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
        api = _server_api(url, token, ca_file)
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


@main.command(short_help="List the server's plans.")
@_connection_options
@_debug_option
def plans(url: str, token: str | None, ca_file: str | None, debug: bool) -> None:
    """List the server's plans: status, head seq, last update."""

    def body() -> int:
        api = _server_api(url, token, ca_file)
        try:
            return run_plans(api, Console(force_terminal=None))
        finally:
            api.close()

    run_command(body, debug=debug)
