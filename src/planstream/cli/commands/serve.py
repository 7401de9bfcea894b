"""``planstream serve``: the reference server until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import logging

import click

from planstream.cli.commands.options import debug_option
from planstream.cli.failures import run_command
from planstream.cli.serve import run_serve, server_settings
from planstream.cli.terminal import log_to_stderr

__all__ = ["serve"]


@click.command()
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
@debug_option
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
