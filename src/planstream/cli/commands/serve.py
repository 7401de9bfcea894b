"""``planstream serve``: the reference server until SIGTERM or Ctrl-C.

Also ``python -m planstream.server``: the same command, options and help.
Each option is a :class:`ServerSettings` field: ``--help`` shows its
``PLANSTREAM_SERVER_*`` variable and its default (both read from the model),
and only the options typed on the command line are passed on, over what the
model reads from the environment. The numbers' ranges are checked by click
too, so a bad flag is named as the flag, not as its variable. A few settings
have another default for this command (``SERVE_DEFAULTS``: the dashboard is
on), still below their variable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from planstream.cli.commands.options import SettingOption, debug_option
from planstream.cli.failures import run_command
from planstream.cli.main import HELP_CONTEXT
from planstream.cli.serve import run_serve, serve_settings
from planstream.cli.terminal import log_to_stderr
from planstream.server.settings import SERVER_ENV_PREFIX, ServerSettings

__all__ = ["serve"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _setting(*decls: str, setting: str, **attrs: Any) -> Callable[[_F], _F]:
    """An option for the server setting ``setting``: its variable and default shown."""
    default = ServerSettings.model_fields[setting].default
    attrs.setdefault("default", default if default not in ((), None) else None)
    return click.option(
        *decls, setting, cls=SettingOption, envvar=SERVER_ENV_PREFIX + setting.upper(), **attrs
    )


@click.command(context_settings=HELP_CONTEXT)
@_setting("--host", setting="host", help="Interface to listen on (0.0.0.0: every one).")
@_setting("--port", setting="port", type=click.IntRange(0, 65535), help="TCP port, 0: a free one.")
@_setting("--token", setting="tokens", multiple=True, help="A token allowed to read (repeatable).")
@_setting(
    "--publish-token",
    setting="publish_tokens",
    multiple=True,
    help="A token allowed to read and publish (repeatable).",
)
@_setting(
    "--jwt-secret-file",
    setting="jwt_secret_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Accept HS256 JWTs signed with the shared secret in this file (32 bytes or more).",
)
@_setting(
    "--jwt-public-key",
    setting="jwt_public_key_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Accept RS256 / ES256 JWTs verified with this PEM public key (RSA or EC).",
)
@_setting(
    "--jwks-file",
    setting="jwks_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Accept JWTs verified with the public keys of this local JWKS file (by kid).",
)
@_setting("--jwt-audience", setting="jwt_audience", help="The aud a JWT must name.")
@_setting("--jwt-issuer", setting="jwt_issuer", help="The iss a JWT must carry.")
@_setting(
    "--retention", setting="retention", type=click.IntRange(min=1), help="Events kept per plan."
)
@_setting(
    "--heartbeat",
    setting="heartbeat_s",
    type=click.FloatRange(min=0, min_open=True),
    help="Heartbeat period, s.",
)
@_setting(
    "--ssl-certfile",
    setting="ssl_certfile",
    type=click.Path(exists=True, dir_okay=False),
    help="Serve wss:// and https:// with this PEM certificate.",
)
@_setting(
    "--ssl-keyfile",
    setting="ssl_keyfile",
    type=click.Path(exists=True, dir_okay=False),
    help="Its private key, if not in the certificate file.",
)
@_setting(
    "--api-keys",
    setting="api_keys_file",
    type=click.Path(exists=True, dir_okay=False),
    metavar="FILE",
    help="API keys: a TOML file of key hashes and the plans each may read and publish "
    "(reloaded on SIGHUP and when it changes).",
)
@_setting(
    "--redis",
    setting="redis_url",
    metavar="URL",
    help="Share plans with other nodes through Redis: redis://HOST:PORT/DB, rediss:// for "
    "TLS. Give a URL with a password in the variable, not here.",
)
@_setting(
    "--redis-cluster",
    setting="redis_cluster",
    is_flag=True,
    help="The Redis URL names a node of a Redis Cluster.",
)
@_setting(
    "--dashboard/--no-dashboard",
    setting="dashboard",
    default=None,  # SERVE_DEFAULTS: on, unless the variable is set
    help="Serve the browser dashboard at / (default: on, unless the variable is set).",
)
@debug_option
def serve(debug: bool, **settings: Any) -> None:
    """Run the reference server until SIGTERM or Ctrl-C."""
    context = click.get_current_context()
    # Flags win over the environment: only what was typed goes over ServerSettings.
    typed = {
        name: value
        for name, value in settings.items()
        if context.get_parameter_source(name) is ParameterSource.COMMANDLINE
    }

    def body() -> int:
        log_to_stderr(logging.INFO, "%(asctime)s %(levelname)s %(name)s: %(message)s")
        return asyncio.run(run_serve(serve_settings(**typed)))

    run_command(body, debug=debug)
