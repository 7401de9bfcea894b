"""The server's two addresses from the one ``--url`` a user gives.

Commands accept the WebSocket endpoint (``ws://host:8765/v1/stream``, what
``PLANSTREAM_URL`` holds for the client) or the server's HTTP base
(``http://host:8765``); the streaming commands need the first, the HTTP ones
(``publish``, ``plans``) the second, derived from the first by
:func:`planstream.transport.polling.http_base_url` as the SDK's polling
does. ``watch`` takes ``--url`` several times for several server nodes
(``ClientSettings.urls``).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from planstream.cli.failures import CommandError
from planstream.redaction import is_credential_parameter, redact_secrets
from planstream.schema.frames import STREAM_PATH
from planstream.settings import ClientSettings

__all__ = ["STREAM_PATH", "client_settings", "stream_url"]

_TO_WS = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


def _split(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url.strip())
    if parts.scheme not in _TO_WS or not parts.netloc:
        raise CommandError(
            "--url must look like ws://HOST:PORT/v1/stream or http://HOST:PORT, "
            f"not {redact_secrets(url)!r}"
        )
    # protocol §2: tokens are never accepted in the URL; never echo them either.
    credentials = "@" in parts.netloc or any(
        is_credential_parameter(name) for name, _ in parse_qsl(parts.query)
    )
    if credentials:
        raise CommandError("--url must not carry credentials; pass --token (or PLANSTREAM_TOKEN)")
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def stream_url(url: str) -> str:
    """The WebSocket endpoint: ``http://h:1`` -> ``ws://h:1/v1/stream``."""
    scheme, netloc, path = _split(url)
    if not path:
        path = STREAM_PATH
    return urlunsplit((_TO_WS[scheme], netloc, path, "", ""))


def client_settings(
    url: str | Sequence[str],
    token: str | None,
    ca_file: str | None,
    *,
    url_given: bool = True,
) -> ClientSettings:
    """The client settings of a command: ``PLANSTREAM_*`` with its options on top.

    Every client command goes through them, so the URL and token checks and
    the TLS settings (``PLANSTREAM_SSL__*``, ``--ca-file``) are the SDK's.

    Args:
        url: the ``--url`` value, or the values of a repeated ``--url``.
        url_given: False when ``url`` is not from the command line (the default
            or ``PLANSTREAM_URL``): then a ``PLANSTREAM_URLS`` list in the
            environment wins, as in the SDK.
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
    return ClientSettings(**overrides)
