"""Options several ``planstream`` commands share: ``--debug`` and the connection options."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from planstream.settings import DEFAULT_URL

if TYPE_CHECKING:
    from planstream.cli.http_api import ServerApi

__all__ = ["connection_options", "debug_option", "server_api", "several_urls_options"]

_F = TypeVar("_F", bound=Callable[..., Any])


def debug_option(function: _F) -> _F:
    """``--debug``: log at debug level and show tracebacks."""
    return click.option("--debug", is_flag=True, help="Log at debug level and show tracebacks.")(
        function
    )


def connection_options(function: _F, *, several_urls: bool = False) -> _F:
    """``--url``, ``--token`` and ``--ca-file``: which server, and how to reach it."""
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


def several_urls_options(function: _F) -> _F:
    """The connection options with ``--url`` repeatable (several nodes)."""
    return connection_options(function, several_urls=True)


def server_api(url: str, token: str | None, ca_file: str | None) -> ServerApi:
    """The HTTP API of the server at ``url``, checked by the SDK's settings."""
    # Imported here: of the commands sharing these options, only publish and plans use it.
    from planstream.cli.endpoints import client_settings
    from planstream.cli.http_api import ServerApi

    # The SDK's settings check the URL and token and give the TLS context.
    settings = client_settings(url, token, ca_file)
    return ServerApi(url, token, ssl_context=settings.ssl_context())
