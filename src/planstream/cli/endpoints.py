"""The server's two addresses from the one ``--url`` a user gives.

Commands accept every form :class:`planstream.endpoints.ServerEndpoints`
understands, as the SDK does: the WebSocket endpoint
(``ws://host:8765/v1/stream``), the server's HTTP base (``http://host:8765``),
and either under a prefix for a server mounted in another app
(``http://host:8001/planstream``). The streaming commands use the stream URL,
the HTTP ones (``publish``, ``plans``) the HTTP base, both derived in that one
place. ``watch`` takes ``--url`` several times for several server nodes
(``ClientSettings.urls``).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence

from planstream.cli.failures import CommandError
from planstream.endpoints import STREAM_PATH, ServerEndpoints
from planstream.errors import InvalidUrlError, PlanStreamWarning
from planstream.settings import ClientSettings

__all__ = ["STREAM_PATH", "client_settings", "server_endpoints", "stream_url"]


def server_endpoints(url: str) -> ServerEndpoints:
    """The stream URL and HTTP base of ``--url``, or a one-line CommandError."""
    try:
        return ServerEndpoints.from_url(url)
    except InvalidUrlError as exc:
        if exc.reason == "credentials":
            # protocol §2: tokens are never accepted in the URL; never echo them either.
            raise CommandError(
                "--url must not carry credentials; pass --token (or PLANSTREAM_TOKEN)"
            ) from None
        raise CommandError(
            "--url must look like ws://HOST:PORT/v1/stream or http://HOST:PORT[/PREFIX], "
            f"not {exc.url!r}"
        ) from None


def stream_url(url: str) -> str:
    """The WebSocket endpoint: ``http://h:1`` -> ``ws://h:1/v1/stream``,
    ``http://h:1/mount`` -> ``ws://h:1/mount/v1/stream``."""
    return server_endpoints(url).stream_url


def client_settings(
    url: str | Sequence[str],
    token: str | None,
    ca_file: str | None,
    *,
    url_given: bool = True,
    connect_timeout: float | None = None,
) -> ClientSettings:
    """The client settings of a command: ``PLANSTREAM_*`` with its options on top.

    Every client command goes through them, so the URL and token checks and
    the TLS settings (``PLANSTREAM_SSL__*``, ``--ca-file``) are the SDK's.

    Args:
        url: the ``--url`` value, or the values of a repeated ``--url``.
        url_given: False when ``url`` is not from the command line (the default
            or ``PLANSTREAM_URL``): then a ``PLANSTREAM_URLS`` list in the
            environment wins, as in the SDK.
        connect_timeout: ``--connect-timeout`` (``ClientSettings.connect_timeout``;
            0 waits for ever), or None to keep the SDK's.
    """
    urls = [stream_url(url)] if isinstance(url, str) else [stream_url(one) for one in url]
    if not urls:
        raise CommandError("--url needs a value")
    overrides: dict[str, object] = {"url": urls[0]}
    if url_given:
        # --url was typed: it wins over PLANSTREAM_URLS.
        overrides["urls"] = urls if len(urls) > 1 else None
    if token:
        overrides["token"] = token
    if ca_file:
        overrides["ssl"] = {"ca_file": ca_file}
    if connect_timeout is not None:
        overrides["connect_timeout"] = connect_timeout
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PlanStreamWarning)
        settings = ClientSettings(**overrides)
    for warning in caught:  # one plain line each, like the command's errors
        print(f"planstream: warning: {warning.message}", file=sys.stderr)
    return settings
