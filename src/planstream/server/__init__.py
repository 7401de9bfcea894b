"""The planstream reference server (protocol.md, served for real).

The WebSocket stream and the HTTP endpoints as one ASGI app (Starlette),
served by uvicorn, embeddable (:class:`PlanStreamServer`) or mountable
(:func:`create_app`). I/O lives here; the wire models and the reducer are the
pure ones the client uses.
"""

from planstream.server.app import SUPPORTED_SUBPROTOCOLS, create_app
from planstream.server.auth import Principal, StaticTokenVerifier, TokenVerifier, bearer_token
from planstream.server.connection import CloseCode, StreamConnection
from planstream.server.event_log import (
    ChangeListener,
    EventLog,
    LogChange,
    NewEvent,
    ResumeAfter,
    ResyncNeeded,
    StoredEvent,
)
from planstream.server.fanout import ChangeSubscriber, Fanout
from planstream.server.memory_log import MemoryEventLog
from planstream.server.metrics import ServerMetrics
from planstream.server.publishing import PublishError, parse_publish_body, validate_new_event
from planstream.server.runner import PlanStreamServer, serve
from planstream.server.settings import ServerSettings
from planstream.server.state import ServerState

__all__ = [
    "SUPPORTED_SUBPROTOCOLS",
    "ChangeListener",
    "ChangeSubscriber",
    "CloseCode",
    "EventLog",
    "Fanout",
    "LogChange",
    "MemoryEventLog",
    "NewEvent",
    "PlanStreamServer",
    "Principal",
    "PublishError",
    "ResumeAfter",
    "ResyncNeeded",
    "ServerMetrics",
    "ServerSettings",
    "ServerState",
    "StaticTokenVerifier",
    "StoredEvent",
    "StreamConnection",
    "TokenVerifier",
    "bearer_token",
    "create_app",
    "parse_publish_body",
    "serve",
    "validate_new_event",
]
