"""Everything one server instance owns, passed explicitly (no module singletons)."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, overload

from planstream.close_codes import CloseCode
from planstream.schema.event_data import EventData
from planstream.schema.events import PlanStatusEvent
from planstream.server.auth import Principal, StaticTokenVerifier, TokenVerifier
from planstream.server.connection import StreamConnection
from planstream.server.event_log import (
    EventLog,
    IdempotencyKey,
    IdempotentReplay,
    NewEvent,
    StoredEvent,
)
from planstream.server.fanout import Fanout
from planstream.server.fault_log import FaultLog
from planstream.server.jwt_auth import jwt_verifier_from_settings  # LANE J, see __init__
from planstream.server.memory_log import MemoryEventLog
from planstream.server.metrics import ServerMetrics
from planstream.server.plan_expiry import PlanExpiry
from planstream.server.publish_rate import PublishRateLimiter
from planstream.server.publishing import (
    PublishError,
    body_digest,
    check_plan_id,
    idempotency_key_problem,
    publish_arguments,
    validate_new_event,
)
from planstream.server.settings import ServerSettings

__all__ = ["ServerState"]

logger = logging.getLogger("planstream.server")


class ServerState:
    """The log, the fanout, the counters and the open connections of one server.

    ``clock`` (monotonic seconds) drives the plan expiry and the publish rate
    limit; tests and embedders may inject their own.
    """

    def __init__(
        self,
        settings: ServerSettings | None = None,
        *,
        log: EventLog | None = None,
        verifier: TokenVerifier | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings if settings is not None else ServerSettings()
        self.log = log if log is not None else _default_log(self.settings)
        # LANE J (issue 16), temporary until verifier_from_settings (lane K) chains it: a JWT
        # key in the settings makes JWTs the only credential; the lead merges it into the chain.
        self.verifier: TokenVerifier = (
            verifier
            or jwt_verifier_from_settings(self.settings)
            or StaticTokenVerifier(self.settings.tokens, self.settings.publish_tokens)
        )
        self.metrics = ServerMetrics(redis_latency=self.log.latency)
        self.fanout = Fanout()
        self.connections: set[StreamConnection] = set()
        self.shutting_down = False
        self.clock = clock
        self.plan_expiry = PlanExpiry(self.log, self.settings.plan_ttl, clock)
        self.publish_limiter = PublishRateLimiter(
            self.settings.publish_rate, self.settings.publish_burst
        )
        self.http_faults = FaultLog(logger)
        self._remove_listener = self.log.add_listener(self.fanout)
        self.log.set_interest(self.fanout.plan_ids)
        self._closed = asyncio.Event()
        self._no_connections = asyncio.Event()
        self._no_connections.set()

    def __repr__(self) -> str:
        return f"ServerState(connections={len(self.connections)}, log={self.log!r})"

    def warn_if_open(self) -> None:
        """Log a warning when no token protects the server."""
        if isinstance(self.verifier, StaticTokenVerifier) and self.verifier.is_open:
            logger.warning(
                "no tokens configured: anyone who can reach this server may read and publish"
            )

    def new_connection(self, websocket: Any, principal: Principal) -> StreamConnection:
        """A connection object for a WebSocket accepted for ``principal``."""
        connection = StreamConnection(
            websocket,
            principal=principal,
            log=self.log,
            fanout=self.fanout,
            settings=self.settings,
            metrics=self.metrics,
            session_id=secrets.token_urlsafe(9),
        )
        self.connections.add(connection)
        self._no_connections.clear()
        return connection

    def forget_connection(self, connection: StreamConnection) -> None:
        """A connection ended."""
        self.connections.discard(connection)
        if not self.connections:
            self._no_connections.set()

    @overload
    async def publish(
        self, plan_id: str, data: EventData, *, idempotency_key: str | None = None
    ) -> StoredEvent: ...

    @overload
    async def publish(
        self,
        plan_id: str,
        kind: str,
        data: Mapping[str, Any],
        /,
        *,
        idempotency_key: str | None = None,
    ) -> StoredEvent: ...

    async def publish(
        self,
        plan_id: str,
        data: EventData | str,
        raw: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> StoredEvent:
        """Validate and append one event; returns it as stored.

        ``publish(plan_id, LogData(...))``: the data model names the kind
        (``LogData``, ``StepStatusData``, ``PlanStatusData``,
        ``PlanProgressData``), the shape of the SDK's HTTP publisher.
        ``publish(plan_id, "log", {...})``: the kind by name and its data as a
        mapping, for data read from JSON and for kinds without a model
        (``allow_unknown_kinds``).

        With ``idempotency_key`` (protocol §6), a retry of a publish already
        done appends nothing and returns the event the first one stored. The
        key's body digest is taken over the event's canonical JSON, so a key
        used here and over HTTP names two different bodies.

        Raises:
            PublishError: the plan id, the key or the event is invalid, or
                the arguments are neither form.
            PlanClosedError: the plan has already ended (protocol §6).
            IdempotencyKeyReusedError: the key was used on this plan for
                another event.
            IdempotentReplay: the key was used for this event, which is no
                longer retained (its positions are in the exception).
        """
        kind, values = publish_arguments(data, raw)
        return await self.publish_kind(plan_id, kind, values, idempotency_key=idempotency_key)

    async def publish_kind(
        self, plan_id: str, kind: str, values: object, *, idempotency_key: str | None = None
    ) -> StoredEvent:
        """What both forms of :meth:`publish` come to: ``kind`` and its data
        (a model or a mapping), validated here."""
        check_plan_id(plan_id)
        new = validate_new_event(
            kind,
            values,
            allow_unknown_kinds=self.settings.allow_unknown_kinds,
            # The bound POST /v1/plans/{id}/events applies, measured the same way.
            max_data_bytes=self.settings.max_frame_bytes // 2,
        )
        idempotency = None
        if idempotency_key is not None:
            problem = idempotency_key_problem(idempotency_key)
            if problem is not None:
                raise PublishError(problem)
            # Canonical JSON (sorted keys) of the event as encoded once above.
            data_values = json.loads(new.data_json)
            canonical = json.dumps({"kind": new.kind, "data": data_values}, sort_keys=True)
            idempotency = IdempotencyKey(idempotency_key, body_digest(canonical.encode()))
        try:
            (stored,) = await self.append(plan_id, [new], idempotency=idempotency)
        except IdempotentReplay as replay:
            (first,) = replay.events
            retained = await self.log.read(plan_id, first.seq - 1, 1)
            if not retained or retained[0].event_id != first.event_id:
                raise
            return retained[0]
        return stored

    async def append(
        self,
        plan_id: str,
        events: Sequence[NewEvent],
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> list[StoredEvent]:
        """Append already validated events atomically (see :meth:`EventLog.append`).

        Raises what the log raises: PlanClosedError once the plan has ended,
        and with ``idempotency`` IdempotentReplay or IdempotencyKeyReusedError
        (protocol §6).
        """
        stored = await self.log.append(
            plan_id, events, ts=datetime.now(UTC), idempotency=idempotency
        )
        self.metrics.events_published += len(stored)
        if stored:
            last = stored[-1].event
            # The log lets nothing follow a terminal status, so only the last can be one.
            if isinstance(last, PlanStatusEvent) and last.data.status.is_terminal:
                self.plan_expiry.plan_finished(plan_id, last.event_id)
        return stored

    async def close_connections(self, code: int = CloseCode.GOING_AWAY, wait: float = 5.0) -> None:
        """Close every connection with ``code`` (1001 on shutdown) and wait for them."""
        self.shutting_down = True
        self.fanout.release_waiters()  # long-polls answer now instead of holding up shutdown
        for connection in tuple(self.connections):
            connection.request_close(code, "server shutting down")
        async with asyncio.timeout(wait):
            await self._no_connections.wait()

    async def aclose(self) -> None:
        """Close connections with 1001 and release the log (idempotent)."""
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            await self.close_connections(CloseCode.GOING_AWAY, self.settings.close_timeout)
        except TimeoutError:
            logger.warning("%d connections did not close in time", len(self.connections))
        await self.plan_expiry.aclose()
        self._remove_listener()
        await self.log.close()


def _default_log(settings: ServerSettings) -> EventLog:
    """The memory log, or the Redis log when ``redis_url`` is set (issue 11 item 2)."""
    if settings.redis_url is None:
        return MemoryEventLog(
            settings.retention, idempotency_keys=settings.idempotency_keys_per_plan
        )
    from planstream.server.redis_log import RedisEventLog  # the optional extra

    return RedisEventLog(
        settings.redis_url.get_secret_value(),
        retention=settings.retention,
        plan_ttl=settings.plan_ttl,
        cluster=settings.redis_cluster,
        idempotency_keys=settings.idempotency_keys_per_plan,
    )
