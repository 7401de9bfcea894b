"""The HTTP endpoints the ``publish`` and ``plans`` commands call (protocol §6),
with every failure translated into one :class:`CommandError` line."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from planstream.cli.endpoints import stream_url
from planstream.cli.failures import CommandError
from planstream.close_codes import classify_network_error
from planstream.errors import TLSError
from planstream.redaction import install_redaction
from planstream.schema.http import HttpErrorBody, PlanList, PlanSummary, PublishResponse
from planstream.transport.polling import http_base_url
from planstream.transport.websocket import bearer_headers

__all__ = ["ServerApi"]

#: Most pages of ``GET /v1/plans`` one listing follows.
_MAX_PLAN_PAGES = 10_000

_Body = TypeVar("_Body", bound=BaseModel)


class ServerApi:
    """A small synchronous client of the server's HTTP half.

    ``ssl_context``: the TLS context of an ``https://`` server (None: httpx's
    default verification).
    """

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.base_url = http_base_url(stream_url(url))  # checks --url first
        install_redaction()
        headers = bearer_headers(token)  # a PlanStreamError for a header-unsafe token
        verify: ssl.SSLContext | bool = True if ssl_context is None else ssl_context
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, verify=verify
        )

    def __repr__(self) -> str:
        return f"ServerApi({self.base_url!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        # httpx's errors end here, as one line naming the server (never the token).
        try:
            yield
        except httpx.HTTPError as exc:  # refused, unresolvable, timed out, TLS, ...
            tls = classify_network_error(exc).error
            why = tls if isinstance(tls, TLSError) else exc
            raise CommandError(f"cannot reach {self.base_url}: {why}") from None

    def _answer(self, response: httpx.Response, model: type[_Body], what: str) -> _Body:
        if response.is_success:
            try:
                return model.model_validate_json(response.content)
            except ValidationError:
                raise CommandError(f"{what}: the server's answer is not a planstream one") from None
        try:
            error = HttpErrorBody.model_validate_json(response.content)
            reason = f"{error.error}: {error.message or ''}".rstrip(": ")
        except ValidationError:
            reason = response.reason_phrase or "no reason given"
        raise CommandError(
            f"{what}: HTTP {response.status_code} {reason}", http_status=response.status_code
        )

    def publish(
        self,
        plan_id: str,
        body: dict[str, Any] | list[dict[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> PublishResponse:
        """``POST /v1/plans/{plan_id}/events``: one event or an atomic list.

        With ``idempotency_key`` (protocol §6), a repeat of the same body
        appends nothing and answers the first positions again.
        """
        headers = {"Content-Type": "application/json"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        with self._translated():
            response = self._http.post(
                f"/v1/plans/{quote(plan_id, safe='')}/events",
                content=json.dumps(body),
                headers=headers,
            )
        return self._answer(response, PublishResponse, "the server refused the event")

    def plans(self) -> PlanList:
        """``GET /v1/plans``: every plan with at least one event, following the pages."""
        plans: list[PlanSummary] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params = {"cursor": cursor} if cursor is not None else {}
            with self._translated():
                response = self._http.get("/v1/plans", params=params)
            page = self._answer(response, PlanList, "cannot list plans")
            plans.extend(page.plans)
            cursor = page.next_cursor
            if cursor is None:
                return PlanList(plans=tuple(plans))
            if cursor in seen or len(seen) >= _MAX_PLAN_PAGES:
                # A server handing out the same cursor again would keep us here forever.
                raise CommandError("cannot list plans: the server's pages do not end")
            seen.add(cursor)
