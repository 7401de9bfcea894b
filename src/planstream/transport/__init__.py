"""Transports (I/O): how frames travel between the client and a server.

Foreign exceptions (``websockets``, ``OSError``, timeouts) are translated here,
where they cross into planstream, into a :class:`TransportFailedError` carrying the
pure layer's :class:`~planstream.close_codes.Verdict`.
"""

from planstream.transport.polling import PollingSession, PollResult, http_base_url
from planstream.transport.websocket import (
    SessionHello,
    TransportFailedError,
    WebSocketSession,
    bearer_headers,
    open_websocket,
)

__all__ = [
    "PollResult",
    "PollingSession",
    "SessionHello",
    "TransportFailedError",
    "WebSocketSession",
    "bearer_headers",
    "http_base_url",
    "open_websocket",
]
