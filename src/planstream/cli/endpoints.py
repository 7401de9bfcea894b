"""The server's two addresses from the one ``--url`` a user gives.

Commands accept the WebSocket endpoint (``ws://host:8765/v1/stream``, what
``PLANSTREAM_URL`` holds for the client) or the server's HTTP base
(``http://host:8765``); the streaming commands need the first, the HTTP ones
(``publish``, ``plans``) the second.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from planstream.cli.failures import CommandError

__all__ = ["STREAM_PATH", "http_base_url", "stream_url"]

STREAM_PATH = "/v1/stream"
_TO_WS = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
_TO_HTTP = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def _split(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url.strip())
    if parts.scheme not in _TO_WS or not parts.netloc:
        raise CommandError(
            f"--url must look like ws://HOST:PORT/v1/stream or http://HOST:PORT, not {url!r}"
        )
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def stream_url(url: str) -> str:
    """The WebSocket endpoint: ``http://h:1`` -> ``ws://h:1/v1/stream``."""
    scheme, netloc, path = _split(url)
    if not path:
        path = STREAM_PATH
    return urlunsplit((_TO_WS[scheme], netloc, path, "", ""))


def http_base_url(url: str) -> str:
    """The HTTP base: ``ws://h:1/v1/stream`` -> ``http://h:1``."""
    scheme, netloc, path = _split(url)
    path = path.removesuffix(STREAM_PATH)
    return urlunsplit((_TO_HTTP[scheme], netloc, path, "", ""))
