"""The planstream reference server (protocol.md, served for real).

The WebSocket stream and the HTTP endpoints as one ASGI app (Starlette),
served by uvicorn, embeddable (:class:`PlanStreamServer`) or mountable
(:func:`create_app`). I/O lives here; the wire models and the reducer are the
pure ones the client uses.
"""

from typing import TYPE_CHECKING, Any

from planstream.server.admission import ConnectionCap
from planstream.server.app import SUPPORTED_SUBPROTOCOLS, create_app
from planstream.server.auth import Principal, StaticTokenVerifier, TokenVerifier, bearer_token
from planstream.server.connection import StreamConnection
from planstream.server.event_log import (
    BadCursorError,
    ChangeListener,
    EventLog,
    IdempotencyKey,
    IdempotencyKeyReusedError,
    IdempotentReplay,
    LogChange,
    LogUnavailableError,
    NewEvent,
    PlanClosedError,
    PlanPage,
    ResumeAfter,
    ResyncNeeded,
    StoredEvent,
    refuse_events_after_end,
)
from planstream.server.fanout import ChangeSubscriber, Fanout
from planstream.server.fault_log import FaultLog
from planstream.server.http_api import http_routes
from planstream.server.memory_log import MemoryEventLog
from planstream.server.metrics import PROMETHEUS_CONTENT_TYPE, ServerMetrics
from planstream.server.plan_expiry import PlanExpiry
from planstream.server.publish_rate import PublishRateLimiter
from planstream.server.publishing import (
    MAX_EVENTS_PER_PUBLISH,
    MAX_IDEMPOTENCY_KEY,
    PublishError,
    body_digest,
    check_plan_id,
    idempotency_key_problem,
    parse_publish_body,
    validate_new_event,
)
from planstream.server.runner import PlanStreamServer, serve
from planstream.server.settings import SERVER_ENV_PREFIX, ServerSettings
from planstream.server.state import ServerState
from planstream.server.stream_session import StreamSession
from planstream.server.token_bucket import TokenBucket

if TYPE_CHECKING:
    from planstream.server.redis_log import RedisEventLog


def __getattr__(name: str) -> Any:
    """``RedisEventLog`` is imported on first use: it needs ``planstream[redis]``."""
    if name == "RedisEventLog":
        from planstream.server.redis_log import RedisEventLog

        return RedisEventLog
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MAX_EVENTS_PER_PUBLISH",
    "MAX_IDEMPOTENCY_KEY",
    "PROMETHEUS_CONTENT_TYPE",
    "SERVER_ENV_PREFIX",
    "SUPPORTED_SUBPROTOCOLS",
    "BadCursorError",
    "ChangeListener",
    "ChangeSubscriber",
    "ConnectionCap",
    "EventLog",
    "Fanout",
    "FaultLog",
    "IdempotencyKey",
    "IdempotencyKeyReusedError",
    "IdempotentReplay",
    "LogChange",
    "LogUnavailableError",
    "MemoryEventLog",
    "NewEvent",
    "PlanClosedError",
    "PlanExpiry",
    "PlanPage",
    "PlanStreamServer",
    "Principal",
    "PublishError",
    "PublishRateLimiter",
    "RedisEventLog",
    "ResumeAfter",
    "ResyncNeeded",
    "ServerMetrics",
    "ServerSettings",
    "ServerState",
    "StaticTokenVerifier",
    "StoredEvent",
    "StreamConnection",
    "StreamSession",
    "TokenBucket",
    "TokenVerifier",
    "bearer_token",
    "body_digest",
    "check_plan_id",
    "create_app",
    "http_routes",
    "idempotency_key_problem",
    "parse_publish_body",
    "refuse_events_after_end",
    "serve",
    "validate_new_event",
]
