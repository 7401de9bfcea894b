"""The HTTP endpoints the ``publish`` and ``plans`` commands call (protocol §6),
through the SDK's :class:`~planstream.client.plan_api.PlanApi` (the one place
for the token, TLS, retries and typed errors), with every failure translated
into one :class:`CommandError` line."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Coroutine
from typing import Any, Final, TypeVar

from planstream.cli.endpoints import client_settings
from planstream.cli.failures import CommandError
from planstream.client.http_session import RequestLimits
from planstream.client.plan_api import PlanApi
from planstream.errors import (
    ConnectionLostError,
    PlanStreamError,
    RequestRefusedError,
    RequestRetriesExhaustedError,
    TLSError,
)
from planstream.schema.http import PlanList, PublishResponse
from planstream.settings import ClientSettings

__all__ = ["CLI_LIMITS", "ServerApi"]

#: A command retries a transient failure a few times, then says so.
CLI_LIMITS: Final = RequestLimits(max_attempts=3, deadline=20.0, request_timeout=10.0)

_T = TypeVar("_T")


class ServerApi:
    """A small synchronous face of :class:`PlanApi` for the commands.

    ``ssl_context``: the TLS context of an ``https://`` server (None: the
    settings' own, by default the system's CA certificates).
    """

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        limits: RequestLimits = CLI_LIMITS,
    ) -> None:
        settings = client_settings(url, token, None)  # checks --url first
        self.base_url = settings.server_endpoints[0].http_base
        if ssl_context is not None:
            settings = ClientSettings(**{**dict(settings), "ssl": {"context": ssl_context}})
        self._loop = asyncio.new_event_loop()
        self._api = PlanApi(settings, limits=limits)

    def __repr__(self) -> str:
        return f"ServerApi({self.base_url!r})"

    def close(self) -> None:
        """Close the connection pool."""
        try:
            self._loop.run_until_complete(self._api.aclose())
        finally:
            self._loop.close()

    def _run(self, call: Coroutine[Any, Any, _T]) -> _T:
        # The SDK's errors end here, as one line naming the server (never the token).
        try:
            return self._loop.run_until_complete(call)
        except RequestRefusedError as exc:
            raise CommandError(str(exc), http_status=exc.status) from None
        except RequestRetriesExhaustedError as exc:
            if isinstance(exc.last_error, ConnectionLostError):
                raise CommandError(f"cannot reach {self.base_url}: {exc}") from None
            raise CommandError(str(exc)) from None
        except TLSError as exc:
            raise CommandError(f"cannot reach {self.base_url}: {exc}") from None
        except PlanStreamError as exc:
            raise CommandError(str(exc)) from None

    def publish(
        self,
        plan_id: str,
        body: dict[str, Any] | list[dict[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> PublishResponse:
        """``POST /v1/plans/{plan_id}/events``: one event or an atomic list.

        Every attempt carries one ``Idempotency-Key`` (``idempotency_key``, or
        one made for this call), so a retry never appends twice (protocol §6);
        with the same ``idempotency_key`` a rerun appends nothing either.
        """
        placed = self._run(self._api.publish_items(plan_id, body, idempotency_key=idempotency_key))
        return PublishResponse(events=placed)

    def plans(self) -> PlanList:
        """``GET /v1/plans``: every plan with at least one event, following the pages."""

        async def every_page() -> PlanList:
            return PlanList(plans=tuple([plan async for plan in self._api.plans()]))

        return self._run(every_page())
