"""Options several ``planstream`` commands share: ``--debug`` and the connection options."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from planstream.settings import DEFAULT_URL

if TYPE_CHECKING:
    from planstream.cli.http_api import ServerApi

__all__ = [
    "SettingOption",
    "connection_options",
    "debug_option",
    "server_api",
    "several_urls_options",
]

_F = TypeVar("_F", bound=Callable[..., Any])


class SettingOption(click.Option):
    """An option for a setting that a settings model reads from its own variable.

    ``--help`` shows the variable and the default in click's format
    (``show_envvar``), but click reads neither: the command passes on only
    what was typed, and the settings model (``ServerSettings``,
    ``ClientSettings``) reads the variable, parses it and names it in its
    errors: one parser per setting, and a secret never echoed by click.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("show_envvar", True)
        super().__init__(*args, **kwargs)

    def resolve_envvar_value(self, ctx: click.Context) -> str | None:
        return None  # the settings model reads it

    def get_error_hint(self, ctx: click.Context | None) -> str:
        # click checks only what was typed: its errors name the flag alone.
        return click.Parameter.get_error_hint(self, ctx)


def debug_option(function: _F) -> _F:
    """``--debug``: log at debug level and show tracebacks."""
    return click.option("--debug", is_flag=True, help="Log at debug level and show tracebacks.")(
        function
    )


def connection_options(function: _F, *, several_urls: bool = False) -> _F:
    """``--url``, ``--token`` and ``--ca-file``: which server, and how to reach it."""
    function = click.option(
        "--ca-file",
        cls=SettingOption,
        envvar="PLANSTREAM_SSL__CA_FILE",
        type=click.Path(exists=True, dir_okay=False),
        help="PEM file of the CA certificates to trust for wss:// and https:// "
        "(without it: the system's).",
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
            " between them. Without --url, a PLANSTREAM_URLS list wins over PLANSTREAM_URL."
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
