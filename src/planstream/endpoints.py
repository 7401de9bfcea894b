"""A planstream server's two addresses from any URL a user writes (pure).

Users write the server's address in several ways; every one of them names the
same two endpoints (protocol §2 and §6):

==========================================  ==========================================
what the user writes                        stream URL / HTTP base
==========================================  ==========================================
``ws://host:8765/v1/stream``                ``ws://host:8765/v1/stream`` / ``http://host:8765``
``ws://host:8765`` or ``http://host:8765``  the same
``https://host/planstream`` (a mount)       ``wss://host/planstream/v1/stream`` / ``https://host/planstream``
``wss://host/planstream/v1/stream``         the same
==========================================  ==========================================

A path that does not end in ``/v1/stream`` is a *prefix*: the server is
mounted under it (``app.mount("/planstream", create_app())``), so both the
stream and the HTTP endpoints live below it. :class:`ServerEndpoints` is the
one place that derives them; the SDK's settings, its polling fallback and
every CLI command go through it.

protocol §2: tokens are never accepted in the URL. A URL carrying
``user:password@`` or a credential query parameter (``token``, ``api_key``...)
is refused, and an error never shows the credential (the URL is redacted).

Pure: no I/O, no asyncio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from planstream.errors import InvalidUrlError
from planstream.redaction import is_credential_parameter
from planstream.schema.frames import STREAM_PATH

__all__ = ["STREAM_PATH", "ServerEndpoints"]

#: The WebSocket scheme of each accepted scheme, and the HTTP one.
_TO_WS: Final = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}
_TO_HTTP: Final = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


@dataclass(frozen=True, slots=True)
class ServerEndpoints:
    """Where a planstream server answers: its WebSocket stream and its HTTP base.

    Build it with :meth:`from_url`. ``stream_url`` keeps the URL's query (a
    proxy may route on it); ``http_base`` has neither a query nor a trailing
    slash.

    Attributes:
        stream_url: the WebSocket endpoint, ``ws(s)://HOST[:PORT][/PREFIX]/v1/stream``.
        http_base: the HTTP base, ``http(s)://HOST[:PORT][/PREFIX]``.
    """

    stream_url: str
    http_base: str

    @classmethod
    def from_url(cls, url: str) -> ServerEndpoints:
        """The endpoints of the server at ``url`` (any form in the module's table).

        Raises:
            InvalidUrlError: not a ``ws``/``wss``/``http``/``https`` URL with a
                host, a bad port, or credentials in the URL. The message shows
                the URL with its credentials redacted.
        """
        text = url.strip()
        try:
            parts = urlsplit(text)
            port_ok = True
            try:
                parts.port  # noqa: B018 - parsing the port validates it
            except ValueError:
                port_ok = False
        except ValueError:  # e.g. an unbalanced "[" in the host
            raise InvalidUrlError(text, "is not a URL") from None
        scheme = parts.scheme.lower()
        if scheme not in _TO_WS or not parts.hostname:
            raise InvalidUrlError(
                text,
                "must be ws:// or wss:// (the stream) or http:// or https:// "
                "(the server's base) with a host",
            )
        # protocol §2: tokens are never accepted in the URL (they end up in
        # logs, proxies' access logs and shell histories).
        if parts.username is not None or parts.password is not None:
            raise InvalidUrlError(text, "must not carry credentials", reason="credentials")
        for name, _ in parse_qsl(parts.query, keep_blank_values=True):
            if is_credential_parameter(name):
                raise InvalidUrlError(
                    text,
                    f"must not carry credentials (query parameter {name[:40]!r})",
                    reason="credentials",
                )
        if not port_ok:
            raise InvalidUrlError(text, "has an invalid port")
        path = parts.path.rstrip("/")
        prefix = path.removesuffix(STREAM_PATH)
        stream = urlunsplit((_TO_WS[scheme], parts.netloc, prefix + STREAM_PATH, parts.query, ""))
        http = urlunsplit((_TO_HTTP[scheme], parts.netloc, prefix, "", ""))
        return cls(stream_url=stream, http_base=http)

    @property
    def secure(self) -> bool:
        """Whether the server is reached over TLS (``wss``/``https``)."""
        return self.stream_url.startswith("wss:")

    def plans_url(self) -> str:
        """``GET`` the list of plans (protocol §6)."""
        return f"{self.http_base}/v1/plans"

    def plan_url(self, plan_id: str) -> str:
        """``GET`` one plan's snapshot (protocol §6)."""
        return f"{self.plans_url()}/{quote(plan_id, safe='')}"

    def events_url(self, plan_id: str) -> str:
        """``GET`` (poll) or ``POST`` (publish) one plan's events (protocol §6)."""
        return f"{self.plan_url(plan_id)}/events"
