"""``PlanPublisher``: publish typed events over HTTP, each exactly once (protocol §6).

.. code-block:: python

    async with PlanPublisher("http://127.0.0.1:8765", token="writer") as publisher:
        log = LogData(level="info", message="hi", stream="stdout")
        placed = await publisher.publish("plan-1", log)
        print(placed.seq, placed.event_id)

The kind follows from the data model (:data:`planstream.schema.event_data.DATA_KINDS`).
Every logical publish carries one ``Idempotency-Key``, made once and sent
again on each retry (or the caller's own), so a retry after a lost answer
appends nothing (protocol §6, "Idempotent publishing"). Timeouts, dropped
connections, 429 and 503 are retried with the reconnect backoff, honouring
``Retry-After``, within ``max_attempts`` and ``deadline``; what cannot succeed
by retrying raises at once, typed.
"""

from __future__ import annotations

import ssl as _ssl
from collections.abc import Sequence

from planstream.backoff import RandomSource
from planstream.client.arguments import settings_with_arguments
from planstream.client.http_session import RequestLimits
from planstream.client.plan_api import PlanApi
from planstream.client.token_source import TokenProvider
from planstream.closing import AsyncClosing
from planstream.schema.event_data import EventData, publish_item
from planstream.schema.http import PublishedEvent
from planstream.settings import ClientSettings

__all__ = ["PlanPublisher"]


class PlanPublisher(AsyncClosing):
    """Publishes typed events to plans over HTTP (a token with publish rights).

    Args:
        url: the server: ``http(s)://HOST:PORT`` or its stream URL
            ``ws(s)://HOST:PORT/v1/stream`` (overrides ``settings.url``).
        token: a static bearer token (overrides ``settings.token``).
        token_provider: an async callable giving a fresh token; asked before
            the first request and again after a 401.
        settings: everything else (``PLANSTREAM_*`` by default): TLS, the
            reconnect backoff used between attempts, several ``urls``.
        ssl: a ready :class:`ssl.SSLContext` (overrides ``settings.ssl``).
        max_attempts: requests sent at most per publish, the first included.
        deadline: seconds one publish may take, retries and waits included.
        request_timeout: seconds one attempt may take.
        rng: the backoff jitter's randomness.
    """

    __slots__ = ("_api", "settings")

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        token_provider: TokenProvider | None = None,
        settings: ClientSettings | None = None,
        ssl: _ssl.SSLContext | None = None,
        max_attempts: int = 5,
        deadline: float = 60.0,
        request_timeout: float = 10.0,
        rng: RandomSource | None = None,
    ) -> None:
        settings = settings_with_arguments(settings, url=url, token=token, ssl=ssl)
        self.settings = settings
        limits = RequestLimits(
            max_attempts=max_attempts, deadline=deadline, request_timeout=request_timeout
        )
        self._api = PlanApi(settings, token_provider=token_provider, limits=limits, rng=rng)

    def __repr__(self) -> str:
        return f"PlanPublisher(base_url={self._api.session.base_url!r})"

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._api.aclose()

    async def publish(
        self, plan_id: str, data: EventData, *, idempotency_key: str | None = None
    ) -> PublishedEvent:
        """Append one event; its kind follows from ``data``'s model.

        Args:
            plan_id: the plan (protocol §1).
            data: ``PlanStatusData``, ``PlanProgressData``, ``StepStatusData`` or ``LogData``.
            idempotency_key: your key for this logical publish (1-128 printable
                ASCII characters); by default a new one. Reuse it to publish
                again safely after a :class:`~planstream.errors.RequestRetriesExhaustedError`.

        Returns:
            Where the event landed: ``seq`` and ``event_id``.

        Raises:
            InvalidIdError: ``plan_id`` breaks protocol §1; nothing was sent.
            RequestRefusedError: HTTP 400 and the like; ``problem`` is the server's text.
            PlanEndedError: HTTP 409, the plan already has a terminal status.
            AuthenticationError, ForbiddenError: HTTP 401, 403.
            RequestRetriesExhaustedError: every attempt failed transiently.
        """
        (placed,) = await self._api.publish_items(
            plan_id, publish_item(data), idempotency_key=idempotency_key
        )
        return placed

    async def publish_many(
        self, plan_id: str, data: Sequence[EventData], *, idempotency_key: str | None = None
    ) -> tuple[PublishedEvent, ...]:
        """Append several events atomically (all or none), in order.

        Returns:
            Where each event landed, in the order given (nothing for no event:
            no request is sent).

        Raises:
            The same errors as :meth:`publish`.
        """
        if not data:
            return ()  # nothing to publish: no request
        items = [publish_item(one) for one in data]
        return await self._api.publish_items(plan_id, items, idempotency_key=idempotency_key)
