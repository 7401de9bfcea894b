"""The server's HTTP endpoints (protocol §6) as typed calls: a plan's snapshot,
the plan list page after page, and publishing.

:class:`PlanApi` is what ``client.snapshot()``, ``client.plans()``,
``subscribe(..., must_exist=True)``, :class:`~planstream.client.publisher.PlanPublisher`
and the ``plans`` and ``publish`` commands share: one
:class:`~planstream.client.http_session.HttpSession` (token, TLS, retries,
errors) behind it. It is built from the same :class:`~planstream.settings.ClientSettings`
as the client: the HTTP base of each stream URL, the token or token
provider, the TLS settings, and the reconnect backoff between attempts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Final
from urllib.parse import quote

from planstream.backoff import RandomSource
from planstream.client.http_session import HttpSession, Request, RequestLimits
from planstream.client.inbox import SubscriptionInbox
from planstream.client.token_source import TokenProvider
from planstream.closing import AsyncClosing
from planstream.errors import InvalidIdError, InvalidResponseError, PlanStreamError, SettingsError
from planstream.schema.http import PlanList, PlanSummary, PublishedEvent, PublishResponse
from planstream.schema.limits import plan_id_problem
from planstream.schema.snapshot import PlanSnapshot
from planstream.settings import ClientSettings

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "RESUME_LOOKUP_TIMEOUT",
    "PlanApi",
    "attach_when_known",
    "checked_plan_id",
    "new_idempotency_key",
]

logger = logging.getLogger("planstream.client")

#: Plans asked for per page of ``GET /v1/plans`` (the server's default too).
DEFAULT_PAGE_SIZE: Final = 100
#: The most plans a server gives per page (protocol §6).
MAX_PAGE_SIZE: Final = 1000
#: Seconds a resume's look-up of its plan may take (:func:`attach_when_known`)
#: before the plan is subscribed without it.
RESUME_LOOKUP_TIMEOUT: Final = 3.0
#: Pages one walk follows at most: a server repeating its cursors cannot keep it forever.
_MAX_PAGES: Final = 100_000


def new_idempotency_key() -> str:
    """A fresh ``Idempotency-Key`` (protocol §6: printable ASCII, at most 128)."""
    return f"ps-{secrets.token_hex(16)}"


def checked_plan_id(plan_id: str) -> str:
    """``plan_id`` if protocol §1 allows it; refused here, before any request."""
    problem = plan_id_problem(plan_id)
    if problem is not None:
        raise InvalidIdError("plan_id", problem)
    return plan_id


def attach_when_known(
    snapshot: Callable[[str], Awaitable[PlanSnapshot]],
    inbox: SubscriptionInbox,
    attach: Callable[[SubscriptionInbox], None],
    *,
    must_exist: bool = True,
) -> Callable[[], Awaitable[None]]:
    """The start of a subscription that looks its plan up over HTTP first, then
    subscribes (one look-up serves both reasons):

    * ``must_exist``: an unknown plan (or a failed look-up) ends the
      subscription with that error, e.g.
      :class:`~planstream.errors.PlanNotFoundError` (and nothing is subscribed);
    * a resume without ``follow`` from the last event of a finished plan ends
      it at once, with nothing: the server would replay nothing after that
      event and no terminal status would ever come (protocol §3: ``subscribed``
      carries only the head). Without ``must_exist`` this look-up is only a
      shortcut: it is bounded by :data:`RESUME_LOOKUP_TIMEOUT` and, when it
      fails, the plan is subscribed as usual.
    """

    async def start() -> None:
        try:
            found = await (snapshot(inbox.plan_id) if must_exist else _looked_up(snapshot, inbox))
        except PlanStreamError as exc:
            inbox.end(exc)
            raise
        if inbox.ended:  # closed meanwhile
            return
        if found is not None and _resumed_at_end(found, inbox):
            inbox.already_ended = found
            inbox.end(None)
            return
        attach(inbox)

    return start


async def _looked_up(
    snapshot: Callable[[str], Awaitable[PlanSnapshot]], inbox: SubscriptionInbox
) -> PlanSnapshot | None:
    """The plan's snapshot, or None when it cannot be had within the bound."""
    try:
        async with asyncio.timeout(RESUME_LOOKUP_TIMEOUT):
            return await snapshot(inbox.plan_id)
    except (PlanStreamError, TimeoutError) as exc:
        why = str(exc) or f"no answer within {RESUME_LOOKUP_TIMEOUT:g} s"
        logger.debug("plan %r: subscribing without its snapshot (%s)", inbox.plan_id, why)
        return None


def _resumed_at_end(snapshot: PlanSnapshot, inbox: SubscriptionInbox) -> bool:
    """Whether ``inbox`` resumes, without following, right after the terminal
    status that ended the plan: its stream has nothing more to give."""
    head, status = snapshot.head, snapshot.status
    return (
        not inbox.follow
        and inbox.start_event_id is not None
        and head is not None
        and head.event_id == inbox.start_event_id
        and status is not None
        and status.is_terminal
    )


class PlanApi(AsyncClosing):
    """Typed calls to the HTTP half of a planstream server.

    Args:
        settings: the client settings (URL or URLs, token, TLS, reconnect
            backoff); by default read from ``PLANSTREAM_*``.
        token_provider: an async callable giving a fresh token (wins over
            ``settings.token``); asked before the first request and after a 401.
        limits: attempts, deadline and timeouts of each request.
        rng: the backoff jitter's randomness.
    """

    def __init__(
        self,
        settings: ClientSettings | None = None,
        *,
        token_provider: TokenProvider | None = None,
        limits: RequestLimits | None = None,
        rng: RandomSource | None = None,
    ) -> None:
        settings = settings if settings is not None else ClientSettings()
        self.settings = settings
        token = settings.token.get_secret_value() if settings.token is not None else None
        bases = [endpoints.http_base for endpoints in settings.server_endpoints]
        self.session = HttpSession(
            bases,
            token=token,
            token_provider=token_provider,
            ssl_context=settings.ssl_context(),
            backoff=settings.reconnect.policy(),
            limits=limits,
            rng=rng,
        )

    def __repr__(self) -> str:
        return f"PlanApi(base_url={self.session.base_url!r})"

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.session.aclose()

    async def snapshot(self, plan_id: str) -> PlanSnapshot:
        """``GET /v1/plans/{plan_id}``: the plan's state folded from its stream.

        Raises:
            PlanNotFoundError: the server does not know the plan (no event yet).
            InvalidIdError: ``plan_id`` breaks protocol §1; nothing was sent.
        """
        checked_plan_id(plan_id)
        refused = f"cannot read plan {plan_id!r}"
        request = Request("GET", _plan_path(plan_id), refused, refused, plan_id=plan_id)
        return await self.session.call(request, PlanSnapshot)

    async def plan_page(
        self, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> PlanList:
        """One page of ``GET /v1/plans``: plans with at least one event."""
        # protocol §6: the server's default is DEFAULT_PAGE_SIZE; only another size is sent.
        params: dict[str, str | int] = {} if limit == DEFAULT_PAGE_SIZE else {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        request = Request("GET", "/v1/plans", "cannot list plans", "listing plans", params=params)
        return await self.session.call(request, PlanList)

    async def plans(self, *, page_size: int = DEFAULT_PAGE_SIZE) -> AsyncIterator[PlanSummary]:
        """Every plan with at least one event, following the pages to the end.

        Raises:
            InvalidResponseError: the server handed out a cursor again (its
                pages would never end).
        """
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise SettingsError([("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")])
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = await self.plan_page(limit=page_size, cursor=cursor)
            for plan in page.plans:
                yield plan
            cursor = page.next_cursor
            if cursor is None:
                return
            if cursor in seen or len(seen) >= _MAX_PAGES:
                raise InvalidResponseError(
                    "cannot list plans (the server's pages do not end)", 200, cursor.encode()
                )
            seen.add(cursor)

    async def publish_items(
        self,
        plan_id: str,
        items: dict[str, Any] | Sequence[dict[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> tuple[PublishedEvent, ...]:
        """``POST /v1/plans/{plan_id}/events``: one ``{"kind", "data"}`` or an atomic list.

        Every attempt carries the same ``Idempotency-Key`` (one is made when
        none is given), so a retry never appends twice (protocol §6).

        Raises:
            RequestRefusedError: e.g. 400, the server's ``problem`` says what is invalid.
            PlanEndedError: 409, the plan already has a terminal status.
            AuthenticationError, ForbiddenError: 401, 403.
            RequestRetriesExhaustedError: transient failures on every attempt.
        """
        checked_plan_id(plan_id)
        key = idempotency_key if idempotency_key is not None else new_idempotency_key()
        one = isinstance(items, dict)
        body = json.dumps(items if one else list(items), separators=(",", ":")).encode()
        request = Request(
            "POST",
            f"{_plan_path(plan_id)}/events",
            "the server refused the event" if one else "the server refused the events",
            f"publishing to plan {plan_id!r}",
            body=body,
            idempotency_key=key,
        )
        answer = await self.session.call(request, PublishResponse)
        if len(answer.events) != (1 if one else len(items)):
            # protocol §6: one position per event, in request order.
            raise InvalidResponseError(request.refused, 201, b"")
        return answer.events


def _plan_path(plan_id: str) -> str:
    return f"/v1/plans/{quote(plan_id, safe='')}"
