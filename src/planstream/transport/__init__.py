"""Transports (I/O): how frames travel between the client and a server.

Foreign exceptions (``websockets``, ``OSError``, timeouts) are translated here,
where they cross into planstream, into a :class:`TransportFailedError` carrying the
pure layer's :class:`~planstream.close_codes.Verdict`. Names are imported on first
use (PEP 562): importing this package loads neither websockets nor httpx.
"""

from typing import TYPE_CHECKING

from planstream.imports import lazy_import

if TYPE_CHECKING:
    from planstream.transport.polling import PollingSession, PollResult, http_base_url
    from planstream.transport.websocket import (
        SessionHello,
        TransportFailedError,
        WebSocketSession,
        bearer_headers,
        open_websocket,
    )
else:
    lazy_import(
        globals(),
        {
            **dict.fromkeys(
                ("PollResult", "PollingSession", "http_base_url"), "planstream.transport.polling"
            ),
            **dict.fromkeys(
                (
                    "SessionHello",
                    "TransportFailedError",
                    "WebSocketSession",
                    "bearer_headers",
                    "open_websocket",
                ),
                "planstream.transport.websocket",
            ),
        },
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
