"""The planstream reference server (protocol.md, served for real).

The WebSocket stream and the HTTP endpoints as one ASGI app (Starlette),
served by uvicorn, embeddable (:class:`PlanStreamServer`) or mountable
(:func:`create_app`). I/O lives here; the wire models and the reducer are the
pure ones the client uses.

The face exports what docs/guide/server.md and the examples use: running the
server, its settings, tokens, event logs and what publishing returns or raises.
Every name is imported on first use (PEP 562), so ``RedisEventLog`` needs
``planstream[redis]`` only when it is read. The machinery stays in its modules
(``planstream.server.fanout``, ``.connection``, ``.publishing``, ...).
"""

from typing import TYPE_CHECKING

from planstream.imports import lazy_import

if TYPE_CHECKING:
    from planstream.server.app import create_app
    from planstream.server.auth import PlanScope, Principal, StaticTokenVerifier, TokenVerifier
    from planstream.server.event_log import (
        EventLog,
        IdempotencyKeyReusedError,
        PlanClosedError,
        StoredEvent,
    )
    from planstream.server.listen import ServerStartError
    from planstream.server.memory_log import MemoryEventLog
    from planstream.server.publishing import PublishError
    from planstream.server.redis_log import RedisEventLog
    from planstream.server.runner import PlanStreamServer, serve
    from planstream.server.settings import ServerSettings
    from planstream.server.state import ServerState
else:
    lazy_import(
        globals(),
        {
            "create_app": "planstream.server.app",
            **dict.fromkeys(
                ("PlanScope", "Principal", "StaticTokenVerifier", "TokenVerifier"),
                "planstream.server.auth",
            ),
            **dict.fromkeys(
                ("EventLog", "IdempotencyKeyReusedError", "PlanClosedError", "StoredEvent"),
                "planstream.server.event_log",
            ),
            "MemoryEventLog": "planstream.server.memory_log",
            "ServerStartError": "planstream.server.listen",
            "PublishError": "planstream.server.publishing",
            "RedisEventLog": "planstream.server.redis_log",
            **dict.fromkeys(("PlanStreamServer", "serve"), "planstream.server.runner"),
            "ServerSettings": "planstream.server.settings",
            "ServerState": "planstream.server.state",
        },
    )

__all__ = [
    "EventLog",
    "IdempotencyKeyReusedError",
    "MemoryEventLog",
    "PlanClosedError",
    "PlanScope",
    "PlanStreamServer",
    "Principal",
    "PublishError",
    "RedisEventLog",
    "ServerSettings",
    "ServerStartError",
    "ServerState",
    "StaticTokenVerifier",
    "StoredEvent",
    "TokenVerifier",
    "create_app",
    "serve",
]
